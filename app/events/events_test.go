package events_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/events"
	"apptconfirm/app/live"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type kicks struct{ n atomic.Int32 }

func (k *kicks) Kick() { k.n.Add(1) }

// world is a clinic whose committed domain events reach a hub and a
// dispatcher kick counter, as the server wires them.
type world struct {
	store  *models.Store
	clinic *clinic.Service
	ob     *outbox.Outbox
	hub    *live.Hub
	kicks  *kicks
	appt   *models.Appointment
}

func newWorld(t *testing.T, s *models.Store) *world {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return t0 }
	w := &world{store: s, hub: live.NewHub(), kicks: &kicks{}}
	w.ob = outbox.New(s, outbox.Options{Now: now})
	w.clinic = clinic.New(s, clinic.Options{Planner: w.ob, Now: now})
	if err := w.clinic.EnsureDefaults(ctx, clinic.Defaults{Timezone: "Europe/Berlin", Country: "DE"}); err != nil {
		t.Fatal(err)
	}
	p, err := w.clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Anna", Phone: "+4915123456789"}, "DE")
	if err != nil {
		t.Fatal(err)
	}
	if w.appt, err = w.clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{
		PatientID: p.ID, StartsAt: t0.Add(72 * time.Hour), DurationMinutes: 30,
	}); err != nil {
		t.Fatal(err)
	}
	storetest.EventsOf(s).Forward(events.New(events.Options{Live: w.hub, Kick: w.kicks, Now: now}))
	return w
}

// next returns the next live event, or fails after a while.
func next(t *testing.T, ch <-chan live.Event) live.Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no live event")
	}
	return live.Event{}
}

// A change whose transaction rolls back publishes nothing; the same change
// committed publishes its event, after the commit.
func TestNothingPublishedForARollback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		w := newWorld(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sub := w.hub.Subscribe(ctx)
		boom := errors.New("a later step failed")
		err := s.Tx(ctx, func(ctx context.Context) error {
			if _, err := w.clinic.Confirm(ctx, models.PatientActor(), w.appt.ID, "sms"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v", err)
		}
		select {
		case e := <-sub:
			t.Fatalf("a rolled-back confirmation published %+v", e)
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := w.clinic.Confirm(ctx, models.PatientActor(), w.appt.ID, "sms"); err != nil {
			t.Fatal(err)
		}
		e := next(t, sub)
		if e.Kind != "appointment" || e.AppointmentID != w.appt.ID || e.Status != "confirmed" || e.Detail != "sms" {
			t.Fatalf("published %+v", e)
		}
	})
}

// The dispatcher is woken when a committed transaction queued a message due
// at once, and not for one planned later.
func TestKickOnlyForMessagesDueNow(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	ctx := context.Background()
	if _, err := w.clinic.MarkNoShow(ctx, models.SystemActor(), w.appt.ID); err == nil {
		t.Fatal("a future appointment was marked no-show")
	}
	if n := w.kicks.n.Load(); n != 0 {
		t.Fatalf("kicked %d times for nothing due", n)
	}
	if _, err := w.ob.Queue(ctx, outbox.Outgoing{Kind: models.KindManual, To: "+4915123456789", Body: "Hello"}); err != nil {
		t.Fatal(err)
	}
	if n := w.kicks.n.Load(); n != 1 {
		t.Fatalf("kicked %d times for a message due now, want 1", n)
	}
}

// Live maps domain events onto what the dashboards show.
func TestLive(t *testing.T) {
	for _, tc := range []struct {
		in   models.Event
		want live.Event
		ok   bool
	}{
		{
			models.Event{Type: models.EventAppointmentConfirmed, AppointmentID: 1, PatientID: 2, Status: "confirmed", Source: "staff"},
			live.Event{Kind: "appointment", AppointmentID: 1, PatientID: 2, Status: "confirmed"},
			true,
		},
		{
			models.Event{Type: models.EventAppointmentCancelled, AppointmentID: 1, Status: "cancelled", Source: "sms"},
			live.Event{Kind: "appointment", AppointmentID: 1, Status: "cancelled", Detail: "sms"},
			true,
		},
		{
			models.Event{Type: models.EventRescheduleRequested, AppointmentID: 1, PatientID: 2, Status: "reschedule_requested", Source: "sms"},
			live.Event{Kind: "appointment", AppointmentID: 1, PatientID: 2, Status: "reschedule_requested", Detail: "sms"},
			true,
		},
		{
			models.Event{Type: models.EventMessage, MessageID: 3, AppointmentID: 1, Status: "delivered", Source: "reminder", Detail: "Reminder delivered"},
			live.Event{Kind: "message", MessageID: 3, AppointmentID: 1, Status: "delivered", Detail: "Reminder delivered"},
			true,
		},
		{
			models.Event{Type: models.EventMessage, MessageID: 3, Status: "planned", Source: "ack_confirm"},
			live.Event{Kind: "message", MessageID: 3, Status: "planned", Detail: "ack_confirm"},
			true,
		},
		{
			models.Event{Type: models.EventReplyNeedsAttention, PatientID: 2, Detail: "unknown number"},
			live.Event{Kind: "inbox", PatientID: 2, Detail: "unknown number"},
			true,
		},
		{
			models.Event{Type: models.EventInboxHandled, PatientID: 2, Source: "answer"},
			live.Event{Kind: "inbox", PatientID: 2, Status: "handled", Detail: "answer"},
			true,
		},
		{
			models.Event{Type: models.EventPatientOptedOut, PatientID: 2, Status: "opted_out", Source: "sms_stop"},
			live.Event{Kind: "optout", PatientID: 2, Status: "opted_out", Detail: "sms_stop"},
			true,
		},
		{
			models.Event{Type: models.EventAppointmentSignal, AppointmentID: 1, MessageID: 3, Source: "click"},
			live.Event{Kind: "appointment", AppointmentID: 1, MessageID: 3, Detail: "click"},
			true,
		},
		{models.Event{Type: models.EventPatientCreated, PatientID: 2}, live.Event{}, false},
	} {
		got, ok := events.Live(tc.in)
		got.At = time.Time{}
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("Live(%+v) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
