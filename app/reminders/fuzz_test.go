package reminders_test

import (
	"testing"
	"time"

	"apptconfirm/app/reminders"
)

// FuzzParseBefore: a rule's "before" as an admin types it never panics, and
// what it accepts within the rule limits writes back to the same duration.
func FuzzParseBefore(f *testing.F) {
	for _, s := range []string{"48h", "2d", "90m", "1h30m", "45s", "0m", "31d", "-2h", "9999999999d", "d", "1.5h", " 2h ", "2 h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := reminders.ParseBefore(s)
		if err != nil || d < reminders.MinBefore || d > reminders.MaxBefore || d%time.Second != 0 {
			return
		}
		back, err := reminders.ParseBefore(reminders.FormatBefore(d))
		if err != nil || back != d {
			t.Fatalf("ParseBefore(%q) = %s, written %q, read back %s, %v", s, d, reminders.FormatBefore(d), back, err)
		}
	})
}
