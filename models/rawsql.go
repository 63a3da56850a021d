package models

import (
	"database/sql"
	"errors"
	"iter"
	"math/bits"
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

// inLen is the length an IN list of n values is padded to: n up to 4, then
// 6, 8, 12, 16, 24, 32, … (at most half again as long).
func inLen(n int) int {
	if n <= 4 {
		return n
	}
	b := 4
	for b < n {
		if b&(b-1) == 0 {
			b += b / 2
		} else {
			b = b / 3 * 4
		}
	}
	return b
}

// padIn returns vals padded to inLen(len(vals)) by repeating its last value,
// which changes nothing an IN list matches: statements whose text differs
// only by the length of their lists then share a few texts, which the
// SQLite and PostgreSQL drivers keep prepared, instead of compiling a new
// one for nearly every set of events.
func padIn[T any](vals []T) []T {
	n := inLen(len(vals))
	if n == len(vals) {
		return vals
	}
	out := make([]T, n)
	copy(out, vals)
	for i := len(vals); i < n; i++ {
		out[i] = vals[len(vals)-1]
	}
	return out
}

// padValues ends the VALUES list of an UPDATE … FROM (VALUES …) joined on
// an id, which holds n rows built as row (its placeholders CAST), with rows
// of NULL arguments up to inLen(n) on PostgreSQL, and returns args with
// those NULLs: such rows match nothing, and the statements share a few
// texts that pgx keeps prepared, where every new length was parsed and
// planned anew (a few hundred a second under a flood). SQLite's
// statements take few lengths already (see chunks).
func (s *Store) padValues(q *strings.Builder, args []any, n int, row string) []any {
	if s.driver != DriverPostgres {
		return args
	}
	per := strings.Count(row, "?")
	for range inLen(n) - n {
		q.WriteString("," + row)
		args = append(args, make([]any, per)...)
	}
	return args
}

// insertID runs q, an insert of one row ending in RETURNING id, and
// returns the new row's id.
func (s *Store) insertID(db *gorm.DB, q string, args ...any) (uint, error) {
	rows, err := s.queryRaw(db, q, args...)
	if err != nil {
		return 0, err
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, err
		}
		return 0, errors.New("no id returned")
	}
	var id uint
	if err := rows.Scan(&id); err != nil {
		return 0, err
	}
	return id, rows.Close()
}

// sqliteChunk is the most rows chunks puts in one statement on SQLite.
const sqliteChunk = 64

// chunks yields the bounds [lo, hi) of the statements that write n rows, at
// most limit to a statement. On SQLite statements take a few sizes only,
// powers of two up to sqliteChunk rows, so that their texts repeat and stay
// prepared: compiling a statement of a few hundred rows cost more than
// running it, and a set of events seldom has the row count of the last.
// On PostgreSQL, where each statement is a round trip, it yields as few as
// limit allows.
func (s *Store) chunks(n, limit int) iter.Seq2[int, int] {
	limit = max(limit, 1)
	return func(yield func(int, int) bool) {
		for lo := 0; lo < n; {
			size := min(n-lo, limit)
			if s.driver == DriverSQLite {
				size = 1 << (bits.Len(uint(min(size, sqliteChunk))) - 1)
			}
			if !yield(lo, lo+size) {
				return
			}
			lo += size
		}
	}
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
