package models

import (
	"context"
	"database/sql"
	"time"
)

// messageColumns are the columns of messages in the order scanMessage reads
// them.
const messageColumns = `id, uuid, appointment_id, patient_id, rule_id, rule_name, kind, "to", body, status, send_at,
reason, planned_because, attempts, lease_until, sent_at, delivered_at, provider_message_id, campaign_id, parts, cost,
provider_state, error_code, created_by_id, in_doubt, created_at, updated_at, language, fallback_from, moved_from, move_reason`

// scanMessage reads a row of messageColumns into m.
func scanMessage(rows *sql.Rows, m *Message) error {
	// The three columns the schema lets be NULL read as GORM reads them:
	// a NULL leaves the zero value.
	var providerID sql.Null[string]
	var created, updated sql.Null[time.Time]
	err := rows.Scan(&m.ID, &m.UUID, &m.AppointmentID, &m.PatientID, &m.RuleID, &m.RuleName, &m.Kind, &m.To, &m.Body,
		&m.Status, &m.SendAt, &m.Reason, &m.PlannedBecause, &m.Attempts, &m.LeaseUntil, &m.SentAt, &m.DeliveredAt,
		&providerID, &m.CampaignID, &m.Parts, &m.Cost, &m.ProviderState, &m.ErrorCode, &m.CreatedByID, &m.InDoubt,
		&created, &updated, &m.Language, &m.FallbackFrom, &m.MovedFrom, &m.MoveReason)
	m.ProviderID, m.CreatedAt, m.UpdatedAt = providerID.V, created.V, updated.V
	return err
}

// messagesVisible is, for a statement on messages run past GORM, the check
// GORM's callbacks make (guardHeldMessages): inside a transaction that
// holds messages for a later insert, such a statement would not see them.
func (s *Store) messagesVisible(ctx context.Context) error {
	st := s.txOf(ctx)
	if st == nil || !st.holding() {
		return nil
	}
	if known, _ := ctx.Value(heldOKKey{}).(bool); known {
		return nil
	}
	return ErrMessagesHeld
}

// messagesChanged is, for a change to messages run past GORM, what GORM's
// callbacks note (trackChanges): ReminderTimes can no longer follow the
// transaction's messages from what it inserted.
func (s *Store) messagesChanged(ctx context.Context) {
	if st := s.txOf(ctx); st != nil {
		st.root().unknown = true
		st.root().messageWrites++
	}
}

// MessageWrites counts the statements that wrote to messages so far in
// the transaction ctx carries (inserts, and changes through GORM or noted
// past it); -1 outside a transaction. While it has not moved, nothing
// this transaction wrote has changed what it read of messages (others'
// commits aside, which PostgreSQL shows a statement at a time).
func (s *Store) MessageWrites(ctx context.Context) int {
	st := s.txOf(ctx)
	if st == nil {
		return -1
	}
	return st.root().messageWrites
}

// uintColumn runs q, a query on messages past GORM, and returns the
// first column of its rows; NULLs are left out.
func (s *Store) uintColumn(ctx context.Context, q string, args ...any) ([]uint, error) {
	if err := s.messagesVisible(ctx); err != nil {
		return nil, err
	}
	rows, err := s.queryRaw(s.conn(ctx), q, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []uint
	for rows.Next() {
		var v sql.Null[uint]
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if v.Valid {
			out = append(out, v.V)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}
