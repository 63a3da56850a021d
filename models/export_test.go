package models

import "context"

// MigrateTo exposes migrateTo to the tests of package models_test, which
// start from an older schema.
func (s *Store) MigrateTo(ctx context.Context, version int) (int, error) {
	return s.migrateTo(ctx, version)
}
