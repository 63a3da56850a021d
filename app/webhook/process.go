package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"apptconfirm/app/phone"
	"apptconfirm/app/smscx"
	"apptconfirm/models"

	json "github.com/go-json-experiment/json/v1"
)

// Applier applies one kind of stored SMS.CX callback (its item's raw JSON),
// inside the transaction ctx carries; app/delivery and app/conversation
// implement it. What it changes records its own domain events, so the
// live dashboards and the dispatcher hear of it once the transaction
// commits. An error rolls the event back for a later attempt; an item that
// can never apply (undecodable, unmatched) is a Result, not an error.
type Applier interface {
	Apply(ctx context.Context, event string, raw []byte) (Result, error)
}

// BatchApplier is an Applier that also applies a run of stored events of
// one type at a time, in order, inside the transaction ctx carries, with
// exactly the effects of applying them one by one (app/delivery does it
// for delivery reports). results[i] is for raws[i]; an error rolls the
// whole run back, and the Processor then applies its events one by one so
// that one bad event costs the others nothing.
type BatchApplier interface {
	Applier
	ApplyBatch(ctx context.Context, event string, raws [][]byte) (results []Result, err error)
}

// Result says what applying an event did, for the stored event.
type Result struct {
	// Text is a short account ("applied: delivered", "inbox: unknown
	// number"); empty means "applied".
	Text string
	// Flagged marks an event that did not fit anything of ours.
	Flagged bool
}

// ignoredText is the result of an event of a type no applier handles.
const ignoredText = "ignored: event type not handled"

// Processing defaults.
const (
	// DefaultSweepInterval is how often Run looks for events left behind.
	DefaultSweepInterval = 30 * time.Second
	// DefaultRetention is how long processed events (and so their keys) are
	// kept; SMS.CX retries for up to 3 days, and a week leaves room.
	DefaultRetention = 7 * 24 * time.Hour
	// MinRetention is the shortest retention NewProcessor accepts: SMS.CX
	// may retry for up to 3 days.
	MinRetention = 72 * time.Hour
	// DefaultMaxAttempts is how often an event that fails is tried before
	// it is set aside, flagged.
	DefaultMaxAttempts = 5
	// DefaultWorkers is how many goroutines apply events side by side on
	// PostgreSQL, where each statement waits for a round trip: one worker
	// spends most of its time waiting, and several keep the database busy.
	DefaultWorkers = 4
	// pageSize is how many pending events are read at once; a run of
	// delivery reports or hits in it is applied as one set, a handful of
	// statements whatever its length.
	pageSize = 500
	// sharedPageSize is pageSize when workers share each page (on
	// PostgreSQL): a worker regroups its share into runs of one type
	// (regroupByKey), which grow with the page, and the next page waits
	// for every worker, so a larger page means fewer, longer runs and
	// fewer waits.
	sharedPageSize = 4000
	// maxRun bounds the events of one run (one set): a run that fails is
	// applied again one event at a time in the same transaction, which
	// then holds its locks for as many round trips.
	maxRun = 500
	// soloMaxRun is maxRun on SQLite, where a run holds the one writer
	// the receiver waits for: a page regrouped by number makes runs as long
	// as the page, and a reply takes about 0.2 ms to apply, so a run of 32
	// keeps the receiver's waits within batchTime's order (runs of 50 and
	// 100 put the answers' p99 under a flood 7 and 10-20 ms higher).
	soloMaxRun = 32
	// batchTime bounds how long one processing transaction keeps going
	// (and, on SQLite, keeps the receiver waiting for the write lock).
	batchTime = 20 * time.Millisecond
)

// ProcessorOptions configure a Processor.
type ProcessorOptions struct {
	Store *models.Store
	// Appliers apply the stored events, by event name; an event with no
	// applier is marked "ignored".
	Appliers map[string]Applier
	Log      *slog.Logger
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
	// PerEvent applies every event by itself (its own claim, Apply and
	// result), never through a BatchApplier: the path before set-based
	// applying, kept to compare the two.
	PerEvent bool
	// Workers is how many goroutines apply a page of events side by side,
	// each the events of its share of phone numbers (see partition); 0
	// means DefaultWorkers. On SQLite, whose writes take turns on one
	// connection, it is always 1.
	Workers int
}

// Processor applies stored webhook events. It is safe for concurrent use;
// several Processors (in one process or several) never apply an event
// twice.
type Processor struct {
	store       *models.Store
	appliers    map[string]Applier
	log         *slog.Logger
	now         func() time.Time
	sweep       time.Duration
	retention   time.Duration
	maxAttempts int
	traffic     *Traffic
	perEvent    bool
	workers     int
	wake        chan struct{}
	// pass holds a token while a pass is under way: two passes in one
	// process would apply the same pages twice over, the second only to
	// roll back.
	pass chan struct{}
	// numbers reads the numbers events carry, for partition.
	numbers *phone.Memo
	// pageSize is pageSize, or sharedPageSize with several workers;
	// tests make it smaller.
	pageSize int
	// runCap bounds the events of one run: maxRun, or soloMaxRun on SQLite.
	runCap int
}

