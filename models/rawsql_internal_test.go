package models

import (
	"slices"
	"strings"
	"testing"
)

// IN lists are padded to a few lengths, never shorter than given and at
// most half again as long, with the last value repeated.
func TestPadIn(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 1, 4: 4, 5: 6, 6: 6, 7: 8, 9: 12, 13: 16, 17: 24, 25: 32, 33: 48, 100: 128, 500: 512} {
		if got := inLen(n); got != want {
			t.Errorf("inLen(%d) = %d, want %d", n, got, want)
		}
	}
	lengths := map[int]bool{}
	for n := 1; n <= 600; n++ {
		vals := make([]int, n)
		for i := range vals {
			vals[i] = i + 1
		}
		got := padIn(vals)
		lengths[len(got)] = true
		if len(got) < n || 2*len(got) > 3*n+1 {
			t.Fatalf("padIn of %d values has %d", n, len(got))
		}
		if !slices.Equal(got[:n], vals) || slices.ContainsFunc(got[n:], func(v int) bool { return v != n }) {
			t.Fatalf("padIn(%v) = %v", vals, got)
		}
	}
	if len(lengths) > 24 {
		t.Errorf("lists of 1 to 600 values take %d lengths", len(lengths))
	}
}

// chunks covers every row once, in order; on SQLite with a few statement
// sizes (powers of two up to sqliteChunk), on PostgreSQL with as few
// statements as the limit allows.
func TestChunks(t *testing.T) {
	for _, driver := range []string{DriverSQLite, DriverPostgres} {
		s := &Store{driver: driver}
		sizes := map[int]bool{}
		for _, limit := range []int{1, 3, 64, 500} {
			for n := 0; n <= 700; n++ {
				next, count := 0, 0
				for lo, hi := range s.chunks(n, limit) {
					if lo != next || hi <= lo || hi-lo > limit {
						t.Fatalf("%s: chunks(%d, %d) gave [%d, %d) after %d", driver, n, limit, lo, hi, next)
					}
					sizes[hi-lo] = true
					next = hi
					count++
				}
				if next != n {
					t.Fatalf("%s: chunks(%d, %d) covered %d rows", driver, n, limit, next)
				}
				if want := (n + limit - 1) / limit; driver == DriverPostgres && count != want {
					t.Fatalf("postgres: chunks(%d, %d) gave %d statements, want %d", n, limit, count, want)
				}
			}
		}
		if driver == DriverSQLite {
			for size := range sizes {
				if size > sqliteChunk || size&(size-1) != 0 {
					t.Errorf("sqlite: a statement of %d rows", size)
				}
			}
		}
	}
}

// On PostgreSQL a VALUES list of n rows is ended with rows of NULL
// arguments up to inLen(n), so lists of 1 to 500 rows take a few statement
// texts; SQLite's lists are left as they are.
func TestPadValues(t *testing.T) {
	row := "(CAST(? AS bigint),CAST(? AS text))"
	texts := map[string]bool{}
	for n := 1; n <= 500; n++ {
		var q strings.Builder
		q.WriteString(strings.Repeat(row+",", n-1) + row)
		args := make([]any, 0, 2*n)
		for i := range n {
			args = append(args, i+1, "x")
		}
		args = (&Store{driver: DriverPostgres}).padValues(&q, args, n, row)
		got := q.String()
		texts[got] = true
		if rows := strings.Count(got, "(CAST("); rows != inLen(n) || len(args) != 2*inLen(n) || strings.Count(got, "?") != len(args) {
			t.Fatalf("%d rows padded to %d with %d arguments; want %d rows", n, rows, len(args), inLen(n))
		}
		if slices.ContainsFunc(args[:2*n], func(a any) bool { return a == nil }) || slices.ContainsFunc(args[2*n:], func(a any) bool { return a != nil }) {
			t.Fatalf("%d rows: arguments %v, want the rows' then NULLs", n, args)
		}
		var lite strings.Builder
		if got := (&Store{driver: DriverSQLite}).padValues(&lite, args[:2*n], n, row); lite.Len() != 0 || len(got) != 2*n {
			t.Fatalf("SQLite list padded with %q, %d arguments", lite.String(), len(got))
		}
	}
	if len(texts) > 20 {
		t.Errorf("lists of 1 to 500 rows take %d texts", len(texts))
	}
}
