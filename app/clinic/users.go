package clinic

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"apptconfirm/models"
)

// Password limits (QUALITY A7). bcrypt reads at most 72 bytes, so a longer
// password is refused rather than silently cut.
const (
	MinPasswordChars = 8
	MaxPasswordBytes = 72
)

// UserInput is a user as an admin enters them. Field names in FieldErrors:
// email, name, role, password, disabled.
type UserInput struct {
	Email, Name string
	// Role is "admin" or "staff".
	Role string
	// Password is required on create; on update empty means unchanged.
	Password string
	Disabled bool
}

// ErrNoHasher is returned when a password must be hashed but no
// PasswordHasher was set.
var ErrNoHasher = errors.New("clinic: no password hasher configured")

// normalizeEmail lower-cases and trims an address.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// validate checks everything but uniqueness and the last-admin rule.
func (in UserInput) validate(passwordRequired bool) (models.User, FieldErrors) {
	fe := FieldErrors{}
	u := models.User{
		Email:    normalizeEmail(in.Email),
		Name:     strings.TrimSpace(in.Name),
		Role:     models.Role(strings.ToLower(strings.TrimSpace(in.Role))),
		Disabled: in.Disabled,
	}
	if m := checkEmail(u.Email); m != "" {
		fe.add("email", m)
	}
	if m := checkName(u.Name, 200); m != "" {
		fe.add("name", m)
	}
	if !u.Role.Valid() {
		fe.add("role", "must be admin or staff")
	}
	if in.Password != "" || passwordRequired {
		if m := checkPassword(in.Password); m != "" {
			fe.add("password", m)
		}
	}
	return u, fe
}

// checkEmail validates a lower-cased bare address; it returns a message or "".
func checkEmail(email string) string {
	if email == "" {
		return "required"
	}
	if len(email) > 254 {
		return "must be at most 254 characters"
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return "must be an email address such as name@example.com"
	}
	return ""
}

// checkPassword applies the password rules; it returns a message or "".
func checkPassword(pw string) string {
	switch {
	case pw == "":
		return "required"
	case !utf8.ValidString(pw):
		return "is not valid text"
	case utf8.RuneCountInString(pw) < MinPasswordChars:
		return fmt.Sprintf("must be at least %d characters", MinPasswordChars)
	case len(pw) > MaxPasswordBytes:
		return fmt.Sprintf("must be at most %d bytes (this one is %d; accented letters and symbols take 2 to 4 bytes each)", MaxPasswordBytes, len(pw))
	}
	return ""
}

// hash hashes pw with the configured hasher.
func (s *Service) hash(pw string) (string, error) {
	h := s.getHasher()
	if h == nil {
		return "", ErrNoHasher
	}
	out, err := h.Hash(pw)
	if err != nil {
		return "", fmt.Errorf("clinic: hash password: %w", err)
	}
	return out, nil
}

// checkEmailFree refuses an address another user has.
func checkEmailFree(ctx context.Context, tx *models.Store, email string, self uint) error {
	var n int64
	if err := tx.DB(ctx).Model(&models.User{}).Where("email = ? AND id <> ?", email, self).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return FieldErrors{"email": "already in use"}
	}
	return nil
}

// emailConflict maps a unique-email race onto FieldErrors.
func emailConflict(err error) error {
	if err = models.Classify(err); errors.Is(err, models.ErrConflict) {
		return FieldErrors{"email": "already in use"}
	}
	return err
}

