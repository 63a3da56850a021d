package models

import (
	"database/sql"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// Statements run straight on database/sql, past GORM, where a hot path
// runs one many times: GORM walks every argument of a statement to build
// its SQL text (13 arguments a row for a set of messages), which cost more
// than SQLite took to run it. The SQL text still goes through the same
// connection and transaction; on SQLite the caching driver keeps it
// prepared.

// execRaw runs q with args on db's connection (the transaction, when db is
// one), its '?' placeholders numbered for PostgreSQL.
func (s *Store) execRaw(db *gorm.DB, q string, args ...any) (sql.Result, error) {
	return db.Statement.ConnPool.ExecContext(db.Statement.Context, s.rebind(q), args...)
}

// queryRaw runs q with args on db's connection, as execRaw, and returns
// its rows; the caller closes them.
func (s *Store) queryRaw(db *gorm.DB, q string, args ...any) (*sql.Rows, error) {
	return db.Statement.ConnPool.QueryContext(db.Statement.Context, s.rebind(q), args...)
}

// rebind numbers q's '?' placeholders $1, $2, … for PostgreSQL; SQLite
// takes them as they are. The statements given to it hold no '?' but
// placeholders.
func (s *Store) rebind(q string) string {
	if s.driver != DriverPostgres || strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + len(q)/8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// marks is a parenthesised list of n placeholders, for an IN.
func marks(n int) string {
	if n <= 0 {
		return "(NULL)"
	}
	return "(" + strings.Repeat("?,", n-1) + "?)"
}

// filterOnly returns col as a term that SQLite does not look up by an
// index (a unary +), leaving it a filter on the rows another index found;
// PostgreSQL gets col as it is. SQLite without statistics (no ANALYZE)
// otherwise walks an index on status, which holds most of a table's rows
// (every planned message, every upcoming appointment), instead of the one
// on the patient, which holds a handful.
func (s *Store) filterOnly(col string) string {
	if s.driver == DriverSQLite {
		return "+" + col
	}
	return col
}
