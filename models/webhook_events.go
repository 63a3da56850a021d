package models

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

// webhookInsertSQL starts an INSERT of webhook events; the values and the
// conflict clause follow. Only placeholders are added to it, never data.
const webhookInsertSQL = "INSERT INTO webhook_events (event, dedup_key, raw, received_at, processed_at, attempts, result, flagged) VALUES "

// webhookInsertOneSQL is the single-row insert prepared once on SQLite.
const webhookInsertOneSQL = webhookInsertSQL + "(?,?,?,?,?,?,?,?) ON CONFLICT (dedup_key) DO NOTHING"

// webhookInsertPendingSQL is webhookInsertOneSQL for an event waiting to
// be processed (no processed_at, attempts, result or flag), which is what
// nearly every stored event is: four values bound instead of eight, each
// bind a call into SQLite and a conversion in database/sql.
const webhookInsertPendingSQL = webhookInsertSQL + "(?,?,?,?,NULL,0,'',0) ON CONFLICT (dedup_key) DO NOTHING"

// preparedWebhookInsert holds the single-row inserts, prepared on first use.
type preparedWebhookInsert struct {
	mu      sync.Mutex
	stmt    *sql.Stmt // webhookInsertOneSQL
	pending *sql.Stmt // webhookInsertPendingSQL
}

// isPending reports whether r is an event waiting to be processed, with
// the defaults of the columns webhookInsertPendingSQL does not bind.
func (r *WebhookEvent) isPending() bool {
	return r.ProcessedAt == nil && r.Attempts == 0 && r.Result == "" && !r.Flagged
}

// InsertWebhookEvents stores rows in one transaction of their own, skipping
// those whose DedupKey is already stored, and returns the keys it stored.
// Rows get their ids in the order given, the order the processor applies
// them in.
//
// On SQLite each row is one statement, all through one prepared single-row
// statement: SQLite runs in process, so a statement costs no round trip,
// and reusing one compiled statement is cheaper than compiling a multi-row
// statement of a new length for every batch; a row the conflict clause
// skipped changes nothing, which is how a duplicate is told from a new row.
// On PostgreSQL, across a network, the whole batch goes in one INSERT …
// SELECT FROM unnest(arrays) … RETURNING: one round trip, one statement.
func (s *Store) InsertWebhookEvents(ctx context.Context, rows []*WebhookEvent) (map[string]bool, error) {
	inserted := make(map[string]bool, len(rows))
	var err error
	if s.driver == DriverSQLite {
		err = s.insertWebhookEach(ctx, rows, inserted)
	} else {
		err = s.insertWebhookMulti(ctx, rows, inserted)
	}
	if err != nil {
		return nil, err
	}
	return inserted, nil
}

// webhookUnnestSQL inserts a whole batch of webhook events on PostgreSQL
// from eight arrays: one statement of one text whatever the batch's length,
// so the driver prepares it once per connection and reuses it, where a
// multi-row VALUES list is a new statement for every length. The ids are
// drawn in the order of the arrays (the order the events are applied in),
// and the rows are inserted in the order of their keys, so that instances
// writing overlapping batches take the key's locks in the same order and
// cannot deadlock.
const webhookUnnestSQL = `WITH ids AS MATERIALIZED (
	SELECT nextval(pg_get_serial_sequence('webhook_events', 'id')) AS id, n FROM generate_series(1, cardinality($2::text[])) AS n
)
INSERT INTO webhook_events (id, event, dedup_key, raw, received_at, processed_at, attempts, result, flagged)
SELECT ids.id, u.event, u.dedup_key, u.raw, u.received_at, u.processed_at, u.attempts, u.result, u.flagged
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::integer[], $7::text[], $8::boolean[])
	WITH ORDINALITY AS u(event, dedup_key, raw, received_at, processed_at, attempts, result, flagged, n)
JOIN ids ON ids.n = u.n
ORDER BY u.dedup_key
ON CONFLICT (dedup_key) DO NOTHING RETURNING dedup_key`

