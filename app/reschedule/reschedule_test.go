package reschedule_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/app/reschedule"
	"apptconfirm/app/slots"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

var paris = func() *time.Location {
	z, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return z
}()

// at is a wall-clock time in Paris in March 2026.
func at(day, hour, minute int) time.Time { return time.Date(2026, 3, day, hour, minute, 0, 0, paris) }

// clock is a settable test clock; it starts on Monday 2 March 2026, 08:00
// in Paris.
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

// stack is the services over one store, as the server builds them.
type stack struct {
	store  *models.Store
	clinic *clinic.Service
	avail  *availability.Service
	rs     *reschedule.Service
}

func newStack(s *models.Store, clk *clock, auto bool) *stack {
	ob := outbox.New(s, outbox.Options{Now: clk.Now, RescheduleNotice: true})
	c := clinic.New(s, clinic.Options{Planner: ob, Now: clk.Now})
	av := availability.New(s, availability.Options{Now: clk.Now})
	rs := reschedule.New(s, c, ob, av, reschedule.Options{Now: clk.Now, AutoOffer: auto, OfferTTL: 24 * time.Hour})
	return &stack{store: s, clinic: c, avail: av, rs: rs}
}

// fixture is a Paris clinic whose provider works 09:00-17:00 every day.
type fixture struct {
	*stack
	clk      *clock
	loc      *models.Location
	provider models.Provider
}

