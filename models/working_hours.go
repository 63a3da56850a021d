package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Owners of working hours.
const (
	HoursOfProvider = "provider"
	HoursOfLocation = "location"
)

// WorkingHours is the stored schedule of one provider or one location: its
// weekly hours and dated exceptions (both JSON, in app/slots' form; the
// store does not read them) and the buffers kept free around each of its
// appointments. A provider or location without a row has no hours set.
type WorkingHours struct {
	ID uint `gorm:"primaryKey"`
	// OwnerKind is HoursOfProvider or HoursOfLocation; OwnerID its id.
	OwnerKind string `gorm:"size:16;not null;uniqueIndex:idx_working_hours_owner,priority:1"`
	OwnerID   uint   `gorm:"not null;uniqueIndex:idx_working_hours_owner,priority:2"`
	// Weekly is slots.Week as JSON; Exceptions a JSON list of slots.Exception.
	Weekly     string `gorm:"type:text;not null"`
	Exceptions string `gorm:"type:text;not null"`
	// BufferBeforeMinutes and BufferAfterMinutes are kept free before and
	// after each appointment (preparation, cleaning, notes).
	BufferBeforeMinutes int `gorm:"not null;default:0"`
	BufferAfterMinutes  int `gorm:"not null;default:0"`
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// TableName is "working_hours".
func (WorkingHours) TableName() string { return "working_hours" }

// validHoursOwner reports whether kind is an owner of working hours.
func validHoursOwner(kind string) bool { return kind == HoursOfProvider || kind == HoursOfLocation }

// WorkingHoursOf returns the working hours of a provider or a location, or
// ErrNotFound when none are set.
func (s *Store) WorkingHoursOf(ctx context.Context, kind string, id uint) (*WorkingHours, error) {
	if !validHoursOwner(kind) {
		return nil, fmt.Errorf("store: working hours: unknown owner %q", kind)
	}
	var h WorkingHours
	err := s.conn(ctx).Where("owner_kind = ? AND owner_id = ?", kind, id).Take(&h).Error
	if err != nil {
		if err = Classify(err); errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("working hours of %s %d: %w", kind, id, ErrNotFound)
		}
		return nil, fmt.Errorf("store: working hours of %s %d: %w", kind, id, err)
	}
	return &h, nil
}

// SaveWorkingHours writes h as the working hours of its owner, replacing
// any set before (one statement, so two saves at once cannot leave two
// rows). h.ID and h.CreatedAt are those of the stored row afterwards.
func (s *Store) SaveWorkingHours(ctx context.Context, h *WorkingHours) error {
	if !validHoursOwner(h.OwnerKind) {
		return fmt.Errorf("store: save working hours: unknown owner %q", h.OwnerKind)
	}
	h.ID = 0
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "owner_kind"}, {Name: "owner_id"}},
			DoUpdates: clause.AssignmentColumns([]string{
				"weekly", "exceptions", "buffer_before_minutes", "buffer_after_minutes", "updated_at",
			}),
		}).Create(h).Error
	})
	if err != nil {
		return fmt.Errorf("store: save working hours of %s %d: %w", h.OwnerKind, h.OwnerID, err)
	}
	stored, err := s.WorkingHoursOf(ctx, h.OwnerKind, h.OwnerID)
	if err != nil {
		return err
	}
	h.ID, h.CreatedAt = stored.ID, stored.CreatedAt
	return nil
}

// DeleteWorkingHours removes the working hours of a provider or a location
// and reports whether there were any.
func (s *Store) DeleteWorkingHours(ctx context.Context, kind string, id uint) (bool, error) {
	if !validHoursOwner(kind) {
		return false, fmt.Errorf("store: delete working hours: unknown owner %q", kind)
	}
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Where("owner_kind = ? AND owner_id = ?", kind, id).Delete(&WorkingHours{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("store: delete working hours of %s %d: %w", kind, id, err)
	}
	return n > 0, nil
}

// BusyFilter selects the appointments that occupy a provider's (or, for
// appointments booked without one, a location's) time.
type BusyFilter struct {
	// ProviderID selects that provider's appointments, at any location.
	// Zero selects the appointments at LocationID booked without a
	// provider.
	ProviderID uint
	LocationID uint
	// From and To bound the start: From included, To excluded.
	From, To time.Time
	// ExceptID leaves one appointment out (the one being moved).
	ExceptID uint
}

// BusyAppointments returns the appointments matching f that are not
// cancelled, by start, without their relations. Every state but cancelled
// holds its time: a completed or missed appointment happened there.
func (s *Store) BusyAppointments(ctx context.Context, f BusyFilter) ([]Appointment, error) {
	db := s.conn(ctx).Model(&Appointment{}).
		Where("starts_at >= ? AND starts_at < ?", f.From.UTC(), f.To.UTC()).
		Where("status <> ?", Cancelled)
	if f.ProviderID != 0 {
		db = db.Where("provider_id = ?", f.ProviderID)
	} else {
		db = db.Where("location_id = ? AND provider_id IS NULL", f.LocationID)
	}
	if f.ExceptID != 0 {
		db = db.Where("id <> ?", f.ExceptID)
	}
	var out []Appointment
	if err := db.Order("starts_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: busy appointments: %w", Classify(err))
	}
	return out, nil
}
