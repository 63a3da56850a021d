package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/clinic"
	"apptconfirm/app/render"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// maxBody is the size of the messages.body column.
const maxBody = 1600

// Outgoing is one SMS to queue for the dispatcher.
type Outgoing struct {
	// Kind is a models.Kind* constant (models.KindAckConfirm, ...).
	Kind string
	// To is the E.164 number.
	To   string
	Body string
	// AppointmentID and PatientID tie the message to its timeline; either
	// may be nil.
	AppointmentID *uint
	PatientID     *uint
	// CreatedByID is the staff user who wrote a manual message.
	CreatedByID *uint
}

// Queue inserts o as a planned message due now, inside the transaction ctx
// carries; its domain event makes the dispatcher send it once the
// transaction commits. It is how acknowledgements, the help text, the
// numbered question and staff answers go out. A help text or an opt-out or
// opt-in acknowledgement over its AnswerCaps is inserted skipped, with the
// reason, and never sent.
func (ob *Outbox) Queue(ctx context.Context, o Outgoing) (*models.Message, error) {
	now := ob.clock()
	m := &models.Message{
		UUID: uuid.NewString(), Kind: o.Kind, To: o.To,
		// Only a template far past any sensible SMS gets cut; a cut text
		// still tells the patient more than a lost one.
		Body:   models.Clip(o.Body, maxBody),
		Status: models.MsgPlanned, SendAt: now,
		AppointmentID: o.AppointmentID, PatientID: o.PatientID, CreatedByID: o.CreatedByID,
		CreatedAt: now, UpdatedAt: now,
	}
	err := ob.store.Tx(ctx, func(ctx context.Context) error {
		reason, err := ob.capped(ctx, o.Kind, o.To, now)
		if err != nil {
			return err
		}
		if reason != "" {
			m.Status, m.Reason = models.MsgSkipped, reason
			ob.opts.Logger.WarnContext(ctx, "outbox: answer over its cap not sent",
				slog.String("kind", o.Kind), slog.String("to", smscx.MaskPhone(o.To)))
		}
		if err := ob.store.CreateMessage(ctx, m); err != nil {
			return err
		}
		return ob.store.Record(ctx, MessageEvent(m, now, ""))
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: queue %s: %w", o.Kind, err)
	}
	return m, nil
}

// QueueAbout queues the message template key rendered for appointment a
// (with its Patient and Location; Provider optional) to number, or to the
// patient's number when number is empty.
func (ob *Outbox) QueueAbout(ctx context.Context, key string, a *models.Appointment, number string) (*models.Message, error) {
	body, err := ob.Render(ctx, key, TemplateData(a))
	if err != nil {
		return nil, err
	}
	if number == "" {
		number = a.Patient.Phone
	}
	return ob.Queue(ctx, Outgoing{Kind: key, To: number, Body: body, AppointmentID: &a.ID, PatientID: &a.PatientID})
}

// QueueTo queues the message template key rendered for patient p, when no
// appointment is involved (help, opt-out and opt-in answers), to number.
func (ob *Outbox) QueueTo(ctx context.Context, key string, p *models.Patient, number string) (*models.Message, error) {
	d, err := ob.PatientData(ctx, p)
	if err != nil {
		return nil, err
	}
	body, err := ob.Render(ctx, key, d)
	if err != nil {
		return nil, err
	}
	return ob.Queue(ctx, Outgoing{Kind: key, To: number, Body: body, PatientID: &p.ID})
}

// QueueQuestion asks number which of the candidate appointments (each with
// Patient and Location) a bare YES or NO is about, with the numbered list
// of them.
func (ob *Outbox) QueueQuestion(ctx context.Context, number string, candidates []models.Appointment) (*models.Message, error) {
	first := &candidates[0]
	d := TemplateData(first)
	d.Choices = choicesText(candidates)
	body, err := ob.Render(ctx, models.KindQuestion, d)
	if err != nil {
		return nil, err
	}
	return ob.Queue(ctx, Outgoing{Kind: models.KindQuestion, To: number, Body: body, PatientID: &first.PatientID})
}

// Render fills the message template key with d; a stored text that no
// longer renders falls back to the built-in default rather than losing the
// message. d.Choices fills {choices} (the numbered question only).
func (ob *Outbox) Render(ctx context.Context, key string, d render.Data) (string, error) {
	tmpl, err := ob.template(ctx, key)
	if err != nil {
		return "", err
	}
	text, err := renderWithChoices(tmpl, d)
	if err != nil {
		def, ok := clinic.DefaultTemplates()[key]
		if !ok {
			return "", err
		}
		return renderWithChoices(def, d)
	}
	return text, nil
}

// renderWithChoices renders tmpl, putting d.Choices where {choices} stands.
// {choices} is not one of render's placeholders, so it is swapped for a NUL
// (which no validated value holds) before rendering and filled in after.
func renderWithChoices(tmpl string, d render.Data) (string, error) {
	tmpl = strings.ReplaceAll(tmpl, clinic.ChoicesPlaceholder, "\x00")
	text, err := render.Render(tmpl, d)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(text, "\x00", d.Choices), nil
}

// PatientData is what templates may show when no appointment is involved
// (help, opt-out and opt-in texts): the patient and the default location.
func (ob *Outbox) PatientData(ctx context.Context, p *models.Patient) (render.Data, error) {
	d := render.Data{FirstName: p.FirstName, LastName: p.LastName, Language: p.Language}
	loc, err := ob.store.DefaultLocation(ctx)
	switch {
	case err == nil:
		d.Location = loc.Zone()
		d.LocationName, d.LocationAddress, d.ClinicPhone = loc.Name, loc.Address, loc.Phone
	case !errors.Is(err, models.ErrNotFound):
		return d, err
	}
	return d, nil
}

// choicesText lists the candidates for the numbered question: "1 for Tue
// 10:00 AM, 2 for Thu 2:30 PM". Slots that read alike get their date, and
// a family sharing a phone gets first names.
func choicesText(cs []models.Appointment) string {
	labels := make([]string, len(cs))
	seen := map[string]int{}
	patients := map[uint]bool{}
	for i := range cs {
		labels[i] = render.FormatSlot(cs[i].StartsAt, zoneOf(&cs[i]), langOf(&cs[i]))
		seen[labels[i]]++
		patients[cs[i].PatientID] = true
	}
	parts := make([]string, len(cs))
	for i := range cs {
		a := &cs[i]
		label := labels[i]
		if seen[label] > 1 {
			label = render.FormatDate(a.StartsAt, zoneOf(a), langOf(a)) + " " + render.FormatTime(a.StartsAt, zoneOf(a), langOf(a))
		}
		if len(patients) > 1 && a.Patient != nil {
			label += " (" + a.Patient.FirstName + ")"
		}
		parts[i] = strconv.Itoa(i+1) + " for " + label
	}
	return strings.Join(parts, ", ")
}

func zoneOf(a *models.Appointment) *time.Location {
	if a.Location != nil {
		return a.Location.Zone()
	}
	return time.UTC
}

func langOf(a *models.Appointment) string {
	if a.Patient != nil {
		return a.Patient.Language
	}
	return ""
}
