package webhook

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"apptconfirm/models"
)

// Group commit limits.
const (
	// maxGroupRows bounds the rows one group transaction writes.
	maxGroupRows = 20000
	// groupTimeout bounds one group transaction; it does not depend on
	// any one request, whose client may go away while others wait.
	groupTimeout = 15 * time.Second
)

// groupCommit writes the batches of concurrent requests in one transaction
// (a group commit), so that a commit, the expensive part of a durable write,
// is shared by every request waiting at that moment. Each request still
// gets its own insert statement, and so its own count of new rows; a
// request's batch is all in or all out. There is no goroutine when there is
// no work: the first request to find no writer becomes it, and hands over
// to a background goroutine only when more work arrived meanwhile.
type groupCommit struct {
	store *models.Store
	// timeout bounds one group transaction (groupTimeout).
	timeout time.Duration

	// stmt is the single-row insert prepared once on SQLite (see
	// insertEach); nil until the first group, and on PostgreSQL.
	stmtMu sync.Mutex
	stmt   *sql.Stmt

	mu      sync.Mutex
	pending []*insertReq
	writing bool
}

// insertReq is one request's batch waiting for its commit.
type insertReq struct {
	rows   []models.WebhookEvent
	stored int
	err    error
	done   chan struct{}
}

// insert stores rows (ON CONFLICT DO NOTHING on the de-duplication key)
// and returns how many were new, once they are committed.
func (g *groupCommit) insert(ctx context.Context, rows []models.WebhookEvent) (int, error) {
	req := &insertReq{rows: rows, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, req)
	lead := !g.writing
	g.writing = true
	g.mu.Unlock()
	if lead {
		g.write()
	}
	select {
	case <-req.done:
		return req.stored, req.err
	case <-ctx.Done():
		// The client is gone; its batch may still be committed, which a
		// retry then finds as duplicates.
		return 0, ctx.Err()
	}
}

// write commits one group, then hands the writer's role to a background
// goroutine if more requests are waiting.
func (g *groupCommit) write() {
	g.mu.Lock()
	n, rows := 0, 0
	for n < len(g.pending) && (n == 0 || rows+len(g.pending[n].rows) <= maxGroupRows) {
		rows += len(g.pending[n].rows)
		n++
	}
	group := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()

	g.commit(group)

	g.mu.Lock()
	more := len(g.pending) > 0
	g.writing = more
	g.mu.Unlock()
	if more {
		go g.write()
	}
}

// commit writes a group in one transaction. When the group fails for a
// reason other than an unavailable or overloaded database (a deadlock
// between instances, a row the database refuses), each request is written
// alone, so that one request cannot fail the others.
func (g *groupCommit) commit(group []*insertReq) {
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	err := g.tx(group)
	if err == nil {
		return
	}
	if len(group) == 1 || errors.Is(err, models.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		for _, r := range group {
			r.stored, r.err = 0, err
		}
		return
	}
	for _, r := range group {
		if err := g.tx([]*insertReq{r}); err != nil {
			r.stored, r.err = 0, err
		}
	}
}

// insertChunk bounds the rows of one INSERT statement (8 parameters a
// row; SQLite allows 32766 parameters, PostgreSQL 65535).
const insertChunk = 1000

// insertSQL starts the group's INSERT; the values and the conflict clause
// follow. Only placeholders are added to it, never data.
const insertSQL = "INSERT INTO webhook_events (event, dedup_key, raw, received_at, processed_at, attempts, result, flagged) VALUES "