func newFixture(t *testing.T, s *models.Store, auto bool) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{clk: &clock{t: at(2, 8, 0)}}
	f.stack = newStack(s, f.clk, auto)
	err := f.clinic.EnsureDefaults(ctx, clinic.Defaults{ClinicName: "Cabinet Dupont", Timezone: "Europe/Paris", Country: "FR", Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	if f.loc, err = s.DefaultLocation(ctx); err != nil {
		t.Fatal(err)
	}
	f.provider = models.Provider{Name: "Dr Lee", LocationID: &f.loc.ID, Active: true}
	if err := s.CreateProvider(ctx, &f.provider); err != nil {
		t.Fatal(err)
	}
	h, err := slots.ParseHours("mon-sun 09:00-17:00", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.avail.SaveSchedule(ctx, models.SystemActor(), availability.ProviderOwner(f.provider.ID), availability.ScheduleInput{Hours: h}); err != nil {
		t.Fatal(err)
	}
	return f
}

// book books an appointment of 30 minutes with the provider for a new
// patient, through the clinic (its reminders are planned).
func (f *fixture) book(t *testing.T, first, phone string, start time.Time) *models.Appointment {
	t.Helper()
	ctx := context.Background()
	p := &models.Patient{FirstName: first, Phone: phone, Language: "fr"}
	if err := f.store.CreatePatient(ctx, p); err != nil {
		t.Fatal(err)
	}
	a, err := f.clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{
		PatientID: p.ID, LocationID: f.loc.ID, ProviderID: &f.provider.ID, StartsAt: start, DurationMinutes: 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) appt(t *testing.T, id uint) *models.Appointment {
	t.Helper()
	a, err := f.store.Appointment(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// messages returns the appointment's messages of kind, oldest first.
func (f *fixture) messages(t *testing.T, id uint, kind string) []models.Message {
	t.Helper()
	var ms []models.Message
	if err := f.store.DB(context.Background()).Where("appointment_id = ? AND kind = ?", id, kind).Order("id").Find(&ms).Error; err != nil {
		t.Fatal(err)
	}
	return ms
}

func (f *fixture) timeline(t *testing.T, id uint) string {
	t.Helper()
	es, err := f.store.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Detail + "\n")
	}
	return b.String()
}

// A request puts the appointment into reschedule_requested, cancels its
// planned reminders and queues the acknowledgement in the patient's
// language; asking again changes and sends nothing.
func TestRequestCancelsRemindersAndAcknowledges(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), false)
	ctx := context.Background()
	a := f.book(t, "Marie", "+33612345678", at(5, 10, 0))
	var planned int
	for _, m := range f.messages(t, a.ID, models.KindReminder) {
		if m.Status == models.MsgPlanned {
			planned++
		}
	}
	if planned == 0 {
		t.Fatal("no reminder planned before the request")
	}
	got, err := f.rs.Request(ctx, models.PatientActor(), a.ID, reschedule.SourceSMS)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != models.RescheduleRequested || !got.StartsAt.Equal(a.StartsAt) {
		t.Fatalf("after the request: %s at %s", got.Status, got.StartsAt)
	}
	for _, m := range f.messages(t, a.ID, models.KindReminder) {
		if m.Status != models.MsgCancelled || !strings.Contains(m.Reason, "waiting for another time") {
			t.Fatalf("reminder %d: %s (%s), want cancelled", m.ID, m.Status, m.Reason)
		}
	}
	acks := f.messages(t, a.ID, models.KindRescheduleAck)
	if len(acks) != 1 || acks[0].Language != "fr" || !strings.Contains(acks[0].Body, "Merci Marie, votre demande de changement d'horaire est notée") {
		t.Fatalf("acknowledgements %+v", acks)
	}
	if tl := f.timeline(t, a.ID); !strings.Contains(tl, "Another time asked for by patient (sms)") {
		t.Fatalf("timeline:\n%s", tl)
	}
	if _, err := f.rs.Request(ctx, models.PatientActor(), a.ID, reschedule.SourceSMS); err != nil {
		t.Fatal(err)
	}
	if n := len(f.messages(t, a.ID, models.KindRescheduleAck)); n != 1 {
		t.Fatalf("%d acknowledgements after asking twice, want 1", n)
	}
	// A cancelled appointment cannot ask.
	b := f.book(t, "Paul", "+33612345679", at(6, 10, 0))
	if _, err := f.clinic.Cancel(ctx, models.SystemActor(), b.ID, ""); err != nil {
		t.Fatal(err)
	}
	var bt *models.ErrBadTransition
	if _, err := f.rs.Request(ctx, models.PatientActor(), b.ID, reschedule.SourceSMS); !errors.As(err, &bt) {
		t.Fatalf("request for a cancelled appointment: %v", err)
	}
}

// With auto offers the patient gets the finder's first three times at
// once instead of the acknowledgement.
func TestAutoOffer(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), true)
	a := f.book(t, "Marie", "+33612345678", at(5, 10, 0))
	if _, err := f.rs.Request(context.Background(), models.PatientActor(), a.ID, reschedule.SourceSMS); err != nil {
		t.Fatal(err)
	}
	if n := len(f.messages(t, a.ID, models.KindRescheduleAck)); n != 0 {
		t.Fatalf("%d acknowledgements with auto offers", n)
	}
	offers := f.messages(t, a.ID, models.KindRescheduleOffer)
	if len(offers) != 1 {
		t.Fatalf("%d offers", len(offers))
	}
	want := "Bonjour Marie, voici d'autres créneaux chez Cabinet Dupont. Répondez 1 pour lun. 09:00, 2 pour lun. 09:15, 3 pour lun. 09:30."
	if offers[0].Body != want {
		t.Fatalf("offer %q\nwant  %q", offers[0].Body, want)
	}
	o, err := f.rs.Open(context.Background(), a.ID)
	if err != nil || len(o.Times()) != 3 || !o.Times()[0].Equal(at(2, 9, 0)) {
		t.Fatalf("open offer %+v, %v", o, err)
	}
}

// Offered times are checked: in the future, distinct, free, inside the
// hours, one to three.
func TestOfferRefusesBadTimes(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), false)
	ctx := context.Background()
	a := f.book(t, "Marie", "+33612345678", at(5, 10, 0))
	f.book(t, "Paul", "+33612345679", at(5, 14, 0))
	staff := models.Actor{Name: "desk@example.com"}
	cases := []struct {
		name   string
		starts []time.Time
		want   string
	}{
		{"none", nil, "give 1 to 3 times"},
		{"four", []time.Time{at(3, 9, 0), at(3, 10, 0), at(3, 11, 0), at(3, 12, 0)}, "give 1 to 3 times"},
		{"past", []time.Time{at(1, 9, 0)}, "is in the past"},
		{"twice", []time.Time{at(3, 9, 0), at(3, 9, 0)}, "is given twice"},
		{"taken", []time.Time{at(5, 14, 0)}, "is taken"},
		{"outside hours", []time.Time{at(3, 18, 0)}, "is outside working hours"},
		{"current time", []time.Time{at(5, 10, 0)}, "is the current time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.rs.Offer(ctx, staff, a.ID, tc.starts)
			fe, ok := models.AsFieldErrors(err)
			if !ok || !strings.Contains(fe["starts_at"], tc.want) {
				t.Fatalf("Offer = %v, want starts_at %q", err, tc.want)
			}
		})
	}
	if got := f.appt(t, a.ID); got.Status != models.Scheduled {
		t.Fatalf("after refused offers the appointment is %s", got.Status)
	}
	if n := len(f.messages(t, a.ID, models.KindRescheduleOffer)); n != 0 {
		t.Fatalf("%d offers sent", n)
	}
}

