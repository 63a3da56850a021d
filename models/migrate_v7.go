package models

import (
	"time"

	"gorm.io/gorm"
)

// migrateV7 gives every text a language. The message templates, keyed by
// kind until now, are keyed by kind and language; each reminder rule's text
// moves to rule_templates, one row per language; the texts already stored
// were written for English-speaking patients and become the "en" variants.
// Messages get the language they were written in, the language they fell
// back from, and the time and reason of a quiet-hours move.
func migrateV7(tx *gorm.DB) error {
	// Each step checks whether it is done, so that the migration also runs
	// on a schema rewound to an earlier version number but already past it
	// (as tests of older migrations make).
	m := tx.Migrator()

	// message_templates: its primary key changes, which SQLite cannot
	// alter, so the few rows are read, the table recreated, the rows
	// written back.
	if !m.HasColumn(&v7MessageTemplate{}, "Language") {
		var old []v1MessageTemplate
		if err := tx.Find(&old).Error; err != nil {
			return err
		}
		if err := m.DropTable(&v1MessageTemplate{}); err != nil {
			return err
		}
		if err := m.CreateTable(&v7MessageTemplate{}); err != nil {
			return err
		}
		for _, t := range old {
			row := v7MessageTemplate{Key: t.Key, Language: "en", Body: t.Body, UpdatedAt: t.UpdatedAt}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
		}
	}

	// reminder_rules.template becomes the rule's "en" text.
	if !m.HasTable(&v7RuleTemplate{}) {
		if err := m.CreateTable(&v7RuleTemplate{}); err != nil {
			return err
		}
	}
	if m.HasColumn(&v1ReminderRule{}, "Template") {
		if err := tx.Exec(`INSERT INTO rule_templates (rule_id, language, body, updated_at)
			SELECT id, 'en', template, updated_at FROM reminder_rules WHERE template <> ''`).Error; err != nil {
			return err
		}
		if err := tx.Exec(`ALTER TABLE reminder_rules DROP COLUMN template`).Error; err != nil {
			return err
		}
	}

	for _, col := range []string{"Language", "FallbackFrom", "MovedFrom", "MoveReason"} {
		if m.HasColumn(&v7Message{}, col) {
			continue
		}
		if err := m.AddColumn(&v7Message{}, col); err != nil {
			return err
		}
	}
	return nil
}

// v7MessageTemplate is message_templates as migration 7 creates it.
type v7MessageTemplate struct {
	Key       string `gorm:"primaryKey;size:40"`
	Language  string `gorm:"primaryKey;size:8"`
	Body      string `gorm:"size:1600;not null"`
	UpdatedAt time.Time
}

func (v7MessageTemplate) TableName() string { return "message_templates" }

// v7RuleTemplate is rule_templates as migration 7 creates it: a rule's
// texts go with the rule.
type v7RuleTemplate struct {
	RuleID    uint    `gorm:"primaryKey;autoIncrement:false"`
	Rule      *v7Rule `gorm:"constraint:OnDelete:CASCADE"`
	Language  string  `gorm:"primaryKey;size:8"`
	Body      string  `gorm:"size:1600;not null"`
	UpdatedAt time.Time
}

func (v7RuleTemplate) TableName() string { return "rule_templates" }

// v7Rule is the part of reminder_rules the rule_templates key refers to.
type v7Rule struct {
	ID uint `gorm:"primaryKey"`
}

func (v7Rule) TableName() string { return "reminder_rules" }

// v7Message holds the columns migration 7 adds to messages.
type v7Message struct {
	Language     string `gorm:"size:8;not null;default:''"`
	FallbackFrom string `gorm:"size:8;not null;default:''"`
	MovedFrom    *time.Time
	MoveReason   string `gorm:"size:200;not null;default:''"`
}

func (v7Message) TableName() string { return "messages" }