func (s *Store) insertWebhookMulti(ctx context.Context, rows []*WebhookEvent, inserted map[string]bool) error {
	return s.Tx(ctx, func(ctx context.Context) error {
		n := len(rows)
		events, keys, raws, results := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		received, processed := make([]time.Time, n), make([]*time.Time, n)
		attempts, flagged := make([]int32, n), make([]bool, n)
		for i, r := range rows {
			events[i], keys[i], raws[i], results[i] = r.Event, r.DedupKey, r.Raw, r.Result
			received[i], processed[i] = r.ReceivedAt, r.ProcessedAt
			attempts[i], flagged[i] = int32(r.Attempts), r.Flagged
		}
		// The arrays go to the driver as they are: GORM would spread a
		// slice argument into a list of placeholders.
		got, err := s.conn(ctx).Statement.ConnPool.QueryContext(ctx, webhookUnnestSQL,
			events, keys, raws, received, processed, attempts, results, flagged)
		if err != nil {
			return err
		}
		defer func() { _ = got.Close() }()
		for got.Next() {
			var k string
			if err := got.Scan(&k); err != nil {
				return err
			}
			inserted[k] = true
		}
		return got.Err()
	})
}

func (s *Store) insertWebhookEach(ctx context.Context, rows []*WebhookEvent, inserted map[string]bool) error {
	db, err := s.wdb.DB()
	if err != nil {
		return err
	}
	stmt, pending, err := s.webhookInsert.prepare(ctx, db)
	if err != nil {
		return Classify(err)
	}
	release, err := s.WriterTurn(ctx)
	if err != nil {
		return err
	}
	defer release()
	c, err := s.writerConn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return Classify(err)
	}
	defer func() { _ = tx.Rollback() }()
	// The transaction's copies of the statements, made when first used.
	var st, pt *sql.Stmt
	defer func() {
		for _, t := range []*sql.Stmt{st, pt} {
			if t != nil {
				_ = t.Close()
			}
		}
	}()
	// The transaction still ends with ctx; see conn for why the statements
	// run without its cancellation.
	execCtx := context.WithoutCancel(ctx)
	for _, r := range rows {
		var res sql.Result
		if r.isPending() {
			if pt == nil {
				pt = tx.StmtContext(ctx, pending)
			}
			res, err = pt.ExecContext(execCtx, r.Event, r.DedupKey, r.Raw, r.ReceivedAt)
		} else {
			if st == nil {
				st = tx.StmtContext(ctx, stmt)
			}
			res, err = st.ExecContext(execCtx, r.Event, r.DedupKey, r.Raw, r.ReceivedAt, r.ProcessedAt, r.Attempts, r.Result, r.Flagged)
		}
		if err != nil {
			return Classify(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return Classify(err)
		} else if n == 1 {
			inserted[r.DedupKey] = true
		}
	}
	return Classify(tx.Commit())
}

// prepare returns the prepared statements (webhookInsertOneSQL, then
// webhookInsertPendingSQL), preparing them on first use; a failed prepare
// is tried again next time.
func (p *preparedWebhookInsert) prepare(ctx context.Context, db *sql.DB) (one, pending *sql.Stmt, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stmt == nil {
		stmt, err := db.PrepareContext(ctx, webhookInsertOneSQL)
		if err != nil {
			return nil, nil, err
		}
		p.stmt = stmt
	}
	if p.pending == nil {
		stmt, err := db.PrepareContext(ctx, webhookInsertPendingSQL)
		if err != nil {
			return nil, nil, err
		}
		p.pending = stmt
	}
	return p.stmt, p.pending, nil
}

// pendingWebhookSQL lists unprocessed webhook events past an id, oldest
// first.
const pendingWebhookSQL = "SELECT id, event, raw, received_at FROM webhook_events WHERE processed_at IS NULL AND id > ? ORDER BY id LIMIT ?"

