package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"apptconfirm/models"
)

// Envelope is the body of every webhook: what happened, when, and the data
// an integrator needs to act on it without calling back.
type Envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Data      `json:"data"`
}

// Data is the payload of an event. Only the parts the event concerns are
// present; each is a copy of the row as it stood in the transaction of the
// change.
type Data struct {
	// EventID is the domain event's number in apptconfirm (0 for a test).
	EventID uint `json:"event_id"`
	// Source says how the change came ("sms", "staff", "api", "link",
	// "inbox", a message kind, an opt-out source).
	Source      string           `json:"source,omitempty"`
	Detail      string           `json:"detail,omitempty"`
	Appointment *AppointmentData `json:"appointment,omitempty"`
	Patient     *PatientData     `json:"patient,omitempty"`
	Message     *MessageData     `json:"message,omitempty"`
	Reply       *ReplyData       `json:"reply,omitempty"`
	Test        bool             `json:"test,omitempty"`
}

// AppointmentData is an appointment in a payload.
type AppointmentData struct {
	ID              uint       `json:"id"`
	ExternalID      string     `json:"external_id,omitempty"`
	Status          string     `json:"status"`
	StartsAt        time.Time  `json:"starts_at"`
	EndsAt          time.Time  `json:"ends_at"`
	DurationMinutes int        `json:"duration_minutes"`
	LocationID      uint       `json:"location_id"`
	LocationName    string     `json:"location_name"`
	TimeZone        string     `json:"time_zone"`
	ProviderID      *uint      `json:"provider_id"`
	ProviderName    string     `json:"provider_name,omitempty"`
	ConfirmedAt     *time.Time `json:"confirmed_at"`
	CancelledAt     *time.Time `json:"cancelled_at"`
}

// PatientData is a patient in a payload; Phone only for endpoints that
// asked for it.
type PatientData struct {
	ID         uint   `json:"id"`
	ExternalID string `json:"external_id,omitempty"`
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	Language   string `json:"language"`
	OptedOut   bool   `json:"opted_out"`
	Phone      string `json:"phone,omitempty"`
	Erased     bool   `json:"erased,omitempty"`
}

// MessageData is an outbound SMS in a payload.
type MessageData struct {
	ID          uint       `json:"id"`
	UUID        string     `json:"uuid"`
	Kind        string     `json:"kind"`
	Status      string     `json:"status"`
	Rule        string     `json:"rule,omitempty"`
	Language    string     `json:"language,omitempty"`
	Parts       int        `json:"parts"`
	SentAt      *time.Time `json:"sent_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
	ErrorCode   *int       `json:"error_code"`
	Reason      string     `json:"reason,omitempty"`
}

// ReplyData is an inbound SMS in a payload.
type ReplyData struct {
	ID             uint      `json:"id"`
	Text           string    `json:"text"`
	Intent         string    `json:"intent"`
	ReceivedAt     time.Time `json:"received_at"`
	NeedsAttention bool      `json:"needs_attention"`
}

// eventData reads what event e concerns, in the transaction ctx carries.
func eventData(ctx context.Context, store *models.Store, e models.Event) (Data, error) {
	d := Data{EventID: e.ID, Source: e.Source, Detail: e.Detail}
	if e.AppointmentID != 0 {
		a, err := store.Appointment(ctx, e.AppointmentID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return d, err
		}
		if a != nil {
			d.Appointment = appointmentData(a)
			if e.PatientID == 0 {
				e.PatientID = a.PatientID
			}
		}
	}
	if e.PatientID != 0 {
		p, err := store.Patient(ctx, e.PatientID)
		switch {
		case errors.Is(err, models.ErrNotFound):
			d.Patient = &PatientData{ID: e.PatientID, Erased: true}
		case err != nil:
			return d, err
		default:
			d.Patient = &PatientData{
				ID: p.ID, ExternalID: p.ExternalID, FirstName: p.FirstName, LastName: p.LastName, Language: p.Language,
				OptedOut: p.OptedOutAt != nil, Phone: p.Phone,
			}
		}
	}
	if e.MessageID != 0 {
		m, err := store.Message(ctx, e.MessageID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return d, err
		}
		if m != nil {
			d.Message = &MessageData{
				ID: m.ID, UUID: m.UUID, Kind: m.Kind, Status: string(m.Status), Rule: m.RuleName, Language: m.Language,
				Parts: m.Parts, SentAt: m.SentAt, DeliveredAt: m.DeliveredAt, ErrorCode: m.ErrorCode, Reason: m.Reason,
			}
		}
	}
	if e.InboundID != 0 {
		in, err := store.InboundMessage(ctx, e.InboundID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return d, err
		}
		if in != nil {
			d.Reply = &ReplyData{ID: in.ID, Text: in.Text, Intent: in.Intent, ReceivedAt: in.ReceivedAt.UTC(), NeedsAttention: in.NeedsAttention}
		}
	}
	return d, nil
}

func appointmentData(a *models.Appointment) *AppointmentData {
	ad := &AppointmentData{
		ID: a.ID, ExternalID: a.ExternalID, Status: string(a.Status), StartsAt: a.StartsAt.UTC(), EndsAt: a.EndsAt().UTC(),
		DurationMinutes: a.DurationMinutes, LocationID: a.LocationID, ProviderID: a.ProviderID,
		ConfirmedAt: a.ConfirmedAt, CancelledAt: a.CancelledAt,
	}
	if a.Location != nil {
		ad.LocationName, ad.TimeZone = a.Location.Name, a.Location.TimeZone
	}
	if a.Provider != nil {
		ad.ProviderName = a.Provider.Name
	}
	return ad
}

// payload is the body sent to an endpoint: the patient's number only when
// it asked for it.
func payload(t string, at time.Time, d Data, includePhone bool) (string, error) {
	if d.Patient != nil && !includePhone && d.Patient.Phone != "" {
		p := *d.Patient
		p.Phone = ""
		d.Patient = &p
	}
	b, err := json.Marshal(Envelope{Type: t, Timestamp: at.UTC(), Data: d})
	return string(b), err
}

// orderKey is what orders an event's deliveries: its appointment's, else
// its patient's, else its own.
func orderKey(e models.Event) string {
	switch {
	case e.AppointmentID != 0:
		return "a" + strconv.FormatUint(uint64(e.AppointmentID), 10)
	case e.PatientID != 0:
		return "p" + strconv.FormatUint(uint64(e.PatientID), 10)
	}
	return "e" + strconv.FormatUint(uint64(e.ID), 10)
}
