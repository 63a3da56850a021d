package models

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// AddInbound stores an inbound SMS unless one with the same provider id is
// stored already, and reports whether it stored it.
func (s *Store) AddInbound(ctx context.Context, in *InboundMessage) (bool, error) {
	var added bool
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "provider_message_id"}}, DoNothing: true}).Create(in)
		added = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("store: add inbound message: %w", err)
	}
	return added, nil
}

// SaveInboundDecision writes what was decided about inbound message in: its
// patient, appointment, intent, candidates and whether it needs a person.
func (s *Store) SaveInboundDecision(ctx context.Context, in *InboundMessage) error {
	err := update[InboundMessage](ctx, s, in.ID, map[string]any{
		"patient_id": in.PatientID, "appointment_id": in.AppointmentID, "intent": in.Intent,
		"candidates": in.Candidates, "needs_attention": in.NeedsAttention,
	})
	if err != nil {
		return fmt.Errorf("store: inbound message %d: %w", in.ID, err)
	}
	return nil
}

// LastAnswerable returns the latest inbound message from number other than
// except, received since since, that was about an appointment (it named
// candidates, was matched to one, or went to the inbox), or ErrNotFound.
func (s *Store) LastAnswerable(ctx context.Context, number string, except uint, since time.Time) (*InboundMessage, error) {
	var last InboundMessage
	err := s.conn(ctx).
		Where(clause.Eq{Column: clause.Column{Name: "from"}, Value: number}).
		Where("id <> ? AND received_at >= ?", except, since.UTC()).
		Where("candidates <> '' OR appointment_id IS NOT NULL OR needs_attention = ?", true).
		Order("id DESC").Take(&last).Error
	if err != nil {
		return nil, fmt.Errorf("last answerable message: %w", Classify(err))
	}
	return &last, nil
}

// InboxItem returns one inbound message that needed attention, or
// ErrNotFound.
func (s *Store) InboxItem(ctx context.Context, id uint) (*InboundMessage, error) {
	var m InboundMessage
	if err := s.conn(ctx).Where("id = ? AND needs_attention = ?", id, true).Take(&m).Error; err != nil {
		return nil, fmt.Errorf("inbox item %d: %w", id, Classify(err))
	}
	return &m, nil
}

// InboxItems returns one page of the inbound messages needing attention
// (oldest first) or, with handled, of those handled (newest handled
// first), and the total.
func (s *Store) InboxItems(ctx context.Context, handled bool, offset, limit int) ([]InboundMessage, int64, error) {
	db := s.conn(ctx).Model(&InboundMessage{}).Where("needs_attention = ?", true)
	order := "received_at, id"
	if handled {
		db = db.Where("handled_at IS NOT NULL")
		order = "handled_at DESC, id DESC"
	} else {
		db = db.Where("handled_at IS NULL")
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("store: inbox: %w", Classify(err))
	}
	var msgs []InboundMessage
	if err := db.Order(order).Offset(offset).Limit(limit).Find(&msgs).Error; err != nil {
		return nil, 0, fmt.Errorf("store: inbox: %w", Classify(err))
	}
	return msgs, total, nil
}

// CountInbox returns how many inbound messages need attention.
func (s *Store) CountInbox(ctx context.Context) (int64, error) {
	n, err := count[InboundMessage](ctx, s, "needs_attention = ? AND handled_at IS NULL", true)
	if err != nil {
		return 0, fmt.Errorf("store: count inbox: %w", err)
	}
	return n, nil
}

// MarkHandled marks inbox item id handled by user at now with note, and
// reports false when it was handled already.
func (s *Store) MarkHandled(ctx context.Context, id uint, userID *uint, note string, now time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&InboundMessage{}).Where("id = ? AND handled_at IS NULL", id).
			Updates(map[string]any{"handled_at": DBTime(now), "handled_by_id": userID, "handled_note": note})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("store: handle inbox item %d: %w", id, err)
	}
	return n == 1, nil
}

// CandidateIDs reads Candidates: the ids of the appointments the message
// may be about, in the order they were listed.
func (m *InboundMessage) CandidateIDs() []uint {
	var out []uint
	for _, f := range strings.Split(m.Candidates, ",") {
		if n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64); err == nil && n > 0 {
			out = append(out, uint(n))
		}
	}
	return out
}

// SetCandidates writes Candidates from the appointments: "12,15".
func (m *InboundMessage) SetCandidates(as []Appointment) {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = strconv.FormatUint(uint64(a.ID), 10)
	}
	m.Candidates = strings.Join(parts, ",")
}

// ReplySummaries returns the latest reply matched to each appointment in
// ids, without its text: its intent, whether it needs a person and whether
// one handled it. Appointments without a reply are absent.
func (s *Store) ReplySummaries(ctx context.Context, ids []uint) (map[uint]InboundMessage, error) {
	out := make(map[uint]InboundMessage, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []InboundMessage
	err := s.conn(ctx).Select("id", "appointment_id", "intent", "needs_attention", "handled_at", "received_at").
		Where("appointment_id IN ?", ids).Order("appointment_id, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: reply summaries: %w", Classify(err))
	}
	for _, r := range rows {
		out[*r.AppointmentID] = r
	}
	return out, nil
}

// PatientReplies returns the latest limit texts received from a patient:
// those matched to them, and those from their number. Latest first.
func (s *Store) PatientReplies(ctx context.Context, patientID uint, phone string, limit int) ([]InboundMessage, error) {
	db := s.conn(ctx)
	var rows []InboundMessage
	err := db.Where(db.Where("patient_id = ?", patientID).Or(clause.Eq{Column: clause.Column{Name: "from"}, Value: phone})).
		Order("received_at DESC, id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: replies of patient %d: %w", patientID, Classify(err))
	}
	return rows, nil
}

// InboundMessage returns one inbound message, or ErrNotFound.
func (s *Store) InboundMessage(ctx context.Context, id uint) (*InboundMessage, error) {
	return first[InboundMessage](ctx, s, "inbound message", id, false)
}
