package clinic

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"apptconfirm/models"
)

// Audit actions of logins.
const (
	ActionLogin       = "user.login"
	ActionLoginFailed = "user.login_failed"
	ActionUnlock      = "user.unlock"
)

// LoginAttempt is one login tried on the login form, as the audit log keeps
// it.
type LoginAttempt struct {
	// User is the account the e-mail named; nil when no account has it.
	User *models.User
	// Email is the e-mail typed, normalised; it is kept only masked.
	Email string
	// Client is the client's address.
	Client string
	// OK says whether the login succeeded; Reason says why not ("wrong
	// password", "account disabled", "unknown account").
	OK     bool
	Reason string
}

// RecordLogin writes the audit row of a login attempt: a success is the
// user's own action; a failure names the account (when there is one) and
// shows the typed e-mail only masked, because people type passwords into
// the e-mail field.
func (s *Service) RecordLogin(ctx context.Context, a LoginAttempt) error {
	var actor models.Actor
	var id uint
	action, detail := ActionLogin, "logged in from "+clipClient(a.Client)
	if a.User != nil {
		id = a.User.ID
	}
	switch {
	case a.OK && a.User != nil:
		uid := a.User.ID
		actor = models.Actor{UserID: &uid, Name: a.User.Email}
	default:
		action = ActionLoginFailed
		actor = models.Actor{Name: "login form"}
		detail = fmt.Sprintf("failed login (%s) as %s from %s", a.Reason, MaskEmail(a.Email), clipClient(a.Client))
	}
	if err := s.store.Audit(ctx, s.clock(), actor, action, EntityUser, id, detail); err != nil {
		return fmt.Errorf("clinic: record login: %w", err)
	}
	return nil
}

// RecordUnlock writes the audit row of an admin unlocking a user's login
// after failed attempts.
func (s *Service) RecordUnlock(ctx context.Context, actor models.Actor, u *models.User) error {
	if err := s.store.Audit(ctx, s.clock(), actor, ActionUnlock, EntityUser, u.ID, u.Email+": login unlocked"); err != nil {
		return fmt.Errorf("clinic: record unlock: %w", err)
	}
	return nil
}

// MaskEmail shows enough of a typed e-mail to recognise it and not enough
// to read a password typed into the field by mistake: the first two
// characters of the local part, and the domain when there is one
// ("an…@clinic.example"). Logs and the audit log show e-mails this way.
func MaskEmail(email string) string {
	local, domain, hasAt := strings.Cut(email, "@")
	var b strings.Builder
	n := 0
	for _, r := range local {
		if n == 2 {
			break
		}
		if r < ' ' || r == utf8.RuneError {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	b.WriteString("…")
	if hasAt {
		b.WriteString("@")
		b.WriteString(models.Clip(strings.Map(func(r rune) rune {
			if r < ' ' || r == utf8.RuneError {
				return '?'
			}
			return r
		}, domain), 64))
	}
	return b.String()
}

// clipClient bounds a client address for the audit log.
func clipClient(addr string) string {
	if addr == "" {
		return "an unknown address"
	}
	return models.Clip(addr, 64)
}

// settingKeyPrefix starts the settings that hold the application's own
// signing keys.
const settingKeyPrefix = "key:"

// SigningKey returns the 32-byte key stored under name, making and storing
// a random one the first time. Every instance sharing the database gets
// the same key, so that what one signs (the login form's CSRF token) the
// others accept.
func (s *Service) SigningKey(ctx context.Context, name string) ([]byte, error) {
	return SigningKey(ctx, s.store, name)
}

// SigningKey is Service.SigningKey for what is built before the Service
// (the outbox signs patient links).
func SigningKey(ctx context.Context, store *models.Store, name string) ([]byte, error) {
	key := settingKeyPrefix + name
	v, err := store.Setting(ctx, key)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, fmt.Errorf("clinic: signing key %s: %w", name, err)
	}
	if err != nil {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("clinic: signing key %s: %w", name, err)
		}
		if _, err := store.AddSetting(ctx, key, base64.RawURLEncoding.EncodeToString(b)); err != nil {
			return nil, fmt.Errorf("clinic: signing key %s: %w", name, err)
		}
		// Another instance may have stored its key first: use that one.
		if v, err = store.Setting(ctx, key); err != nil {
			return nil, fmt.Errorf("clinic: signing key %s: %w", name, err)
		}
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < 32 {
		return nil, fmt.Errorf("clinic: signing key %s: the stored value is not a 32-byte key", name)
	}
	return b, nil
}
