package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Event is a domain event: one change worth telling others about (the live
// dashboards, the dispatcher, the clinic's own systems), recorded in the
// transaction of the change itself, so that a committed change always has
// its event and a rolled-back one never does.
type Event struct {
	ID uint `gorm:"primaryKey"`
	// At is when the change was made.
	At time.Time `gorm:"not null;index"`
	// Type says what happened (the Event* constants).
	Type          string `gorm:"size:40;not null"`
	AppointmentID uint   `gorm:"not null;default:0;index"`
	PatientID     uint   `gorm:"not null;default:0"`
	MessageID     uint   `gorm:"not null;default:0"`
	InboundID     uint   `gorm:"not null;default:0"`
	// Status is the new state of what changed, when it has one.
	Status string `gorm:"size:24;not null;default:''"`
	// Source says how the change came: "sms", "staff", "api", "inbox",
	// "link", a message kind, an opt-out source.
	Source string `gorm:"size:32;not null;default:''"`
	// Detail is a short text for people (a timeline line, a reason).
	Detail string `gorm:"size:300;not null;default:''"`
	// DueAt is when a planned message is due to go out (message events).
	DueAt *time.Time
}

// Domain event types.
const (
	EventAppointmentCreated     = "appointment.created"
	EventAppointmentUpdated     = "appointment.updated"
	EventAppointmentRescheduled = "appointment.rescheduled"
	EventAppointmentConfirmed   = "appointment.confirmed"
	EventAppointmentCancelled   = "appointment.cancelled"
	EventAppointmentRestored    = "appointment.restored"
	EventAppointmentCompleted   = "appointment.completed"
	EventAppointmentNoShow      = "appointment.no_show"
	// EventRescheduleRequested is a patient asking for another time (the
	// appointment is now reschedule_requested); EventOfferSent is an offer
	// of new times sent to them (Detail lists the times).
	EventRescheduleRequested = "appointment.reschedule_requested"
	EventOfferSent           = "appointment.offer_sent"
	// EventAppointmentSignal is a click or an open of a link the
	// appointment's message carried (Source "click" or "open").
	EventAppointmentSignal = "appointment.signal"

	EventPatientCreated  = "patient.created"
	EventPatientUpdated  = "patient.updated"
	EventPatientOptedOut = "patient.opted_out"
	EventPatientOptedIn  = "patient.opted_in"
	// EventPatientErased is a patient erased: everything that identified
	// them is gone (PatientID says which row).
	EventPatientErased = "patient.erased"

	// EventMessage is a message's change of state (Status) or of send
	// time (a planned message moved).
	EventMessage = "message.status"

	// EventReplyReceived is an inbound SMS the app acted on; one it could
	// not act on is EventReplyNeedsAttention, and staff handling it is
	// EventInboxHandled.
	EventReplyReceived       = "reply.received"
	EventReplyNeedsAttention = "reply.needs_attention"
	EventInboxHandled        = "inbox.handled"

	// EventRetentionApplied is a run of the retention job that blanked
	// texts past their retention period (Detail says how many).
	EventRetentionApplied = "retention.applied"
)

// EventSink receives the domain events of each transaction.
type EventSink interface {
	// Stage runs inside the transaction, after its events are stored and
	// before it commits; ctx carries the transaction, so what Stage writes
	// through store commits (or rolls back) with the change. An error
	// rolls the whole transaction back.
	Stage(ctx context.Context, store *Store, events []Event) error
	// Committed runs after the transaction committed. It must not block.
	Committed(events []Event)
}

// Record adds domain events to the transaction ctx carries; they are stored
// with it and published when it commits. Outside a transaction they are
// stored and published at once, in a transaction of their own.
func (s *Store) Record(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	st := s.txOf(ctx)
	if st == nil {
		return s.Tx(ctx, func(ctx context.Context) error { return s.Record(ctx, events...) })
	}
	for _, e := range events {
		e.At = DBTime(e.At)
		if e.DueAt != nil {
			d := DBTime(*e.DueAt)
			e.DueAt = &d
		}
		e.Detail = Clip(e.Detail, 300)
		e.Source = Clip(e.Source, 32)
		st.events = append(st.events, e)
	}
	return nil
}

// insertEvents stores a transaction's events in as few statements as the
// database allows, and gives each its id.
func (s *Store) insertEvents(ctx context.Context, events []Event) error {
	if err := s.insertEventRows(s.conn(ctx), events); err != nil {
		return fmt.Errorf("store: record events: %w", err)
	}
	return nil
}

// PruneEvents deletes domain events recorded before cutoff and returns how
// many.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Where("at < ?", cutoff.UTC()).Delete(&Event{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune events: %w", err)
	}
	return n, nil
}

// Events returns the domain events recorded after the event with id after,
// oldest first, at most limit.
func (s *Store) Events(ctx context.Context, after uint, limit int) ([]Event, error) {
	var out []Event
	if err := s.conn(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: events: %w", Classify(err))
	}
	return out, nil
}

// DBTime brings t to UTC and microseconds, the precision both databases
// keep, so that a time read back equals the one written.
func DBTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
