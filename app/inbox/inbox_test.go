package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/events"
	"apptconfirm/app/inbox"
	"apptconfirm/app/live"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
	"apptconfirm/models/storetest"

	"gorm.io/gorm/logger"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	store  *models.Store
	clinic *clinic.Service
	svc    *inbox.Service
	hub    *live.Hub
	events <-chan live.Event
	staff  models.Actor
	appt   *models.Appointment
	in     *models.InboundMessage
}

func newFixture(t *testing.T, s *models.Store) *fixture {
	t.Helper()
	ctx := t.Context()
	now := func() time.Time { return t0 }
	f := &fixture{store: s, hub: live.NewHub()}
	ob := outbox.New(s, outbox.Options{Now: now})
	f.clinic = clinic.New(s, clinic.Options{Planner: ob, Now: now})
	if err := f.clinic.EnsureDefaults(ctx, clinic.Defaults{Timezone: "Europe/Berlin", Country: "DE"}); err != nil {
		t.Fatal(err)
	}
	f.events = f.hub.Subscribe(ctx)
	f.svc = inbox.New(s, f.clinic, ob, nil, now)
	u := &models.User{Email: "front@example.com", Name: "Front", PasswordHash: "x", Role: models.RoleStaff}
	if err := s.DB(ctx).Create(u).Error; err != nil {
		t.Fatal(err)
	}
	f.staff = models.Actor{UserID: &u.ID, Name: u.Email}
	p, err := f.clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Anna", Phone: "+4915123456789"}, "DE")
	if err != nil {
		t.Fatal(err)
	}
	f.appt, err = f.clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{PatientID: p.ID, StartsAt: t0.Add(48 * time.Hour), DurationMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	f.in = &models.InboundMessage{
		ProviderID: "m-1", From: p.Phone, Text: "can I bring my son?", ReceivedAt: t0, PatientID: &p.ID,
		NeedsAttention: true, Candidates: fmt.Sprint(f.appt.ID), CreatedAt: t0,
	}
	if err := s.DB(ctx).Create(f.in).Error; err != nil {
		t.Fatal(err)
	}
	// The browsers hear of the changes the tests make, not of the set-up.
	storetest.EventsOf(s).Forward(events.New(events.Options{Live: f.hub, Now: now}))
	return f
}

// Two staff members acting on one item at once: exactly one wins.
func TestConcurrentActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					errs[i] = f.svc.Answer(context.Background(), f.staff, f.in.ID, fmt.Sprintf("answer %d", i))
				} else {
					errs[i] = f.svc.MarkHandled(context.Background(), f.staff, f.in.ID, "")
				}
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, inbox.ErrHandled), errors.Is(err, models.ErrConflict), errors.Is(err, models.ErrUnavailable):
			default:
				t.Fatalf("unexpected error %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d actions succeeded, want 1 (%v)", won, errs)
		}
		var n int64
		if err := s.DB(t.Context()).Model(&models.Message{}).Where("kind = ?", models.KindManual).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			t.Fatalf("%d answers sent", n)
		}
	})
}

