package schedule

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones under test, whatever the host has installed
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustUTC(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func clock(t testing.TB, s string) Clock {
	t.Helper()
	c, err := ParseClock(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func quiet(t testing.TB, start, end string) QuietHours {
	t.Helper()
	return QuietHours{Start: clock(t, start), End: clock(t, end)}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in      string
		want    Clock
		wantErr string
	}{
		{in: "00:00", want: 0},
		{in: "08:00", want: 480},
		{in: "8:00", want: 480},
		{in: "21:30", want: 21*60 + 30},
		{in: "23:59", want: 1439},
		{in: "24:00", wantErr: "hour"},
		{in: "12:60", wantErr: "minute"},
		{in: "", wantErr: "HH:MM"},
		{in: "1200", wantErr: "HH:MM"},
		{in: "12:0", wantErr: "HH:MM"},
		{in: "12:000", wantErr: "HH:MM"},
		{in: " 8:00", wantErr: "HH:MM"},
		{in: "-1:00", wantErr: "HH:MM"},
		{in: "+8:00", wantErr: "HH:MM"},
		{in: "08h00", wantErr: "HH:MM"},
		{in: "٠٨:٠٠", wantErr: "HH:MM"}, // non-ASCII digits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseClock(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "schedule: ") {
					t.Fatalf("ParseClock(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseClock(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestClockString(t *testing.T) {
	tests := []struct {
		c    Clock
		want string
	}{
		{0, "00:00"}, {480, "08:00"}, {1439, "23:59"}, {1440, "00:00"}, {-1, "23:59"}, {1500, "01:00"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("Clock(%d).String() = %q, want %q", int(tt.c), got, tt.want)
		}
	}
}

func TestParseQuietHours(t *testing.T) {
	tests := []struct {
		start, end string
		want       string
		wantErr    string
	}{
		{start: "21:00", end: "08:00", want: "21:00-08:00"},
		{start: "12:00", end: "14:00", want: "12:00-14:00"},
		{start: "", end: "", want: ""},
		{start: "", end: "08:00", wantErr: "start is empty"},
		{start: "21:00", end: "", wantErr: "end is empty"},
		{start: "25:00", end: "08:00", wantErr: "quiet hours start"},
		{start: "21:00", end: "8", wantErr: "quiet hours end"},
		{start: "08:00", end: "08:00", wantErr: "equal"},
	}
	for _, tt := range tests {
		t.Run(tt.start+"-"+tt.end, func(t *testing.T) {
			got, err := ParseQuietHours(tt.start, tt.end)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("got %q, %v; want %q", got.String(), err, tt.want)
			}
		})
	}
}

func TestQuietHoursIsZero(t *testing.T) {
	if !(QuietHours{}).IsZero() {
		t.Error("zero value is not IsZero")
	}
	if !(QuietHours{Start: 480, End: 480}).IsZero() {
		t.Error("equal start and end is not IsZero")
	}
	if (QuietHours{Start: 1260, End: 480}).IsZero() {
		t.Error("21:00-08:00 is IsZero")
	}
}

func TestInQuiet(t *testing.T) {
	night := quiet(t, "21:00", "08:00")
	lunch := quiet(t, "12:00", "14:00")
	kolkata := mustLoc(t, "Asia/Kolkata")
	newYork := mustLoc(t, "America/New_York")
	tests := []struct {
		name string
		at   string
		loc  *time.Location
		q    QuietHours
		want bool
	}{
		{"wrap: just before start", "2026-03-03T20:59:59Z", time.UTC, night, false},
		{"wrap: at start", "2026-03-03T21:00:00Z", time.UTC, night, true},
		{"wrap: midnight", "2026-03-04T00:00:00Z", time.UTC, night, true},
		{"wrap: just before end", "2026-03-04T07:59:59Z", time.UTC, night, true},
		{"wrap: at end", "2026-03-04T08:00:00Z", time.UTC, night, false},
		{"wrap: midday", "2026-03-04T12:00:00Z", time.UTC, night, false},
		{"no wrap: before", "2026-03-04T11:59:00Z", time.UTC, lunch, false},
		{"no wrap: start", "2026-03-04T12:00:00Z", time.UTC, lunch, true},
		{"no wrap: inside", "2026-03-04T13:59:00Z", time.UTC, lunch, true},
		{"no wrap: end", "2026-03-04T14:00:00Z", time.UTC, lunch, false},
		{"no wrap: night", "2026-03-04T23:00:00Z", time.UTC, lunch, false},
		{"kolkata 20:59 local", "2026-03-03T15:29:00Z", kolkata, night, false},
		{"kolkata 21:00 local", "2026-03-03T15:30:00Z", kolkata, night, true},
		{"new york 22:00 local is 03:00Z", "2026-03-04T03:00:00Z", newYork, night, true},
		{"new york 16:00 local is 21:00Z", "2026-03-03T21:00:00Z", newYork, night, false},
		{"nil location is UTC", "2026-03-03T22:00:00Z", nil, night, true},
		{"no quiet hours", "2026-03-03T23:00:00Z", time.UTC, QuietHours{}, false},
		{"out-of-range clocks wrap", "2026-03-03T22:00:00Z", time.UTC, QuietHours{Start: 1260 + 1440, End: 480 - 1440}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InQuiet(mustUTC(t, tt.at), tt.loc, tt.q); got != tt.want {
				t.Fatalf("InQuiet(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestMoveBeforeQuiet(t *testing.T) {
	night := quiet(t, "21:00", "08:00")
	tests := []struct {
		name string
		zone string
		q    QuietHours
		at   string // UTC
		want string // UTC
	}{
		{"outside quiet stays", "UTC", night, "2026-03-10T10:00:00Z", "2026-03-10T10:00:00Z"},
		{"utc morning", "UTC", night, "2026-03-10T07:00:00Z", "2026-03-09T20:59:00Z"},
		{"utc seconds dropped", "UTC", night, "2026-03-10T07:00:42Z", "2026-03-09T20:59:00Z"},
		{"utc evening", "UTC", night, "2026-03-10T23:30:00Z", "2026-03-10T20:59:00Z"},
		{"no wrap window", "UTC", quiet(t, "12:00", "14:00"), "2026-03-10T13:00:00Z", "2026-03-10T11:59:00Z"},
		{"window starting at midnight", "Europe/Berlin", quiet(t, "00:00", "06:00"), "2026-03-10T04:00:00Z", "2026-03-09T22:59:00Z"},
		{"new york ordinary day", "America/New_York", night, "2026-03-10T11:00:00Z", "2026-03-10T00:59:00Z"},
		// 2026-03-08 02:00 EST -> 03:00 EDT: the night is an hour shorter.
		{"new york spring forward", "America/New_York", night, "2026-03-08T11:00:00Z", "2026-03-08T01:59:00Z"},
		// 2026-11-01 02:00 EDT -> 01:00 EST: the night is an hour longer.
		{"new york fall back", "America/New_York", night, "2026-11-01T12:00:00Z", "2026-11-01T00:59:00Z"},
		// Quiet start 02:30 does not exist on 2026-03-08; quiet begins at 03:00 EDT.
		{"new york start in the gap", "America/New_York", quiet(t, "02:30", "08:00"), "2026-03-08T11:00:00Z", "2026-03-08T06:59:00Z"},
		// Quiet start 01:30 occurs twice on 2026-11-01; 01:00-01:29 EST is allowed by the wall clock.
		{"new york start repeated, after second", "America/New_York", quiet(t, "01:30", "08:00"), "2026-11-01T12:00:00Z", "2026-11-01T06:29:00Z"},
		{"new york start repeated, during first", "America/New_York", quiet(t, "01:30", "08:00"), "2026-11-01T05:45:00Z", "2026-11-01T05:29:00Z"},
		// Quiet from 01:00: the repeated hour is quiet both times, so the stretch began at 01:00 EDT.
		{"new york quiet across the repeat", "America/New_York", quiet(t, "01:00", "08:00"), "2026-11-01T12:00:00Z", "2026-11-01T04:59:00Z"},
		{"berlin spring forward", "Europe/Berlin", night, "2026-03-29T05:00:00Z", "2026-03-28T19:59:00Z"},
		{"berlin fall back", "Europe/Berlin", night, "2026-10-25T06:00:00Z", "2026-10-24T18:59:00Z"},
		{"sydney winter", "Australia/Sydney", night, "2026-06-14T21:00:00Z", "2026-06-14T10:59:00Z"},
		// 2026-04-05 03:00 AEDT -> 02:00 AEST.
		{"sydney dst ends", "Australia/Sydney", night, "2026-04-04T21:00:00Z", "2026-04-04T09:59:00Z"},
		// 2026-10-04 02:00 AEST -> 03:00 AEDT.
		{"sydney dst starts", "Australia/Sydney", night, "2026-10-03T20:00:00Z", "2026-10-03T10:59:00Z"},
		{"kolkata half-hour offset", "Asia/Kolkata", night, "2026-03-10T01:30:00Z", "2026-03-09T15:29:00Z"},
		{"no quiet hours", "UTC", QuietHours{}, "2026-03-10T03:00:00Z", "2026-03-10T03:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			at := mustUTC(t, tt.at)
			got, ok := moveBeforeQuiet(at, loc, tt.q)
			if !ok || !got.Equal(mustUTC(t, tt.want)) {
				t.Fatalf("moveBeforeQuiet(%s in %s) = %s (%s local), %v; want %s",
					tt.at, tt.zone, got.UTC().Format(time.RFC3339), got.In(loc).Format("2006-01-02 15:04 MST"), ok, tt.want)
			}
			if InQuiet(got, loc, tt.q) {
				t.Fatalf("result %s is in quiet hours", got.In(loc))
			}
			if want := walkBeforeQuiet(at, loc, tt.q); !got.Equal(want) {
				t.Fatalf("result %s differs from the minute-by-minute walk %s", got.UTC(), want.UTC())
			}
		})
	}
}

// walkBeforeQuiet is the obvious, slow definition of moveBeforeQuiet: step
// back one local minute at a time while in quiet hours.
func walkBeforeQuiet(t time.Time, loc *time.Location, q QuietHours) time.Time {
	if !InQuiet(t, loc, q) {
		return t
	}
	cur := floorMinute(t, loc)
	for range 3 * minutesPerDay {
		if !InQuiet(cur, loc, q) {
			return cur
		}
		cur = floorMinute(cur.Add(-time.Minute), loc)
	}
	return time.Time{}
}

func TestMoveAfterQuiet(t *testing.T) {
	night := quiet(t, "21:00", "08:00")
	tests := []struct {
		name string
		zone string
		q    QuietHours
		at   string // UTC
		want string // UTC
	}{
		{"outside quiet stays", "UTC", night, "2026-03-10T10:00:42Z", "2026-03-10T10:00:42Z"},
		{"utc morning", "UTC", night, "2026-03-10T07:00:00Z", "2026-03-10T08:00:00Z"},
		{"utc seconds dropped", "UTC", night, "2026-03-10T07:59:42Z", "2026-03-10T08:00:00Z"},
		{"utc evening", "UTC", night, "2026-03-10T21:00:00Z", "2026-03-11T08:00:00Z"},
		{"no wrap window", "UTC", quiet(t, "12:00", "14:00"), "2026-03-10T13:00:00Z", "2026-03-10T14:00:00Z"},
		{"window ending at midnight", "Europe/Berlin", quiet(t, "22:00", "00:00"), "2026-03-10T21:30:00Z", "2026-03-10T23:00:00Z"},
		{"new york ordinary day", "America/New_York", night, "2026-03-10T03:00:00Z", "2026-03-10T12:00:00Z"},
		// 2026-03-08 02:00 EST -> 03:00 EDT: the night is an hour shorter.
		{"new york spring forward", "America/New_York", night, "2026-03-08T04:00:00Z", "2026-03-08T12:00:00Z"},
		// 2026-11-01 02:00 EDT -> 01:00 EST: the night is an hour longer.
		{"new york fall back", "America/New_York", night, "2026-11-01T03:00:00Z", "2026-11-01T13:00:00Z"},
		// Quiet end 02:30 does not exist on 2026-03-08: quiet ends at 03:00 EDT.
		{"new york end in the gap", "America/New_York", quiet(t, "01:00", "02:30"), "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z"},
		// Quiet end 01:30 occurs twice on 2026-11-01: the first one ends it.
		{"new york end repeated", "America/New_York", quiet(t, "00:00", "01:30"), "2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z"},
		// ...and from the second 01:00 (EST) quiet holds again until 01:30 EST.
		{"new york end repeated, second time", "America/New_York", quiet(t, "00:00", "01:30"), "2026-11-01T06:10:00Z", "2026-11-01T06:30:00Z"},
		{"berlin spring forward", "Europe/Berlin", night, "2026-03-28T22:00:00Z", "2026-03-29T06:00:00Z"},
		{"berlin fall back", "Europe/Berlin", night, "2026-10-24T22:00:00Z", "2026-10-25T07:00:00Z"},
		// 2026-10-04 02:00 (+10:30) -> 02:30 (+11) on Lord Howe.
		{"lord howe end in the half-hour gap", "Australia/Lord_Howe", quiet(t, "22:00", "02:15"), "2026-10-03T14:30:00Z", "2026-10-03T15:30:00Z"},
		// 2026-09-06 00:00 (-04) -> 01:00 (-03) in Santiago, inside a window across midnight.
		{"santiago midnight change", "America/Santiago", quiet(t, "23:00", "00:30"), "2026-09-06T03:00:00Z", "2026-09-06T04:00:00Z"},
		{"kolkata half-hour offset", "Asia/Kolkata", night, "2026-03-10T01:30:00Z", "2026-03-10T02:30:00Z"},
		{"no quiet hours", "UTC", QuietHours{}, "2026-03-10T03:00:00Z", "2026-03-10T03:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			at := mustUTC(t, tt.at)
			got, ok := moveAfterQuiet(at, loc, tt.q)
			if !ok || !got.Equal(mustUTC(t, tt.want)) {
				t.Fatalf("moveAfterQuiet(%s in %s) = %s (%s local), %v; want %s",
					tt.at, tt.zone, got.UTC().Format(time.RFC3339), got.In(loc).Format("2006-01-02 15:04 MST"), ok, tt.want)
			}
			if InQuiet(got, loc, tt.q) {
				t.Fatalf("result %s is in quiet hours", got.In(loc))
			}
			if want := walkAfterQuiet(at, loc, tt.q); !got.Equal(want) {
				t.Fatalf("result %s differs from the minute-by-minute walk %s", got.UTC(), want.UTC())
			}
		})
	}
}

// walkAfterQuiet is the obvious, slow definition of moveAfterQuiet: the
// quiet state can change only at the start of a local minute or at a zone
// change, so step to the nearer of the two while in quiet hours.
func walkAfterQuiet(t time.Time, loc *time.Location, q QuietHours) time.Time {
	cur := t
	for range 3 * minutesPerDay {
		if !InQuiet(cur, loc, q) {
			return cur
		}
		next := floorMinute(cur, loc).Add(time.Minute)
		if _, end := cur.In(loc).ZoneBounds(); !end.IsZero() && end.Before(next) {
			next = end
		}
		cur = next
	}
	return time.Time{}
}

var testZones = []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "Australia/Lord_Howe", "America/Santiago"}

// TestMoveBeforeQuietMatchesWalk sweeps each zone's daylight-saving days
// with several windows and compares the fast move with the walk.
func TestMoveBeforeQuietMatchesWalk(t *testing.T) {
	days := map[string][]string{
		"UTC":                 {"2026-03-08"},
		"Asia/Kolkata":        {"2026-03-08"},
		"America/New_York":    {"2026-03-08", "2026-11-01"},
		"Europe/Berlin":       {"2026-03-29", "2026-10-25"},
		"Australia/Sydney":    {"2026-04-05", "2026-10-04"},
		"Australia/Lord_Howe": {"2026-04-05", "2026-10-04"}, // a 30-minute change
		"America/Santiago":    {"2026-04-05", "2026-09-06"}, // changes at midnight
	}
	windows := []QuietHours{quiet(t, "21:00", "08:00"), quiet(t, "01:30", "08:00"), quiet(t, "02:30", "02:45"), quiet(t, "03:00", "02:00"), quiet(t, "00:00", "06:00")}
	for _, zone := range testZones {
		loc := mustLoc(t, zone)
		for _, day := range days[zone] {
			start := mustUTC(t, day+"T00:00:00Z").Add(-12 * time.Hour)
			for _, q := range windows {
				for m := 0; m < 48*60; m += 53 {
					at := start.Add(time.Duration(m)*time.Minute + 13*time.Second)
					got, ok := moveBeforeQuiet(at, loc, q)
					want := walkBeforeQuiet(at, loc, q)
					if !ok || !got.Equal(want) {
						t.Fatalf("%s %s %s: moveBeforeQuiet = %s %v, walk = %s", zone, q, at.In(loc), got.In(loc), ok, want.In(loc))
					}
				}
			}
		}
	}
}

// TestMoveAfterQuietMatchesWalk sweeps each zone's daylight-saving days
// with several windows and compares the fast move with the walk.
func TestMoveAfterQuietMatchesWalk(t *testing.T) {
	days := map[string][]string{
		"UTC":                 {"2026-03-08"},
		"Asia/Kolkata":        {"2026-03-08"},
		"America/New_York":    {"2026-03-08", "2026-11-01"},
		"Europe/Berlin":       {"2026-03-29", "2026-10-25"},
		"Australia/Sydney":    {"2026-04-05", "2026-10-04"},
		"Australia/Lord_Howe": {"2026-04-05", "2026-10-04"},
		"America/Santiago":    {"2026-04-05", "2026-09-06"},
	}
	windows := []QuietHours{
		quiet(t, "21:00", "08:00"), quiet(t, "01:30", "08:00"), quiet(t, "02:30", "02:45"), quiet(t, "03:00", "02:00"),
		quiet(t, "00:00", "06:00"), quiet(t, "22:00", "02:15"), quiet(t, "23:00", "00:30"), quiet(t, "00:00", "01:30"),
	}
	for _, zone := range testZones {
		loc := mustLoc(t, zone)
		for _, day := range days[zone] {
			start := mustUTC(t, day+"T00:00:00Z").Add(-24 * time.Hour)
			for _, q := range windows {
				for m := 0; m < 48*60; m += 37 {
					at := start.Add(time.Duration(m)*time.Minute + 13*time.Second)
					got, ok := moveAfterQuiet(at, loc, q)
					want := walkAfterQuiet(at, loc, q)
					if !ok || !got.Equal(want) {
						t.Fatalf("%s %s %s: moveAfterQuiet = %s %v, walk = %s", zone, q, at.In(loc), got.In(loc), ok, want.In(loc))
					}
				}
			}
		}
	}
}

func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"08:00", "21:30", "8:00", "24:00", "12:60", "", "::", "1:2:3", "٠٨:٠٠"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseClock(s)
		if err != nil {
			return
		}
		if c < 0 || c >= minutesPerDay {
			t.Fatalf("ParseClock(%q) = %d, out of range", s, int(c))
		}
		back, err := ParseClock(c.String())
		if err != nil || back != c {
			t.Fatalf("round trip of %q: %q -> %d, %v", s, c.String(), int(back), err)
		}
		if len(s) == 5 && c.String() != s {
			t.Fatalf("ParseClock(%q).String() = %q", s, c.String())
		}
	})
}

func FuzzMoveBeforeQuiet(f *testing.F) {
	f.Add(uint8(1), int64(1772953200), uint16(1260), uint16(480))
	f.Add(uint8(1), int64(1793534400), uint16(60), uint16(480))
	f.Add(uint8(5), int64(1775394000), uint16(120), uint16(150))
	f.Fuzz(func(t *testing.T, zone uint8, unix int64, start, end uint16) {
		loc := mustLoc(t, testZones[int(zone)%len(testZones)])
		// Keep to 1900..2100, where the zone data is meaningful.
		at := time.Unix(-2208988800+abs(unix)%(200*365*86400), 0)
		q := QuietHours{Start: Clock(start), End: Clock(end)}
		got, ok := moveBeforeQuiet(at, loc, q)
		want := walkBeforeQuiet(at, loc, q)
		if !ok || !got.Equal(want) {
			t.Fatalf("%s %s: moveBeforeQuiet = %s %v, walk = %s", loc, q, got.In(loc), ok, want.In(loc))
		}
	})
}

func abs(n int64) int64 {
	if n < 0 {
		if n == -n { // math.MinInt64
			return 0
		}
		return -n
	}
	return n
}

func FuzzMoveAfterQuiet(f *testing.F) {
	f.Add(uint8(1), int64(1772953200), uint16(1260), uint16(480))
	f.Add(uint8(5), int64(1791038000), uint16(1320), uint16(135))
	f.Add(uint8(6), int64(1788663600), uint16(1380), uint16(30))
	f.Add(uint8(4), int64(-2000000000), uint16(60), uint16(1000))
	f.Fuzz(func(t *testing.T, zone uint8, unix int64, start, end uint16) {
		loc := mustLoc(t, testZones[int(zone)%len(testZones)])
		// Keep to 1900..2100, where the zone data is meaningful.
		at := time.Unix(-2208988800+abs(unix)%(200*365*86400), 0)
		q := QuietHours{Start: Clock(start), End: Clock(end)}
		got, ok := moveAfterQuiet(at, loc, q)
		want := walkAfterQuiet(at, loc, q)
		if !ok || !got.Equal(want) {
			t.Fatalf("%s %s %s: moveAfterQuiet = %s %v, walk = %s", loc, q, at.In(loc), got.In(loc), ok, want.In(loc))
		}
		if got.Before(at) || InQuiet(got, loc, q) {
			t.Fatalf("%s %s %s: moved to %s", loc, q, at.In(loc), got.In(loc))
		}
	})
}
