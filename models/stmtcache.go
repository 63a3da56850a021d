package models

import (
	"context"
	"database/sql/driver"
	"slices"
	"strings"

	"github.com/mattn/go-sqlite3"
)

// stmtCacheSize bounds the statements a SQLite connection keeps prepared.
// Statements whose text varies (a multi-row insert's row count, an IN
// list's length) come and go; when the cache is full the half of the idle
// statements used longest ago are finalized, so that the statements run all
// the time stay prepared while the rare lengths make room.
const stmtCacheSize = 256

// cachingDriver is mattn/go-sqlite3 whose connections keep the statements
// they run prepared. GORM builds the same SQL text for the same call, and
// compiling it (sqlite3_prepare_v2) was a sixth of an import's CPU time:
// database/sql and GORM's PrepareStmt only keep statements outside
// transactions, where apptconfirm runs almost nothing.
type cachingDriver struct{ *sqlite3.SQLiteDriver }

func (d cachingDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.SQLiteDriver.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{SQLiteConn: c.(*sqlite3.SQLiteConn), stmts: map[string]*cachedStmt{}}, nil
}

// cachingConn is a connection with its prepared statements. database/sql
// uses a connection from one goroutine at a time, so it needs no lock.
type cachingConn struct {
	*sqlite3.SQLiteConn
	stmts map[string]*cachedStmt
	// uses counts the statements run, to date each one's last use.
	uses uint64
}

// cachedStmt is a prepared statement; busy while rows read from it are
// open (the same text run meanwhile gets a statement of its own).
type cachedStmt struct {
	stmt *sqlite3.SQLiteStmt
	busy bool
	// used is the connection's count of statements run at its last use.
	used uint64
}

// cacheable reports whether query is one statement worth keeping: a read or
// a write, not a transaction's control (savepoints have a name each) nor a
// PRAGMA, and no ';' that could start a second statement.
func cacheable(query string) bool {
	if strings.IndexByte(query, ';') >= 0 || len(query) < 6 {
		return false
	}
	switch strings.ToUpper(query[:6]) {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
		return true
	}
	return false
}

// yieldsRows reports whether query may return rows: a SELECT, or a write
// with RETURNING.
func yieldsRows(query string) bool {
	return strings.EqualFold(query[:min(6, len(query))], "SELECT") || containsFold(query, "RETURNING")
}

// containsFold reports whether s contains the upper-case ASCII word up,
// in any case, without copying s (every write passes here).
func containsFold(s, up string) bool {
	for i := 0; i+len(up) <= len(s); i++ {
		if s[i]|0x20 == up[0]|0x20 && strings.EqualFold(s[i:i+len(up)], up) {
			return true
		}
	}
	return false
}

// get returns the idle prepared statement for query, preparing it if
// needed; nil when the statement is not to be cached (the caller then runs
// it the ordinary way, with the driver's own errors).
func (c *cachingConn) get(ctx context.Context, query string, nargs int) (*cachedStmt, error) {
	if !cacheable(query) {
		return nil, nil
	}
	c.uses++
	if cs, ok := c.stmts[query]; ok {
		if cs.busy || cs.stmt.NumInput() != nargs {
			return nil, nil
		}
		cs.used = c.uses
		return cs, nil
	}
	s, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st := s.(*sqlite3.SQLiteStmt)
	if st.NumInput() != nargs {
		_ = st.Close()
		return nil, nil
	}
	if len(c.stmts) >= stmtCacheSize {
		c.forgetOldest()
	}
	cs := &cachedStmt{stmt: st, used: c.uses}
	c.stmts[query] = cs
	return cs, nil
}

// ExecContext runs query on its kept statement.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	// A kept statement keeps the column names it was compiled with: a
	// change of schema drops the idle ones.
	if changesSchema(query) {
		c.forgetIdle()
	}
	// A statement that yields rows is left mid-way by an exec; it is
	// finalized rather than kept active.
	if yieldsRows(query) {
		return c.SQLiteConn.ExecContext(ctx, query, args)
	}
	cs, err := c.get(ctx, query, len(args))
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.SQLiteConn.ExecContext(ctx, query, args)
	}
	return cs.stmt.ExecContext(ctx, args)
}

// changesSchema reports whether query creates, alters or drops something.
func changesSchema(query string) bool {
	q := strings.ToUpper(strings.TrimSpace(query[:min(12, len(query))]))
	return strings.HasPrefix(q, "CREATE") || strings.HasPrefix(q, "ALTER") || strings.HasPrefix(q, "DROP")
}

// forgetIdle finalizes the kept statements not in use.
func (c *cachingConn) forgetIdle() {
	for q, cs := range c.stmts {
		if !cs.busy {
			_ = cs.stmt.Close()
			delete(c.stmts, q)
		}
	}
}

// forgetOldest finalizes the older half of the idle kept statements (by
// their last use).
func (c *cachingConn) forgetOldest() {
	idle := make([]uint64, 0, len(c.stmts))
	for _, cs := range c.stmts {
		if !cs.busy {
			idle = append(idle, cs.used)
		}
	}
	if len(idle) == 0 {
		return
	}
	slices.Sort(idle)
	cutoff := idle[(len(idle)-1)/2]
	for q, cs := range c.stmts {
		if !cs.busy && cs.used <= cutoff {
			_ = cs.stmt.Close()
			delete(c.stmts, q)
		}
	}
}

// QueryContext runs query on its kept statement; the statement is busy
// until the rows are closed.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.get(ctx, query, len(args))
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.SQLiteConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{SQLiteRows: rows.(*sqlite3.SQLiteRows), cs: cs}, nil
}

// Close finalizes the kept statements, then closes the connection.
func (c *cachingConn) Close() error {
	for q, cs := range c.stmts {
		_ = cs.stmt.Close()
		delete(c.stmts, q)
	}
	return c.SQLiteConn.Close()
}

// cachedRows are rows read from a kept statement.
type cachedRows struct {
	*sqlite3.SQLiteRows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.SQLiteRows.Close()
	r.cs.busy = false
	return err
}
