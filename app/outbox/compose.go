package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"apptconfirm/app/render"
	"apptconfirm/app/smstext"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// ErrNothingToSend means a message has no text and nothing to write it from.
var ErrNothingToSend = errors.New("outbox: nothing to send")

// Composed is a message's text and how it was written.
type Composed struct {
	Text string
	// Language is the language of Text ("" for a text staff typed);
	// FallbackFrom is the patient's language when the clinic had no text in
	// it and Text is in the default language instead.
	Language, FallbackFrom string
	// Template is the text Text was written from, and Data what filled
	// it; Template is "" when the message carried its text already.
	Template string
	Data     render.Data
}

// DayWarning is render.DayContradiction of the template and its data: set
// when the template's fixed words name a day ("today", "demain") that is
// wrong for the time the message goes out.
func (c Composed) DayWarning() string {
	if c.Template == "" {
		return ""
	}
	return render.DayContradiction(c.Template, c.Data)
}

// Compose returns the text message m will carry when it goes out at sendAt:
// its Body when it has one (answers to a reply and staff messages are
// written when queued), else its rule's text (a reminder) or its kind's
// text (a notice), in the patient's language (see Texts.Pick), rendered
// for appointment a in the location's zone with {day} seen from sendAt.
// a needs Patient and Location (Provider optional); rule is m's rule (nil
// when it has none); zones caches the location zones (nil loads each).
// A stored text that does not render falls back to the shipped one; when
// that fails too the error is a *render.Error.
func (t *Texts) Compose(m *models.Message, a *models.Appointment, rule *models.ReminderRule, zones Zones, sendAt time.Time) (Composed, error) {
	if m.Body != "" {
		return Composed{Text: m.Body, Language: m.Language, FallbackFrom: m.FallbackFrom}, nil
	}
	if a == nil || a.Patient == nil || a.Location == nil {
		return Composed{}, fmt.Errorf("%w: the message has no text and no appointment to write it from", ErrNothingToSend)
	}
	var k Key
	switch {
	case m.Kind == models.KindReminder && rule == nil:
		return Composed{}, fmt.Errorf("%w: %s", ErrNothingToSend, ReasonRuleRemoved)
	case m.Kind == models.KindReminder:
		k = RuleKey(rule)
	default:
		k = KindKey(m.Kind)
	}
	var zone *time.Location
	if zones != nil {
		zone = zones.Of(a.Location)
	}
	d := TemplateDataIn(a, zone)
	d.SendAt = sendAt
	return t.Write(k, d, nil)
}

// Write writes the text of k for the patient d describes: it picks the
// text in d.Language (see Pick), then renders it with the dates, the day
// and the choices in the language of the text picked, so that a fallback
// reads as one language. choices, when set, gives the {choices} list in a
// language. d.ClinicName defaults to the clinic's name, d.Link to the
// patient page of d.AppointmentID.
func (t *Texts) Write(k Key, d render.Data, choices func(lang string) string) (Composed, error) {
	c, ok := t.Pick(k, d.Language)
	if !ok {
		return Composed{}, fmt.Errorf("%w: no text of kind %q", ErrNothingToSend, k.Kind)
	}
	if d.ClinicName == "" {
		d.ClinicName = t.ClinicName
	}
	if d.Link == "" && d.AppointmentID != 0 && t.Links != nil {
		d.Link = t.Links.URL(d.AppointmentID)
	}
	out, err := write(c, d, choices)
	if err == nil || c.Shipped {
		return out, err
	}
	// A stored text that does not render (saved before a check existed):
	// the shipped text rather than no message.
	for _, lang := range []string{c.Language, t.Default} {
		if body, ok := texts.Default(k.shippedKind(), lang); ok {
			return write(Choice{Template: body, Language: lang, FallbackFrom: c.FallbackFrom, Shipped: true}, d, choices)
		}
	}
	return Composed{}, err
}

// write renders one chosen text.
func write(c Choice, d render.Data, choices func(lang string) string) (Composed, error) {
	d.Language = c.Language
	if choices != nil {
		d.Choices = choices(c.Language)
	}
	text, err := render.Render(c.Template, d)
	if err != nil {
		return Composed{}, err
	}
	return Composed{Text: text, Language: c.Language, FallbackFrom: c.FallbackFrom, Template: c.Template, Data: d}, nil
}

// Render writes the text of message kind for the patient d describes,
// going out now (see Texts.Write).
func (o *Outbox) Render(ctx context.Context, kind string, d render.Data) (Composed, error) {
	t, err := o.Texts(ctx)
	if err != nil {
		return Composed{}, err
	}
	if d.SendAt.IsZero() {
		d.SendAt = o.clock()
	}
	return t.Write(KindKey(kind), d, nil)
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
