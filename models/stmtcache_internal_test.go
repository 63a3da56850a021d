package models

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// openCachingDB opens one connection of the driver, so that every statement
// runs on the same connection and its cache.
func openCachingDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open(sqliteDriver, SQLiteDSN(filepath.Join(t.TempDir(), "c.db")))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)"); err != nil {
		t.Fatal(err)
	}
	return db
}

func cachedCount(t *testing.T, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	if err := conn.Raw(func(dc any) error { n = len(dc.(*cachingConn).stmts); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A kept statement runs again with new arguments, after a failed run too,
// and inside and after transactions.
func TestStmtCacheReuse(t *testing.T) {
	db := openCachingDB(t)
	const ins = "INSERT INTO t (v) VALUES (?)"
	for i := range 3 {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ins, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ins, fmt.Sprint("v", i)); err == nil {
			t.Fatal("duplicate value inserted")
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t WHERE v <> ?", "x").Scan(&n); err != nil || n != 3 {
		t.Fatalf("count = %d, %v; want 3", n, err)
	}
	if err := db.QueryRow("SELECT count(*) FROM t WHERE v <> ?", "v0").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count = %d, %v; want 2", n, err)
	}
	if got := cachedCount(t, db); got != 2 {
		t.Fatalf("kept statements = %d, want 2 (the insert and the select)", got)
	}
}

// The same text run while rows of it are open gets a statement of its own.
func TestStmtCacheNestedSameQuery(t *testing.T) {
	db := openCachingDB(t)
	for _, v := range []string{"a", "b", "c"} {
		if _, err := db.Exec("INSERT INTO t (v) VALUES (?)", v); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = "SELECT v FROM t WHERE id >= ? ORDER BY id"
	rows, err := tx.Query(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var outer []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		var inner string
		if err := tx.QueryRow(q, 3).Scan(&inner); err != nil || inner != "c" {
			t.Fatalf("inner = %q, %v", inner, err)
		}
		outer = append(outer, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	_ = rows.Close() //nolint:sqlclosecheck // closed before the check of what was read
	if fmt.Sprint(outer) != "[a b c]" {
		t.Fatalf("outer rows = %v", outer)
	}
}

// The cache is bounded: texts that vary do not pile up.
func TestStmtCacheBounded(t *testing.T) {
	db := openCachingDB(t)
	for i := range stmtCacheSize * 3 {
		var n int
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM t WHERE id <> %d", i)).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	if got := cachedCount(t, db); got > stmtCacheSize {
		t.Fatalf("kept statements = %d, more than %d", got, stmtCacheSize)
	}
}

// Statements run all the time stay prepared while texts that vary churn
// through the cache around them, and a full cache keeps half its
// statements.
func TestStmtCacheKeepsHotStatements(t *testing.T) {
	db := openCachingDB(t)
	hot := make([]string, 10)
	for i := range hot {
		hot[i] = fmt.Sprintf("SELECT count(*) FROM t WHERE v <> ? AND %d = %d", i, i)
	}
	first := map[string]*sqlite3.SQLiteStmt{}
	for i := range stmtCacheSize * 3 {
		var n int
		for _, q := range hot {
			if err := db.QueryRow(q, "x").Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM t WHERE id <> %d", i)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		conn, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			cc := dc.(*cachingConn)
			if i >= stmtCacheSize && len(cc.stmts) < stmtCacheSize/2 {
				return fmt.Errorf("after %d varying statements %d are kept, fewer than half the cache", i+1, len(cc.stmts))
			}
			for _, q := range hot {
				cs := cc.stmts[q]
				switch {
				case cs == nil:
					return fmt.Errorf("after %d varying statements a hot one is no longer kept", i+1)
				case first[q] == nil:
					first[q] = cs.stmt
				case cs.stmt != first[q]:
					return fmt.Errorf("after %d varying statements a hot one was prepared again", i+1)
				}
			}
			return nil
		})
		_ = conn.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A change of schema drops the kept statements, which would otherwise
// name the columns the table had when they were compiled.
func TestStmtCacheForgetsOnSchemaChange(t *testing.T) {
	db := openCachingDB(t)
	for _, q := range []string{"ALTER TABLE t ADD COLUMN w TEXT NOT NULL DEFAULT 'w'", "ALTER TABLE t ADD COLUMN x TEXT NOT NULL DEFAULT 'x'"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("INSERT INTO t (v) VALUES (?)", "a"); err != nil {
		t.Fatal(err)
	}
	columns := func() []string {
		t.Helper()
		rows, err := db.Query("SELECT * FROM t WHERE id > ?", 0)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rows.Close() }()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return cols
	}
	if got := fmt.Sprint(columns()); got != "[id v w x]" {
		t.Fatalf("columns %s", got)
	}
	if _, err := db.Exec("ALTER TABLE t DROP COLUMN w"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(columns()); got != "[id v x]" {
		t.Fatalf("after the column was dropped: columns %s, want [id v x]", got)
	}
}

func TestYieldsRows(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":         true,
		"select id FROM t": true,
		"INSERT INTO t (a) VALUES (?) RETURNING id":    true,
		"insert into t (a) values (?) returning id":    true,
		"UPDATE t SET a = ? WHERE id = ? ReTuRnInG id": true,
		"INSERT INTO t (a) VALUES (?)":                 false,
		"UPDATE t SET returnin = ?":                    false,
		"DELETE FROM t":                                false,
		"":                                             false,
	} {
		if got := yieldsRows(q); got != want {
			t.Errorf("yieldsRows(%q) = %v, want %v", q, got, want)
		}
	}
}
