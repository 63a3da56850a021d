// Package web is the staff and admin web UI: the gin engine, its routes,
// middleware, handlers and server-rendered pages.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"

	"apptconfirm/app/auth"
	"apptconfirm/app/clinic"
	"apptconfirm/app/live"
	"apptconfirm/models"
)

// Options configure the web UI.
type Options struct {
	ClinicName     string
	TrustedProxies []string
	Simulating     bool
	// TLS marks responses as served over HTTPS (HSTS, Secure cookies).
	TLS bool
}

// Server holds the web UI's dependencies. It has no package-level state.
type Server struct {
	opts     Options
	store    *models.Store
	sessions *scs.SessionManager
	hasher   *auth.Hasher
	limiter  *auth.LoginLimiter
	render   *Renderer
	assets   *Assets
	log      *slog.Logger
	now      func() time.Time
	clinic   *clinic.Service
	// reminders and sends serve the rule editor and "Tomorrow's sends"
	// (rules.go, upcoming.go); nil turns those pages off.
	reminders Reminders
	sends     Sends
	// live feeds GET /events; streams ends those at shutdown (events.go).
	live    live.Broadcaster
	streams *streams

	engine *gin.Engine
	// mounts are extra handlers (webhook, API, simulator) that bypass the
	// session and CSRF layers, keyed by path prefix.
	mounts []mount
}

type mount struct {
	prefix  string
	handler http.Handler
}

// Deps are the collaborators New needs.
type Deps struct {
	Store     *models.Store
	Sessions  *scs.SessionManager
	Hasher    *auth.Hasher
	Limiter   *auth.LoginLimiter
	Templates fs.FS
	Static    fs.FS
	Logger    *slog.Logger
	Now       func() time.Time
	// Clinic is the business layer behind the patient, appointment and admin pages.
	Clinic *clinic.Service
	// Reminders serves the reminder-rule editor and "Tomorrow's sends", and
	// Sends their "Send now" and "Skip" buttons; nil turns them off.
	Reminders Reminders
	Sends     Sends
	// Live carries changes to the browsers (GET /events); nil turns live
	// updates off.
	Live live.Broadcaster
}

// New builds the web UI. Templates are parsed here, so a broken one stops start-up.
func New(opts Options, d Deps) (*Server, error) {
	assets, err := NewAssets(d.Static)
	if err != nil {
		return nil, err
	}
	r, err := NewRenderer(d.Templates, assets)
	if err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.ContextWithFallback = true
	// gin trusts every proxy unless told otherwise, which would let anyone
	// forge X-Forwarded-For and reset the login limit (QUALITY A2, A4b).
	if err := e.SetTrustedProxies(opts.TrustedProxies); err != nil {
		return nil, err
	}
	e.RedirectTrailingSlash = false
	e.HandleMethodNotAllowed = true
	s := &Server{
		opts: opts, store: d.Store, sessions: d.Sessions, hasher: d.Hasher, limiter: d.Limiter,
		render: r, assets: assets, log: d.Logger, now: d.Now, engine: e,
		clinic: d.Clinic,
		live:   d.Live, streams: newStreams(),
	}
	s.reminders, s.sends = d.Reminders, d.Sends
	e.Use(s.requestLog, s.recover, s.securityHeaders)
	e.NoRoute(func(c *gin.Context) { s.notFound(c) })
	e.NoMethod(func(c *gin.Context) { s.errorPage(c, http.StatusMethodNotAllowed, "Method not allowed", "") })
	s.routes()
	return s, nil
}

// Engine exposes the gin engine so other packages (REST API, webhooks)
// register their routes on it.
func (s *Server) Engine() *gin.Engine { return s.engine }

// Mount serves handler for every path under prefix, outside the session and
// CSRF layers (webhooks, the token API, the simulator's fake gateway).
func (s *Server) Mount(prefix string, h http.Handler) {
	s.mounts = append(s.mounts, mount{prefix: prefix, handler: h})
}

// Handler returns the complete HTTP handler: webhooks, API and static assets
// go straight to the engine; browser pages get sessions and cross-origin
// protection.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	ui := s.sessions.LoadAndSave(markSession(cop.Handler(s.engine)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, m := range s.mounts {
			if strings.HasPrefix(r.URL.Path, m.prefix) {
				m.handler.ServeHTTP(w, r)
				return
			}
		}
		if strings.HasPrefix(r.URL.Path, "/webhooks/") || strings.HasPrefix(r.URL.Path, "/api/") ||
			strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/healthz" ||
			r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			s.engine.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	})
}

// Session keys.
const (
	sessUserID = "uid"
	sessEpoch  = "epoch"
	sessCSRF   = "csrf"
	sessFlash  = "flash"
	sessFlashE = "flash_err"
)

// csrfToken returns the session's CSRF token, creating it on first use.
func (s *Server) csrfToken(ctx context.Context) string {
	tok := s.sessions.GetString(ctx, sessCSRF)
	if tok == "" {
		tok = randomToken()
		s.sessions.Put(ctx, sessCSRF, tok)
	}
	return tok
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// flash stores a one-time message shown on the next page.
func (s *Server) flash(c *gin.Context, msg string) {
	s.sessions.Put(c.Request.Context(), sessFlash, msg)
}

func (s *Server) flashError(c *gin.Context, msg string) {
	s.sessions.Put(c.Request.Context(), sessFlash, msg)
	s.sessions.Put(c.Request.Context(), sessFlashE, true)
}

// page builds the envelope for a page render.
func (s *Server) page(c *gin.Context, title, nav string, data any) *Page {
	p := &Page{Title: title, Nav: nav, Data: data, Simulating: s.opts.Simulating, ClinicName: s.opts.ClinicName}
	if u, ok := currentUser(c); ok {
		p.User = u
	}
	if hasSession(c) {
		ctx := c.Request.Context()
		p.CSRF = s.csrfToken(ctx)
		p.Flash = s.sessions.PopString(ctx, sessFlash)
		p.FlashError = s.sessions.PopBool(ctx, sessFlashE)
	}
	return p
}

// sessionKey marks a request context that went through the session layer;
// scs panics when asked for a session it never loaded.
type sessionKey struct{}

func markSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, true)))
	})
}

// hasSession reports whether the request went through the session layer.
func hasSession(c *gin.Context) bool { return c.Request.Context().Value(sessionKey{}) != nil }

// html renders a full page with status.
func (s *Server) html(c *gin.Context, status int, page string, p *Page) {
	var buf bytes.Buffer
	if err := s.render.Render(&buf, page, p); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render failed", slog.String("page", page), slog.Any("err", err))
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	_, _ = buf.WriteTo(c.Writer)
}
