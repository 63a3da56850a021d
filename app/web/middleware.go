package web

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/models"
)

const ctxUser = "apptconfirm.user"

// RequestIDHeader carries a request id in and out.
const RequestIDHeader = "X-Request-Id"

// requestLog gives every request an id and logs it once, at the end. It
// runs for every request, the webhook's flood included, so it allocates
// little: the log line's attributes are built only when its level is
// enabled.
func (s *Server) requestLog(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader(RequestIDHeader)
	if id == "" || len(id) > 64 {
		id = newRequestID()
	}
	// The name is in canonical form already; Set would check it again.
	c.Writer.Header()[RequestIDHeader] = []string{id}
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	ctx := c.Request.Context()
	if !s.log.Enabled(ctx, level) {
		return
	}
	s.log.LogAttrs(ctx, level, "http request",
		slog.String("request_id", id), slog.String("method", c.Request.Method),
		slog.String("route", c.FullPath()), slog.Int("status", status),
		slog.Duration("took", time.Since(start)))
}

// newRequestID returns 16 random hex digits. A request id only ties a
// request's log line to its answer, it guards nothing, so it comes from the
// runtime's generator rather than from a system call.
func newRequestID() string {
	const digits = "0123456789abcdef"
	var b [16]byte
	v := rand.Uint64()
	for i := range b {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}

// recover turns a panic into a 500 page and one log line with the stack.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			s.log.ErrorContext(c.Request.Context(), "panic in handler", slog.Any("panic", r),
				slog.String("stack", string(debug.Stack())))
			if !c.Writer.Written() {
				s.errorPage(c, http.StatusInternalServerError, "Something went wrong", "The error was logged.")
			}
			c.Abort()
		}
	}()
	c.Next()
}

// contentSecurityPolicy allows only our own scripts and styles (no inline
// script), no framing, no plugins.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// nosniff is the value of X-Content-Type-Options. It is shared by every
// webhook answer, and nothing changes a header's value in place.
var nosniff = []string{"nosniff"}

// securityHeaderNames are the headers securityHeaders sets on every answer
// (canonical names), and securityHeaderValues their values, in the same
// order.
var (
	securityHeaderNames = [...]string{
		"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
		"Referrer-Policy", "Permissions-Policy", "Cross-Origin-Opener-Policy",
	}
	securityHeaderValues = [len(securityHeaderNames)]string{
		contentSecurityPolicy, "DENY", "nosniff",
		"same-origin", "camera=(), microphone=(), geolocation=()", "same-origin",
	}
)

// webhookRoute is the pattern of SMS.CX's webhook route.
const webhookRoute = WebhookPrefix + ":secret"

// securityHeaders sets the security headers of every answer. The values
// share one array per request, where Header.Set would allocate a slice for
// each (and check each canonical name again).
//
// The webhook's answers, JSON for SMS.CX's servers and never a page in a
// browser, get only nosniff: under a flood, net/http copying, sorting and
// writing six page headers more was a few percent of each answer's CPU.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	if c.FullPath() == webhookRoute {
		h["X-Content-Type-Options"] = nosniff
		c.Next()
		return
	}
	vals := securityHeaderValues // a copy: the answer may change its headers
	for i, name := range securityHeaderNames {
		h[name] = vals[i : i+1 : i+1]
	}
	if s.opts.TLS || c.Request.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	c.Next()
}

// currentUser returns the logged-in user set by requireUser.
func currentUser(c *gin.Context) (*models.User, bool) {
	v, ok := c.Get(ctxUser)
	if !ok {
		return nil, false
	}
	u, ok := v.(*models.User)
	return u, ok
}