// CreateUser adds a user. The email is lower-cased and must be unique.
func (s *Service) CreateUser(ctx context.Context, actor Actor, in UserInput) (*models.User, error) {
	u, fe := in.validate(true)
	if err := fe.err(); err != nil {
		return nil, err
	}
	hash, err := s.hash(in.Password)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = hash
	now := s.clock()
	err = s.store.Tx(ctx, func(tx *models.Store) error {
		return insertUser(ctx, tx, actor, &u, now)
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: create user", err)
	}
	return &u, nil
}

// insertUser inserts a validated user and audits it.
func insertUser(ctx context.Context, tx *models.Store, actor Actor, u *models.User, now time.Time) error {
	if err := checkEmailFree(ctx, tx, u.Email, 0); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = now, now
	if err := tx.DB(ctx).Create(u).Error; err != nil {
		return emailConflict(err)
	}
	detail := fmt.Sprintf("%s (%s)", u.Email, u.Role)
	if u.Disabled {
		detail += ", disabled"
	}
	return RecordAudit(ctx, tx, now, actor, "user.create", EntityUser, u.ID, detail)
}

// UpdateUser changes a user. An empty password leaves it unchanged.
// Disabling a user or changing their password bumps SessionEpoch, which
// ends their sessions. The last enabled admin can be neither disabled nor
// demoted.
func (s *Service) UpdateUser(ctx context.Context, actor Actor, id uint, in UserInput) (*models.User, error) {
	next, fe := in.validate(false)
	if err := fe.err(); err != nil {
		return nil, err
	}
	var hash string
	if in.Password != "" {
		var err error
		if hash, err = s.hash(in.Password); err != nil {
			return nil, err
		}
	}
	now := s.clock()
	var out models.User
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		// Lock the enabled admins first, always in the same order, so two
		// admins demoting each other at once cannot both succeed.
		var admins []uint
		err := tx.DB(ctx).Model(&models.User{}).Scopes(models.ForUpdate(tx)).
			Where("role = ? AND disabled = ?", models.RoleAdmin, false).Order("id").Pluck("id", &admins).Error
		if err != nil {
			return err
		}
		var cur models.User
		if err := tx.DB(ctx).Scopes(models.ForUpdate(tx)).First(&cur, id).Error; err != nil {
			if err = models.Classify(err); errors.Is(err, models.ErrNotFound) {
				return notFound("user", id)
			}
			return err
		}
		if cur.Role == models.RoleAdmin && !cur.Disabled && len(admins) <= 1 {
			fe := FieldErrors{}
			if next.Role != models.RoleAdmin {
				fe.add("role", "the last admin cannot be demoted; make another user an admin first")
			}
			if next.Disabled {
				fe.add("disabled", "the last admin cannot be disabled; make another user an admin first")
			}
			if err := fe.err(); err != nil {
				return err
			}
		}
		if err := checkEmailFree(ctx, tx, next.Email, id); err != nil {
			return err
		}
		var changes []string
		upd := map[string]any{}
		if next.Email != cur.Email {
			changes = append(changes, fmt.Sprintf("email %s → %s", cur.Email, next.Email))
			upd["email"] = next.Email
		}
		if next.Name != cur.Name {
			changes = append(changes, "name")
			upd["name"] = next.Name
		}
		if next.Role != cur.Role {
			changes = append(changes, fmt.Sprintf("role %s → %s", cur.Role, next.Role))
			upd["role"] = next.Role
		}
		if next.Disabled != cur.Disabled {
			if next.Disabled {
				changes = append(changes, "disabled")
			} else {
				changes = append(changes, "enabled")
			}
			upd["disabled"] = next.Disabled
		}
		if hash != "" {
			changes = append(changes, "password changed")
			upd["password_hash"] = hash
		}
		if len(upd) == 0 {
			out = cur
			return nil
		}
		if hash != "" || (next.Disabled && !cur.Disabled) {
			upd["session_epoch"] = gorm.Expr("session_epoch + 1")
		}
		upd["updated_at"] = now
		if err := tx.DB(ctx).Model(&models.User{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return emailConflict(err)
		}
		if err := RecordAudit(ctx, tx, now, actor, "user.update", EntityUser, id, cur.Email+": "+strings.Join(changes, ", ")); err != nil {
			return err
		}
		return tx.DB(ctx).First(&out, id).Error
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: update user", err)
	}
	return &out, nil
}

// GetUser returns one user, or models.ErrNotFound.
func (s *Service) GetUser(ctx context.Context, id uint) (*models.User, error) {
	var u models.User
	if err := s.store.DB(ctx).First(&u, id).Error; err != nil {
		if err = models.Classify(err); errors.Is(err, models.ErrNotFound) {
			return nil, fmt.Errorf("clinic: %w", notFound("user", id))
		}
		return nil, fmt.Errorf("clinic: get user: %w", err)
	}
	return &u, nil
}

// GetUserByEmail returns the user with that address (case-insensitive), or
// models.ErrNotFound.
func (s *Service) GetUserByEmail(ctx context.Context, email string) (*models.User, error) {
	var u models.User
	if err := s.store.DB(ctx).Where("email = ?", normalizeEmail(email)).Take(&u).Error; err != nil {
		if err = models.Classify(err); errors.Is(err, models.ErrNotFound) {
			return nil, fmt.Errorf("clinic: user by email: %w", models.ErrNotFound)
		}
		return nil, fmt.Errorf("clinic: user by email: %w", err)
	}
	return &u, nil
}

// ListUsers returns every user, by email.
func (s *Service) ListUsers(ctx context.Context) ([]models.User, error) {
	var us []models.User
	if err := s.store.DB(ctx).Order("email, id").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("clinic: list users: %w", models.Classify(err))
	}
	return us, nil
}

// CreateFirstAdmin creates an admin when no user exists yet (first start,
// `apptconfirm user add` on an empty database) and reports whether it did.
func (s *Service) CreateFirstAdmin(ctx context.Context, email, name, password string) (bool, error) {
	u, fe := UserInput{Email: email, Name: name, Role: string(models.RoleAdmin), Password: password}.validate(true)
	if err := fe.err(); err != nil {
		return false, err
	}
	var n int64
	if err := s.store.DB(ctx).Model(&models.User{}).Count(&n).Error; err != nil {
		return false, fmt.Errorf("clinic: first admin: %w", models.Classify(err))
	}
	if n > 0 {
		return false, nil
	}
	hash, err := s.hash(password)
	if err != nil {
		return false, err
	}
	u.PasswordHash = hash
	created := false
	err = s.store.Tx(ctx, func(tx *models.Store) error {
		if tx.Driver() == models.DriverPostgres {
			// Two instances starting at once must not both create an admin.
			if err := tx.DB(ctx).Exec("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE").Error; err != nil {
				return err
			}
		}
		var n int64
		if err := tx.DB(ctx).Model(&models.User{}).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		created = true
		return insertUser(ctx, tx, SystemActor(), &u, s.clock())
	})
	if err != nil {
		return false, wrapUnlessInput("clinic: first admin", err)
	}
	return created, nil
}
