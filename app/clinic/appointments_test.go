package clinic_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestCreateAppointment(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p := e.patient(t, "Ann", "Lee", "0612345678")
		a, err := e.svc.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{
			PatientID: p.ID, StartsLocal: "2026-03-03T10:00", DurationMinutes: 30, Notes: " bring X-rays ",
		})
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC) // 10:00 in Paris (UTC+1)
		if !a.StartsAt.Equal(want) || a.Status != models.Scheduled || a.LocationID != e.loc.ID || a.Notes != "bring X-rays" {
			t.Fatalf("appointment = %+v", a)
		}
		if a.Patient == nil || a.Patient.ID != p.ID || a.Location == nil || a.Location.Name != "Main St" {
			t.Fatalf("relations not loaded: %+v %+v", a.Patient, a.Location)
		}
		if calls := e.planner.Calls(); len(calls) != 1 || calls[0] != a.ID {
			t.Fatalf("planner calls = %v, want [%d]", calls, a.ID)
		}
		if n := count(t, s, &models.AuditEntry{}, "entity = ? AND entity_id = ? AND action = ?", "appointment", a.ID, "appointment.create"); n != 1 {
			t.Fatalf("audit rows = %d, want 1", n)
		}
		tl, err := e.svc.Timeline(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(tl) != 1 || tl[0].Detail != "Booked for Tue 3 Mar 10:00 at Main St by alice@example.com" ||
			tl[0].Kind != models.TimelineStaff || tl[0].UserID == nil || *tl[0].UserID != 1 {
			t.Fatalf("timeline = %+v", tl)
		}

		// The API gives an absolute instant; seconds are kept, nanoseconds not.
		at := time.Date(2026, 3, 4, 14, 30, 15, 999, time.FixedZone("EST", -5*3600))
		b, err := e.svc.CreateAppointment(ctx, models.Actor{Name: "api:crm"}, clinic.AppointmentInput{PatientID: p.ID, StartsAt: at, DurationMinutes: 15})
		if err != nil {
			t.Fatal(err)
		}
		if !b.StartsAt.Equal(at.Truncate(time.Second)) {
			t.Fatalf("StartsAt = %v, want %v", b.StartsAt, at)
		}
		got, err := e.svc.GetAppointment(ctx, b.ID)
		if err != nil || !got.StartsAt.Equal(b.StartsAt) || got.Patient == nil || got.Location == nil {
			t.Fatalf("GetAppointment = %+v, %v", got, err)
		}
		if _, err := e.svc.GetAppointment(ctx, 9999); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("GetAppointment(missing) = %v, want ErrNotFound", err)
		}
	})
}

