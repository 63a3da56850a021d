// Package web is the HTTP surface of apptconfirm: the gin engine and the one
// route table of every route (pages, REST API, webhook, static assets,
// operations; routes.go), and the staff and admin web UI's middleware,
// handlers and server-rendered pages.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"

	"apptconfirm/app/analytics"
	"apptconfirm/app/api"
	"apptconfirm/app/auth"
	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/app/exports"
	"apptconfirm/app/feeds"
	"apptconfirm/app/imports"
	"apptconfirm/app/inbox"
	"apptconfirm/app/live"
	"apptconfirm/app/outbound"
	"apptconfirm/app/patientpage"
	"apptconfirm/app/stats"
)

// Options configure the web UI.
type Options struct {
	ClinicName string
	// Clock12h writes times of day on a 12-hour clock ("3:04 PM") rather
	// than a 24-hour one (clinic.clock).
	Clock12h       bool
	TrustedProxies []string
	Simulating     bool
	// TLS marks responses as served over HTTPS (HSTS, Secure cookies).
	TLS bool
	// SecureCookies gives the login form's cookie the Secure attribute
	// (and the __Host- prefix), like the session cookie
	// (server.secure_cookies).
	SecureCookies bool
	// LiveStreamsPerUser caps the live-update streams one user may hold
	// open (server.live_streams_per_user); 0 means DefaultLiveStreamsPerUser.
	LiveStreamsPerUser int
}

// PasswordChecker checks a login's password against a stored hash (""
// for an account that does not exist) at the same cost either way;
// *auth.Hasher implements it.
type PasswordChecker interface {
	Check(hash, pw string) bool
}

// Server holds the web UI's dependencies. It has no package-level state.
type Server struct {
	opts     Options
	sessions *scs.SessionManager
	hasher   PasswordChecker
	limiter  *auth.LoginLimiter
	// loginCSRF protects the login form without a session (logincsrf.go).
	loginCSRF *loginCSRF
	// bodyLimits holds the page routes allowed a body larger than
	// DefaultMaxFormBytes, by method and route pattern (limits.go).
	bodyLimits map[string]int64
	render     *Renderer
	// clock writes times of day in the clinic's format (clock.go).
	clock   clockFormat
	assets  *Assets
	log     *slog.Logger
	now     func() time.Time
	clinic  *clinic.Service
	avail   *availability.Service
	patient *patientpage.Service
	stats   *stats.Service
	// analytics computes /analytics; nil leaves the page out.
	analytics *analytics.Service
	tokens    *api.Tokens
	// rules and sends serve the rule editor and "Tomorrow's sends"
	// (rules.go, upcoming.go); sender gives the latter its "Send now".
	rules  Rules
	sends  Sends
	sender Sender
	inbox  *inboxPages
	smscx  *smscxPages
	// imports serves the CSV import pages; nil leaves them out.
	imports *importPages
	// exports writes the appointment export; nil leaves it out.
	exports *exports.Service
	// feeds serves the calendar feeds and their admin page; nil leaves
	// them out.
	feeds *feeds.Service
	// webhooks is Admin → Webhooks; nil without outbound webhooks.
	webhooks *webhookPages
	// offers sends offers of new times (offers.go).
	offers Offers
	// waitlist manages the waitlist (waitlist.go); nil leaves it out.
	waitlist Waitlist
	// texts serves the editor of every text in every language (texts.go).
	texts Texts
	// live feeds GET /events; streams ends those at shutdown (events.go).
	live    live.Broadcaster
	streams *streams
	// api serves the REST API and the operations endpoints; webhook is
	// SMS.CX's webhook.
	api     *api.API
	webhook http.Handler

	engine *gin.Engine
	cop    *http.CrossOriginProtection
}

