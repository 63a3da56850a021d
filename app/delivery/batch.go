package delivery

import (
	"context"

	"apptconfirm/app/outbox"
	"apptconfirm/app/smscx"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
)

// ApplyBatch implements webhook.BatchApplier: a run of delivery reports is
// applied a set at a time (outbox.ApplyReports), a run of hits has its
// timeline lines written in one statement, and a run of opt-outs opts its
// patients out together (applyOptOuts), with exactly the states applying
// them one by one gives. The opt-out a REJECTED report makes goes through
// clinic.OptOut, one at a time.
//
// Every error ends the batch, and the processor rolls the whole run back
// (it applies a run in a savepoint of its own), so the transactions of the
// calls it makes (ApplyReports, OptOut) run inline, without a savepoint
// each.
func (s *Service) ApplyBatch(ctx context.Context, event string, raws [][]byte) ([]webhook.Result, error) {
	ctx = s.store.Inline(ctx)
	out := make([]webhook.Result, len(raws))
	switch event {
	case smscx.EventShortlinkHit, smscx.EventAttachmentHit:
		return s.applyHits(ctx, event, raws)
	case smscx.EventNewOptout:
		return s.applyOptOuts(ctx, raws)
	case smscx.EventDLRUpdate:
	default:
		return s.applyEach(ctx, event, raws)
	}
	var reports []outbox.Report
	var at []int // the index in raws of each report
	for i, raw := range raws {
		r, bad := decodeReport(raw)
		if bad != nil {
			out[i] = *bad
			continue
		}
		reports = append(reports, r)
		at = append(at, i)
	}
	for done := 0; done < len(reports); {
		res, n, err := s.outbox.ApplyReports(ctx, reports[done:])
		if err != nil {
			return nil, err
		}
		for k, r := range res {
			out[at[done+k]] = webhook.Result{Text: r.Text, Flagged: r.Flagged}
		}
		done += n
		// ApplyReports stops after a report that applied REJECTED: SMS.CX
		// refuses the number, so its patient is opted out before the
		// reports after it are judged.
		if last := res[n-1]; last.Applied && last.Message.Status == models.MsgRejected {
			if err := s.rejected(ctx, last.Message); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// applyEach applies raws one by one, in order.
func (s *Service) applyEach(ctx context.Context, event string, raws [][]byte) ([]webhook.Result, error) {
	out := make([]webhook.Result, len(raws))
	for i, raw := range raws {
		res, err := s.Apply(ctx, event, raw)
		if err != nil {
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}

// applyHits records a run of hits: each is matched as applyHit matches it,
// and their timeline lines are written in one statement, in order.
func (s *Service) applyHits(ctx context.Context, event string, raws [][]byte) ([]webhook.Result, error) {
	out := make([]webhook.Result, len(raws))
	var lines []models.TimelineEntry
	for i, raw := range raws {
		res, line, ev, err := s.decideHit(ctx, event, raw)
		if err != nil {
			return nil, err
		}
		out[i] = res
		if line != nil {
			lines = append(lines, *line)
			if err := s.store.Record(ctx, *ev); err != nil {
				return nil, err
			}
		}
	}
	if err := s.store.AddTimeline(ctx, lines...); err != nil {
		return nil, err
	}
	return out, nil
}
