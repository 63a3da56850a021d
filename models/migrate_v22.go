package models

import "gorm.io/gorm"

// migrateV22 gives the webhook processor's page query (pending events past
// an id, oldest first) an index of its own: the pending events' ids, and
// nothing else. With the processed_at index holding the pending events
// under NULL, the planners of both databases walked the primary key past
// every processed event still kept, or read every pending event and sorted
// them, so each page cost as much as the retained events or the backlog.
// The processed_at index now holds only processed events, which pruning
// and payload retention look for (a comparison on processed_at implies it
// is not NULL, so both databases still use it); each event is in one of
// the two indexes, as it was in one.
//
// On PostgreSQL the new processed_at index is built beside the old one and
// swapped in at the end, so the table is locked against reads only for
// the drop and the rename, not for the build; SQLite, which cannot rename
// an index, locks the database for the whole migration anyway.
func migrateV22(tx *gorm.DB) error {
	steps := []string{
		`CREATE INDEX IF NOT EXISTS idx_webhook_events_pending ON webhook_events (id) WHERE processed_at IS NULL`,
		`DROP INDEX IF EXISTS idx_webhook_events_processed_at`,
		`CREATE INDEX idx_webhook_events_processed_at ON webhook_events (processed_at) WHERE processed_at IS NOT NULL`,
	}
	if tx.Name() == DriverPostgres {
		steps = []string{
			`CREATE INDEX IF NOT EXISTS idx_webhook_events_pending ON webhook_events (id) WHERE processed_at IS NULL`,
			`CREATE INDEX IF NOT EXISTS idx_webhook_events_processed_at_v22 ON webhook_events (processed_at) WHERE processed_at IS NOT NULL`,
			`DROP INDEX IF EXISTS idx_webhook_events_processed_at`,
			`ALTER INDEX idx_webhook_events_processed_at_v22 RENAME TO idx_webhook_events_processed_at`,
		}
	}
	for _, q := range steps {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
