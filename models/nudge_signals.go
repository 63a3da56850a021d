package models

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// NudgeFacts is what the signal of a nudge is judged on, for one
// appointment and the reminder rule the nudge follows.
type NudgeFacts struct {
	// Reminder is the latest message of the followed rule that went out
	// (accepted, sent or delivered); nil when none did.
	Reminder *Message
	// Since is when Reminder went out (its send time when SMS.CX has not
	// said).
	Since time.Time
	// Clicked: a click on the link (or an open of the attachment) of an
	// SMS about the appointment was recorded since.
	Clicked bool
	// Replied: the patient replied about the appointment since.
	Replied bool
}

// NudgeFacts gathers the facts of appointmentID for a nudge following the
// reminders of rule ruleID.
func (s *Store) NudgeFacts(ctx context.Context, appointmentID, ruleID uint) (NudgeFacts, error) {
	var f NudgeFacts
	var m Message
	err := s.conn(ctx).Where("appointment_id = ? AND rule_id = ? AND status IN ?", appointmentID, ruleID, sentStatuses).
		Order("id DESC").First(&m).Error
	if err = Classify(err); errors.Is(err, ErrNotFound) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("store: nudge facts of appointment %d: %w", appointmentID, err)
	}
	f.Reminder, f.Since = &m, m.SendAt
	if m.SentAt != nil {
		f.Since = *m.SentAt
	}
	clicks, err := count[TimelineEntry](ctx, s, "appointment_id = ? AND kind IN ? AND (message_id = ? OR at >= ?)",
		appointmentID, []string{TimelineClick, TimelineOpen}, m.ID, DBTime(f.Since))
	if err != nil {
		return f, fmt.Errorf("store: nudge facts of appointment %d: %w", appointmentID, err)
	}
	replies, err := count[TimelineEntry](ctx, s, "appointment_id = ? AND kind = ? AND at >= ?",
		appointmentID, TimelineReply, DBTime(f.Since))
	if err != nil {
		return f, fmt.Errorf("store: nudge facts of appointment %d: %w", appointmentID, err)
	}
	f.Clicked, f.Replied = clicks > 0, replies > 0
	return f, nil
}
