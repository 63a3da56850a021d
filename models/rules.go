package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Rule returns one reminder rule, or ErrNotFound.
func (s *Store) Rule(ctx context.Context, id uint) (*ReminderRule, error) {
	return first[ReminderRule](ctx, s, "reminder rule", id, false)
}

// LockRule returns one reminder rule, locked for update on PostgreSQL.
func (s *Store) LockRule(ctx context.Context, id uint) (*ReminderRule, error) {
	return first[ReminderRule](ctx, s, "reminder rule", id, true)
}

// Rules returns every reminder rule, enabled or not, by id.
func (s *Store) Rules(ctx context.Context) ([]ReminderRule, error) {
	c := readCacheOf(ctx)
	if rules, ok := c.cachedRules(); ok {
		return rules, nil
	}
	var rules []ReminderRule
	if err := s.conn(ctx).Order("id").Find(&rules).Error; err != nil {
		return nil, fmt.Errorf("store: rules: %w", Classify(err))
	}
	c.putRules(rules)
	return rules, nil
}

// RulesByTiming returns every reminder rule, the earliest sent first (the
// longest time before the start), then by name.
func (s *Store) RulesByTiming(ctx context.Context) ([]ReminderRule, error) {
	var rules []ReminderRule
	if err := s.conn(ctx).Order("before_seconds DESC, name, id").Find(&rules).Error; err != nil {
		return nil, fmt.Errorf("store: rules: %w", Classify(err))
	}
	return rules, nil
}

// RulesByID returns the rules whose ids are in ids, keyed by id.
func (s *Store) RulesByID(ctx context.Context, ids []uint) (map[uint]*ReminderRule, error) {
	out, err := byIDs(ctx, s, ids, func(r *ReminderRule) uint { return r.ID })
	if err != nil {
		return nil, fmt.Errorf("store: rules: %w", err)
	}
	return out, nil
}

// CountRules returns how many reminder rules exist.
func (s *Store) CountRules(ctx context.Context) (int64, error) {
	n, err := count[ReminderRule](ctx, s, "1 = 1")
	if err != nil {
		return 0, fmt.Errorf("store: count rules: %w", err)
	}
	return n, nil
}

// RuleNameTaken reports whether a rule other than self has name.
func (s *Store) RuleNameTaken(ctx context.Context, name string, self uint) (bool, error) {
	n, err := count[ReminderRule](ctx, s, "name = ? AND id <> ?", name, self)
	if err != nil {
		return false, fmt.Errorf("store: rule name: %w", err)
	}
	return n > 0, nil
}

// CreateRule inserts r, Enabled and OnlyIfUnconfirmed included.
func (s *Store) CreateRule(ctx context.Context, r *ReminderRule) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		if err := db.Create(r).Error; err != nil {
			return err
		}
		// GORM leaves false booleans out of the INSERT, so a column's
		// default (true) would win; write them as they are.
		return db.Model(&ReminderRule{}).Where("id = ?", r.ID).
			Updates(map[string]any{"enabled": r.Enabled, "only_if_unconfirmed": r.OnlyIfUnconfirmed}).Error
	})
	if err != nil {
		return fmt.Errorf("store: create rule: %w", err)
	}
	return nil
}

// SaveRule writes every editable column of r (and updated_at).
func (s *Store) SaveRule(ctx context.Context, r *ReminderRule) error {
	err := update[ReminderRule](ctx, s, r.ID, map[string]any{
		"name": r.Name, "before_seconds": r.BeforeSeconds,
		"only_if_unconfirmed": r.OnlyIfUnconfirmed, "enabled": r.Enabled, "updated_at": r.UpdatedAt,
		"timing": r.TimingOrBefore(), "days_before": r.DaysBefore, "local_time": r.LocalTime,
		"after_rule_id": r.AfterRuleID, "after_seconds": r.AfterSeconds, "signal": r.Signal,
		"type_ids": r.TypeIDs.String(), "location_ids": r.LocationIDs.String(), "provider_ids": r.ProviderIDs.String(),
	})
	if err != nil {
		return fmt.Errorf("store: save rule %d: %w", r.ID, err)
	}
	return nil
}
