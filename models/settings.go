package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Setting returns the value stored under key, or ErrNotFound (read once
// under WithReadCache).
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	c := readCacheOf(ctx)
	if v, ok := c.cachedSetting(key); ok {
		return v.value, v.err
	}
	v, err := s.readSetting(ctx, key)
	if err == nil || isNotFound(err) {
		c.putSetting(key, cachedSetting{value: v, err: err})
	}
	return v, err
}

func (s *Store) readSetting(ctx context.Context, key string) (string, error) {
	var st Setting
	if err := s.conn(ctx).Where(&Setting{Key: key}).Take(&st).Error; err != nil {
		return "", fmt.Errorf("setting %q: %w", key, Classify(err))
	}
	return st.Value, nil
}

// AddSetting stores value under key unless the key already has a value,
// and reports whether it stored it; a read cache ctx carries forgets the
// key. Instances starting together that each
// add a value agree on the first one stored.
func (s *Store) AddSetting(ctx context.Context, key, value string) (bool, error) {
	var added bool
	readCacheOf(ctx).forgetSetting(key)
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&Setting{Key: key, Value: value})
		added = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("store: add setting %q: %w", key, err)
	}
	return added, nil
}

// PutSetting stores value under key, replacing what it held; a read cache
// ctx carries forgets the key.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	readCacheOf(ctx).forgetSetting(key)
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.AssignmentColumns([]string{"value"})}).
			Create(&Setting{Key: key, Value: value}).Error
	})
	if err != nil {
		return fmt.Errorf("store: put setting %q: %w", key, err)
	}
	return nil
}
