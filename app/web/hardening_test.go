package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/auth"
	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// The attack of the report: a login page opened with a next that a browser
// turns into another site (a tab it drops, a backslash it reads as a
// slash), then a good login. The redirect stays a path on this site.
func TestLoginRedirectStaysOnSite(t *testing.T) {
	a := newTestApp(t)
	a.addUser("ann@example.com", models.RoleStaff)
	for _, tc := range []struct {
		name, query string
		want        string
	}{
		{"tab", "/%09/evil.example", "/"},
		{"encoded tab twice", "/%2509/evil.example", "/"},
		{"newline", "/%0A/evil.example", "/"},
		{"backslash", "/%5Cevil.example", "/"},
		{"protocol-relative", "//evil.example/", "/"},
		{"scheme", "https://evil.example/", "/"},
		{"javascript", "javascript:alert(1)", "/"},
		{"a page of the site", "/appointments?status=scheduled", "/appointments?status=scheduled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := a.browser()
			status, body := b.get("/login?next=" + url.QueryEscape(mustUnescape(t, tc.query)))
			if status != http.StatusOK {
				t.Fatalf("login page: %d", status)
			}
			m := nextRE.FindStringSubmatch(body)
			if m == nil {
				t.Fatal("no next field on the login page")
			}
			next := htmlUnescape(m[1])
			resp, _ := b.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"password123"}, "next": {next}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d", resp.StatusCode)
			}
			loc := resp.Header.Get("Location")
			if loc != tc.want {
				t.Fatalf("Location %q, want %q", loc, tc.want)
			}
			assertSameSitePath(t, loc)
			// The raw value posted straight to the handler fares no better.
			b2 := a.browser()
			b2.get("/login")
			resp, _ = b2.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"password123"}, "next": {mustUnescape(t, tc.query)}})
			if got := resp.Header.Get("Location"); got != tc.want {
				t.Fatalf("posted next %q: Location %q, want %q", tc.query, got, tc.want)
			}
		})
	}
}

var nextRE = regexp.MustCompile(`name="next" value="([^"]*)"`)

