package webhook

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// processSet claims and applies the first events of page in one
// transaction, a run at a time: consecutive events of one type whose
// applier is a BatchApplier go to it together, claimed in one statement,
// in a savepoint; any other event is claimed and applied alone, as
// processBatch does. The results of the runs are written in one statement
// at the end. Runs are taken while batchTime allows (at least one).
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
	err = p.store.Tx(ctx, func(ctx context.Context) error {
		taken, applied = 0, 0
		var results []models.WebhookResult
		for taken < len(page) && (taken == 0 || time.Since(start) < batchTime) {
			ev := &page[taken]
			ba, ok := p.appliers[ev.Event].(BatchApplier)
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
			for end < len(page) && page[end].Event == ev.Event {
				end++
			}
			run := page[taken:end]
			taken = end
			res, n, err := p.applyRun(ctx, ba, run)
			if err != nil {
				return err
			}
			applied += n
			results = append(results, res...)
		}
		return p.store.SetWebhookResults(ctx, results)
	})
	if err != nil {
		return taken, 0, models.Classify(err)
	}
	return taken, applied, nil
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
func (p *Processor) applyRun(ctx context.Context, ba BatchApplier, run []models.WebhookEvent) ([]models.WebhookResult, int, error) {
	var out []models.WebhookResult
	err := p.store.Tx(ctx, func(ctx context.Context) error {
		var err error
		out, err = p.applySet(ctx, ba, run)
		return err
	})
	if err == nil {
		return out, len(out), nil
	}
	if p.fatal(ctx, err) {
		return nil, 0, err
	}
	applied := 0
	for i := range run {
		ev := &run[i]
		claimed := false
		err := p.store.Tx(ctx, func(ctx context.Context) error {
			var err error
			claimed, err = p.claimAndApply(ctx, ev)
			return err
		})
		switch {
		case err == nil:
			if claimed {
				applied++
			}
		case p.fatal(ctx, err):
			return nil, 0, err
		case errors.Is(err, models.ErrConflict):
			// Changed meanwhile by another worker: left for the next pass.
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

// applySet claims the events of run in one statement and hands those
// claimed to ba, and returns their results.
func (p *Processor) applySet(ctx context.Context, ba BatchApplier, run []models.WebhookEvent) ([]models.WebhookResult, error) {
	ids := make([]uint, len(run))
	for i := range run {
		ids[i] = run[i].ID
	}
	claimed, err := p.store.ClaimWebhookEvents(ctx, ids, p.now())
	if err != nil || len(claimed) == 0 {
		return nil, err
	}
	mine := make([]*models.WebhookEvent, 0, len(claimed))
	raws := make([][]byte, 0, len(claimed))
	for i := range run {
		if claimed[run[i].ID] {
			mine = append(mine, &run[i])
			raws = append(raws, []byte(run[i].Raw))
		}
	}
	res, err := ba.ApplyBatch(ctx, run[0].Event, raws)
	if err != nil {
		return nil, err
	}
	out := make([]models.WebhookResult, len(mine))
	for i, ev := range mine {
		text := res[i].Text
		if text == "" {
			text = "applied"
		}
		out[i] = models.WebhookResult{ID: ev.ID, Result: text, Flagged: res[i].Flagged}
	}
	return out, nil
}