func TestCreateAppointmentValidation(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	ctx := context.Background()
	p := e.patient(t, "Ann", "Lee", "0612345678")
	inactive, err := e.svc.CreateProvider(ctx, e.staff, clinic.ProviderInput{Name: "Dr Gone"})
	if err != nil {
		t.Fatal(err)
	}
	ny, err := e.svc.CreateLocation(ctx, e.staff, clinic.LocationInput{Name: "Uptown", TimeZone: "America/New_York", Country: "US"})
	if err != nil {
		t.Fatal(err)
	}
	ok := clinic.AppointmentInput{PatientID: p.ID, StartsLocal: "2026-03-10T10:00", DurationMinutes: 30}
	tests := []struct {
		name  string
		edit  func(*clinic.AppointmentInput)
		field string
		msg   string
	}{
		{"no patient", func(in *clinic.AppointmentInput) { in.PatientID = 0 }, "patient_id", "required"},
		{"missing patient", func(in *clinic.AppointmentInput) { in.PatientID = 9999 }, "patient_id", "not found"},
		{"missing location", func(in *clinic.AppointmentInput) { in.LocationID = 9999 }, "location_id", "not found"},
		{"missing provider", func(in *clinic.AppointmentInput) { in.ProviderID = ptr(uint(9999)) }, "provider_id", "not found"},
		{"inactive provider", func(in *clinic.AppointmentInput) { in.ProviderID = &inactive.ID }, "provider_id", "not active"},
		{"zero duration", func(in *clinic.AppointmentInput) { in.DurationMinutes = 0 }, "duration_minutes", "1 to 720"},
		{"long duration", func(in *clinic.AppointmentInput) { in.DurationMinutes = 721 }, "duration_minutes", "1 to 720"},
		{"long notes", func(in *clinic.AppointmentInput) { in.Notes = strings.Repeat("n", 2001) }, "notes", "at most 2000"},
		{"notes control char", func(in *clinic.AppointmentInput) { in.Notes = "a\x07b" }, "notes", "control"},
		{"no start", func(in *clinic.AppointmentInput) { in.StartsLocal = "" }, "starts_at", "required"},
		{"bad start", func(in *clinic.AppointmentInput) { in.StartsLocal = "10/03/2026 10:00" }, "starts_at", "YYYY-MM-DD"},
		{"both starts", func(in *clinic.AppointmentInput) { in.StartsAt = t0.Add(48 * time.Hour) }, "starts_at", "not both"},
		{"absurd year", func(in *clinic.AppointmentInput) { in.StartsLocal = "9999-03-10T10:00" }, "starts_at", "year"},
		{"DST gap in Paris", func(in *clinic.AppointmentInput) { in.StartsLocal = "2026-03-29T02:30" }, "starts_at", "02:30 does not exist on 2026-03-29 in Europe/Paris"},
		{"DST gap in New York", func(in *clinic.AppointmentInput) {
			in.LocationID = ny.ID
			in.StartsLocal = "2026-03-08T02:15"
		}, "starts_at", "does not exist"},
		{"past start", func(in *clinic.AppointmentInput) { in.StartsLocal = "2026-03-01T10:00" }, "starts_at", clinic.PastStartMessage},
		{"past absolute start", func(in *clinic.AppointmentInput) {
			in.StartsLocal = ""
			in.StartsAt = t0.Add(-time.Minute)
		}, "starts_at", clinic.PastStartMessage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := e.svc.CreateAppointment(ctx, e.staff, in)
			wantField(t, err, tc.field, tc.msg)
		})
	}
	if n := count(t, s, &models.Appointment{}); n != 0 {
		t.Fatalf("%d appointments written by refused input", n)
	}
	if n := count(t, s, &models.TimelineEntry{}); n != 0 {
		t.Fatalf("%d timeline rows written by refused input", n)
	}

	accepted := []struct {
		name string
		in   clinic.AppointmentInput
		want time.Time
	}{
		{
			"past with AllowPast",
			clinic.AppointmentInput{PatientID: p.ID, StartsLocal: "2026-03-01T10:00", DurationMinutes: 30, AllowPast: true},
			time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		},
		{
			"ambiguous fall-back hour",
			clinic.AppointmentInput{PatientID: p.ID, StartsLocal: "2026-10-25T02:30", DurationMinutes: 30},
			time.Time{},
		},
		{
			"just after the gap",
			clinic.AppointmentInput{PatientID: p.ID, StartsLocal: "2026-03-29T03:00", DurationMinutes: 720},
			time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC),
		},
		{
			"New York, seconds in the form",
			clinic.AppointmentInput{PatientID: p.ID, LocationID: ny.ID, StartsLocal: "2026-03-09T09:00:00", DurationMinutes: 1},
			time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC),
		},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			a, err := e.svc.CreateAppointment(ctx, e.staff, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want.IsZero() && !a.StartsAt.Equal(tc.want) {
				t.Fatalf("StartsAt = %v, want %v", a.StartsAt, tc.want)
			}
		})
	}
}

