package models

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openMigrated opens a migrated SQLite store in the file name of the
// test's own directory, closed when the test ends, and returns its path.
func openMigrated(ctx context.Context, t *testing.T, name string) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	s, err := Open(Options{Driver: DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// beginReader opens a connection of s's pool holding a read transaction
// whose snapshot is the database as it is now; the caller commits it.
func beginReader(ctx context.Context, t *testing.T, s *Store) *sql.Conn {
	t.Helper()
	sqlDB, err := s.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	reader, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reader.Close() })
	if _, err := reader.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM settings").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return reader
}

// A background checkpoint that must restart an oversized log gives up soon
// when a reader holds old frames, instead of keeping the writers' turn for
// SQLite's whole busy timeout; once the reader is gone, it restarts the log:
// the next commit writes at the start of the same file, which keeps its
// size. A full checkpoint empties the file.
func TestOversizedLogCheckpoint(t *testing.T) {
	ctx := context.Background()
	s, path := openMigrated(ctx, t, "big.db")

	sqlDB, err := s.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	reader := beginReader(ctx, t, s)
	// A write after the reader's snapshot: the log now has frames the
	// reader may still need.
	if err := s.DB(ctx).Create(&Setting{Key: "k", Value: "v"}).Error; err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = s.checkpoint(ctx, false, 1, walSizeLimit) // as if the log were oversized
	if took := time.Since(start); took >= busyTimeout/2 {
		t.Fatalf("the checkpoint held the writers' turn for %s behind a reader", took)
	}
	release, err := s.WriterTurn(ctx)
	if err != nil {
		t.Fatalf("the writers' turn is still held: %v", err)
	}
	release()
	if _, err := reader.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := s.DB(ctx).Create(&Setting{Key: fmt.Sprint("grow", i), Value: "v"}).Error; err != nil {
			t.Fatal(err)
		}
	}
	before, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.checkpoint(ctx, false, 1, walSizeLimit); err != nil {
		t.Fatal(err)
	}
	if err := s.DB(ctx).Create(&Setting{Key: "after", Value: "v"}).Error; err != nil {
		t.Fatal(err)
	}
	var busy, logPages, done int
	if err := s.db.Raw("PRAGMA wal_checkpoint(PASSIVE)").Row().Scan(&busy, &logPages, &done); err != nil {
		t.Fatal(err)
	}
	if logPages > 5 {
		t.Fatalf("the log was not restarted: %d pages after one write", logPages)
	}
	// Restarted, not emptied: the file keeps its size, and the write went
	// over its first pages. (The store's own background checkpoint may
	// still hold the log for a moment when that write comes, so that it
	// lands after the old frames and the restart follows: a frame or two
	// more, never fewer.)
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() < before.Size() || fi.Size() > before.Size()+4*(4096+24) {
		t.Fatalf("log file after the restart: %v, %v (was %d bytes)", fi, err, before.Size())
	}
	if err := s.Checkpoint(ctx, true); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 {
		t.Fatalf("log after a full checkpoint: %v, %v", fi, err)
	}
	// Every connection of the pool waits for locks as long as before.
	for range 4 {
		c, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ms int64
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
		if ms != busyTimeout.Milliseconds() {
			t.Fatalf("a pooled connection has busy_timeout %d ms", ms)
		}
	}
}

// After a burst the log file keeps the size the burst gave it while the
// writes go on: no connection cuts it back in the commit that starts the
// log over. Once the log is fully copied and short, or has not changed
// since the last checkpoint, a background checkpoint empties the file,
// without waiting for a reader that still uses it.
func TestLogFileEmptiedWhenWritesAreLight(t *testing.T) {
	ctx := context.Background()
	s, path := openMigrated(ctx, t, "shrink.db")
	// The store's own background checkpoints would race with the ones
	// below (SQLite answers busy to a second checkpointer).
	s.stopOnce.Do(func() { close(s.stopCheckpoints) })
	<-s.checkpointsDone
	s.lastLogPages.Store(-1)

	var sizeLimit int64
	if err := s.db.Raw("PRAGMA journal_size_limit").Row().Scan(&sizeLimit); err != nil || sizeLimit != -1 {
		t.Fatalf("journal_size_limit %d (%v): a writer would cut the log file back mid-commit", sizeLimit, err)
	}
	walSize := func() int64 {
		t.Helper()
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	const limit = 64 << 10
	value := string(make([]byte, 1000))
	writeBurst := func(name string) {
		t.Helper()
		for i := range shrinkPages + 50 {
			if err := s.DB(ctx).Create(&Setting{Key: fmt.Sprint(name, i), Value: value}).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	writeBurst("burst")
	burst := walSize()
	if burst <= limit {
		t.Fatalf("the burst left a log of %d bytes, want more than %d", burst, limit)
	}
	// Fully copied but long: the writes are not light yet.
	if err := s.checkpoint(ctx, false, walRestartPages, limit); err != nil {
		t.Fatal(err)
	}
	if got := walSize(); got != burst {
		t.Fatalf("log file %d bytes after a checkpoint of a long log, want it kept at %d", got, burst)
	}
	// The next writer starts the log over in the same file.
	if err := s.DB(ctx).Create(&Setting{Key: "light", Value: "v"}).Error; err != nil {
		t.Fatal(err)
	}
	if got := walSize(); got != burst {
		t.Fatalf("log file %d bytes after the log was started over, want it kept at %d", got, burst)
	}
	if err := s.checkpoint(ctx, false, walRestartPages, limit); err != nil {
		t.Fatal(err)
	}
	if got := walSize(); got != 0 {
		t.Fatalf("log file %d bytes after a light write, want it emptied", got)
	}
	if err := s.DB(ctx).Create(&Setting{Key: "after", Value: "v"}).Error; err != nil {
		t.Fatal(err)
	}
	var v string
	if err := s.db.Raw("SELECT value FROM settings WHERE key = ?", "light").Row().Scan(&v); err != nil || v != "v" {
		t.Fatalf("a write before the log was emptied: %q, %v", v, err)
	}

	// A second burst, then no writes at all: the first checkpoint after it
	// sees a long log, the next one the same log again. A reader whose
	// snapshot is in the log (it began before the log was copied) keeps
	// it, and is not waited for.
	writeBurst("again")
	burst = walSize()
	reader := beginReader(ctx, t, s)
	if err := s.checkpoint(ctx, false, walRestartPages, limit); err != nil {
		t.Fatal(err)
	}
	if got := walSize(); got != burst {
		t.Fatalf("log file %d bytes right after the second burst, want it kept at %d", got, burst)
	}
	start := time.Now()
	if err := s.checkpoint(ctx, false, walRestartPages, limit); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= truncateWait {
		t.Fatalf("emptying the log waited %s for a reader", took)
	}
	if got := walSize(); got != burst {
		t.Fatalf("log file %d bytes while a reader used it, want it kept at %d", got, burst)
	}
	if _, err := reader.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := s.checkpoint(ctx, false, walRestartPages, limit); err != nil {
		t.Fatal(err)
	}
	if got := walSize(); got != 0 {
		t.Fatalf("log file %d bytes once the writes stopped, want it emptied", got)
	}
}
