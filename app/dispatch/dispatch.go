// Package dispatch sends due messages through SMS.CX, exactly once.
//
// A run asks the outbox to claim due messages (atomically, with a lease,
// each re-checked and rendered in the claim's transaction), then workers
// send them concurrently, each with its UUID as idempotencyId and
// trackData, and the outcomes are handed back to the outbox in batches.
//
// A message whose lease expired while sending (the process died, the write
// failed) is sent again with the same idempotencyId, so SMS.CX answers with
// the original send instead of sending twice. Retryable
// errors back off exponentially with jitter, and a 429 pauses sending until
// its X-Rate-Limit-Reset. While a message waits for its retry it stays
// "sending" with lease_until as the time of the next attempt.
//
// A try that may have reached SMS.CX (a timeout, a dropped connection, a
// 5xx; an expired lease) leaves the message in doubt: its retry is resent
// with the same idempotencyId before the outbox re-checks anything, so a
// message SMS.CX took is recorded accepted even if the appointment or the
// patient changed meanwhile. A retry due in the location's quiet hours
// waits until they end instead of being dropped.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"apptconfirm/app/outbox"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// Sender sends one SMS through SMS.CX; *smscx.Client implements it.
type Sender interface {
	Send(ctx context.Context, req smscx.SendRequest) (*smscx.SendResponse, error)
}

// OptOuter opts a patient out, inside the transaction ctx carries (a send
// REJECTED by SMS.CX means the number opted out); *clinic.Service
// implements it.
type OptOuter interface {
	OptOut(ctx context.Context, actor models.Actor, patientID uint, source string) error
}

// Trigger asks a dispatcher for a run soon. It is made before the
// dispatcher, so that whatever queues a message (the domain events of a
// committed transaction) can hold it from the start. Kick never blocks;
// kicks made while a run is pending are merged.
type Trigger struct{ c chan struct{} }

// NewTrigger returns a Trigger.
func NewTrigger() *Trigger { return &Trigger{c: make(chan struct{}, 1)} }

// Kick asks for a run soon, without blocking.
func (t *Trigger) Kick() {
	select {
	case t.c <- struct{}{}:
	default:
	}
}

// Recorder receives dispatch metrics; *metrics.Metrics implements it.
type Recorder interface {
	// MessageSent counts a message whose dispatch ended in status.
	MessageSent(status string)
	// ObserveDispatch records how long one call to SMS.CX took.
	ObserveDispatch(d time.Duration)
}

// Defaults for zero Options fields (the configuration's defaults).
const (
	DefaultConcurrency = 4
	DefaultBatchSize   = 100
	DefaultMaxAttempts = 6
	DefaultLease       = 2 * time.Minute
	DefaultBackoffBase = 30 * time.Second
	DefaultBackoffMax  = 30 * time.Minute
	DefaultKickDelay   = 200 * time.Millisecond
)

// Options configure a Dispatcher. Only Sender is required.
type Options struct {
	Sender Sender
	// From is the sender id of every SMS (config smscx.sender).
	From string
	// CallbackURL is the public webhook URL given as dlrCallbackUrl.
	CallbackURL string
	// Concurrency is how many sends run at once.
	Concurrency int
	// BatchSize is how many messages one claim takes.
	BatchSize int
	// MaxAttempts bounds the tries of a message that keeps failing with
	// retryable errors; then it is failed with the reason.
	MaxAttempts int
	// Lease is how long a claim holds; a message still sending after it
	// is taken over (and resent with the same idempotencyId).
	Lease time.Duration
	// BackoffBase and BackoffMax bound the delay before a retry: attempt n
	// waits a random time between BackoffBase and
	// min(BackoffMax, BackoffBase·2ⁿ⁻¹).
	BackoffBase, BackoffMax time.Duration
	// SendTimeout bounds one call to SMS.CX; zero means Lease/2.
	SendTimeout time.Duration
	// MaxPauseWait is the longest a run waits in place for a rate limit to
	// reset; a longer pause ends the run (the next one resumes). Zero
	// means min(Lease/4, 10s).
	MaxPauseWait time.Duration
	// KickDelay gathers kicks (and lets the kicking transaction commit)
	// before the run they ask for. Zero means DefaultKickDelay.
	KickDelay time.Duration
	// OptOut opts out the patient of a REJECTED send; nil only marks the
	// message rejected.
	OptOut OptOuter
	// Trigger wakes the kick loop (Start); nil makes one, and Kick then
	// is the only way in.
	Trigger *Trigger
	// Metrics receives counts and timings; nil records nothing.
	Metrics Recorder
	// Logger receives errors the dispatcher cannot return; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits for d or until ctx ends (used for rate-limit pauses);
	// nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for the jitter; nil means math/rand.
	Rand func() float64
}

