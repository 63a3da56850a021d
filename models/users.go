package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// User returns one user, or ErrNotFound.
func (s *Store) User(ctx context.Context, id uint) (*User, error) {
	return first[User](ctx, s, "user", id, false)
}

// LockUser returns one user, locked for update on PostgreSQL.
func (s *Store) LockUser(ctx context.Context, id uint) (*User, error) {
	return first[User](ctx, s, "user", id, true)
}

// UserByEmail returns the user with that address (as stored: lower case),
// or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.conn(ctx).Where("email = ?", email).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("user by email: %w", Classify(err))
	}
	return &u, nil
}

// Users returns every user, by email.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	var us []User
	if err := s.conn(ctx).Order("email, id").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("store: users: %w", Classify(err))
	}
	return us, nil
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	n, err := count[User](ctx, s, "1 = 1")
	if err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// EmailTaken reports whether a user other than self has email.
func (s *Store) EmailTaken(ctx context.Context, email string, self uint) (bool, error) {
	n, err := count[User](ctx, s, "email = ? AND id <> ?", email, self)
	if err != nil {
		return false, fmt.Errorf("store: email in use: %w", err)
	}
	return n > 0, nil
}

// LockAdmins locks the enabled admins, always in the same order, and
// returns their ids, so that two admins demoting each other at once cannot
// both succeed.
func (s *Store) LockAdmins(ctx context.Context) ([]uint, error) {
	var ids []uint
	err := s.conn(ctx).Model(&User{}).Scopes(s.forUpdate).
		Where("role = ? AND disabled = ?", RoleAdmin, false).Order("id").Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("store: lock admins: %w", Classify(err))
	}
	return ids, nil
}

// LockUsersTable keeps other transactions from adding users until this one
// ends (PostgreSQL; on SQLite the write lock already does).
func (s *Store) LockUsersTable(ctx context.Context) error {
	if s.driver != DriverPostgres {
		return nil
	}
	if err := s.conn(ctx).Exec("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE").Error; err != nil {
		return fmt.Errorf("store: lock users: %w", Classify(err))
	}
	return nil
}

// CreateUser inserts u. An email already in use is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if err := create(ctx, s, u); err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

// UserChange is a set of user columns to change; nil fields stay as they are.
type UserChange struct {
	Email, Name, PasswordHash *string
	Role                      *Role
	Disabled                  *bool
	// EndSessions bumps SessionEpoch, which ends every session of the user.
	EndSessions bool
}

// UpdateUser applies c to user id at now. An email already in use is
// ErrConflict.
func (s *Store) UpdateUser(ctx context.Context, id uint, c UserChange, now time.Time) error {
	upd := map[string]any{"updated_at": now}
	if c.Email != nil {
		upd["email"] = *c.Email
	}
	if c.Name != nil {
		upd["name"] = *c.Name
	}
	if c.PasswordHash != nil {
		upd["password_hash"] = *c.PasswordHash
	}
	if c.Role != nil {
		upd["role"] = *c.Role
	}
	if c.Disabled != nil {
		upd["disabled"] = *c.Disabled
	}
	if c.EndSessions {
		upd["session_epoch"] = gorm.Expr("session_epoch + 1")
	}
	if err := update[User](ctx, s, id, upd); err != nil {
		return fmt.Errorf("store: update user %d: %w", id, err)
	}
	return nil
}

// UsersByID returns the users whose ids are in ids, keyed by id.
func (s *Store) UsersByID(ctx context.Context, ids []uint) (map[uint]*User, error) {
	out, err := byIDs(ctx, s, ids, func(u *User) uint { return u.ID })
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return out, nil
}