// An answer about one clear appointment joins its timeline as a staff entry
// tied to the message, and the change is published.
func TestAnswerJoinsTimeline(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	ctx := t.Context()
	if err := f.svc.Answer(ctx, f.staff, f.in.ID, "Of course!"); err != nil {
		t.Fatal(err)
	}
	var m models.Message
	if err := f.store.DB(ctx).Where("kind = ?", models.KindManual).Take(&m).Error; err != nil {
		t.Fatal(err)
	}
	if m.AppointmentID == nil || *m.AppointmentID != f.appt.ID || m.CreatedByID == nil || *m.CreatedByID != *f.staff.UserID {
		t.Fatalf("answer %+v", m)
	}
	var e models.TimelineEntry
	err := f.store.DB(ctx).Where("appointment_id = ? AND kind = ?", f.appt.ID, models.TimelineStaff).Take(&e).Error
	if err != nil {
		t.Fatal(err)
	}
	if e.MessageID == nil || *e.MessageID != m.ID || e.UserID == nil {
		t.Fatalf("timeline entry %+v", e)
	}
	kinds := map[string]bool{}
	for len(kinds) < 2 {
		select {
		case ev := <-f.events:
			kinds[ev.Kind] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("live events %v", kinds)
		}
	}
	if !kinds["message"] || !kinds["inbox"] {
		t.Fatalf("live events %v", kinds)
	}
	it, err := f.svc.Get(ctx, f.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if it.HandledBy == nil || it.HandledBy.Email != "front@example.com" || it.Message.HandledAt == nil {
		t.Fatalf("handled item %+v", it)
	}
	if n, err := f.svc.Count(ctx); err != nil || n != 0 {
		t.Fatalf("count %d (%v)", n, err)
	}
}

// A past appointment is no longer a candidate: it is shown for context, and
// confirming it is refused.
func TestPastAppointmentIsContextOnly(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	ctx := t.Context()
	later := inbox.New(f.store, f.clinic, nil, nil, func() time.Time { return t0.Add(72 * time.Hour) })
	if err := f.store.DB(ctx).Model(f.in).Update("appointment_id", f.appt.ID).Error; err != nil {
		t.Fatal(err)
	}
	it, err := later.Get(ctx, f.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(it.Candidates) != 0 || it.Context == nil || it.Context.ID != f.appt.ID {
		t.Fatalf("candidates %d, context %v", len(it.Candidates), it.Context)
	}
	err = later.Confirm(ctx, f.staff, f.in.ID, f.appt.ID, true)
	if _, ok := models.AsFieldErrors(err); !ok {
		t.Fatalf("confirming a past appointment: %v", err)
	}
}

// The quick answers are written for the sender's patient, in their
// language, about the appointment the reply is about; a handled item or an
// opted-out number has none.
func TestQuickAnswers(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	ctx := t.Context()
	if err := f.store.DB(ctx).Model(&models.Patient{}).Where("id = ?", *f.in.PatientID).Update("language", "de").Error; err != nil {
		t.Fatal(err)
	}
	it, err := f.svc.Get(ctx, f.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(it.QuickAnswers) != 2 {
		t.Fatalf("quick answers %+v", it.QuickAnswers)
	}
	call := it.QuickAnswers[0]
	if call.Kind != "quick_call_us" || call.Label != "Please call us" || call.Language != "de" ||
		!strings.HasPrefix(call.Text, "Hallo Anna, bitte rufen Sie ") {
		t.Fatalf("call us %+v", call)
	}
	if err := f.svc.MarkHandled(ctx, f.staff, f.in.ID, ""); err != nil {
		t.Fatal(err)
	}
	if it, err = f.svc.Get(ctx, f.in.ID); err != nil || len(it.QuickAnswers) != 0 {
		t.Fatalf("a handled item offers %+v (%v)", it.QuickAnswers, err)
	}
}

// queryCounter counts the statements a store runs while it is on. It is
// the store's GORM logger, given when the store is opened: registering
// callbacks on an open store would race with its background checkpoints.
type queryCounter struct {
	on atomic.Bool
	n  atomic.Int64
}

func (qc *queryCounter) LogMode(logger.LogLevel) logger.Interface { return qc }
func (qc *queryCounter) Info(context.Context, string, ...any)     {}
func (qc *queryCounter) Warn(context.Context, string, ...any)     {}
func (qc *queryCounter) Error(context.Context, string, ...any)    {}
func (qc *queryCounter) Trace(_ context.Context, _ time.Time, _ func() (string, int64), _ error) {
	if qc.on.Load() {
		qc.n.Add(1)
	}
}

// countingStore opens a migrated SQLite store whose statements qc counts.
func countingStore(t *testing.T) (*models.Store, *queryCounter) {
	t.Helper()
	qc := &queryCounter{}
	s, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: filepath.Join(t.TempDir(), "test.db"), Logger: qc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, qc
}

// during counts the statements run during fn.
func (qc *queryCounter) during(fn func()) int {
	qc.n.Store(0)
	qc.on.Store(true)
	fn()
	qc.on.Store(false)
	return int(qc.n.Load())
}

// A page of the inbox costs the same queries with one item as with
// twelve, quick answers included: nothing is read per item.
func TestInboxPageQueriesDoNotGrowWithItems(t *testing.T) {
	store, qc := countingStore(t)
	f := newFixture(t, store)
	ctx := t.Context()
	list := func() []inbox.Item {
		items, _, err := f.svc.List(ctx, inbox.Query{})
		if err != nil {
			t.Fatal(err)
		}
		return items
	}
	var one int
	var items []inbox.Item
	one = qc.during(func() { items = list() })
	if len(items) != 1 || len(items[0].QuickAnswers) == 0 {
		t.Fatalf("one item: %d items, %d quick answers", len(items), len(items[0].QuickAnswers))
	}
	for i := range 11 {
		p, err := f.clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: fmt.Sprintf("P%d", i), Phone: fmt.Sprintf("+49151234567%02d", i)}, "DE")
		if err != nil {
			t.Fatal(err)
		}
		a, err := f.clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{PatientID: p.ID, StartsAt: t0.Add(time.Duration(24+i) * time.Hour), DurationMinutes: 30})
		if err != nil {
			t.Fatal(err)
		}
		in := &models.InboundMessage{
			ProviderID: fmt.Sprintf("m-%d", i+2), From: p.Phone, Text: "see you", ReceivedAt: t0.Add(time.Duration(i+1) * time.Minute),
			PatientID: &p.ID, NeedsAttention: true, Candidates: fmt.Sprint(a.ID), CreatedAt: t0,
		}
		if i%3 == 0 {
			in.HandledByID, in.AppointmentID = f.staff.UserID, &f.appt.ID // context only
		}
		if err := f.store.DB(ctx).Create(in).Error; err != nil {
			t.Fatal(err)
		}
	}
	twelve := qc.during(func() { items = list() })
	if len(items) != 12 {
		t.Fatalf("%d items", len(items))
	}
	for _, it := range items[1:] {
		if len(it.QuickAnswers) == 0 || len(it.Candidates) == 0 || !strings.HasPrefix(it.QuickAnswers[0].Text, "Hi "+it.Patients[0].FirstName) {
			t.Fatalf("item %d: %d candidates, quick answers %+v", it.Message.ID, len(it.Candidates), it.QuickAnswers)
		}
	}
	if one == 0 {
		t.Fatal("no statement counted: the counter sees nothing")
	}
	if twelve > one+2 {
		t.Fatalf("one item: %d queries; twelve items: %d; the page reads per item", one, twelve)
	}
}
