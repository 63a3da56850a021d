package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Bulk loading: the seed command fills a database with synthetic rows for
// benchmarks, in large transactions of multi-row inserts.

// Rows that a bulk load inserts.
type bulkRow interface {
	Patient | Appointment | Message | InboundMessage | Location
}

// InsertMany inserts rows in statements of at most chunk rows each (inside
// the transaction ctx carries, if any), giving each row its id.
func InsertMany[T bulkRow](ctx context.Context, s *Store, rows []T, chunk int) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Omit("Patient", "Location", "Provider").CreateInBatches(rows, chunk).Error
	})
	if err != nil {
		return fmt.Errorf("store: insert %d rows: %w", len(rows), err)
	}
	return nil
}

// PrepareBulkLoad readies the connection of the transaction ctx carries for
// a bulk load: on SQLite a bigger page cache (256 MiB at most) keeps the
// index updates in memory, until the transaction ends.
func (s *Store) PrepareBulkLoad(ctx context.Context) error {
	if s.driver != DriverSQLite {
		return nil
	}
	if err := s.conn(ctx).Exec("PRAGMA cache_size = -262144").Error; err != nil {
		return fmt.Errorf("store: prepare bulk load: %w", Classify(err))
	}
	if st := s.txOf(ctx); st != nil {
		st.root().bigCache = true
	}
	return nil
}

// restoreWriterCache sets the page cache of the writer connection wdb
// holds back to writerCacheKiB after a bulk load.
func (s *Store) restoreWriterCache(wdb *gorm.DB) {
	if s.wdb != s.db {
		_ = wdb.Exec(fmt.Sprintf("PRAGMA cache_size = %d", -writerCacheKiB)).Error
	}
}

// Analyze refreshes the query planner's statistics, as a DBA would after a
// bulk load.
func (s *Store) Analyze(ctx context.Context) error {
	if err := s.conn(ctx).Exec("ANALYZE").Error; err != nil {
		return fmt.Errorf("store: analyze: %w", Classify(err))
	}
	return nil
}

// EnabledRulesByTiming returns the enabled reminder rules, the earliest
// sent first.
func (s *Store) EnabledRulesByTiming(ctx context.Context) ([]ReminderRule, error) {
	var rules []ReminderRule
	if err := s.conn(ctx).Where("enabled = ?", true).Order("before_seconds DESC, id").Find(&rules).Error; err != nil {
		return nil, fmt.Errorf("store: enabled rules: %w", Classify(err))
	}
	return rules, nil
}

// LocationsByID returns every location by id.
func (s *Store) LocationsByID(ctx context.Context) ([]Location, error) {
	var ls []Location
	if err := s.conn(ctx).Order("id").Find(&ls).Error; err != nil {
		return nil, fmt.Errorf("store: locations: %w", Classify(err))
	}
	return ls, nil
}

// CountPatients returns how many patients exist.
func (s *Store) CountPatients(ctx context.Context) (int64, error) {
	n, err := count[Patient](ctx, s, "1 = 1")
	if err != nil {
		return 0, fmt.Errorf("store: count patients: %w", err)
	}
	return n, nil
}
