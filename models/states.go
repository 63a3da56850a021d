package models

import "fmt"

// AppointmentStatus is where an appointment stands.
type AppointmentStatus string

// Appointment states.
const (
	Scheduled AppointmentStatus = "scheduled"
	Confirmed AppointmentStatus = "confirmed"
	Cancelled AppointmentStatus = "cancelled"
	Completed AppointmentStatus = "completed"
	NoShow    AppointmentStatus = "no_show"
	// RescheduleRequested is an appointment whose patient asked for another
	// time: it keeps its slot, but no reminder asks to confirm it until it
	// moves to an offered time or staff settle it.
	RescheduleRequested AppointmentStatus = "reschedule_requested"
)

// AppointmentStatuses lists every state, in display order.
var AppointmentStatuses = []AppointmentStatus{Scheduled, Confirmed, RescheduleRequested, Cancelled, Completed, NoShow}

// Valid reports whether s is a known state.
func (s AppointmentStatus) Valid() bool {
	for _, v := range AppointmentStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Active reports whether the appointment still expects the patient
// (and so still wants reminders).
func (s AppointmentStatus) Active() bool { return s == Scheduled || s == Confirmed }

// Holds reports whether the appointment still occupies its time, so that
// no one else may be booked into it: an active one, or one whose patient
// asked for another time and has not moved yet.
func (s AppointmentStatus) Holds() bool { return s.Active() || s == RescheduleRequested }

// appointmentMoves lists the allowed transitions. Completed and no_show are
// set by staff after the start; a cancelled appointment may be restored to
// scheduled by staff (it is replanned then). A request for another time
// ends at an offered time (confirmed), back at the old one (scheduled or
// confirmed, by staff or a YES), or cancelled.
var appointmentMoves = map[AppointmentStatus][]AppointmentStatus{
	Scheduled:           {Confirmed, RescheduleRequested, Cancelled, Completed, NoShow},
	Confirmed:           {Scheduled, RescheduleRequested, Cancelled, Completed, NoShow},
	RescheduleRequested: {Scheduled, Confirmed, Cancelled, Completed, NoShow},
	Cancelled:           {Scheduled},
	Completed:           {NoShow},
	NoShow:              {Completed},
}

// CanMove reports whether an appointment may go from s to next.
func (s AppointmentStatus) CanMove(next AppointmentStatus) bool {
	for _, v := range appointmentMoves[s] {
		if v == next {
			return true
		}
	}
	return false
}

// ErrBadTransition is returned when a state change is not allowed.
type ErrBadTransition struct {
	From, To string
}

func (e *ErrBadTransition) Error() string {
	return fmt.Sprintf("cannot change status from %s to %s", e.From, e.To)
}

// MessageStatus is where an outbound message stands.
type MessageStatus string

// Message states.
const (
	MsgPlanned   MessageStatus = "planned"
	MsgSending   MessageStatus = "sending"
	MsgAccepted  MessageStatus = "accepted"
	MsgSent      MessageStatus = "sent"
	MsgDelivered MessageStatus = "delivered"
	MsgFailed    MessageStatus = "failed"
	MsgRejected  MessageStatus = "rejected"
	MsgCancelled MessageStatus = "cancelled"
	MsgSkipped   MessageStatus = "skipped"
)

// MessageStatuses lists every message state, in display order.
var MessageStatuses = []MessageStatus{MsgPlanned, MsgSending, MsgAccepted, MsgSent, MsgDelivered, MsgFailed, MsgRejected, MsgCancelled, MsgSkipped}

// Valid reports whether s is a known state.
func (s MessageStatus) Valid() bool {
	for _, v := range MessageStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Pending reports whether the message has not left us yet.
func (s MessageStatus) Pending() bool { return s == MsgPlanned || s == MsgSending }

// Final reports whether nothing can change the message any more.
func (s MessageStatus) Final() bool {
	switch s {
	case MsgDelivered, MsgFailed, MsgRejected, MsgCancelled, MsgSkipped:
		return true
	}
	return false
}

// deliveryRank orders the states a delivery report can move a message
// through; a report never moves a message to a lower rank.
var deliveryRank = map[MessageStatus]int{
	MsgSending:   1,
	MsgAccepted:  2,
	MsgSent:      3,
	MsgDelivered: 4,
	MsgFailed:    4,
	MsgRejected:  4,
}

// AdvancesTo reports whether a delivery report saying next may replace s:
// states only move forward, and a final state never changes.
func (s MessageStatus) AdvancesTo(next MessageStatus) bool {
	if s.Final() {
		return false
	}
	r, ok := deliveryRank[next]
	if !ok {
		return false
	}
	return r > deliveryRank[s]
}

// OutcomeUnknown reports a message no longer tried while SMS.CX may have
// taken it: still sending and in doubt, with no lease. Staff see it as "in
// doubt" until a delivery report settles it.
func (m Message) OutcomeUnknown() bool {
	return m.Status == MsgSending && m.InDoubt && m.LeaseUntil == nil
}