// PendingWebhookEvents returns up to limit stored events not yet processed
// with an id above after, oldest first (id, event, raw and received_at).
// The four columns are scanned by hand: the processor reads every stored
// event through here, and GORM's reflection took half the time of a page.
func (s *Store) PendingWebhookEvents(ctx context.Context, after uint, limit int) ([]WebhookEvent, error) {
	page, err := s.pendingWebhookEvents(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending webhook events: %w", Classify(err))
	}
	return page, nil
}

func (s *Store) pendingWebhookEvents(ctx context.Context, after uint, limit int) ([]WebhookEvent, error) {
	rows, err := s.conn(ctx).Raw(pendingWebhookSQL, after, limit).Rows()
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var page []WebhookEvent
	for rows.Next() {
		var e WebhookEvent
		if err := rows.Scan(&e.ID, &e.Event, &e.Raw, &e.ReceivedAt); err != nil {
			return nil, err
		}
		page = append(page, e)
	}
	return page, rows.Err()
}

// WebhookEvent returns one stored webhook event, or ErrNotFound.
func (s *Store) WebhookEvent(ctx context.Context, id uint) (*WebhookEvent, error) {
	return first[WebhookEvent](ctx, s, "webhook event", id, false)
}

// ClaimWebhookEvent marks event id processed at now (counting the attempt)
// and reports whether this caller did it: of several workers, the one that
// flips processed_at first applies the event; on PostgreSQL a second one
// waits for the row and then finds nothing to update.
func (s *Store) ClaimWebhookEvent(ctx context.Context, id uint, now time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res, err := s.execRaw(db, "UPDATE webhook_events SET processed_at = ?, attempts = attempts + 1 WHERE id = ? AND processed_at IS NULL", DBTime(now), id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: claim webhook event %d: %w", id, err)
	}
	return n == 1, nil
}

// SetWebhookResult records what processing event id did.
func (s *Store) SetWebhookResult(ctx context.Context, id uint, result string, flagged bool) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		_, err := s.execRaw(db, "UPDATE webhook_events SET result = ?, flagged = ? WHERE id = ?", clipBytes(result, 300), flagged, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: webhook event %d result: %w", id, err)
	}
	return nil
}

// FailWebhookEvent counts a failed attempt at event id (still unprocessed)
// and, once it has failed maxAttempts times, sets it aside: processed,
// flagged, with the cause. It reports whether it set the event aside.
func (s *Store) FailWebhookEvent(ctx context.Context, id uint, cause string, maxAttempts int, now time.Time) (bool, error) {
	var setAside bool
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&WebhookEvent{}).Where("id = ? AND processed_at IS NULL", id).
			Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "result": clipBytes("error: "+cause, 300)})
		if res.Error != nil {
			return res.Error
		}
		res = db.Model(&WebhookEvent{}).Where("id = ? AND processed_at IS NULL AND attempts >= ?", id, maxAttempts).
			Updates(map[string]any{
				"processed_at": DBTime(now), "flagged": true,
				"result": clipBytes(fmt.Sprintf("failed after %d attempts: %s", maxAttempts, cause), 300),
			})
		setAside = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("store: webhook event %d failure: %w", id, err)
	}
	return setAside, nil
}

// WebhookEventStored reports whether an event with de-duplication key key
// is stored.
func (s *Store) WebhookEventStored(ctx context.Context, key string) (bool, error) {
	n, err := count[WebhookEvent](ctx, s, "dedup_key = ?", key)
	if err != nil {
		return false, fmt.Errorf("store: webhook event by key: %w", err)
	}
	return n > 0, nil
}

// PruneWebhookEvents deletes events received and processed before cutoff
// and returns how many. Unprocessed events are never deleted. The rows are
// found by processed_at, which is indexed (received_at is not: every
// stored webhook would pay for that index); an event processed long after
// it arrived is kept until its processing is as old as the cutoff too.
func (s *Store) PruneWebhookEvents(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Where("processed_at < ? AND received_at < ?", DBTime(cutoff), cutoff.UTC()).Delete(&WebhookEvent{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune webhook events: %w", err)
	}
	return n, nil
}

// clipBytes cuts s to at most n bytes on a rune boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
