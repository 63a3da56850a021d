package models

import (
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ForUpdate is a GORM scope that locks the selected rows on PostgreSQL; on
// SQLite the immediate transaction already holds the write lock, so it adds
// nothing. Use it as db.Scopes(models.ForUpdate(tx)).
func ForUpdate(s *Store) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if s.driver == DriverPostgres {
			return db.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		return db
	}
}

// SkipLocked is a scope for FOR UPDATE SKIP LOCKED on PostgreSQL, so that
// several dispatchers claim disjoint rows; on SQLite it adds nothing.
func SkipLocked(s *Store) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if s.driver == DriverPostgres {
			return db.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		return db
	}
}
