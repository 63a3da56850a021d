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
		sweep: o.SweepInterval, retention: o.Retention, maxAttempts: o.MaxAttempts,
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
func (p *Processor) ProcessPending(ctx context.Context) (int, error) {
	done := 0
	var after uint
	for {
		var ids []uint
		err := p.store.DB(ctx).Model(&models.WebhookEvent{}).
			Where("processed_at IS NULL AND id > ?", after).
			Order("id").Limit(pageSize).Pluck("id", &ids).Error
		if err != nil {
			return done, fmt.Errorf("webhook: process: list pending: %w", models.Classify(err))
		}
		if len(ids) == 0 {
			return done, nil
		}
		for _, id := range ids {
			after = id
			if err := ctx.Err(); err != nil {
				return done, err
			}
			applied, err := p.processOne(ctx, id)
			switch {
			case err == nil:
				if applied {
					done++
				}
			case errors.Is(err, models.ErrUnavailable), ctx.Err() != nil:
				return done, fmt.Errorf("webhook: process event %d: %w", id, err)
			default:
				p.log.WarnContext(ctx, "webhook event failed", slog.Uint64("event_id", uint64(id)), slog.Any("err", err))
			}
		}
	}
}

// outcome collects what applying one event did, for the event row and for
// the effects that happen after the commit.
type outcome struct {
	result  string
	flagged bool
	events  []live.Event
	kick    bool
}

func (o *outcome) publish(e live.Event) { o.events = append(o.events, e) }

// processOne claims and applies one event in one transaction. It reports
// false when the event was already processed (by another worker).
func (p *Processor) processOne(ctx context.Context, id uint) (bool, error) {
	now := p.now().UTC().Truncate(time.Microsecond)
	var out outcome
	claimed := false
	err := p.store.Tx(ctx, func(tx *models.Store) error {
		// The claim: whoever flips processed_at first applies the event;
		// on PostgreSQL a second worker waits for the row and then finds
		// nothing to update.
		res := tx.DB(ctx).Model(&models.WebhookEvent{}).
			Where("id = ? AND processed_at IS NULL", id).
			Updates(map[string]any{"processed_at": now, "attempts": gorm.Expr("attempts + 1")})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return nil
		}
		claimed = true
		var ev models.WebhookEvent
		if err := tx.DB(ctx).First(&ev, id).Error; err != nil {
			return err
		}
		if err := p.apply(ctx, tx, &ev, now, &out); err != nil {
			return err
		}
		if out.result == "" {
			out.result = "applied"
		}
		return tx.DB(ctx).Model(&models.WebhookEvent{}).Where("id = ?", id).
			Updates(map[string]any{"result": clip(out.result, 300), "flagged": out.flagged}).Error
	})
	if err != nil {
		err = models.Classify(err)
		if !errors.Is(err, models.ErrUnavailable) && !errors.Is(err, models.ErrConflict) && ctx.Err() == nil {
			p.recordFailure(ctx, id, err)
		}
		return false, err
	}
	if !claimed {
		return false, nil
	}
	for _, e := range out.events {
		if p.pub != nil {
			if e.At.IsZero() {
				e.At = now
			}
			p.pub.Publish(e)
		}
	}
	if out.kick && p.kick != nil {
		p.kick.Kick()
	}
	return true, nil
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
