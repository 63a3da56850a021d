package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// OfferStatus is where an offer of new times stands.
type OfferStatus string

// Offer states. An offer is open until the patient picks one of its times
// (picked), the time picked was taken meanwhile (taken: a fresh offer
// follows), a newer offer replaces it or the appointment stops waiting for
// one (withdrawn). Expiry is read from ExpiresAt, not stored.
const (
	OfferOpen      OfferStatus = "open"
	OfferPicked    OfferStatus = "picked"
	OfferTaken     OfferStatus = "taken"
	OfferWithdrawn OfferStatus = "withdrawn"
)

// MaxOfferTimes is the most times one offer holds: one SMS, numbered 1 to 3.
const MaxOfferTimes = 3

// RescheduleOffer is one SMS offering a patient who asked for another time
// up to MaxOfferTimes new starts for their appointment, numbered from 1 in
// the order of Starts.
type RescheduleOffer struct {
	ID            uint `gorm:"primaryKey"`
	AppointmentID uint `gorm:"not null;index"`
	PatientID     uint `gorm:"not null;index"`
	// Starts holds the offered starts, in UTC, RFC 3339, separated by
	// spaces; Times reads them.
	Starts string      `gorm:"size:200;not null"`
	Status OfferStatus `gorm:"size:16;not null"`
	// Picked is the number (1-based) of the time the patient picked, 0
	// when none.
	Picked      int `gorm:"not null;default:0"`
	MessageID   *uint
	CreatedByID *uint
	ExpiresAt   time.Time `gorm:"not null"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Times returns the offered starts in order; an unreadable entry (never
// written by the app) is left out.
func (o *RescheduleOffer) Times() []time.Time {
	var out []time.Time
	for _, f := range strings.Fields(o.Starts) {
		if t, err := time.Parse(time.RFC3339, f); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// SetTimes stores ts as the offered starts.
func (o *RescheduleOffer) SetTimes(ts []time.Time) {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.UTC().Format(time.RFC3339)
	}
	o.Starts = strings.Join(parts, " ")
}

// OpenAt reports whether the offer can still be picked at now.
func (o *RescheduleOffer) OpenAt(now time.Time) bool {
	return o.Status == OfferOpen && now.Before(o.ExpiresAt)
}

// CreateOffer inserts o and withdraws the appointment's other open offers:
// only the newest offer's numbers mean something to the patient.
func (s *Store) CreateOffer(ctx context.Context, o *RescheduleOffer) error {
	o.CreatedAt, o.UpdatedAt, o.ExpiresAt = DBTime(o.CreatedAt), DBTime(o.UpdatedAt), DBTime(o.ExpiresAt)
	err := s.write(ctx, func(db *gorm.DB) error {
		err := db.Model(&RescheduleOffer{}).Where("appointment_id = ? AND status = ?", o.AppointmentID, OfferOpen).
			Updates(map[string]any{"status": OfferWithdrawn, "updated_at": o.CreatedAt}).Error
		if err != nil {
			return err
		}
		return db.Create(o).Error
	})
	if err != nil {
		return fmt.Errorf("store: create offer: %w", err)
	}
	return nil
}

// SetOfferMessage records the SMS that carried offer id.
func (s *Store) SetOfferMessage(ctx context.Context, id, messageID uint) error {
	if err := update[RescheduleOffer](ctx, s, id, map[string]any{"message_id": messageID}); err != nil {
		return fmt.Errorf("store: offer %d: %w", id, err)
	}
	return nil
}

// LatestOffer returns the newest offer, in any state, made to any of the
// patients in patientIDs, or ErrNotFound.
func (s *Store) LatestOffer(ctx context.Context, patientIDs []uint) (*RescheduleOffer, error) {
	if len(patientIDs) == 0 {
		return nil, fmt.Errorf("latest offer: %w", ErrNotFound)
	}
	var o RescheduleOffer
	err := s.conn(ctx).Where("patient_id IN ?", patientIDs).Order("id DESC").Take(&o).Error
	if err != nil {
		return nil, fmt.Errorf("latest offer: %w", Classify(err))
	}
	return &o, nil
}

// OpenOffer returns appointment id's newest offer that is open and not
// expired at now, or ErrNotFound.
func (s *Store) OpenOffer(ctx context.Context, appointmentID uint, now time.Time) (*RescheduleOffer, error) {
	var o RescheduleOffer
	err := s.conn(ctx).Where("appointment_id = ? AND status = ? AND expires_at > ?", appointmentID, OfferOpen, now.UTC()).
		Order("id DESC").Take(&o).Error
	if err != nil {
		return nil, fmt.Errorf("open offer of appointment %d: %w", appointmentID, Classify(err))
	}
	return &o, nil
}

// CloseOffer moves offer o from open to status (with the number picked),
// and returns ErrConflict when it is no longer open: another reply or a
// newer offer got there first.
func (s *Store) CloseOffer(ctx context.Context, o *RescheduleOffer, status OfferStatus, picked int, now time.Time) error {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&RescheduleOffer{}).Where("id = ? AND status = ?", o.ID, OfferOpen).
			Updates(map[string]any{"status": status, "picked": picked, "updated_at": DBTime(now)})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("store: offer %d: %w", o.ID, err)
	}
	if n != 1 {
		return fmt.Errorf("offer %d closed meanwhile: %w", o.ID, ErrConflict)
	}
	o.Status, o.Picked, o.UpdatedAt = status, picked, DBTime(now)
	return nil
}

// WithdrawOffers withdraws appointment id's open offers (it stopped waiting
// for one) and reports how many there were.
func (s *Store) WithdrawOffers(ctx context.Context, appointmentID uint, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&RescheduleOffer{}).Where("appointment_id = ? AND status = ?", appointmentID, OfferOpen).
			Updates(map[string]any{"status": OfferWithdrawn, "updated_at": DBTime(now)})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: withdraw offers of appointment %d: %w", appointmentID, err)
	}
	return n, nil
}
