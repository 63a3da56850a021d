// Package outbox owns every outbound SMS, from its planning to its last
// state: it plans an appointment's reminders and notices (one live message
// per appointment and reminder rule, recomputed on every change), composes
// texts from templates (one lookup, one set of template data), queues the
// answers a reply calls for, claims due messages for the dispatcher and
// records what became of each send, applies SMS.CX's delivery reports, and
// cancels what is no longer wanted. Every change of a message writes its
// timeline entry and its domain event in the caller's transaction.
//
// Planning itself (quiet hours, daylight saving, caps) is app/schedule's
// pure Plan; this package loads what Plan needs and reconciles the
// messages table with its answer.
package outbox

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"apptconfirm/app/render"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// Options configure an Outbox.
type Options struct {
	// Links makes the patient page's address that {link} shows; nil
	// leaves {link} empty.
	Links Linker
	// Caps limits reminders per patient (config reminders.cap_per_day and
	// cap_per_week); zero values mean no limit.
	Caps schedule.Caps
	// BookingConfirmation sends a message at once when an appointment is
	// booked (config reminders.booking_confirmation).
	BookingConfirmation bool
	// CancellationNotice sends a message at once when staff or the API
	// cancel an appointment (config reminders.cancellation_notice). A
	// patient who cancelled by SMS gets the reply's acknowledgement instead.
	CancellationNotice bool
	// RescheduleNotice sends a message at once when staff or the API move
	// an appointment to another time or place (config
	// reminders.reschedule_notice).
	RescheduleNotice bool
	// NoShowFollowUp sends a patient marked no-show, once per
	// appointment, an invitation to book again with their patient page's
	// link (config no_show.follow_up).
	NoShowFollowUp bool
	// MinLead is the least time a reminder moved to the end of quiet hours
	// must leave before the appointment (config reminders.min_lead); zero
	// means schedule.DefaultMinLead.
	MinLead time.Duration
	// DefaultLanguage is the clinic's language (config clinic.language):
	// a message goes out in it when the clinic has no text in the
	// patient's language. Empty (or unknown) means "en".
	DefaultLanguage string
	// ClinicName is the name texts give the clinic with {clinic} (config
	// clinic.name); empty shows the location's name.
	ClinicName string
	// AnswerCaps limits the automatic answers to one number (config
	// replies.*); zero values mean no limit.
	AnswerCaps AnswerCaps
	// Now is the clock of the methods that take no time (Upcoming, Skip,
	// Queue); nil means time.Now.
	Now func() time.Time
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
}

// Outbox is the owner of outbound messages. It is safe for concurrent use.
type Outbox struct {
	store *models.Store
	opts  Options
}

// New returns an Outbox on store.
func New(store *models.Store, opts Options) *Outbox {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Outbox{store: store, opts: opts}
}

// clock returns the current time at the database's precision.
func (o *Outbox) clock() time.Time { return models.DBTime(o.opts.Now()) }

// changed writes what happened to message m at now: a timeline line on its
// appointment (when it has one and detail is set) and its domain event.
func (o *Outbox) changed(ctx context.Context, m *models.Message, now time.Time, detail string) error {
	if e, ok := TimelineEntry(m, now, detail); ok && detail != "" {
		if err := o.store.AddTimeline(ctx, e); err != nil {
			return err
		}
	}
	return o.store.Record(ctx, MessageEvent(m, now, detail))
}

// MessageEvent is the domain event of message m's current state.
func MessageEvent(m *models.Message, at time.Time, detail string) models.Event {
	e := models.Event{
		At: at, Type: models.EventMessage, MessageID: m.ID, Status: string(m.Status),
		Source: m.Kind, Detail: detail,
	}
	if m.AppointmentID != nil {
		e.AppointmentID = *m.AppointmentID
	}
	if m.PatientID != nil {
		e.PatientID = *m.PatientID
	}
	if m.Status == models.MsgPlanned {
		due := m.SendAt
		e.DueAt = &due
	}
	return e
}

// When formats an instant for staff in a location's zone: "Tue 3 Mar 10:00 CET".
func When(t time.Time, zone *time.Location) string {
	if zone == nil {
		zone = time.UTC
	}
	return t.In(zone).Format("Mon 2 Jan 15:04 MST")
}

// Quiet returns a location's quiet hours; unreadable values (locations are
// validated when saved) mean none.
func Quiet(l *models.Location) schedule.QuietHours {
	q, err := schedule.ParseQuietHours(l.QuietStart, l.QuietEnd)
	if err != nil {
		return schedule.QuietHours{}
	}
	return q
}

