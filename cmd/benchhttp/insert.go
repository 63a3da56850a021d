package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "github.com/mattn/go-sqlite3"    // the "sqlite3" database/sql driver

	"apptconfirm/app/web"
	"apptconfirm/models"
)

// The second yardstick: a gin handler that stores each request with one
// plain insert, in a transaction of its own, into a table keyed like
// webhook_events (a unique de-duplication key, the raw body, the time),
// and answers 200 once it is committed. It is what a durable,
// de-duplicated acknowledgement costs on the machine with nothing else:
// no decoding, no batching of commits, no applying.
const (
	insertTableSQLite = `CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY,
	dedup_key TEXT NOT NULL UNIQUE, raw TEXT NOT NULL, received_at DATETIME NOT NULL)`
	insertTablePostgres = `CREATE TABLE IF NOT EXISTS events (id BIGSERIAL PRIMARY KEY,
	dedup_key TEXT NOT NULL UNIQUE, raw TEXT NOT NULL, received_at TIMESTAMPTZ NOT NULL)`
	insertSQLite   = `INSERT INTO events (dedup_key, raw, received_at) VALUES (?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`
	insertPostgres = `INSERT INTO events (dedup_key, raw, received_at) VALUES ($1, $2, $3) ON CONFLICT (dedup_key) DO NOTHING`
)

// openInsertDB opens the yardstick's database and creates its table.
// SQLite gets apptconfirm's connection settings (a write-ahead log,
// synchronous NORMAL), though with SQLite's own checkpoints inside the
// commits as a plain handler would have them, and one connection: the
// requests queue for it rather than spin on SQLite's busy lock.
// PostgreSQL gets apptconfirm's default pool of 20 connections.
func openInsertDB(driver, dsn string) (db *sql.DB, insert string, err error) {
	switch driver {
	case models.DriverSQLite:
		db, err = sql.Open("sqlite3", models.SQLiteDSN(dsn))
		if err != nil {
			return nil, "", err
		}
		db.SetMaxOpenConns(1)
		_, err = db.Exec(insertTableSQLite)
		insert = insertSQLite
	case models.DriverPostgres:
		db, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, "", err
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		_, err = db.Exec(insertTablePostgres)
		insert = insertPostgres
	default:
		return nil, "", fmt.Errorf("plain insert: unknown driver %q", driver)
	}
	if err != nil {
		_ = db.Close()
		return nil, "", fmt.Errorf("plain insert: create table: %w", err)
	}
	return db, insert, nil
}

// insertHandler is the yardstick's gin engine: each body is inserted under
// a key made from its hash, and answered 200, or 503 when the insert fails.
func insertHandler(db *sql.DB, insert string) http.Handler {
	return web.BareInsertHandler(func(ctx context.Context, body []byte) error {
		sum := sha256.Sum256(body)
		key := base64.RawURLEncoding.EncodeToString(sum[:16])
		_, err := db.ExecContext(ctx, insert, key, string(body), time.Now().UTC())
		return err
	})
}

// serveInsert is the yardstick's process: benchhttp -insert addr driver dsn.
func serveInsert(addr, driver, dsn string) error {
	db, insert, err := openInsertDB(driver, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	srv := &http.Server{Addr: addr, Handler: insertHandler(db, insert), ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}

// startInsert starts the plain insert yardstick as a child process of this
// binary, on a fresh SQLite file or PostgreSQL schema.
func startInsert(ctx context.Context, db, pgDSN string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "benchhttp-insert-")
	if err != nil {
		return nil, err
	}
	s := &server{name: "plain insert", url: "http://" + addr, dir: dir, stopRSS: make(chan struct{})}
	s.cleanup = append(s.cleanup, func() { _ = os.RemoveAll(dir) })
	driver, dsn := models.DriverSQLite, filepath.Join(dir, "insert.db")
	if db == "postgres" {
		var drop func()
		dsn, drop, err = models.CreatePostgresSchema(ctx, pgDSN, "bench_insert_")
		if err != nil {
			s.stop()
			return nil, err
		}
		s.cleanup = append(s.cleanup, drop)
		driver = models.DriverPostgres
	}
	if err := s.startChild(ctx, "-insert", addr, driver, dsn); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}