// tx inserts the rows of every request of group in one transaction, sorted
// by key (so instances writing overlapping batches lock in the same order),
// and credits each new key to the first request that carried it.
func (g *groupCommit) tx(group []*insertReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	seen := map[string]bool{}
	var rows []*models.WebhookEvent
	for _, r := range group {
		r.stored = 0
		for i := range r.rows {
			if k := r.rows[i].DedupKey; !seen[k] {
				seen[k] = true
				rows = append(rows, &r.rows[i])
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].DedupKey < rows[j].DedupKey })
	inserted := make(map[string]bool, len(rows))
	var err error
	if g.store.Driver() == models.DriverSQLite {
		err = g.insertEach(ctx, rows, inserted)
	} else {
		err = g.insertMulti(ctx, rows, inserted)
	}
	if err != nil {
		if ctx.Err() != nil {
			// Past groupTimeout a statement may report only that the
			// transaction is gone (sql.ErrTxDone); the deadline is the
			// cause, and the answer is 503 (retry), not 500.
			return ctx.Err()
		}
		return models.Classify(err)
	}
	for _, r := range group {
		for i := range r.rows {
			if k := r.rows[i].DedupKey; inserted[k] {
				delete(inserted, k)
				r.stored++
			}
		}
	}
	return nil
}

// insertMulti writes rows with multi-row INSERT … RETURNING statements, one
// round trip per insertChunk rows: the way for a database across a network
// (PostgreSQL).
func (g *groupCommit) insertMulti(ctx context.Context, rows []*models.WebhookEvent, inserted map[string]bool) error {
	return g.store.Tx(ctx, func(tx *models.Store) error {
		for start := 0; start < len(rows); start += insertChunk {
			chunk := rows[start:min(start+insertChunk, len(rows))]
			var sql strings.Builder
			sql.WriteString(insertSQL)
			args := make([]any, 0, 8*len(chunk))
			for i, r := range chunk {
				if i > 0 {
					sql.WriteString(",")
				}
				sql.WriteString("(?,?,?,?,?,?,?,?)")
				args = append(args, r.Event, r.DedupKey, r.Raw, r.ReceivedAt, r.ProcessedAt, r.Attempts, r.Result, r.Flagged)
			}
			sql.WriteString(" ON CONFLICT (dedup_key) DO NOTHING RETURNING dedup_key")
			var keys []string
			if err := tx.DB(ctx).Raw(sql.String(), args...).Scan(&keys).Error; err != nil {
				return err
			}
			for _, k := range keys {
				inserted[k] = true
			}
		}
		return nil
	})
}

// insertOneSQL is the single-row insert of insertEach.
const insertOneSQL = insertSQL + "(?,?,?,?,?,?,?,?) ON CONFLICT (dedup_key) DO NOTHING"

// insertEach writes rows one statement each, all in one transaction,
// through a statement prepared once: SQLite runs in process, so a statement
// costs no round trip, and reusing one compiled statement is cheaper than
// compiling a multi-row statement of a new length for every group. A row
// the conflict clause skipped changes nothing, which is how a duplicate is
// told from a new row.
func (g *groupCommit) insertEach(ctx context.Context, rows []*models.WebhookEvent, inserted map[string]bool) error {
	db, err := g.store.DB(ctx).DB()
	if err != nil {
		return err
	}
	stmt, err := g.prepared(ctx, db)
	if err != nil {
		return err
	}
	release, err := g.store.WriterTurn(ctx)
	if err != nil {
		return err
	}
	defer release()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	s := tx.StmtContext(ctx, stmt)
	defer func() { _ = s.Close() }()
	// The transaction still ends at groupTimeout (see statementContext).
	execCtx := statementContext(ctx, g.store)
	for _, r := range rows {
		res, err := s.ExecContext(execCtx, r.Event, r.DedupKey, r.Raw, r.ReceivedAt, r.ProcessedAt, r.Attempts, r.Result, r.Flagged)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			inserted[r.DedupKey] = true
		}
	}
	return tx.Commit()
}

// prepared returns the prepared single-row insert, preparing it on first
// use; a failed prepare is tried again by the next group.
func (g *groupCommit) prepared(ctx context.Context, db *sql.DB) (*sql.Stmt, error) {
	g.stmtMu.Lock()
	defer g.stmtMu.Unlock()
	if g.stmt == nil {
		stmt, err := db.PrepareContext(ctx, insertOneSQL)
		if err != nil {
			return nil, err
		}
		g.stmt = stmt
	}
	return g.stmt, nil
}