// A planner failure rolls back the appointment, its audit and
// its timeline rows, and whatever the planner wrote.
func TestCreateAppointmentRollsBackOnPlannerError(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p := e.patient(t, "Ann", "Lee", "0612345678")
		boom := errors.New("planner broke")
		e.planner.plan, e.planner.fail = true, boom
		_, err := e.svc.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{PatientID: p.ID, StartsLocal: "2026-03-10T10:00", DurationMinutes: 30})
		if !errors.Is(err, boom) {
			t.Fatalf("error = %v, want the planner's", err)
		}
		if len(e.planner.Calls()) != 1 {
			t.Fatalf("planner calls = %v", e.planner.Calls())
		}
		for name, model := range map[string]any{"appointments": &models.Appointment{}, "timeline": &models.TimelineEntry{}, "messages": &models.Message{}} {
			if n := count(t, s, model); n != 0 {
				t.Errorf("%d %s rows left behind", n, name)
			}
		}
		if n := count(t, s, &models.AuditEntry{}, "entity = ?", "appointment"); n != 0 {
			t.Errorf("%d appointment audit rows left behind", n)
		}

		// The same for a state change.
		e.planner.plan, e.planner.fail = true, nil
		a := e.appointment(t, p.ID, "2026-03-10T10:00")
		e.planner.fail = boom
		if _, err := e.svc.Cancel(ctx, e.staff, a.ID, "ill"); !errors.Is(err, boom) {
			t.Fatalf("cancel error = %v, want the planner's", err)
		}
		got, _ := e.svc.GetAppointment(ctx, a.ID)
		if got.Status != models.Scheduled || got.CancelledAt != nil {
			t.Fatalf("cancel survived the rollback: %+v", got)
		}
		if n := count(t, s, &models.TimelineEntry{}, "appointment_id = ?", a.ID); n != 1 {
			t.Errorf("timeline rows = %d, want 1 (the booking)", n)
		}
		if n := count(t, s, &models.AuditEntry{}, "entity = ? AND entity_id = ?", "appointment", a.ID); n != 1 {
			t.Errorf("audit rows = %d, want 1 (the booking)", n)
		}
		if n := count(t, s, &models.Message{}, "appointment_id = ?", a.ID); n != 1 {
			t.Errorf("messages = %d, want 1 (planned at booking)", n)
		}
	})
}

func TestAppointmentStateMachine(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p := e.patient(t, "Ann", "Lee", "0612345678")
		a := e.appointment(t, p.ID, "2026-03-03T10:00")
		writes := 1 // audit rows, timeline rows and planner calls so far

		type step struct {
			name  string
			do    func() (*models.Appointment, error)
			want  models.AppointmentStatus // "" means refused
			check func(t *testing.T, err error)
		}
		confirm := func() (*models.Appointment, error) { return e.svc.Confirm(ctx, e.staff, a.ID, "staff") }
		cancel := func() (*models.Appointment, error) { return e.svc.Cancel(ctx, e.staff, a.ID, "patient called") }
		restore := func() (*models.Appointment, error) { return e.svc.Restore(ctx, e.staff, a.ID) }
		completed := func() (*models.Appointment, error) { return e.svc.MarkCompleted(ctx, e.staff, a.ID) }
		noShow := func() (*models.Appointment, error) { return e.svc.MarkNoShow(ctx, e.staff, a.ID) }
		bad := func(t *testing.T, err error) { wantBadTransition(t, err) }
		tooEarly := func(t *testing.T, err error) { wantField(t, err, "status", "after the appointment has started") }
		afterStart := func() (*models.Appointment, error) {
			e.clk.Set(time.Date(2026, 3, 3, 9, 30, 0, 0, time.UTC))
			return e.svc.GetAppointment(ctx, a.ID)
		}
		steps := []step{
			{"confirm", confirm, models.Confirmed, nil},
			{"confirm twice", confirm, "", bad},
			{"restore a confirmed one", restore, "", bad},
			{"no-show before the start", noShow, "", tooEarly},
			{"completed before the start", completed, "", tooEarly},
			{"cancel", cancel, models.Cancelled, nil},
			{"confirm cancelled", confirm, "", bad},
			{"cancel twice", cancel, "", bad},
			{"restore", restore, models.Scheduled, nil},
			{"restore twice", restore, "", bad},
			{"the start passes", afterStart, "-", nil},
			{"no-show", noShow, models.NoShow, nil},
			{"completed after all", completed, models.Completed, nil},
			{"cancel completed", cancel, "", bad},
			{"restore completed", restore, "", bad},
		}
		for _, st := range steps {
			got, err := st.do()
			switch st.want {
			case "-":
				continue
			case "":
				if err == nil {
					t.Fatalf("%s: accepted, now %s", st.name, got.Status)
				}
				st.check(t, err)
			default:
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if got.Status != st.want {
					t.Fatalf("%s: status %s, want %s", st.name, got.Status, st.want)
				}
				writes++
			}
			if n := count(t, s, &models.AuditEntry{}, "entity = ? AND entity_id = ?", "appointment", a.ID); n != int64(writes) {
				t.Fatalf("%s: %d audit rows, want %d", st.name, n, writes)
			}
			if n := count(t, s, &models.TimelineEntry{}, "appointment_id = ?", a.ID); n != int64(writes) {
				t.Fatalf("%s: %d timeline rows, want %d", st.name, n, writes)
			}
			if n := len(e.planner.Calls()); n != writes {
				t.Fatalf("%s: %d planner calls, want %d", st.name, n, writes)
			}
		}
		tl, err := e.svc.Timeline(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, x := range tl {
			lines = append(lines, x.Detail)
		}
		want := []string{
			"Booked for Tue 3 Mar 10:00 at Main St by alice@example.com",
			"Confirmed by alice@example.com (staff)",
			"Cancelled by alice@example.com: patient called",
			"Restored by alice@example.com",
			"Marked no-show by alice@example.com",
			"Marked completed by alice@example.com",
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Fatalf("timeline:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
		for _, fn := range []func() (*models.Appointment, error){
			func() (*models.Appointment, error) { return e.svc.Confirm(ctx, e.staff, 9999, "staff") },
			func() (*models.Appointment, error) { return e.svc.Cancel(ctx, e.staff, 9999, "") },
			func() (*models.Appointment, error) { return e.svc.MarkNoShow(ctx, e.staff, 9999) },
		} {
			if _, err := fn(); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("move on a missing appointment = %v, want ErrNotFound", err)
			}
		}
		if _, err := e.svc.Timeline(ctx, 9999); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("Timeline(missing) = %v, want ErrNotFound", err)
		}
	})
}

