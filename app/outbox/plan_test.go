package outbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/app/reminders"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// outcome is what a test expects of one rule (or non-reminder kind) of an
// appointment: the send time of its single live message, or the status and
// reason of its latest message.
type outcome struct {
	live   time.Time
	status models.MessageStatus
	reason string
}

func planned(t time.Time) outcome { return outcome{live: t} }

func ended(st models.MessageStatus, reason string) outcome {
	return outcome{status: st, reason: reason}
}

func TestReplan(t *testing.T) {
	ctx := context.Background()
	thu10 := "2026-03-05T10:00" // Thursday 5 March, 10:00 Paris
	tests := []struct {
		name string
		opts func(*outbox.Options)
		// run books and changes appointments; it returns the appointment to check.
		run      func(t *testing.T, e *env, p *models.Patient) *models.Appointment
		want     map[string]outcome
		timeline []string
	}{
		{
			name: "booking plans one message per rule",
			run:  func(t *testing.T, e *env, p *models.Patient) *models.Appointment { return e.book(t, p.ID, thu10) },
			want: map[string]outcome{
				"48h": planned(local(2026, 3, 3, 10, 0)),
				"2h":  planned(local(2026, 3, 5, 8, 0)), // 08:00 is the first minute after quiet hours
			},
			timeline: []string{`Reminder 48 h before planned for Tue 3 Mar 10:00 CET`, `Reminder 2 h before planned for Thu 5 Mar 08:00 CET`},
		},
		{
			name: "booking inside the window records the past rule as skipped",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				return e.book(t, p.ID, "2026-03-02T15:00")
			},
			want: map[string]outcome{
				"48h": ended(models.MsgSkipped, "its send time had already passed"),
				"2h":  planned(local(2026, 3, 2, 13, 0)),
			},
			timeline: []string{`Reminder 48 h before skipped: its send time had already passed`},
		},
		{
			name: "a send in quiet hours moves to the minute before they began",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				return e.book(t, p.ID, "2026-03-04T08:30")
			},
			want: map[string]outcome{
				"48h": ended(models.MsgSkipped, "already passed"),
				"2h":  planned(local(2026, 3, 3, 20, 59)),
			},
		},
		{
			name: "rescheduling moves the planned messages in place",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				before := e.live(t, a.ID)
				if _, err := e.clinic.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{StartsLocal: "2026-03-06T14:00"}); err != nil {
					t.Fatal(err)
				}
				after := e.live(t, a.ID)
				for k, m := range before {
					if after[k].ID != m.ID {
						t.Errorf("%s: message %d replaced by %d, want it updated in place", k, m.ID, after[k].ID)
					}
				}
				if n := len(e.messages(t, a.ID)); n != 2 {
					t.Errorf("%d messages after a reschedule, want 2", n)
				}
				return a
			},
			want: map[string]outcome{
				"48h": planned(local(2026, 3, 4, 14, 0)),
				"2h":  planned(local(2026, 3, 6, 12, 0)),
			},
			timeline: []string{`Reminder 48 h before moved to Wed 4 Mar 14:00 CET (was Tue 3 Mar 10:00 CET)`},
		},
		{
			name: "cancelling cancels the reminders and queues the notice",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				if _, err := e.clinic.Cancel(ctx, e.staff, a.ID, "clinic closed"); err != nil {
					t.Fatal(err)
				}
				return a
			},
			want: map[string]outcome{
				"48h":                     ended(models.MsgCancelled, "the appointment is cancelled"),
				"2h":                      ended(models.MsgCancelled, "the appointment is cancelled"),
				models.KindCancellation:   planned(t0),
				models.KindBookingConfirm: {},
			},
			timeline: []string{`Reminder 48 h before cancelled: the appointment is cancelled`, "Cancellation notice queued to go out now"},
		},
		{
			name: "a patient who cancels by SMS gets no notice",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				err := e.store.Tx(ctx, func(ctx context.Context) error {
					_, err := e.clinic.Cancel(ctx, models.PatientActor(), a.ID, "replied NO")
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return a
			},
			want: map[string]outcome{
				"48h":                   ended(models.MsgCancelled, "cancelled"),
				models.KindCancellation: {},
			},
		},
		{
			name: "confirming skips the only-if-unconfirmed rule",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				if _, err := e.clinic.Confirm(ctx, e.staff, a.ID, "staff"); err != nil {
					t.Fatal(err)
				}
				return a
			},
			want: map[string]outcome{
				"48h": planned(local(2026, 3, 3, 10, 0)),
				"2h":  ended(models.MsgSkipped, "the appointment is already confirmed"),
			},
			timeline: []string{`Reminder 2 h before skipped: the appointment is already confirmed`},
		},
		{
			name: "opting out cancels and later changes plan nothing; opting in plans again",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				if err := e.clinic.OptOut(ctx, e.staff, p.ID, "staff"); err != nil {
					t.Fatal(err)
				}
				if _, err := e.clinic.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{Notes: "edited"}); err != nil {
					t.Fatal(err)
				}
				if live := e.live(t, a.ID); len(live) != 0 {
					t.Fatalf("live messages after opt-out: %v", live)
				}
				if err := e.clinic.OptIn(ctx, e.staff, p.ID, "staff"); err != nil {
					t.Fatal(err)
				}
				return a
			},
			want: map[string]outcome{
				"48h": planned(local(2026, 3, 3, 10, 0)),
				"2h":  planned(local(2026, 3, 5, 8, 0)),
			},
		},
		{
			name: "an opted-out patient's new booking plans nothing",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				if err := e.clinic.OptOut(ctx, e.staff, p.ID, "staff"); err != nil {
					t.Fatal(err)
				}
				return e.book(t, p.ID, thu10)
			},
			want: map[string]outcome{"48h": {}, "2h": {}},
		},
		{
			name: "disabling a rule cancels its message",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				if _, err := e.rem.SetRuleEnabled(ctx, e.staff, e.rule(t, "2h").ID, false); err != nil {
					t.Fatal(err)
				}
				return a
			},
			want: map[string]outcome{
				"48h": planned(local(2026, 3, 3, 10, 0)),
				"2h":  ended(models.MsgCancelled, "the rule was disabled"),
			},
		},
		{
			name: "enabling it again plans a new one",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				id := e.rule(t, "2h").ID
				if _, err := e.rem.SetRuleEnabled(ctx, e.staff, id, false); err != nil {
					t.Fatal(err)
				}
				if _, err := e.rem.SetRuleEnabled(ctx, e.staff, id, true); err != nil {
					t.Fatal(err)
				}
				return a
			},
			want: map[string]outcome{"2h": planned(local(2026, 3, 5, 8, 0))},
		},
		{
			name: "changing a rule's timing replans",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				r := e.rule(t, "48h")
				_, err := e.rem.UpdateRule(ctx, e.staff, r.ID, reminders.RuleInput{Name: "day before", Before: "24h", Enabled: true})
				if err != nil {
					t.Fatal(err)
				}
				return a
			},
			// A day before is Wednesday; the 2h reminder is on Thursday, so the cap allows both.
			want: map[string]outcome{"day before": planned(local(2026, 3, 4, 10, 0)), "2h": planned(local(2026, 3, 5, 8, 0))},
		},
		{
			name: "the cap suppresses a second reminder the same day, and frees it on cancel",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				first := e.book(t, p.ID, thu10)
				second := e.book(t, p.ID, "2026-03-05T16:00")
				got := e.latest(t, second.ID)
				if got["48h"].Status != models.MsgSkipped || !strings.Contains(got["48h"].Reason, "1 per day") {
					t.Fatalf("second appointment's 48h: %s %q, want skipped by the day cap", got["48h"].Status, got["48h"].Reason)
				}
				if _, err := e.clinic.Cancel(ctx, e.staff, first.ID, ""); err != nil {
					t.Fatal(err)
				}
				return second
			},
			want: map[string]outcome{
				"48h": planned(local(2026, 3, 3, 16, 0)),
				"2h":  planned(local(2026, 3, 5, 14, 0)),
			},
		},
		{
			name: "a reminder already sent is not planned again",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				e.setStatus(t, e.live(t, a.ID)["48h"].ID, models.MsgAccepted, "")
				if _, err := e.clinic.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{Notes: "edited"}); err != nil {
					t.Fatal(err)
				}
				return a
			},
			want: map[string]outcome{"48h": ended(models.MsgAccepted, ""), "2h": planned(local(2026, 3, 5, 8, 0))},
		},
		{
			name: "a reminder staff skipped stays skipped",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				e.setStatus(t, e.live(t, a.ID)["48h"].ID, models.MsgSkipped, outbox.StaffSkipPrefix+"alice")
				if _, err := e.clinic.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{Notes: "edited"}); err != nil {
					t.Fatal(err)
				}
				return a
			},
			want: map[string]outcome{"48h": ended(models.MsgSkipped, "skipped by alice")},
		},
		{
			name: "a due reminder is left for the dispatcher",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				e.clk.Set(local(2026, 3, 3, 10, 0).Add(5 * time.Second))
				if _, err := e.clinic.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{Notes: "edited"}); err != nil {
					t.Fatal(err)
				}
				return a
			},
			want: map[string]outcome{"48h": planned(local(2026, 3, 3, 10, 0))},
		},
		{
			name: "a new phone number follows the planned messages",
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				_, err := e.clinic.UpdatePatient(ctx, e.staff, p.ID, clinic.PatientInput{FirstName: p.FirstName, LastName: p.LastName, Phone: "+33699999999"}, "")
				if err != nil {
					t.Fatal(err)
				}
				for k, m := range e.live(t, a.ID) {
					if m.To != "+33699999999" {
						t.Errorf("%s still goes to %s", k, m.To)
					}
				}
				return a
			},
			want: map[string]outcome{"48h": planned(local(2026, 3, 3, 10, 0))},
		},
		{
			name: "a booking confirmation goes out at once, written when it goes",
			opts: func(o *outbox.Options) { o.BookingConfirmation = true },
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				a := e.book(t, p.ID, thu10)
				m := e.live(t, a.ID)[models.KindBookingConfirm]
				if m.Body != "" {
					t.Errorf("booking confirmation written when queued: %q", m.Body)
				}
				shown, err := e.ob.AppointmentMessages(ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				want := "Hi Ada, your appointment at Main St is booked on Thursday, March 5 at 10:00 AM."
				for _, s := range shown {
					if s.Message.ID == m.ID && (!strings.HasPrefix(s.Preview.Text, want) || !s.Upcoming || s.Language != "en") {
						t.Errorf("booking confirmation as it will be sent: %+v", s)
					}
				}
				if e.kicks.Load() == 0 {
					t.Error("the dispatcher was not kicked")
				}
				return a
			},
			want: map[string]outcome{models.KindBookingConfirm: planned(t0), "48h": planned(local(2026, 3, 3, 10, 0))},
		},
		{
			name: "a booking confirmation during quiet hours waits for the morning",
			opts: func(o *outbox.Options) { o.BookingConfirmation = true },
			run: func(t *testing.T, e *env, p *models.Patient) *models.Appointment {
				e.clk.Set(local(2026, 3, 2, 22, 30))
				return e.book(t, p.ID, thu10)
			},
			want: map[string]outcome{models.KindBookingConfirm: planned(local(2026, 3, 3, 8, 0))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := defaultOptions()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			e := newEnv(t, opts)
			p := e.patient(t, "Ada", "+33612345678")
			a := tc.run(t, e, p)
			latest := e.latest(t, a.ID)
			live := e.live(t, a.ID)
			for key, w := range tc.want {
				switch {
				case !w.live.IsZero():
					m, ok := live[key]
					if !ok {
						t.Errorf("%s: no live message (latest: %s %q)", key, latest[key].Status, latest[key].Reason)
						continue
					}
					if !m.SendAt.Equal(w.live) {
						t.Errorf("%s: send at %s, want %s", key, m.SendAt.In(paris), w.live.In(paris))
					}
				case w.status == "":
					if m, ok := latest[key]; ok {
						t.Errorf("%s: want no message, got %s %q", key, m.Status, m.Reason)
					}
				default:
					if _, ok := live[key]; ok {
						t.Errorf("%s: a live message survived", key)
					}
					m := latest[key]
					if m.Status != w.status || !strings.Contains(m.Reason, w.reason) {
						t.Errorf("%s: %s %q, want %s with reason containing %q", key, m.Status, m.Reason, w.status, w.reason)
					}
				}
			}
			tl := strings.Join(e.timeline(t, a.ID), "\n")
			for _, want := range tc.timeline {
				if !strings.Contains(tl, want) {
					t.Errorf("timeline lacks %q:\n%s", want, tl)
				}
			}
			e.checkNoStale(t)
		})
	}
}