// Deps are the collaborators New needs. Those that may be nil turn their
// pages off.
type Deps struct {
	Sessions *scs.SessionManager
	Hasher   PasswordChecker
	Limiter  *auth.LoginLimiter
	// LoginKey signs the login form's CSRF token (at least 32 bytes; every
	// instance sharing the database must use the same). Empty draws a
	// random key for this process.
	LoginKey  []byte
	Templates fs.FS
	Static    fs.FS
	Logger    *slog.Logger
	Now       func() time.Time
	// Clinic is the business layer behind the patient, appointment and admin pages.
	Clinic *clinic.Service
	// Availability serves the working-hours pages; nil leaves them out.
	Availability *availability.Service
	// Patient serves the patient page /a/{token}; nil leaves it out.
	Patient *patientpage.Service
	// Stats computes the dashboard's figures.
	Stats *stats.Service
	// Analytics computes the analytics page and its CSV files; nil
	// leaves them out.
	Analytics *analytics.Service
	// Tokens makes and revokes REST API tokens (Admin → API tokens).
	Tokens *api.Tokens
	// Rules serves the reminder-rule editor; Sends lists "Tomorrow's
	// sends" and skips one; Sender sends one now.
	Rules  Rules
	Sends  Sends
	Sender Sender
	// Texts serves the editor of the clinic's texts and languages.
	Texts Texts
	// Inbox is the staff inbox of replies that need a person.
	Inbox *inbox.Service
	// Outbound manages the outbound webhook endpoints (Admin → Webhooks);
	// nil leaves the pages out.
	Outbound *outbound.Service
	// Offers sends patients offers of new times from the appointment page;
	// nil hides the form.
	Offers Offers
	// Waitlist serves the waitlist pages; nil leaves them out.
	Waitlist Waitlist
	// SMSCX configures the SMS.CX settings page and, in simulate mode, the
	// "Reply as the patient" form.
	SMSCX *SMSCX
	// Live carries changes to the browsers (GET /events).
	Live live.Broadcaster
	// API serves /api/v1 and the operations endpoints /healthz, /readyz
	// and /metrics.
	API *api.API
	// Imports runs the CSV imports of the import page; nil leaves the
	// page out. MaxImportBytes caps an uploaded file.
	Imports        *imports.Jobs
	MaxImportBytes int64
	// Exports writes the appointment export (admins); nil leaves it out.
	Exports *exports.Service
	// Feeds serves the calendar feeds; nil leaves them out.
	Feeds *feeds.Service
	// Webhook receives SMS.CX's callbacks (POST /webhooks/smscx/{secret}).
	// Simulate mode's fake SMS.CX gateway is not served: the simulator's
	// client reaches it in-process.
	Webhook http.Handler
}

// New builds the web UI and the route table of the whole HTTP surface.
// Templates are parsed here, so a broken one stops start-up.
func New(opts Options, d Deps) (*Server, error) {
	assets, err := NewAssets(d.Static)
	if err != nil {
		return nil, err
	}
	clock := clockFormat{twelve: opts.Clock12h}
	r, err := NewRenderer(d.Templates, assets, clock)
	if err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	e := gin.New()
	e.ContextWithFallback = true
	// gin trusts every proxy unless told otherwise, which would let anyone
	// forge X-Forwarded-For and reset the login limit.
	if err := e.SetTrustedProxies(opts.TrustedProxies); err != nil {
		return nil, err
	}
	e.RedirectTrailingSlash = false
	e.HandleMethodNotAllowed = true
	key := d.LoginKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // never fails since Go 1.24
	}
	if len(key) < 32 {
		return nil, errors.New("web: the login key must have at least 32 bytes")
	}
	if opts.LiveStreamsPerUser <= 0 {
		opts.LiveStreamsPerUser = DefaultLiveStreamsPerUser
	}
	s := &Server{
		opts: opts, sessions: d.Sessions, hasher: d.Hasher, limiter: d.Limiter,
		render: r, clock: clock, assets: assets, log: d.Logger, now: d.Now, engine: e,
		clinic: d.Clinic, avail: d.Availability, patient: d.Patient, stats: d.Stats, analytics: d.Analytics, tokens: d.Tokens,
		rules: d.Rules, sends: d.Sends, sender: d.Sender, texts: d.Texts, offers: d.Offers, waitlist: d.Waitlist,
		live: d.Live, streams: newStreams(opts.LiveStreamsPerUser),
		api: d.API, webhook: d.Webhook,
		cop:        http.NewCrossOriginProtection(),
		loginCSRF:  &loginCSRF{key: key, secure: opts.TLS || opts.SecureCookies},
		bodyLimits: map[string]int64{},
	}
	if d.Inbox != nil {
		s.inbox = &inboxPages{s: s, svc: d.Inbox}
	}
	if d.SMSCX != nil {
		s.smscx = newSMSCXPages(s, *d.SMSCX)
	}
	s.exports, s.feeds = d.Exports, d.Feeds
	if d.Imports != nil {
		s.imports = &importPages{s: s, jobs: d.Imports, maxBytes: d.MaxImportBytes}
	}
	if d.Outbound != nil {
		s.webhooks = &webhookPages{s: s, svc: d.Outbound}
	}
	e.Use(s.requestLog, s.recover, s.securityHeaders)
	s.routes()
	return s, nil
}

