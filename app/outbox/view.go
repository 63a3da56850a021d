package outbox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"apptconfirm/app/render"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// Name is the name staff read for message m: "Reminder 48 h before" (from
// its rule's timing, with the rule's name when that says more: "Reminder 7
// days before (Dental recall)"), "Confirmation acknowledgement",
// "Reschedule notice", "Staff message". rule is m's rule, or nil: the
// name then comes from the rule name m carries ("48h" reads "Reminder 48 h
// before").
func Name(m *models.Message, rule *models.ReminderRule) string {
	if m.Kind != models.KindReminder {
		if m.Kind == "" {
			return "Message"
		}
		return texts.KindName(m.Kind)
	}
	if rule != nil && rule.IsNudge() {
		return fmt.Sprintf("Nudge %q", rule.Name)
	}
	if rule != nil && rule.Timing == models.RuleDayBefore {
		return fmt.Sprintf("Reminder %q", rule.Name)
	}
	if rule != nil {
		name := texts.ReminderName(rule.Before())
		if d, ok := parseTiming(rule.Name); !ok || d != rule.Before() {
			name += " (" + rule.Name + ")"
		}
		return name
	}
	if d, ok := parseTiming(m.RuleName); ok {
		return texts.ReminderName(d)
	}
	if m.RuleName != "" {
		return fmt.Sprintf("Reminder %q", m.RuleName)
	}
	return "Reminder"
}

// Label is Name without the rule: how timeline lines and flashes name a
// message.
func Label(m *models.Message) string { return Name(m, nil) }

// parseTiming reads a rule name that only says its timing: "48h", "2 h",
// "90m", "1h30m", "3d".
func parseTiming(name string) (time.Duration, bool) {
	s := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 1000 {
			return 0, false
		}
		return time.Duration(n) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, false
	}
	return d, true
}

// Shown is one message as staff read it: its name, its text as sent or,
// while it is planned, as it will be sent, in which language, and when
// and why quiet hours moved it.
type Shown struct {
	Message models.Message
	// Name is the message's readable name (see Name).
	Name string
	// Preview is the text as sent; for a message not written yet, the text
	// as it will be written at its send time (or now, when overdue), with
	// its length, encoding and parts. Empty when Problem is set.
	Preview render.Preview
	// Upcoming is set when Preview is the text as it will be written, not
	// as it was sent.
	Upcoming bool
	// Language is the text's language code ("" for a text staff typed);
	// FallbackFrom is the patient's language when the clinic had no text
	// in it.
	Language, FallbackFrom string
	// DayWarning is set when the text's fixed words name a wrong day for
	// its send time (see render.DayContradiction).
	DayWarning string
	// Moved says when the message was due and where quiet hours moved it
	// ("due Mon 2 Mar 07:00 CET; moved to 08:00, after quiet hours").
	Moved string
	// Problem says why the text cannot be written (it would fail when sent).
	Problem string
}

// LanguageNote says in words which language the text is in, and flags a
// fallback: "French", "English (no German text)"; "" for a text without a
// language (typed by staff).
func (s Shown) LanguageNote() string { return LanguageNote(s.Language, s.FallbackFrom) }

// LanguageNote says in words which language a text is in, and flags a
// fallback: "French", "English (no German text)".
func LanguageNote(lang, fallbackFrom string) string {
	if lang == "" {
		return ""
	}
	note := texts.LanguageName(lang)
	if fallbackFrom != "" {
		note += " (no " + texts.LanguageName(fallbackFrom) + " text)"
	}
	return note
}

// viewing is what showing a batch of messages needs.
type viewing struct {
	texts *Texts
	rules map[uint]*models.ReminderRule
	appts map[uint]*models.Appointment
	zones Zones
	now   time.Time
}