// latest returns the newest message per rule name (or kind).
func (e *env) latest(t *testing.T, appointmentID uint) map[string]models.Message {
	t.Helper()
	out := map[string]models.Message{}
	for _, m := range e.messages(t, appointmentID) {
		key := m.RuleName
		if m.Kind != models.KindReminder {
			key = m.Kind
		}
		out[key] = m
	}
	return out
}

// setStatus changes a message's status as the dispatcher or staff would.
func (e *env) setStatus(t *testing.T, id uint, st models.MessageStatus, reason string) {
	t.Helper()
	err := e.store.DB(context.Background()).Model(&models.Message{}).Where("id = ?", id).
		Updates(map[string]any{"status": st, "reason": reason}).Error
	if err != nil {
		t.Fatal(err)
	}
}

func TestReplanIsIdempotent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, defaultOptions())
	p := e.patient(t, "Ada", "+33612345678")
	a := e.book(t, p.ID, "2026-03-05T10:00")
	msgs, tl, evs := e.messages(t, a.ID), e.timeline(t, a.ID), e.events.count()
	for range 3 {
		if err := e.store.Tx(ctx, func(ctx context.Context) error { return e.ob.Replan(ctx, a.ID, t0) }); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.messages(t, a.ID); len(got) != len(msgs) {
		t.Fatalf("%d messages after replanning again, want %d", len(got), len(msgs))
	}
	if got := e.timeline(t, a.ID); len(got) != len(tl) {
		t.Fatalf("timeline grew from %d to %d entries on a no-op replan", len(tl), len(got))
	}
	if e.events.count() != evs {
		t.Fatal("a no-op replan published events")
	}
	if evs == 0 {
		t.Fatal("booking published no events")
	}
}

func TestReplanOnPostgres(t *testing.T) {
	ctx := context.Background()
	// storetest skips when PostgreSQL is not reachable.
	e := newEnvOn(t, storetest.Postgres(t), defaultOptions())
	p := e.patient(t, "Ada", "+33612345678")
	a := e.book(t, p.ID, "2026-03-05T10:00")
	if _, err := e.clinic.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{StartsLocal: "2026-03-06T14:00"}); err != nil {
		t.Fatal(err)
	}
	live := e.live(t, a.ID)
	if len(live) != 2 || !live["48h"].SendAt.Equal(local(2026, 3, 4, 14, 0)) {
		t.Fatalf("live after reschedule: %+v", live)
	}
	if _, err := e.clinic.Cancel(ctx, e.staff, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	if live := e.live(t, a.ID); len(live) != 1 || live[models.KindCancellation].ID == 0 {
		t.Fatalf("live after cancel: %+v", live)
	}
}
