package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"apptconfirm/app/clinic"
	"apptconfirm/app/reminders"
	"apptconfirm/models"
)

// ErrNotPlanned is returned (wrapping models.ErrConflict) when staff act on
// a message that is no longer planned: it was sent, skipped or cancelled
// meanwhile.
var ErrNotPlanned = fmt.Errorf("the message is no longer planned: %w", models.ErrConflict)

// MaxSkipReason bounds the reason staff give for a skip.
const MaxSkipReason = 200

// SendNow sends a planned message at once, for "Tomorrow's sends": it is
// claimed and re-checked like any other (an opted-out patient still gets
// nothing), sent inline, and its outcome recorded; the message is returned
// as it ends up (accepted, failed with a reason, waiting for a retry, or
// ended by the checks). Its planned send time is kept, so replanning knows
// the reminder went out. ErrNotPlanned when it is no longer planned,
// models.ErrNotFound when it does not exist.
func (d *Dispatcher) SendNow(ctx context.Context, messageID uint, actor clinic.Actor) (*models.Message, error) {
	now := d.clock()
	lease := now.Add(d.opts.Lease)
	var todo []*claimed
	var changed []*models.Message
	err := d.store.Tx(ctx, func(tx *models.Store) error {
		var m models.Message
		if err := tx.DB(ctx).Scopes(models.ForUpdate(tx)).First(&m, messageID).Error; err != nil {
			return models.Classify(err)
		}
		if m.Status != models.MsgPlanned {
			return ErrNotPlanned
		}
		res := tx.DB(ctx).Model(&models.Message{}).Where("id = ? AND status = ?", m.ID, models.MsgPlanned).
			Updates(map[string]any{"status": models.MsgSending, "attempts": gorm.Expr("attempts + 1"), "lease_until": lease, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNotPlanned
		}
		c := &claimed{msg: &m, prevStatus: m.Status, prevLease: m.LeaseUntil}
		m.Status, m.Attempts, m.LeaseUntil, m.UpdatedAt = models.MsgSending, m.Attempts+1, &lease, now
		if err := staffRecord(ctx, tx, &m, actor, "message.send_now", label(&m)+" sent now by "+actorName(actor)); err != nil {
			return err
		}
		var err error
		todo, changed, err = d.check(ctx, tx, []*claimed{c}, now)
		return err
	})
	if err != nil {
		return nil, wrapStaff("dispatch: send now", err)
	}
	d.publish(changed)
	d.ended(changed)
	for _, c := range todo {
		resp, err := d.send(ctx, c.msg)
		if _, err := d.record(ctx, []outcome{{c: c, resp: resp, err: err, at: d.clock()}}, nil); err != nil {
			return nil, err
		}
	}
	var out models.Message
	if err := d.store.DB(ctx).First(&out, messageID).Error; err != nil {
		return nil, fmt.Errorf("dispatch: send now: %w", models.Classify(err))
	}
	return &out, nil
}

// Skip marks a planned message skipped by staff, with an optional reason
// (at most MaxSkipReason characters, else clinic.FieldErrors on "reason").
// Replanning does not bring a skipped reminder back for the same send time.
// ErrNotPlanned when it is no longer planned.
func (d *Dispatcher) Skip(ctx context.Context, messageID uint, actor clinic.Actor, reason string) (*models.Message, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > MaxSkipReason {
		return nil, clinic.FieldErrors{"reason": fmt.Sprintf("must be at most %d characters", MaxSkipReason)}
	}
	if !utf8.ValidString(reason) || strings.IndexFunc(reason, unicode.IsControl) >= 0 {
		return nil, clinic.FieldErrors{"reason": "must not contain control characters"}
	}
	now := d.clock()
	text := reminders.StaffSkipPrefix + actorName(actor)
	if reason != "" {
		text += ": " + reason
	}
	var out models.Message
	err := d.store.Tx(ctx, func(tx *models.Store) error {
		if err := tx.DB(ctx).Scopes(models.ForUpdate(tx)).First(&out, messageID).Error; err != nil {
			return models.Classify(err)
		}
		if out.Status != models.MsgPlanned {
			return ErrNotPlanned
		}
		res := tx.DB(ctx).Model(&models.Message{}).Where("id = ? AND status = ?", out.ID, models.MsgPlanned).
			Updates(map[string]any{"status": models.MsgSkipped, "reason": text, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNotPlanned
		}
		out.Status, out.Reason, out.UpdatedAt = models.MsgSkipped, text, now
		return staffRecord(ctx, tx, &out, actor, "message.skip", label(&out)+" "+text)
	})
	if err != nil {
		return nil, wrapStaff("dispatch: skip", err)
	}
	d.publish([]*models.Message{&out})
	return &out, nil
}

// staffRecord writes the audit row and the staff timeline entry of a staff
// action on a message.
func staffRecord(ctx context.Context, tx *models.Store, m *models.Message, actor clinic.Actor, action, detail string) error {
	now := m.UpdatedAt
	if err := clinic.RecordAudit(ctx, tx, now, actor, action, "message", m.ID, detail); err != nil {
		return err
	}
	if m.AppointmentID == nil {
		return nil
	}
	id := m.ID
	return clinic.RecordTimeline(ctx, tx, models.TimelineEntry{
		AppointmentID: *m.AppointmentID, At: now, Kind: models.TimelineStaff, Detail: detail, MessageID: &id, UserID: actor.UserID,
	})
}

func actorName(a clinic.Actor) string {
	if n := strings.TrimSpace(a.Name); n != "" {
		return n
	}
	return "system"
}

// wrapStaff prefixes err but keeps input errors and ErrNotPlanned readable.
func wrapStaff(op string, err error) error {
	if _, ok := clinic.AsFieldErrors(err); ok || errors.Is(err, ErrNotPlanned) {
		return err
	}
	return fmt.Errorf("%s: %w", op, models.Classify(err))
}
