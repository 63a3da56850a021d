package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Texts are the clinic's stored texts: those of each message kind and those
// of each reminder rule, by language. A missing language has no entry.
type Texts struct {
	// Kinds maps a message kind to its texts by language.
	Kinds map[string]map[string]string
	// Rules maps a rule's id to its texts by language.
	Rules map[uint]map[string]string
}

// Texts returns every stored text, of message kinds and of rules (read
// once under WithReadCache).
func (s *Store) Texts(ctx context.Context) (Texts, error) {
	c := readCacheOf(ctx)
	if t, ok := c.cachedTexts(); ok {
		return t, nil
	}
	t, err := s.readTexts(ctx)
	if err == nil {
		c.putTexts(t)
	}
	return t, err
}

func (s *Store) readTexts(ctx context.Context) (Texts, error) {
	db := s.conn(ctx)
	out := Texts{Kinds: map[string]map[string]string{}, Rules: map[uint]map[string]string{}}
	var kinds []MessageTemplate
	if err := db.Order("key, language").Find(&kinds).Error; err != nil {
		return out, fmt.Errorf("store: message templates: %w", Classify(err))
	}
	for _, t := range kinds {
		if out.Kinds[t.Key] == nil {
			out.Kinds[t.Key] = map[string]string{}
		}
		out.Kinds[t.Key][t.Language] = t.Body
	}
	var rules []RuleTemplate
	if err := db.Order("rule_id, language").Find(&rules).Error; err != nil {
		return out, fmt.Errorf("store: rule templates: %w", Classify(err))
	}
	for _, t := range rules {
		if out.Rules[t.RuleID] == nil {
			out.Rules[t.RuleID] = map[string]string{}
		}
		out.Rules[t.RuleID][t.Language] = t.Body
	}
	return out, nil
}

// RuleTexts returns a rule's texts by language.
func (s *Store) RuleTexts(ctx context.Context, ruleID uint) (map[string]string, error) {
	var rows []RuleTemplate
	if err := s.conn(ctx).Where("rule_id = ?", ruleID).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: texts of rule %d: %w", ruleID, Classify(err))
	}
	out := make(map[string]string, len(rows))
	for _, t := range rows {
		out[t.Language] = t.Body
	}
	return out, nil
}

// AddMessageTemplate stores body as kind key's text in lang unless it
// already has one, and reports whether it stored it.
func (s *Store) AddMessageTemplate(ctx context.Context, key, lang, body string, now time.Time) (bool, error) {
	added, err := s.addRow(ctx, &MessageTemplate{Key: key, Language: lang, Body: body, UpdatedAt: DBTime(now)})
	if err != nil {
		return false, fmt.Errorf("store: add template %s/%s: %w", key, lang, err)
	}
	return added, nil
}

// AddRuleTemplate stores body as rule ruleID's text in lang unless it
// already has one, and reports whether it stored it.
func (s *Store) AddRuleTemplate(ctx context.Context, ruleID uint, lang, body string, now time.Time) (bool, error) {
	added, err := s.addRow(ctx, &RuleTemplate{RuleID: ruleID, Language: lang, Body: body, UpdatedAt: DBTime(now)})
	if err != nil {
		return false, fmt.Errorf("store: add text of rule %d/%s: %w", ruleID, lang, err)
	}
	return added, nil
}

// addRow inserts row unless its primary key is taken.
func (s *Store) addRow(ctx context.Context, row any) (bool, error) {
	var added bool
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(row)
		added = res.RowsAffected == 1
		return res.Error
	})
	return added, err
}

// PutMessageTemplate stores body as kind key's text in lang, replacing the
// one it had.
func (s *Store) PutMessageTemplate(ctx context.Context, key, lang, body string, now time.Time) error {
	err := s.putRow(ctx, &MessageTemplate{Key: key, Language: lang, Body: body, UpdatedAt: DBTime(now)},
		[]clause.Column{{Name: "key"}, {Name: "language"}})
	if err != nil {
		return fmt.Errorf("store: put template %s/%s: %w", key, lang, err)
	}
	return nil
}

// PutRuleTemplate stores body as rule ruleID's text in lang, replacing the
// one it had.
func (s *Store) PutRuleTemplate(ctx context.Context, ruleID uint, lang, body string, now time.Time) error {
	err := s.putRow(ctx, &RuleTemplate{RuleID: ruleID, Language: lang, Body: body, UpdatedAt: DBTime(now)},
		[]clause.Column{{Name: "rule_id"}, {Name: "language"}})
	if err != nil {
		return fmt.Errorf("store: put text of rule %d/%s: %w", ruleID, lang, err)
	}
	return nil
}

// putRow inserts row or, when its key is taken, updates its body.
func (s *Store) putRow(ctx context.Context, row any, key []clause.Column) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Clauses(clause.OnConflict{Columns: key, DoUpdates: clause.AssignmentColumns([]string{"body", "updated_at"})}).
			Create(row).Error
	})
}

// DeleteMessageTemplate removes kind key's text in lang, if it has one.
func (s *Store) DeleteMessageTemplate(ctx context.Context, key, lang string) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Where("key = ? AND language = ?", key, lang).Delete(&MessageTemplate{}).Error
	})
	if err != nil {
		return fmt.Errorf("store: delete template %s/%s: %w", key, lang, err)
	}
	return nil
}

// DeleteRuleTemplate removes rule ruleID's text in lang, if it has one.
func (s *Store) DeleteRuleTemplate(ctx context.Context, ruleID uint, lang string) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Where("rule_id = ? AND language = ?", ruleID, lang).Delete(&RuleTemplate{}).Error
	})
	if err != nil {
		return fmt.Errorf("store: delete text of rule %d/%s: %w", ruleID, lang, err)
	}
	return nil
}

// EventTextsChanged is recorded when an admin or the API changes the
// clinic's texts or the languages it writes in (Detail says which).
const EventTextsChanged = "texts.changed"

// SettingLanguages is the settings key of the languages the clinic writes
// to patients in, comma-separated ("en,fr,es").
const SettingLanguages = "languages"
