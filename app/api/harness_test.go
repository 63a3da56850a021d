package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/analytics"
	"apptconfirm/app/api"
	"apptconfirm/app/auth"
	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/app/exports"
	"apptconfirm/app/feeds"
	"apptconfirm/app/imports"
	"apptconfirm/app/metrics"
	"apptconfirm/app/outbound"
	"apptconfirm/app/outbox"
	"apptconfirm/app/reschedule"
	"apptconfirm/app/stats"
	"apptconfirm/app/web"
	"apptconfirm/app/wording"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
	"apptconfirm/static"
	"apptconfirm/templates"
)

// t0 is the tests' "now": Monday 2 March 2026, 09:00 UTC (10:00 in Paris).
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// feedBase is the public URL calendar feeds are given in tests.
const feedBase = "https://clinic.example"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is the whole HTTP stack as the server wires it: the web UI's engine
// and handler with the API and the operations endpoints on it, over a fresh
// SQLite file, served by httptest.
type env struct {
	t     testing.TB
	clock *clock
	store *models.Store
	// dbPath is the store's SQLite file.
	dbPath string
	clinic *clinic.Service
	api    *api.API
	// outbound manages the outbound webhook endpoints.
	outbound *outbound.Service
	metrics  *metrics.Metrics
	web      *web.Server
	srv      *httptest.Server
	// token authenticates as the token named "test".
	token string
	// paris is the default location (Europe/Paris, FR); lyon a second one.
	paris, lyon *models.Location
}

func newEnv(t testing.TB) *env { return newEnvPlanned(t, false) }

// newEnvPlanned is newEnv; with planned, the outbox plans each
// appointment's messages, as in the server.
func newEnvPlanned(t testing.TB, planned bool) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, clock: &clock{t: t0}}
	e.store, e.dbPath = storetest.SQLitePath(t)
	ob := outbox.New(e.store, outbox.Options{Now: e.clock.Now, ClinicName: "Cabinet Dupont"})
	copts := clinic.Options{Now: e.clock.Now}
	if planned {
		copts.Planner = ob
	}
	e.clinic = clinic.New(e.store, copts)
	if err := e.clinic.EnsureDefaults(ctx, clinic.Defaults{ClinicName: "Paris", Timezone: "Europe/Paris", Country: "FR"}); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.paris, err = e.clinic.DefaultLocation(ctx); err != nil {
		t.Fatal(err)
	}
	e.lyon, err = e.clinic.CreateLocation(ctx, models.SystemActor(), clinic.LocationInput{Name: "Lyon", TimeZone: "Europe/Paris", Country: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	e.metrics = metrics.New(metrics.Options{Inbox: metrics.InboxSize(e.store)})
	figures := stats.New(e.store)
	words := wording.New(e.store, ob, e.clock.Now)
	if err := words.EnsureTexts(ctx); err != nil {
		t.Fatal(err)
	}
	e.outbound = outbound.New(e.store, outbound.Options{Now: e.clock.Now})
	avail := availability.New(e.store, availability.Options{Now: e.clock.Now})
	offers := reschedule.New(e.store, e.clinic, ob, avail, reschedule.Options{Now: e.clock.Now})
	e.api = api.New(api.Deps{
		Store: e.store, Clinic: e.clinic, Availability: avail, Stats: figures, Texts: words, Outbound: e.outbound, Offers: offers, Metrics: e.metrics, Now: e.clock.Now,
		Imports: imports.New(e.store, e.clinic).WithSandbox(func(ctx context.Context) (imports.Store, imports.Clinic, func() error, error) {
			// As the server does on SQLite: a large preview on a copy.
			cp, closeCopy, err := e.store.PrivateCopy(ctx, "")
			if err != nil {
				return nil, nil, nil, err
			}
			var planner clinic.Planner
			if planned {
				planner = ob.On(cp)
			}
			return cp, e.clinic.On(cp, planner), closeCopy, nil
		}), MaxImportBytes: 50 << 20,
		Exports:   exports.New(e.store, outbox.Label),
		Feeds:     feeds.New(e.store, feedBase, e.clock.Now),
		Analytics: analytics.New(e.store, analytics.Options{Now: e.clock.Now}),
	})
	e.web, err = web.New(web.Options{ClinicName: "Test", TrustedProxies: []string{"127.0.0.1"}}, web.Deps{
		Sessions:  auth.NewSessions(e.store, auth.SessionOptions{Lifetime: time.Hour}),
		Hasher:    auth.NewHasher(10),
		Limiter:   auth.NewLoginLimiter(time.Minute, 5, 20, nil),
		Templates: templates.FS,
		Static:    static.FS,
		Now:       e.clock.Now,
		Clinic:    e.clinic,
		Stats:     figures,
		Tokens:    e.api.Tokens(),
		API:       e.api,
		Feeds:     feeds.New(e.store, feedBase, e.clock.Now),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.web.Handler())
	t.Cleanup(e.srv.Close)
	if e.token, _, err = e.api.Tokens().Create(ctx, models.SystemActor(), "test"); err != nil {
		t.Fatal(err)
	}
	return e
}

// reqOpt adjusts a request.
type reqOpt func(*http.Request)

// withToken authenticates with tok instead of the test token ("" sends no
// Authorization header).
func withToken(tok string) reqOpt {
	return func(r *http.Request) {
		if tok == "" {
			r.Header.Del("Authorization")
			return
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	}
}

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// resp is an answer with its body read.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, r.body)
	}
	return v
}

// errorField returns the error envelope's code and field (failing the test
// when the body is not one).
func (r resp) errorOf(t testing.TB) (code, field, message string) {
	t.Helper()
	var b api.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("not an error envelope (%v): %s", err, r.body)
	}
	return b.Error.Code, b.Error.Field, b.Error.Message
}

// do sends a request with the test token and a JSON content type (when
// there is a body).
func (e *env) do(method, path, body string, opts ...reqOpt) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// decode sends a request that must answer want and decodes its body into v.
func (e *env) decode(want int, v any, method, path, body string, opts ...reqOpt) resp {
	e.t.Helper()
	r := e.do(method, path, body, opts...)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			e.t.Fatalf("%s %s: decode: %v: %s", method, path, err, r.body)
		}
	}
	return r
}

// patient adds a patient through the clinic service.
func (e *env) patient(first, last, phone string) *models.Patient {
	e.t.Helper()
	p, err := e.clinic.CreatePatient(context.Background(), models.SystemActor(),
		clinic.PatientInput{FirstName: first, LastName: last, Phone: phone}, "FR")
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// appointment books one through the clinic service.
func (e *env) appointment(patientID, locationID uint, start time.Time) *models.Appointment {
	e.t.Helper()
	a, err := e.clinic.CreateAppointment(context.Background(), models.SystemActor(), clinic.AppointmentInput{
		PatientID: patientID, LocationID: locationID, StartsAt: start, DurationMinutes: 30,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// count counts the rows of model.
func (e *env) count(model any) int64 {
	e.t.Helper()
	var n int64
	if err := e.store.DB(context.Background()).Model(model).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// clinicActor is the actor of changes the tests make through the service.
func (e *env) clinicActor() models.Actor { return models.Actor{Name: "test-actor"} }

// with returns a copy of e that reports to t (for fuzz targets and subtests
// that must not touch the parent's testing.TB).
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}
