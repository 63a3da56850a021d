package outbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// noticesOf returns an appointment's messages of kind, by id.
func (e *env) noticesOf(t *testing.T, appointmentID uint, kind string) []models.Message {
	t.Helper()
	var out []models.Message
	for _, m := range e.messages(t, appointmentID) {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// written is the text message id would carry if it went out now.
func (e *env) written(t *testing.T, appointmentID, id uint) outbox.Shown {
	t.Helper()
	shown, err := e.ob.AppointmentMessages(context.Background(), appointmentID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shown {
		if s.Message.ID == id {
			return s
		}
	}
	t.Fatalf("message %d not shown", id)
	return outbox.Shown{}
}

func TestRescheduleNotice(t *testing.T) {
	ctx := context.Background()
	withNotice := func() outbox.Options {
		o := defaultOptions()
		o.RescheduleNotice = true
		return o
	}
	move := func(t *testing.T, e *env, a *models.Appointment, local string) {
		t.Helper()
		if _, err := e.clinic.UpdateAppointment(ctx, e.staff, a.ID, clinic.AppointmentInput{StartsLocal: local}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("staff move an appointment: the patient is told the new time, written when it goes", func(t *testing.T) {
		e := newEnv(t, withNotice())
		p := e.patient(t, "Ada", "+33612345678")
		a := e.book(t, p.ID, "2026-03-05T10:00")
		move(t, e, a, "2026-03-06T14:30")
		ns := e.noticesOf(t, a.ID, models.KindRescheduleNotice)
		if len(ns) != 1 || ns[0].Status != models.MsgPlanned || ns[0].Body != "" || !ns[0].SendAt.Equal(t0) {
			t.Fatalf("notices %+v", ns)
		}
		s := e.written(t, a.ID, ns[0].ID)
		want := "Hi Ada, your appointment at Main St has moved. It is now on Friday, March 6 at 2:30 PM. Reply YES to confirm or NO to cancel."
		if s.Preview.Text != want || s.Name != "Reschedule notice" {
			t.Fatalf("notice %q (%s), want %q", s.Preview.Text, s.Name, want)
		}
		if tl := strings.Join(e.timeline(t, a.ID), "\n"); !strings.Contains(tl, "Reschedule notice queued to go out now") {
			t.Fatalf("timeline:\n%s", tl)
		}

		// Moved again before it went out: one notice, with the latest time.
		move(t, e, a, "2026-03-09T09:00")
		ns = e.noticesOf(t, a.ID, models.KindRescheduleNotice)
		if len(ns) != 2 || ns[0].Status != models.MsgCancelled || !strings.Contains(ns[0].Reason, "moved again") || ns[1].Status != models.MsgPlanned {
			t.Fatalf("after a second move: %+v", ns)
		}
		if s := e.written(t, a.ID, ns[1].ID); !strings.Contains(s.Preview.Text, "on Monday, March 9 at 9:00 AM") {
			t.Fatalf("second notice %q", s.Preview.Text)
		}
	})

	t.Run("a move during quiet hours waits until they end", func(t *testing.T) {
		e := newEnv(t, withNotice())
		p := e.patient(t, "Ada", "+33612345678")
		a := e.book(t, p.ID, "2026-03-05T10:00")
		e.clk.Set(local(2026, 3, 2, 22, 15))
		move(t, e, a, "2026-03-05T11:00")
		ns := e.noticesOf(t, a.ID, models.KindRescheduleNotice)
		if len(ns) != 1 || !ns[0].SendAt.Equal(local(2026, 3, 3, 8, 0)) || ns[0].MoveReason != "held until 08:00, after quiet hours" {
			t.Fatalf("notices %+v", ns)
		}
		// Written at 08:00 the next morning: the visit is in two days.
		e.clk.Set(ns[0].SendAt)
		claimed, _, err := e.ob.Claim(ctx, outbox.Claim{Limit: 10, Lease: time.Minute, MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 1 || !strings.Contains(claimed[0].Message.Body, "It is now on Thursday, March 5 at 11:00 AM") {
			t.Fatalf("claimed %+v", claimed)
		}
	})

	t.Run("no notice when the clinic sends none, to an opted-out patient, or over a booking confirmation still to go", func(t *testing.T) {
		e := newEnv(t, defaultOptions())
		p := e.patient(t, "Ada", "+33612345678")
		a := e.book(t, p.ID, "2026-03-05T10:00")
		move(t, e, a, "2026-03-06T10:00")
		if ns := e.noticesOf(t, a.ID, models.KindRescheduleNotice); len(ns) != 0 {
			t.Fatalf("reminders.reschedule_notice off, yet %+v", ns)
		}

		e = newEnv(t, withNotice())
		p = e.patient(t, "Ada", "+33612345678")
		a = e.book(t, p.ID, "2026-03-05T10:00")
		if err := e.clinic.OptOut(ctx, e.staff, p.ID, "staff"); err != nil {
			t.Fatal(err)
		}
		move(t, e, a, "2026-03-06T10:00")
		if ns := e.noticesOf(t, a.ID, models.KindRescheduleNotice); len(ns) != 0 {
			t.Fatalf("opted out, yet %+v", ns)
		}

		o := withNotice()
		o.BookingConfirmation = true
		e = newEnv(t, o)
		p = e.patient(t, "Ada", "+33612345678")
		e.clk.Set(local(2026, 3, 2, 23, 0)) // the confirmation waits for 08:00
		a = e.book(t, p.ID, "2026-03-05T10:00")
		move(t, e, a, "2026-03-06T10:00")
		if ns := e.noticesOf(t, a.ID, models.KindRescheduleNotice); len(ns) != 0 {
			t.Fatalf("a booking confirmation still to go says the new time, yet %+v", ns)
		}
		bc := e.noticesOf(t, a.ID, models.KindBookingConfirm)
		if len(bc) != 1 || !strings.Contains(e.written(t, a.ID, bc[0].ID).Preview.Text, "Friday, March 6") {
			t.Fatalf("booking confirmation %+v", bc)
		}
	})

	t.Run("cancelled before it went out: the notice is cancelled too", func(t *testing.T) {
		e := newEnv(t, withNotice())
		p := e.patient(t, "Ada", "+33612345678")
		a := e.book(t, p.ID, "2026-03-05T10:00")
		move(t, e, a, "2026-03-06T10:00")
		if _, err := e.clinic.Cancel(ctx, e.staff, a.ID, ""); err != nil {
			t.Fatal(err)
		}
		ns := e.noticesOf(t, a.ID, models.KindRescheduleNotice)
		if len(ns) != 1 || ns[0].Status != models.MsgCancelled {
			t.Fatalf("notices %+v", ns)
		}
		e.checkNoStale(t)
	})
}
