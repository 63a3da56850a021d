package models

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"
)

// txState is one open transaction (or savepoint) and the domain events
// recorded in it so far.
type txState struct {
	store  *Store
	db     *gorm.DB
	events []Event
	// savepoints counts the savepoints opened in the transaction so far,
	// shared by the transaction and its savepoints, to name them apart.
	savepoints *int
	// deferLogs is set by DeferLogs: timeline and audit rows wait in
	// timeline and audit to be stored at the commit, as events do.
	deferLogs bool
	timeline  []TimelineEntry
	audit     []AuditEntry
	// parent is the transaction a savepoint is in; nil for a transaction.
	parent *txState
	// bigCache is set by PrepareBulkLoad on SQLite: the connection's page
	// cache is set back to its usual size when the transaction ends.
	bigCache bool
	// release names a savepoint of st that succeeded and whose RELEASE is
	// still to be sent (PostgreSQL): it goes with the next SAVEPOINT in st,
	// or with st's own end.
	release string
	// holdMessages is set by HoldMessages: CreateMessagesThen holds its
	// messages in held until FlushMessages or the commit.
	holdMessages bool
	held         []heldMessages
	// newPatients are the patients created in the transaction, and
	// messaged those of its patients that messages were inserted for
	// (kept in the transaction's state, not its savepoints'); unknown is
	// set when a statement changed messages in a way not tracked. See
	// ReminderTimes.
	newPatients, messaged map[uint]bool
	unknown               bool
	// messageWrites counts the statements of the transaction that wrote
	// to messages (see MessageWrites); kept in the root's state.
	messageWrites int
	// readCache is the transaction's cache of WithTxReadCache.
	readCache *readCache
}

// root returns the transaction st is a savepoint of, or st.
func (st *txState) root() *txState {
	for st.parent != nil {
		st = st.parent
	}
	return st
}

// txKey is the context key of the open transaction.
type txKey struct{}

// txOf returns the transaction of s that ctx carries, or nil.
func (s *Store) txOf(ctx context.Context) *txState {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.store == s {
		return st
	}
	return nil
}

// InTx reports whether ctx carries a transaction of s.
func (s *Store) InTx(ctx context.Context) bool { return s.txOf(ctx) != nil }

// conn returns the handle a statement runs on: the transaction ctx carries,
// or the pool. Inside a SQLite transaction statements run without ctx's
// cancellation: for a context that can be cancelled the SQLite driver runs
// every statement (and every row read) on a goroutine of its own and waits
// for it, a hand-over that costs more than most statements here.
// Cancellation still ends the work: the transaction was begun with ctx, so
// database/sql rolls it back when ctx is done and the next statement fails;
// a statement already running is short, since a SQLite transaction holds
// the write lock from its start. On PostgreSQL a statement may wait for a
// row lock or a dead connection, so it keeps ctx.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if st := s.txOf(ctx); st != nil {
		if s.driver == DriverSQLite {
			return st.db.WithContext(context.WithoutCancel(ctx))
		}
		return st.db.WithContext(ctx)
	}
	return s.db.WithContext(ctx)
}

// Tx runs fn in one transaction: everything fn writes, through any Store
// method called with the context fn receives, lands together or not at
// all. Called with a context that already carries a transaction, Tx runs fn
// in a savepoint of it: a failure of fn rolls back what fn did and leaves
// the outer transaction as it was.
//
// The domain events recorded in the transaction (Record) are inserted just
// before it commits, staged with Options.Events, and handed to it once the
// commit has succeeded; a transaction that rolls back publishes nothing.
// On SQLite the transaction first waits for the process's turn to write
// (WriterTurn).
func (s *Store) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	if parent := s.txOf(ctx); parent != nil {
		if inline, _ := ctx.Value(inlineKey{}).(*txState); inline == parent {
			return Classify(fn(ctx))
		}
		return s.savepoint(ctx, parent, fn)
	}
	release, err := s.WriterTurn(ctx)
	if err != nil {
		return err
	}
	wdb, done, err := s.writeHandle(ctx)
	if err != nil {
		release()
		return err
	}
	var committed []Event
	var st *txState
	cleaned := false
	cleanup := func() {
		if cleaned {
			return
		}
		cleaned = true
		defer release()
		defer done()
		if st != nil && st.bigCache {
			s.restoreWriterCache(wdb)
		}
	}
	// Should fn panic (GORM rolls the transaction back), the writer's turn
	// and SQLite's one writer connection still come back: a caller that
	// recovers would otherwise leave every later write waiting for them.
	defer cleanup()
	err = wdb.Transaction(func(db *gorm.DB) error {
		st = &txState{store: s, db: db, savepoints: new(int)}
		if err := fn(context.WithValue(ctx, txKey{}, st)); err != nil {
			return err
		}
		inner := context.WithValue(ctx, txKey{}, st)
		if err := s.FlushMessages(inner); err != nil {
			return err
		}
		if err := s.storeDeferredLogs(inner, st); err != nil {
			return err
		}
		if len(st.events) == 0 {
			return nil
		}
		if err := s.insertEvents(inner, st.events); err != nil {
			return err
		}
		if s.events != nil {
			if err := s.events.Stage(inner, s, st.events); err != nil {
				return fmt.Errorf("store: stage events: %w", err)
			}
		}
		committed = st.events
		return nil
	})
	cleanup()
	if err != nil {
		return Classify(err)
	}
	if s.events != nil && len(committed) > 0 {
		s.events.Committed(committed)
	}
	return nil
}

