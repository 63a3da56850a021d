package web

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/auth"
	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

type loginData struct {
	Email string
	Next  string
	Error string
}

// loginPage renders the login form with its CSRF token, which lives in a
// cookie of its own, not in a session: an anonymous visitor costs no
// session row.
func (s *Server) loginPage(c *gin.Context, status int, d loginData) {
	p := s.page(c, "Log in", "", d)
	p.CSRF = s.loginCSRF.issue(c)
	s.html(c, status, "login", p)
}

func (s *Server) loginForm(c *gin.Context) {
	if uid := s.sessions.GetInt(c.Request.Context(), sessUserID); uid > 0 {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	s.loginPage(c, http.StatusOK, loginData{Next: auth.SafeNext(c.Query("next"))})
}

// login checks a login. The attempt is counted against the account and
// the client address before the password is checked (so that attempts sent
// at once cannot all slip under the limit), and the check costs exactly
// one bcrypt comparison at the same cost whether or not the account
// exists, is disabled, or the password is too long: neither the answer nor
// its timing tells whether an account exists. Every attempt is logged and
// audited, the e-mail masked.
func (s *Server) login(c *gin.Context) {
	ctx := c.Request.Context()
	raw := strings.TrimSpace(c.PostForm("email"))
	email := auth.NormalizeEmail(raw)
	password := c.PostForm("password")
	next := auth.SafeNext(c.PostForm("next"))
	addr := c.ClientIP()
	data := loginData{Email: email, Next: next}
	logAttrs := []any{slog.String("email", clinic.MaskEmail(email)), slog.String("client", addr)}

	res, ok, wait := s.limiter.Reserve(email, addr)
	if !ok {
		s.log.WarnContext(ctx, "login refused: too many failed attempts", logAttrs...)
		data.Error = "Too many failed attempts. Try again in " + waitWords(wait) + "."
		c.Header("Retry-After", retryAfter(wait))
		s.loginPage(c, http.StatusTooManyRequests, data)
		return
	}
	var u *models.User
	if len(raw) <= auth.MaxEmailBytes {
		// A longer e-mail belongs to no account; it is not looked up.
		var err error
		u, err = s.clinic.GetUserByEmail(ctx, email)
		if err != nil && !isNotFound(err) {
			s.fail(c, err)
			return
		}
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	good := s.hasher.Check(hash, password)
	reason := ""
	switch {
	case u == nil:
		reason = "unknown account"
	case !good:
		reason = "wrong password"
	case u.Disabled:
		reason = "account disabled"
	}
	if reason != "" {
		res.Fail()
		if u != nil {
			logAttrs = append(logAttrs, slog.Uint64("user_id", uint64(u.ID)))
		}
		s.log.InfoContext(ctx, "login failed", append(logAttrs, slog.String("reason", reason))...)
		s.recordLogin(c, clinic.LoginAttempt{User: u, Email: email, Client: addr, Reason: reason})
		data.Error = "Wrong email or password."
		s.loginPage(c, http.StatusUnauthorized, data)
		return
	}
	res.Succeed()
	// A new session id at login defeats session fixation; the session row
	// is written now, not before.
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.fail(c, err)
		return
	}
	s.sessions.Put(ctx, sessUserID, int(u.ID))
	s.sessions.Put(ctx, sessEpoch, u.SessionEpoch)
	s.sessions.Put(ctx, sessCSRF, randomToken())
	s.log.InfoContext(ctx, "login", append(logAttrs, slog.Uint64("user_id", uint64(u.ID)))...)
	s.recordLogin(c, clinic.LoginAttempt{User: u, Email: email, Client: addr, OK: true})
	c.Redirect(http.StatusSeeOther, next)
}

// recordLogin audits a login attempt. The login's answer does not wait on
// the audit: a failure to write it is logged.
func (s *Server) recordLogin(c *gin.Context, a clinic.LoginAttempt) {
	if err := s.clinic.RecordLogin(c.Request.Context(), a); err != nil {
		s.log.ErrorContext(c.Request.Context(), "login not audited", slog.Any("err", err))
	}
}

func (s *Server) logout(c *gin.Context) {
	ctx := c.Request.Context()
	token := s.sessions.Token(ctx)
	if err := s.sessions.Destroy(ctx); err != nil {
		s.fail(c, err)
		return
	}
	// The live streams this session opened end with it.
	s.streams.endSession(token)
	c.Redirect(http.StatusSeeOther, "/login")
}

func isNotFound(err error) bool { return errors.Is(models.Classify(err), models.ErrNotFound) }

// waitWords says how long a wait lasts, for people: "15 minutes",
// "1 minute", "40 seconds".
func waitWords(d time.Duration) string {
	if d < time.Minute {
		n := max(1, int(math.Ceil(d.Seconds())))
		if n == 1 {
			return "1 second"
		}
		return strconv.Itoa(n) + " seconds"
	}
	n := int(math.Ceil(d.Minutes()))
	if n == 1 {
		return "1 minute"
	}
	return strconv.Itoa(n) + " minutes"
}

// retryAfter renders a wait as whole seconds, at least one.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
