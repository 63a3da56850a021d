package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"apptconfirm/models"
)

// ErrNotPlanned is returned (wrapping models.ErrConflict) when staff act on
// a message that is no longer planned: it was sent, skipped or cancelled
// meanwhile.
var ErrNotPlanned = fmt.Errorf("the message is no longer planned: %w", models.ErrConflict)

// MaxSkipReason bounds the reason staff give for a skip.
const MaxSkipReason = 200

// Skip marks a planned message skipped by staff, with an optional reason
// (at most MaxSkipReason characters, else models.FieldErrors on "reason").
// Replanning does not bring a skipped reminder back for the same send time.
// ErrNotPlanned when it is no longer planned.
func (o *Outbox) Skip(ctx context.Context, messageID uint, actor models.Actor, reason string) (*models.Message, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > MaxSkipReason {
		return nil, models.FieldErrors{"reason": fmt.Sprintf("must be at most %d characters", MaxSkipReason)}
	}
	if !utf8.ValidString(reason) || strings.IndexFunc(reason, unicode.IsControl) >= 0 {
		return nil, models.FieldErrors{"reason": "must not contain control characters"}
	}
	now := o.clock()
	text := StaffSkipPrefix + actor.Label()
	if reason != "" {
		text += ": " + reason
	}
	var out *models.Message
	err := o.store.Tx(ctx, func(ctx context.Context) error {
		m, err := o.store.LockMessage(ctx, messageID)
		if err != nil {
			return err
		}
		if m.Status != models.MsgPlanned {
			return ErrNotPlanned
		}
		if err := o.store.EndPlanned(ctx, m.ID, models.MsgSkipped, text, now); err != nil {
			if errors.Is(err, models.ErrConflict) {
				return ErrNotPlanned
			}
			return err
		}
		m.Status, m.Reason, m.UpdatedAt = models.MsgSkipped, text, now
		out = m
		if err := o.staffRecord(ctx, m, actor, now, "message.skip", Label(m)+" "+text); err != nil {
			return err
		}
		return o.store.Record(ctx, MessageEvent(m, now, ""))
	})
	if err != nil {
		return nil, wrapStaff("outbox: skip", err)
	}
	return out, nil
}

// staffRecord writes the audit row and the staff timeline entry of a staff
// action on a message.
func (o *Outbox) staffRecord(ctx context.Context, m *models.Message, actor models.Actor, now time.Time, action, detail string) error {
	if err := o.store.Audit(ctx, now, actor, action, "message", m.ID, detail); err != nil {
		return err
	}
	if m.AppointmentID == nil {
		return nil
	}
	id := m.ID
	return o.store.AddTimeline(ctx, models.TimelineEntry{
		AppointmentID: *m.AppointmentID, At: now, Kind: models.TimelineStaff, Detail: detail, MessageID: &id, UserID: actor.UserID,
	})
}

// wrapStaff prefixes err but keeps input errors and ErrNotPlanned readable.
func wrapStaff(op string, err error) error {
	if _, ok := models.AsFieldErrors(err); ok || errors.Is(err, ErrNotPlanned) {
		return err
	}
	return fmt.Errorf("%s: %w", op, models.Classify(err))
}
