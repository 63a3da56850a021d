package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Set-based writes for applying webhook events a batch at a time: one
// statement for many rows, as UPDATE … FROM (VALUES …), which SQLite
// (3.33 and later) and PostgreSQL both accept. The columns of a VALUES list
// are column1, column2, … on both.

// setChunk bounds the rows of one statement (SQLite allows 32,766
// parameters; a message row takes 12).
const setChunk = 500

// WebhookResult is what processing one stored webhook event did.
type WebhookResult struct {
	ID      uint
	Result  string
	Flagged bool
}

// ClaimWebhookEvents marks the events ids processed at now (counting the
// attempt) in one statement, and returns those this caller claimed: the
// others were processed by another worker (see ClaimWebhookEvent).
func (s *Store) ClaimWebhookEvents(ctx context.Context, ids []uint, now time.Time) (map[uint]bool, error) {
	claimed := make(map[uint]bool, len(ids))
	if len(ids) == 0 {
		return claimed, nil
	}
	err := s.write(ctx, func(db *gorm.DB) error {
		var got []uint
		err := db.Raw("UPDATE webhook_events SET processed_at = ?, attempts = attempts + 1 WHERE processed_at IS NULL AND id IN ? RETURNING id",
			DBTime(now), ids).Scan(&got).Error
		for _, id := range got {
			claimed[id] = true
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim webhook events: %w", err)
	}
	return claimed, nil
}

// SetWebhookResults records what processing each event did, in one
// statement per 500 events.
func (s *Store) SetWebhookResults(ctx context.Context, rs []WebhookResult) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		for start := 0; start < len(rs); start += setChunk {
			part := rs[start:min(start+setChunk, len(rs))]
			var q strings.Builder
			args := make([]any, 0, 3*len(part))
			q.WriteString("UPDATE webhook_events SET result = v.column2, flagged = v.column3 FROM (VALUES ")
			for i, r := range part {
				if i > 0 {
					q.WriteByte(',')
				}
				q.WriteString("(" + s.cast("bigint") + "," + s.cast("text") + "," + s.cast("boolean") + ")")
				args = append(args, r.ID, clipBytes(r.Result, 300), r.Flagged)
			}
			q.WriteString(") AS v WHERE webhook_events.id = v.column1")
			if err := db.Exec(q.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: webhook event results: %w", err)
	}
	return nil
}

// FinishWebhookEvents claims the events of rs and records their results
// in one statement: each is marked processed at now, its attempt counted,
// its result and flag written. It is for a caller that has applied the
// events inside the transaction ctx carries (in a savepoint of it) before
// claiming them: when another worker processed one of them first, it is
// ErrConflict, and the caller rolls back what it applied. One statement
// instead of a claim before and a result after.
func (s *Store) FinishWebhookEvents(ctx context.Context, rs []WebhookResult, now time.Time) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		at := DBTime(now)
		for start := 0; start < len(rs); start += setChunk {
			part := rs[start:min(start+setChunk, len(rs))]
			var q strings.Builder
			args := make([]any, 0, 1+3*len(part))
			args = append(args, at)
			q.WriteString("UPDATE webhook_events SET processed_at = ?, attempts = attempts + 1, result = v.column2, flagged = v.column3 FROM (VALUES ")
			row := "(" + s.cast("bigint") + "," + s.cast("text") + "," + s.cast("boolean") + ")"
			for i, r := range part {
				if i > 0 {
					q.WriteByte(',')
				}
				q.WriteString(row)
				args = append(args, r.ID, clipBytes(r.Result, 300), r.Flagged)
			}
			q.WriteString(") AS v WHERE webhook_events.id = v.column1 AND webhook_events.processed_at IS NULL")
			res, err := s.execRaw(db, q.String(), args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n != int64(len(part)) {
				return fmt.Errorf("%d of %d webhook events processed meanwhile: %w", int64(len(part))-n, len(part), ErrConflict)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: finish webhook events: %w", err)
	}
	return nil
}

// cast is a placeholder of type typ: PostgreSQL needs the type of a VALUES
// column spelled out; SQLite must not have it (a CAST to TIMESTAMP there
// would turn a time into a number), and takes the column's type on write.
func (s *Store) cast(typ string) string {
	if s.driver == DriverPostgres {
		return "CAST(? AS " + typ + ")"
	}
	return "?"
}

// MessagesForReports returns, in one query, the messages SMS.CX knows by
// one of providerIDs or we know by one of uuids, by id, locked for update
// on PostgreSQL.
func (s *Store) MessagesForReports(ctx context.Context, providerIDs, uuids []string) ([]Message, error) {
	var out []Message
	if len(providerIDs) == 0 && len(uuids) == 0 {
		return out, nil
	}
	db := s.conn(ctx).Scopes(s.forUpdate)
	switch {
	case len(uuids) == 0:
		db = db.Where("provider_message_id IN ?", providerIDs)
	case len(providerIDs) == 0:
		db = db.Where("uuid IN ?", uuids)
	default:
		db = db.Where("provider_message_id IN ? OR uuid IN ?", providerIDs, uuids)
	}
	if err := db.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: messages for delivery reports: %w", Classify(err))
	}
	return out, nil
}

// DeliveryRow is a message's delivery columns as a batch of reports left
// them, to be written if its status is still From.
type DeliveryRow struct {
	From MessageStatus
	// Message holds the new values of status, provider_state,
	// provider_message_id, campaign_id, sent_at, delivered_at, reason,
	// error_code, lease_until, in_doubt and updated_at.
	Message *Message
}

// UpdateDeliveries writes the delivery columns of many messages, one
// statement per 500. It is ErrConflict when one of them is no longer in
// its From status (the caller then applies its reports one by one).
func (s *Store) UpdateDeliveries(ctx context.Context, rows []DeliveryRow) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		for start := 0; start < len(rows); start += setChunk {
			part := rows[start:min(start+setChunk, len(rows))]
			var q strings.Builder
			args := make([]any, 0, 13*len(part))
			q.WriteString(`UPDATE messages SET status = v.column3, provider_state = v.column4, provider_message_id = v.column5,
campaign_id = v.column6, sent_at = v.column7, delivered_at = v.column8, reason = v.column9, error_code = v.column10,
lease_until = v.column11, in_doubt = v.column12, updated_at = v.column13 FROM (VALUES `)
			ts, text := s.cast("timestamptz"), s.cast("text")
			row := "(" + s.cast("bigint") + "," + text + "," + text + "," + text + "," + text + "," + text + "," +
				ts + "," + ts + "," + text + "," + s.cast("integer") + "," + ts + "," + s.cast("boolean") + "," + ts + ")"
			for i, r := range part {
				if i > 0 {
					q.WriteByte(',')
				}
				q.WriteString(row)
				m := r.Message
				args = append(args, m.ID, string(r.From), string(m.Status), m.ProviderState, m.ProviderID, m.CampaignID,
					dbTimePtr(m.SentAt), dbTimePtr(m.DeliveredAt), Clip(m.Reason, 500), m.ErrorCode,
					dbTimePtr(m.LeaseUntil), m.InDoubt, DBTime(m.UpdatedAt))
			}
			q.WriteString(") AS v WHERE messages.id = v.column1 AND messages.status = v.column2")
			res := db.Exec(q.String(), args...)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != int64(len(part)) {
				return fmt.Errorf("%d of %d messages changed meanwhile: %w", int64(len(part))-res.RowsAffected, len(part), ErrConflict)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: update deliveries: %w", err)
	}
	return nil
}

// dbTimePtr is t in the database's precision, or nil.
func dbTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return DBTime(*t)
}
