package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"apptconfirm/app/outbox"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// outcome is what became of one claimed message.
type outcome struct {
	c    *outbox.Claimed
	resp *smscx.SendResponse
	err  error
	// release: the message was not sent; put it back as it was.
	release bool
	// at is when the answer came.
	at time.Time
}

// run is the state of one RunOnce.
type run struct {
	d       *Dispatcher
	ctx     context.Context
	stopped atomic.Bool
	sent    atomic.Int64
	errMu   sync.Mutex
	errs    []error
}

func (r *run) fail(err error) {
	r.errMu.Lock()
	r.errs = append(r.errs, err)
	r.errMu.Unlock()
}

// RunOnce claims and sends due messages until none is left (or ctx ends, or
// a pause longer than MaxPauseWait begins), and returns how many SMS.CX
// accepted. Sends run concurrently up to Concurrency. Runs of one
// Dispatcher do not overlap; runs of several Dispatchers claim disjoint
// messages. When ctx ends, sends in flight finish and are recorded, and
// messages claimed but not sent are released.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	d.runMu.Lock()
	defer d.runMu.Unlock()
	r := &run{d: d, ctx: ctx}
	jobs := make(chan *outbox.Claimed, d.opts.BatchSize)
	results := make(chan outcome, d.opts.Concurrency*4)
	var workers sync.WaitGroup
	for range d.opts.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for c := range jobs {
				results <- r.work(c)
			}
		}()
	}
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		r.record(results)
	}()

	for ctx.Err() == nil && !r.stopped.Load() && d.waitPause(ctx) {
		batch, ended, err := d.outbox.Claim(ctx, outbox.Claim{Limit: d.opts.BatchSize, Lease: d.opts.Lease, MaxAttempts: d.opts.MaxAttempts, Now: d.clock()})
		d.ended(ended)
		if err != nil {
			if ctx.Err() == nil {
				r.fail(fmt.Errorf("dispatch: claim: %w", err))
			}
			break
		}
		if len(batch) == 0 {
			break
		}
		for _, c := range batch {
			jobs <- c
		}
	}
	close(jobs)
	workers.Wait()
	close(results)
	<-recorded
	return int(r.sent.Load()), errors.Join(r.errs...)
}

// work sends one claimed message, unless the run stopped, a long pause
// began or the lease ran out while it waited.
func (r *run) work(c *outbox.Claimed) outcome {
	d := r.d
	if r.stopped.Load() || r.ctx.Err() != nil || !d.waitPause(r.ctx) {
		return outcome{c: c, release: true}
	}
	if !d.opts.Now().Before(c.Message.LeaseUntil.Add(-d.opts.SendTimeout)) {
		// Too late to finish within the lease: whoever takes it over sends it.
		return outcome{c: c, release: true}
	}
	start := time.Now()
	resp, err := d.send(r.ctx, c.Message)
	if d.opts.Metrics != nil {
		d.opts.Metrics.ObserveDispatch(time.Since(start))
	}
	// Pause the other workers at once, before the outcome is written.
	if at, ok := smscx.RetryAt(err); ok {
		d.pause(at)
	}
	if accountWide(err) {
		r.stopped.Store(true)
		d.pauseAccount()
	}
	return outcome{c: c, resp: resp, err: err, at: d.clock()}
}

// send makes the one SMS.CX call of a message. In-flight sends are not
// cut short when ctx ends (shutdown): they finish within SendTimeout.
func (d *Dispatcher) send(ctx context.Context, m *models.Message) (*smscx.SendResponse, error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.SendTimeout)
	defer cancel()
	return d.opts.Sender.Send(sctx, smscx.SendRequest{
		To:             []string{m.To},
		From:           d.opts.From,
		Text:           m.Body,
		IdempotencyID:  m.UUID,
		TrackData:      m.UUID,
		DLRCallbackURL: d.opts.CallbackURL,
	})
}

// pauseAccount pauses sending after an account-wide refusal, for longer
// than a run waits in place: the runs in between end at once, and the
// first one after it tries again.
func (d *Dispatcher) pauseAccount() {
	d.pause(d.opts.Now().Add(max(d.opts.BackoffBase, d.opts.MaxPauseWait+time.Second)))
}

// accountWide reports a refusal that no other message would escape: bad
// credentials or no credit.
func accountWide(err error) bool {
	return err != nil && (smscx.IsAuth(err) || smscx.IsInsufficientCredit(err))
}

// maxRecordBatch bounds how many outcomes one transaction writes.
const maxRecordBatch = 256

// record writes outcomes as they come, gathering those that arrive together
// into one transaction.
func (r *run) record(results <-chan outcome) {
	for first := range results {
		batch := []outcome{first}
	gather:
		for len(batch) < maxRecordBatch {
			select {
			case o, ok := <-results:
				if !ok {
					break gather
				}
				batch = append(batch, o)
			default:
				break gather
			}
		}
		n, err := r.d.record(context.WithoutCancel(r.ctx), batch, r)
		r.sent.Add(int64(n))
		if err != nil {
			r.fail(err)
		}
	}
}

// logRecordError notes an outcome that could not be written; the message
// stays sending and is resent with the same idempotencyId when its lease
// expires, which recovers the outcome from SMS.CX.
func (d *Dispatcher) logRecordError(m *models.Message, err error) {
	d.log.Error("dispatch: recording a send failed; it will be retried when its lease expires",
		slog.Uint64("message_id", uint64(m.ID)), slog.String("to", smscx.MaskPhone(m.To)), slog.Any("err", err))
}
