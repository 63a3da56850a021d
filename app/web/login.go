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

	"apptconfirm/models"
)

type loginData struct {
	Email string
	Next  string
	Error string
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) loginForm(c *gin.Context) {
	if uid := s.sessions.GetInt(c.Request.Context(), sessUserID); uid > 0 {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	s.html(c, http.StatusOK, "login", s.page(c, "Log in", "", loginData{Next: safeNext(c.Query("next"))}))
}

func (s *Server) login(c *gin.Context) {
	ctx := c.Request.Context()
	email := strings.ToLower(strings.TrimSpace(c.PostForm("email")))
	password := c.PostForm("password")
	next := safeNext(c.PostForm("next"))
	addr := c.ClientIP()
	data := loginData{Email: email, Next: next}
	if ok, wait := s.limiter.Allowed(email, addr); !ok {
		s.log.WarnContext(ctx, "login rate limited", slog.String("client", addr))
		data.Error = "Too many failed attempts. Try again in " + wait.Round(time.Second).String() + "."
		c.Header("Retry-After", retryAfter(wait))
		s.html(c, http.StatusTooManyRequests, "login", s.page(c, "Log in", "", data))
		return
	}
	u, err := s.clinic.GetUserByEmail(ctx, email)
	if err != nil && !isNotFound(err) {
		s.fail(c, err)
		return
	}
	if err != nil || !s.hasher.Check(u.PasswordHash, password) || u.Disabled {
		if err != nil {
			s.hasher.Check("", password) // same cost whether or not the account exists
		}
		s.limiter.Fail(email, addr)
		data.Error = "Wrong email or password."
		s.html(c, http.StatusUnauthorized, "login", s.page(c, "Log in", "", data))
		return
	}
	s.limiter.Succeed(email)
	// A new session id at login defeats session fixation.
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.fail(c, err)
		return
	}
	s.sessions.Put(ctx, sessUserID, int(u.ID))
	s.sessions.Put(ctx, sessEpoch, u.SessionEpoch)
	s.sessions.Put(ctx, sessCSRF, randomToken())
	s.log.InfoContext(ctx, "login", slog.Uint64("user_id", uint64(u.ID)))
	c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) logout(c *gin.Context) {
	if err := s.sessions.Destroy(c.Request.Context()); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/login")
}

func isNotFound(err error) bool { return errors.Is(models.Classify(err), models.ErrNotFound) }

// retryAfter renders a wait as whole seconds, at least one.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
