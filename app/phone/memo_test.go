package phone

import (
	"fmt"
	"testing"
)

func TestMemoLooseMatchesLoose(t *testing.T) {
	var m Memo
	cases := []struct{ raw, region string }{
		{"+4915112345678", ""},
		{"015112345678", "DE"},
		{"4915112345678", ""},
		{" +1 415 555 2671 ", "US"},
		{"", "DE"},
		{"not a number", ""},
		{"+49151123456789012345678901234567890", ""},
		{"015112345678", "US"},
	}
	for range 2 {
		for _, c := range cases {
			if got, want := m.Loose(c.raw, c.region), Loose(c.raw, c.region); got != want {
				t.Errorf("Memo.Loose(%q, %q) = %q, want %q", c.raw, c.region, got, want)
			}
		}
	}
}

func TestMemoStaysBounded(t *testing.T) {
	var m Memo
	for i := range 3 * memoSize {
		raw := fmt.Sprintf("+49151%08d", i)
		if got, want := m.Loose(raw, ""), Loose(raw, ""); got != want {
			t.Fatalf("Memo.Loose(%q) = %q, want %q", raw, got, want)
		}
	}
	if n := len(m.seen); n > memoSize {
		t.Errorf("memo keeps %d numbers, want at most %d", n, memoSize)
	}
}
