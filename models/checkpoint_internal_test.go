package models

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A background checkpoint that must restart an oversized log gives up soon
// when a reader holds old frames, instead of keeping the writers' turn for
// SQLite's whole busy timeout; once the reader is gone, it restarts the log:
// the next commit writes at the start of the same file, which keeps its
// size. A full checkpoint empties the file.
func TestOversizedLogCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "big.db")
	s, err := Open(Options{Driver: DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	sqlDB, err := s.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	reader, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, err := reader.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM settings").Scan(&n); err != nil {
		t.Fatal(err)
	}
	// A write after the reader's snapshot: the log now has frames the
	// reader may still need.
	if err := s.DB(ctx).Create(&Setting{Key: "k", Value: "v"}).Error; err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = s.checkpoint(ctx, false, 1) // as if the log were oversized
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
	if err := s.checkpoint(ctx, false, 1); err != nil {
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
