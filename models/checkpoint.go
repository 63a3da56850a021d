package models

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// SQLite's write-ahead log is copied back into the database file by a
// checkpoint. SQLite runs one inside the commit that takes the log past
// 1000 pages, and that commit then waits for the copy and two fsyncs: under
// a burst of webhooks, with index pages rewritten commit after commit, the
// writer spent much of its time there. apptconfirm's connections turn that
// off, and the Store checkpoints in the background instead, without
// blocking readers or writers (PASSIVE).
//
// Under a steady stream of writes a passive checkpoint never finds the log
// fully copied with no writer about to add to it, so the log only grows. Once
// it passes walRestartPages the background checkpoint takes the writers'
// turn and restarts the log (RESTART): the next commit writes from the start
// of the same file again, over pages the operating system already holds.
// Emptying the file instead (TRUNCATE) made every later commit write into
// new file space, which on ext4 costs a block reservation and a zeroed page
// cache page per log page: about a quarter of the CPU time of storing a
// webhook.
//
// Under a flood the background copy falls behind, and the log file grows
// to hundreds of megabytes between restarts. The connections set no
// journal_size_limit, because SQLite applies one in the commit that starts
// the log over: cutting the file back there stalled every writer for tens
// of milliseconds, and the file then grew again into new space. The
// background checkpoint empties an oversized file instead, once the writes
// are light or have stopped (see shrinkPages); that costs the writers one
// such stall per burst, at a quiet moment.
const (
	// sqliteDriver is mattn/go-sqlite3 with the connection settings the DSN
	// cannot carry.
	sqliteDriver = "sqlite3_apptconfirm"
	// checkpointEvery is how often the background checkpoint runs.
	checkpointEvery = 250 * time.Millisecond
	// walRestartPages is the log's size (in pages, 4 KiB each) past which the
	// background checkpoint also waits for the writers and restarts the log,
	// should passive checkpoints never catch up.
	walRestartPages = 16384
	// truncateWait bounds how long a background checkpoint that restarts the
	// log waits for readers, holding the writers' turn.
	truncateWait = 200 * time.Millisecond
	// walSizeLimit is the log file's size (bytes) past which a background
	// checkpoint empties it once the writes are light, so that a burst does
	// not leave a large file behind.
	walSizeLimit = 128 << 20
	// shrinkPages is how few pages a fully copied log holds for the writes
	// to count as light (under a flood a log gains thousands of pages
	// between two background checkpoints); a fully copied log that has not
	// changed since the last one counts too: the writes have stopped.
	shrinkPages = 256
)

func init() {
	sql.Register(sqliteDriver, cachingDriver{&sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil)
			return err
		},
	}})
}

// checkpoints runs background checkpoints until stop is closed, then a last
// one that empties the log.
func (s *Store) checkpoints(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			_ = s.Checkpoint(context.Background(), true)
			return
		case <-tick.C:
			_ = s.Checkpoint(context.Background(), false)
		}
	}
}

// Checkpoint copies SQLite's write-ahead log into the database file. A
// passive checkpoint copies what it can without waiting for anyone; when
// the log has grown past walRestartPages it takes the writers' turn and
// restarts the log, and when full is true, or the log is fully copied and
// short (or unchanged since the last round) while its file has grown past
// walSizeLimit, it empties the log file. On PostgreSQL it does nothing.
//
// Restarting or emptying the log must also wait for readers of its older
// frames. In the background (full false) that wait is cut to truncateWait
// for a restart, and to nothing for emptying the file, so that a long read
// cannot keep the writers' turn held for SQLite's whole busy timeout; the
// next round tries again.
func (s *Store) Checkpoint(ctx context.Context, full bool) error {
	return s.checkpoint(ctx, full, walRestartPages, walSizeLimit)
}

// checkpoint is Checkpoint with the log size (pages) past which a passive
// checkpoint restarts the log, and the log file's size (bytes) past which
// one empties it when the writes are light.
func (s *Store) checkpoint(ctx context.Context, full bool, restartPages int, sizeLimit int64) error {
	if s.driver != DriverSQLite {
		return nil
	}
	db := s.db.WithContext(ctx)
	mode := "RESTART" // what a background checkpoint goes on with
	if !full {
		var busy, logPages, done int
		if err := db.Raw("PRAGMA wal_checkpoint(PASSIVE)").Row().Scan(&busy, &logPages, &done); err != nil {
			return Classify(err)
		}
		// Another connection is checkpointing (SQLite answers at once, with
		// -1 pages), or the database is not in WAL mode.
		if busy != 0 || logPages < 0 {
			return nil
		}
		last := s.lastLogPages.Swap(int64(logPages))
		switch {
		case done == logPages && (logPages <= shrinkPages || int64(logPages) == last):
			if !s.walOversized(sizeLimit) {
				return nil
			}
			mode = "TRUNCATE"
		case logPages < restartPages || done == logPages:
			// A log copied whole is started over by the next writer itself.
			return nil
		}
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	release, err := s.WriterTurn(ctx)
	if err != nil {
		return err
	}
	defer release()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return Classify(err)
	}
	defer func() { _ = conn.Close() }()
	if !full {
		// The connection goes back to the pool: its usual busy timeout is
		// restored whatever happens to the checkpoint. Emptying the file
		// does not wait for readers at all: it is only tidying, and the
		// next round tries again.
		wait := truncateWait
		if mode == "TRUNCATE" {
			wait = 0
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", wait.Milliseconds())); err != nil {
			return Classify(err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx),
				fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds()))
		}()
		_, err = conn.ExecContext(ctx, "PRAGMA wal_checkpoint("+mode+")")
		return Classify(err)
	}
	// SQLite answers busy, without waiting, while another connection
	// checkpoints (the background passive one takes no writer's turn), and
	// after the busy timeout while a reader still needs the old frames: a
	// full checkpoint tries again, for as long as that timeout, until the
	// log is emptied.
	deadline := time.Now().Add(busyTimeout)
	for {
		var busy, logPages, done int
		if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done); err != nil {
			return Classify(err)
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: the log stayed in use for %s", ErrUnavailable, busyTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// walOversized reports whether the log file has grown past limit bytes;
// false when its size cannot be read (an in-memory database, say).
func (s *Store) walOversized(limit int64) bool {
	if s.walPath == "" {
		return false
	}
	fi, err := os.Stat(s.walPath)
	return err == nil && fi.Size() > limit
}

// logPath returns the path of db's write-ahead log file, or "" for a
// database without a file.
func logPath(db *gorm.DB) string {
	var seq int
	var name, file string
	if err := db.Raw("PRAGMA database_list").Row().Scan(&seq, &name, &file); err != nil || file == "" {
		return ""
	}
	return file + "-wal"
}
