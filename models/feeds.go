package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// CalendarFeed is a secret iCalendar feed of one provider's or one
// location's appointments, which calendar programs subscribe to. Only the
// hash of its token (the secret part of its URL) is stored.
type CalendarFeed struct {
	ID uint `gorm:"primaryKey"`
	// TokenHash is the SHA-256 of the token, hex.
	TokenHash string `gorm:"size:64;not null;uniqueIndex"`
	// Exactly one of ProviderID and LocationID is set.
	ProviderID *uint
	LocationID *uint
	// ShowNames puts patients' full names in the events; without it an
	// event says the patient's initials and the state only.
	ShowNames bool `gorm:"not null;default:false"`
	CreatedAt time.Time
	RevokedAt *time.Time
}

// CreateCalendarFeed inserts f.
func (s *Store) CreateCalendarFeed(ctx context.Context, f *CalendarFeed) error {
	if err := create(ctx, s, f); err != nil {
		return fmt.Errorf("store: create calendar feed: %w", err)
	}
	return nil
}

// CalendarFeeds returns every feed, newest first.
func (s *Store) CalendarFeeds(ctx context.Context) ([]CalendarFeed, error) {
	var out []CalendarFeed
	if err := s.conn(ctx).Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: calendar feeds: %w", Classify(err))
	}
	return out, nil
}

// CalendarFeedByHash returns the feed whose token has that hash, revoked
// or not, or ErrNotFound.
func (s *Store) CalendarFeedByHash(ctx context.Context, hash string) (*CalendarFeed, error) {
	var f CalendarFeed
	if err := s.conn(ctx).Where("token_hash = ?", hash).Take(&f).Error; err != nil {
		return nil, fmt.Errorf("calendar feed: %w", Classify(err))
	}
	return &f, nil
}

// RevokeCalendarFeed marks feed id revoked at at, unless it already is;
// ErrNotFound when there is no such feed.
func (s *Store) RevokeCalendarFeed(ctx context.Context, id uint, at time.Time) error {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		if err := db.Model(&CalendarFeed{}).Where("id = ?", id).Count(&n).Error; err != nil || n == 0 {
			return err
		}
		return db.Model(&CalendarFeed{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", DBTime(at)).Error
	})
	if err != nil {
		return fmt.Errorf("store: revoke calendar feed %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("calendar feed %d: %w", id, ErrNotFound)
	}
	return nil
}
