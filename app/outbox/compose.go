package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/render"
	"apptconfirm/app/smstext"
	"apptconfirm/models"
)

// ErrNothingToSend means a message has no text and nothing to write it from.
var ErrNothingToSend = errors.New("outbox: nothing to send")

// Templates returns every message template by key: the stored text where
// it holds more than white space, else the built-in default. It is the one
// place templates are looked up.
func (o *Outbox) Templates(ctx context.Context) (map[string]string, error) {
	out := clinic.DefaultTemplates()
	stored, err := o.store.MessageTemplates(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox: message templates: %w", err)
	}
	for k, body := range stored {
		if strings.TrimSpace(body) != "" {
			out[k] = body
		}
	}
	return out, nil
}

// template returns the template stored under key, or the built-in default.
func (o *Outbox) template(ctx context.Context, key string) (string, error) {
	all, err := o.Templates(ctx)
	if err != nil {
		return "", err
	}
	t, ok := all[key]
	if !ok {
		return "", fmt.Errorf("outbox: no message template %q: %w", key, models.ErrNotFound)
	}
	return t, nil
}

// Compose returns the text message m will carry: its Body when it has one
// (acknowledgements, help, notices, staff messages are stored ready), else
// its rule's template (a reminder) or the message template of its kind,
// rendered for appointment a in the location's zone and the patient's
// language. a needs Patient and Location (Provider optional); rule is m's
// rule (nil when it has none); templates maps a kind to its message
// template (see Templates); zones caches the location zones (nil loads
// each). Template errors are *render.Error.
func Compose(m *models.Message, a *models.Appointment, rule *models.ReminderRule, templates map[string]string, zones Zones) (string, error) {
	if m.Body != "" {
		return m.Body, nil
	}
	if a == nil || a.Patient == nil || a.Location == nil {
		return "", fmt.Errorf("%w: the message has no text and no appointment to write it from", ErrNothingToSend)
	}
	var tmpl string
	switch {
	case m.Kind == models.KindReminder && rule == nil:
		return "", fmt.Errorf("%w: %s", ErrNothingToSend, ReasonRuleRemoved)
	case m.Kind == models.KindReminder:
		tmpl = rule.Template
	default:
		tmpl = templates[m.Kind]
		if tmpl == "" {
			return "", fmt.Errorf("%w: no message template %q", ErrNothingToSend, m.Kind)
		}
	}
	var zone *time.Location
	if zones != nil {
		zone = zones.Of(a.Location)
	}
	return render.Render(tmpl, TemplateDataIn(a, zone))
}

// Upcoming is one message planned to go out soon, as "Tomorrow's sends"
// shows it.
type Upcoming struct {
	Message models.Message
	// Appointment is the message's appointment with Patient, Location and
	// Provider loaded, or nil.
	Appointment *models.Appointment
	// Patient is the recipient, when known.
	Patient *models.Patient
	// Zone is the IANA zone its times are shown in: the location's, else UTC.
	Zone string
	// Preview is the text as it would be sent now, with its length and
	// parts; empty when Problem is set.
	Preview render.Preview
	// Problem says why the text cannot be written (it would fail when sent).
	Problem string
}

// Upcoming returns the planned messages due before now+window (overdue
// ones included: they go out at the next dispatch), soonest first, at most
// limit, each rendered as it would be sent now.
func (o *Outbox) Upcoming(ctx context.Context, window time.Duration, limit int) ([]Upcoming, error) {
	now := o.clock()
	ms, err := o.store.PlannedDueBefore(ctx, now.Add(window), limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: upcoming: %w", err)
	}
	var apptIDs, patientIDs []uint
	for _, m := range ms {
		if m.AppointmentID != nil {
			apptIDs = append(apptIDs, *m.AppointmentID)
		} else if m.PatientID != nil {
			patientIDs = append(patientIDs, *m.PatientID)
		}
	}
	appts, err := o.store.AppointmentsByID(ctx, apptIDs)
	if err != nil {
		return nil, fmt.Errorf("outbox: upcoming: %w", err)
	}
	patients, err := o.store.PatientsByID(ctx, patientIDs)
	if err != nil {
		return nil, fmt.Errorf("outbox: upcoming: %w", err)
	}
	rules, err := o.store.Rules(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox: upcoming: %w", err)
	}
	byID := map[uint]*models.ReminderRule{}
	for i := range rules {
		byID[rules[i].ID] = &rules[i]
	}
	templates, err := o.Templates(ctx)
	if err != nil {
		return nil, err
	}
	zones := Zones{}
	out := make([]Upcoming, 0, len(ms))
	for _, m := range ms {
		u := Upcoming{Message: m, Zone: "UTC"}
		if m.AppointmentID != nil {
			u.Appointment = appts[*m.AppointmentID]
		}
		if u.Appointment != nil {
			u.Patient = u.Appointment.Patient
			if u.Appointment.Location != nil {
				u.Zone = u.Appointment.Location.TimeZone
			}
		} else if m.PatientID != nil {
			u.Patient = patients[*m.PatientID]
		}
		var rule *models.ReminderRule
		if m.RuleID != nil {
			rule = byID[*m.RuleID]
		}
		text, err := Compose(&m, u.Appointment, rule, templates, zones)
		if err != nil {
			u.Problem = err.Error()
		} else {
			u.Preview = Measure(text)
		}
		out = append(out, u)
	}
	return out, nil
}

// Measure reports a ready text's length and parts as PreviewText does for
// a template, with a warning above one part.
func Measure(text string) render.Preview {
	a := smstext.Analyze(text)
	p := render.Preview{Text: text, Length: a.Length, Unicode: a.Unicode, Parts: a.Parts}
	if a.Parts > 1 {
		limit := smstext.GSMSingle
		if a.Unicode {
			limit = smstext.UnicodeSingle
		}
		p.Warning = fmt.Sprintf("%d characters, %d over the %d of one SMS part: it will be sent as %d parts.",
			a.Length, a.Length-limit, limit, a.Parts)
	}
	return p
}
