// Package storetest gives tests a fresh, migrated database: a real SQLite
// file in the test's temp dir, or a schema of its own on the PostgreSQL
// server named by APPTCONFIRM_TEST_POSTGRES_DSN.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for schema setup

	"apptconfirm/models"
)

// DefaultPostgresDSN is where tests look for PostgreSQL when
// APPTCONFIRM_TEST_POSTGRES_DSN is unset.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// SQLite opens a migrated SQLite database in a new file under t.TempDir().
func SQLite(t testing.TB) *models.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	return open(t, models.Options{Driver: models.DriverSQLite, DSN: path})
}

// SQLitePath is SQLite, also returning the file's path (for tests that start
// a second process on the same database).
func SQLitePath(t testing.TB) (*models.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	return open(t, models.Options{Driver: models.DriverSQLite, DSN: path}), path
}

// PostgresDSN creates an empty schema of its own on the test PostgreSQL server
// and returns a DSN whose search_path points at it; the schema is dropped when
// the test ends. Without a reachable server the test is skipped, or fails when
// APPTCONFIRM_TEST_REQUIRE_POSTGRES=1 (as in CI).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("APPTCONFIRM_TEST_POSTGRES_DSN")
	if base == "" {
		base = DefaultPostgresDSN
	}
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(context.Background())
	}
	if err != nil {
		if os.Getenv("APPTCONFIRM_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL required (APPTCONFIRM_TEST_REQUIRE_POSTGRES=1) but not reachable at %s: %v", base, err)
		}
		t.Skipf("SKIPPING PostgreSQL test: server not reachable at %s: %v", base, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		_ = admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse dsn: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres opens a migrated store on a fresh schema (see PostgresDSN).
func Postgres(t testing.TB) *models.Store {
	t.Helper()
	return open(t, models.Options{Driver: models.DriverPostgres, DSN: PostgresDSN(t)})
}

// Each runs fn once per database: SQLite always, PostgreSQL when reachable.
func Each(t *testing.T, fn func(t *testing.T, s *models.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

func open(t testing.TB, opts models.Options) *models.Store {
	t.Helper()
	sink := &Events{}
	opts.Events = sink
	s, err := models.Open(opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	sinks.Store(s, sink)
	t.Cleanup(func() {
		sinks.Delete(s)
		_ = s.Close()
	})
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// sinks maps each store this package opened to its event sink.
var sinks sync.Map

// EventsOf returns the event sink of a store this package opened; for any
// other store it returns a sink attached to nothing, which never sees an
// event.
func EventsOf(s *models.Store) *Events {
	v, ok := sinks.Load(s)
	if !ok {
		return &Events{}
	}
	return v.(*Events)
}

// Events is the domain-event sink of a test store: it keeps every event of
// every committed transaction, and hands them on to the sink a test
// attaches with Forward (the app's fan-out, to see live events and kicks).
type Events struct {
	mu        sync.Mutex
	committed []models.Event
	next      models.EventSink
}

// Forward hands the events of later transactions to next as well.
func (e *Events) Forward(next models.EventSink) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.next = next
}

// All returns the events of every committed transaction so far.
func (e *Events) All() []models.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]models.Event(nil), e.committed...)
}

// Stage implements models.EventSink.
func (e *Events) Stage(ctx context.Context, s *models.Store, evs []models.Event) error {
	e.mu.Lock()
	next := e.next
	e.mu.Unlock()
	if next != nil {
		return next.Stage(ctx, s, evs)
	}
	return nil
}

// Committed implements models.EventSink.
func (e *Events) Committed(evs []models.Event) {
	e.mu.Lock()
	e.committed = append(e.committed, evs...)
	next := e.next
	e.mu.Unlock()
	if next != nil {
		next.Committed(evs)
	}
}
