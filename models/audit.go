package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Audit writes one audit row: who (actor) did what (action, such as
// "appointment.cancel") to which row (entity and id), with a detail for
// people. Texts are cut to their columns.
func (s *Store) Audit(ctx context.Context, at time.Time, actor Actor, action, entity string, entityID uint, detail string) error {
	e := AuditEntry{
		At:       DBTime(at),
		UserID:   actor.UserID,
		Actor:    Clip(actor.Label(), 254),
		Action:   Clip(action, 64),
		Entity:   Clip(entity, 32),
		EntityID: entityID,
		Detail:   Clip(detail, 1000),
	}
	if st := s.txOf(ctx); st != nil && st.deferLogs {
		st.audit = append(st.audit, e)
		return nil
	}
	if err := s.write(ctx, func(db *gorm.DB) error { return db.Create(&e).Error }); err != nil {
		return fmt.Errorf("store: write audit: %w", err)
	}
	return nil
}

// AuditFilter selects audit rows.
type AuditFilter struct {
	// Entity narrows to one entity name ("" for all), and EntityID to one
	// of its rows (0 for all).
	Entity   string
	EntityID uint
	// Offset and Limit page the rows, newest first.
	Offset, Limit int
}

// AuditLog returns one page of the audit log, newest first, and the total.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	base := func() *gorm.DB {
		db := s.conn(ctx).Model(&AuditEntry{})
		if f.Entity != "" {
			db = db.Where("entity = ?", f.Entity)
			if f.EntityID != 0 {
				db = db.Where("entity_id = ?", f.EntityID)
			}
		}
		return db
	}
	var total int64
	if err := base().Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("store: audit log: %w", Classify(err))
	}
	var es []AuditEntry
	if err := base().Order("at DESC, id DESC").Offset(f.Offset).Limit(f.Limit).Find(&es).Error; err != nil {
		return nil, 0, fmt.Errorf("store: audit log: %w", Classify(err))
	}
	return es, total, nil
}
