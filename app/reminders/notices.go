package reminders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/clinic"
	"apptconfirm/app/render"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// bookingConfirmation queues the booking confirmation of an appointment
// booked in this very transaction (CreatedAt equal to now).
func (r *replanning) bookingConfirmation(rows []*models.Message) error {
	a := r.a
	if !r.s.opts.BookingConfirmation || !a.CreatedAt.Equal(r.now) || !a.StartsAt.After(r.now) {
		return nil
	}
	for _, m := range rows {
		if m.Kind == models.KindBookingConfirm {
			return nil
		}
	}
	return r.notice(models.KindBookingConfirm)
}

// cancellationNotice queues the cancellation notice of an appointment
// cancelled in this very transaction by staff or the API. A patient who
// cancelled by SMS gets the reply's acknowledgement instead, and one who
// opted out gets nothing.
func (r *replanning) cancellationNotice(rows []*models.Message) error {
	a := r.a
	if !r.s.opts.CancellationNotice || a.Status != models.Cancelled || a.CancelledAt == nil ||
		!a.CancelledAt.Equal(r.now) || !a.StartsAt.After(r.now) || a.Patient.OptedOut() {
		return nil
	}
	for _, m := range rows {
		if m.Kind == models.KindCancellation && !m.CreatedAt.Before(r.now) {
			return nil
		}
	}
	// The cancellation's audit row is written just before the replan, at
	// the same instant; "at" is indexed, so this is cheap.
	var actors []string
	err := r.tx.DB(r.ctx).Model(&models.AuditEntry{}).
		Where("at = ? AND entity = ? AND entity_id = ? AND action = ?", r.now, clinic.EntityAppointment, a.ID, "appointment.cancel").
		Pluck("actor", &actors).Error
	if err != nil {
		return fmt.Errorf("find who cancelled: %w", models.Classify(err))
	}
	for _, who := range actors {
		if who == clinic.PatientActor().Name {
			return nil
		}
	}
	return r.notice(models.KindCancellation)
}

// notice queues a message of kind (its MessageTemplate key) to go out at
// once, or at the end of quiet hours when now is inside them. The body is
// rendered now. When the end of quiet hours comes after the appointment
// starts the message is recorded as skipped; when the template does not
// render it is recorded as failed, with the reason.
func (r *replanning) notice(kind string) error {
	a := r.a
	m := &models.Message{
		UUID:          uuid.NewString(),
		AppointmentID: &a.ID,
		PatientID:     &a.PatientID,
		Kind:          kind,
		To:            a.Patient.Phone,
		Status:        models.MsgPlanned,
		SendAt:        r.now,
		CreatedAt:     r.now,
		UpdatedAt:     r.now,
	}
	body, err := TemplateBody(r.ctx, r.tx, kind, a)
	var rerr *render.Error
	switch {
	case errors.As(err, &rerr):
		m.Status, m.Reason = models.MsgFailed, truncate(fmt.Sprintf("the %s template does not render: %v", kind, err), 500)
	case err != nil:
		return err
	default:
		m.Body = truncate(body, 1600)
	}
	if m.Status == models.MsgPlanned {
		at, ok := AfterQuiet(r.now, r.zone, r.quiet)
		switch {
		case !ok || !at.Before(a.StartsAt):
			m.Status, m.Reason = models.MsgSkipped, "quiet hours last until after the appointment starts"
		default:
			m.SendAt = dbTime(at)
		}
	}
	if err := r.tx.DB(r.ctx).Create(m).Error; err != nil {
		return fmt.Errorf("insert %s: %w", kind, models.Classify(err))
	}
	var detail string
	switch {
	case m.Status != models.MsgPlanned:
		detail = fmt.Sprintf("%s %s: %s", Label(m), m.Status, m.Reason)
	case m.SendAt.Equal(r.now):
		detail = Label(m) + " queued to go out now"
		r.kick = true
	default:
		detail = Label(m) + " planned for " + When(m.SendAt, r.zone) + ", after quiet hours"
	}
	r.changed = append(r.changed, m)
	return Timeline(r.ctx, r.tx, m, r.now, detail)
}

// AfterQuiet returns t when it is outside quiet hours q (on loc's wall
// clock), and otherwise the first minute after they end. ok is false only
// for pathological zones.
func AfterQuiet(t time.Time, loc *time.Location, q schedule.QuietHours) (time.Time, bool) {
	if !schedule.InQuiet(t, loc, q) {
		return t, true
	}
	cur := t.Truncate(time.Minute)
	for range 2 * 24 * 60 {
		cur = cur.Add(time.Minute)
		if !schedule.InQuiet(cur, loc, q) {
			return cur, true
		}
	}
	return t, false
}

// TemplateBody renders the message template stored under key (a
// models.MessageTemplate, or clinic's default text when none is stored) for
// appointment a, which needs its Patient, Location and (optional) Provider.
// A template that does not render gives a *render.Error.
func TemplateBody(ctx context.Context, db *models.Store, key string, a *models.Appointment) (string, error) {
	tmpl, err := MessageTemplate(ctx, db, key)
	if err != nil {
		return "", err
	}
	return render.Render(tmpl, TemplateData(a))
}

// MessageTemplate returns the text stored under key, or clinic's default.
func MessageTemplate(ctx context.Context, db *models.Store, key string) (string, error) {
	var t models.MessageTemplate
	err := models.Classify(db.DB(ctx).Where(&models.MessageTemplate{Key: key}).Take(&t).Error)
	switch {
	case err == nil && t.Body != "":
		return t.Body, nil
	case err != nil && !errors.Is(err, models.ErrNotFound):
		return "", fmt.Errorf("load template %q: %w", key, err)
	}
	if d, ok := clinic.DefaultTemplates()[key]; ok {
		return d, nil
	}
	return "", fmt.Errorf("no message template %q: %w", key, models.ErrNotFound)
}