// Dispatcher claims due messages and sends them. It is safe for concurrent
// use; several Dispatchers (goroutines or processes) may share a database.
type Dispatcher struct {
	store  *models.Store
	outbox *outbox.Outbox
	opts   Options
	log    *slog.Logger

	// runMu keeps this Dispatcher's runs from overlapping.
	runMu sync.Mutex

	pauseMu    sync.Mutex
	pauseUntil time.Time

	trigger  *Trigger
	loopMu   sync.Mutex
	loopStop context.CancelFunc
	loopDone chan struct{}
}

// New returns a Dispatcher that sends the messages of ob; store runs the
// transactions that record an outcome together with its opt-out.
func New(store *models.Store, ob *outbox.Outbox, opts Options) (*Dispatcher, error) {
	if opts.Sender == nil {
		return nil, errors.New("dispatch: new: a Sender is required")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = DefaultBackoffBase
	}
	if opts.BackoffMax < opts.BackoffBase {
		opts.BackoffMax = max(DefaultBackoffMax, opts.BackoffBase)
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = opts.Lease / 2
	}
	if opts.MaxPauseWait <= 0 {
		opts.MaxPauseWait = min(opts.Lease/4, 10*time.Second)
	}
	if opts.KickDelay <= 0 {
		opts.KickDelay = DefaultKickDelay
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Trigger == nil {
		opts.Trigger = NewTrigger()
	}
	return &Dispatcher{store: store, outbox: ob, opts: opts, log: log, trigger: opts.Trigger}, nil
}

// sleep waits for d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// clock returns the current time at the database's precision.
func (d *Dispatcher) clock() time.Time { return d.opts.Now().UTC().Truncate(time.Microsecond) }

// Kick asks for a run soon, without blocking (see Trigger). It does
// nothing until Start.
func (d *Dispatcher) Kick() { d.trigger.Kick() }

// Start runs, in the background until Stop, a loop that answers each Kick
// with a run (after KickDelay, which merges kicks).
func (d *Dispatcher) Start() {
	d.loopMu.Lock()
	defer d.loopMu.Unlock()
	if d.loopStop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.loopStop, d.loopDone = cancel, make(chan struct{})
	go d.loop(ctx, d.loopDone)
}

// Stop ends the kick loop and waits, until ctx ends, for a run it started:
// in-flight sends finish and are recorded; messages claimed but not yet
// sent are released.
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.loopMu.Lock()
	stop, done := d.loopStop, d.loopDone
	d.loopStop, d.loopDone = nil, nil
	d.loopMu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dispatch: stop: %w", ctx.Err())
	}
}

func (d *Dispatcher) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.trigger.c:
		}
		t := time.NewTimer(d.opts.KickDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("dispatch run failed", slog.Any("err", err))
		}
	}
}

// ended counts messages whose dispatch ended (sent, failed, rejected,
// cancelled or skipped at claim time).
func (d *Dispatcher) ended(ms []*models.Message) {
	if d.opts.Metrics == nil {
		return
	}
	for _, m := range ms {
		if m.Status != models.MsgSending && m.Status != models.MsgPlanned {
			d.opts.Metrics.MessageSent(string(m.Status))
		}
	}
}

// pause stops sending until t (a rate limit's reset, an account problem).
func (d *Dispatcher) pause(t time.Time) {
	d.pauseMu.Lock()
	defer d.pauseMu.Unlock()
	if t.After(d.pauseUntil) {
		d.pauseUntil = t
	}
}

// PausedUntil returns when sending resumes after a rate limit or an account
// problem; zero (or a past time) when it is not paused.
func (d *Dispatcher) PausedUntil() time.Time {
	d.pauseMu.Lock()
	defer d.pauseMu.Unlock()
	return d.pauseUntil
}

// waitPause waits out a pause that ends within MaxPauseWait; it reports
// false when the pause lasts longer or ctx ends.
func (d *Dispatcher) waitPause(ctx context.Context) bool {
	for {
		wait := d.PausedUntil().Sub(d.opts.Now())
		if wait <= 0 {
			return true
		}
		if wait > d.opts.MaxPauseWait || ctx.Err() != nil {
			return false
		}
		if err := d.opts.Sleep(ctx, wait); err != nil {
			return false
		}
	}
}

// backoff is the delay before retry number attempt (1-based): a random
// time between BackoffBase and min(BackoffMax, BackoffBase·2^(attempt-1)).
func (d *Dispatcher) backoff(attempt int) time.Duration {
	base, ceiling := d.opts.BackoffBase, d.opts.BackoffBase
	for i := 1; i < attempt && ceiling < d.opts.BackoffMax; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, d.opts.BackoffMax)
	return base + time.Duration(d.opts.Rand()*float64(ceiling-base))
}
