package clinic

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"apptconfirm/models"
)

// Password limits. bcrypt reads at most 72 bytes, so a longer
// password is refused rather than silently cut.
const (
	MinPasswordChars = 8
	MaxPasswordBytes = 72
)

// UserInput is a user as an admin enters them. Field names in models.FieldErrors:
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
func (in UserInput) validate(passwordRequired bool) (models.User, models.FieldErrors) {
	fe := models.FieldErrors{}
	u := models.User{
		Email:    normalizeEmail(in.Email),
		Name:     strings.TrimSpace(in.Name),
		Role:     models.Role(strings.ToLower(strings.TrimSpace(in.Role))),
		Disabled: in.Disabled,
	}
	if m := checkEmail(u.Email); m != "" {
		fe.Add("email", m)
	}
	if m := checkName(u.Name, 200); m != "" {
		fe.Add("name", m)
	}
	if !u.Role.Valid() {
		fe.Add("role", "must be admin or staff")
	}
	if in.Password != "" || passwordRequired {
		if m := checkPassword(in.Password); m != "" {
			fe.Add("password", m)
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
	if s.hasher == nil {
		return "", ErrNoHasher
	}
	out, err := s.hasher.Hash(pw)
	if err != nil {
		return "", fmt.Errorf("clinic: hash password: %w", err)
	}
	return out, nil
}

// checkEmailFree refuses an address another user has.
func (s *Service) checkEmailFree(ctx context.Context, email string, self uint) error {
	taken, err := s.store.EmailTaken(ctx, email, self)
	if err != nil {
		return err
	}
	if taken {
		return models.FieldErrors{"email": "already in use"}
	}
	return nil
}

// emailConflict maps a unique-email race onto FieldErrors.
func emailConflict(err error) error {
	if err = models.Classify(err); errors.Is(err, models.ErrConflict) {
		return models.FieldErrors{"email": "already in use"}
	}
	return err
}

// CreateUser adds a user. The email is lower-cased and must be unique.
func (s *Service) CreateUser(ctx context.Context, actor models.Actor, in UserInput) (*models.User, error) {
	u, fe := in.validate(true)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	hash, err := s.hash(in.Password)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = hash
	now := s.clock()
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		return s.insertUser(ctx, actor, &u, now)
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: create user", err)
	}
	return &u, nil
}

// insertUser inserts a validated user and audits it.
func (s *Service) insertUser(ctx context.Context, actor models.Actor, u *models.User, now time.Time) error {
	if err := s.checkEmailFree(ctx, u.Email, 0); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = now, now
	if err := s.store.CreateUser(ctx, u); err != nil {
		return emailConflict(err)
	}
	detail := fmt.Sprintf("%s (%s)", u.Email, u.Role)
	if u.Disabled {
		detail += ", disabled"
	}
	return s.store.Audit(ctx, now, actor, "user.create", EntityUser, u.ID, detail)
}

// UpdateUser changes a user. An empty password leaves it unchanged.
// Disabling a user or changing their password bumps SessionEpoch, which
// ends their sessions; disabling also revokes the API tokens they made. The last enabled admin can be neither disabled nor
// demoted.
func (s *Service) UpdateUser(ctx context.Context, actor models.Actor, id uint, in UserInput) (*models.User, error) {
	next, fe := in.validate(false)
	if err := fe.Err(); err != nil {
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
	var out *models.User
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		admins, err := s.store.LockAdmins(ctx)
		if err != nil {
			return err
		}
		cur, err := s.store.LockUser(ctx, id)
		if err != nil {
			return err
		}
		if cur.Role == models.RoleAdmin && !cur.Disabled && len(admins) <= 1 {
			fe := models.FieldErrors{}
			if next.Role != models.RoleAdmin {
				fe.Add("role", "the last admin cannot be demoted; make another user an admin first")
			}
			if next.Disabled {
				fe.Add("disabled", "the last admin cannot be disabled; make another user an admin first")
			}
			if err := fe.Err(); err != nil {
				return err
			}
		}
		if err := s.checkEmailFree(ctx, next.Email, id); err != nil {
			return err
		}
		var changes []string
		var c models.UserChange
		if next.Email != cur.Email {
			changes = append(changes, fmt.Sprintf("email %s → %s", cur.Email, next.Email))
			c.Email = &next.Email
		}
		if next.Name != cur.Name {
			changes = append(changes, "name")
			c.Name = &next.Name
		}
		if next.Role != cur.Role {
			changes = append(changes, fmt.Sprintf("role %s → %s", cur.Role, next.Role))
			c.Role = &next.Role
		}
		if next.Disabled != cur.Disabled {
			if next.Disabled {
				changes = append(changes, "disabled")
			} else {
				changes = append(changes, "enabled")
			}
			c.Disabled = &next.Disabled
		}
		if hash != "" {
			changes = append(changes, "password changed")
			c.PasswordHash = &hash
		}
		if len(changes) == 0 {
			out = cur
			return nil
		}
		c.EndSessions = hash != "" || (next.Disabled && !cur.Disabled)
		if err := s.store.UpdateUser(ctx, id, c, now); err != nil {
			return emailConflict(err)
		}
		disabled := next.Disabled && !cur.Disabled
		demoted := cur.Role == models.RoleAdmin && next.Role != models.RoleAdmin
		if disabled || demoted {
			// A token never outlives its creator's access: only admins
			// make tokens, so losing the role ends them too.
			revoked, err := s.store.RevokeAPITokensCreatedBy(ctx, id, now)
			if err != nil {
				return err
			}
			why := "was disabled"
			if !disabled {
				why = "is no longer an admin"
			}
			for _, tok := range revoked {
				detail := fmt.Sprintf("%s (%s…): revoked because its creator %s %s", tok.Name, tok.Prefix, cur.Email, why)
				if err := s.store.Audit(ctx, now, actor, "api_token.revoke", EntityAPIToken, tok.ID, detail); err != nil {
					return err
				}
			}
			if len(revoked) > 0 {
				changes = append(changes, fmt.Sprintf("%d API token(s) revoked", len(revoked)))
			}
		}
		if err := s.store.Audit(ctx, now, actor, "user.update", EntityUser, id, cur.Email+": "+strings.Join(changes, ", ")); err != nil {
			return err
		}
		out, err = s.store.User(ctx, id)
		return err
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: update user", err)
	}
	return out, nil
}

// GetUser returns one user, or models.ErrNotFound.
func (s *Service) GetUser(ctx context.Context, id uint) (*models.User, error) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("clinic: get user: %w", err)
	}
	return u, nil
}

