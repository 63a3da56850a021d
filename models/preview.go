package models

import (
	"context"
	"fmt"
)

// DeferLogs makes the transaction ctx carries (and its savepoints) keep
// the timeline entries and audit rows written in it, and store them just
// before it commits, in a few multi-row statements, as it does with
// domain events: a batch of writes (an import's rows) saves a statement
// per entry. A savepoint that rolls back drops its entries with its other
// writes. Nothing in the transaction may read the timeline or the audit
// log after calling it. Outside a transaction it does nothing.
func (s *Store) DeferLogs(ctx context.Context) {
	if st := s.txOf(ctx); st != nil {
		st.deferLogs = true
	}
}

// storeDeferredLogs stores the timeline entries and audit rows st kept.
func (s *Store) storeDeferredLogs(ctx context.Context, st *txState) error {
	if len(st.timeline) > 0 {
		if err := s.insertTimeline(s.conn(ctx), st.timeline); err != nil {
			return fmt.Errorf("store: write timeline: %w", Classify(err))
		}
		st.timeline = nil
	}
	if len(st.audit) > 0 {
		if err := s.conn(ctx).CreateInBatches(&st.audit, 200).Error; err != nil {
			return fmt.Errorf("store: write audit: %w", Classify(err))
		}
		st.audit = nil
	}
	return nil
}

// DropRecordedEvents forgets the domain events recorded so far in the
// transaction (or savepoint) ctx carries, and the timeline and audit rows
// it keeps (DeferLogs). It is for a transaction that is going to be rolled
// back, such as an import's preview, whose events would otherwise pile up
// in memory until the rollback drops them anyway. Outside a transaction it
// does nothing.
func (s *Store) DropRecordedEvents(ctx context.Context) {
	if st := s.txOf(ctx); st != nil {
		clear(st.events)
		st.events = st.events[:0]
		st.timeline, st.audit = nil, nil
	}
}