// The pick moves the appointment to the time, confirms it, replans its
// reminders and confirms the new time by SMS.
func TestPickMoves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s, false)
		ctx := context.Background()
		a := f.book(t, "Marie", "+33612345678", at(5, 10, 0))
		if _, err := f.rs.Request(ctx, models.PatientActor(), a.ID, reschedule.SourceSMS); err != nil {
			t.Fatal(err)
		}
		staff := models.Actor{Name: "desk@example.com"}
		o, err := f.rs.Offer(ctx, staff, a.ID, []time.Time{at(4, 14, 30), at(3, 10, 0), at(6, 9, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if ts := o.Times(); !ts[0].Equal(at(3, 10, 0)) || !ts[1].Equal(at(4, 14, 30)) {
			t.Fatalf("offered times not in order: %v", ts)
		}
		offer := f.messages(t, a.ID, models.KindRescheduleOffer)
		if len(offer) != 1 || offer[0].Body != "Bonjour Marie, voici d'autres créneaux chez Cabinet Dupont. Répondez 1 pour mar. 10:00, 2 pour mer. 14:30, 3 pour ven. 09:00." {
			t.Fatalf("offer %+v", offer)
		}
		out, err := f.rs.Pick(ctx, models.PatientActor(), a.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		got := f.appt(t, a.ID)
		if !out.Moved || got.Status != models.Confirmed || !got.StartsAt.Equal(at(4, 14, 30)) || got.ConfirmedAt == nil {
			t.Fatalf("after the pick: %+v, appointment %s at %s", out, got.Status, got.StartsAt.In(paris))
		}
		done := f.messages(t, a.ID, models.KindRescheduled)
		if len(done) != 1 || !strings.Contains(done[0].Body, "Marie : votre rendez-vous chez Cabinet Dupont aura lieu le mercredi 4 mars à 14:30") {
			t.Fatalf("rescheduled %+v", done)
		}
		for _, m := range f.messages(t, a.ID, models.KindReminder) {
			if m.Status == models.MsgPlanned && !m.SendAt.Before(at(4, 14, 30)) {
				t.Fatalf("reminder %d planned at %s, after the new start", m.ID, m.SendAt)
			}
		}
		if n := len(f.messages(t, a.ID, models.KindRescheduleNotice)); n != 0 {
			t.Fatalf("%d reschedule notices besides the confirmation of the pick", n)
		}
		if tl := f.timeline(t, a.ID); !strings.Contains(tl, "by patient (picked time 2 of the offer)") || !strings.Contains(tl, "Offered ") {
			t.Fatalf("timeline:\n%s", tl)
		}
		// The offer is used: a second pick finds none.
		if _, err := f.rs.Pick(ctx, models.PatientActor(), a.ID, 1); !errors.Is(err, reschedule.ErrNoOpenOffer) {
			t.Fatalf("second pick: %v", err)
		}
	})
}

// A time taken between the offer and the pick brings an apology with
// fresh times, none of them the one taken; an expired offer cannot be
// picked.
func TestPickTakenMeanwhileAndExpiry(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), false)
	ctx := context.Background()
	a := f.book(t, "Marie", "+33612345678", at(5, 10, 0))
	staff := models.Actor{Name: "desk@example.com"}
	if _, err := f.rs.Offer(ctx, staff, a.ID, []time.Time{at(3, 9, 0), at(3, 10, 0)}); err != nil {
		t.Fatal(err)
	}
	f.book(t, "Paul", "+33612345679", at(3, 9, 0)) // staff book someone else there
	out, err := f.rs.Pick(ctx, models.PatientActor(), a.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if out.Moved || out.Fresh == nil || !out.Taken.Equal(at(3, 9, 0)) {
		t.Fatalf("outcome %+v", out)
	}
	for _, ft := range out.Fresh.Times() {
		if ft.Equal(at(3, 9, 0)) || ft.Equal(at(3, 10, 0)) {
			t.Fatalf("fresh offer repeats %s", ft)
		}
	}
	if got := f.appt(t, a.ID); got.Status != models.RescheduleRequested || !got.StartsAt.Equal(at(5, 10, 0)) {
		t.Fatalf("appointment %s at %s", got.Status, got.StartsAt)
	}
	sorry := f.messages(t, a.ID, models.KindOfferTaken)
	if len(sorry) != 1 || !strings.HasPrefix(sorry[0].Body, "Désolés Marie, ce créneau est déjà pris. Créneaux libres chez Cabinet Dupont : répondez 1 pour lun. 09:00") {
		t.Fatalf("apology %+v", sorry)
	}
	// A day later the fresh offer has expired.
	f.clk.Add(24*time.Hour + time.Minute)
	if _, err := f.rs.Pick(ctx, models.PatientActor(), a.ID, 1); !errors.Is(err, reschedule.ErrNoOpenOffer) {
		t.Fatalf("pick after expiry: %v", err)
	}
	// Staff settle it by moving the appointment: the patient is told.
	moved, err := f.clinic.UpdateAppointment(ctx, staff, a.ID, clinic.AppointmentInput{StartsAt: at(6, 11, 0), ProviderID: &f.provider.ID})
	if err != nil {
		t.Fatal(err)
	}
	if moved.Status != models.Scheduled || len(f.messages(t, a.ID, models.KindRescheduleNotice)) != 1 {
		t.Fatalf("staff move: %s, notices %d", moved.Status, len(f.messages(t, a.ID, models.KindRescheduleNotice)))
	}
}

