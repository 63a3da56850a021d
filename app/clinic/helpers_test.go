package clinic_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// t0 is the tests' "now": Monday 2 March 2026, 09:00 UTC (10:00 in Paris).
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

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

// fakePlanner records its calls; it can plan one message per call inside the
// transaction (to prove rollback) and fail on demand.
type fakePlanner struct {
	store *models.Store
	mu    sync.Mutex
	calls []uint
	n     int
	plan  bool
	fail  error
	// notified records each Rescheduled call's notify.
	notified []bool
}

// Booked implements clinic.Planner as Replan.
func (p *fakePlanner) Booked(ctx context.Context, id uint, now time.Time) error {
	return p.Replan(ctx, id, now)
}

// Cancelled implements clinic.Planner as Replan.
func (p *fakePlanner) Cancelled(ctx context.Context, id uint, now time.Time, _ bool) error {
	return p.Replan(ctx, id, now)
}

// Rescheduled implements clinic.Planner as Replan, and records whether the
// patient was to be told.
func (p *fakePlanner) Rescheduled(ctx context.Context, id uint, now time.Time, notify bool) error {
	p.mu.Lock()
	p.notified = append(p.notified, notify)
	p.mu.Unlock()
	return p.Replan(ctx, id, now)
}

// CancelForPatient cancels the patient's planned messages, as the outbox does.
func (p *fakePlanner) CancelForPatient(ctx context.Context, patientID uint, reason string, now time.Time) (int64, error) {
	db := p.store.DB(ctx)
	res := db.Model(&models.Message{}).
		Where("status = ? AND kind <> ?", models.MsgPlanned, models.KindOptOutAck).
		Where(db.Where("patient_id = ?", patientID).
			Or("appointment_id IN (?)", db.Model(&models.Appointment{}).Select("id").Where("patient_id = ?", patientID))).
		Updates(map[string]any{"status": models.MsgCancelled, "reason": reason, "updated_at": now})
	return res.RowsAffected, res.Error
}

func (p *fakePlanner) Replan(ctx context.Context, id uint, now time.Time) error {
	tx := p.store
	p.mu.Lock()
	p.calls = append(p.calls, id)
	p.n++
	n, plan, fail := p.n, p.plan, p.fail
	p.mu.Unlock()
	// The appointment must be visible inside the caller's transaction.
	var a models.Appointment
	if err := tx.DB(ctx).First(&a, id).Error; err != nil {
		return fmt.Errorf("fake planner: %w", err)
	}
	if plan {
		m := models.Message{
			UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), AppointmentID: &a.ID, PatientID: &a.PatientID,
			Kind: models.KindReminder, To: "+33612345678", Status: models.MsgPlanned, SendAt: now,
		}
		if err := tx.DB(ctx).Create(&m).Error; err != nil {
			return fmt.Errorf("fake planner: %w", err)
		}
	}
	return fail
}

func (p *fakePlanner) Calls() []uint {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]uint(nil), p.calls...)
}

func (p *fakePlanner) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}

// fakeHasher "hashes" by prefixing.
type fakeHasher struct{}

func (fakeHasher) Hash(pw string) (string, error) { return "hashed:" + pw, nil }

// env is a Service on a fresh database with a default location in Paris.
type env struct {
	store   *models.Store
	svc     *clinic.Service
	clk     *clock
	planner *fakePlanner
	loc     *models.Location
	staff   models.Actor
}

func newEnv(t *testing.T, store *models.Store) *env {
	t.Helper()
	e := &env{store: store, clk: &clock{t: t0}, planner: &fakePlanner{store: store}}
	e.svc = clinic.New(store, clinic.Options{Planner: e.planner, Hasher: fakeHasher{}, Now: e.clk.Now})
	uid := uint(1)
	e.staff = models.Actor{UserID: &uid, Name: "alice@example.com"}
	loc, err := e.svc.CreateLocation(context.Background(), e.staff, clinic.LocationInput{
		Name: "Main St", TimeZone: "Europe/Paris", Country: "FR", Address: "1 Main St",
		Phone: "01 42 68 53 00", QuietStart: "21:00", QuietEnd: "08:00",
	})
	if err != nil {
		t.Fatalf("create location: %v", err)
	}
	e.loc = loc
	return e
}

// patient creates a patient or fails the test.
func (e *env) patient(t *testing.T, first, last, phone string) *models.Patient {
	t.Helper()
	p, err := e.svc.CreatePatient(context.Background(), e.staff, clinic.PatientInput{FirstName: first, LastName: last, Phone: phone}, "")
	if err != nil {
		t.Fatalf("create patient: %v", err)
	}
	return p
}

// appointment books an appointment at the default location, starting at
// the given Paris local time, or fails the test.
func (e *env) appointment(t *testing.T, patientID uint, local string) *models.Appointment {
	t.Helper()
	a, err := e.svc.CreateAppointment(context.Background(), e.staff, clinic.AppointmentInput{
		PatientID: patientID, StartsLocal: local, DurationMinutes: 30,
	})
	if err != nil {
		t.Fatalf("create appointment: %v", err)
	}
	return a
}

// count counts rows of model matching an optional condition.
func count(t *testing.T, s *models.Store, model any, where ...any) int64 {
	t.Helper()
	db := s.DB(context.Background()).Model(model)
	if len(where) > 0 {
		db = db.Where(where[0], where[1:]...)
	}
	var n int64
	if err := db.Count(&n).Error; err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

// wantField checks that err is FieldErrors naming field (and, if given, a
// message containing want).
func wantField(t *testing.T, err error, field, want string) {
	t.Helper()
	fe, ok := models.AsFieldErrors(err)
	if !ok {
		t.Fatalf("error = %v (%T), want FieldErrors naming %q", err, err, field)
	}
	msg, ok := fe[field]
	if !ok {
		t.Fatalf("FieldErrors %v does not name %q", fe, field)
	}
	if want != "" && !strings.Contains(msg, want) {
		t.Fatalf("FieldErrors[%q] = %q, want it to contain %q", field, msg, want)
	}
}

// wantBadTransition checks that err is *models.ErrBadTransition.
func wantBadTransition(t *testing.T, err error) {
	t.Helper()
	var bt *models.ErrBadTransition
	if !errors.As(err, &bt) {
		t.Fatalf("error = %v (%T), want *models.ErrBadTransition", err, err)
	}
}

func ptr[T any](v T) *T { return &v }