// NewProcessor returns a Processor for o.
func NewProcessor(o ProcessorOptions) (*Processor, error) {
	if o.Store == nil {
		return nil, errors.New("webhook: new processor: a store is required")
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
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	runCap := maxRun
	if o.Store.Driver() == models.DriverSQLite {
		o.Workers, runCap = 1, soloMaxRun
	}
	size := pageSize
	if o.Workers > 1 {
		size = sharedPageSize
	}
	return &Processor{
		store: o.Store, appliers: o.Appliers, log: o.Log, now: o.Now,
		sweep: o.SweepInterval, retention: o.Retention, maxAttempts: o.MaxAttempts, traffic: o.Traffic,
		perEvent: o.PerEvent, workers: o.Workers, wake: make(chan struct{}, 1),
		pass: make(chan struct{}, 1), numbers: &phone.Memo{}, pageSize: size, runCap: runCap,
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
// first (within a page, delivery reports, replies and hits are grouped by
// type, each number's events kept in order around its opt-outs: see
// applyOrder and regroupByKey), and returns how many
// it applied. An event that fails is left for
// a later pass (and set aside, flagged, after MaxAttempts); a database that
// is unavailable stops the pass with an error wrapping
// models.ErrUnavailable. Passes of one Processor take turns; a cron job
// calls Sweep instead.
//
// Events are applied many to a transaction (as many as batchTime allows),
// so that a commit is shared by many events as the receiver's group commit
// shares it by many requests; consecutive events of one type whose applier
// is a BatchApplier are applied as one set (processSet), the others each
// with its own claim, effects and timeline entries. When such a
// transaction fails, its events are applied again one to a transaction, so
// that one event that cannot be applied costs the others nothing. Before
// each batch it gives way to the receiver (see Traffic).
//
// Each page's events are keyed by phone number (partition) and regrouped so
// that only the events of one number keep their order around an opt-out
// (regroupByKey): a page then makes a few long sets instead of a short
// one per stretch between opt-outs. With several workers (on PostgreSQL)
// each takes the share of some numbers, side by side, the next page
// waiting for all of them. The per-event path with one worker keeps the
// page in applyOrder's order: it is the reference the sets are tested
// against. One worker skips the keying when no event of the page keeps
// its place (a flood of delivery reports, say): the order would be the
// same.
func (p *Processor) ProcessPending(ctx context.Context) (int, error) {
	select {
	case p.pass <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-p.pass }()
	return p.processPending(ctx)
}

// Sweep is ProcessPending for a cron job: it does nothing while a pass is
// under way in this process (Run's, say), since that pass reads pages until
// none is left.
func (p *Processor) Sweep(ctx context.Context) (int, error) {
	select {
	case p.pass <- struct{}{}:
	default:
		p.log.DebugContext(ctx, "webhook sweep skipped: a pass is under way")
		return 0, nil
	}
	defer func() { <-p.pass }()
	return p.processPending(ctx)
}

// processPending is ProcessPending's pass. A panic in the pass itself
// (ordering or sharing a page, say) ends the pass with an error, which Run
// logs before trying again, instead of ending the process: an applier's
// panic is its event's error (recovered) and a worker's is processShare's.
func (p *Processor) processPending(ctx context.Context) (done int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("webhook: processing panicked: %v\n%s", r, debug.Stack())
		}
	}()
	var after uint
	paces := make([]pace, p.workers)
	rewind := p.now().Add(p.sweep)
	var resume uint // where the cursor was when it last went back
	for {
		if now := p.now(); !now.Before(rewind) && after > resume {
			// Under a backlog that never empties the pass never ends, and
			// its cursor never comes back to an event left behind (one
			// that failed, or, on PostgreSQL, one whose id was drawn
			// before the cursor passed it but committed after): it starts
			// again from the oldest pending event once per sweep
			// interval, as a new pass would, but only once it is past
			// where it went back from last time, so that events left
			// behind again cannot keep it from newer ones.
			resume, after, rewind = after, 0, now.Add(p.sweep)
		}
		page, err := p.store.PendingWebhookEvents(ctx, after, p.pageSize)
		if err != nil {
			return done, fmt.Errorf("webhook: process: list pending: %w", err)
		}
		if len(page) == 0 {
			return done, nil
		}
		after = page[len(page)-1].ID
		page, oneStretch := applyOrder(page)
		if p.workers == 1 && (p.perEvent || oneStretch) {
			n, err := p.processShare(ctx, page, &paces[0])
			done += n
			if err != nil {
				return done, err
			}
			continue
		}
		shares, keys, err := p.partition(ctx, page, p.workers)
		switch {
		case err == nil:
			for i := range shares {
				shares[i] = regroupByKey(shares[i], keys[i])
			}
		case p.fatal(ctx, err):
			return done, err
		default:
			// The look-up failed on something in the page: the page goes
			// to one worker, which sets aside what cannot be applied.
			p.log.WarnContext(ctx, "webhook events not shared among workers", slog.Any("err", err))
			shares = [][]models.WebhookEvent{page}
		}
		var (
			wg     sync.WaitGroup
			counts = make([]int, len(shares))
			errs   = make([]error, len(shares))
		)
		for i, share := range shares {
			if len(share) == 0 {
				continue
			}
			wg.Go(func() { counts[i], errs[i] = p.processShare(ctx, share, &paces[i]) })
		}
		wg.Wait()
		for _, n := range counts {
			done += n
		}
		if err := errors.Join(errs...); err != nil {
			return done, err
		}
	}
}

// processShare is processPage for one worker's share of a page (or the
// whole page). An applier's panic is already an error of its event
// (recovered); one anywhere else in the processing fails the pass with an
// error, which Run logs before trying again, instead of ending the process
// (with workers, from a goroutine no caller could recover).
func (p *Processor) processShare(ctx context.Context, share []models.WebhookEvent, pc *pace) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("webhook: worker panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return p.processPage(ctx, share, pc)
}

// pace is what one worker remembers of its last batch, to give way to the
// receiver before the next, and how often it has given way so far.
type pace struct {
	mark   int64         // the receiver's count when the last batch began
	took   time.Duration // how long the last batch took; 0 before the first
	pauses int           // how many times it gave way
}

// processPage applies the events of page, in order, a batch (a
// transaction) at a time, and returns how many it applied. A batch that
// fails is applied again one event to a transaction; an event that still
// fails is left for a later pass. It stops with an error only when the
// database is unavailable or ctx ends.
func (p *Processor) processPage(ctx context.Context, page []models.WebhookEvent, pc *pace) (int, error) {
	done := 0
	oldest := oldestFrom(page)
	for len(page) > 0 {
		if pc.took > 0 {
			if p.traffic.giveWay(ctx, pc.mark, pc.took, p.lagLeft(oldest[0])) {
				pc.pauses++
			}
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
		start := time.Now()
		pc.mark = p.traffic.mark()
		process := p.processSet
		if p.perEvent {
			process = p.processBatch
		}
		n, applied, err := process(ctx, page)
		pc.took = time.Since(start)
		switch {
		case err == nil:
			done += applied
			page, oldest = page[n:], oldest[n:]
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
		page, oldest = page[n:], oldest[n:]
	}
	return done, nil
}

// oldestFrom returns, for each place i of page, when the oldest event of
// page[i:] was received: a page is reordered (by type, by number), so its
// first event need not be its oldest.
func oldestFrom(page []models.WebhookEvent) []time.Time {
	oldest := make([]time.Time, len(page))
	for i := len(page) - 1; i >= 0; i-- {
		oldest[i] = page[i].ReceivedAt
		if i+1 < len(page) && oldest[i+1].Before(oldest[i]) {
			oldest[i] = oldest[i+1]
		}
	}
	return oldest
}

// lagLeft is how much longer processing may give way to the receiver
// while an event received at oldest waits (maxLag less its wait); zero or
// less once it no longer gives way.
func (p *Processor) lagLeft(oldest time.Time) time.Duration {
	return maxLag - p.now().Sub(oldest)
}

// processBatch claims and applies the first events of page in one
// transaction, as many as batchTime allows (at least one). It returns how
// many events it took from page and how many of those it applied (the
// others were processed by another worker). On an error nothing of the
// batch is applied.
func (p *Processor) processBatch(ctx context.Context, page []models.WebhookEvent) (taken, applied int, err error) {
	start := time.Now()
	err = p.store.Tx(ctx, func(ctx context.Context) error {
		taken, applied = 0, 0
		for taken < len(page) && (taken == 0 || time.Since(start) < batchTime) {
			claimed, err := p.claimAndApply(ctx, &page[taken])
			if err != nil {
				return err
			}
			taken++
			if claimed {
				applied++
			}
		}
		return nil
	})
	if err != nil {
		// The event that failed is the one after those taken, unless the
		// commit failed.
		return min(taken+1, len(page)), 0, models.Classify(err)
	}
	return taken, applied, nil
}

// processOne claims and applies one event in one transaction. It reports
// false when the event was already processed (by another worker).
func (p *Processor) processOne(ctx context.Context, id uint) (bool, error) {
	claimed := false
	err := p.retrying(func() error {
		return p.store.Tx(ctx, func(ctx context.Context) error {
			var err error
			claimed, err = p.claimAndApply(ctx, &models.WebhookEvent{ID: id})
			return err
		})
	})
	if err != nil {
		err = models.Classify(err)
		if !errors.Is(err, models.ErrUnavailable) && !errors.Is(err, models.ErrConflict) && !models.Retryable(err) && ctx.Err() == nil {
			p.recordFailure(ctx, id, err)
		}
		return false, err
	}
	return claimed, nil
}

// retryTries bounds how often retrying runs an event's work that
// PostgreSQL ended for a deadlock or a serialization failure.
const retryTries = 3

// retrying runs fn, again while it fails with an error that only asks for
// another try (models.Retryable: workers side by side may deadlock on a
// row they share), at most retryTries times; the event then waits for
// the next pass, its attempts not counted.
func (p *Processor) retrying(fn func() error) error {
	var err error
	for range retryTries {
		if err = fn(); !models.Retryable(err) {
			return err
		}
	}
	return err
}

// claimAndApply claims the event ev (its ID, and its Event and Raw unless
// they are to be read) inside the transaction ctx carries and applies it.
// claimed is false when another worker processed the event first.
func (p *Processor) claimAndApply(ctx context.Context, ev *models.WebhookEvent) (claimed bool, err error) {
	now := p.now()
	ok, err := p.store.ClaimWebhookEvent(ctx, ev.ID, now)
	if err != nil || !ok {
		return false, err
	}
	if ev.Event == "" {
		full, err := p.store.WebhookEvent(ctx, ev.ID)
		if err != nil {
			return true, err
		}
		ev = full
	}
	res, err := p.apply(ctx, ev)
	if err != nil {
		return true, err
	}
	if res.Text == "" {
		res.Text = "applied"
	}
	return true, p.store.SetWebhookResult(ctx, ev.ID, res.Text, res.Flagged)
}

// recordFailure counts a failed attempt and sets the event aside, flagged,
// once it has failed MaxAttempts times.
func (p *Processor) recordFailure(ctx context.Context, id uint, cause error) {
	setAside, err := p.store.FailWebhookEvent(ctx, id, cause.Error(), p.maxAttempts, p.now())
	if err == nil && setAside {
		p.log.ErrorContext(ctx, "webhook event set aside", slog.Uint64("event_id", uint64(id)), slog.Any("err", cause))
	}
}

// Prune deletes processed events received longer ago than the retention,
// and returns how many. Unprocessed events are never deleted.
func (p *Processor) Prune(ctx context.Context) (int64, error) {
	n, err := p.store.PruneWebhookEvents(ctx, p.now().Add(-p.retention))
	if err != nil {
		return 0, fmt.Errorf("webhook: prune: %w", err)
	}
	return n, nil
}

// apply hands one claimed event to its applier. An update of a link hit
// adds nothing when the hit itself was stored (it re-reports the hit),
// and stands in for it when the hit was lost.
func (p *Processor) apply(ctx context.Context, ev *models.WebhookEvent) (Result, error) {
	if base, ok := strings.CutSuffix(ev.Event, "_update"); ok && ev.Event != smscx.EventDLRUpdate {
		var probe struct {
			HitID *int64 `json:"hitId"`
		}
		if err := json.Unmarshal([]byte(ev.Raw), &probe); err == nil && probe.HitID != nil {
			stored, err := p.store.WebhookEventStored(ctx, models.DedupKey(hitName(base, *probe.HitID)))
			if err != nil {
				return Result{}, err
			}
			if stored {
				return Result{Text: "hit update: already recorded"}, nil
			}
		}
	}
	a, ok := p.appliers[ev.Event]
	if !ok {
		return Result{Text: ignoredText}, nil
	}
	return recovered(ctx, p.log, ev.Event, func() (Result, error) { return a.Apply(ctx, ev.Event, []byte(ev.Raw)) })
}

// recovered runs an applier's fn and turns its panic into an error (the
// stack goes to log): a bug that one event sets off then fails that event
// as an error would (its set is applied again one by one, and the event is
// set aside after MaxAttempts), instead of failing every pass that reaches
// it or ending the process.
func recovered[T any](ctx context.Context, log *slog.Logger, event string, fn func() (T, error)) (out T, err error) {
	defer func() {
		if r := recover(); r != nil {
			log.ErrorContext(ctx, "webhook applier panicked", slog.String("event", event), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			if e, ok := r.(error); ok {
				err = fmt.Errorf("the %s applier panicked: %w", event, e)
			} else {
				err = fmt.Errorf("the %s applier panicked: %v", event, r)
			}
		}
	}()
	return fn()
}