// Two patients picking the same offered time at once, each through its own
// store (two instances of the app): one moves there, the other is told it
// was taken and gets fresh times.
func TestTwoPatientsPickTheSameTime(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		s1, path := storetest.SQLitePath(t)
		s2, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s2.Close() })
		samePick(t, s1, s2)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		var stores []*models.Store
		for range 2 {
			s, err := models.Open(models.Options{Driver: models.DriverPostgres, DSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			stores = append(stores, s)
		}
		if _, err := stores[0].Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		samePick(t, stores[0], stores[1])
	})
}

func samePick(t *testing.T, s1, s2 *models.Store) {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, s1, false)
	other := newStack(s2, f.clk, false)
	staff := models.Actor{Name: "desk@example.com"}
	target := at(3, 11, 0)
	var ids []uint
	for i, p := range []struct{ first, phone string }{{"Marie", "+33612345678"}, {"Paul", "+33612345679"}} {
		a := f.book(t, p.first, p.phone, at(5, 10+i, 0))
		if _, err := f.rs.Offer(ctx, staff, a.ID, []time.Time{target}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	for round := range 5 {
		if round > 0 {
			// Back to the start: both waiting, both offered the target.
			for _, id := range ids {
				err := s1.DB(ctx).Model(&models.Appointment{}).Where("id = ?", id).
					Updates(map[string]any{"status": models.RescheduleRequested, "starts_at": at(5, 10, 0).Add(time.Duration(id) * time.Hour).UTC()}).Error
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.rs.Offer(ctx, staff, id, []time.Time{target}); err != nil {
					t.Fatal(err)
				}
			}
		}
		start := make(chan struct{})
		outs := make([]reschedule.Outcome, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, rs := range []*reschedule.Service{f.rs, other.rs} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				outs[i], errs[i] = rs.Pick(ctx, models.PatientActor(), ids[i], 1)
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if outs[0].Moved == outs[1].Moved {
			t.Fatalf("round %d: moved %v and %v, want exactly one", round, outs[0].Moved, outs[1].Moved)
		}
		loser := 0
		if outs[0].Moved {
			loser = 1
		}
		if outs[loser].Fresh == nil || !outs[loser].Taken.Equal(target) {
			t.Fatalf("round %d: the other patient got %+v", round, outs[loser])
		}
		var n int64
		if err := s1.DB(ctx).Model(&models.Appointment{}).Where("starts_at = ?", target.UTC()).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("round %d: %d appointments at the target time", round, n)
		}
		// Clear the target for the next round.
		for _, id := range ids {
			if err := s1.DB(ctx).Model(&models.Appointment{}).Where("id = ?", id).Update("starts_at", at(7, 10, 0).Add(time.Duration(id)*time.Hour).UTC()).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
}
