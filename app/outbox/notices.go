package outbox

import (
	"fmt"
	"time"

	"github.com/google/uuid"

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

// rescheduleNotice queues the reschedule notice of an appointment staff or
// the API moved just now, when the clinic sends one. A notice of an earlier
// move that has not gone out yet is cancelled: the new one says the latest
// time. A booking confirmation that has not gone out yet says the new time
// itself (it is written when it goes out), so no notice is added to it.
func (r *replanning) rescheduleNotice(rows []*models.Message) error {
	a := r.a
	if !r.o.opts.RescheduleNotice || !a.Status.Active() || !a.StartsAt.After(r.now) || a.Patient.OptedOut() {
		return nil
	}
	for _, m := range rows {
		if m.Status != models.MsgPlanned {
			continue
		}
		switch m.Kind {
		case models.KindBookingConfirm:
			return nil
		case models.KindRescheduleNotice:
			if err := r.finish(m, models.MsgCancelled, "the appointment was moved again; a new notice says the latest time"); err != nil {
				return err
			}
		}
	}
	return r.notice(models.KindRescheduleNotice)
}

// noShowFollowUp queues the invitation to book again of an appointment
// marked no-show just now, when the clinic sends one: once per appointment
// (a no-show undone and marked again gets no second one; only a follow-up
// cancelled before it went out is replaced), never to a patient who opted
// out. It goes out at once, or when quiet hours end.
func (r *replanning) noShowFollowUp() error {
	a := r.a
	if !r.o.opts.NoShowFollowUp || a.Status != models.NoShow || a.Patient.OptedOut() {
		return nil
	}
	earlier, err := r.o.store.AppointmentMessages(r.ctx, a.ID, false, models.KindNoShowFollowUp)
	if err != nil {
		return err
	}
	for _, m := range earlier {
		if m.Status != models.MsgCancelled {
			return nil
		}
	}
	return r.queue(models.KindNoShowFollowUp, false)
}

// notice queues a message of kind to go out at once, or at the end of
// quiet hours when now is inside them (recorded as a move). Its text is
// written when it goes out, so that it says the appointment's latest time
// and the right day. When quiet hours last until after the appointment
// starts the message is recorded as skipped.
func (r *replanning) notice(kind string) error {
	return r.queue(kind, true)
}

// queue queues a message of kind to go out at once or after quiet hours;
// beforeStart skips it when it could only go out after the appointment
// started.
func (r *replanning) queue(kind string, beforeStart bool) error {
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
	at, ok := AfterQuiet(r.now, r.zone, r.quiet)
	switch {
	case !ok:
		m.Status, m.Reason = models.MsgSkipped, "the location's quiet hours never end"
	case beforeStart && !at.Before(a.StartsAt):
		m.Status, m.Reason = models.MsgSkipped, "quiet hours last until after the appointment starts"
	case !at.Equal(r.now):
		from := r.now
		m.SendAt, m.MovedFrom = models.DBTime(at), &from
		m.MoveReason = fmt.Sprintf("held until %s, after quiet hours", at.In(r.zone).Format("15:04"))
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
