package availability_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/availability"
	"apptconfirm/app/slots"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

var paris = mustZone("Europe/Paris")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// fixture is a clinic in Paris with one provider and one patient, and a
// service whose clock stands at Monday 2 March 2026, 08:00 in Paris.
type fixture struct {
	store    *models.Store
	svc      *availability.Service
	loc      models.Location
	provider models.Provider
	patient  models.Patient
	now      time.Time
}

func newFixture(t *testing.T, s *models.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{store: s, now: time.Date(2026, 3, 2, 8, 0, 0, 0, paris)}
	f.svc = availability.New(s, availability.Options{Now: func() time.Time { return f.now }})
	f.loc = models.Location{Name: "Paris", TimeZone: "Europe/Paris", Country: "FR", IsDefault: true}
	if err := s.CreateLocation(ctx, &f.loc); err != nil {
		t.Fatal(err)
	}
	f.provider = models.Provider{Name: "Dr Lee", LocationID: &f.loc.ID, Active: true}
	if err := s.CreateProvider(ctx, &f.provider); err != nil {
		t.Fatal(err)
	}
	f.patient = models.Patient{FirstName: "Ana", Phone: "+33612345678", Language: "fr"}
	if err := s.CreatePatient(ctx, &f.patient); err != nil {
		t.Fatal(err)
	}
	return f
}

// book stores an appointment with the provider (nil provider: none).
func (f *fixture) book(t *testing.T, ctx context.Context, provider *uint, start time.Time, minutes int, status models.AppointmentStatus) *models.Appointment {
	t.Helper()
	a := &models.Appointment{
		PatientID: f.patient.ID, LocationID: f.loc.ID, ProviderID: provider,
		StartsAt: start.UTC(), DurationMinutes: minutes, Status: status,
	}
	if err := f.store.CreateAppointment(ctx, a); err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) save(t *testing.T, o availability.Owner, weekly, exceptions string, before, after int) {
	t.Helper()
	h, err := slots.ParseHours(weekly, exceptions)
	if err != nil {
		t.Fatal(err)
	}
	in := availability.ScheduleInput{Hours: h, BufferBeforeMinutes: before, BufferAfterMinutes: after}
	if _, err := f.svc.SaveSchedule(context.Background(), models.Actor{Name: "admin@example.com"}, o, in); err != nil {
		t.Fatal(err)
	}
}

func local(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.In(paris).Format("Mon 2006-01-02 15:04 MST")
	}
	return out
}

func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestScheduleSaveReadClear(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		o := availability.ProviderOwner(f.provider.ID)

		sc, err := f.svc.Schedule(ctx, o)
		if err != nil || sc.Set {
			t.Fatalf("before saving: %+v, %v; want not set", sc, err)
		}
		f.save(t, o, "mon-thu 09:00-12:00,13:00-17:00\nfri 09:00-13:00", "2026-12-25 closed # Christmas\n2026-08-03..2026-08-14 closed # leave", 5, 10)
		sc, err = f.svc.Schedule(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if !sc.Set || sc.Hours.Weekly.String() != "mon 09:00-12:00,13:00-17:00\ntue 09:00-12:00,13:00-17:00\nwed 09:00-12:00,13:00-17:00\nthu 09:00-12:00,13:00-17:00\nfri 09:00-13:00" {
			t.Errorf("weekly read back as %q", sc.Hours.Weekly.String())
		}
		if got := slots.FormatExceptions(sc.Hours.Exceptions); got != "2026-08-03..2026-08-14 closed # leave\n2026-12-25 closed # Christmas" {
			t.Errorf("exceptions read back as %q", got)
		}
		if sc.Buffer != (slots.Buffer{Before: 5 * time.Minute, After: 10 * time.Minute}) {
			t.Errorf("buffer = %+v", sc.Buffer)
		}

		// Saving again replaces, it does not add a second row.
		f.save(t, o, "sat 08:00-10:00", "", 0, 0)
		sc, _ = f.svc.Schedule(ctx, o)
		if sc.Hours.Weekly.String() != "sat 08:00-10:00" || len(sc.Hours.Exceptions) != 0 {
			t.Errorf("after the second save: %q, %v", sc.Hours.Weekly.String(), sc.Hours.Exceptions)
		}
		entries, total, err := s.AuditLog(ctx, models.AuditFilter{Entity: "provider", EntityID: f.provider.ID, Limit: 10})
		if err != nil || total != 2 || entries[0].Action != "provider.hours" {
			t.Fatalf("audit: %d entries, %v (%+v)", total, err, entries)
		}

		if err := f.svc.ClearSchedule(ctx, models.Actor{Name: "admin@example.com"}, o); err != nil {
			t.Fatal(err)
		}
		if sc, _ = f.svc.Schedule(ctx, o); sc.Set {
			t.Error("still set after clearing")
		}
		// Clearing again is a no-op, not audited.
		if err := f.svc.ClearSchedule(ctx, models.Actor{Name: "admin@example.com"}, o); err != nil {
			t.Fatal(err)
		}
		if _, total, _ = s.AuditLog(ctx, models.AuditFilter{Entity: "provider", EntityID: f.provider.ID, Limit: 10}); total != 3 {
			t.Errorf("audit entries after clearing twice = %d, want 3", total)
		}
	})
}

func TestScheduleRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t))
	o := availability.LocationOwner(f.loc.ID)
	var w slots.Week
	w[time.Tuesday] = slots.Intervals{{Start: 9 * 60, End: 12 * 60}, {Start: 11 * 60, End: 13 * 60}}
	for name, tc := range map[string]struct {
		in    availability.ScheduleInput
		field string
	}{
		"overlap":        {availability.ScheduleInput{Hours: slots.Hours{Weekly: w}}, "weekly.tue[1]"},
		"negative":       {availability.ScheduleInput{BufferBeforeMinutes: -1}, "buffer_before_minutes"},
		"too long":       {availability.ScheduleInput{BufferAfterMinutes: availability.MaxBufferMinutes + 1}, "buffer_after_minutes"},
		"exception to":   {availability.ScheduleInput{Hours: slots.Hours{Exceptions: []slots.Exception{{From: slots.Date{Year: 2026, Month: 5, Day: 2}, To: slots.Date{Year: 2026, Month: 5, Day: 1}}}}}, "exceptions[0].to"},
		"exception from": {availability.ScheduleInput{Hours: slots.Hours{Exceptions: []slots.Exception{{}}}}, "exceptions[0].from"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.SaveSchedule(ctx, models.SystemActor(), o, tc.in)
			var fe models.FieldErrors
			if !errors.As(err, &fe) || fe[tc.field] == "" {
				t.Fatalf("err = %v, want a message for %s", err, tc.field)
			}
		})
	}
	if sc, _ := f.svc.Schedule(ctx, o); sc.Set {
		t.Error("a refused schedule was stored")
	}
	if _, err := f.svc.SaveSchedule(ctx, models.SystemActor(), availability.ProviderOwner(9999), availability.ScheduleInput{}); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown provider: err = %v, want ErrNotFound", err)
	}
	if _, err := f.svc.Schedule(ctx, availability.LocationOwner(9999)); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown location: err = %v, want ErrNotFound", err)
	}
}