// newViewing loads what showing ms needs in a few queries.
func (o *Outbox) newViewing(ctx context.Context, ms []models.Message) (*viewing, error) {
	v := &viewing{zones: Zones{}, now: o.clock()}
	var apptIDs, ruleIDs []uint
	for _, m := range ms {
		if m.AppointmentID != nil {
			apptIDs = append(apptIDs, *m.AppointmentID)
		}
		if m.RuleID != nil {
			ruleIDs = append(ruleIDs, *m.RuleID)
		}
	}
	var err error
	if v.appts, err = o.store.AppointmentsByID(ctx, apptIDs); err != nil {
		return nil, err
	}
	if v.rules, err = o.store.RulesByID(ctx, ruleIDs); err != nil {
		return nil, err
	}
	if v.texts, err = o.Texts(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// show describes m; a planned message without a text is written as it
// will be at its send time.
func (v *viewing) show(m models.Message) Shown {
	var rule *models.ReminderRule
	if m.RuleID != nil {
		rule = v.rules[*m.RuleID]
	}
	var a *models.Appointment
	if m.AppointmentID != nil {
		a = v.appts[*m.AppointmentID]
	}
	zone := time.UTC
	if a != nil {
		zone = v.zones.Of(a.Location)
	}
	s := Shown{Message: m, Name: Name(&m, rule), Language: m.Language, FallbackFrom: m.FallbackFrom}
	if m.MovedFrom != nil && m.MoveReason != "" {
		s.Moved = "due " + When(*m.MovedFrom, zone) + "; " + m.MoveReason
	}
	switch {
	case m.Body != "":
		s.Preview = Measure(m.Body)
	case m.Status.Pending():
		sendAt := m.SendAt
		if sendAt.Before(v.now) {
			sendAt = v.now
		}
		c, err := v.texts.Compose(&m, a, rule, v.zones, sendAt)
		if err != nil {
			s.Problem = problem(err)
			break
		}
		s.Preview, s.Upcoming = Measure(c.Text), true
		s.Language, s.FallbackFrom, s.DayWarning = c.Language, c.FallbackFrom, c.DayWarning()
	}
	return s
}

// problem words a composing error for staff.
func problem(err error) string {
	var rerr *render.Error
	if errors.As(err, &rerr) {
		return "the text cannot be written: " + strings.TrimPrefix(rerr.Error(), "render: ")
	}
	return strings.TrimPrefix(err.Error(), "outbox: ")
}

// AppointmentMessages returns an appointment's messages in the order they
// go out, each as staff read it (see Shown).
func (o *Outbox) AppointmentMessages(ctx context.Context, appointmentID uint) ([]Shown, error) {
	ms, err := o.store.MessagesBySendTime(ctx, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("outbox: messages: %w", err)
	}
	return o.showAll(ctx, ms)
}

// PatientMessages returns the latest limit messages to a patient, the
// latest send time first, each as staff read it (see Shown).
func (o *Outbox) PatientMessages(ctx context.Context, patientID uint, limit int) ([]Shown, error) {
	ms, err := o.store.PatientMessages(ctx, patientID, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: messages: %w", err)
	}
	return o.showAll(ctx, ms)
}

func (o *Outbox) showAll(ctx context.Context, ms []models.Message) ([]Shown, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	v, err := o.newViewing(ctx, ms)
	if err != nil {
		return nil, fmt.Errorf("outbox: messages: %w", err)
	}
	out := make([]Shown, len(ms))
	for i, m := range ms {
		out[i] = v.show(m)
	}
	return out, nil
}

// Upcoming is one message planned to go out soon, as "Tomorrow's sends"
// shows it.
type Upcoming struct {
	Shown
	// Appointment is the message's appointment with Patient, Location and
	// Provider loaded, or nil.
	Appointment *models.Appointment
	// Patient is the recipient, when known.
	Patient *models.Patient
	// Zone is the IANA zone its times are shown in: the location's, else UTC.
	Zone string
}

// Upcoming returns the planned messages due before now+window (overdue
// ones included: they go out at the next dispatch), soonest first, at most
// limit, each written as it will go out.
func (o *Outbox) Upcoming(ctx context.Context, window time.Duration, limit int) ([]Upcoming, error) {
	now := o.clock()
	ms, err := o.store.PlannedDueBefore(ctx, now.Add(window), limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: upcoming: %w", err)
	}
	v, err := o.newViewing(ctx, ms)
	if err != nil {
		return nil, fmt.Errorf("outbox: upcoming: %w", err)
	}
	var patientIDs []uint
	for _, m := range ms {
		if m.AppointmentID == nil && m.PatientID != nil {
			patientIDs = append(patientIDs, *m.PatientID)
		}
	}
	patients, err := o.store.PatientsByID(ctx, patientIDs)
	if err != nil {
		return nil, fmt.Errorf("outbox: upcoming: %w", err)
	}
	out := make([]Upcoming, 0, len(ms))
	for _, m := range ms {
		u := Upcoming{Shown: v.show(m), Zone: "UTC"}
		if m.AppointmentID != nil {
			u.Appointment = v.appts[*m.AppointmentID]
		}
		if u.Appointment != nil {
			u.Patient = u.Appointment.Patient
			if u.Appointment.Location != nil {
				u.Zone = u.Appointment.Location.TimeZone
			}
		} else if m.PatientID != nil {
			u.Patient = patients[*m.PatientID]
		}
		out = append(out, u)
	}
	return out, nil
}

// QuickAnswer is one of the inbox's ready answers, written for a patient.
type QuickAnswer struct {
	Kind string
	// Name is the answer's name ("Quick answer: please call us"); Label
	// is its button's ("Please call us").
	Name, Label string
	Composed
}

// QuickAnswers writes the inbox's quick answers for patient p in their
// language, about appointment a when there is one (nil: the patient only).
func (o *Outbox) QuickAnswers(ctx context.Context, p *models.Patient, a *models.Appointment) ([]QuickAnswer, error) {
	w, err := o.QuickAnswerWriter(ctx)
	if err != nil {
		return nil, err
	}
	return w.For(p, a), nil
}

// QuickAnswerWriter writes quick answers for many inbox items from what it
// reads once (the texts and the default location), so that a page of
// items costs the same few queries as one.
type QuickAnswerWriter struct {
	o     *Outbox
	texts *Texts
	// loc is the default location (nil when there is none).
	loc *models.Location
	now time.Time
}

// QuickAnswerWriter reads what quick answers are written from.
func (o *Outbox) QuickAnswerWriter(ctx context.Context) (*QuickAnswerWriter, error) {
	t, err := o.Texts(ctx)
	if err != nil {
		return nil, err
	}
	w := &QuickAnswerWriter{o: o, texts: t, now: o.clock()}
	loc, err := o.store.DefaultLocation(ctx)
	switch {
	case err == nil:
		w.loc = loc
	case !errors.Is(err, models.ErrNotFound):
		return nil, fmt.Errorf("outbox: quick answers: %w", err)
	}
	return w, nil
}

// For writes the quick answers for patient p, about appointment a when
// there is one (see Outbox.QuickAnswers).
func (w *QuickAnswerWriter) For(p *models.Patient, a *models.Appointment) []QuickAnswer {
	var d render.Data
	if a != nil && a.Patient != nil && a.Location != nil {
		d = TemplateData(a)
	} else {
		d = w.o.patientDataAt(p, w.loc)
	}
	d.SendAt = w.now
	t := w.texts
	var out []QuickAnswer
	for _, kind := range QuickAnswerKinds() {
		c, err := t.Write(KindKey(kind), d, nil)
		if err != nil {
			// A text that cannot be written is not offered; the editor
			// refuses such texts, so this is only an old one.
			continue
		}
		name := texts.KindName(kind)
		label := strings.TrimPrefix(name, "Quick answer: ")
		if label != "" {
			label = strings.ToUpper(label[:1]) + label[1:]
		}
		out = append(out, QuickAnswer{Kind: kind, Name: name, Label: label, Composed: c})
	}
	return out
}
