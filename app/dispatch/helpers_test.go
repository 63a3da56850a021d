package dispatch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	apptevents "apptconfirm/app/events"
	"apptconfirm/app/outbox"

	"github.com/google/uuid"

	"apptconfirm/app/clinic"
	"apptconfirm/app/dispatch"
	"apptconfirm/app/live"
	"apptconfirm/app/smscx"
	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// t0 is the tests' "now": Monday 2 March 2026, 09:00 UTC (10:00 in Paris).
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// webhookURL is the dlrCallbackUrl the tests' dispatchers pass.
const webhookURL = "http://clinic.example/webhooks/smscx/test-secret"

// clock is a settable test clock whose Sleep advances it at once.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	return ctx.Err()
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// events records published live events.
type events struct {
	mu  sync.Mutex
	all []live.Event
}

func (e *events) Publish(ev live.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) statuses(messageID uint) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		if ev.MessageID == messageID {
			out = append(out, ev.Status)
		}
	}
	return out
}

// recorder counts dispatch metrics.
type recorder struct {
	mu       sync.Mutex
	statuses map[string]int
	observed int
}

func (r *recorder) MessageSent(status string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.statuses == nil {
		r.statuses = map[string]int{}
	}
	r.statuses[status]++
}

func (r *recorder) ObserveDispatch(time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observed++
}

// env is a database with a location in Paris (quiet hours 21:00-08:00), a
// reminder rule and the fake SMS.CX gateway over real HTTP.
type env struct {
	store  *models.Store
	clk    *clock
	fake   *smscxtest.Server
	http   *httptest.Server
	client *smscx.Client
	clinic *clinic.Service
	ob     *outbox.Outbox
	events *events
	rec    *recorder
	loc    *models.Location
	rule   *models.ReminderRule
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvOn(t, storetest.SQLite(t))
}

func newEnvOn(t testing.TB, store *models.Store) *env {
	t.Helper()
	e := &env{store: store, clk: &clock{t: t0}, events: &events{}, rec: &recorder{}}
	e.fake = smscxtest.NewServer(smscxtest.Options{NoAutoDLR: true})
	e.http = httptest.NewServer(e.fake)
	t.Cleanup(func() {
		e.http.Close()
		e.fake.Close()
	})
	e.client = e.newClient(t, smscxtest.DefaultAPIKey, 5*time.Second)
	storetest.EventsOf(store).Forward(apptevents.New(apptevents.Options{Live: e.events, Now: e.clk.Now}))
	e.ob = outbox.New(store, outbox.Options{Now: e.clk.Now})
	e.clinic = clinic.New(store, clinic.Options{Planner: e.ob, Now: e.clk.Now})
	ctx := context.Background()
	e.loc = &models.Location{Name: "Main St", TimeZone: "Europe/Paris", Country: "FR", Phone: "+33142685300", QuietStart: "21:00", QuietEnd: "08:00", IsDefault: true}
	if err := store.DB(ctx).Create(e.loc).Error; err != nil {
		t.Fatal(err)
	}
	e.rule = &models.ReminderRule{Name: "48h", BeforeSeconds: 48 * 3600, Enabled: true}
	if err := store.DB(ctx).Create(e.rule).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddRuleTemplate(ctx, e.rule.ID, "en", "Hi {first_name}, see you {weekday} at {time} at {location}.", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) newClient(t testing.TB, apiKey string, timeout time.Duration) *smscx.Client {
	t.Helper()
	c, err := smscx.New(smscx.Config{BaseURL: e.http.URL, APIKey: apiKey, HTTPClient: &http.Client{Timeout: timeout}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// options are the tests' dispatcher options: the fake clock, no real sleeps,
// a fixed jitter.
func (e *env) options() dispatch.Options {
	return dispatch.Options{
		Sender: e.client, From: "Clinic", CallbackURL: webhookURL,
		Concurrency: 4, BatchSize: 50, MaxAttempts: 3, Lease: time.Minute,
		BackoffBase: 10 * time.Second, BackoffMax: 40 * time.Second, SendTimeout: 5 * time.Second,
		OptOut: e.clinic, Metrics: e.rec,
		Now: e.clk.Now, Sleep: e.clk.Sleep, Rand: func() float64 { return 0.5 },
	}
}

func (e *env) dispatcher(t testing.TB, edit func(*dispatch.Options)) *dispatch.Dispatcher {
	t.Helper()
	o := e.options()
	if edit != nil {
		edit(&o)
	}
	d, err := dispatch.New(e.store, e.ob, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *env) patient(t testing.TB, first, phone string) *models.Patient {
	t.Helper()
	p := &models.Patient{FirstName: first, LastName: "Test", Phone: phone, Language: "en"}
	if err := e.store.DB(context.Background()).Create(p).Error; err != nil {
		t.Fatal(err)
	}
	return p
}

// appointment books one at the location, starting at start, with no planning.
func (e *env) appointment(t testing.TB, p *models.Patient, start time.Time) *models.Appointment {
	t.Helper()
	a := &models.Appointment{PatientID: p.ID, LocationID: e.loc.ID, StartsAt: start, DurationMinutes: 30, Status: models.Scheduled, CreatedAt: t0, UpdatedAt: t0}
	if err := e.store.DB(context.Background()).Create(a).Error; err != nil {
		t.Fatal(err)
	}
	return a
}

// reminder plans the rule's reminder for a, due now, with an empty body.
func (e *env) reminder(t testing.TB, a *models.Appointment, p *models.Patient) *models.Message {
	t.Helper()
	return e.message(t, models.Message{
		AppointmentID: &a.ID, PatientID: &p.ID, RuleID: &e.rule.ID, RuleName: e.rule.Name,
		Kind: models.KindReminder, To: p.Phone,
	})
}

// message inserts m as planned and due now, filling what is missing.
func (e *env) message(t testing.TB, m models.Message) *models.Message {
	t.Helper()
	if m.UUID == "" {
		m.UUID = uuid.NewString()
	}
	if m.Status == "" {
		m.Status = models.MsgPlanned
	}
	if m.SendAt.IsZero() {
		m.SendAt = e.clk.Now()
	}
	if m.Kind == "" {
		m.Kind = models.KindManual
	}
	m.CreatedAt, m.UpdatedAt = t0, t0
	if err := e.store.DB(context.Background()).Create(&m).Error; err != nil {
		t.Fatal(err)
	}
	return &m
}

func (e *env) reload(t testing.TB, id uint) *models.Message {
	t.Helper()
	var m models.Message
	if err := e.store.DB(context.Background()).First(&m, id).Error; err != nil {
		t.Fatal(err)
	}
	return &m
}

// sendRequests counts the POST /sms requests the fake received.
func (e *env) sendRequests() int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Path == "/sms" {
			n++
		}
	}
	return n
}

func (e *env) timeline(t testing.TB, appointmentID uint) []models.TimelineEntry {
	t.Helper()
	var es []models.TimelineEntry
	if err := e.store.DB(context.Background()).Where("appointment_id = ?", appointmentID).Order("id").Find(&es).Error; err != nil {
		t.Fatal(err)
	}
	return es
}

func runOnce(t testing.TB, d *dispatch.Dispatcher) int {
	t.Helper()
	n, err := d.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}
