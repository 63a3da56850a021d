package models

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Errors of Backup and Restore.
var (
	// ErrUsePgDump is returned by Backup on PostgreSQL, whose own tools
	// take a consistent copy of a live database.
	ErrUsePgDump = errors.New("the database is PostgreSQL: back it up with pg_dump (and put a copy back with pg_restore)")
	// ErrNotApptconfirm means a file to restore is not an apptconfirm
	// SQLite database.
	ErrNotApptconfirm = errors.New("not an apptconfirm database")
	// ErrUnknownSchema means a file to restore has a schema version this
	// build does not know (a newer one).
	ErrUnknownSchema = errors.New("unknown schema version")
	// ErrDatabaseInUse means the database to restore over is open in a
	// running process (a server).
	ErrDatabaseInUse = errors.New("the database is in use: stop the server first")
)

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// coreTables are tables every apptconfirm schema has; with the migration
// table they tell an apptconfirm database from another SQLite file.
var coreTables = []string{"schema_migrations", "users", "patients", "appointments", "messages"}

// inUseWait is how long Restore waits for the lock on the database it
// replaces before it decides that a server holds it.
const inUseWait = 200 * time.Millisecond

// BackupOptions configure Backup.
type BackupOptions struct {
	// Overwrite replaces a file already at the destination (atomically:
	// until the copy is complete, the old file stays). Without it Backup
	// refuses an existing file with an error wrapping fs.ErrExist.
	Overwrite bool
}

// Backup writes a consistent copy of the live SQLite database to path,
// while the application keeps reading and writing.
//
// It uses VACUUM INTO: one statement that reads the database in a single
// read transaction (a snapshot, so the copy holds exactly what was
// committed when it began and nothing written after) and writes a new,
// compact database file without a write-ahead log, which is itself a
// database SQLite can open. In WAL mode a reader does not block writers, so
// the server keeps working. SQLite's online backup API would copy pages
// instead, but restarts whenever another connection writes in between its
// steps, or, copying in one step, holds the same read transaction anyway;
// VACUUM INTO needs no driver-level connection and gives a defragmented
// file.
//
// The copy is written to a temporary file in path's directory, synced,
// then moved into place, so that path never holds a partial copy. On
// PostgreSQL Backup returns ErrUsePgDump. Call it on the Store Open
// returned, not inside Tx: SQLite cannot vacuum within a transaction.
func (s *Store) Backup(ctx context.Context, path string, opts BackupOptions) error {
	if s.driver != DriverSQLite {
		return fmt.Errorf("store: backup: %w", ErrUsePgDump)
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if !opts.Overwrite {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("store: backup: %s: %w", path, fs.ErrExist)
		}
	}
	// VACUUM INTO writes into a file that does not exist or is empty;
	// CreateTemp makes an empty one only this process uses (mode 0600: the
	// copy holds patients' data).
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".backup-*")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	tmpPath := tmp.Name()
	_ = tmp.Close()
	done := false
	defer func() {
		if !done {
			_ = os.Remove(tmpPath)
		}
	}()
	if err := s.db.WithContext(ctx).Exec("VACUUM INTO ?", tmpPath).Error; err != nil {
		return fmt.Errorf("store: backup: %w", Classify(err))
	}
	if err := syncFile(tmpPath); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := install(tmpPath, path, opts.Overwrite); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	done = true
	return nil
}