// requireUser loads the session's user; a missing, disabled or logged-out
// user is sent to the login page (or gets 401 for non-GET requests).
func (s *Server) requireUser(c *gin.Context) {
	ctx := c.Request.Context()
	uid := s.sessions.GetInt(ctx, sessUserID)
	if uid > 0 {
		u, err := s.clinic.GetUser(ctx, uint(uid))
		switch {
		case err == nil && !u.Disabled && u.SessionEpoch == s.sessions.GetInt(ctx, sessEpoch):
			c.Set(ctxUser, u)
			c.Next()
			return
		case err != nil && !errors.Is(models.Classify(err), models.ErrNotFound):
			s.fail(c, err)
			return
		}
		// The user is gone, disabled or had every session ended: end this one too.
		_ = s.sessions.Destroy(ctx)
	}
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		next := c.Request.URL.RequestURI()
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(next))
	} else {
		s.errorPage(c, http.StatusUnauthorized, "Please log in again", "Your session has ended.")
	}
	c.Abort()
}

// requireAdmin refuses staff.
func (s *Server) requireAdmin(c *gin.Context) {
	u, ok := currentUser(c)
	if !ok || !u.IsAdmin() {
		s.errorPage(c, http.StatusForbidden, "Admins only", "This page is for clinic admins.")
		c.Abort()
		return
	}
	c.Next()
}

// checkCSRF refuses unsafe requests whose form token does not match the
// session's. http.CrossOriginProtection already refuses cross-site requests
// by their Fetch metadata; the token also covers old browsers.
func (s *Server) checkCSRF(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	want := s.sessions.GetString(c.Request.Context(), sessCSRF)
	got := c.PostForm("csrf_token")
	if got == "" {
		got = c.GetHeader("X-CSRF-Token")
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		s.errorPage(c, http.StatusForbidden, "Form expired", "The form was missing its security token or came from another site. Go back, reload the page and try again.")
		c.Abort()
		return
	}
	c.Next()
}

// errorPage renders a plain error page with status.
func (s *Server) errorPage(c *gin.Context, status int, title, detail string) {
	if !hasSession(c) {
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.String(status, "%s\n", title)
		return
	}
	p := s.page(c, title, "", errorData{Status: status, Detail: detail})
	s.html(c, status, "error", p)
}

type errorData struct {
	Status int
	Detail string
}

func (s *Server) notFound(c *gin.Context) {
	// Unknown routes never ran requireUser; show the logged-in chrome anyway.
	if _, ok := currentUser(c); !ok && hasSession(c) {
		if uid := s.sessions.GetInt(c.Request.Context(), sessUserID); uid > 0 {
			if u, err := s.clinic.GetUser(c.Request.Context(), uint(uid)); err == nil && !u.Disabled &&
				u.SessionEpoch == s.sessions.GetInt(c.Request.Context(), sessEpoch) {
				c.Set(ctxUser, u)
			}
		}
	}
	s.errorPage(c, http.StatusNotFound, "Not found", "There is nothing here, or it was removed.")
}

// fail maps a service error onto a page once: not found is 404, a bad state
// change 409, a busy database or a change it rolled back (a deadlock) 503,
// anything else 500 and one log line.
func (s *Server) fail(c *gin.Context, err error) {
	var bt *models.ErrBadTransition
	switch {
	case errors.Is(err, models.ErrNotFound):
		s.notFound(c)
	case errors.As(err, &bt):
		s.errorPage(c, http.StatusConflict, "That change is not possible", capitalize(bt.Error())+".")
	case errors.Is(err, models.ErrConflict):
		s.errorPage(c, http.StatusConflict, "Changed by someone else", "Reload the page and try again.")
	case errors.Is(err, models.ErrUnavailable), models.Retryable(err):
		// Retryable: a deadlock or serialization failure rolled the
		// change back whole, and sending it again succeeds.
		s.log.WarnContext(c.Request.Context(), "database unavailable or change rolled back", slog.Any("err", err))
		s.errorPage(c, http.StatusServiceUnavailable, "Busy", "The database is busy. Try again in a moment.")
	default:
		s.log.ErrorContext(c.Request.Context(), "request failed", slog.String("route", c.FullPath()), slog.Any("err", err))
		s.errorPage(c, http.StatusInternalServerError, "Something went wrong", "The error was logged.")
	}
	c.Abort()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
