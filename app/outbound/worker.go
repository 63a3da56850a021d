package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"apptconfirm/models"
)

// Delivery outcomes, as the metrics count them.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
)

// Metrics records deliveries; *metrics.Metrics implements it.
type Metrics interface {
	// OutboundDelivery counts one attempt by outcome, with its latency.
	OutboundDelivery(outcome string, latency time.Duration)
}

// WorkerOptions configure a Worker; zero values take the defaults.
type WorkerOptions struct {
	// Client sends the requests; nil is NewClient(false, Timeout).
	Client *http.Client
	// Concurrency is how many deliveries are under way at once (32).
	Concurrency int
	// Lease is how long a claimed delivery stays with this worker before
	// another may take it (Timeout + 20 s): after a crash, that long.
	Lease time.Duration
	// Poll is how often the queue is read when nothing wakes the worker
	// (1 s): deliveries queued by another instance, retries coming due.
	Poll time.Duration
	// RetryFor is how long a delivery is retried, and how long an endpoint
	// may fail before it is disabled (72 h).
	RetryFor time.Duration
	// BackoffBase and BackoffMax bound the wait before a retry: the base
	// doubled per failed attempt, at most the max, with jitter (5 s, 2 h).
	BackoffBase, BackoffMax time.Duration
	// Wake is what wakes the worker after a commit; nil makes one (then
	// only Kick and the poll wake it).
	Wake    *Wake
	Metrics Metrics
	Logger  *slog.Logger
	Now     func() time.Time
}

// Worker delivers the queued webhooks. Several workers (one per instance)
// share the queue through the store's claims.
type Worker struct {
	store *models.Store
	o     WorkerOptions
	wake  *Wake
	// inflight counts the deliveries under way.
	inflight atomic.Int64
	// lastCheck is when failing endpoints were last looked for.
	lastCheck time.Time
}

// NewWorker returns a Worker.
func NewWorker(store *models.Store, o WorkerOptions) *Worker {
	if o.Client == nil {
		o.Client = NewClient(false, Timeout)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Lease <= 0 {
		o.Lease = Timeout + 20*time.Second
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 72 * time.Hour
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 5 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 2 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Wake == nil {
		o.Wake = NewWake()
	}
	return &Worker{store: store, o: o, wake: o.Wake}
}

func (w *Worker) now() time.Time { return models.DBTime(w.o.Now()) }

// Kick asks for a look at the queue soon; it never blocks.
func (w *Worker) Kick() { w.wake.Kick() }

// Wake wakes a Worker: the fan-out hands it every committed transaction's
// events (it is built before the store, and so before the worker).
type Wake struct{ ch chan struct{} }

// NewWake returns a Wake.
func NewWake() *Wake { return &Wake{ch: make(chan struct{}, 1)} }

// Kick wakes the worker soon; it never blocks.
func (k *Wake) Kick() {
	select {
	case k.ch <- struct{}{}:
	default:
	}
}

// Committed implements events.Notifier: a transaction with events of a
// webhook type may have queued deliveries.
func (k *Wake) Committed(evs []models.Event) {
	for _, e := range evs {
		if TypeOf(e) != "" {
			k.Kick()
			return
		}
	}
}

// Run delivers until ctx ends, then waits for the deliveries under way;
// those interrupted are handed back to the queue.
func (w *Worker) Run(ctx context.Context) {
	freed := make(chan struct{}, 1)
	b := w.newBatch(ctx, freed)
	defer b.close()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		full := false
		if free := w.o.Concurrency - int(w.inflight.Load()); free > 0 {
			n, err := w.start(ctx, b, free)
			if err != nil && ctx.Err() == nil {
				w.o.Logger.Warn("outbound webhooks: claim failed", slog.Any("err", err))
			}
			full = n == free
		}
		if w.now().Sub(w.lastCheck) >= time.Minute {
			w.lastCheck = w.now()
			if _, err := w.DisableFailing(ctx); err != nil && ctx.Err() == nil {
				w.o.Logger.Warn("outbound webhooks: disabling failing endpoints", slog.Any("err", err))
			}
		}
		if full {
			// There may be more: go on once a slot frees.
			select {
			case <-ctx.Done():
				return
			case <-freed:
			}
			continue
		}
		timer.Reset(w.o.Poll)
		select {
		case <-ctx.Done():
			return
		case <-w.wake.ch:
		case <-freed:
		case <-timer.C:
		}
	}
}

// RunOnce claims what is due (as many as Concurrency), delivers it and
// waits until every attempt is recorded; it returns how many it attempted.
// Tests drive the worker with it.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	b := w.newBatch(ctx, make(chan struct{}, 1))
	n, err := w.start(ctx, b, w.o.Concurrency)
	b.close()
	return n, err
}