// Restore replaces the SQLite database at to with the copy at from (a file
// Backup wrote). No server may run on to: Restore is a function of the
// package, not of a Store, because nothing else may have to open.
//
// It refuses, leaving to untouched:
//
//   - a from that is not an apptconfirm SQLite database (ErrNotApptconfirm),
//     that fails SQLite's integrity check, or that has a write-ahead log
//     or its index beside it (it may be a live database, not a copy);
//   - a from whose schema is newer than this build (ErrUnknownSchema); an
//     older one is fine, `apptconfirm migrate` brings it up to date;
//   - a to that a running process has open (ErrDatabaseInUse), or that
//     exists and is not a SQLite database.
//
// A server keeps its database open with every connection in WAL mode, and
// each such connection holds a shared lock on the file. Restore opens to
// in exclusive locking mode and takes it out of WAL mode, which SQLite
// allows only when no other connection, in any process, has it open; then
// it holds that exclusive lock until the copy is in place. (A process that
// opens to in rollback mode and holds no transaction cannot be seen; the
// application never does that. A server started while Restore runs waits
// for the lock, then finds the old file gone from under it: start servers
// after Restore returns.)
//
// The copy is checked and written to a temporary file in to's directory,
// synced, and renamed over to, after removing to's stale -wal, -shm and
// -journal files, which SQLite would otherwise apply to the new file.
func Restore(ctx context.Context, from, to string) error {
	from, err := filepath.Abs(from)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	to, err = filepath.Abs(to)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	if err := checkBackupFile(from, to); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	tmpPath, err := copyToTemp(ctx, from, to)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = os.Remove(tmpPath)
			removeSidecars(tmpPath)
		}
	}()
	if err := checkCopy(ctx, tmpPath, from); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	if err := syncFile(tmpPath); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}

	unlock, err := lockUnused(ctx, to)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	defer unlock()
	if info, err := os.Stat(to); err == nil {
		// Keep the permissions the operator gave the database.
		_ = os.Chmod(tmpPath, info.Mode().Perm())
	}
	removeSidecars(to)
	if err := install(tmpPath, to, true); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	done = true
	return nil
}

// checkBackupFile refuses a from that is to itself, is not a SQLite file or
// has a write-ahead log or its index beside it.
func checkBackupFile(from, to string) error {
	f, err := os.Open(from)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteMagic) {
		return fmt.Errorf("%s: %w (not a SQLite database)", from, ErrNotApptconfirm)
	}
	if fi, err := f.Stat(); err == nil {
		if ti, err := os.Stat(to); err == nil && os.SameFile(fi, ti) {
			return fmt.Errorf("%s is the database to restore over", from)
		}
	}
	// SQLite removes both when the last connection closes cleanly.
	for _, sidecar := range []string{"-wal", "-shm"} {
		if _, err := os.Lstat(from + sidecar); err == nil {
			return fmt.Errorf("%s has %s beside it: it is open somewhere, or was not closed cleanly; restore a copy made by backup", from, filepath.Base(from+sidecar))
		}
	}
	return nil
}

// copyToTemp copies from into a new temporary file in to's directory and
// returns its path.
func copyToTemp(ctx context.Context, from, to string) (string, error) {
	src, err := os.Open(from)
	if err != nil {
		return "", err
	}
	defer func() { _ = src.Close() }()
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".restore-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(tmp, ctxReader{ctx, src})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// checkCopy checks that the SQLite file at path (a copy of from) is sound,
// is an apptconfirm database of a schema version this build knows, and
// leaves it in rollback mode, a single file with nothing beside it.
func checkCopy(ctx context.Context, path, from string) error {
	db, err := openRaw(path, 0)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	// One connection: the journal mode is changed on the one that checks.
	db.SetMaxOpenConns(1)

	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		if isSQLiteCode(err, sqlite3.ErrNotADB) {
			return fmt.Errorf("%s: %w (not a SQLite database)", from, ErrNotApptconfirm)
		}
		return fmt.Errorf("%s: integrity check: %w", from, err)
	}
	if result != "ok" {
		return fmt.Errorf("%s fails SQLite's integrity check: %s", from, result)
	}
	var missing []string
	for _, table := range coreTables {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		if n == 0 {
			missing = append(missing, table)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: %w (no table %s)", from, ErrNotApptconfirm, strings.Join(missing, ", "))
	}
	version, err := backupVersion(ctx, db)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	if latest := LatestVersion(); version > latest {
		return fmt.Errorf("%s: %w: the copy is at version %d, this build knows up to %d; restore it with a newer apptconfirm",
			from, ErrUnknownSchema, version, latest)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = DELETE").Scan(&mode); err != nil {
		return fmt.Errorf("%s: journal mode: %w", from, err)
	}
	return nil
}

// backupVersion returns the schema version recorded in an apptconfirm
// database: migrations are applied in order, so the versions present must
// be those of this build's migrations, in order, from the first (a newer
// build's versions may follow them).
func backupVersion(ctx context.Context, db *sql.DB) (int, error) {
	rows, err := db.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return 0, fmt.Errorf("%w (unreadable schema_migrations: %w)", ErrNotApptconfirm, err)
	}
	defer func() { _ = rows.Close() }()
	n, last := 0, 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return 0, fmt.Errorf("%w (unreadable schema_migrations: %w)", ErrNotApptconfirm, err)
		}
		if n < len(migrations) && v != migrations[n].version {
			return 0, fmt.Errorf("%w (schema_migrations has version %d where %d belongs)", ErrNotApptconfirm, v, migrations[n].version)
		}
		n, last = n+1, v
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%w (unreadable schema_migrations: %w)", ErrNotApptconfirm, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("%w (no migration recorded)", ErrNotApptconfirm)
	}
	return last, nil
}