func TestConfirmAndCancelInCallersTx(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p := e.patient(t, "Ann", "Lee", "0612345678")
		a := e.appointment(t, p.ID, "2026-03-03T10:00")
		at := t0.Add(time.Hour)
		e.clk.Set(at)

		// Inside a webhook transaction that fails later: nothing stays.
		boom := errors.New("webhook step failed")
		err := s.Tx(ctx, func(ctx context.Context) error {
			got, err := e.svc.Confirm(ctx, models.PatientActor(), a.ID, "sms")
			if err != nil {
				return err
			}
			if got.Status != models.Confirmed || got.Patient == nil {
				t.Errorf("Confirm returned %+v", got)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v", err)
		}
		if got, _ := e.svc.GetAppointment(ctx, a.ID); got.Status != models.Scheduled {
			t.Fatalf("status after rollback = %s", got.Status)
		}
		if n := count(t, s, &models.TimelineEntry{}, "appointment_id = ?", a.ID); n != 1 {
			t.Fatalf("timeline rows after rollback = %d, want 1", n)
		}

		// A refused move inside the caller's transaction leaves it usable.
		err = s.Tx(ctx, func(ctx context.Context) error {
			if _, err := e.svc.Confirm(ctx, models.PatientActor(), a.ID, "sms"); err != nil {
				return err
			}
			_, err := e.svc.Confirm(ctx, models.PatientActor(), a.ID, "sms")
			wantBadTransition(t, err)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.GetAppointment(ctx, a.ID)
		if got.Status != models.Confirmed || got.ConfirmedAt == nil || !got.ConfirmedAt.Equal(at) {
			t.Fatalf("after Confirm: %+v", got)
		}
		tl, _ := e.svc.Timeline(ctx, a.ID)
		if last := tl[len(tl)-1]; last.Detail != "Confirmed by patient (sms)" || last.Kind != models.TimelineSystem || !last.At.Equal(at) {
			t.Fatalf("timeline entry = %+v", last)
		}

		err = s.Tx(ctx, func(ctx context.Context) error {
			_, err := e.svc.Cancel(ctx, models.PatientActor(), a.ID, "replied NO")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = e.svc.GetAppointment(ctx, a.ID)
		if got.Status != models.Cancelled || got.CancelledAt == nil {
			t.Fatalf("after Cancel: %+v", got)
		}
		if n := count(t, s, &models.AuditEntry{}, "entity_id = ? AND action = ? AND actor = ?", a.ID, "appointment.cancel", "patient"); n != 1 {
			t.Fatalf("cancel audit rows = %d, want 1", n)
		}
	})
}

func TestUpdateAppointment(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p := e.patient(t, "Ann", "Lee", "0612345678")
		other := e.patient(t, "Bob", "Lee", "0612345679")
		annex, err := e.svc.CreateLocation(ctx, e.staff, clinic.LocationInput{Name: "Annex", TimeZone: "Europe/London", Country: "GB"})
		if err != nil {
			t.Fatal(err)
		}
		dr, err := e.svc.CreateProvider(ctx, e.staff, clinic.ProviderInput{Name: "Dr Who", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		a := e.appointment(t, p.ID, "2026-03-03T10:00")
		if _, err := e.svc.Confirm(ctx, e.staff, a.ID, "staff"); err != nil {
			t.Fatal(err)
		}
		lastTimeline := func() string {
			tl, err := e.svc.Timeline(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return tl[len(tl)-1].Detail
		}
		rows := func() int64 { return count(t, s, &models.TimelineEntry{}, "appointment_id = ?", a.ID) }

		// Reschedule: the confirmation is reset and the timeline says from/to.
		e.planner.Reset()
		got, err := e.svc.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{StartsLocal: "2026-03-05T14:30", Notes: "moved"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != models.Scheduled || got.ConfirmedAt != nil || got.DurationMinutes != 30 || got.Notes != "moved" {
			t.Fatalf("after reschedule: %+v", got)
		}
		want := "Rescheduled from Tue 3 Mar 10:00 at Main St to Thu 5 Mar 14:30 at Main St by alice@example.com; the confirmation was reset; also changed notes"
		if d := lastTimeline(); d != want {
			t.Fatalf("timeline = %q, want %q", d, want)
		}
		if n := count(t, s, &models.AuditEntry{}, "entity_id = ? AND action = ?", a.ID, "appointment.reschedule"); n != 1 {
			t.Fatalf("reschedule audit rows = %d", n)
		}
		if len(e.planner.Calls()) != 1 {
			t.Fatalf("planner calls = %v", e.planner.Calls())
		}
		// Staff moved it: the patient is to be told (the reschedule notice).
		if e.planner.notified == nil || len(e.planner.notified) != 1 || !e.planner.notified[0] {
			t.Fatalf("Rescheduled calls (notify) = %v, want [true]", e.planner.notified)
		}

		// Edit without moving: a plain replan, no notice.
		got, err = e.svc.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{ProviderID: &dr.ID, DurationMinutes: 45, Notes: "moved"})
		if err != nil {
			t.Fatal(err)
		}
		if got.ProviderID == nil || *got.ProviderID != dr.ID || got.Provider == nil || got.DurationMinutes != 45 {
			t.Fatalf("after edit: %+v", got)
		}
		if d := lastTimeline(); d != "Edited by alice@example.com: provider, duration" {
			t.Fatalf("timeline = %q", d)
		}
		if len(e.planner.notified) != 1 {
			t.Fatalf("an edit without a move called Rescheduled: %v", e.planner.notified)
		}

		// Nothing changed: nothing written.
		before := rows()
		if _, err := e.svc.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{PatientID: p.ID, ProviderID: &dr.ID, Notes: "moved", StartsLocal: "2026-03-05T14:30"}); err != nil {
			t.Fatal(err)
		}
		if rows() != before {
			t.Fatal("a no-op update wrote a timeline row")
		}

		// A provider who became inactive may stay; a new location keeps the instant.
		if _, err := e.svc.UpdateProvider(ctx, e.staff, dr.ID, clinic.ProviderInput{Name: "Dr Who", Active: false}); err != nil {
			t.Fatal(err)
		}
		got, err = e.svc.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{LocationID: annex.ID, ProviderID: &dr.ID, Notes: "moved"})
		if err != nil {
			t.Fatal(err)
		}
		if got.LocationID != annex.ID || !got.StartsAt.Equal(time.Date(2026, 3, 5, 13, 30, 0, 0, time.UTC)) {
			t.Fatalf("after location change: %+v", got)
		}
		if d := lastTimeline(); d != "Rescheduled from Thu 5 Mar 14:30 at Main St to Thu 5 Mar 13:30 at Annex by alice@example.com" {
			t.Fatalf("timeline = %q", d)
		}

		refusals := []struct {
			name  string
			in    clinic.AppointmentInput
			field string
			msg   string
		}{
			{"other patient", clinic.AppointmentInput{PatientID: other.ID}, "patient_id", "cannot be changed"},
			{"past start", clinic.AppointmentInput{StartsLocal: "2026-03-01T10:00"}, "starts_at", clinic.PastStartMessage},
			{"DST gap", clinic.AppointmentInput{StartsLocal: "2026-03-29T01:30"}, "starts_at", "does not exist"},
			{"bad duration", clinic.AppointmentInput{DurationMinutes: -5}, "duration_minutes", ""},
			{"missing location", clinic.AppointmentInput{LocationID: 9999}, "location_id", "not found"},
		}
		for _, r := range refusals {
			t.Run(r.name, func(t *testing.T) {
				before := rows()
				_, err := e.svc.UpdateAppointment(ctx, e.staff, a.ID, r.in)
				wantField(t, err, r.field, r.msg)
				if rows() != before {
					t.Fatal("a refused update wrote a timeline row")
				}
			})
		}
		// Moving into the past is allowed when confirmed by the user.
		if _, err := e.svc.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{StartsLocal: "2026-03-01T10:00", AllowPast: true}); err != nil {
			t.Fatal(err)
		}
		// A cancelled appointment cannot be moved, but its notes can change.
		if _, err := e.svc.Cancel(ctx, e.staff, a.ID, ""); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{StartsLocal: "2026-03-20T10:00"})
		wantField(t, err, "status", "restore it")
		if _, err := e.svc.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{Notes: "called back"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateAppointment(ctx, e.staff, 9999, clinic.AppointmentInput{Notes: "x"}); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("update missing = %v, want ErrNotFound", err)
		}
	})
}

func TestListAppointments(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		ann := e.patient(t, "Ann", "Lee", "0612345601")
		bob := e.patient(t, "Bob", "Martin", "0612345602")
		zoe := e.patient(t, "Zoé", "100%_Real", "0612345603")
		annex, err := e.svc.CreateLocation(ctx, e.staff, clinic.LocationInput{Name: "Annex", TimeZone: "Europe/London", Country: "GB"})
		if err != nil {
			t.Fatal(err)
		}
		dr, err := e.svc.CreateProvider(ctx, e.staff, clinic.ProviderInput{Name: "Dr Who", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		book := func(in clinic.AppointmentInput) uint {
			in.DurationMinutes = 30
			a, err := e.svc.CreateAppointment(ctx, e.staff, in)
			if err != nil {
				t.Fatal(err)
			}
			return a.ID
		}
		a1 := book(clinic.AppointmentInput{PatientID: ann.ID, StartsLocal: "2026-03-03T10:00"})
		a2 := book(clinic.AppointmentInput{PatientID: bob.ID, StartsLocal: "2026-03-04T09:00", ProviderID: &dr.ID})
		a3 := book(clinic.AppointmentInput{PatientID: zoe.ID, StartsLocal: "2026-03-05T11:00", LocationID: annex.ID})
		a4 := book(clinic.AppointmentInput{PatientID: ann.ID, StartsLocal: "2026-03-10T10:00"})
		if _, err := e.svc.Confirm(ctx, e.staff, a2, "staff"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Cancel(ctx, e.staff, a3, ""); err != nil {
			t.Fatal(err)
		}
		ids := func(items []models.Appointment) []uint {
			out := []uint{}
			for _, a := range items {
				if a.Patient == nil || a.Location == nil {
					t.Fatalf("appointment %d: relations not loaded", a.ID)
				}
				out = append(out, a.ID)
			}
			return out
		}
		tests := []struct {
			name  string
			q     clinic.AppointmentQuery
			want  []uint
			total int64
		}{
			{"all", clinic.AppointmentQuery{}, []uint{a1, a2, a3, a4}, 4},
			{"latest first", clinic.AppointmentQuery{Sort: "-starts_at"}, []uint{a4, a3, a2, a1}, 4},
			{"by status", clinic.AppointmentQuery{Sort: "status"}, []uint{a3, a2, a1, a4}, 4},
			{"by patient", clinic.AppointmentQuery{Sort: "patient"}, []uint{a3, a1, a4, a2}, 4},
			{"range", clinic.AppointmentQuery{From: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)}, []uint{a2, a3}, 2},
			{"range end is exclusive", clinic.AppointmentQuery{To: time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)}, []uint{a1}, 1},
			{"status", clinic.AppointmentQuery{Status: "confirmed"}, []uint{a2}, 1},
			{"location", clinic.AppointmentQuery{LocationID: annex.ID}, []uint{a3}, 1},
			{"provider", clinic.AppointmentQuery{ProviderID: dr.ID}, []uint{a2}, 1},
			{"patient", clinic.AppointmentQuery{PatientID: ann.ID}, []uint{a1, a4}, 2},
			{"search wildcard literally", clinic.AppointmentQuery{Search: "%_"}, []uint{a3}, 1},
			{"search name", clinic.AppointmentQuery{Search: "MARTIN"}, []uint{a2}, 1},
			{"search phone", clinic.AppointmentQuery{Search: "0612345601"}, []uint{a1, a4}, 2},
			{"search and sort by patient", clinic.AppointmentQuery{Search: "e", Sort: "patient"}, []uint{a3, a1, a4}, 3},
			{"page 2", clinic.AppointmentQuery{PerPage: 3, Page: 2}, []uint{a4}, 4},
			{"combined", clinic.AppointmentQuery{From: t0, LocationID: e.loc.ID, Status: "scheduled", Sort: "-starts_at"}, []uint{a4, a1}, 2},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				items, total, err := e.svc.ListAppointments(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(items); fmt.Sprint(got) != fmt.Sprint(tc.want) || total != tc.total {
					t.Fatalf("got %v (total %d), want %v (total %d)", got, total, tc.want, tc.total)
				}
			})
		}
		refused := []struct {
			name  string
			q     clinic.AppointmentQuery
			field string
		}{
			{"sort with SQL", clinic.AppointmentQuery{Sort: "starts_at; DROP TABLE appointments"}, "sort"},
			{"sort by column name", clinic.AppointmentQuery{Sort: "notes"}, "sort"},
			{"unknown status", clinic.AppointmentQuery{Status: "done"}, "status"},
			{"per page too big", clinic.AppointmentQuery{PerPage: 201}, "per_page"},
			{"to before from", clinic.AppointmentQuery{From: t0, To: t0.Add(-time.Hour)}, "to"},
		}
		for _, r := range refused {
			t.Run(r.name, func(t *testing.T) {
				_, _, err := e.svc.ListAppointments(ctx, r.q)
				wantField(t, err, r.field, "")
			})
		}
		if _, _, err := e.svc.ListAppointments(ctx, clinic.AppointmentQuery{PerPage: 200}); err != nil {
			t.Fatalf("per_page 200 refused: %v", err)
		}
	})
}

