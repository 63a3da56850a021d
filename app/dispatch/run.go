package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"apptconfirm/app/reminders"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// claimed is a message this dispatcher holds: after the claim its status is
// sending, Attempts counts this try and LeaseUntil is the lease.
type claimed struct {
	msg *models.Message
	// prevStatus and prevLease are what the claim replaced, to release an
	// unsent message as it was.
	prevStatus models.MessageStatus
	prevLease  *time.Time
	// label names the message on the timeline.
	label string
	// patientID is the recipient patient, when known (for a REJECTED send).
	patientID *uint
	// rendered: the body was written at this claim and is stored with the
	// outcome.
	rendered bool
}

// outcome is what became of one claimed message.
type outcome struct {
	c    *claimed
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
	jobs := make(chan *claimed, d.opts.BatchSize)
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
		batch, err := d.claim(ctx, d.opts.BatchSize)
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
func (r *run) work(c *claimed) outcome {
	d := r.d
	if r.stopped.Load() || r.ctx.Err() != nil || !d.waitPause(r.ctx) {
		return outcome{c: c, release: true}
	}
	if !d.opts.Now().Before(c.msg.LeaseUntil.Add(-d.opts.SendTimeout)) {
		// Too late to finish within the lease: whoever takes it over sends it.
		return outcome{c: c, release: true}
	}
	start := time.Now()
	resp, err := d.send(r.ctx, c.msg)
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

// dueCondition selects messages a claim may take at now: planned and due,
// or sending with an expired lease.
const dueCondition = "(status = ? AND send_at <= ?) OR (status = ? AND lease_until <= ?)"

// claim takes up to limit due messages: expired leases first (they were
// interrupted), then planned ones by send time. Messages no longer wanted
// are ended in the same transaction (with timeline entries); the others are
// returned with their bodies rendered and stored.
func (d *Dispatcher) claim(ctx context.Context, limit int) ([]*claimed, error) {
	now := d.clock()
	lease := now.Add(d.opts.Lease)
	var out []*claimed
	var changed []*models.Message
	err := d.store.Tx(ctx, func(tx *models.Store) error {
		out, changed = nil, nil
		var cands []*models.Message
		err := tx.DB(ctx).Scopes(models.SkipLocked(tx)).
			Where("status = ? AND lease_until <= ?", models.MsgSending, now).
			Order("lease_until, id").Limit(limit).Find(&cands).Error
		if err != nil {
			return err
		}
		if n := limit - len(cands); n > 0 {
			var planned []*models.Message
			err := tx.DB(ctx).Scopes(models.SkipLocked(tx)).
				Where("status = ? AND send_at <= ?", models.MsgPlanned, now).
				Order("send_at, id").Limit(n).Find(&planned).Error
			if err != nil {
				return err
			}
			cands = append(cands, planned...)
		}
		if len(cands) == 0 {
			return nil
		}
		ids := make([]uint, len(cands))
		for i, m := range cands {
			ids[i] = m.ID
		}
		res := tx.DB(ctx).Model(&models.Message{}).Where("id IN ?", ids).
			Where(dueCondition, models.MsgPlanned, now, models.MsgSending, now).
			Updates(map[string]any{
				"status": models.MsgSending, "attempts": gorm.Expr("attempts + 1"),
				"lease_until": lease, "updated_at": now,
			})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != int64(len(cands)) {
			// Someone changed a candidate between the select and the
			// update (only possible without row locks): keep what we got.
			var mine []uint
			err := tx.DB(ctx).Model(&models.Message{}).
				Where("id IN ? AND status = ? AND lease_until = ?", ids, models.MsgSending, lease).
				Pluck("id", &mine).Error
			if err != nil {
				return err
			}
			got := map[uint]bool{}
			for _, id := range mine {
				got[id] = true
			}
			kept := cands[:0]
			for _, m := range cands {
				if got[m.ID] {
					kept = append(kept, m)
				}
			}
			cands = kept
		}
		var batch []*claimed
		for _, m := range cands {
			c := &claimed{msg: m, prevStatus: m.Status, prevLease: m.LeaseUntil}
			l := lease
			m.Status, m.Attempts, m.LeaseUntil, m.UpdatedAt = models.MsgSending, m.Attempts+1, &l, now
			batch = append(batch, c)
		}
		var err2 error
		out, changed, err2 = d.check(ctx, tx, batch, now)
		return err2
	})
	if err != nil {
		return nil, err
	}
	d.publish(changed)
	d.ended(changed)
	return out, nil
}

// logRecordError notes an outcome that could not be written; the message
// stays sending and is resent with the same idempotencyId when its lease
// expires, which recovers the outcome from SMS.CX.
func (d *Dispatcher) logRecordError(m *models.Message, err error) {
	d.log.Error("dispatch: recording a send failed; it will be retried when its lease expires",
		slog.Uint64("message_id", uint64(m.ID)), slog.String("to", smscx.MaskPhone(m.To)), slog.Any("err", err))
}

// label names m for the timeline.
func label(m *models.Message) string { return reminders.Label(m) }