// recorded is one attempt waiting to be written.
type recorded struct {
	d *models.WebhookDelivery
	a models.DeliveryAttempt
}

// batch runs the deliveries of a worker and writes their attempts, as many
// as have finished together in one transaction: on SQLite a transaction
// per attempt would make the turn to write the limit.
type batch struct {
	w       *Worker
	ctx     context.Context
	freed   chan struct{}
	results chan recorded
	running sync.WaitGroup
	writer  sync.WaitGroup
}

func (w *Worker) newBatch(ctx context.Context, freed chan struct{}) *batch {
	b := &batch{w: w, ctx: ctx, freed: freed, results: make(chan recorded, w.o.Concurrency)}
	b.writer.Go(b.write)
	return b
}

// close waits for the deliveries under way and for their attempts to be
// written.
func (b *batch) close() {
	b.running.Wait()
	close(b.results)
	b.writer.Wait()
}

// release frees a worker slot.
func (b *batch) release() {
	b.w.inflight.Add(-1)
	select {
	case b.freed <- struct{}{}:
	default:
	}
}

// write records the attempts as they come, a batch at a time.
func (b *batch) write() {
	const most = 256
	for r := range b.results {
		rs := []recorded{r}
	more:
		for len(rs) < most {
			select {
			case r, ok := <-b.results:
				if !ok {
					break more
				}
				rs = append(rs, r)
			default:
				break more
			}
		}
		items := make([]models.FinishedDelivery, len(rs))
		for i, r := range rs {
			items[i] = models.FinishedDelivery{Delivery: r.d, Attempt: r.a}
		}
		if _, err := b.w.store.FinishWebhookDeliveries(context.WithoutCancel(b.ctx), items); err != nil {
			// The leases run out and the deliveries are tried again.
			b.w.o.Logger.Warn("outbound webhooks: recording attempts failed", slog.Int("attempts", len(rs)), slog.Any("err", err))
		}
		for range rs {
			b.release()
		}
	}
}

// start claims up to limit deliveries and starts each on a goroutine of b.
func (w *Worker) start(ctx context.Context, b *batch, limit int) (int, error) {
	now := w.now()
	ds, err := w.store.ClaimWebhookDeliveries(ctx, now, now.Add(w.o.Lease), limit)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	eps, err := w.store.WebhookEndpoints(ctx, false)
	if err != nil {
		for i := range ds {
			_ = w.store.ReleaseWebhookDelivery(context.WithoutCancel(ctx), &ds[i], now)
		}
		return 0, err
	}
	byID := make(map[uint]*models.WebhookEndpoint, len(eps))
	for i := range eps {
		byID[eps[i].ID] = &eps[i]
	}
	for i := range ds {
		d := ds[i]
		ep := byID[d.EndpointID]
		w.inflight.Add(1)
		b.running.Go(func() { w.deliver(ctx, b, &d, ep) })
	}
	return len(ds), nil
}

// deliver makes one attempt at d and hands it to b to record.
func (w *Worker) deliver(ctx context.Context, b *batch, d *models.WebhookDelivery, ep *models.WebhookEndpoint) {
	if ep == nil {
		// Deleted since the claim: its deliveries went with it.
		b.release()
		return
	}
	at := w.now()
	res := w.attempt(ctx, d, ep, at)
	if ctx.Err() != nil && !res.Delivered && res.Code == 0 {
		// Interrupted by shutdown, not by the endpoint: hand it back.
		if err := w.store.ReleaseWebhookDelivery(context.WithoutCancel(ctx), d, at); err != nil {
			w.o.Logger.Warn("outbound webhooks: release failed", slog.Uint64("delivery", uint64(d.ID)), slog.Any("err", err))
		}
		b.release()
		return
	}
	outcome := OutcomeDelivered
	if !res.Delivered {
		if at.Sub(d.CreatedAt) < w.o.RetryFor {
			next := at.Add(w.Backoff(d.Attempts))
			res.RetryAt, outcome = &next, OutcomeRetry
		} else {
			outcome = OutcomeFailed
		}
	}
	if w.o.Metrics != nil {
		w.o.Metrics.OutboundDelivery(outcome, time.Duration(res.LatencyMS)*time.Millisecond)
	}
	b.results <- recorded{d: d, a: res}
}

