package models

import "gorm.io/gorm"

// Migrations 22 to 25 give the webhook processor's page query (pending
// events past an id, oldest first) an index of its own, and PostgreSQL's
// look-up of the latest message to a number an index in id order.
//
// With the processed_at index holding the pending events under NULL, the
// planners of both databases walked the primary key past every processed
// event still kept, or read every pending event and sorted them, so each
// page cost as much as the retained events or the backlog. The pending
// events now sit in a partial index by id, and the processed_at index holds
// only processed events, which pruning and payload retention look for (a
// comparison on processed_at implies it is not NULL, so both databases
// still use it); each event is in one of the two indexes, as it was in one.
//
// On PostgreSQL each new index is built in one migration, holding the
// table against writes only (CREATE INDEX's SHARE lock), and swapped in by
// the next, which takes the exclusive lock first and holds it for a drop
// and a rename. Asking for the exclusive lock while holding the build's
// lock would deadlock with a transaction that read the table and then
// wrote it (as the webhook processor's do), and one table per migration
// keeps two tables' locks from being taken in the opposite order to a
// running transaction's. SQLite cannot rename an index, and it locks the
// whole database for a migration anyway: migration 22 does its part there.

// migrateV22 builds the pending index, and the processed-only processed_at
// index (on SQLite in place of the old one).
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
		}
	}
	return execAll(tx, steps)
}

// migrateV23 swaps the processed_at index migration 22 built in for the
// old one, on PostgreSQL.
func migrateV23(tx *gorm.DB) error {
	return swapIndex(tx, "webhook_events", "idx_webhook_events_processed_at_v22", "idx_webhook_events_processed_at")
}

// migrateV24 builds PostgreSQL's index of messages by number, then id.
func migrateV24(tx *gorm.DB) error {
	if tx.Name() != DriverPostgres {
		return nil
	}
	return execAll(tx, []string{`CREATE INDEX IF NOT EXISTS idx_messages_to_id ON messages ("to", id)`})
}

// migrateV25 swaps it in for the index of messages by number alone.
func migrateV25(tx *gorm.DB) error {
	return swapIndex(tx, "messages", "idx_messages_to_id", "idx_messages_to")
}

// swapIndex replaces index old of table with index built, on PostgreSQL:
// the drop first, so that the table's exclusive lock is the first this
// transaction takes. Without built (already swapped) it does nothing.
func swapIndex(tx *gorm.DB, table, built, old string) error {
	if tx.Name() != DriverPostgres || !tx.Migrator().HasIndex(table, built) {
		return nil
	}
	return execAll(tx, []string{
		`DROP INDEX IF EXISTS ` + old,
		`ALTER INDEX ` + built + ` RENAME TO ` + old,
	})
}

func execAll(tx *gorm.DB, steps []string) error {
	for _, q := range steps {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