// Concurrent confirmations of one appointment: exactly one wins, the others
// get a bad transition, and nothing reports a locked database.
func TestConcurrentConfirm(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p := e.patient(t, "Ann", "Lee", "0612345678")
		a := e.appointment(t, p.ID, "2026-03-10T10:00")
		const n = 10
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := e.svc.Confirm(ctx, models.PatientActor(), a.ID, "sms")
				errs <- err
			}()
		}
		wins := 0
		for range n {
			err := <-errs
			var bt *models.ErrBadTransition
			switch {
			case err == nil:
				wins++
			case errors.As(err, &bt):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d confirmations won, want 1", wins)
		}
		if n := count(t, s, &models.TimelineEntry{}, "appointment_id = ?", a.ID); n != 2 {
			t.Fatalf("timeline rows = %d, want 2", n)
		}
	})
}

// CheckOnly validates like a real booking or edit and writes nothing.
func TestAppointmentCheckOnly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p := e.patient(t, "Ann", "Lee", "0612345678")
		count := func() int64 {
			var n int64
			if err := s.DB(ctx).Model(&models.Appointment{}).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		a, err := e.svc.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{
			PatientID: p.ID, StartsLocal: "2026-03-03T10:00", DurationMinutes: 30, CheckOnly: true,
		})
		if a != nil || err != nil || count() != 0 {
			t.Fatalf("valid check: %+v %v, %d rows", a, err, count())
		}
		_, err = e.svc.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{
			PatientID: 999, StartsLocal: "garbage", CheckOnly: true,
		})
		fe, ok := models.AsFieldErrors(err)
		if !ok || fe["patient_id"] == "" || fe["starts_at"] == "" || fe["duration_minutes"] == "" || count() != 0 {
			t.Fatalf("invalid check: %v, %d rows", err, count())
		}
		real := e.appointment(t, p.ID, "2026-03-03T10:00")
		out, err := e.svc.UpdateAppointment(ctx, e.staff, real.ID, clinic.AppointmentInput{
			StartsLocal: "2026-03-04T11:00", DurationMinutes: 45, CheckOnly: true,
		})
		got, _ := e.svc.GetAppointment(ctx, real.ID)
		if out != nil || err != nil || !got.StartsAt.Equal(real.StartsAt) || got.DurationMinutes != real.DurationMinutes {
			t.Fatalf("edit check changed it: %+v %v, now %+v", out, err, got)
		}
	})
}

