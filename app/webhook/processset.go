package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// processSet claims and applies the first events of page in one
// transaction, a run at a time: consecutive events of one type whose
// applier is a BatchApplier go to it together, in a savepoint (see
// applySet for how they are claimed); any other event is claimed and
// applied alone, as processBatch does. On PostgreSQL each run's events are
// locked before they are applied, in the run's savepoint, and claimed with
// their results in one statement at the end. Runs are taken while
// batchTime allows (at least one).
//
// A run that fails for a reason other than the database (a bug, an event
// that cannot be applied) is rolled back to its savepoint and its events
// are applied again one by one, each in a savepoint of its own, so a bad
// event costs the others nothing; its failure is counted as processOne
// counts it. It returns how many events it took from page and how many of
// those it applied; on an error nothing of the batch is applied, and taken
// covers the run that failed.
func (p *Processor) processSet(ctx context.Context, page []models.WebhookEvent) (taken, applied int, err error) {
	start := time.Now()
	lockFirst := p.store.Driver() != models.DriverSQLite
	err = p.store.Tx(ctx, func(ctx context.Context) error {
		// Nothing applying an event reads the timeline or the audit log,
		// so their rows wait for the commit and go in one statement each
		// instead of one per run.
		p.store.DeferLogs(ctx)
		taken, applied = 0, 0
		var results []models.WebhookResult
		for taken < len(page) && (taken == 0 || time.Since(start) < batchTime) {
			ev := &page[taken]
			a, handled := p.appliers[ev.Event]
			ba, ok := a.(BatchApplier)
			if !handled && !hitUpdate(ev.Event) {
				ba, ok = ignorer{}, true
			}
			if !ok || hitUpdate(ev.Event) {
				claimed, err := p.claimAndApply(ctx, ev)
				taken++
				if err != nil {
					return err
				}
				if claimed {
					applied++
				}
				continue
			}
			end := taken + 1
			for end < len(page) && page[end].Event == ev.Event && end-taken < p.runCap {
				end++
			}
			run := page[taken:end]
			taken = end
			res, n, err := p.applyRun(ctx, ba, run, lockFirst)
			if err != nil {
				return err
			}
			applied += n
			results = append(results, res...)
		}
		if lockFirst {
			return p.store.FinishWebhookEvents(ctx, results, p.now())
		}
		return p.store.SetWebhookResults(ctx, results)
	})
	if err != nil {
		return taken, 0, models.Classify(err)
	}
	return taken, applied, nil
}

// ignorer applies a run of events of a type no applier handles: each is
// marked "ignored", as apply marks one, but a run at a time.
type ignorer struct{}

func (ignorer) Apply(context.Context, string, []byte) (Result, error) {
	return Result{Text: ignoredText}, nil
}

func (ignorer) ApplyBatch(_ context.Context, _ string, raws [][]byte) ([]Result, error) {
	out := make([]Result, len(raws))
	for i := range out {
		out[i].Text = ignoredText
	}
	return out, nil
}

// hitUpdate reports whether event re-reports a link hit, which apply
// checks against the hit itself first: such events are applied alone.
func hitUpdate(event string) bool {
	return strings.HasSuffix(event, "_update") && event != smscx.EventDLRUpdate
}

// applyRun applies run (events of one type) through ba in a savepoint, and
// returns the results to store and how many events it applied. When the
// run fails for a reason other than the database, its events are applied
// one by one instead (their results stored as they go).
func (p *Processor) applyRun(ctx context.Context, ba BatchApplier, run []models.WebhookEvent, lockFirst bool) ([]models.WebhookResult, int, error) {
	var out []models.WebhookResult
	applied := 0
	err := p.store.Tx(ctx, func(ctx context.Context) error {
		var err error
		out, applied, err = p.applySet(ctx, ba, run, lockFirst)
		return err
	})
	if err == nil {
		return out, applied, nil
	}
	if p.fatal(ctx, err) {
		return nil, 0, err
	}
	applied = 0
	for i := range run {
		ev := &run[i]
		claimed := false
		err := p.retrying(func() error {
			return p.store.Tx(ctx, func(ctx context.Context) error {
				var err error
				claimed, err = p.claimAndApply(ctx, ev)
				return err
			})
		})
		switch {
		case err == nil:
			if claimed {
				applied++
			}
		case p.fatal(ctx, err):
			return nil, 0, err
		case errors.Is(err, models.ErrConflict), models.Retryable(err):
			// Changed meanwhile by another worker, or still deadlocked
			// with one: left for the next pass.
		default:
			p.log.WarnContext(ctx, "webhook event failed", slog.Uint64("event_id", uint64(ev.ID)), slog.Any("err", err))
			p.recordFailure(ctx, ev.ID, err)
		}
	}
	return nil, applied, nil
}

// fatal reports whether err ends the whole transaction: the database is
// unavailable or the work was cancelled.
func (p *Processor) fatal(ctx context.Context, err error) bool {
	return errors.Is(models.Classify(err), models.ErrUnavailable) || ctx.Err() != nil
}

// applySet applies the events of run through ba and claims them, and
// returns the results still to be written and how many events it applied.
//
// On SQLite it applies them first and then claims them together with
// their results, in one statement: the transaction holds the database's
// write lock, so no other worker runs meanwhile, and should one have
// processed an event before the transaction began, the claim fails with
// models.ErrConflict and the savepoint applyRun opened rolls back what was
// applied. On PostgreSQL (lockFirst), where workers run side by side and
// lock rows one by one, it first locks those of the run's events still
// pending, as the per-event path claims first, so that both take their
// locks in the same order; only those are handed to ba, and they are
// claimed with their results by processSet, in one statement for the whole
// transaction. The lock is taken in applyRun's savepoint, so a lock that
// fails sends the run one by one like any other failure.
func (p *Processor) applySet(ctx context.Context, ba BatchApplier, run []models.WebhookEvent, lockFirst bool) ([]models.WebhookResult, int, error) {
	mine := run
	if lockFirst {
		ids := make([]uint, len(run))
		for i := range run {
			ids[i] = run[i].ID
		}
		locked, err := p.store.LockPendingWebhookEvents(ctx, ids)
		if err != nil {
			return nil, 0, err
		}
		mine = make([]models.WebhookEvent, 0, len(run))
		for i := range run {
			if locked[run[i].ID] {
				mine = append(mine, run[i])
			}
		}
		if len(mine) == 0 {
			return nil, 0, nil
		}
	}
	raws := make([][]byte, len(mine))
	for i := range mine {
		raws[i] = []byte(mine[i].Raw)
	}
	res, err := recovered(ctx, p.log, run[0].Event, func() ([]Result, error) { return ba.ApplyBatch(ctx, run[0].Event, raws) })
	if err != nil {
		return nil, 0, err
	}
	if len(res) != len(mine) {
		// The run goes one by one instead, each event with its own result.
		return nil, 0, fmt.Errorf("the %s applier gave %d results for %d events", run[0].Event, len(res), len(mine))
	}
	out := make([]models.WebhookResult, len(mine))
	for i := range mine {
		text := res[i].Text
		if text == "" {
			text = "applied"
		}
		out[i] = models.WebhookResult{ID: mine[i].ID, Result: text, Flagged: res[i].Flagged}
	}
	if lockFirst {
		return out, len(out), nil
	}
	return nil, len(out), p.store.FinishWebhookEvents(ctx, out, p.now())
}