// GetUserByEmail returns the user with that address (case-insensitive), or
// models.ErrNotFound.
func (s *Service) GetUserByEmail(ctx context.Context, email string) (*models.User, error) {
	u, err := s.store.UserByEmail(ctx, normalizeEmail(email))
	if err != nil {
		return nil, fmt.Errorf("clinic: %w", err)
	}
	return u, nil
}

// ListUsers returns every user, by email.
func (s *Service) ListUsers(ctx context.Context) ([]models.User, error) {
	us, err := s.store.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("clinic: list users: %w", err)
	}
	return us, nil
}

// CreateFirstAdmin creates an admin when no user exists yet (first start,
// `apptconfirm user add` on an empty database) and reports whether it did.
func (s *Service) CreateFirstAdmin(ctx context.Context, email, name, password string) (bool, error) {
	u, fe := UserInput{Email: email, Name: name, Role: string(models.RoleAdmin), Password: password}.validate(true)
	if err := fe.Err(); err != nil {
		return false, err
	}
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return false, fmt.Errorf("clinic: first admin: %w", err)
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
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		// Two instances starting at once must not both create an admin.
		if err := s.store.LockUsersTable(ctx); err != nil {
			return err
		}
		n, err := s.store.CountUsers(ctx)
		if err != nil || n > 0 {
			return err
		}
		created = true
		return s.insertUser(ctx, models.SystemActor(), &u, s.clock())
	})
	if err != nil {
		return false, wrapUnlessInput("clinic: first admin", err)
	}
	return created, nil
}
