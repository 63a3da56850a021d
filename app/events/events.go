// Package events acts on the domain events of committed transactions:
// every change a service makes records its events in its own transaction
// (models.Store.Record), and once that transaction has committed the store
// hands them here. The browsers watching the dashboard hear of them (live
// events, across instances on PostgreSQL), and the dispatcher is woken when
// a message is due at once. A transaction that rolls back publishes
// nothing, so no browser refreshes for a change that never happened.
package events

import (
	"context"
	"time"

	"apptconfirm/app/live"
	"apptconfirm/models"
)

// Kicker asks the dispatcher for a run soon; dispatch.Trigger implements
// it. Kick must not block.
type Kicker interface {
	Kick()
}

// Stager writes, inside a transaction, what its committed events must
// cause later (outbound webhooks are queued this way, so a committed
// change always has them and a rolled-back one never does).
type Stager interface {
	Stage(ctx context.Context, store *models.Store, events []models.Event) error
}

// Notifier hears of the events of every committed transaction (the
// outbound webhook worker wakes this way). Committed must not block.
type Notifier interface {
	Committed(events []models.Event)
}

// Fanout implements models.EventSink. It is safe for concurrent use.
type Fanout struct {
	live      live.Publisher
	kick      Kicker
	stagers   []Stager
	notifiers []Notifier
	now       func() time.Time
}

// Options configure a Fanout; every field may be nil.
type Options struct {
	// Live receives the live events; nil publishes none.
	Live live.Publisher
	// Kick wakes the dispatcher; nil wakes nobody (its own schedule sends
	// what is due).
	Kick Kicker
	// Stagers run inside each transaction with events.
	Stagers []Stager
	// Notifiers hear of each committed transaction's events.
	Notifiers []Notifier
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New returns a Fanout.
func New(o Options) *Fanout {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Fanout{live: o.Live, kick: o.Kick, stagers: o.Stagers, notifiers: o.Notifiers, now: o.Now}
}

var _ models.EventSink = (*Fanout)(nil)

// Stage implements models.EventSink.
func (f *Fanout) Stage(ctx context.Context, store *models.Store, evs []models.Event) error {
	for _, s := range f.stagers {
		if err := s.Stage(ctx, store, evs); err != nil {
			return err
		}
	}
	return nil
}

// dueSlack is how far ahead a planned message still counts as due at once:
// a message queued "now" is due a moment before the commit that follows.
const dueSlack = time.Second

// Committed implements models.EventSink: it publishes the live events and
// kicks the dispatcher once if a message became due.
func (f *Fanout) Committed(evs []models.Event) {
	kick := false
	now := f.now()
	for _, e := range evs {
		if f.live != nil {
			if le, ok := Live(e); ok {
				f.live.Publish(le)
			}
		}
		if e.Type == models.EventMessage && e.Status == string(models.MsgPlanned) && e.DueAt != nil && !e.DueAt.After(now.Add(dueSlack)) {
			kick = true
		}
	}
	if kick && f.kick != nil {
		f.kick.Kick()
	}
	for _, n := range f.notifiers {
		n.Committed(evs)
	}
}

// Live turns a domain event into what the dashboards show; ok is false for
// events they do not show.
func Live(e models.Event) (le live.Event, ok bool) {
	le = live.Event{AppointmentID: e.AppointmentID, PatientID: e.PatientID, MessageID: e.MessageID, At: e.At}
	switch e.Type {
	case models.EventAppointmentSignal:
		le.Kind, le.Detail = "appointment", e.Source
	case models.EventAppointmentCreated, models.EventAppointmentUpdated, models.EventAppointmentRescheduled,
		models.EventAppointmentConfirmed, models.EventAppointmentCancelled, models.EventAppointmentRestored,
		models.EventAppointmentCompleted, models.EventAppointmentNoShow, models.EventRescheduleRequested:
		le.Kind, le.Status = "appointment", e.Status
		// The channel the patient used shows; a change by staff needs no words.
		if e.Source == "sms" || e.Source == "inbox" || e.Source == "link" {
			le.Detail = e.Source
		}
	case models.EventMessage:
		le.Kind, le.Status, le.Detail = "message", e.Status, e.Detail
		if le.Detail == "" {
			le.Detail = e.Source
		}
	case models.EventReplyNeedsAttention:
		le.Kind, le.Detail = "inbox", e.Detail
	case models.EventInboxHandled:
		le.Kind, le.Status, le.Detail = "inbox", "handled", e.Source
	case models.EventPatientOptedOut, models.EventPatientOptedIn:
		le.Kind, le.Status, le.Detail = "optout", e.Status, e.Source
	default:
		return le, false
	}
	return le, true
}
