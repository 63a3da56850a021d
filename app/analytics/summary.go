package analytics

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"apptconfirm/models"
)

// InlineDays is how many out-of-date days of a range a report counts
// again itself before answering (a few milliseconds each); with more, it
// answers from the summary as it stands and says as of when (Report.AsOf),
// leaving them to the refresh job.
const InlineDays = 8

// Report computes the analytics of r from the per-day summary: it reads
// the changes recorded since the summary last did, counts again the days
// of the range they touched (at most InlineDays of them; the refresh job
// does the rest), and adds up the days' lines. Before the summary has
// counted every day of the range once, or when it was counted in another
// zone or with other locations, the report is computed directly (Direct). Both give the same
// figures (docs/analytics.md, "Speed and freshness").
func (s *Service) Report(ctx context.Context, r Range) (*Report, error) {
	r, err := checkRange(r)
	if err != nil {
		return nil, err
	}
	st, ok, err := s.store.AnalyticsSummaryState(ctx)
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	n, locs, err := s.names(ctx)
	if err != nil {
		return nil, err
	}
	key := summaryKey(r.Zone, locs)
	if !ok || st.Zone != key {
		return s.Direct(ctx, r)
	}
	now := s.now()
	if _, err := s.store.CollectAnalyticsChanges(ctx, r.Zone, now); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	first, last := r.FirstDay(), r.LastDay()
	dirty, err := s.store.AnalyticsDirtyDays(ctx, first, last)
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	asOf := now
	for _, d := range dirty {
		if d.Initial {
			return s.Direct(ctx, r)
		}
	}
	if len(dirty) <= InlineDays {
		for _, d := range dirty {
			if err := s.store.RebuildAnalyticsDay(ctx, d.Day, key, r.Zone, s.countDay(locs)); err != nil {
				return nil, fmt.Errorf("analytics: %w", err)
			}
		}
	} else {
		for _, d := range dirty {
			if d.MarkedAt.Before(asOf) {
				asOf = d.MarkedAt
			}
		}
	}
	ls, err := s.store.SumAnalyticsDays(ctx, first, last)
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	rep := &Report{Range: r, ComputedAt: s.now(), AsOf: asOf, FromSummary: true}
	return rep, s.finish(ctx, rep, models.AnalyticsRange{From: r.From, To: r.To}, ls, n)
}

// countDay counts one day's lines with the reference statements, the
// local hours read with the zones' offsets from offsetLookback before the
// day to its end.
func (s *Service) countDay(locs []models.Location) func(ctx context.Context, from, to time.Time) ([]models.AnalyticsDay, error) {
	return func(ctx context.Context, from, to time.Time) ([]models.AnalyticsDay, error) {
		q := models.AnalyticsRange{From: from, To: to, Offsets: offsetSpans(locs, from.Add(-offsetLookback), to)}
		groups, err := s.store.CountOutcomes(ctx, q)
		if err != nil {
			return nil, err
		}
		sends, err := s.store.CountReminderSends(ctx, q)
		if err != nil {
			return nil, err
		}
		return lines(groups, sends), nil
	}
}

// Refresh brings the summary up to date for the days of zone (the
// default location's): set up from scratch the first time or when the
// zone or the locations' zones changed, then the changes recorded since the last refresh are read
// and every day they touched is counted again, latest first. It returns
// how many days it counted. The refresh job runs it every minute, on one
// instance at a time.
func (s *Service) Refresh(ctx context.Context, zone *time.Location) (int, error) {
	if zone == nil {
		zone = time.UTC
	}
	st, ok, err := s.store.AnalyticsSummaryState(ctx)
	if err != nil {
		return 0, fmt.Errorf("analytics: %w", err)
	}
	_, locs, err := s.names(ctx)
	if err != nil {
		return 0, err
	}
	key := summaryKey(zone, locs)
	if !ok || st.Zone != key {
		if err := s.store.ResetAnalyticsSummary(ctx, zone, key, s.now()); err != nil {
			return 0, fmt.Errorf("analytics: %w", err)
		}
	}
	if _, err := s.store.CollectAnalyticsChanges(ctx, zone, s.now()); err != nil {
		return 0, fmt.Errorf("analytics: %w", err)
	}
	dirty, err := s.store.AnalyticsDirtyDays(ctx, "", "")
	if err != nil {
		return 0, fmt.Errorf("analytics: %w", err)
	}
	count := s.countDay(locs)
	for i, d := range dirty {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		if err := s.store.RebuildAnalyticsDay(ctx, d.Day, key, zone, count); err != nil {
			return i, fmt.Errorf("analytics: %w", err)
		}
	}
	return len(dirty), nil
}

// summaryKey names what the summary's days depend on besides the data:
// the zone its days are cut in, and the locations' zones the local hours
// are read in (a new location or a zone changed starts the summary again).
func summaryKey(zone *time.Location, locs []models.Location) string {
	h := fnv.New64a()
	for _, l := range locs {
		fmt.Fprintf(h, "%d=%s;", l.ID, l.TimeZone)
	}
	return fmt.Sprintf("%.46s %016x", zone.String(), h.Sum64())
}

// RefreshDefault refreshes the summary in the default location's zone.
func (s *Service) RefreshDefault(ctx context.Context) (int, error) {
	zone := time.UTC
	if l, err := s.store.DefaultLocation(ctx); err == nil && l != nil {
		zone = l.Zone()
	}
	return s.Refresh(ctx, zone)
}
