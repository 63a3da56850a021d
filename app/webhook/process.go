package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"apptconfirm/app/clinic"
	"apptconfirm/app/live"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// Kicker is told that SMS were queued, so they go out now rather than at
// the next dispatch run; the dispatcher implements it. Kick must not block.
type Kicker interface {
	Kick()
}

// Processing defaults.
const (
	// DefaultSweepInterval is how often Run looks for events left behind.
	DefaultSweepInterval = 30 * time.Second
	// DefaultRetention is how long processed events (and so their keys) are
	// kept; QUALITY W1 asks for at least 7 days.
	DefaultRetention = 7 * 24 * time.Hour
	// MinRetention is the shortest retention Prune accepts: SMS.CX may
	// retry for up to 3 days.
	MinRetention = 72 * time.Hour
	// DefaultMaxAttempts is how often an event that fails is tried before
	// it is set aside, flagged.
	DefaultMaxAttempts = 5
	// pageSize is how many pending events are read at once.
	pageSize = 100
	// batchTime bounds how long one processing transaction keeps going
	// (and, on SQLite, keeps the receiver waiting for the write lock).
	batchTime = 20 * time.Millisecond
)

// ProcessorOptions configure a Processor.
type ProcessorOptions struct {
	Store  *models.Store
	Clinic *clinic.Service
	// Publisher receives a live.Event for every change; nil means none.
	Publisher live.Publisher
	// Kicker is told when SMS were queued; nil means none (the dispatcher's
	// own schedule sends them).
	Kicker Kicker
	Log    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SweepInterval is how often Run sweeps without being woken; 0 means
	// DefaultSweepInterval.
	SweepInterval time.Duration
	// Retention is how long processed events are kept (config
	// webhook.dedup_retention); 0 means DefaultRetention.
	Retention time.Duration
	// MaxAttempts bounds the tries of an event that keeps failing; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// Traffic, shared with the Receiver, makes processing give way to
	// requests being stored; nil means processing never waits.
	Traffic *Traffic
}

// Processor applies stored webhook events. It is safe for concurrent use;
// several Processors (in one process or several) never apply an event
// twice.
type Processor struct {
	store       *models.Store
	clinic      *clinic.Service
	pub         live.Publisher
	kick        Kicker
	log         *slog.Logger
	now         func() time.Time
	sweep       time.Duration
	retention   time.Duration
	maxAttempts int
	traffic     *Traffic
	wake        chan struct{}
}

