package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// The login form's CSRF protection stores nothing on the server, so that
// an anonymous visitor costs no session row: a signed double-submit
// cookie. The browser gets a random value in a cookie of its own; the form
// carries the HMAC of that value under the server's key. A POST is
// accepted when the form's token is the HMAC of the cookie it came with. A
// page on another site can neither read the cookie nor compute the HMAC,
// and a cookie planted by a neighbouring subdomain (cookie tossing) is
// useless without the key; over HTTPS the cookie also gets the __Host-
// prefix, which browsers refuse to let a subdomain set at all.
// http.CrossOriginProtection checks the request's origin first anyway.

// loginCSRFLifetime is how long a login form stays usable.
const loginCSRFLifetime = 12 * time.Hour

// loginCSRF issues and checks the login form's token.
type loginCSRF struct {
	key    []byte
	secure bool
}

// cookieName is the cookie's name; __Host- needs Secure.
func (l *loginCSRF) cookieName() string {
	if l.secure {
		return "__Host-login_csrf"
	}
	return "login_csrf"
}

// token is the form token of a cookie value.
func (l *loginCSRF) token(cookie string) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte("apptconfirm login form\x00"))
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// issue returns the token for the login form, setting the cookie it goes
// with when the browser has none yet (or a malformed one).
func (l *loginCSRF) issue(c *gin.Context) string {
	if v, err := c.Cookie(l.cookieName()); err == nil && wellFormedCookie(v) {
		return l.token(v)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(c.Writer, &http.Cookie{
		Name: l.cookieName(), Value: v, Path: "/",
		MaxAge: int(loginCSRFLifetime.Seconds()), HttpOnly: true, Secure: l.secure, SameSite: http.SameSiteLaxMode,
	})
	return l.token(v)
}

// valid reports whether the request's form token matches its cookie.
func (l *loginCSRF) valid(c *gin.Context) bool {
	v, err := c.Cookie(l.cookieName())
	if err != nil || !wellFormedCookie(v) {
		return false
	}
	got := c.PostForm("csrf_token")
	return subtle.ConstantTimeCompare([]byte(got), []byte(l.token(v))) == 1
}

// wellFormedCookie reports whether v looks like a value issue made: 43
// base64url characters.
func wellFormedCookie(v string) bool {
	if len(v) != 43 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// checkLoginCSRF refuses a login POST whose form token does not match its
// cookie.
func (s *Server) checkLoginCSRF(c *gin.Context) {
	if !s.loginCSRF.valid(c) {
		s.errorPage(c, http.StatusForbidden, "Form expired", "The login form was missing its security token or came from another site. Reload the page and try again.")
		c.Abort()
		return
	}
	c.Next()
}
