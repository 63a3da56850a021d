package webhook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"apptconfirm/app/clinic"
	"apptconfirm/app/render"
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

// Queue inserts o into tx as a planned message due at now; the dispatcher
// sends it (call its Kicker after the commit). It is how acknowledgements,
// the help text, the numbered question and staff answers go out.
func Queue(ctx context.Context, tx *models.Store, o Outgoing, now time.Time) (*models.Message, error) {
	now = now.UTC().Truncate(time.Microsecond)
	body := o.Body
	if utf8.RuneCountInString(body) > maxBody {
		// Only a template far past any sensible SMS gets here; a cut text
		// still tells the patient more than a lost one.
		body = string([]rune(body)[:maxBody])
	}
	m := &models.Message{
		UUID: uuid.NewString(), Kind: o.Kind, To: o.To, Body: body,
		Status: models.MsgPlanned, SendAt: now,
		AppointmentID: o.AppointmentID, PatientID: o.PatientID, CreatedByID: o.CreatedByID,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.DB(ctx).Create(m).Error; err != nil {
		return nil, fmt.Errorf("webhook: queue %s: %w", o.Kind, models.Classify(err))
	}
	return m, nil
}

// templateBody returns the editable text of a message template key, or the
// built-in default when the row is missing.
func templateBody(ctx context.Context, tx *models.Store, key string) (string, error) {
	var t models.MessageTemplate
	err := models.Classify(tx.DB(ctx).Where(&models.MessageTemplate{Key: key}).Take(&t).Error)
	switch {
	case err == nil && strings.TrimSpace(t.Body) != "":
		return t.Body, nil
	case err != nil && !errors.Is(err, models.ErrNotFound):
		return "", err
	}
	body, ok := clinic.DefaultTemplates()[key]
	if !ok {
		return "", fmt.Errorf("no message template %q", key)
	}
	return body, nil
}

// renderTemplate fills the template key with d; a stored text that no longer
// renders falls back to the built-in default rather than losing the message.
// choices replaces {choices} (the numbered question only).
func renderTemplate(ctx context.Context, tx *models.Store, key string, d render.Data, choices string) (string, error) {
	body, err := templateBody(ctx, tx, key)
	if err != nil {
		return "", err
	}
	text, err := renderWithChoices(body, d, choices)
	if err != nil {
		def, ok := clinic.DefaultTemplates()[key]
		if !ok {
			return "", err
		}
		return renderWithChoices(def, d, choices)
	}
	return text, nil
}

// renderWithChoices renders tmpl, putting choices where {choices} stands.
// {choices} is not one of render's placeholders, so it is swapped for a NUL
// (which no validated value holds) before rendering and filled in after.
func renderWithChoices(tmpl string, d render.Data, choices string) (string, error) {
	tmpl = strings.ReplaceAll(tmpl, clinic.ChoicesPlaceholder, "\x00")
	text, err := render.Render(tmpl, d)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(text, "\x00", choices), nil
}

// RenderForAppointment renders the message template key (models.KindAckConfirm,
// models.KindAckCancel, ...) for appointment a, which must have its Patient
// and Location loaded (Provider optional).
func RenderForAppointment(ctx context.Context, tx *models.Store, key string, a *models.Appointment) (string, error) {
	return renderTemplate(ctx, tx, key, appointmentData(a), "")
}

// appointmentData is what templates may show about a.
func appointmentData(a *models.Appointment) render.Data {
	d := render.Data{StartsAt: a.StartsAt}
	if a.Patient != nil {
		d.FirstName, d.LastName, d.Language = a.Patient.FirstName, a.Patient.LastName, a.Patient.Language
	}
	if a.Location != nil {
		d.Location = a.Location.Zone()
		d.LocationName, d.LocationAddress, d.ClinicPhone = a.Location.Name, a.Location.Address, a.Location.Phone
	}
	if a.Provider != nil {
		d.Provider = a.Provider.Name
	}
	return d
}

// patientData is what templates may show when no appointment is involved
// (help, opt-out and opt-in texts): the patient and the default location.
func patientData(ctx context.Context, tx *models.Store, p *models.Patient) (render.Data, error) {
	d := render.Data{FirstName: p.FirstName, LastName: p.LastName, Language: p.Language}
	var loc models.Location
	err := models.Classify(tx.DB(ctx).Where("is_default = ?", true).Order("id").Take(&loc).Error)
	switch {
	case err == nil:
		d.Location = loc.Zone()
		d.LocationName, d.LocationAddress, d.ClinicPhone = loc.Name, loc.Address, loc.Phone
	case !errors.Is(err, models.ErrNotFound):
		return d, err
	}
	return d, nil
}

// messageLabel names a message for the timeline ("Reminder (48h)").
func messageLabel(m *models.Message) string {
	switch m.Kind {
	case models.KindReminder:
		if m.RuleName != "" {
			return "Reminder (" + m.RuleName + ")"
		}
		return "Reminder"
	case models.KindBookingConfirm:
		return "Booking confirmation"
	case models.KindCancellation:
		return "Cancellation notice"
	case models.KindAckConfirm, models.KindAckCancel:
		return "Acknowledgement"
	case models.KindOptOutAck:
		return "Opt-out acknowledgement"
	case models.KindOptInAck:
		return "Opt-in acknowledgement"
	case models.KindHelp:
		return "Help text"
	case models.KindQuestion:
		return "Numbered question"
	case models.KindManual:
		return "Staff message"
	}
	return "Message"
}
