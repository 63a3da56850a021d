package outbox

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/render"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// bookingConfirmation queues the booking confirmation of an appointment
// booked just now, when the clinic sends one and none was queued yet.
func (r *replanning) bookingConfirmation(rows []*models.Message) error {
	a := r.a
	if !r.o.opts.BookingConfirmation || !a.StartsAt.After(r.now) {
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
// cancelled just now by staff or the API, when the clinic sends one. A
// patient who opted out gets nothing.
func (r *replanning) cancellationNotice(rows []*models.Message) error {
	a := r.a
	if !r.o.opts.CancellationNotice || a.Status != models.Cancelled || !a.StartsAt.After(r.now) || a.Patient.OptedOut() {
		return nil
	}
	for _, m := range rows {
		if m.Kind == models.KindCancellation && !m.CreatedAt.Before(r.now) {
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
	tmpl, err := r.o.template(r.ctx, kind)
	if err != nil {
		return err
	}
	body, err := render.Render(tmpl, TemplateDataIn(a, r.zone))
	var rerr *render.Error
	switch {
	case errors.As(err, &rerr):
		m.Status, m.Reason = models.MsgFailed, models.Clip(fmt.Sprintf("the %s template does not render: %v", kind, err), 500)
	case err != nil:
		return err
	default:
		m.Body = models.Clip(body, maxBody)
	}
	if m.Status == models.MsgPlanned {
		at, ok := AfterQuiet(r.now, r.zone, r.quiet)
		switch {
		case !ok || !at.Before(a.StartsAt):
			m.Status, m.Reason = models.MsgSkipped, "quiet hours last until after the appointment starts"
		default:
			m.SendAt = models.DBTime(at)
		}
	}
	if err := r.o.store.CreateMessage(r.ctx, m); err != nil {
		return err
	}
	var detail string
	switch {
	case m.Status != models.MsgPlanned:
		detail = fmt.Sprintf("%s %s: %s", Label(m), m.Status, m.Reason)
	case m.SendAt.Equal(r.now):
		detail = Label(m) + " queued to go out now"
	default:
		detail = Label(m) + " planned for " + When(m.SendAt, r.zone) + ", after quiet hours"
	}
	return r.o.changed(r.ctx, m, r.now, detail)
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
