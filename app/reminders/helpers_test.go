package reminders_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/events"
	"apptconfirm/app/live"
	"apptconfirm/app/outbox"
	"apptconfirm/app/reminders"
	"apptconfirm/app/schedule"
	"apptconfirm/app/wording"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// t0 is the tests' "now": Monday 2 March 2026, 09:00 UTC (10:00 in Paris).
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var paris = mustZone("Europe/Paris")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

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

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// liveEvents records published live events.
type liveEvents struct {
	mu  sync.Mutex
	all []live.Event
}

func (e *liveEvents) Publish(ev live.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

// env is a clinic with the outbox as its planner and the rule editor, on a
// fresh SQLite file: a default location in Paris with quiet hours
// 21:00-08:00 and the default rules (48h; 2h only if unconfirmed). The
// committed transactions' live events and dispatcher kicks are counted.
type env struct {
	store  *models.Store
	clk    *clock
	clinic *clinic.Service
	ob     *outbox.Outbox
	rem    *reminders.Service
	events *liveEvents
	kicks  atomic.Int32
	loc    *models.Location
	staff  models.Actor
}

// Kick counts the dispatcher kicks.
func (e *env) Kick() { e.kicks.Add(1) }

func newEnv(t *testing.T, opts outbox.Options) *env {
	t.Helper()
	return newEnvOn(t, storetest.SQLite(t), opts)
}

func newEnvOn(t *testing.T, store *models.Store, opts outbox.Options) *env {
	t.Helper()
	e := &env{store: store, clk: &clock{t: t0}, events: &liveEvents{}}
	storetest.EventsOf(store).Forward(events.New(events.Options{Live: e.events, Kick: e, Now: e.clk.Now}))
	opts.Now = e.clk.Now
	e.ob = outbox.New(store, opts)
	e.rem = reminders.New(store, reminders.Options{Planner: e.ob, Texts: wording.New(store, e.ob, e.clk.Now), Now: e.clk.Now})
	e.clinic = clinic.New(store, clinic.Options{Planner: e.ob, Now: e.clk.Now})
	uid := uint(1)
	e.staff = models.Actor{UserID: &uid, Name: "alice@example.com"}
	ctx := context.Background()
	err := e.clinic.EnsureDefaults(ctx, clinic.Defaults{
		ClinicName: "Main St", Timezone: "Europe/Paris", Country: "FR", Phone: "+33142685300",
		QuietStart: "21:00", QuietEnd: "08:00",
	})
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if e.loc, err = e.clinic.DefaultLocation(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

func defaultOptions() outbox.Options {
	return outbox.Options{Caps: schedule.DefaultCaps(), CancellationNotice: true}
}

func (e *env) patient(t *testing.T, first, phone string) *models.Patient {
	t.Helper()
	p, err := e.clinic.CreatePatient(context.Background(), e.staff, clinic.PatientInput{FirstName: first, LastName: "Test", Phone: phone}, "")
	if err != nil {
		t.Fatalf("create patient: %v", err)
	}
	return p
}

// book books an appointment at the default location at a Paris local time.
func (e *env) book(t *testing.T, patientID uint, local string) *models.Appointment {
	t.Helper()
	a, err := e.clinic.CreateAppointment(context.Background(), e.staff, clinic.AppointmentInput{
		PatientID: patientID, StartsLocal: local, DurationMinutes: 30,
	})
	if err != nil {
		t.Fatalf("book %s: %v", local, err)
	}
	return a
}

// rule returns the rule named name.
func (e *env) rule(t *testing.T, name string) *models.ReminderRule {
	t.Helper()
	var r models.ReminderRule
	if err := e.store.DB(context.Background()).Where("name = ?", name).Take(&r).Error; err != nil {
		t.Fatalf("rule %q: %v", name, err)
	}
	return &r
}

// messages returns an appointment's messages by id.
func (e *env) messages(t *testing.T, appointmentID uint) []models.Message {
	t.Helper()
	var ms []models.Message
	if err := e.store.DB(context.Background()).Where("appointment_id = ?", appointmentID).Order("id").Find(&ms).Error; err != nil {
		t.Fatal(err)
	}
	return ms
}

// live returns the planned or sending messages of an appointment by rule name
// (and by kind for non-reminders), failing on a duplicate.
func (e *env) live(t *testing.T, appointmentID uint) map[string]models.Message {
	t.Helper()
	out := map[string]models.Message{}
	for _, m := range e.messages(t, appointmentID) {
		if !m.Status.Pending() {
			continue
		}
		key := m.RuleName
		if m.Kind != models.KindReminder {
			key = m.Kind
		}
		if _, dup := out[key]; dup {
			t.Fatalf("two live messages for %q on appointment %d", key, appointmentID)
		}
		out[key] = m
	}
	return out
}

// local is a Paris wall-clock instant.
func local(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, paris).UTC()
}

// checkNoStale fails when a planned message survives for an inactive
// appointment, an opted-out patient or a disabled rule.
func (e *env) checkNoStale(t *testing.T) {
	t.Helper()
	var ms []models.Message
	if err := e.store.DB(context.Background()).Where("status = ?", models.MsgPlanned).Find(&ms).Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.AppointmentID == nil {
			continue
		}
		var a models.Appointment
		var p models.Patient
		e.store.DB(context.Background()).First(&a, *m.AppointmentID)
		e.store.DB(context.Background()).First(&p, a.PatientID)
		switch {
		case p.OptedOut():
			t.Errorf("message %d planned for opted-out patient %d", m.ID, p.ID)
		case !a.Status.Active() && m.Kind != models.KindCancellation:
			t.Errorf("message %d planned for %s appointment %d", m.ID, a.Status, a.ID)
		case m.RuleID != nil:
			var r models.ReminderRule
			e.store.DB(context.Background()).First(&r, *m.RuleID)
			if !r.Enabled {
				t.Errorf("message %d planned for disabled rule %q", m.ID, r.Name)
			}
		}
	}
}
