package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// first reads the row of table T with primary key id into a new T, locking
// it for update on PostgreSQL when lock is set. A missing row is
// ErrNotFound, wrapped as "<what> <id>: not found".
func first[T any](ctx context.Context, s *Store, what string, id uint, lock bool) (*T, error) {
	db := s.conn(ctx)
	if lock {
		db = db.Scopes(s.forUpdate)
	}
	var row T
	if err := db.First(&row, id).Error; err != nil {
		if err = Classify(err); errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%s %d: %w", what, id, ErrNotFound)
		}
		return nil, fmt.Errorf("store: %s %d: %w", what, id, err)
	}
	return &row, nil
}

// forUpdate is a scope that locks the selected rows on PostgreSQL; on
// SQLite the immediate transaction already holds the write lock.
func (s *Store) forUpdate(db *gorm.DB) *gorm.DB { return ForUpdate(s)(db) }

// byIDs reads the rows of table T whose ids are in ids, keyed by id.
func byIDs[T any](ctx context.Context, s *Store, ids []uint, id func(*T) uint, preload ...string) (map[uint]*T, error) {
	out := make(map[uint]*T, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	db := s.conn(ctx)
	for _, p := range preload {
		db = db.Preload(p)
	}
	var rows []T
	if err := db.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, Classify(err)
	}
	for i := range rows {
		out[id(&rows[i])] = &rows[i]
	}
	return out, nil
}

// count counts the rows of table T matching the condition.
func count[T any](ctx context.Context, s *Store, query string, args ...any) (int64, error) {
	var n int64
	err := s.conn(ctx).Model(new(T)).Where(query, args...).Count(&n).Error
	return n, Classify(err)
}

// create inserts row.
func create[T any](ctx context.Context, s *Store, row *T) error {
	return s.write(ctx, func(db *gorm.DB) error { return db.Create(row).Error })
}

// update changes the columns of table T's row id.
func update[T any](ctx context.Context, s *Store, id uint, cols map[string]any) error {
	return s.write(ctx, func(db *gorm.DB) error { return db.Model(new(T)).Where("id = ?", id).Updates(cols).Error })
}

// isNotFound reports whether err is ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
