package clinic

import (
	"context"
	"fmt"

	"apptconfirm/models"
)

// AuditQuery pages the audit log, optionally for one entity type (and id).
type AuditQuery struct {
	// Page starts at 1; PerPage 0 means DefaultPerPage, at most MaxPerPage.
	Page, PerPage int
	// Entity is an entity name such as "appointment" (see the Entity
	// constants), or "" for all.
	Entity string
	// EntityID narrows to one row of Entity; 0 means all.
	EntityID uint
}

// Audit returns one page of the audit log, newest first, and the total.
func (s *Service) Audit(ctx context.Context, q AuditQuery) ([]models.AuditEntry, int64, error) {
	fe := models.FieldErrors{}
	offset, limit := paging(fe, q.Page, q.PerPage)
	if !validEntity(q.Entity) {
		fe.Add("entity", "must be an entity name such as appointment, patient or user")
	}
	if err := fe.Err(); err != nil {
		return nil, 0, err
	}
	es, total, err := s.store.AuditLog(ctx, models.AuditFilter{Entity: q.Entity, EntityID: q.EntityID, Offset: offset, Limit: limit})
	if err != nil {
		return nil, 0, fmt.Errorf("clinic: audit: %w", err)
	}
	return es, total, nil
}

// validEntity accepts "" or a short snake_case name.
func validEntity(e string) bool {
	if len(e) > 32 {
		return false
	}
	for i := 0; i < len(e); i++ {
		if c := e[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// RecordAudit writes one audit row for an action that changes nothing in
// the clinic's own data (a test SMS sent from the settings page), so that
// the audit log tells who did it.
func (s *Service) RecordAudit(ctx context.Context, actor models.Actor, action, entity string, entityID uint, detail string) error {
	if err := s.store.Audit(ctx, s.clock(), actor, action, entity, entityID, detail); err != nil {
		return fmt.Errorf("clinic: %w", err)
	}
	return nil
}
