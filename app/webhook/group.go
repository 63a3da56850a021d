package webhook

import (
	"context"
	"errors"
	"runtime"
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
	// gatherRequests and gatherYields bound the gathering of a group: the
	// writer yields the processor to the requests still being decoded up to
	// gatherYields times, until gatherRequests requests (or all those in
	// flight) wait.
	gatherRequests = 32
	gatherYields   = 8
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
	// traffic counts the requests in flight (nil: unknown, no gathering).
	traffic *Traffic
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
// goroutine if more requests are waiting. It takes the database's writer
// turn before it takes the group, and then gathers, so that the requests
// that arrived while it waited (behind the processor, say) and those being
// decoded share this commit: a commit's fixed cost (begin, commit, the
// pages every commit rewrites) is spread over all of them. On a busy
// machine a commit otherwise found three requests waiting, on average.
//
// The role passes on, and the turn is released, even if the commit panics.
func (g *groupCommit) write() {
	defer func() {
		g.mu.Lock()
		more := len(g.pending) > 0
		g.writing = more
		g.mu.Unlock()
		if more {
			go g.write()
		}
	}()
	held, release, err := g.store.HoldWriterTurn(context.Background())
	if err != nil {
		g.take(err)
		return
	}
	defer release()
	g.gather()
	g.commit(held, g.take(nil))
}

// take removes the next group from the queue and returns it; with a
// non-nil err it fails the group's requests with err instead.
func (g *groupCommit) take(err error) []*insertReq {
	g.mu.Lock()
	n, rows := 0, 0
	for n < len(g.pending) && (n == 0 || rows+len(g.pending[n].rows) <= maxGroupRows) {
		rows += len(g.pending[n].rows)
		n++
	}
	group := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()
	if err != nil {
		// No turn within the store's wait: the database is busy.
		for _, r := range group {
			r.stored, r.err = 0, err
			close(r.done)
		}
		return nil
	}
	return group
}

// gather lets the requests in flight reach the queue before a group is
// taken: while fewer than gatherRequests wait and others are in flight, it
// yields the processor (runtime.Gosched), at most gatherYields times. It
// never sleeps: a lone request is written at once, and on an idle machine
// a yield returns at once.
func (g *groupCommit) gather() {
	for range gatherYields {
		g.mu.Lock()
		waiting := len(g.pending)
		g.mu.Unlock()
		if waiting >= gatherRequests || int64(waiting) >= g.traffic.inFlight() {
			return
		}
		runtime.Gosched()
	}
}

// commit writes a group in one transaction. When the group fails for a
// reason other than an unavailable or overloaded database (a deadlock
// between instances, a row the database refuses), each request is written
// alone, so that one request cannot fail the others.
func (g *groupCommit) commit(ctx context.Context, group []*insertReq) {
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	err := g.tx(ctx, group)
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
		if err := g.tx(ctx, []*insertReq{r}); err != nil {
			r.stored, r.err = 0, err
		}
	}
}

// tx inserts the rows of every request of group in one transaction, in the
// order they arrived (a batch's items in their order: the processor applies
// events in the order of their ids, and a patient's HELP, STOP and START in
// one batch must apply in the order sent), and credits each new key to the
// first request that carried it. parent carries the writer's turn.
func (g *groupCommit) tx(parent context.Context, group []*insertReq) error {
	ctx, cancel := context.WithTimeout(parent, g.timeout)
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