// attempt posts d's payload to ep, signed, and reads the answer.
func (w *Worker) attempt(ctx context.Context, d *models.WebhookDelivery, ep *models.WebhookEndpoint, at time.Time) models.DeliveryAttempt {
	res := models.DeliveryAttempt{At: at}
	body := []byte(d.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		res.Error = "bad URL: " + err.Error()
		return res
	}
	ts := at.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "apptconfirm-webhooks/1")
	req.Header.Set("webhook-id", d.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(ep.Secrets(at), d.MsgID, ts, body))
	start := time.Now()
	resp, err := w.o.Client.Do(req)
	if err != nil {
		res.LatencyMS = int(time.Since(start).Milliseconds())
		res.Error = describe(err)
		return res
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	_ = resp.Body.Close()
	res.LatencyMS = int(time.Since(start).Milliseconds())
	res.Code = resp.StatusCode
	res.Response = validPrefix(head, 1000)
	res.Delivered = resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.Error = "redirect to " + models.Clip(resp.Header.Get("Location"), 200) + " not followed"
	case !res.Delivered:
		res.Error = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return res
}

// describe turns a transport error into a line for the admin.
func describe(err error) string {
	var ue interface{ Timeout() bool }
	switch {
	case errors.Is(err, ErrForbiddenAddress):
		return "refused: " + unwrapForbidden(err)
	case errors.As(err, &ue) && ue.Timeout():
		return fmt.Sprintf("no answer within %s", Timeout)
	}
	return err.Error()
}

// unwrapForbidden returns the forbidden-address part of err's text.
func unwrapForbidden(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if errors.Is(e, ErrForbiddenAddress) && errors.Unwrap(e) == ErrForbiddenAddress {
			return e.Error()
		}
	}
	return err.Error()
}

// validPrefix returns at most n bytes of b as text, cut at a character
// boundary, with invalid UTF-8 replaced.
func validPrefix(b []byte, n int) string {
	return models.ClipBytes(strings.ReplaceAll(string(bytes.ToValidUTF8(b, []byte("\uFFFD"))), "\x00", ""), n)
}

// Backoff is the wait after the attempt-th failed attempt: BackoffBase
// doubled per earlier attempt, at most BackoffMax, of which a random half
// is taken off (so that endpoints recovering together are not hit by every
// retry at once).
func (w *Worker) Backoff(attempt int) time.Duration {
	d := w.o.BackoffBase
	for i := 1; i < attempt && d < w.o.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, w.o.BackoffMax)
	half := d / 2
	return half + rand.N(half+1)
}

// DisableFailing disables the endpoints that have failed every attempt for
// RetryFor, saying so in their reason, and returns how many.
func (w *Worker) DisableFailing(ctx context.Context) (int, error) {
	now := w.now()
	eps, err := w.store.DisableFailingEndpoints(ctx, now.Add(-w.o.RetryFor), func(e *models.WebhookEndpoint, last *models.WebhookDelivery) string {
		why := fmt.Sprintf("Disabled %s: every delivery failed since %s.", now.Format("2006-01-02 15:04 MST"), e.FailingSince.UTC().Format("2006-01-02 15:04 MST"))
		if last != nil {
			if last.LastError != "" {
				why += " Last attempt: " + last.LastError + "."
			} else if last.LastCode != 0 {
				why += " Last attempt: HTTP " + strconv.Itoa(last.LastCode) + "."
			}
		}
		return why
	}, now)
	for _, e := range eps {
		w.o.Logger.Warn("outbound webhooks: endpoint disabled", slog.Uint64("endpoint", uint64(e.ID)), slog.String("reason", e.DisabledReason))
	}
	return len(eps), err
}
