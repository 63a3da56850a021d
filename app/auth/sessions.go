package auth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"gorm.io/gorm/clause"

	"apptconfirm/models"
)

// GormStore keeps scs sessions in the sessions table, so they live on the
// server (logout and disabling a user end them there) and survive restarts.
type GormStore struct {
	store *models.Store
}

// NewGormStore returns an scs.CtxStore over the store's sessions table.
func NewGormStore(s *models.Store) *GormStore { return &GormStore{store: s} }

// FindCtx returns the session data for token, if present and not expired.
func (g *GormStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row models.Session
	err := g.store.DB(ctx).Where("token = ? AND expiry > ?", token, time.Now().UTC()).Take(&row).Error
	if err != nil {
		if errors.Is(models.Classify(err), models.ErrNotFound) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return row.Data, true, nil
}

// CommitCtx stores or replaces the session.
func (g *GormStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := models.Session{Token: token, Data: b, Expiry: expiry.UTC()}
	return g.store.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry"}),
	}).Create(&row).Error
}

// DeleteCtx removes the session.
func (g *GormStore) DeleteCtx(ctx context.Context, token string) error {
	return g.store.DB(ctx).Where("token = ?", token).Delete(&models.Session{}).Error
}

// Find implements scs.Store.
func (g *GormStore) Find(token string) ([]byte, bool, error) {
	return g.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (g *GormStore) Commit(token string, b []byte, expiry time.Time) error {
	return g.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (g *GormStore) Delete(token string) error { return g.DeleteCtx(context.Background(), token) }

// DeleteExpired removes expired sessions; the jobs registry calls it.
func (g *GormStore) DeleteExpired(ctx context.Context) (int64, error) {
	res := g.store.DB(ctx).Where("expiry <= ?", time.Now().UTC()).Delete(&models.Session{})
	return res.RowsAffected, res.Error
}

// SessionOptions configure NewSessions.
type SessionOptions struct {
	Lifetime time.Duration
	// Secure marks the cookie Secure (the app is served over TLS).
	Secure bool
}

// NewSessions returns a session manager with apptconfirm's cookie policy:
// HttpOnly, SameSite=Lax, Secure behind TLS (QUALITY A1).
func NewSessions(s *models.Store, opts SessionOptions) *scs.SessionManager {
	m := scs.New()
	m.Store = NewGormStore(s)
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
