// Package retention blanks personal texts once they have been kept long
// enough: message bodies, patients' reply texts (and the timeline lines
// that quote them), stored webhook payloads, after retention.message_text;
// the details of audit entries after retention.audit. A nightly job runs
// it, on one instance at a time.
package retention

import (
	"context"
	"fmt"
	"time"

	"apptconfirm/models"
)

// Options configure a Service; a zero duration keeps those texts for ever.
type Options struct {
	// MessageText is how long message and reply texts and webhook payloads
	// are kept.
	MessageText time.Duration
	// Audit is how long audit details are kept.
	Audit time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service applies the retention periods. It is safe for concurrent use.
type Service struct {
	store *models.Store
	opts  Options
}

// New returns a Service on store.
func New(store *models.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: store, opts: opts}
}

// Result counts what one run blanked.
type Result struct {
	models.TextRetention
	Audit int64
}

// Run blanks what is past its retention period at now and, when it blanked
// anything, writes an audit entry and a domain event saying how much (never
// what). Running it again changes nothing.
func (s *Service) Run(ctx context.Context) (Result, error) {
	now := models.DBTime(s.opts.Now())
	var r Result
	var err error
	if d := s.opts.MessageText; d > 0 {
		if r.TextRetention, err = s.store.BlankTextsBefore(ctx, now.Add(-d), now); err != nil {
			return r, fmt.Errorf("retention: %w", err)
		}
	}
	if d := s.opts.Audit; d > 0 {
		if r.Audit, err = s.store.BlankAuditDetailsBefore(ctx, now.Add(-d)); err != nil {
			return r, fmt.Errorf("retention: %w", err)
		}
	}
	if r.Total()+r.Audit == 0 {
		return r, nil
	}
	detail := fmt.Sprintf("blanked %d message text(s), %d reply text(s), %d timeline line(s), %d webhook payload(s) and %d audit detail(s) past their retention period",
		r.Messages, r.Replies, r.Timeline, r.Webhooks, r.Audit)
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		if err := s.store.Audit(ctx, now, models.SystemActor(), "retention.apply", "retention", 0, detail); err != nil {
			return err
		}
		return s.store.Record(ctx, models.Event{At: now, Type: models.EventRetentionApplied, Source: "retention", Detail: detail})
	})
	if err != nil {
		return r, fmt.Errorf("retention: %w", err)
	}
	return r, nil
}
