// Package reminders keeps every appointment's outbound messages in line with
// the appointment: it implements clinic.Planner (one live message per
// appointment and reminder rule, recomputed on every change, plus the
// booking confirmation and the cancellation notice), the reminder-rule
// editor's service (create, edit, enable, disable, preview), the rendering
// of message bodies and the list of messages planned for the next hours.
//
// Planning itself (quiet hours, daylight saving, caps) is app/schedule's
// pure Plan; this package loads what Plan needs, and reconciles the
// messages table with its answer inside the caller's transaction.
package reminders

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"apptconfirm/app/clinic"
	"apptconfirm/app/live"
	"apptconfirm/app/render"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// Options configure a Service.
type Options struct {
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
	// Publisher receives an Event for every message status change; nil
	// publishes nothing. Events are published inside the caller's
	// transaction, before it commits: browsers treat them as a hint to
	// reload, so a rolled-back change costs one needless reload.
	Publisher live.Publisher
	// Now is the clock for the rule editor and the upcoming list; nil
	// means time.Now. Replan takes the caller's now.
	Now func() time.Time
	// Logger receives warnings (a location with unreadable quiet hours);
	// nil discards them.
	Logger *slog.Logger
}

// Service plans messages and edits reminder rules. It is safe for
// concurrent use.
type Service struct {
	store *models.Store
	opts  Options

	mu   sync.RWMutex
	kick func()
}

// New returns a Service on store.
func New(store *models.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, opts: opts}
}

// SetKicker sets the function called after a message that should go out at
// once (a booking confirmation, a cancellation notice) was queued; the
// dispatcher's Kick. It may be called once at wiring time.
func (s *Service) SetKicker(kick func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kick = kick
}

func (s *Service) kickDispatcher() {
	s.mu.RLock()
	k := s.kick
	s.mu.RUnlock()
	if k != nil {
		k()
	}
}

var _ clinic.Planner = (*Service)(nil)

// clock returns the current time at the database's precision.
func (s *Service) clock() time.Time { return dbTime(s.opts.Now()) }

// dbTime brings t to UTC and microseconds, the precision both databases keep.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// publish reports a message status change.
func (s *Service) publish(m *models.Message) {
	if s.opts.Publisher == nil {
		return
	}
	s.opts.Publisher.Publish(MessageEvent(m))
}

// MessageEvent is the live event for m's current status.
func MessageEvent(m *models.Message) live.Event {
	e := live.Event{Kind: "message", MessageID: m.ID, Status: string(m.Status), At: time.Now().UTC()}
	if m.AppointmentID != nil {
		e.AppointmentID = *m.AppointmentID
	}
	if m.PatientID != nil {
		e.PatientID = *m.PatientID
	}
	return e
}

// Label names a message for people: `Reminder "48h"`, "Booking
// confirmation", "Opt-out acknowledgement", ...
func Label(m *models.Message) string {
	switch m.Kind {
	case models.KindReminder:
		if m.RuleName != "" {
			return fmt.Sprintf("Reminder %q", m.RuleName)
		}
		return "Reminder"
	case models.KindBookingConfirm:
		return "Booking confirmation"
	case models.KindCancellation:
		return "Cancellation notice"
	case models.KindAckConfirm:
		return "Confirmation acknowledgement"
	case models.KindAckCancel:
		return "Cancellation acknowledgement"
	case models.KindOptOutAck:
		return "Opt-out acknowledgement"
	case models.KindOptInAck:
		return "Opt-in acknowledgement"
	case models.KindHelp:
		return "Help reply"
	case models.KindQuestion:
		return "Which-appointment question"
	case models.KindManual:
		return "Message from staff"
	case models.KindTest:
		return "Test message"
	}
	if m.Kind == "" {
		return "Message"
	}
	return "Message (" + m.Kind + ")"
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
	d := render.Data{StartsAt: a.StartsAt}
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
		AppointmentID: *m.AppointmentID, At: dbTime(at), Kind: models.TimelineMessage,
		Detail: truncate(detail, 1000), MessageID: &id,
	}, true
}

// Timeline writes one message line on the message's appointment timeline
// (nothing for a message without an appointment).
func Timeline(ctx context.Context, tx *models.Store, m *models.Message, at time.Time, detail string) error {
	e, ok := TimelineEntry(m, at, detail)
	if !ok {
		return nil
	}
	return clinic.RecordTimeline(ctx, tx, e)
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// statusWord is an appointment state as people say it.
func statusWord(s models.AppointmentStatus) string {
	if s == models.NoShow {
		return "marked no-show"
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
	case strings.HasPrefix(r, schedule.ReasonCapPrefix):
		return capReasonPrefix + " (" + strings.TrimSuffix(strings.TrimPrefix(r, schedule.ReasonCapPrefix), " reached") + ") was reached"
	}
	return r
}
