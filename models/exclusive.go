package models

import (
	"context"
	"fmt"
	"hash/fnv"
)

// RunExclusive runs fn only if no other instance is running a job of the
// same name, and reports whether it ran. On PostgreSQL it holds a
// session-level advisory lock on a dedicated connection for the length of
// fn, so of several instances behind a load balancer one runs a sweep and the
// others skip it. SQLite serves a single instance, so fn simply runs.
func (s *Store) RunExclusive(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	if s.driver != DriverPostgres {
		return true, fn(ctx)
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("store: exclusive %s: %w", name, Classify(err))
	}
	defer func() { _ = conn.Close() }()
	key := lockKey(name)
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
		return false, fmt.Errorf("store: exclusive %s: %w", name, Classify(err))
	}
	if !got {
		return false, nil
	}
	defer func() {
		// Unlock on a fresh context: the job's may be done. The lock would
		// also go with the connection, but the pool keeps connections open.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
	}()
	return true, fn(ctx)
}

// lockKey maps a job name onto an advisory lock key.
func lockKey(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("apptconfirm:" + name))
	return int64(h.Sum64() >> 1)
}

// LockTxExclusive takes, inside the transaction ctx carries, a lock named
// name that no other transaction holds until this one ends (a PostgreSQL
// transaction-level advisory lock), so that instances starting together
// run a one-time set-up one after the other. On SQLite the transaction
// already holds the database's write lock.
func (s *Store) LockTxExclusive(ctx context.Context, name string) error {
	if s.driver != DriverPostgres {
		return nil
	}
	if err := s.conn(ctx).Exec("SELECT pg_advisory_xact_lock(?)", lockKey(name)).Error; err != nil {
		return fmt.Errorf("store: lock %s: %w", name, Classify(err))
	}
	return nil
}
