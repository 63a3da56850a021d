package inbox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"apptconfirm/app/outbox"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// Replies returns the latest limit texts a patient sent, latest first, for
// the conversation shown on their pages.
func (s *Service) Replies(ctx context.Context, p *models.Patient, limit int) ([]models.InboundMessage, error) {
	rows, err := s.store.PatientReplies(ctx, p.ID, p.Phone, limit)
	if err != nil {
		return nil, fmt.Errorf("inbox: replies: %w", err)
	}
	return rows, nil
}

// Send queues a free text from staff to a patient, about appointmentID
// when it is set (it then joins that appointment's timeline). It refuses,
// naming the field "text": an opted-out patient, and a text during the
// quiet hours of the location concerned (the appointment's, else the
// default one), saying when they end, since a person should not be woken.
func (s *Service) Send(ctx context.Context, actor models.Actor, patientID uint, appointmentID *uint, text string) (*models.Message, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if msg := checkAnswer(text); msg != "" {
		return nil, models.FieldErrors{"text": msg}
	}
	now := models.DBTime(s.now())
	var sent *models.Message
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		p, err := s.store.Patient(ctx, patientID)
		if err != nil {
			return err
		}
		if p.OptedOut() {
			return models.FieldErrors{"text": "this patient opted out of messages; call them instead"}
		}
		var loc *models.Location
		if appointmentID != nil {
			a, err := s.store.Appointment(ctx, *appointmentID)
			if err != nil {
				return err
			}
			if a.PatientID != p.ID {
				return models.FieldErrors{"appointment_id": "is not this patient's appointment"}
			}
			loc = a.Location
		}
		if loc == nil {
			if loc, err = s.store.DefaultLocation(ctx); err != nil && !errors.Is(err, models.ErrNotFound) {
				return err
			}
		}
		if loc != nil {
			zone, quiet := loc.Zone(), outbox.Quiet(loc)
			if schedule.InQuiet(now, zone, quiet) {
				msg := "it is quiet hours at " + loc.Name
				if until, ok := outbox.AfterQuiet(now, zone, quiet); ok {
					msg += " until " + until.In(zone).Format("15:04")
				}
				return models.FieldErrors{"text": msg + "; send it then, or call the patient"}
			}
		}
		m, err := s.outbox.Queue(ctx, outbox.Outgoing{
			Kind: models.KindManual, To: p.Phone, Body: text,
			AppointmentID: appointmentID, PatientID: &p.ID, CreatedByID: actor.UserID,
		})
		if err != nil {
			return err
		}
		sent = m
		if appointmentID != nil {
			mid := m.ID
			if err := s.store.AddTimeline(ctx, models.TimelineEntry{
				AppointmentID: *appointmentID, At: now, Kind: models.TimelineStaff, UserID: actor.UserID, MessageID: &mid,
				Detail: fmt.Sprintf("Sent by SMS by %s: %s", actorName(actor), models.Clip(text, 300)),
			}); err != nil {
				return err
			}
		}
		return s.store.Audit(ctx, now, actor, "patient.message", "patient", p.ID, models.Clip(text, 300))
	})
	if err != nil {
		if _, ok := models.AsFieldErrors(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("inbox: send: %w", models.Classify(err))
	}
	return sent, nil
}

// Why says, for staff, why the app could not act on the reply by itself.
func (it *Item) Why() string {
	switch {
	case len(it.Patients) == 0:
		return "The number is not a patient's, so the app cannot tell who wrote."
	case it.Message.Intent == "reschedule":
		return "The patient asks for another time: only a person can offer one."
	case it.Message.Intent == "confirm" || it.Message.Intent == "cancel":
		if len(it.Candidates) > 1 {
			return fmt.Sprintf("The patient has %d upcoming appointments and the reply does not say which one.", len(it.Candidates))
		}
		if len(it.Candidates) == 0 {
			return "The reply answers, but no upcoming appointment awaits an answer."
		}
		return "The reply came when no question was waiting for it."
	case len(it.Candidates) > 1:
		return fmt.Sprintf("The text is not a YES, NO or keyword the app reads, and the patient has %d upcoming appointments.", len(it.Candidates))
	}
	return "The text is not a YES, NO or keyword the app reads: it needs a person to read it."
}

// Likely is the appointment the reply is most likely about: the one it was
// matched to when that is a candidate, else the soonest candidate; 0 when
// there is none.
func (it *Item) Likely() uint {
	if len(it.Candidates) == 0 {
		return 0
	}
	if id := it.Message.AppointmentID; id != nil {
		for _, c := range it.Candidates {
			if c.ID == *id {
				return c.ID
			}
		}
	}
	return it.Candidates[0].ID
}
