package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Sentinel errors the store returns; the web and API layers map them to
// status codes in one place.
var (
	// ErrNotFound means the row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique key or a concurrent change got in the way.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable means the database could not take the request now
	// (locked, down); the caller may try again later.
	ErrUnavailable = errors.New("database unavailable")
	// ErrSchemaOutdated means migrations are pending.
	ErrSchemaOutdated = errors.New("database schema is out of date: run `apptconfirm migrate`")
)

// Driver names.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Options configure Open.
type Options struct {
	Driver       string
	DSN          string
	MaxOpenConns int
	// SQLiteSynchronous is SQLite's synchronous setting: SyncNormal (the
	// default when empty) or SyncFull. PostgreSQL ignores it.
	SQLiteSynchronous string
	// Logger receives GORM's logs; nil silences them.
	Logger logger.Interface
	// Events receives the domain events of each transaction: Stage inside
	// it, before the commit, and Committed once it has committed. nil
	// drops them after they are stored.
	Events EventSink
}

// Store is the application's storage layer: every query and write of
// apptconfirm goes through its methods, one file per table. It is safe for
// concurrent use. A transaction travels in the context (see Tx): a method
// called with a context inside Tx joins that transaction, and one called
// outside runs on its own.
type Store struct {
	db *gorm.DB
	// wdb is where SQLite writes go (Tx, write, the webhook insert): one
	// connection of its own, used only by the holder of the writer's turn.
	// In WAL mode a connection drops its whole page cache whenever another
	// connection has committed, so with writes spread over the pool every
	// transaction read its pages again from the file; on one connection
	// the writers keep each other's pages. The same as db on PostgreSQL.
	wdb    *gorm.DB
	driver string
	// writer is the turn to write on SQLite (a semaphore of one); nil on
	// PostgreSQL.
	writer chan struct{}
	// events receives the domain events of every committed transaction;
	// nil drops them.
	events EventSink
	// webhookInsert is the prepared insert of webhook events (SQLite).
	webhookInsert *preparedWebhookInsert
	// stopCheckpoints ends the background checkpoints of SQLite, and
	// checkpointsDone is closed when they have ended; nil on PostgreSQL.
	stopCheckpoints chan struct{}
	checkpointsDone chan struct{}
	stopOnce        *sync.Once
	// maxIdle is the pool's idle-connection limit (see forgetSchema).
	maxIdle int
	// walPath is SQLite's write-ahead log file, and lastLogPages the log's
	// length at the last background checkpoint (see checkpoint).
	walPath      string
	lastLogPages atomic.Int64
}

// SQLite synchronous settings (Options.SQLiteSynchronous). In WAL mode,
// NORMAL syncs the log only at checkpoints: a commit survives the process
// crashing, but the last commits before a power cut or an operating-system
// crash may be lost. FULL syncs the log at every commit, so a commit also
// survives those, for some throughput (BENCHMARKS.md, P1 Durability).
const (
	SyncNormal = "normal"
	SyncFull   = "full"
)

// busyTimeout is how long a SQLite connection waits for a lock (set in
// SQLiteDSN).
const busyTimeout = 10 * time.Second

// writerWait bounds how long a transaction waits for its turn to write,
// as SQLite's busy timeout bounds a wait for its lock.
const writerWait = busyTimeout

// Open connects to the database. SQLite connections are configured in the
// DSN so that every connection of the pool runs with WAL, foreign keys, a
// busy timeout and immediate write transactions.
func Open(opts Options) (*Store, error) {
	var dialector gorm.Dialector
	var synchronous string
	maxOpen := opts.MaxOpenConns
	switch opts.Driver {
	case DriverSQLite, "":
		synchronous = opts.SQLiteSynchronous
		switch synchronous {
		case "":
			synchronous = SyncNormal
		case SyncNormal, SyncFull:
		default:
			return nil, fmt.Errorf("store: unknown SQLite synchronous setting %q (want %q or %q)", synchronous, SyncNormal, SyncFull)
		}
		dialector = sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: sqliteDSN(opts.DSN, synchronous)})
		if maxOpen == 0 {
			maxOpen = 8
		}
	case DriverPostgres:
		dialector = postgres.Open(opts.DSN)
		if maxOpen == 0 {
			maxOpen = 20
		}
	default:
		return nil, fmt.Errorf("store: unknown driver %q", opts.Driver)
	}
	lg := opts.Logger
	if lg == nil {
		lg = logger.Discard
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:         lg,
		TranslateError: true,
		NowFunc:        func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	})
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if err := registerHeldGuard(db); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: ping: %w", err)
	}
	driver := opts.Driver
	if driver == "" {
		driver = DriverSQLite
	}
	st := &Store{db: db, wdb: db, driver: driver, events: opts.Events, webhookInsert: &preparedWebhookInsert{}, maxIdle: maxOpen}
	if driver == DriverSQLite {
		if st.wdb, err = writerDB(db, sqliteDSN(opts.DSN, synchronous)); err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("store: open: %w", err)
		}
		st.writer = make(chan struct{}, 1)
		st.walPath = logPath(db)
		st.stopCheckpoints, st.checkpointsDone = make(chan struct{}), make(chan struct{})
		st.stopOnce = new(sync.Once)
		go st.checkpoints(st.stopCheckpoints, st.checkpointsDone)
	}
	return st, nil
}