// lockUnused takes an exclusive lock on the SQLite database at path, if
// there is one, and returns the function that releases it. It fails with
// ErrDatabaseInUse when another connection has the database open.
func lockUnused(ctx context.Context, path string) (unlock func(), err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	db, err := openRaw(path, inUseWait)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return nil, lockError(path, err)
	}
	release := func() {
		_ = conn.Close()
		_ = db.Close()
	}
	// In exclusive locking mode a lock, once taken, is kept until the
	// connection closes. Leaving WAL mode needs every other connection
	// gone; BEGIN EXCLUSIVE then takes the lock whatever the mode was.
	for _, stmt := range []string{"PRAGMA locking_mode = EXCLUSIVE", "PRAGMA journal_mode = DELETE", "BEGIN EXCLUSIVE", "COMMIT"} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			release()
			return nil, lockError(path, err)
		}
	}
	return release, nil
}

// lockError explains why the database at path could not be locked.
func lockError(path string, err error) error {
	switch {
	case isSQLiteCode(err, sqlite3.ErrBusy), isSQLiteCode(err, sqlite3.ErrLocked):
		return fmt.Errorf("%s: %w", path, ErrDatabaseInUse)
	case isSQLiteCode(err, sqlite3.ErrNotADB):
		return fmt.Errorf("%s exists and is not a SQLite database: move it away first", path)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// openRaw opens the existing SQLite file at path with the plain driver:
// none of the application's connection settings, and a busy timeout of
// busy. The path goes in as a URI with its special characters escaped.
func openRaw(path string, busy time.Duration) (*sql.DB, error) {
	q := url.Values{}
	q.Set("mode", "rw")
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	u := url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}
	return sql.Open("sqlite3", u.String())
}

// isSQLiteCode reports whether err is a SQLite error with the given code.
func isSQLiteCode(err error, code sqlite3.ErrNo) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == code
}

// install moves the finished file tmp to path. With replace it renames
// over whatever is there; without, it links tmp to path, which fails if
// path exists (even if it appeared after the first check), and removes tmp.
// Either way path holds the old file or the whole new one, never a part.
// The directory is synced so that the new name survives a crash.
func install(tmp, path string, replace bool) error {
	if replace {
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	} else {
		err := os.Link(tmp, path)
		switch {
		case errors.Is(err, fs.ErrExist):
			return fmt.Errorf("%s: %w", path, fs.ErrExist)
		case err != nil:
			// No hard links here (some network and FAT file systems):
			// check, then rename, leaving a short window for a race.
			if _, serr := os.Lstat(path); serr == nil {
				return fmt.Errorf("%s: %w", path, fs.ErrExist)
			}
			if err := os.Rename(tmp, path); err != nil {
				return err
			}
		default:
			_ = os.Remove(tmp)
		}
	}
	return syncDir(filepath.Dir(path))
}

// removeSidecars removes the -wal, -shm and -journal files of the database
// at path.
func removeSidecars(path string) {
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		_ = os.Remove(path + suffix)
	}
}

// syncFile flushes the file at path to stable storage.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir flushes a directory, so that a rename or link in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
