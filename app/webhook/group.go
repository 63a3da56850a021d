package webhook

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"apptconfirm/models"
)

// Group commit limits.
const (
	// maxGroupRows bounds the rows one group transaction writes; a request
	// with more rows than this is written alone, whole.
	maxGroupRows = 256
	// maxLinger bounds how long the writer waits for requests still being
	// decoded before it commits a group smaller than maxGroupRows. It
	// waits only while such requests exist, so a lone request is written
	// at once.
	maxLinger = 1500 * time.Microsecond
	// groupTimeout bounds one group transaction; it does not depend on
	// any one request, whose client may go away while others wait.
	groupTimeout = 15 * time.Second
)

// groupCommit writes the batches of concurrent requests in one transaction
// (a group commit), so that a commit, the expensive part of a durable write,
// is shared by every request waiting at that moment. Requests hand their
// rows to one writer goroutine and wait for its commit; a request's batch
// is all in or all out, and each learns its own count of new rows. The
// writer runs only while there is work: the first request to find none
// starts it, and it ends when nothing waits, so whatever was queued is
// written before it stops (a server shutting down waits for its handlers,
// and so for their commits).
type groupCommit struct {
	store *models.Store
	// timeout bounds one group transaction (groupTimeout).
	timeout time.Duration
	// linger is maxLinger; tests may change it.
	linger time.Duration

	// arriving counts requests being decoded, which will soon queue rows:
	// the writer lingers for them.
	arriving atomic.Int64
	// wake tells a lingering writer that a request queued or gave up.
	wake chan struct{}

	mu      sync.Mutex
	pending []*insertReq
	rows    int // rows in pending
	writing bool
}

func newGroupCommit(store *models.Store) *groupCommit {
	return &groupCommit{store: store, timeout: groupTimeout, linger: maxLinger, wake: make(chan struct{}, 1)}
}

// insertReq is one request's batch waiting for its commit.
type insertReq struct {
	rows   []models.WebhookEvent
	stored int
	err    error
	done   chan struct{}
}

// arrive says a request has begun decoding; the returned func, called once
// whether or not the request queues rows, says it no longer will.
func (g *groupCommit) arrive() (leave func()) {
	g.arriving.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			g.arriving.Add(-1)
			g.poke()
		})
	}
}

func (g *groupCommit) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// insert stores rows (ON CONFLICT DO NOTHING on the de-duplication key)
// and returns how many were new, once they are committed. leave is arrive's
// func; insert calls it once the rows are queued.
func (g *groupCommit) insert(ctx context.Context, leave func(), rows []models.WebhookEvent) (int, error) {
	req := &insertReq{rows: rows, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, req)
	g.rows += len(rows)
	start := !g.writing
	g.writing = true
	g.mu.Unlock()
	leave()
	if start {
		go g.run()
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

// run is the writer: it commits one group after another until nothing
// waits.
func (g *groupCommit) run() {
	for {
		g.waitForMore()
		g.mu.Lock()
		if len(g.pending) == 0 {
			g.writing = false
			g.mu.Unlock()
			return
		}
		n, rows := 0, 0
		for n < len(g.pending) && (n == 0 || rows+len(g.pending[n].rows) <= maxGroupRows) {
			rows += len(g.pending[n].rows)
			n++
		}
		group := g.pending[:n:n]
		g.pending = g.pending[n:]
		g.rows -= rows
		g.mu.Unlock()
		g.commit(group)
	}
}

// waitForMore lingers, at most g.linger, while the queued rows do not fill
// a group and requests still being decoded will add to them.
func (g *groupCommit) waitForMore() {
	var deadline *time.Timer
	for {
		g.mu.Lock()
		full := g.rows >= maxGroupRows
		g.mu.Unlock()
		if full || g.arriving.Load() == 0 {
			break
		}
		if deadline == nil {
			deadline = time.NewTimer(g.linger)
		}
		select {
		case <-g.wake:
			continue
		case <-deadline.C:
		}
		break
	}
	if deadline != nil {
		deadline.Stop()
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