// Linker makes the address of an appointment's patient page;
// app/patientlink implements it.
type Linker interface {
	URL(appointmentID uint) string
}

// TemplateData is what a template can show about appointment a: the
// patient's names and language, the start in the location's zone, the
// location, the provider and the location's phone number. a must have its
// Patient and Location loaded; Provider may be nil.
func TemplateData(a *models.Appointment) render.Data {
	return TemplateDataIn(a, nil)
}

// TemplateDataIn is TemplateData with the location's zone already loaded
// (nil loads it).
func TemplateDataIn(a *models.Appointment, zone *time.Location) render.Data {
	d := render.Data{StartsAt: a.StartsAt, AppointmentID: a.ID}
	if a.Patient != nil {
		d.FirstName, d.LastName, d.Language = a.Patient.FirstName, a.Patient.LastName, a.Patient.Language
	}
	if a.Location != nil {
		if zone == nil {
			zone = a.Location.Zone()
		}
		d.Location = zone
		d.LocationName, d.LocationAddress, d.ClinicPhone = a.Location.Name, a.Location.Address, a.Location.Phone
	}
	if a.Provider != nil {
		d.Provider = a.Provider.Name
	}
	return d
}

// Zones caches loaded time zones by name (loading one reads the zone
// database). It is not safe for concurrent use; keep one per batch.
type Zones map[string]*time.Location

// Of returns l's zone (UTC for a nil location or an unknown zone).
func (z Zones) Of(l *models.Location) *time.Location {
	if l == nil {
		return time.UTC
	}
	if loc, ok := z[l.TimeZone]; ok {
		return loc
	}
	loc := l.Zone()
	z[l.TimeZone] = loc
	return loc
}

// TimelineEntry is the timeline line Timeline writes for m; ok is false
// for a message without an appointment.
func TimelineEntry(m *models.Message, at time.Time, detail string) (e models.TimelineEntry, ok bool) {
	if m.AppointmentID == nil {
		return e, false
	}
	id := m.ID
	return models.TimelineEntry{
		AppointmentID: *m.AppointmentID, At: at, Kind: models.TimelineMessage,
		Detail: detail, MessageID: &id,
	}, true
}

// statusWord is an appointment state as people say it.
func statusWord(s models.AppointmentStatus) string {
	switch s {
	case models.NoShow:
		return "marked no-show"
	case models.RescheduleRequested:
		return "waiting for another time"
	}
	return string(s)
}

// Reasons written on messages that planning cancels, skips or leaves alone.
const (
	ReasonOptedOut     = "the patient opted out"
	ReasonRuleDisabled = "the rule was disabled"
	ReasonRuleRemoved  = "the rule no longer exists"
	// StaffSkipPrefix starts the reason of a message staff skipped; such a
	// skip is final for the appointment's current timing (replanning does
	// not bring the message back).
	StaffSkipPrefix = "skipped by "
)

// capReasonPrefix starts the reason of a reminder suppressed by the caps.
const capReasonPrefix = "the patient's reminder limit"

// notActiveReason explains why an appointment's messages were cancelled.
func notActiveReason(s models.AppointmentStatus) string {
	return "the appointment is " + statusWord(s)
}

// SkipReason turns a schedule reason into words staff can read.
func SkipReason(r string) string {
	switch {
	case r == schedule.ReasonPast:
		return "its send time had already passed"
	case r == schedule.ReasonConfirmed:
		return "the appointment is already confirmed"
	case r == schedule.ReasonNoTime:
		return "no time left outside quiet hours"
	case r == schedule.ReasonInvalidRule:
		return "the rule's timing is not valid"
	case r == schedule.ReasonNotActive:
		return "the appointment is not active"
	case r == schedule.ReasonAfterStart:
		return "the rule's time falls at or after the appointment's start"
	case strings.HasPrefix(r, schedule.ReasonCapPrefix):
		return capReasonPrefix + " (" + strings.TrimSuffix(strings.TrimPrefix(r, schedule.ReasonCapPrefix), " reached") + ") was reached"
	}
	return r
}

// On returns an Outbox like o that works on store (a private copy of the
// database, such as an import's preview works on).
func (o *Outbox) On(store *models.Store) *Outbox {
	return &Outbox{store: store, opts: o.opts}
}
