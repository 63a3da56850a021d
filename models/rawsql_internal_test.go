package models

import (
	"slices"
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