func TestFreeRespectsHoursAppointmentsAndBuffers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		pid := &f.provider.ID
		slot := availability.Slot{LocationID: f.loc.ID, ProviderID: pid, Duration: 30 * time.Minute}

		if _, err := f.svc.Free(ctx, slot, f.now, 3); !errors.Is(err, availability.ErrNoHours) {
			t.Fatalf("no hours set: err = %v, want ErrNoHours", err)
		}

		// The location is open all week; the provider works mornings,
		// with a 10-minute buffer after each appointment, and not on
		// Tuesday 3 March.
		f.save(t, availability.LocationOwner(f.loc.ID), "mon-sun 08:00-20:00", "", 0, 0)
		f.save(t, availability.ProviderOwner(f.provider.ID), "mon-fri 09:00-11:00", "2026-03-03 closed # training", 0, 10)

		day := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, paris) }
		f.book(t, ctx, pid, day(2, 9, 0), 30, models.Confirmed)
		f.book(t, ctx, pid, day(2, 10, 0), 30, models.Cancelled) // frees its time
		f.book(t, ctx, nil, day(2, 9, 45), 30, models.Scheduled) // another resource
		other := models.Provider{Name: "Dr Roy", Active: true}
		if err := s.CreateProvider(ctx, &other); err != nil {
			t.Fatal(err)
		}
		f.book(t, ctx, &other.ID, day(2, 9, 45), 30, models.Scheduled) // another provider

		got, err := f.svc.Free(ctx, slot, f.now, 8)
		if err != nil {
			t.Fatal(err)
		}
		// 09:00-09:30 is taken and its 10-minute buffer lasts to 09:40;
		// a new one at 10:30 ends at 11:00 with its own buffer outside the
		// hours, which is fine. Tuesday is closed.
		sameStrings(t, "free starts", local(got), []string{
			"Mon 2026-03-02 09:45 CET", "Mon 2026-03-02 10:00 CET", "Mon 2026-03-02 10:15 CET", "Mon 2026-03-02 10:30 CET",
			"Wed 2026-03-04 09:00 CET", "Wed 2026-03-04 09:15 CET", "Wed 2026-03-04 09:30 CET", "Wed 2026-03-04 09:45 CET",
		})

		// Never in the past: asking from last week starts from now (10:05).
		f.now = day(2, 10, 5)
		got, err = f.svc.Free(ctx, slot, day(1, 0, 0).AddDate(0, 0, -7), 2)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "from now", local(got), []string{"Mon 2026-03-02 10:15 CET", "Mon 2026-03-02 10:30 CET"})
		f.now = day(2, 8, 0)

		// The appointment being moved does not stand in its own way.
		a := f.book(t, ctx, pid, day(4, 9, 0), 60, models.Scheduled)
		got, err = f.svc.FreeFor(ctx, a.ID, day(4, 0, 0), 2)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "moving its own time", local(got), []string{"Wed 2026-03-04 09:00 CET", "Wed 2026-03-04 09:15 CET"})
		got, _ = f.svc.Free(ctx, availability.Slot{LocationID: f.loc.ID, ProviderID: pid, Duration: time.Hour}, day(4, 0, 0), 1)
		sameStrings(t, "another appointment", local(got), []string{"Thu 2026-03-05 09:00 CET"})

		// Without a provider, the location's hours and its provider-less
		// appointments count.
		got, err = f.svc.Free(ctx, availability.Slot{LocationID: f.loc.ID, Duration: 30 * time.Minute}, day(2, 9, 0), 3)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "no provider", local(got), []string{"Mon 2026-03-02 09:00 CET", "Mon 2026-03-02 09:15 CET", "Mon 2026-03-02 10:15 CET"})
	})
}

// Working hours are read on the wall clock: 09:00 stays 09:00 on both
// sides of the change to summer time, which moves it an hour in UTC, and
// a busy appointment across the change is still busy.
func TestFreeAcrossDaylightSaving(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t))
	f.save(t, availability.LocationOwner(f.loc.ID), "mon-sun 09:00-10:00", "", 0, 0)
	f.now = time.Date(2026, 3, 27, 12, 0, 0, 0, paris)
	f.book(t, ctx, &f.provider.ID, time.Date(2026, 3, 29, 9, 0, 0, 0, paris), 30, models.Scheduled)
	got, err := f.svc.Free(ctx, availability.Slot{LocationID: f.loc.ID, ProviderID: &f.provider.ID, Duration: 30 * time.Minute}, f.now, 5)
	if err != nil {
		t.Fatal(err)
	}
	sameStrings(t, "local", local(got), []string{
		"Sat 2026-03-28 09:00 CET", "Sat 2026-03-28 09:15 CET", "Sat 2026-03-28 09:30 CET",
		"Sun 2026-03-29 09:30 CEST", "Mon 2026-03-30 09:00 CEST",
	})
	if got[0].UTC().Hour() != 8 || got[4].UTC().Hour() != 7 {
		t.Errorf("UTC hours %d and %d, want 8 and 7", got[0].UTC().Hour(), got[4].UTC().Hour())
	}
}

func TestCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		pid := &f.provider.ID
		slot := availability.Slot{LocationID: f.loc.ID, ProviderID: pid, Duration: 30 * time.Minute}
		at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, paris) }

		// No hours set: only double bookings count.
		taken := f.book(t, ctx, pid, at(10, 0), 30, models.Scheduled)
		v, err := f.svc.Check(ctx, slot, at(22, 0))
		if err != nil || !v.Free || v.HoursSet || v.OutsideHours {
			t.Fatalf("no hours, free time: %+v, %v", v, err)
		}
		v, _ = f.svc.Check(ctx, slot, at(10, 15))
		if v.Free || len(v.Conflicts) != 1 || v.Conflicts[0].ID != taken.ID {
			t.Fatalf("double booking: %+v", v)
		}

		f.save(t, availability.ProviderOwner(f.provider.ID), "mon-fri 09:00-12:00", "", 0, 15)
		for _, tc := range []struct {
			start         time.Time
			free, outside bool
			conflicts     int
		}{
			{at(9, 0), true, false, 0},
			{at(9, 10), true, false, 0},                  // off the grid is fine for staff
			{at(9, 30), false, false, 1},                 // its buffer reaches 10:00
			{at(10, 30), false, false, 1},                // within the other's buffer
			{at(10, 45), true, false, 0},                 // right after it
			{at(11, 45), false, true, 0},                 // runs past 12:00
			{at(8, 45), false, true, 0},                  // starts before 09:00
			{at(22, 0), false, true, 0},                  // evening
			{at(10, 0).AddDate(0, 0, 5), false, true, 0}, // Saturday
		} {
			v, err := f.svc.Check(ctx, slot, tc.start)
			if err != nil {
				t.Fatal(err)
			}
			if v.Free != tc.free || v.OutsideHours != tc.outside || len(v.Conflicts) != tc.conflicts {
				t.Errorf("%s: %+v, want free %v, outside %v, %d conflict(s)", tc.start.Format("Mon 15:04"), v, tc.free, tc.outside, tc.conflicts)
			}
		}
		v, err = f.svc.CheckFor(ctx, taken.ID, at(10, 15))
		if err != nil || !v.Free {
			t.Errorf("the appointment against its own time: %+v, %v", v, err)
		}
		if _, err := f.svc.Check(ctx, availability.Slot{LocationID: 9999, Duration: time.Minute}, at(10, 0)); err == nil {
			t.Error("unknown location: no error")
		}
		var fe models.FieldErrors
		if _, err := f.svc.Free(ctx, slot, at(9, 0), availability.MaxLimit+1); !errors.As(err, &fe) || fe["limit"] == "" {
			t.Errorf("limit too large: %v", err)
		}
	})
}

// Two transactions that check the same time and book it if free take
// turns: exactly one books it.
func TestCheckThenBookIsAtomic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		f.save(t, availability.ProviderOwner(f.provider.ID), "mon-sun 09:00-17:00", "", 0, 0)
		start := time.Date(2026, 3, 3, 10, 0, 0, 0, paris)
		slot := availability.Slot{LocationID: f.loc.ID, ProviderID: &f.provider.ID, Duration: 30 * time.Minute}

		const n = 4
		var wg sync.WaitGroup
		booked := make(chan bool, n)
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Tx(ctx, func(ctx context.Context) error {
					v, err := f.svc.Check(ctx, slot, start)
					if err != nil || !v.Free {
						booked <- false
						return err
					}
					time.Sleep(20 * time.Millisecond) // let the others try
					a := &models.Appointment{
						PatientID: f.patient.ID, LocationID: f.loc.ID, ProviderID: &f.provider.ID,
						StartsAt: start.UTC(), DurationMinutes: 30, Status: models.Scheduled,
					}
					if err := s.CreateAppointment(ctx, a); err != nil {
						return err
					}
					booked <- true
					return nil
				})
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(booked)
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		wins := 0
		for b := range booked {
			if b {
				wins++
			}
		}
		busy, err := s.BusyAppointments(ctx, models.BusyFilter{ProviderID: f.provider.ID, From: start.Add(-time.Hour), To: start.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if wins != 1 || len(busy) != 1 {
			t.Errorf("%d transactions booked, %d appointments stored; want 1 and 1", wins, len(busy))
		}
	})
}