// savepoint runs fn in a savepoint of parent; the events fn records join
// parent's only when fn succeeds. The savepoint is released when fn
// returns, whatever the outcome: savepoints left open pile up for the rest
// of the transaction, and every write under them costs more (SQLite copies
// each page it changes once per open savepoint; PostgreSQL keeps a
// subtransaction for each).
//
// On PostgreSQL, where each statement is a round trip, the RELEASE of a
// savepoint that succeeded is sent with the next SAVEPOINT of parent, in
// one statement (a run of webhook events applied opens one each), or is
// left to parent's own end; so at most one released savepoint per level
// stays open meanwhile, and what it wrote is parent's either way. A
// rollback and its release go in one statement too.
func (s *Store) savepoint(ctx context.Context, parent *txState, fn func(ctx context.Context) error) (err error) {
	*parent.savepoints++
	name := fmt.Sprintf("apptconfirm_sp%d", *parent.savepoints)
	pg := s.driver == DriverPostgres
	// The savepoint's statements run past GORM (see execRaw): they are
	// two of every run of webhook events applied.
	db := s.conn(ctx)
	open := "SAVEPOINT " + name
	if parent.release != "" {
		open = "RELEASE SAVEPOINT " + parent.release + "; " + open
		parent.release = ""
	}
	if _, err := s.execRaw(db, open); err != nil {
		return Classify(err)
	}
	done := false
	defer func() {
		if !done || err != nil {
			// Errors here surface when the outer transaction goes on.
			if pg {
				_, _ = s.execRaw(db, "ROLLBACK TO SAVEPOINT "+name+"; RELEASE SAVEPOINT "+name)
				return
			}
			_, _ = s.execRaw(db, "ROLLBACK TO SAVEPOINT "+name)
			_, _ = s.execRaw(db, "RELEASE SAVEPOINT "+name)
		}
	}()
	st := &txState{store: s, db: parent.db, savepoints: parent.savepoints, deferLogs: parent.deferLogs, parent: parent, holdMessages: parent.holdMessages}
	err = fn(context.WithValue(ctx, txKey{}, st))
	done = true
	if err != nil {
		return Classify(err)
	}
	if pg {
		parent.release = name
	} else if _, err = s.execRaw(db, "RELEASE SAVEPOINT "+name); err != nil {
		return Classify(err)
	}
	parent.events = append(parent.events, st.events...)
	parent.timeline = append(parent.timeline, st.timeline...)
	parent.audit = append(parent.audit, st.audit...)
	parent.held = append(parent.held, st.held...)
	return nil
}

type inlineKey struct{}

// Inline returns a context under which Tx, called inside the transaction
// or savepoint ctx carries, runs fn right in it rather than in a savepoint
// of its own. It is for a caller that has just opened a savepoint and lets
// every error of the calls it makes fail that savepoint: their own
// savepoints would roll back nothing more, at two statements each. A
// caller that catches a nested call's error and goes on must not use it.
// A savepoint opened under the returned context (by a Tx with a context
// not derived from it) is not affected.
func (s *Store) Inline(ctx context.Context) context.Context {
	st := s.txOf(ctx)
	if st == nil {
		return ctx
	}
	return context.WithValue(ctx, inlineKey{}, st)
}

// write runs fn on the handle for ctx: inside the transaction ctx carries,
// or, outside one, as a statement of its own after waiting for the turn to
// write (SQLite).
func (s *Store) write(ctx context.Context, fn func(db *gorm.DB) error) error {
	if s.txOf(ctx) != nil {
		return Classify(fn(s.conn(ctx)))
	}
	release, err := s.WriterTurn(ctx)
	if err != nil {
		return err
	}
	defer release()
	wdb, done, err := s.writeHandle(ctx)
	if err != nil {
		return err
	}
	defer done()
	return Classify(fn(wdb))
}

// writeHandle returns the handle a write outside a transaction, or a new
// transaction, goes through, and the function that gives its connection
// back; the caller holds the writer's turn. On SQLite that is the writer
// connection (see Store.wdb), waited for at most writerWait: its only user
// is the holder of the turn, so a longer wait means that holder is waiting
// for itself (a second transaction opened with a context that lacks its
// first one), which must fail as SQLite's busy timeout would, not hang.
func (s *Store) writeHandle(ctx context.Context) (*gorm.DB, func(), error) {
	if s.wdb == s.db {
		return s.db.WithContext(ctx), func() {}, nil
	}
	c, err := s.writerConn(ctx)
	if err != nil {
		return nil, nil, err
	}
	db := s.wdb.WithContext(ctx)
	db.Statement.ConnPool = c
	return db, func() { _ = c.Close() }, nil
}

// writerConn takes SQLite's writer connection, waiting at most writerWait
// (see writeHandle).
func (s *Store) writerConn(ctx context.Context) (*sql.Conn, error) {
	w, err := s.wdb.DB()
	if err != nil {
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, writerWait)
	defer cancel()
	c, err := w.Conn(wait)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: waiting for the writer connection: %w", ErrUnavailable, ctx.Err())
		}
		return nil, fmt.Errorf("%w: the writer connection was not free within %s: %w", ErrUnavailable, writerWait, err)
	}
	return c, nil
}
