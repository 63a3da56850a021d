package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

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
	// Language and FallbackFrom say in which language Body is written
	// (see Composed); empty for a text staff typed.
	Language, FallbackFrom string
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
		Language: o.Language, FallbackFrom: o.FallbackFrom,
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

// QueueAbout queues the text of message kind written for appointment a
// (with its Patient and Location; Provider optional), going out now, to
// number, or to the patient's number when number is empty.
func (ob *Outbox) QueueAbout(ctx context.Context, kind string, a *models.Appointment, number string) (*models.Message, error) {
	c, err := ob.Render(ctx, kind, TemplateData(a))
	if err != nil {
		return nil, err
	}
	if number == "" {
		number = a.Patient.Phone
	}
	return ob.Queue(ctx, Outgoing{
		Kind: kind, To: number, Body: c.Text, AppointmentID: &a.ID, PatientID: &a.PatientID,
		Language: c.Language, FallbackFrom: c.FallbackFrom,
	})
}

// QueueTo queues the text of message kind written for patient p, when no
// appointment is involved (help, opt-out and opt-in answers), to number.
func (ob *Outbox) QueueTo(ctx context.Context, kind string, p *models.Patient, number string) (*models.Message, error) {
	d, err := ob.PatientData(ctx, p)
	if err != nil {
		return nil, err
	}
	c, err := ob.Render(ctx, kind, d)
	if err != nil {
		return nil, err
	}
	return ob.Queue(ctx, Outgoing{
		Kind: kind, To: number, Body: c.Text, PatientID: &p.ID,
		Language: c.Language, FallbackFrom: c.FallbackFrom,
	})
}

// QueueQuestion asks number which of the candidate appointments (each with
// Patient and Location) a bare YES or NO is about, with the numbered list
// of them in the language of the question.
func (ob *Outbox) QueueQuestion(ctx context.Context, number string, candidates []models.Appointment) (*models.Message, error) {
	first := &candidates[0]
	t, err := ob.Texts(ctx)
	if err != nil {
		return nil, err
	}
	d := TemplateData(first)
	d.SendAt = ob.clock()
	c, err := t.Write(KindKey(models.KindQuestion), d, func(lang string) string { return choicesText(candidates, lang) })
	if err != nil {
		return nil, err
	}
	return ob.Queue(ctx, Outgoing{
		Kind: models.KindQuestion, To: number, Body: c.Text, PatientID: &first.PatientID,
		Language: c.Language, FallbackFrom: c.FallbackFrom,
	})
}

// PatientData is what texts may show when no appointment is involved
// (help, opt-out and opt-in texts): the patient, the default location and
// the clinic's name.
func (ob *Outbox) PatientData(ctx context.Context, p *models.Patient) (render.Data, error) {
	loc, err := ob.store.DefaultLocation(ctx)
	switch {
	case errors.Is(err, models.ErrNotFound):
		loc = nil
	case err != nil:
		return render.Data{}, err
	}
	return ob.patientDataAt(p, loc), nil
}

// patientDataAt is PatientData with the default location given (nil when
// there is none).
func (ob *Outbox) patientDataAt(p *models.Patient, loc *models.Location) render.Data {
	d := render.Data{FirstName: p.FirstName, LastName: p.LastName, Language: p.Language, ClinicName: ob.opts.ClinicName}
	if loc != nil {
		d.Location = loc.Zone()
		d.LocationName, d.LocationAddress, d.ClinicPhone = loc.Name, loc.Address, loc.Phone
	}
	return d
}

// choicesText lists the candidates for the numbered question in lang: "1
// for Tue 10:00 AM, 2 for Thu 2:30 PM" (render.FormatChoices). Slots that
// read alike get their date, and a family sharing a phone gets first names.
func choicesText(cs []models.Appointment, lang string) string {
	labels := make([]string, len(cs))
	seen := map[string]int{}
	patients := map[uint]bool{}
	for i := range cs {
		labels[i] = render.FormatSlot(cs[i].StartsAt, zoneOf(&cs[i]), lang)
		seen[labels[i]]++
		patients[cs[i].PatientID] = true
	}
	for i := range cs {
		a := &cs[i]
		if seen[labels[i]] > 1 {
			labels[i] = render.FormatDate(a.StartsAt, zoneOf(a), lang) + " " + render.FormatTime(a.StartsAt, zoneOf(a), lang)
		}
		if len(patients) > 1 && a.Patient != nil {
			labels[i] += " (" + a.Patient.FirstName + ")"
		}
	}
	return render.FormatChoices(lang, labels)
}

func zoneOf(a *models.Appointment) *time.Location {
	if a.Location != nil {
		return a.Location.Zone()
	}
	return time.UTC
}

// QueueOffer sends the numbered offer of new times for appointment a (with
// its Patient and Location) to the patient's number: kind is
// models.KindRescheduleOffer, or models.KindOfferTaken when the time the
// patient picked was taken meanwhile. The times are listed in the order
// given, on the location's wall clock, in the patient's language.
func (ob *Outbox) QueueOffer(ctx context.Context, kind string, a *models.Appointment, times []time.Time) (*models.Message, error) {
	t, err := ob.Texts(ctx)
	if err != nil {
		return nil, err
	}
	now := ob.clock()
	d := TemplateData(a)
	d.SendAt = now
	zone := zoneOf(a)
	c, err := t.Write(KindKey(kind), d, func(lang string) string { return timesText(times, zone, lang, now) })
	if err != nil {
		return nil, err
	}
	return ob.Queue(ctx, Outgoing{
		Kind: kind, To: a.Patient.Phone, Body: c.Text, AppointmentID: &a.ID, PatientID: &a.PatientID,
		Language: c.Language, FallbackFrom: c.FallbackFrom,
	})
}

// timesText lists offered times for {choices}: "1 for Tue 10:00 AM, 2 for
// Wed 2:30 PM". A weekday alone is ambiguous for a time six days or more
// ahead, or shared by two times: those get their date.
func timesText(times []time.Time, zone *time.Location, lang string, now time.Time) string {
	labels := make([]string, len(times))
	seen := map[string]int{}
	for i, t := range times {
		labels[i] = render.FormatSlot(t, zone, lang)
		seen[labels[i]]++
	}
	for i, t := range times {
		if seen[labels[i]] > 1 || t.Sub(now) >= 6*24*time.Hour {
			labels[i] = render.FormatDate(t, zone, lang) + " " + render.FormatTime(t, zone, lang)
		}
	}
	return render.FormatChoices(lang, labels)
}