func htmlUnescape(s string) string { return html.UnescapeString(s) }

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	u, err := url.PathUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// assertSameSitePath fails unless loc is a path of this site whatever a
// browser does to it: one leading slash, no host, no control character, no
// backslash.
func assertSameSitePath(t *testing.T, loc string) {
	t.Helper()
	clean := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, loc)
	clean = strings.ReplaceAll(clean, `\`, "/")
	u, err := url.Parse(clean)
	if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") {
		t.Fatalf("Location %q leaves the site (%q as a browser reads it)", loc, clean)
	}
}

// The report's attack: 20 wrong passwords for one account at once, over
// real HTTP, from 20 addresses. At most the account's limit (5) reach the
// password check and get 401; the rest get 429.
func TestParallelLoginsHitTheLimit(t *testing.T) {
	a := newTestApp(t)
	a.addUser("victim@example.com", models.RoleStaff)
	b := a.browser()
	b.get("/login")
	const n = 20
	var unauthorized, limited, other atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			form := url.Values{"email": {"victim@example.com"}, "password": {fmt.Sprintf("guess-%02d", i)}, "csrf_token": {b.csrf}}
			req, _ := http.NewRequest(http.MethodPost, a.http.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1)) // the test server's proxy is trusted
			resp, err := b.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusUnauthorized:
				unauthorized.Add(1)
			case http.StatusTooManyRequests:
				limited.Add(1)
			default:
				other.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if unauthorized.Load() != 5 || limited.Load() != n-5 || other.Load() != 0 {
		t.Fatalf("%d answered 401, %d 429, %d otherwise; want 5, %d, 0", unauthorized.Load(), limited.Load(), other.Load(), n-5)
	}
	// The right password is refused too until the window passes.
	resp, _ := b.post("/login", url.Values{"email": {"victim@example.com"}, "password": {"password123"}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password after the burst: %d, want 429", resp.StatusCode)
	}
}

// countingChecker counts password checks and remembers what each compared.
type countingChecker struct {
	inner PasswordChecker
	mu    sync.Mutex
	calls []checkCall
}

type checkCall struct {
	hash  string
	pwLen int
}

func (c *countingChecker) Check(hash, pw string) bool {
	c.mu.Lock()
	c.calls = append(c.calls, checkCall{hash, len(pw)})
	c.mu.Unlock()
	return c.inner.Check(hash, pw)
}

func (c *countingChecker) take() []checkCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

// Every way a login can fail costs exactly one password check, which
// (auth.Hasher.Check, tested in app/auth) is one bcrypt comparison at the
// same cost: an unknown account, a disabled one, a wrong password, a
// password over bcrypt's 72 bytes, an e-mail over 254 bytes. A success too.
func TestLoginCostsOneCheckEveryWay(t *testing.T) {
	checker := &countingChecker{inner: testHasher}
	a := newTestApp(t, withDeps(func(_ *testApp, d *Deps) { d.Hasher = checker }))
	u := a.addUser("dora@example.com", models.RoleStaff)
	off := a.addUser("ed@example.com", models.RoleStaff)
	if err := a.store.DB(context.Background()).Model(off).Update("disabled", true).Error; err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("p", 100)
	for _, tc := range []struct {
		name, email, password string
		status                int
		hash                  string // "" for the stand-in
	}{
		{"unknown account", "nobody@example.com", "password123", http.StatusUnauthorized, ""},
		{"wrong password", "dora@example.com", "password124", http.StatusUnauthorized, u.PasswordHash},
		{"disabled account, right password", "ed@example.com", "password123", http.StatusUnauthorized, off.PasswordHash},
		{"password over 72 bytes", "dora@example.com", long, http.StatusUnauthorized, u.PasswordHash},
		{"unknown account, password over 72 bytes", "nobody@example.com", long, http.StatusUnauthorized, ""},
		{"e-mail over 254 bytes", strings.Repeat("d", 300) + "@example.com", "password123", http.StatusUnauthorized, ""},
		{"good login", "dora@example.com", "password123", http.StatusSeeOther, u.PasswordHash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := a.browser()
			b.get("/login")
			checker.take()
			resp, _ := b.post("/login", url.Values{"email": {tc.email}, "password": {tc.password}})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			calls := checker.take()
			if len(calls) != 1 {
				t.Fatalf("%d password checks, want exactly 1", len(calls))
			}
			if calls[0].hash != tc.hash || calls[0].pwLen != len(tc.password) {
				t.Fatalf("checked against %q with %d bytes; want %q with %d", calls[0].hash, calls[0].pwLen, tc.hash, len(tc.password))
			}
		})
	}
}

// An anonymous visitor writes nothing: 80 GETs of the login page, the 404
// page, pages that send to the login page, and a failed login leave the
// sessions table empty; the first row is written by a good login.
func TestAnonymousPagesWriteNoSession(t *testing.T) {
	a := newTestApp(t)
	a.addUser("fay@example.com", models.RoleStaff)
	paths := []string{"/login", "/no-such-page", "/", "/patients", "/admin", "/login?next=/appointments", "/static/app.css", "/favicon.ico"}
	for i := range 80 {
		b := a.browser() // a new visitor each time, as a crawler is
		status, _ := b.get(paths[i%len(paths)])
		if status >= 500 {
			t.Fatalf("GET %s: %d", paths[i%len(paths)], status)
		}
	}
	b := a.browser()
	b.get("/login")
	if resp, _ := b.post("/login", url.Values{"email": {"fay@example.com"}, "password": {"not-it-at-all"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("failed login: %d", resp.StatusCode)
	}
	if n := a.count(&models.Session{}); n != 0 {
		t.Fatalf("%d session rows after anonymous visits, want 0", n)
	}
	// The login form works from its cookie alone, and a good login writes
	// the first row.
	if resp, _ := b.post("/login", url.Values{"email": {"fay@example.com"}, "password": {"password123"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	if n := a.count(&models.Session{}); n != 1 {
		t.Fatalf("%d session rows after one login, want 1", n)
	}
}

// The login form's token is bound to the cookie it came with: without the
// cookie, with another visitor's token, or with a forged cookie it is
// refused.
func TestLoginFormCSRF(t *testing.T) {
	a := newTestApp(t)
	a.addUser("gus@example.com", models.RoleStaff)
	good := url.Values{"email": {"gus@example.com"}, "password": {"password123"}}

	b := a.browser()
	b.get("/login")
	other := a.browser()
	other.get("/login")
	if b.csrf == other.csrf {
		t.Fatal("two visitors got the same token")
	}

	t.Run("another visitor's token", func(t *testing.T) {
		form := url.Values{"csrf_token": {other.csrf}}
		for k, v := range good {
			form[k] = v
		}
		if resp, _ := b.post("/login", form); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("no cookie", func(t *testing.T) {
		fresh := a.browser()
		fresh.csrf = b.csrf
		if resp, _ := fresh.post("/login", good); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("a planted cookie and a made-up token", func(t *testing.T) {
		fresh := a.browser()
		u, _ := url.Parse(a.http.URL)
		fresh.client.Jar.SetCookies(u, []*http.Cookie{{Name: "login_csrf", Value: strings.Repeat("A", 43), Path: "/"}})
		fresh.csrf = strings.Repeat("A", 43)
		if resp, _ := fresh.post("/login", good); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("its own token", func(t *testing.T) {
		if resp, _ := b.post("/login", good); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", resp.StatusCode)
		}
	})
}

// Page bodies are capped at 1 MB: an oversized form is answered 413 and
// changes nothing, logged in or not. A route given more with setBodyLimit
// takes more, and no more than that.
func TestPageBodiesCapped(t *testing.T) {
	a := newTestApp(t)
	a.addLocation("Main", "UTC", "US")
	b := a.loggedIn("hal@example.com", models.RoleStaff)
	big := strings.Repeat("x", DefaultMaxFormBytes+1)

	resp, _ := b.post("/patients", url.Values{"first_name": {"Ida"}, "phone": {"+12025550143"}, "notes": {big}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized patient form: %d, want 413", resp.StatusCode)
	}
	if n := a.count(&models.Patient{}); n != 0 {
		t.Fatalf("%d patients after the refused form", n)
	}
	// Without a Content-Length (chunked), the cap holds as it is read.
	req, _ := http.NewRequest(http.MethodPost, a.http.URL+"/patients",
		struct{ *strings.Reader }{strings.NewReader(url.Values{"csrf_token": {b.csrf}, "first_name": {big}}.Encode())})
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
		t.Fatalf("chunked oversized form: %d (length %d), want 413", resp.StatusCode, req.ContentLength)
	}
	anon := a.browser()
	anon.get("/login")
	if resp, _ := anon.post("/login", url.Values{"email": {big}, "password": {"x"}}); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized login: %d, want 413", resp.StatusCode)
	}

	// An upload route of 3 MB.
	const upload = 3 << 20
	a.server.setBodyLimit(http.MethodPost, "/test-upload", upload)
	a.server.engine.POST("/test-upload", a.server.capBody, a.server.session, a.server.requireUser, a.server.checkCSRF, func(c *gin.Context) {
		c.String(http.StatusOK, "%d", len(c.PostForm("file")))
	})
	for _, tc := range []struct {
		size int
		want int
	}{{2 << 20, http.StatusOK}, {upload + 1, http.StatusRequestEntityTooLarge}} {
		resp, body := b.post("/test-upload", url.Values{"file": {strings.Repeat("y", tc.size)}})
		if resp.StatusCode != tc.want {
			t.Fatalf("upload of %d bytes: %d, want %d", tc.size, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusOK && body != fmt.Sprint(tc.size) {
			t.Fatalf("upload read %s bytes, want %d", body, tc.size)
		}
	}
}

// Every login is logged and audited: failures with why, the e-mail masked
// in both, never the password.
func TestLoginsLoggedAndAudited(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	a := newTestApp(t, withDeps(func(_ *testApp, d *Deps) {
		d.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}))
	u := a.addUser("ivy.long@example.com", models.RoleStaff)
	b := a.browser()
	b.get("/login")
	for _, f := range []url.Values{
		{"email": {"stranger@example.com"}, "password": {"secret-guess-1"}},
		{"email": {"ivy.long@example.com"}, "password": {"secret-guess-2"}},
		{"email": {"ivy.long@example.com"}, "password": {"password123"}},
	} {
		b.post("/login", f)
	}
	es, _, err := a.clinic.Audit(context.Background(), clinic.AuditQuery{Entity: clinic.EntityUser})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		got = append(got, fmt.Sprintf("%s %d %s: %s", e.Action, e.EntityID, e.Actor, e.Detail))
	}
	want := []string{
		"user.login_failed 0 login form: failed login (unknown account) as st…@example.com from 127.0.0.1",
		fmt.Sprintf("user.login_failed %d login form: failed login (wrong password) as iv…@example.com from 127.0.0.1", u.ID),
		fmt.Sprintf("user.login %d ivy.long@example.com: logged in from 127.0.0.1", u.ID),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	for _, s := range []string{`msg="login failed"`, "reason=\"unknown account\"", "reason=\"wrong password\"", `msg=login`, "email=iv…@example.com"} {
		if !strings.Contains(out, s) {
			t.Errorf("logs lack %q:\n%s", s, out)
		}
	}
	for _, s := range []string{"stranger@", "ivy.long@", "secret-guess", "password123"} {
		if strings.Contains(out, s) {
			t.Errorf("logs show %q:\n%s", s, out)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// An admin sees that a user's login is locked and unlocks it; the user
// logs in at once, and the audit log says who unlocked it.
func TestAdminUnlocksALockedLogin(t *testing.T) {
	a := newTestApp(t)
	u := a.addUser("jo@example.com", models.RoleStaff)
	admin := a.loggedIn("boss@example.com", models.RoleAdmin)
	edit := fmt.Sprintf("/admin/users/%d/edit", u.ID)
	if _, body := admin.get(edit); strings.Contains(body, "Login locked") {
		t.Fatal("an account with no failures shows as locked")
	}
	jo := a.browser()
	jo.get("/login")
	for range 5 {
		jo.post("/login", url.Values{"email": {"jo@example.com"}, "password": {"wrong-one"}})
	}
	if resp, _ := jo.post("/login", url.Values{"email": {"jo@example.com"}, "password": {"password123"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("locked login: %d", resp.StatusCode)
	}
	status, body := admin.get(edit)
	expectPage(t, "the user's page", status, body, http.StatusOK, "Login locked", "/admin/users/"+fmt.Sprint(u.ID)+"/unlock", "Unlock")
	resp, _ := admin.post(fmt.Sprintf("/admin/users/%d/unlock", u.ID), nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlock: %d", resp.StatusCode)
	}
	_, body = admin.get(edit)
	expectPage(t, "after unlocking", http.StatusOK, body, http.StatusOK, "is unlocked")
	if strings.Contains(body, "Login locked") {
		t.Fatal("still shown as locked")
	}
	if resp, _ := jo.post("/login", url.Values{"email": {"jo@example.com"}, "password": {"password123"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login after unlock: %d", resp.StatusCode)
	}
	es, _, _ := a.clinic.Audit(context.Background(), clinic.AuditQuery{Entity: clinic.EntityUser, EntityID: u.ID})
	found := false
	for _, e := range es {
		if e.Action == clinic.ActionUnlock && e.Actor == "boss@example.com" {
			found = true
		}
	}
	if !found {
		t.Fatal("no audit row of the unlock")
	}
	// Staff may not unlock.
	staff := a.loggedIn("kim@example.com", models.RoleStaff)
	if resp, _ := staff.post(fmt.Sprintf("/admin/users/%d/unlock", u.ID), nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("staff unlock: %d, want 403", resp.StatusCode)
	}
}

// A stream opened before logout ends at logout.
func TestStreamEndsAtLogout(t *testing.T) {
	a, hub, b := liveApp(t)
	s := openStream(t, b, a.http.URL)
	s.waitFor(": connected")
	waitSubscribers(t, hub, 1)
	if resp, _ := b.post("/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	waitEnd(t, s)
	waitSubscribers(t, hub, 0)
}

// Disabling a user or changing their password ends their streams at once.
func TestStreamEndsWhenTheUsersSessionsEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"disabled", url.Values{"disabled": {"1"}}},
		{"password changed", url.Values{"password": {"a-new-password-1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, hub, b := liveApp(t)
			admin := a.loggedIn("boss@example.com", models.RoleAdmin)
			u, err := a.clinic.GetUserByEmail(context.Background(), "front@example.com")
			if err != nil {
				t.Fatal(err)
			}
			s := openStream(t, b, a.http.URL)
			s.waitFor(": connected")
			adminStream := openStream(t, admin, a.http.URL)
			adminStream.waitFor(": connected")
			waitSubscribers(t, hub, 2)
			form := url.Values{"email": {u.Email}, "name": {u.Name}, "role": {string(u.Role)}}
			for k, v := range tc.form {
				form[k] = v
			}
			if resp, body := admin.post(fmt.Sprintf("/admin/users/%d", u.ID), form); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("update: %d %s", resp.StatusCode, excerpt(body))
			}
			waitEnd(t, s)
			waitSubscribers(t, hub, 1) // the admin's own stream goes on
		})
	}
}

// A session ended elsewhere (another instance logged it out, or disabled
// the user) is noticed at the next heartbeat.
func TestStreamRecheckedOnHeartbeat(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(a *testApp, token string)
	}{
		{"session row deleted", func(a *testApp, token string) {
			if err := a.store.DeleteSession(context.Background(), token); err != nil {
				t.Fatal(err)
			}
		}},
		{"session epoch bumped", func(a *testApp, _ string) {
			if err := a.store.DB(context.Background()).Model(&models.User{}).Where("email = ?", "front@example.com").
				Update("session_epoch", 7).Error; err != nil {
				t.Fatal(err)
			}
		}},
		{"user disabled", func(a *testApp, _ string) {
			if err := a.store.DB(context.Background()).Model(&models.User{}).Where("email = ?", "front@example.com").
				Update("disabled", true).Error; err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, hub, b := liveApp(t)
			a.server.streams.heartbeat = 20 * time.Millisecond
			s := openStream(t, b, a.http.URL)
			s.waitFor(": heartbeat") // alive while the session stands
			waitSubscribers(t, hub, 1)
			tc.end(a, sessionCookie(t, b))
			waitEnd(t, s)
			waitSubscribers(t, hub, 0)
		})
	}
}

// A user holds at most live_streams_per_user streams; one more is 429,
// and closing one makes room. Another user is not affected.
func TestStreamsCappedPerUser(t *testing.T) {
	a, hub, b := liveApp(t)
	a.server.streams.perUser = 2
	first := openStream(t, b, a.http.URL)
	first.waitFor(": connected")
	second := openStream(t, b, a.http.URL)
	second.waitFor(": connected")
	third := openStream(t, b, a.http.URL)
	if third.resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third stream: %d, want 429", third.resp.StatusCode)
	}
	third.close()
	other := a.loggedIn("other@example.com", models.RoleStaff)
	os := openStream(t, other, a.http.URL)
	os.waitFor(": connected")
	waitSubscribers(t, hub, 3)
	first.close()
	waitSubscribers(t, hub, 2)
	deadline := time.Now().Add(5 * time.Second)
	for a.server.streams.count(currentUserID(t, a, "front@example.com")) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the closed stream was not forgotten")
		}
		time.Sleep(5 * time.Millisecond)
	}
	again := openStream(t, b, a.http.URL)
	if again.resp.StatusCode != http.StatusOK {
		t.Fatalf("a stream after closing one: %d", again.resp.StatusCode)
	}
	again.waitFor(": connected")
}

func currentUserID(t *testing.T, a *testApp, email string) uint {
	t.Helper()
	u, err := a.clinic.GetUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// waitEnd reads a stream until it ends.
func waitEnd(t *testing.T, s *stream) {
	t.Helper()
	for {
		if _, ok := s.next(); !ok {
			return
		}
	}
}

func TestWaitWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		15 * time.Minute: "15 minutes", 14*time.Minute + 59*time.Second: "15 minutes", time.Minute: "1 minute",
		61 * time.Second: "2 minutes", 40 * time.Second: "40 seconds", 300 * time.Millisecond: "1 second",
	} {
		if got := waitWords(d); got != want {
			t.Errorf("waitWords(%s) = %q, want %q", d, got, want)
		}
	}
}

// fastChecker stands in for bcrypt in the fuzz test: "password123" opens
// any real account.
type fastChecker struct{}

func (fastChecker) Check(hash, pw string) bool { return hash != "" && pw == "password123" }

// FuzzLoginForm: whatever a login form posts (e-mail, password, next, a
// made-up token), the answer is never a server error, never a redirect off
// the site, and a login without the form's own token never succeeds.
func FuzzLoginForm(f *testing.F) {
	for _, s := range [][4]string{
		{"ann@example.com", "password123", "/appointments", ""},
		{"ann@example.com", "password123", "/\t/evil.example", ""},
		{"ANN@example.com ", "password123", "//evil.example", ""},
		{"ann@example.com", "password123", "/%09/evil.example", "forged"},
		{strings.Repeat("a", 300), "x", "\\\\evil", ""},
		{"\xff@\x00", strings.Repeat("p", 100), "javascript:alert(1)", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	a := newTestApp(f, withDeps(func(_ *testApp, d *Deps) { d.Hasher = fastChecker{} }))
	a.server.limiter = auth.NewLoginLimiter(time.Minute, 1<<30, 1<<30, nil)
	a.addUser("ann@example.com", models.RoleStaff)
	rec := httptest.NewRecorder()
	a.server.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	cookie := rec.Result().Cookies()[0]
	token := csrfRE.FindStringSubmatch(rec.Body.String())[1]
	f.Fuzz(func(t *testing.T, email, password, next, forged string) {
		tok := token
		if forged != "" {
			tok = forged
		}
		body := url.Values{"email": {email}, "password": {password}, "next": {next}, "csrf_token": {tok}}.Encode()
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		a.server.Handler().ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusSeeOther:
			if forged != "" && forged != token {
				t.Fatalf("a forged token logged in")
			}
			assertSameSitePath(t, rec.Header().Get("Location"))
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}
