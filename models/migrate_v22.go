package models

import (
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

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
// index (on SQLite in place of the old one; on PostgreSQL beside it, unless
// the old one is the new kind already, as on a schema version put back by
// hand).
func migrateV22(tx *gorm.DB) error {
	if tx.Name() != DriverPostgres {
		return execAll(tx, []string{
			`CREATE INDEX IF NOT EXISTS idx_webhook_events_pending ON webhook_events (id) WHERE processed_at IS NULL`,
			`DROP INDEX IF EXISTS idx_webhook_events_processed_at`,
			`CREATE INDEX idx_webhook_events_processed_at ON webhook_events (processed_at) WHERE processed_at IS NOT NULL`,
		})
	}
	steps := []string{`CREATE INDEX IF NOT EXISTS idx_webhook_events_pending ON webhook_events (id) WHERE processed_at IS NULL`}
	def, err := indexDef(tx, "idx_webhook_events_processed_at")
	if err != nil {
		return err
	}
	if !strings.Contains(def, "WHERE (processed_at IS NOT NULL)") {
		steps = append(steps, `CREATE INDEX IF NOT EXISTS idx_webhook_events_processed_at_v22 ON webhook_events (processed_at) WHERE processed_at IS NOT NULL`)
	}
	return execAll(tx, steps)
}

// migrateV23 swaps the processed_at index migration 22 built in for the
// old one, on PostgreSQL.
func migrateV23(tx *gorm.DB) error {
	return swapIndex(tx, "idx_webhook_events_processed_at_v22", "idx_webhook_events_processed_at")
}

// migrateV24 builds PostgreSQL's index of messages by number, then id,
// unless the index by number is that already.
func migrateV24(tx *gorm.DB) error {
	if tx.Name() != DriverPostgres {
		return nil
	}
	def, err := indexDef(tx, "idx_messages_to")
	if err != nil || strings.HasSuffix(def, `("to", id)`) {
		return err
	}
	return execAll(tx, []string{`CREATE INDEX IF NOT EXISTS idx_messages_to_id ON messages ("to", id)`})
}

// migrateV25 swaps it in for the index of messages by number alone.
func migrateV25(tx *gorm.DB) error {
	return swapIndex(tx, "idx_messages_to_id", "idx_messages_to")
}

// Swapping an index in waits for the table's exclusive lock, and while it
// waits every other reader and writer of the table queues behind it; so it
// waits swapLockWait at a time, letting the queue through in between, and
// gives up after swapTries (the migration fails and can be run again).
const (
	swapLockWait = "2s"
	swapTries    = 5
)

// swapIndex replaces index old with index built, on PostgreSQL: the drop
// first, so that the table's exclusive lock is the first lock this
// transaction takes on it. Without built (already swapped) it does nothing.
func swapIndex(tx *gorm.DB, built, old string) error {
	if tx.Name() != DriverPostgres {
		return nil
	}
	def, err := indexDef(tx, built)
	if err != nil || def == "" {
		return err
	}
	if err := tx.Exec("SET LOCAL lock_timeout = '" + swapLockWait + "'").Error; err != nil {
		return err
	}
	for try := 1; ; try++ {
		if err := tx.SavePoint("swap").Error; err != nil {
			return err
		}
		err := tx.Exec(`DROP INDEX IF EXISTS ` + old).Error
		if err == nil {
			break
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != pgLockNotAvailable || try == swapTries {
			return err
		}
		if err := tx.RollbackTo("swap").Error; err != nil {
			return err
		}
		time.Sleep(time.Duration(try) * 200 * time.Millisecond)
	}
	return tx.Exec(`ALTER INDEX ` + built + ` RENAME TO ` + old).Error
}

// pgLockNotAvailable is PostgreSQL's lock_not_available: lock_timeout ran
// out.
const pgLockNotAvailable = "55P03"

// indexDef is PostgreSQL's definition of the index name (found as the DDL
// finds it, through the search path), or "" when there is none.
func indexDef(tx *gorm.DB, name string) (string, error) {
	var def *string
	if err := tx.Raw("SELECT pg_get_indexdef(to_regclass(?))", name).Scan(&def).Error; err != nil {
		return "", err
	}
	if def == nil {
		return "", nil
	}
	return *def, nil
}

func execAll(tx *gorm.DB, steps []string) error {
	for _, q := range steps {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
