package models

import "context"

// DropRecordedEvents forgets the domain events recorded so far in the
// transaction (or savepoint) ctx carries. It is for a transaction that is
// going to be rolled back, such as an import's preview, whose events
// would otherwise pile up in memory until the rollback drops them anyway.
// Outside a transaction it does nothing.
func (s *Store) DropRecordedEvents(ctx context.Context) {
	if st := s.txOf(ctx); st != nil {
		clear(st.events)
		st.events = st.events[:0]
	}
}