// TestMoveReturnsAppointmentAsStored checks that what a move returns (it
// is not read back) is what a later read finds.
func TestMoveReturnsAppointmentAsStored(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p := e.patient(t, "Ann", "Lee", "0612345678")
		for _, m := range []struct {
			name string
			do   func(id uint) (*models.Appointment, error)
		}{
			{"confirm", func(id uint) (*models.Appointment, error) {
				return e.svc.Confirm(ctx, models.PatientActor(), id, "sms")
			}},
			{"cancel", func(id uint) (*models.Appointment, error) {
				return e.svc.Cancel(ctx, models.PatientActor(), id, "patient replied by SMS")
			}},
		} {
			t.Run(m.name, func(t *testing.T) {
				a := e.appointment(t, p.ID, "2026-03-03T10:00")
				got, err := m.do(a.ID)
				if err != nil {
					t.Fatal(err)
				}
				want, err := e.svc.GetAppointment(ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				sameTime := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
				if got.Status != want.Status || !got.UpdatedAt.Equal(want.UpdatedAt) || !got.StartsAt.Equal(want.StartsAt) ||
					!sameTime(got.ConfirmedAt, want.ConfirmedAt) || !sameTime(got.CancelledAt, want.CancelledAt) {
					t.Errorf("returned %s updated %v confirmed %v cancelled %v; stored %s updated %v confirmed %v cancelled %v",
						got.Status, got.UpdatedAt, got.ConfirmedAt, got.CancelledAt, want.Status, want.UpdatedAt, want.ConfirmedAt, want.CancelledAt)
				}
				if got.Patient == nil || got.Patient.ID != want.Patient.ID || got.Patient.Name() != want.Patient.Name() {
					t.Errorf("returned patient %+v, stored %+v", got.Patient, want.Patient)
				}
				if got.Location == nil || got.Location.ID != want.Location.ID {
					t.Errorf("returned location %+v, stored %+v", got.Location, want.Location)
				}
			})
		}
	})
}