// Handler returns the complete HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Routes lists every route of the surface (method and pattern), for the
// checks that walk them: the OpenAPI document, the admin-only pages.
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }

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
		// Only a logged-in user's pages carry forms that need the session's
		// token; asking for it on an anonymous page would write a session
		// row for every visitor. (The login form has a token of its own.)
		if p.User != nil {
			p.CSRF = s.csrfToken(ctx)
			if s.inbox != nil {
				// The nav's count is a courtesy: a failure leaves it out.
				if n, err := s.inbox.svc.Count(ctx); err == nil {
					p.InboxCount = n
				}
			}
		}
		p.Flash = s.sessions.PopString(ctx, sessFlash)
		p.FlashError = s.sessions.PopBool(ctx, sessFlashE)
	}
	return p
}

// sessionKey marks a request context that went through the session layer;
// scs panics when asked for a session it never loaded.
type sessionKey struct{}

// hasSession reports whether the request went through the session layer.
func hasSession(c *gin.Context) bool { return c.Request.Context().Value(sessionKey{}) != nil }

// session is the session layer of the pages: it loads the browser's
// session, runs the rest of the chain, and saves the session (setting its
// cookie) before the first byte of the answer. The token API, the webhook,
// the operations endpoints and the static assets never go through it.
func (s *Server) session(c *gin.Context) {
	if hasSession(c) {
		c.Next()
		return
	}
	s.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.Request = r.WithContext(context.WithValue(r.Context(), sessionKey{}, true))
		c.Writer = &sessionWriter{ResponseWriter: c.Writer, w: w}
		c.Next()
	})).ServeHTTP(c.Writer, c.Request)
}

// sessionWriter sends a handler's writes through the session layer's
// writer, which saves the session before the status goes out, and keeps
// gin's writer for everything else.
type sessionWriter struct {
	gin.ResponseWriter
	w http.ResponseWriter
}

func (sw *sessionWriter) WriteHeader(code int)              { sw.w.WriteHeader(code) }
func (sw *sessionWriter) Write(b []byte) (int, error)       { return sw.w.Write(b) }
func (sw *sessionWriter) WriteString(s string) (int, error) { return io.WriteString(sw.w, s) }

// Unwrap lets http.ResponseController reach the connection (event streams
// lift its deadlines and flush).
func (sw *sessionWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// crossOrigin refuses cross-site unsafe requests by their Fetch metadata
// (http.CrossOriginProtection); the CSRF token also covers old browsers.
func (s *Server) crossOrigin(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.errorPage(c, http.StatusForbidden, "Form expired", "The form came from another site. Go back, reload the page and try again.")
		c.Abort()
		return
	}
	c.Next()
}

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

// ReleaseMode puts gin, process-wide, in release mode (no debug output).
// gin keeps its mode in package state, so the command sets it once at
// start, before any Server is built; New leaves it alone.
func ReleaseMode() { gin.SetMode(gin.ReleaseMode) }
