package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"apptconfirm/models"
)

// SessionStore keeps scs sessions in the sessions table, so they live on the
// server (logout and disabling a user end them there) and survive restarts.
type SessionStore struct {
	store *models.Store
}

// NewSessionStore returns an scs.CtxStore over the store's sessions table.
func NewSessionStore(s *models.Store) *SessionStore { return &SessionStore{store: s} }

// FindCtx returns the session data for token, if present and not expired.
func (g *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	return g.store.SessionData(ctx, token, time.Now())
}

// CommitCtx stores or replaces the session.
func (g *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return g.store.SaveSession(ctx, token, b, expiry)
}

// DeleteCtx removes the session.
func (g *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return g.store.DeleteSession(ctx, token)
}

// Find implements scs.Store.
func (g *SessionStore) Find(token string) ([]byte, bool, error) {
	return g.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (g *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return g.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (g *SessionStore) Delete(token string) error { return g.DeleteCtx(context.Background(), token) }

// DeleteExpired removes expired sessions; the jobs registry calls it.
func (g *SessionStore) DeleteExpired(ctx context.Context) (int64, error) {
	return g.store.DeleteExpiredSessions(ctx, time.Now())
}

// SessionOptions configure NewSessions.
type SessionOptions struct {
	Lifetime time.Duration
	// Secure marks the cookie Secure (the app is served over TLS).
	Secure bool
}

// NewSessions returns a session manager with apptconfirm's cookie policy:
// HttpOnly, SameSite=Lax, Secure behind TLS.
func NewSessions(s *models.Store, opts SessionOptions) *scs.SessionManager {
	m := scs.New()
	m.Store = NewSessionStore(s)
	if opts.Lifetime > 0 {
		m.Lifetime = opts.Lifetime
	}
	m.IdleTimeout = 0
	m.Cookie.Name = "apptconfirm_session"
	m.Cookie.HttpOnly = true
	m.Cookie.SameSite = http.SameSiteLaxMode
	m.Cookie.Secure = opts.Secure
	m.Cookie.Path = "/"
	return m
}
