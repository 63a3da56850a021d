package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"apptconfirm/app/analytics"
	"apptconfirm/app/api"
	"apptconfirm/app/auth"
	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/app/events"
	"apptconfirm/app/live"
	"apptconfirm/app/outbox"
	"apptconfirm/app/schedule"
	"apptconfirm/app/stats"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
	"apptconfirm/static"
	"apptconfirm/templates"
)

// testApp is a web UI on a fresh SQLite file, served over real HTTP.
type testApp struct {
	t      testing.TB
	store  *models.Store
	clinic *clinic.Service
	// ob is the outbox; it plans the clinic's messages only in apps made
	// withPlanning.
	ob *outbox.Outbox
	// avail keeps working hours; the clinic checks the booking form with it.
	avail  *availability.Service
	server *Server
	http   *httptest.Server
	now    time.Time
	// live is the hub the committed changes are published to, and kick
	// counts the dispatcher kicks they cause.
	live *live.Hub
	kick *kickCounter
}

// kickCounter counts dispatcher kicks.
type kickCounter struct{ n atomic.Int32 }

// Kick implements events.Kicker.
func (k *kickCounter) Kick() { k.n.Add(1) }

// appOption adjusts a test app before its server is built.
type appOption func(a *testApp, o *appOptions)

// appOptions are what options may set.
type appOptions struct {
	trusted  []string
	planning bool
	clock12h bool
	deps     []func(a *testApp, d *Deps)
}

// withClock12h writes times on a 12-hour clock, as clinic.clock "12h".
func withClock12h() appOption {
	return func(_ *testApp, o *appOptions) { o.clock12h = true }
}

// withTrusted sets the trusted proxies.
func withTrusted(trusted ...string) appOption {
	return func(_ *testApp, o *appOptions) { o.trusted = trusted }
}

// withPlanning makes the outbox the clinic's planner: bookings plan
// reminders.
func withPlanning() appOption {
	return func(_ *testApp, o *appOptions) { o.planning = true }
}

// withDeps adds collaborators to the server (the inbox, the rule editor);
// fn runs once the app's store, outbox and clinic exist.
func withDeps(fn func(a *testApp, d *Deps)) appOption {
	return func(_ *testApp, o *appOptions) { o.deps = append(o.deps, fn) }
}

// testHasher is the real bcrypt hasher at its minimum allowed cost.
var testHasher = auth.NewHasher(10)

func newTestApp(t testing.TB, opts ...appOption) *testApp {
	t.Helper()
	return newTestAppWith(t, append([]appOption{withTrusted("127.0.0.1")}, opts...)...)
}

func newTestAppWith(t testing.TB, opts ...appOption) *testApp {
	t.Helper()
	st := storetest.SQLite(t)
	a := &testApp{t: t, store: st, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), live: live.NewHub(), kick: &kickCounter{}}
	now := func() time.Time { return a.now }
	var o appOptions
	for _, opt := range opts {
		opt(a, &o)
	}
	storetest.EventsOf(st).Forward(events.New(events.Options{Live: a.live, Kick: a.kick, Now: now}))
	a.ob = outbox.New(st, outbox.Options{Caps: schedule.DefaultCaps(), Now: now})
	a.avail = availability.New(st, availability.Options{Now: now})
	co := clinic.Options{Hasher: testHasher, Slots: a.avail, Now: now}
	if o.planning {
		co.Planner = a.ob
	}
	a.clinic = clinic.New(st, co)
	d := Deps{
		Sessions:     auth.NewSessions(st, auth.SessionOptions{Lifetime: time.Hour}),
		Hasher:       testHasher,
		Limiter:      auth.NewLoginLimiter(15*time.Minute, 5, 20, nil),
		Templates:    templates.FS,
		Static:       static.FS,
		Now:          now,
		Clinic:       a.clinic,
		Availability: a.avail,
		Stats:        stats.New(st),
		Analytics:    analytics.New(st, analytics.Options{Now: now}),
		Tokens:       api.NewTokens(st, now),
		Live:         a.live,
	}
	for _, fn := range o.deps {
		fn(a, &d)
	}
	srv, err := New(Options{ClinicName: "Test Clinic", TrustedProxies: o.trusted, Clock12h: o.clock12h}, d)
	if err != nil {
		t.Fatal(err)
	}
	a.server = srv
	a.http = httptest.NewServer(srv.Handler())
	t.Cleanup(a.http.Close)
	return a
}

// addUser creates a user with password "password123".
func (a *testApp) addUser(email string, role models.Role) *models.User {
	a.t.Helper()
	h, err := testHasher.Hash("password123")
	if err != nil {
		a.t.Fatal(err)
	}
	u := &models.User{Email: email, Name: strings.Split(email, "@")[0], PasswordHash: h, Role: role}
	if err := a.store.DB(context.Background()).Create(u).Error; err != nil {
		a.t.Fatal(err)
	}
	return u
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
type browser struct {
	t      testing.TB
	app    *testApp
	client *http.Client
	csrf   string
}

func (a *testApp) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: a.t, app: a, client: &http.Client{
		Timeout:       30 * time.Second, // a page that never ends (an event stream) fails instead of hanging
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches path and remembers the page's CSRF token.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.client.Get(b.app.http.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

// post submits a form with the remembered CSRF token (unless form sets one).
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.app.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// postWithHeader posts a form with one extra header and returns the response (body closed).
func (b *browser) postWithHeader(path string, form url.Values, key, value string) *http.Response {
	b.t.Helper()
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.app.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(key, value)
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// login logs in and fails the test if it does not work.
func (b *browser) login(email string) {
	b.t.Helper()
	b.get("/login")
	resp, body := b.post("/login", url.Values{"email": {email}, "password": {"password123"}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login as %s: status %d: %s", email, resp.StatusCode, body)
	}
}
