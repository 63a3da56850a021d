package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"apptconfirm/models"
)

func TestLoginLogout(t *testing.T) {
	a := newTestApp(t)
	a.addUser("alice@example.com", models.RoleStaff)
	b := a.browser()

	// An anonymous visit to a staff page goes to the login page.
	resp, _ := b.post("/logout", nil)
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous POST /logout: %d", resp.StatusCode)
	}
	status, body := b.get("/login")
	if status != 200 || !strings.Contains(body, `name="csrf_token"`) {
		t.Fatalf("login page: %d", status)
	}
	before := sessionCookie(t, b)
	resp, body = b.post("/login", url.Values{"email": {"alice@example.com"}, "password": {"wrong-password"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong email or password") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp, _ = b.post("/login", url.Values{"email": {"Alice@Example.com "}, "password": {"password123"}, "next": {"//evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %d to %q (an off-site next must be ignored)", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A new session id at login, with the cookie flags.
	after := sessionCookie(t, b)
	if after == "" || after == before {
		t.Fatalf("session id not renewed at login (%q -> %q)", before, after)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "apptconfirm_session" && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode) {
			t.Fatalf("session cookie flags: %+v", c)
		}
	}
	b.csrf = ""
	b.get("/login") // logged in: redirected, but the session still has its CSRF token
	var n int64
	a.store.DB(context.Background()).Model(&models.Session{}).Count(&n)
	if n == 0 {
		t.Fatal("no server-side session stored")
	}
	// Logout ends the session on the server.
	b.csrf = csrfFromSession(t, b)
	resp, _ = b.post("/logout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	var s models.Session
	if err := a.store.DB(context.Background()).Where("token = ?", after).Take(&s).Error; err == nil {
		t.Fatal("session row survived logout")
	}
}

// csrfFromSession loads a page that carries the token while logged in.
func csrfFromSession(t *testing.T, b *browser) string {
	t.Helper()
	_, body := b.get("/this-page-does-not-exist")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the 404 page")
	}
	return m[1]
}

func sessionCookie(t *testing.T, b *browser) string {
	t.Helper()
	u, _ := url.Parse(b.app.http.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "apptconfirm_session" {
			return c.Value
		}
	}
	return ""
}

func TestDisabledUserSessionEnds(t *testing.T) {
	a := newTestApp(t)
	u := a.addUser("bob@example.com", models.RoleStaff)
	b := a.browser()
	b.login("bob@example.com")
	if status, _ := b.get("/this-page-does-not-exist"); status != http.StatusNotFound {
		t.Fatalf("logged-in 404 page: %d", status)
	}
	if err := a.store.DB(context.Background()).Model(u).Updates(map[string]any{"disabled": true, "session_epoch": 1}).Error; err != nil {
		t.Fatal(err)
	}
	resp, _ := b.post("/logout", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("disabled user's request: %d, want 401", resp.StatusCode)
	}
}

// The limit holds per account and per address, and a
// forged X-Forwarded-For from an untrusted client does not reset it.
func TestLoginRateLimit(t *testing.T) {
	a := newTestApp(t)
	a.addUser("carol@example.com", models.RoleStaff)
	b := a.browser()
	b.get("/login")
	for i := 0; i < 5; i++ {
		resp, _ := b.post("/login", url.Values{"email": {"carol@example.com"}, "password": {"nope-nope"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	resp, _ := b.post("/login", url.Values{"email": {"carol@example.com"}, "password": {"password123"}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("6th attempt with the right password: %d, want 429 with Retry-After", resp.StatusCode)
	}
}

// With no trusted proxies, a forged X-Forwarded-For does not give an attacker
// a fresh address: the per-address limit still trips.
func TestForgedForwardedForDoesNotResetLimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		limited bool
	}{
		{"no trusted proxy", nil, true},
		{"loopback proxy trusted", []string{"127.0.0.1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestAppWith(t, withTrusted(tc.trusted...))
			b := a.browser()
			b.get("/login")
			for i := 0; i < 20; i++ {
				resp := b.postWithHeader("/login", url.Values{"email": {fmt.Sprintf("u%d@example.com", i)}, "password": {"nope-nope"}},
					"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("attempt %d: %d", i, resp.StatusCode)
				}
			}
			resp := b.postWithHeader("/login", url.Values{"email": {"fresh@example.com"}, "password": {"nope-nope"}}, "X-Forwarded-For", "198.51.100.7")
			if got := resp.StatusCode == http.StatusTooManyRequests; got != tc.limited {
				t.Fatalf("21st attempt from a forged address: %d (limited=%v, want %v)", resp.StatusCode, got, tc.limited)
			}
		})
	}
}

func TestCSRFRefused(t *testing.T) {
	a := newTestApp(t)
	a.addUser("dan@example.com", models.RoleStaff)
	b := a.browser()
	b.get("/login")
	resp, _ := b.post("/login", url.Values{"email": {"dan@example.com"}, "password": {"password123"}, "csrf_token": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login with a forged token: %d, want 403", resp.StatusCode)
	}
	// A cross-site form post is refused by its Fetch metadata even with a token.
	req, _ := http.NewRequest(http.MethodPost, a.http.URL+"/login", strings.NewReader(url.Values{"csrf_token": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	r2, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", r2.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	a := newTestApp(t)
	resp, err := http.Get(a.http.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
		if got := resp.Header.Get(h); got != want {
			t.Fatalf("%s = %q, want %q", h, got, want)
		}
	}
	// Content-hashed assets are cacheable forever.
	u, err := a.server.assets.URL("app.css")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := http.Get(a.http.URL + u)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 200 || !strings.Contains(r2.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("asset %s: %d %q", u, r2.StatusCode, r2.Header.Get("Cache-Control"))
	}
}
