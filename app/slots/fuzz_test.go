package slots

import (
	"encoding/json"
	"testing"
	"time"
)

func FuzzParseWeek(f *testing.F) {
	for _, s := range []string{
		"mon 09:00-12:00,13:00-17:00", "mon-fri 09:00-17:00\nsat closed", "sat-mon 10:00-11:00; wed 9:00-24:00",
		"tue 9-17", "mon 09:00-12:00,11:00-13:00", "moon 1:00-2:00", "# only a comment", "mon,mon 01:00-02:00",
		`{"mon":["09:00-12:00"],"tue":"13:00-14:00,10:00-11:00","wed":null}`, "fri-thu 00:00-24:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWeek(s)
		if err == nil {
			checkWeek(t, s, w)
		}
		var fromJSON Week
		if json.Unmarshal([]byte(s), &fromJSON) == nil {
			checkWeek(t, s, fromJSON)
		}
	})
}

// checkWeek asserts what every successfully read week satisfies: it is
// valid, and both its text and JSON forms read back to it.
func checkWeek(t *testing.T, in string, w Week) {
	t.Helper()
	if err := w.Validate(); err != nil {
		t.Fatalf("read %q into an invalid week: %v", in, err)
	}
	back, err := ParseWeek(w.String())
	if err != nil || back.String() != w.String() {
		t.Fatalf("text round trip of %q: %q -> %q, %v", in, w.String(), back.String(), err)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON Week
	if err := json.Unmarshal(b, &fromJSON); err != nil || fromJSON.String() != w.String() {
		t.Fatalf("JSON round trip of %q: %s -> %q, %v", in, b, fromJSON.String(), err)
	}
}

func FuzzParseExceptions(f *testing.F) {
	for _, s := range []string{
		"2026-12-25 closed # Christmas", "2026-08-01..2026-08-15 closed\n2026-12-24 09:00-12:00",
		"2026-02-30 closed", "2026-08-15..2026-08-01 closed", "2026-08-01..2026-08-15 closed;2026-08-10 closed",
		"0001-01-01 00:00-24:00", "9999-12-31..9999-12-31 closed",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseExceptions(s)
		if err != nil {
			return
		}
		h := Hours{Exceptions: list}
		if err := h.Validate(); err != nil {
			t.Fatalf("ParseExceptions(%q) gave invalid exceptions: %v", s, err)
		}
		back, err := ParseExceptions(FormatExceptions(list))
		if err != nil || FormatExceptions(back) != FormatExceptions(list) {
			t.Fatalf("round trip of %q: %q, %v", s, FormatExceptions(back), err)
		}
		for _, e := range list {
			if got := h.On(e.From).String(); got != e.Hours.String() {
				t.Fatalf("On(%s) = %s, want %s", e.From, got, e.Hours)
			}
		}
	})
}

// fuzzZones are the zones FuzzFind picks from: three with daylight saving
// (one of them by half an hour), UTC and a zone with no DST.
var fuzzZones = []string{"America/New_York", "Europe/Paris", "Australia/Lord_Howe", "UTC", "Asia/Kolkata"}

// FuzzFind compares Find with the brute-force definition over two days,
// with random hours, a random busy appointment, buffers, step and
// duration; the seeds sit on daylight-saving changes.
func FuzzFind(f *testing.F) {
	f.Add(uint8(0), int64(1772946000), "sun 01:00-04:00", uint16(30), uint16(30), uint16(0), int64(3600), uint16(30), uint8(5))
	f.Add(uint8(0), int64(1793505600), "sat-mon 00:00-03:00,09:00-10:00", uint16(60), uint16(15), uint16(10), int64(7200), uint16(45), uint8(0))
	f.Add(uint8(1), int64(1792879200), "sun 01:00-04:00", uint16(30), uint16(30), uint16(0), int64(0), uint16(0), uint8(0))
	f.Add(uint8(2), int64(1775224800), "sun 01:00-03:00", uint16(15), uint16(15), uint16(5), int64(1800), uint16(20), uint8(3))
	f.Add(uint8(2), int64(1790953200), "sat 20:00-24:00\nsun 00:00-04:00", uint16(120), uint16(20), uint16(0), int64(-3600), uint16(60), uint8(1))
	f.Add(uint8(4), int64(1782864000), "mon-fri 09:30-13:00", uint16(45), uint16(25), uint16(0), int64(5400), uint16(15), uint8(2))
	f.Fuzz(func(t *testing.T, zone uint8, afterUnix int64, hours string, durMin, stepMin, bufMin uint16, busyOffset int64, busyMin uint16, bufAfterMin uint8) {
		w, err := ParseWeek(hours)
		if err != nil {
			return
		}
		loc, err := time.LoadLocation(fuzzZones[int(zone)%len(fuzzZones)])
		if err != nil {
			t.Fatal(err)
		}
		// 2000 to 2040, where zone rules are well known.
		after := time.Unix(946684800+abs(afterUnix)%(40*365*86400), 0)
		busyStart := after.Add(time.Duration(busyOffset%(2*86400)) * time.Second)
		q := Query{
			Open:     []Hours{{Weekly: w}},
			Zone:     loc,
			Busy:     []Busy{{Start: busyStart, End: busyStart.Add(time.Duration(busyMin%600) * time.Minute), Buffer: Buffer{After: time.Duration(bufAfterMin%60) * time.Minute}}},
			Duration: time.Duration(1+durMin%240) * time.Minute,
			Buffer:   Buffer{Before: time.Duration(bufMin%60) * time.Minute},
			Step:     time.Duration(1+stepMin%120) * time.Minute,
			After:    after,
			Until:    after.Add(48 * time.Hour),
			Limit:    1000,
		}
		checkAgainstBruteForce(t, q)
	})
}

func abs(v int64) int64 {
	if v < 0 {
		return -(v + 1)
	}
	return v
}
