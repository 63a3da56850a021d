package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// APITokens returns every API token, newest first (revoked ones included).
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	var ts []APIToken
	if err := s.conn(ctx).Order("created_at DESC, id DESC").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("store: api tokens: %w", Classify(err))
	}
	return ts, nil
}

// LockAPIToken returns one API token, locked for update on PostgreSQL.
func (s *Store) LockAPIToken(ctx context.Context, id uint) (*APIToken, error) {
	return first[APIToken](ctx, s, "api token", id, true)
}

// APITokenByHash returns the API token whose hash is hash, or ErrNotFound.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (*APIToken, error) {
	var tok APIToken
	if err := s.conn(ctx).Where("hash = ?", hash).Take(&tok).Error; err != nil {
		return nil, fmt.Errorf("api token: %w", Classify(err))
	}
	return &tok, nil
}

// ActiveTokenNameTaken reports whether a token not revoked is named name.
func (s *Store) ActiveTokenNameTaken(ctx context.Context, name string) (bool, error) {
	n, err := count[APIToken](ctx, s, "name = ? AND revoked_at IS NULL", name)
	if err != nil {
		return false, fmt.Errorf("store: api token name: %w", err)
	}
	return n > 0, nil
}

// CreateAPIToken inserts tok.
func (s *Store) CreateAPIToken(ctx context.Context, tok *APIToken) error {
	if err := create(ctx, s, tok); err != nil {
		return fmt.Errorf("store: create api token: %w", err)
	}
	return nil
}

// RevokeAPIToken marks token id revoked at now unless it is already.
func (s *Store) RevokeAPIToken(ctx context.Context, id uint, now time.Time) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Model(&APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", DBTime(now)).Error
	})
	if err != nil {
		return fmt.Errorf("store: revoke api token %d: %w", id, err)
	}
	return nil
}

// TouchAPIToken records that token id was used at now unless that was
// recorded after notBefore, and reports whether it wrote: of concurrent
// requests of one token, one writes.
func (s *Store) TouchAPIToken(ctx context.Context, id uint, now, notBefore time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&APIToken{}).Where("id = ? AND (last_used_at IS NULL OR last_used_at <= ?)", id, notBefore.UTC()).
			Update("last_used_at", DBTime(now))
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("store: touch api token %d: %w", id, err)
	}
	return n == 1, nil
}

// RevokeAPITokensCreatedBy revokes at now every token user id created that
// is not revoked yet, and returns them (as they were, before the revoke):
// a token never outlives its creator's right to make one.
func (s *Store) RevokeAPITokensCreatedBy(ctx context.Context, userID uint, now time.Time) ([]APIToken, error) {
	var ts []APIToken
	err := s.write(ctx, func(db *gorm.DB) error {
		if err := db.Where("created_by_id = ? AND revoked_at IS NULL", userID).Order("id").Find(&ts).Error; err != nil {
			return err
		}
		if len(ts) == 0 {
			return nil
		}
		ids := make([]uint, len(ts))
		for i, t := range ts {
			ids[i] = t.ID
		}
		return db.Model(&APIToken{}).Where("id IN ? AND revoked_at IS NULL", ids).Update("revoked_at", DBTime(now)).Error
	})
	if err != nil {
		return nil, fmt.Errorf("store: revoke api tokens of user %d: %w", userID, err)
	}
	return ts, nil
}
