package models

import (
	"context"
	"database/sql"
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
// parameters; a message row takes at most 13).
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

// LockPendingWebhookEvents returns those of the events ids not yet
// processed, and on PostgreSQL locks them (FOR UPDATE, by id) until the
// transaction ctx carries ends, waiting for another worker that holds one:
// a worker that locks the events before applying them may then claim them
// with their results in one statement (FinishWebhookEvents) and still
// takes its locks in the order of the per-event path (the event first,
// then what applying it changes). An event processed meanwhile by another
// worker is not returned.
func (s *Store) LockPendingWebhookEvents(ctx context.Context, ids []uint) (map[uint]bool, error) {
	pending := make(map[uint]bool, len(ids))
	if len(ids) == 0 {
		return pending, nil
	}
	// The rows are found by id alone, through the primary key; whether
	// each is still pending comes back with it.
	ids = padIn(ids)
	q := "SELECT id, processed_at IS NULL FROM webhook_events WHERE id IN " + marks(len(ids)) + " ORDER BY id"
	if s.driver == DriverPostgres {
		q += " FOR UPDATE"
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	err := s.write(ctx, func(db *gorm.DB) error {
		rows, err := s.queryRaw(db, q, args...)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var id uint
			var open bool
			if err := rows.Scan(&id, &open); err != nil {
				return err
			}
			if open {
				pending[id] = true
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: lock webhook events: %w", err)
	}
	return pending, nil
}

// SetWebhookResults records what processing each event did, in one
// statement per 500 events (see chunks).
func (s *Store) SetWebhookResults(ctx context.Context, rs []WebhookResult) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		for lo, hi := range s.chunks(len(rs), setChunk) {
			part := rs[lo:hi]
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
		for lo, hi := range s.chunks(len(rs), setChunk) {
			part := rs[lo:hi]
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
			args = s.padValues(&q, args, len(part), row)
			q.WriteString(") AS v WHERE webhook_events.id = v.column1 AND webhook_events.processed_at IS NULL")
			if err := s.execEach(db, q.String(), args, len(part), "webhook events processed meanwhile"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: finish webhook events: %w", err)
	}
	return nil
}

// execEach runs the statement q and fails with ErrConflict unless it
// changed exactly want rows: the others were changed by someone else
// since they were read (what says how).
func (s *Store) execEach(db *gorm.DB, q string, args []any, want int, what string) error {
	res, err := s.execRaw(db, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != int64(want) {
		return fmt.Errorf("%d of %d %s: %w", int64(want)-n, want, what, ErrConflict)
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
// on PostgreSQL. The rows are read past GORM (see execRaw): reading them
// through its reflection cost more than the query.
func (s *Store) MessagesForReports(ctx context.Context, providerIDs, uuids []string) ([]Message, error) {
	var out []Message
	if len(providerIDs) == 0 && len(uuids) == 0 {
		return out, nil
	}
	if err := s.messagesVisible(ctx); err != nil {
		return nil, fmt.Errorf("store: messages for delivery reports: %w", err)
	}
	providerIDs, uuids = padIn(providerIDs), padIn(uuids)
	q, args := s.messagesForReportsSQL(providerIDs, uuids)
	rows, err := s.queryRaw(s.conn(ctx), q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: messages for delivery reports: %w", Classify(err))
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		out = append(out, Message{})
		if err := scanMessage(rows, &out[len(out)-1]); err != nil {
			return nil, fmt.Errorf("store: messages for delivery reports: %w", Classify(err))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: messages for delivery reports: %w", Classify(err))
	}
	return out, nil
}

// messagesForReportsSQL is MessagesForReports' query and its arguments.
func (s *Store) messagesForReportsSQL(providerIDs, uuids []string) (string, []any) {
	var q strings.Builder
	args := make([]any, 0, len(providerIDs)+len(uuids))
	in := func(col string, vals []string) {
		q.WriteString(col + " IN (")
		for i, v := range vals {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('?')
			args = append(args, v)
		}
		q.WriteByte(')')
	}
	if s.driver != DriverPostgres {
		// Each list is looked up through its index, named: with the
		// statistics of ANALYZE, SQLite judged a long list dearer than
		// reading the whole table (many messages share the empty msgId of
		// one not sent yet), and scanned every message for every batch.
		sep := ""
		for _, part := range []struct {
			col, index string
			vals       []string
		}{{"provider_message_id", "idx_messages_provider_id", providerIDs}, {"uuid", "idx_messages_uuid", uuids}} {
			if len(part.vals) == 0 {
				continue
			}
			q.WriteString(sep + "SELECT " + messageColumns + " FROM messages INDEXED BY " + part.index + " WHERE ")
			in(part.col, part.vals)
			sep = " UNION "
		}
		q.WriteString(" ORDER BY id")
	} else {
		q.WriteString("SELECT " + messageColumns + " FROM messages WHERE ")
		if len(providerIDs) > 0 {
			in("provider_message_id", providerIDs)
		}
		if len(uuids) > 0 {
			if len(providerIDs) > 0 {
				q.WriteString(" OR ")
			}
			in("uuid", uuids)
		}
		q.WriteString(" ORDER BY id FOR UPDATE")
	}
	return q.String(), args
}

// MessageNumbers says to which number messages were sent, by SMS.CX's id
// (ByProviderID) and by ours (ByUUID).
type MessageNumbers struct {
	ByProviderID, ByUUID map[string]string
}

// MessageNumbers returns the numbers of the messages whose SMS.CX id is
// one of providerIDs or whose UUID is one of uuids; ids that match no
// message are left out. It reads without locking: it is for routing
// delivery reports, not for applying them.
func (s *Store) MessageNumbers(ctx context.Context, providerIDs, uuids []string) (MessageNumbers, error) {
	out := MessageNumbers{ByProviderID: map[string]string{}, ByUUID: map[string]string{}}
	if len(providerIDs) == 0 && len(uuids) == 0 {
		return out, nil
	}
	providerIDs, uuids = padIn(providerIDs), padIn(uuids)
	args := make([]any, 0, len(providerIDs)+len(uuids))
	for _, v := range providerIDs {
		args = append(args, v)
	}
	for _, v := range uuids {
		args = append(args, v)
	}
	// Highest id first, so that of several messages with one SMS.CX id
	// the lowest is kept, as applying a report picks it.
	q := `SELECT provider_message_id, uuid, "to" FROM messages WHERE provider_message_id IN ` +
		marks(len(providerIDs)) + ` OR uuid IN ` + marks(len(uuids)) + ` ORDER BY id DESC`
	rows, err := s.queryRaw(s.conn(ctx), q, args...)
	if err != nil {
		return out, fmt.Errorf("store: message numbers: %w", Classify(err))
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var provider sql.NullString
		var uuid, to string
		if err := rows.Scan(&provider, &uuid, &to); err != nil {
			return out, fmt.Errorf("store: message numbers: %w", Classify(err))
		}
		if provider.String != "" {
			out.ByProviderID[provider.String] = to
		}
		out.ByUUID[uuid] = to
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("store: message numbers: %w", Classify(err))
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
	// Was, when set, is the row as it was read (and locked): only the
	// columns that differ from it in some row of a statement are written,
	// so that indexes on columns no report changed are left alone.
	Was *Message
}

// deliveryColumn is one column UpdateDeliveries may write: its name, its
// type for PostgreSQL, its new value in a row, and whether a row changes it.
type deliveryColumn struct {
	name, typ string
	value     func(m *Message) any
	changed   func(m, was *Message) bool
}

// deliveryColumns are the delivery columns of a message but updated_at,
// which is always written.
var deliveryColumns = []deliveryColumn{
	{"status", "text", func(m *Message) any { return string(m.Status) }, func(m, w *Message) bool { return m.Status != w.Status }},
	{"provider_state", "text", func(m *Message) any { return m.ProviderState }, func(m, w *Message) bool { return m.ProviderState != w.ProviderState }},
	{"provider_message_id", "text", func(m *Message) any { return m.ProviderID }, func(m, w *Message) bool { return m.ProviderID != w.ProviderID }},
	{"campaign_id", "text", func(m *Message) any { return m.CampaignID }, func(m, w *Message) bool { return m.CampaignID != w.CampaignID }},
	{"sent_at", "timestamptz", func(m *Message) any { return dbTimePtr(m.SentAt) }, func(m, w *Message) bool { return !sameTime(m.SentAt, w.SentAt) }},
	{"delivered_at", "timestamptz", func(m *Message) any { return dbTimePtr(m.DeliveredAt) }, func(m, w *Message) bool { return !sameTime(m.DeliveredAt, w.DeliveredAt) }},
	{"reason", "text", func(m *Message) any { return Clip(m.Reason, 500) }, func(m, w *Message) bool { return m.Reason != w.Reason }},
	{"error_code", "integer", func(m *Message) any { return m.ErrorCode }, func(m, w *Message) bool { return !sameInt(m.ErrorCode, w.ErrorCode) }},
	{"lease_until", "timestamptz", func(m *Message) any { return dbTimePtr(m.LeaseUntil) }, func(m, w *Message) bool { return !sameTime(m.LeaseUntil, w.LeaseUntil) }},
	{"in_doubt", "boolean", func(m *Message) any { return m.InDoubt }, func(m, w *Message) bool { return m.InDoubt != w.InDoubt }},
}

// UpdateDeliveries writes the delivery columns of many messages, one
// statement per 500 (see chunks). It is ErrConflict when one of them is no longer in
// its From status (the caller then applies its reports one by one).
func (s *Store) UpdateDeliveries(ctx context.Context, rows []DeliveryRow) error {
	if len(rows) > 0 {
		s.messagesChanged(ctx)
	}
	err := s.write(ctx, func(db *gorm.DB) error {
		if err := s.messagesVisible(db.Statement.Context); err != nil {
			return err
		}
		for lo, hi := range s.chunks(len(rows), setChunk) {
			part := rows[lo:hi]
			var cols []deliveryColumn
			for _, c := range deliveryColumns {
				for _, r := range part {
					if r.Was == nil || c.changed(r.Message, r.Was) {
						cols = append(cols, c)
						break
					}
				}
			}
			var q strings.Builder
			args := make([]any, 0, (3+len(cols))*len(part))
			q.WriteString("UPDATE messages SET updated_at = v.column3")
			row := "(" + s.cast("bigint") + "," + s.cast("text") + "," + s.cast("timestamptz")
			for i, c := range cols {
				fmt.Fprintf(&q, ", %s = v.column%d", c.name, i+4)
				row += "," + s.cast(c.typ)
			}
			row += ")"
			q.WriteString(" FROM (VALUES ")
			for i, r := range part {
				if i > 0 {
					q.WriteByte(',')
				}
				q.WriteString(row)
				m := r.Message
				args = append(args, m.ID, string(r.From), DBTime(m.UpdatedAt))
				for _, c := range cols {
					args = append(args, c.value(m))
				}
			}
			args = s.padValues(&q, args, len(part), row)
			q.WriteString(") AS v WHERE messages.id = v.column1 AND messages.status = v.column2")
			if err := s.execEach(db, q.String(), args, len(part), "messages changed meanwhile"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: update deliveries: %w", err)
	}
	return nil
}

// sameTime reports whether a and b are both nil or the same instant.
func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// sameInt reports whether a and b are both nil or the same number.
func sameInt(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// dbTimePtr is t in the database's precision, or nil.
func dbTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return DBTime(*t)
}