// SQLiteDSN turns a file path (or a file: URI) into a DSN for
// mattn/go-sqlite3 that sets the connection pragmas apptconfirm relies on,
// with synchronous=NORMAL (the default of Open).
//
// A plain path is made into a file: URI with its special characters
// percent-encoded, so that a '#', '?' or '%' in a directory or file name
// stays part of the name instead of starting a fragment or a query. A
// value that already starts with "file:" is taken as a URI, as written.
func SQLiteDSN(path string) string { return sqliteDSN(path, SyncNormal) }

func sqliteDSN(path, synchronous string) string {
	params := url.Values{}
	params.Set("_journal_mode", "WAL")
	params.Set("_foreign_keys", "on")
	params.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	params.Set("_txlock", "immediate")
	params.Set("_synchronous", strings.ToUpper(synchronous))
	dsn := path
	if !strings.HasPrefix(dsn, "file:") {
		dsn = sqliteFileURI(path)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + params.Encode()
}

// sqliteFileURI returns the file: URI of a plain path, with every
// character URI syntax would read (space, '#', '?', '%') escaped. SQLite
// decodes %XX in the path of a URI filename.
func sqliteFileURI(path string) string {
	u := url.URL{Scheme: "file", OmitHost: true, Path: path}
	return u.String()
}

// Driver returns the database driver name ("sqlite" or "postgres").
func (s *Store) Driver() string { return s.driver }

// DB returns the GORM handle for ctx: the transaction ctx carries (see Tx),
// or the pool. Only migrations and tests reach for it; everything else uses
// the Store's methods.
func (s *Store) DB(ctx context.Context) *gorm.DB { return s.conn(ctx) }

// Close stops the background checkpoints (after a last one) and closes the
// connection pool.
func (s *Store) Close() error {
	if s.stopOnce != nil {
		s.stopOnce.Do(func() { close(s.stopCheckpoints) })
		<-s.checkpointsDone
	}
	if s.wdb != s.db {
		if w, err := s.wdb.DB(); err == nil {
			_ = w.Close()
		}
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// writerCacheKiB is the page cache of SQLite's writer connection (KiB): it
// holds the pages writers come back to (the tails of the tables, the
// inner pages of their indexes, the appointments and messages being
// answered about) and, being one connection's, bounds the memory it takes.
const writerCacheKiB = 16 << 10

// writerDB returns a GORM handle sharing db's configuration and callbacks
// whose statements run on a pool of one connection of their own to the
// SQLite database dsn names, with a larger page cache.
func writerDB(db *gorm.DB, dsn string) (*gorm.DB, error) {
	w, err := sql.Open(sqliteDriver, dsn+"&_cache_size="+strconv.Itoa(-writerCacheKiB))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, err
	}
	// A session with a context has a statement of its own, whose pool can
	// be swapped without touching db's.
	wdb := db.Session(&gorm.Session{NewDB: true, Context: context.Background()})
	wdb.Statement.ConnPool = w
	return wdb, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// WriterTurn waits for this process's turn to write and returns the
// function that ends it. SQLite takes one writer at a time, and a
// transaction that finds the database locked polls for it with sleeps that
// grow to 100 ms, leaving the CPU idle long after the lock is free; taking
// turns in the process first hands the lock straight from one transaction
// to the next. Tx takes the turn itself. On PostgreSQL, inside a Tx and
// under HoldWriterTurn, it returns at once. It fails with ErrUnavailable
// when the turn does not come within 10 s (as SQLite's busy timeout would)
// or ctx ends first.
func (s *Store) WriterTurn(ctx context.Context) (release func(), err error) {
	if s.writer == nil || s.txOf(ctx) != nil || s.holdsTurn(ctx) {
		return func() {}, nil
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	default:
	}
	t := time.NewTimer(writerWait)
	defer t.Stop()
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for the turn to write: %w", ErrUnavailable, ctx.Err())
	case <-t.C:
		return nil, fmt.Errorf("%w: no turn to write within %s", ErrUnavailable, writerWait)
	}
}

// PostgreSQL's SQLSTATEs for a unique violation, and for a transaction
// chosen to end so that others can go on (a deadlock, a serialization
// failure: see Retryable).
const (
	pgUniqueViolation     = "23505"
	pgDeadlock            = "40P01"
	pgSerializationFailed = "40001"
)

// Retryable reports whether err ended a transaction (or a savepoint's
// work) that PostgreSQL chose to abort so that others could go on, a
// deadlock or a serialization failure: nothing is wrong with the work,
// and trying it again in a new transaction normally succeeds. It is kept
// apart from ErrConflict, which callers read as "the row changed".
func Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == pgDeadlock || pe.Code == pgSerializationFailed)
}

// Classify maps driver errors onto the store's sentinels, keeping the
// original in the chain.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrUnavailable) {
		return err
	}
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrIoErr, sqlite3.ErrFull, sqlite3.ErrCantOpen, sqlite3.ErrReadonly:
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		case sqlite3.ErrConstraint:
			if se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey {
				return fmt.Errorf("%w: %w", ErrConflict, err)
			}
		}
	}
	// Statements run past GORM get no translation from it: a PostgreSQL
	// unique violation is a conflict as GORM's would be.
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == pgUniqueViolation {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "database is locked") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "sql: database is closed") || strings.Contains(msg, "failed to connect") ||
		strings.Contains(msg, "bad connection") {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
