package webhook

import (
	"context"
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
	maxGroupRows = 5000
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
// reason other than an unavailable database (a deadlock between instances,
// a row the database refuses), each request is written alone, so that one
// request cannot fail the others.
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
	if len(group) == 1 || errors.Is(err, models.ErrUnavailable) {
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

// tx inserts the rows of every request of group in one transaction, with
// multi-row statements sorted by key (so instances writing overlapping
// batches lock in the same order), and credits each new key to the first
// request that carried it.
func (g *groupCommit) tx(group []*insertReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
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
	err := g.store.Tx(ctx, func(tx *models.Store) error {
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
	if err != nil {
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
