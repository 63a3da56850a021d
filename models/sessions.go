package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SessionData returns the data of web session token, if it exists and has
// not expired at now.
func (s *Store) SessionData(ctx context.Context, token string, now time.Time) ([]byte, bool, error) {
	var row Session
	err := Classify(s.conn(ctx).Where("token = ? AND expiry > ?", token, now.UTC()).Take(&row).Error)
	if isNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: session: %w", err)
	}
	return row.Data, true, nil
}

// SaveSession stores or replaces web session token.
func (s *Store) SaveSession(ctx context.Context, token string, data []byte, expiry time.Time) error {
	row := Session{Token: token, Data: data, Expiry: expiry.UTC()}
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "token"}},
			DoUpdates: clause.AssignmentColumns([]string{"data", "expiry"}),
		}).Create(&row).Error
	})
	if err != nil {
		return fmt.Errorf("store: save session: %w", err)
	}
	return nil
}

// DeleteSession removes web session token.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if err := s.write(ctx, func(db *gorm.DB) error { return db.Where("token = ?", token).Delete(&Session{}).Error }); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions expired at now and returns
// how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Where("expiry <= ?", now.UTC()).Delete(&Session{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return n, nil
}
