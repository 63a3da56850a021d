package api

import (
	"strings"
	"testing"
	"time"
)

func TestSplitName(t *testing.T) {
	cases := []struct{ in, first, last string }{
		{"Ana Lopez", "Ana", "Lopez"},
		{"  Mary Ann  Smith ", "Mary", "Ann  Smith"},
		{"Cher", "Cher", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if f, l := splitName(c.in); f != c.first || l != c.last {
				t.Errorf("got %q %q, want %q %q", f, l, c.first, c.last)
			}
		})
	}
}

func TestBearer(t *testing.T) {
	cases := []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer   abc ", "abc", true},
		{"BEARER abc", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"", "", false},
		{"Bearerabc", "", false},
	}
	for _, c := range cases {
		t.Run(c.header, func(t *testing.T) {
			tok, ok := bearer(c.header)
			if tok != c.token || ok != c.ok {
				t.Errorf("got %q %v, want %q %v", tok, ok, c.token, c.ok)
			}
		})
	}
}

func TestDateOrInstant(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   string
		end  bool
		want time.Time
		ok   bool
	}{
		{"2026-03-10", false, time.Date(2026, 3, 10, 0, 0, 0, 0, paris), true},
		{"2026-03-10", true, time.Date(2026, 3, 11, 0, 0, 0, 0, paris), true},
		// The day the clocks change is 23 hours long; the end is still the next midnight.
		{"2026-03-29", true, time.Date(2026, 3, 30, 0, 0, 0, 0, paris), true},
		{"2026-03-10T09:30:00+01:00", true, time.Date(2026, 3, 10, 8, 30, 0, 0, time.UTC), true},
		{"2026-03-10T09:30:00Z", false, time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC), true},
		{"2026-03-10T09:30:00", false, time.Time{}, false},
		{"10/03/2026", false, time.Time{}, false},
		{"", false, time.Time{}, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, ok := dateOrInstant(c.in, paris, c.end)
			if ok != c.ok || !got.Equal(c.want) {
				t.Errorf("got %v %v, want %v %v", got, ok, c.want, c.ok)
			}
		})
	}
}

// FuzzAuthorizationHeader: no header makes the token check panic, and only
// well-formed tokens reach the database lookup.
func FuzzAuthorizationHeader(f *testing.F) {
	for _, s := range []string{"Bearer ac_" + strings.Repeat("A", 43), "Bearer x", "", "Basic a", "bearer \x00", "Bearer ac_" + strings.Repeat("é", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := bearer(header)
		if !ok {
			return
		}
		if tok == "" || strings.TrimSpace(tok) != tok {
			t.Fatalf("bearer(%q) = %q", header, tok)
		}
		if wellFormed(tok) && (len(tok) != tokenLen || !strings.HasPrefix(tok, TokenPrefix)) {
			t.Fatalf("wellFormed accepted %q", tok)
		}
	})
}

// FuzzRangeBound: any query value either parses to a time or is refused;
// never a panic, and an upper-bound date is after the lower-bound one.
func FuzzRangeBound(f *testing.F) {
	for _, s := range []string{"2026-03-10", "2026-03-10T09:30:00+01:00", "0000-01-01", "9999-12-31", "2026-02-30", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, ok1 := dateOrInstant(s, time.UTC, false)
		to, ok2 := dateOrInstant(s, time.UTC, true)
		if ok1 != ok2 {
			t.Fatalf("%q parses as a start but not as an end", s)
		}
		if ok1 && to.Before(from) {
			t.Fatalf("%q: end %v before start %v", s, to, from)
		}
	})
}
