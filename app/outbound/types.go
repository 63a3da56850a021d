package outbound

import (
	"apptconfirm/models"
)

// The event types an endpoint may ask for.
const (
	TypeAppointmentCreated     = "appointment.created"
	TypeAppointmentUpdated     = "appointment.updated"
	TypeAppointmentRescheduled = "appointment.rescheduled"
	TypeAppointmentConfirmed   = "appointment.confirmed"
	TypeAppointmentCancelled   = "appointment.cancelled"
	TypeAppointmentRestored    = "appointment.restored"
	TypeAppointmentCompleted   = "appointment.completed"
	TypeAppointmentNoShow      = "appointment.no_show"
	TypeMessageSent            = "message.sent"
	TypeMessageDelivered       = "message.delivered"
	TypeMessageFailed          = "message.failed"
	TypeReplyReceived          = "reply.received"
	TypeReplyNeedsAttention    = "reply.needs_attention"
	TypePatientOptedOut        = "patient.opted_out"
	TypePatientOptedIn         = "patient.opted_in"
	// TypeTest is the event of "send a test event"; an endpoint receives
	// it when asked, whatever its list, even while disabled.
	TypeTest = models.DeliveryTypeTest
)

// Types lists the event types an endpoint may subscribe to, in the order
// the forms show them.
var Types = []string{
	TypeAppointmentCreated, TypeAppointmentUpdated, TypeAppointmentRescheduled,
	TypeAppointmentConfirmed, TypeAppointmentCancelled, TypeAppointmentRestored,
	TypeAppointmentCompleted, TypeAppointmentNoShow,
	TypeMessageSent, TypeMessageDelivered, TypeMessageFailed,
	TypeReplyReceived, TypeReplyNeedsAttention,
	TypePatientOptedOut, TypePatientOptedIn,
}

// knownType reports whether t is one of Types.
func knownType(t string) bool {
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// TypeOf returns the event type a domain event is delivered as, or "" for
// a domain event no endpoint receives (a patient's details edited, a link
// clicked, a message planned or moved).
func TypeOf(e models.Event) string {
	switch e.Type {
	case models.EventAppointmentCreated, models.EventAppointmentUpdated, models.EventAppointmentRescheduled,
		models.EventAppointmentConfirmed, models.EventAppointmentCancelled, models.EventAppointmentRestored,
		models.EventAppointmentCompleted, models.EventAppointmentNoShow,
		models.EventReplyReceived, models.EventReplyNeedsAttention,
		models.EventPatientOptedOut, models.EventPatientOptedIn:
		// The domain's names are the webhook names.
		return e.Type
	case models.EventMessage:
		switch models.MessageStatus(e.Status) {
		case models.MsgAccepted:
			// SMS.CX took the message: it has left apptconfirm. The
			// operator's own "sent" that may follow adds nothing.
			return TypeMessageSent
		case models.MsgDelivered:
			return TypeMessageDelivered
		case models.MsgFailed, models.MsgRejected:
			return TypeMessageFailed
		}
	}
	return ""
}
