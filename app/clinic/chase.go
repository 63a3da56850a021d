package clinic

import (
	"context"
	"fmt"

	"apptconfirm/models"
)

// Chase is an appointment that needs a person, with why.
type Chase struct {
	Appointment models.Appointment
	// Attention: the latest reply waits in the inbox (InboxID).
	Attention bool
	InboxID   uint
	// Failed: a message to the patient about this visit failed.
	Failed bool
	// Unconfirmed: every reminder has gone out and the patient has not
	// confirmed.
	Unconfirmed bool
}

// Reasons says why, in words, most pressing first.
func (c Chase) Reasons() []string {
	var out []string
	if c.Attention {
		out = append(out, "reply needs an answer")
	}
	if c.Failed {
		out = append(out, "a message failed")
	}
	if c.Unconfirmed {
		out = append(out, "not confirmed after the last reminder")
	}
	return out
}

// NeedingAPerson returns the appointments of q (not cancelled, completed or
// no-show) that a person should chase: a reply waiting in the inbox, a
// failed message, or no confirmation once every reminder went out. They
// come in q's order; q's paging is ignored, the first MaxPerPage are read.
func (s *Service) NeedingAPerson(ctx context.Context, q AppointmentQuery) ([]Chase, error) {
	q.Page, q.PerPage = 1, MaxPerPage
	items, _, err := s.ListAppointments(ctx, q)
	if err != nil {
		return nil, err
	}
	ids := make([]uint, 0, len(items))
	for _, a := range items {
		if a.Status == models.Scheduled || a.Status == models.Confirmed {
			ids = append(ids, a.ID)
		}
	}
	msgs, err := s.store.MessageSummaries(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("clinic: chase: %w", err)
	}
	replies, err := s.store.ReplySummaries(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("clinic: chase: %w", err)
	}
	var out []Chase
	for _, a := range items {
		if a.Status != models.Scheduled && a.Status != models.Confirmed {
			continue
		}
		c := Chase{Appointment: a}
		if r, ok := replies[a.ID]; ok && r.NeedsAttention && r.HandledAt == nil {
			c.Attention, c.InboxID = true, r.ID
		}
		var sent, planned bool
		for _, m := range msgs[a.ID] {
			switch m.Status {
			case models.MsgFailed, models.MsgRejected:
				c.Failed = true
			case models.MsgPlanned, models.MsgSending:
				if m.Kind == models.KindReminder {
					planned = true
				}
			case models.MsgAccepted, models.MsgSent, models.MsgDelivered:
				if m.Kind == models.KindReminder {
					sent = true
				}
			}
		}
		c.Unconfirmed = a.Status == models.Scheduled && sent && !planned
		if c.Attention || c.Failed || c.Unconfirmed {
			out = append(out, c)
		}
	}
	return out, nil
}