// NewProcessor returns a Processor for o.
func NewProcessor(o ProcessorOptions) (*Processor, error) {
	if o.Store == nil || o.Clinic == nil {
		return nil, errors.New("webhook: new processor: a store and the clinic service are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Retention < MinRetention {
		return nil, fmt.Errorf("webhook: new processor: retention %s is shorter than %s", o.Retention, MinRetention)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	return &Processor{
		store: o.Store, clinic: o.Clinic, pub: o.Publisher, kick: o.Kicker, log: o.Log, now: o.Now,
		sweep: o.SweepInterval, retention: o.Retention, maxAttempts: o.MaxAttempts, traffic: o.Traffic,
		wake: make(chan struct{}, 1),
	}, nil
}

// Notify wakes Run without blocking; wake-ups that arrive while Run is busy
// fold into one more pass.
func (p *Processor) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run processes events until ctx ends: once at start (events left by a
// previous run), after every Notify, and every SweepInterval (a safety net
// besides the cron sweep, ProcessPending). Prune is left to a cron job.
func (p *Processor) Run(ctx context.Context) {
	tick := time.NewTicker(p.sweep)
	defer tick.Stop()
	for {
		if _, err := p.ProcessPending(ctx); err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "webhook processing paused", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-tick.C:
		}
	}
}

// ProcessPending applies every stored event not yet processed, oldest
// first, and returns how many it applied. An event that fails is left for
// a later pass (and set aside, flagged, after MaxAttempts); a database that
// is unavailable stops the pass with an error wrapping
// models.ErrUnavailable. It is the body of the cron sweep.
//
// Events are applied many to a transaction (as many as batchTime allows),
// each with its own claim, effects and timeline entries, so that a commit
// is shared by many events as the receiver's group commit shares it by many
// requests. When such a transaction fails, its events are applied again
// one to a transaction, so that one event that cannot be applied costs the
// others nothing. Before each batch it gives way to the receiver (see
// Traffic).
func (p *Processor) ProcessPending(ctx context.Context) (int, error) {
	done := 0
	var after uint
	var (
		mark int64         // the receiver's count when the last batch began
		took time.Duration // how long the last batch took; 0 before the first
	)
	for {
		var page []models.WebhookEvent
		err := p.store.DB(ctx).Select("id", "event", "raw", "received_at").
			Where("processed_at IS NULL AND id > ?", after).
			Order("id").Limit(pageSize).Find(&page).Error
		if err != nil {
			return done, fmt.Errorf("webhook: process: list pending: %w", models.Classify(err))
		}
		if len(page) == 0 {
			return done, nil
		}
		after = page[len(page)-1].ID
		for len(page) > 0 {
			if took > 0 && !p.lagging(page[0].ReceivedAt) {
				p.traffic.giveWay(ctx, mark, took)
			}
			if err := ctx.Err(); err != nil {
				return done, err
			}
			start := time.Now()
			mark = p.traffic.mark()
			n, applied, err := p.processBatch(ctx, page)
			took = time.Since(start)
			switch {
			case err == nil:
				done += applied
				page = page[n:]
				continue
			case errors.Is(err, models.ErrUnavailable), ctx.Err() != nil:
				return done, fmt.Errorf("webhook: process events from %d: %w", page[0].ID, err)
			}
			// Some event of the batch failed: apply them one by one.
			for _, ev := range page[:n] {
				applied, err := p.processOne(ctx, ev.ID)
				switch {
				case err == nil:
					if applied {
						done++
					}
				case errors.Is(err, models.ErrUnavailable), ctx.Err() != nil:
					return done, fmt.Errorf("webhook: process event %d: %w", ev.ID, err)
				default:
					p.log.WarnContext(ctx, "webhook event failed", slog.Uint64("event_id", uint64(ev.ID)), slog.Any("err", err))
				}
			}
			page = page[n:]
		}
	}
}

// outcome collects what applying one event did, for the event row and for
// the effects that happen after the commit.
type outcome struct {
	// at is when the event was applied.
	at      time.Time
	result  string
	flagged bool
	events  []live.Event
	kick    bool
}

func (o *outcome) publish(e live.Event) { o.events = append(o.events, e) }

// lagging reports whether an event received at oldest has waited so long
// that processing no longer gives way to the receiver (maxLag).
func (p *Processor) lagging(oldest time.Time) bool {
	return p.now().Sub(oldest) >= maxLag
}

// processBatch claims and applies the first events of page in one
// transaction, as many as batchTime allows (at least one), and then runs
// their effects. It returns how many events it took from page and how many
// of those it applied (the others were processed by another worker). On an
// error nothing of the batch is applied.
func (p *Processor) processBatch(ctx context.Context, page []models.WebhookEvent) (taken, applied int, err error) {
	start := time.Now()
	var outs []outcome
	err = p.store.Tx(ctx, func(tx *models.Store) error {
		taken, outs = 0, outs[:0]
		stmtCtx := statementContext(ctx, p.store)
		for taken < len(page) && (taken == 0 || time.Since(start) < batchTime) {
			out, claimed, err := p.claimAndApply(stmtCtx, tx, &page[taken])
			if err != nil {
				return err
			}
			taken++
			if claimed {
				outs = append(outs, out)
			}
		}
		return nil
	})
	if err != nil {
		// The event that failed is the one after those taken, unless the
		// commit failed.
		return min(taken+1, len(page)), 0, models.Classify(err)
	}
	for i := range outs {
		p.after(&outs[i])
	}
	return taken, len(outs), nil
}

// processOne claims and applies one event in one transaction. It reports
// false when the event was already processed (by another worker).
func (p *Processor) processOne(ctx context.Context, id uint) (bool, error) {
	var out outcome
	claimed := false
	err := p.store.Tx(ctx, func(tx *models.Store) error {
		var err error
		out, claimed, err = p.claimAndApply(statementContext(ctx, p.store), tx, &models.WebhookEvent{ID: id})
		return err
	})
	if err != nil {
		err = models.Classify(err)
		if !errors.Is(err, models.ErrUnavailable) && !errors.Is(err, models.ErrConflict) && ctx.Err() == nil {
			p.recordFailure(ctx, id, err)
		}
		return false, err
	}
	if claimed {
		p.after(&out)
	}
	return claimed, nil
}

// statementContext is the context for the statements of a transaction
// begun with ctx: on SQLite, ctx without its cancellation. For a context
// that can be cancelled the SQLite driver runs every statement (and every
// row read) on a goroutine of its own and waits for it, a hand-over that
// costs more than most of these statements. Cancellation still ends the
// work: database/sql rolls the transaction back when ctx is done, and the
// next statement fails; a statement already running is short, since a
// SQLite transaction holds the write lock from its start. On PostgreSQL a
// statement may wait for a row lock or a dead connection, so it keeps ctx.
func statementContext(ctx context.Context, store *models.Store) context.Context {
	if store.Driver() == models.DriverSQLite {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// claimAndApply claims the event ev (its ID, and its Event and Raw unless
// they are to be read) inside tx and applies it. claimed is false when
// another worker processed the event first.
func (p *Processor) claimAndApply(ctx context.Context, tx *models.Store, ev *models.WebhookEvent) (out outcome, claimed bool, err error) {
	now := p.now().UTC().Truncate(time.Microsecond)
	out.at = now
	// The claim: whoever flips processed_at first applies the event; on
	// PostgreSQL a second worker waits for the row and then finds nothing
	// to update.
	res := tx.DB(ctx).Model(&models.WebhookEvent{}).
		Where("id = ? AND processed_at IS NULL", ev.ID).
		Updates(map[string]any{"processed_at": now, "attempts": gorm.Expr("attempts + 1")})
	if res.Error != nil {
		return out, false, res.Error
	}
	if res.RowsAffected != 1 {
		return out, false, nil
	}
	if ev.Event == "" {
		if err := tx.DB(ctx).First(ev, ev.ID).Error; err != nil {
			return out, true, err
		}
	}
	if err := p.apply(ctx, tx, ev, now, &out); err != nil {
		return out, true, err
	}
	if out.result == "" {
		out.result = "applied"
	}
	err = tx.DB(ctx).Model(&models.WebhookEvent{}).Where("id = ?", ev.ID).
		Updates(map[string]any{"result": clip(out.result, 300), "flagged": out.flagged}).Error
	return out, true, err
}

// after runs the effects of an applied event once its transaction has
// committed: live events, and a kick to the dispatcher.
func (p *Processor) after(out *outcome) {
	for _, e := range out.events {
		if p.pub != nil {
			if e.At.IsZero() {
				e.At = out.at
			}
			p.pub.Publish(e)
		}
	}
	if out.kick && p.kick != nil {
		p.kick.Kick()
	}
}

// recordFailure counts a failed attempt and sets the event aside, flagged,
// once it has failed MaxAttempts times.
func (p *Processor) recordFailure(ctx context.Context, id uint, cause error) {
	now := p.now().UTC().Truncate(time.Microsecond)
	db := p.store.DB(ctx)
	res := db.Model(&models.WebhookEvent{}).Where("id = ? AND processed_at IS NULL", id).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "result": clip("error: "+cause.Error(), 300)})
	if res.Error != nil {
		return
	}
	res = db.Model(&models.WebhookEvent{}).Where("id = ? AND processed_at IS NULL AND attempts >= ?", id, p.maxAttempts).
		Updates(map[string]any{
			"processed_at": now, "flagged": true,
			"result": clip(fmt.Sprintf("failed after %d attempts: %s", p.maxAttempts, cause.Error()), 300),
		})
	if res.Error == nil && res.RowsAffected == 1 {
		p.log.ErrorContext(ctx, "webhook event set aside", slog.Uint64("event_id", uint64(id)), slog.Any("err", cause))
	}
}

// Prune deletes processed events received longer ago than the retention,
// and returns how many. Unprocessed events are never deleted.
func (p *Processor) Prune(ctx context.Context) (int64, error) {
	cutoff := p.now().UTC().Add(-p.retention)
	res := p.store.DB(ctx).Where("processed_at IS NOT NULL AND received_at < ?", cutoff).Delete(&models.WebhookEvent{})
	if res.Error != nil {
		return 0, fmt.Errorf("webhook: prune: %w", models.Classify(res.Error))
	}
	return res.RowsAffected, nil
}

// apply dispatches one claimed event to its handler.
func (p *Processor) apply(ctx context.Context, tx *models.Store, ev *models.WebhookEvent, now time.Time, out *outcome) error {
	raw := []byte(ev.Raw)
	switch ev.Event {
	case smscx.EventDLRUpdate:
		return p.applyDLR(ctx, tx, raw, now, out)
	case smscx.EventReceiveSMS:
		return p.applyReply(ctx, tx, raw, now, out)
	case smscx.EventNewOptout:
		return p.applyOptout(ctx, tx, raw, now, out)
	case smscx.EventShortlinkHit, smscx.EventShortlinkHitUpdate, smscx.EventAttachmentHit, smscx.EventAttachmentHitUpdate:
		return p.applyHit(ctx, tx, ev.Event, raw, now, out)
	}
	out.result = "ignored: event type not handled"
	return nil
}
