package api

import (
	"context"
	"fmt"
	"time"

	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// The answer shapes of the REST API. They are public: change them only
// with a migration note in the README.

// Appointment is an appointment as the API shows it. Times are RFC 3339 in
// the location's zone (with its offset).
type Appointment struct {
	ID              uint   `json:"id"`
	Status          string `json:"status"`
	StartsAt        string `json:"starts_at"`
	DurationMinutes int    `json:"duration_minutes"`
	LocationID      uint   `json:"location_id"`
	ProviderID      *uint  `json:"provider_id"`
	// AppointmentTypeID is the appointment's type, null for none.
	AppointmentTypeID *uint        `json:"appointment_type_id"`
	ExternalID        *string      `json:"external_id"`
	Patient           PatientRef   `json:"patient"`
	Messages          []MessageRef `json:"messages"`
	CreatedAt         string       `json:"created_at"`
	UpdatedAt         string       `json:"updated_at"`
}

// PatientRef is the patient inside an appointment.
type PatientRef struct {
	ID         uint    `json:"id"`
	Name       string  `json:"name"`
	Phone      string  `json:"phone"`
	OptedOut   bool    `json:"opted_out"`
	ExternalID *string `json:"external_id"`
}

// MessageRef is one outbound message of an appointment. Rule is the
// reminder rule's name, or the message kind for messages no rule planned
// ("booking_confirmation", "ack_confirm", ...); Name is its name as staff
// read it ("Reminder 48 h before"). Language is the language its text was
// written in, once written; Fallback is set when that is the clinic's
// language because there was no text in the patient's. Error is the reason
// a message failed or was rejected, else null.
type MessageRef struct {
	ID                uint    `json:"id"`
	Rule              string  `json:"rule"`
	Name              string  `json:"name"`
	Language          *string `json:"language"`
	Fallback          bool    `json:"fallback"`
	Status            string  `json:"status"`
	SendAt            string  `json:"send_at"`
	SentAt            *string `json:"sent_at"`
	ProviderMessageID *string `json:"provider_message_id"`
	Error             *string `json:"error"`
	// PlannedBecause says why a reminder was planned: its rule and the
	// condition ("Reminder '48h' (type Check-up, Paris)"); null for other
	// messages.
	PlannedBecause *string `json:"planned_because"`
}

// Patient is a patient as the patient endpoints show them (times in UTC).
type Patient struct {
	ID        uint   `json:"id"`
	Name      string `json:"name"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Phone     string `json:"phone"`
	Language  string `json:"language"`
	OptedOut  bool   `json:"opted_out"`
	// ExternalID is the patient's id in the clinic's other system.
	ExternalID *string `json:"external_id"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`
}

// TimelineItem is one line of an appointment's timeline.
type TimelineItem struct {
	At     string `json:"at"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Page is a page of a list.
type Page[T any] struct {
	Data    []T   `json:"data"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
	Total   int64 `json:"total"`
}

// Timeline is the answer of the timeline endpoint.
type Timeline struct {
	Data []TimelineItem `json:"data"`
}

// zones caches time zones by name for one answer (time.LoadLocation reads
// the zone database each time).
type zones map[string]*time.Location

func (z zones) get(name string) *time.Location {
	if l, ok := z[name]; ok {
		return l
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	z[name] = l
	return l
}

// stamp formats t as RFC 3339 in zone.
func stamp(t time.Time, zone *time.Location) string {
	return t.In(zone).Format(time.RFC3339)
}

func stampp(t *time.Time, zone *time.Location) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := stamp(*t, zone)
	return &s
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// toAppointments turns appointments (with Patient and Location loaded) into
// answers, loading all their messages in one query.
func (a *API) toAppointments(ctx context.Context, as []models.Appointment) ([]Appointment, error) {
	out := make([]Appointment, 0, len(as))
	if len(as) == 0 {
		return out, nil
	}
	ids := make([]uint, len(as))
	for i := range as {
		ids[i] = as[i].ID
	}
	byAppt, err := a.clinic.MessageSummaries(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("api: load messages: %w", err)
	}
	zs := zones{}
	for i := range as {
		out = append(out, appointmentJSON(&as[i], byAppt[as[i].ID], zs))
	}
	return out, nil
}

// toAppointment is toAppointments for one.
func (a *API) toAppointment(ctx context.Context, ap *models.Appointment) (Appointment, error) {
	out, err := a.toAppointments(ctx, []models.Appointment{*ap})
	if err != nil {
		return Appointment{}, err
	}
	return out[0], nil
}

func appointmentJSON(ap *models.Appointment, msgs []models.Message, zs zones) Appointment {
	zone := time.UTC
	if ap.Location != nil {
		zone = zs.get(ap.Location.TimeZone)
	}
	out := Appointment{
		ID: ap.ID, Status: string(ap.Status), StartsAt: stamp(ap.StartsAt, zone),
		DurationMinutes: ap.DurationMinutes, LocationID: ap.LocationID,
		ProviderID: ap.ProviderID, AppointmentTypeID: ap.AppointmentTypeID, ExternalID: strp(ap.ExternalID),
		Messages:  make([]MessageRef, 0, len(msgs)),
		CreatedAt: stamp(ap.CreatedAt, zone), UpdatedAt: stamp(ap.UpdatedAt, zone),
	}
	if p := ap.Patient; p != nil {
		out.Patient = PatientRef{ID: p.ID, Name: p.Name(), Phone: p.Phone, OptedOut: p.OptedOut(), ExternalID: strp(p.ExternalID)}
	} else {
		out.Patient = PatientRef{ID: ap.PatientID}
	}
	for _, m := range msgs {
		out.Messages = append(out.Messages, messageJSON(m, zone))
	}
	return out
}

func messageJSON(m models.Message, zone *time.Location) MessageRef {
	rule := m.RuleName
	if rule == "" {
		rule = m.Kind
	}
	out := MessageRef{
		ID: m.ID, Rule: rule, Name: outbox.Label(&m), Language: strp(m.Language), Fallback: m.FallbackFrom != "",
		Status: string(m.Status), SendAt: stamp(m.SendAt, zone),
		SentAt: stampp(m.SentAt, zone), ProviderMessageID: strp(m.ProviderID),
		PlannedBecause: strp(m.PlannedBecause),
	}
	if m.Status == models.MsgFailed || m.Status == models.MsgRejected {
		reason := m.Reason
		if reason == "" {
			reason = string(m.Status)
		}
		out.Error = &reason
	}
	return out
}

func patientJSON(p *models.Patient) Patient {
	return Patient{
		ID: p.ID, Name: p.Name(), FirstName: p.FirstName, LastName: p.LastName,
		Phone: p.Phone, Language: p.Language, OptedOut: p.OptedOut(), ExternalID: strp(p.ExternalID),
		CreatedAt: stamp(p.CreatedAt, time.UTC), UpdatedAt: stamp(p.UpdatedAt, time.UTC),
	}
}
