package reminders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/render"
	"apptconfirm/app/smstext"
	"apptconfirm/models"
)

// ErrNothingToSend means a message has no text and nothing to write it from.
var ErrNothingToSend = errors.New("reminders: nothing to send")

// Compose returns the text message m will carry: its Body when it has one
// (acknowledgements, help, notices, staff messages are stored ready), else
// its rule's template (a reminder) or the message template of its kind,
// rendered for appointment a in the location's zone and the patient's
// language. a needs Patient and Location (Provider optional); rule is m's
// rule (nil when it has none); templates maps a kind to its message
// template (see LoadTemplates); zones caches the location zones (nil loads
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

// LoadTemplates returns every message template by key, with clinic's
// default text for keys that have none stored.
func LoadTemplates(ctx context.Context, db *models.Store) (map[string]string, error) {
	out := clinic.DefaultTemplates()
	var ts []models.MessageTemplate
	if err := db.DB(ctx).Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("load message templates: %w", models.Classify(err))
	}
	for _, t := range ts {
		if t.Body != "" {
			out[t.Key] = t.Body
		}
	}
	return out, nil
}

// LoadAppointments loads appointments by id with their Patient, Location and
// Provider, in a few queries whatever their number.
func LoadAppointments(ctx context.Context, db *models.Store, ids []uint) (map[uint]*models.Appointment, error) {
	out := make(map[uint]*models.Appointment, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var as []models.Appointment
	err := db.DB(ctx).Where("id IN ?", ids).Preload("Patient").Preload("Location").Preload("Provider").Find(&as).Error
	if err != nil {
		return nil, fmt.Errorf("load appointments: %w", models.Classify(err))
	}
	for i := range as {
		out[as[i].ID] = &as[i]
	}
	return out, nil
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
func (s *Service) Upcoming(ctx context.Context, window time.Duration, limit int) ([]Upcoming, error) {
	now := s.clock()
	var ms []models.Message
	err := s.store.DB(ctx).Where("status = ? AND send_at < ?", models.MsgPlanned, now.Add(window)).
		Order("send_at, id").Limit(limit).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("reminders: upcoming: %w", models.Classify(err))
	}
	var apptIDs, patientIDs []uint
	for _, m := range ms {
		if m.AppointmentID != nil {
			apptIDs = append(apptIDs, *m.AppointmentID)
		} else if m.PatientID != nil {
			patientIDs = append(patientIDs, *m.PatientID)
		}
	}
	appts, err := LoadAppointments(ctx, s.store, apptIDs)
	if err != nil {
		return nil, fmt.Errorf("reminders: upcoming: %w", err)
	}
	patients := map[uint]*models.Patient{}
	if len(patientIDs) > 0 {
		var ps []models.Patient
		if err := s.store.DB(ctx).Where("id IN ?", patientIDs).Find(&ps).Error; err != nil {
			return nil, fmt.Errorf("reminders: upcoming: %w", models.Classify(err))
		}
		for i := range ps {
			patients[ps[i].ID] = &ps[i]
		}
	}
	rules, err := loadRules(ctx, s.store)
	if err != nil {
		return nil, fmt.Errorf("reminders: upcoming: %w", err)
	}
	byID := map[uint]*models.ReminderRule{}
	for i := range rules {
		byID[rules[i].ID] = &rules[i]
	}
	templates, err := LoadTemplates(ctx, s.store)
	if err != nil {
		return nil, fmt.Errorf("reminders: upcoming: %w", err)
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
// a template, with a warning above one part (QUALITY C4).
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
