package webhook

import (
	"context"
	"errors"
	"sort"
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
	inserted, err := g.store.InsertWebhookEvents(ctx, rows)
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
