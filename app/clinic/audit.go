package clinic

import (
	"context"
	"fmt"

	"gorm.io/gorm"

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
	fe := FieldErrors{}
	offset, limit := paging(fe, q.Page, q.PerPage)
	if !validEntity(q.Entity) {
		fe.add("entity", "must be an entity name such as appointment, patient or user")
	}
	if err := fe.err(); err != nil {
		return nil, 0, err
	}
	base := func() *gorm.DB {
		db := s.store.DB(ctx).Model(&models.AuditEntry{})
		if q.Entity != "" {
			db = db.Where("entity = ?", q.Entity)
			if q.EntityID != 0 {
				db = db.Where("entity_id = ?", q.EntityID)
			}
		}
		return db
	}
	var total int64
	if err := base().Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("clinic: audit: %w", models.Classify(err))
	}
	var es []models.AuditEntry
	if err := base().Order("at DESC, id DESC").Offset(offset).Limit(limit).Find(&es).Error; err != nil {
		return nil, 0, fmt.Errorf("clinic: audit: %w", models.Classify(err))
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
