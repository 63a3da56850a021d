package slots

import (
	"errors"
	"fmt"
	"slices"
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

func week(t testing.TB, s string) Hours {
	t.Helper()
	w, err := ParseWeek(s)
	if err != nil {
		t.Fatal(err)
	}
	return Hours{Weekly: w}
}

// local parses "2006-01-02 15:04" on loc's wall clock; for a wall time that
// occurs twice, a trailing offset picks one ("2026-11-01 01:30 -0500").
func local(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	if len(s) > len("2006-01-02 15:04") {
		v, err := time.Parse("2006-01-02 15:04 -0700", s)
		if err != nil {
			t.Fatal(err)
		}
		return v.In(loc)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// show formats starts as "01-02 15:04 -0700", the offset telling the two
// occurrences of a repeated wall time apart.
func show(ts []time.Time) string {
	parts := make([]string, len(ts))
	for i, v := range ts {
		parts[i] = v.Format("01-02 15:04 -0700")
	}
	return strings.Join(parts, ", ")
}

func TestFindDaylightSaving(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	paris := mustLoc(t, "Europe/Paris")
	lhi := mustLoc(t, "Australia/Lord_Howe")
	tests := []struct {
		name     string
		loc      *time.Location
		hours    string
		after    string
		duration time.Duration
		step     time.Duration
		limit    int
		days     int
		want     string
	}{
		{
			name: "New York: 09:00 stays 09:00 across spring forward", loc: ny,
			hours: "sat-mon 09:00-10:00", after: "2026-03-07 00:00", duration: 30 * time.Minute, step: 30 * time.Minute, limit: 10, days: 3,
			want: "03-07 09:00 -0500, 03-07 09:30 -0500, 03-08 09:00 -0400, 03-08 09:30 -0400, 03-09 09:00 -0400, 03-09 09:30 -0400",
		},
		{
			name: "New York: 02:00 and 02:30 do not exist on 8 March", loc: ny,
			hours: "sun 01:00-04:00", after: "2026-03-08 00:00", duration: 30 * time.Minute, step: 30 * time.Minute, limit: 4,
			want: "03-08 01:00 -0500, 03-08 01:30 -0500, 03-08 03:00 -0400, 03-08 03:30 -0400",
		},
		{
			name: "New York: an hour-long visit straddles the gap in real time", loc: ny,
			hours: "sun 01:00-04:00", after: "2026-03-08 00:00", duration: time.Hour, step: 30 * time.Minute, limit: 10,
			want: "03-08 01:00 -0500, 03-08 01:30 -0500, 03-08 03:00 -0400",
		},
		{
			name: "New York: the repeated hour is offered once, on fall back", loc: ny,
			hours: "sun 00:00-03:00", after: "2026-11-01 00:00", duration: 30 * time.Minute, step: 30 * time.Minute, limit: 10,
			want: "11-01 00:00 -0400, 11-01 00:30 -0400, 11-01 01:00 -0400, 11-01 01:30 -0400, 11-01 02:00 -0500, 11-01 02:30 -0500",
		},
		{
			name: "New York: the repeated hour is working time for a longer visit", loc: ny,
			hours: "sun 00:00-03:00", after: "2026-11-01 00:00", duration: time.Hour, step: 30 * time.Minute, limit: 10,
			want: "11-01 00:00 -0400, 11-01 00:30 -0400, 11-01 01:00 -0400, 11-01 01:30 -0400, 11-01 02:00 -0500",
		},
		{
			name: "New York: 09:00 stays 09:00 across fall back", loc: ny,
			hours: "sat-mon 09:00-09:30", after: "2026-10-31 00:00", duration: 30 * time.Minute, limit: 10, days: 3,
			want: "10-31 09:00 -0400, 11-01 09:00 -0500, 11-02 09:00 -0500",
		},
		{
			name: "Paris: 09:00 stays 09:00 across spring forward", loc: paris,
			hours: "mon-sun 09:00-09:15", after: "2026-03-28 00:00", duration: 15 * time.Minute, limit: 10, days: 3,
			want: "03-28 09:00 +0100, 03-29 09:00 +0200, 03-30 09:00 +0200",
		},
		{
			name: "Paris: 02:00 does not exist on 29 March", loc: paris,
			hours: "sun 01:00-04:00", after: "2026-03-29 00:00", duration: time.Hour, step: time.Hour, limit: 5,
			want: "03-29 01:00 +0100, 03-29 03:00 +0200",
		},
		{
			name: "Paris: 02:00 and 02:30 once on 25 October", loc: paris,
			hours: "sun 01:00-04:00", after: "2026-10-25 00:00", duration: 30 * time.Minute, step: 30 * time.Minute, limit: 10,
			want: "10-25 01:00 +0200, 10-25 01:30 +0200, 10-25 02:00 +0200, 10-25 02:30 +0200, 10-25 03:00 +0100, 10-25 03:30 +0100",
		},
		{
			name: "Paris: after is inside the second occurrence", loc: paris,
			hours: "sun 01:00-04:00", after: "2026-10-25 02:10 +0100", duration: 30 * time.Minute, step: 30 * time.Minute, limit: 10,
			want: "10-25 03:00 +0100, 10-25 03:30 +0100",
		},
		{
			name: "Lord Howe: 02:00 to 02:29 do not exist on 4 October", loc: lhi,
			hours: "sun 01:00-04:00", after: "2026-10-04 00:00", duration: 30 * time.Minute, step: 30 * time.Minute, limit: 10,
			want: "10-04 01:00 +1030, 10-04 01:30 +1030, 10-04 02:30 +1100, 10-04 03:00 +1100, 10-04 03:30 +1100",
		},
		{
			name: "Lord Howe: a visit from 01:45 lasts its real hour, to 03:15", loc: lhi,
			hours: "sun 01:45-03:15", after: "2026-10-04 00:00", duration: time.Hour, step: 15 * time.Minute, limit: 10,
			want: "10-04 01:45 +1030",
		},
		{
			name: "Lord Howe: half an hour repeats on 5 April", loc: lhi,
			hours: "sun 01:00-03:00", after: "2026-04-05 00:00", duration: 15 * time.Minute, step: 15 * time.Minute, limit: 20,
			want: "04-05 01:00 +1100, 04-05 01:15 +1100, 04-05 01:30 +1100, 04-05 01:45 +1100, " +
				"04-05 02:00 +1030, 04-05 02:15 +1030, 04-05 02:30 +1030, 04-05 02:45 +1030",
		},
		{
			name: "Lord Howe: 09:00 stays 09:00 on both sides", loc: lhi,
			hours: "sat-mon 09:00-09:30", after: "2026-04-04 00:00", duration: 30 * time.Minute, limit: 10, days: 3,
			want: "04-04 09:00 +1100, 04-05 09:00 +1030, 04-06 09:00 +1030",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := local(t, tt.loc, tt.after)
			// A day, or three for the "stays 09:00" cases.
			q := Query{
				Open: []Hours{week(t, tt.hours)}, Zone: tt.loc, Duration: tt.duration, Step: tt.step,
				After: after, Until: after.Add(time.Duration(max(tt.days, 1)) * 24 * time.Hour), Limit: tt.limit,
			}
			got, err := Find(q)
			if err != nil {
				t.Fatal(err)
			}
			if show(got) != tt.want {
				t.Fatalf("Find =\n  %s\nwant\n  %s", show(got), tt.want)
			}
			for _, v := range got {
				if v.Location() != tt.loc {
					t.Fatalf("%v is not in %s", v, tt.loc)
				}
			}
			q.Until = q.After.Add(72 * time.Hour)
			q.Limit = 1000
			checkAgainstBruteForce(t, q)
		})
	}
}

func TestFindBusyAndBuffers(t *testing.T) {
	paris := mustLoc(t, "Europe/Paris")
	at := func(s string) time.Time { return local(t, paris, "2026-06-01 "+s) } // a Monday
	base := Query{
		Open: []Hours{week(t, "mon 09:00-12:00")}, Zone: paris, Duration: 30 * time.Minute,
		After: at("00:00"), Limit: 20,
	}
	tests := []struct {
		name   string
		busy   []Busy
		buffer Buffer
		want   []string
	}{
		{"free", nil, Buffer{}, []string{"09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00", "11:15", "11:30"}},
		{
			"one appointment",
			[]Busy{{Start: at("10:00"), End: at("10:30")}},
			Buffer{},
			[]string{"09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"},
		},
		{
			"its buffer after",
			[]Busy{{Start: at("10:00"), End: at("10:30"), Buffer: Buffer{After: 15 * time.Minute}}},
			Buffer{},
			[]string{"09:00", "09:15", "09:30", "10:45", "11:00", "11:15", "11:30"},
		},
		{
			"its buffer before",
			[]Busy{{Start: at("10:00"), End: at("10:30"), Buffer: Buffer{Before: 15 * time.Minute}}},
			Buffer{},
			[]string{"09:00", "09:15", "10:30", "10:45", "11:00", "11:15", "11:30"},
		},
		{
			"both buffers add up",
			[]Busy{{Start: at("10:00"), End: at("10:30"), Buffer: Buffer{After: 15 * time.Minute}}},
			Buffer{Before: 15 * time.Minute},
			[]string{"09:00", "09:15", "09:30", "11:00", "11:15", "11:30"},
		},
		{
			"the new visit's buffer may leave the hours", nil,
			Buffer{Before: time.Hour, After: time.Hour},
			[]string{"09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00", "11:15", "11:30"},
		},
		{"overlapping and unsorted busy", []Busy{
			{Start: at("11:00"), End: at("12:00")},
			{Start: at("09:10"), End: at("09:20")},
			{Start: at("09:15"), End: at("09:50")},
		}, Buffer{}, []string{"10:00", "10:15", "10:30"}},
		{
			"touching is not overlapping",
			[]Busy{{Start: at("09:00"), End: at("09:30")}, {Start: at("10:00"), End: at("12:00")}},
			Buffer{},
			[]string{"09:30"},
		},
		{
			"a busy end before its start is a point",
			[]Busy{{Start: at("10:00"), End: at("09:00")}},
			Buffer{},
			[]string{"09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00", "11:15", "11:30"},
		},
		{"all day busy", []Busy{{Start: at("00:00"), End: at("23:00")}}, Buffer{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := base
			q.Busy, q.Buffer = tt.busy, tt.buffer
			q.Until = at("23:59")
			got, err := Find(q)
			if err != nil {
				t.Fatal(err)
			}
			var times []string
			for _, v := range got {
				times = append(times, v.Format("15:04"))
			}
			if !slices.Equal(times, tt.want) {
				t.Fatalf("Find = %v, want %v", times, tt.want)
			}
			checkAgainstBruteForce(t, q)
		})
	}
}

func TestFindSchedules(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	holidays, err := ParseExceptions("2026-07-03 closed # Independence Day, observed\n2026-07-07..2026-07-09 closed # leave\n2026-07-10 13:00-14:00")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		q     Query
		want  string
		check bool
	}{
		{
			name: "provider within location",
			q: Query{
				Open:     []Hours{week(t, "mon-fri 08:00-10:00"), week(t, "mon-fri 09:00-17:00")},
				Duration: time.Hour, Step: 30 * time.Minute, After: local(t, ny, "2026-07-01 00:00"), Limit: 4,
			},
			want: "07-01 09:00 -0400, 07-02 09:00 -0400, 07-03 09:00 -0400, 07-06 09:00 -0400", check: true,
		},
		{
			name: "holiday, leave and a short day",
			q: Query{
				Open:     []Hours{{Weekly: week(t, "mon-fri 09:00-10:00").Weekly, Exceptions: holidays}},
				Duration: time.Hour, After: local(t, ny, "2026-07-02 00:00"), Limit: 5,
			},
			want: "07-02 09:00 -0400, 07-06 09:00 -0400, 07-10 13:00 -0400, 07-13 09:00 -0400, 07-14 09:00 -0400", check: true,
		},
		{
			name: "the location's holiday closes the provider too",
			q: Query{
				Open:     []Hours{week(t, "mon-fri 09:00-10:00"), {Weekly: week(t, "mon-sun 00:00-24:00").Weekly, Exceptions: holidays[:1]}},
				Duration: time.Hour, After: local(t, ny, "2026-07-02 00:00"), Limit: 2,
			},
			want: "07-02 09:00 -0400, 07-06 09:00 -0400", check: true,
		},
		{
			name: "a night shift joins across midnight",
			q: Query{
				Open:     []Hours{week(t, "mon 20:00-24:00\ntue 00:00-04:00")},
				Duration: 6 * time.Hour, Step: time.Hour, After: local(t, ny, "2026-07-06 00:00"), Until: local(t, ny, "2026-07-08 00:00"), Limit: 5,
			},
			want: "07-06 20:00 -0400, 07-06 21:00 -0400, 07-06 22:00 -0400", check: true,
		},
		{
			name: "starts align to the step on the wall clock",
			q: Query{
				Open:     []Hours{week(t, "wed 09:10-10:20")},
				Duration: 15 * time.Minute, After: local(t, ny, "2026-07-01 00:00"), Until: local(t, ny, "2026-07-02 00:00"), Limit: 10,
			},
			want: "07-01 09:15 -0400, 07-01 09:30 -0400, 07-01 09:45 -0400, 07-01 10:00 -0400", check: true,
		},
		{
			name: "after mid-slot, with nanoseconds",
			q: Query{
				Open:     []Hours{week(t, "wed 09:00-10:00")},
				Duration: 15 * time.Minute, After: local(t, ny, "2026-07-01 09:15").Add(time.Nanosecond), Until: local(t, ny, "2026-07-02 00:00"), Limit: 10,
			},
			want: "07-01 09:30 -0400, 07-01 09:45 -0400", check: true,
		},
		{
			name: "after exactly on a start includes it",
			q: Query{
				Open:     []Hours{week(t, "wed 09:00-10:00")},
				Duration: 30 * time.Minute, After: local(t, ny, "2026-07-01 09:30"), Until: local(t, ny, "2026-07-02 00:00"), Limit: 10,
			},
			want: "07-01 09:30 -0400", check: true,
		},
		{
			name: "a step that does not divide the day restarts at midnight",
			q: Query{
				Open:     []Hours{week(t, "wed-thu 00:00-02:00")},
				Duration: time.Minute, Step: 50 * time.Minute, After: local(t, ny, "2026-07-01 00:00"), Until: local(t, ny, "2026-07-03 00:00"), Limit: 10,
			},
			want:  "07-01 00:00 -0400, 07-01 00:50 -0400, 07-01 01:40 -0400, 07-02 00:00 -0400, 07-02 00:50 -0400, 07-02 01:40 -0400",
			check: true,
		},
		{
			name: "until is excluded",
			q: Query{
				Open:     []Hours{week(t, "wed 09:00-10:00")},
				Duration: 15 * time.Minute, After: local(t, ny, "2026-07-01 00:00"), Until: local(t, ny, "2026-07-01 09:30"), Limit: 10,
			},
			want: "07-01 09:00 -0400, 07-01 09:15 -0400", check: true,
		},
		{
			name: "a year ahead at most",
			q: Query{
				Open:     []Hours{{Exceptions: []Exception{{From: date(t, "2027-07-01"), Hours: Intervals{{Start: 540, End: 600}}}}}},
				Duration: 15 * time.Minute, After: local(t, ny, "2026-06-30 00:00"), Limit: 10,
			},
			want: "",
		},
		{
			name: "within a year",
			q: Query{
				Open:     []Hours{{Exceptions: []Exception{{From: date(t, "2027-06-29"), Hours: Intervals{{Start: 540, End: 570}}}}}},
				Duration: 15 * time.Minute, After: local(t, ny, "2026-06-30 00:00"), Limit: 10,
			},
			want: "06-29 09:00 -0400, 06-29 09:15 -0400",
		},
		{
			name: "no schedule finds nothing",
			q:    Query{Duration: 15 * time.Minute, After: local(t, ny, "2026-06-30 00:00"), Limit: 10},
			want: "",
		},
		{
			name: "a visit longer than the day's hours never fits",
			q: Query{
				Open:     []Hours{week(t, "mon-fri 09:00-12:00")},
				Duration: 4 * time.Hour, After: local(t, ny, "2026-06-30 00:00"), Limit: 10,
			},
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Zone = ny
			got, err := Find(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if show(got) != tt.want {
				t.Fatalf("Find =\n  %s\nwant\n  %s", show(got), tt.want)
			}
			if tt.check {
				q := tt.q
				if q.Until.IsZero() {
					q.Until = q.After.Add(9 * 24 * time.Hour)
				}
				q.Limit = 1000
				checkAgainstBruteForce(t, q)
			}
		})
	}
}

func TestFindNoHoursIsQuick(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	// A busy year and a closed schedule, or an open one with no room: both
	// answer at once with nothing.
	after := local(t, ny, "2026-01-01 00:00")
	busy := []Busy{{Start: after.Add(-time.Hour), End: after.Add(400 * 24 * time.Hour)}}
	for _, open := range [][]Hours{{{}}, {week(t, "mon-sun 00:00-24:00")}} {
		start := time.Now()
		got, err := Find(Query{Open: open, Zone: ny, Busy: busy, Duration: time.Hour, After: after, Limit: 3})
		if err != nil || len(got) != 0 {
			t.Fatalf("Find = %v, %v; want nothing", got, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Find took %v", d)
		}
	}
}

func TestFindQueryErrors(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	ok := Query{Open: []Hours{week(t, "mon 09:00-10:00")}, Zone: ny, Duration: time.Hour, After: time.Unix(1e9, 0), Limit: 1}
	tests := []struct {
		field string
		edit  func(q *Query)
	}{
		{"zone", func(q *Query) { q.Zone = nil }},
		{"duration", func(q *Query) { q.Duration = 0 }},
		{"duration", func(q *Query) { q.Duration = -time.Minute }},
		{"limit", func(q *Query) { q.Limit = 0 }},
		{"after", func(q *Query) { q.After = time.Time{} }},
		{"step", func(q *Query) { q.Step = 90 * time.Second }},
		{"step", func(q *Query) { q.Step = -time.Minute }},
		{"step", func(q *Query) { q.Step = 25 * time.Hour }},
		{"open[1].weekly.mon[0]", func(q *Query) {
			q.Open = append(q.Open, Hours{Weekly: Week{time.Monday: {{Start: 600, End: 500}}}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			q := ok
			tt.edit(&q)
			_, err := Find(q)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Find = %v; want a FieldError on %q", err, tt.field)
			}
		})
	}
	if _, err := Find(ok); err != nil {
		t.Fatal(err)
	}
}

func TestConflicts(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	busy := []Busy{
		{Start: at("09:00"), End: at("09:30")},
		{Start: at("10:00"), End: at("10:30"), Buffer: Buffer{After: 15 * time.Minute}},
		{Start: at("12:00"), End: at("13:00"), Buffer: Buffer{Before: 30 * time.Minute}},
		{Start: at("15:00"), End: at("15:00")},
	}
	tests := []struct {
		start string
		d     time.Duration
		buf   Buffer
		want  []int
	}{
		{"08:30", 30 * time.Minute, Buffer{}, nil},
		{"08:30", 31 * time.Minute, Buffer{}, []int{0}},
		{"09:15", 10 * time.Minute, Buffer{}, []int{0}},
		{"09:30", 30 * time.Minute, Buffer{}, nil},
		{"09:30", 30 * time.Minute, Buffer{After: time.Minute}, []int{1}},
		{"10:30", 15 * time.Minute, Buffer{}, []int{1}},
		{"10:45", 45 * time.Minute, Buffer{}, nil},
		{"10:45", 46 * time.Minute, Buffer{}, []int{2}},
		{"09:00", 4 * time.Hour, Buffer{}, []int{0, 1, 2}},
		{"14:59", time.Hour, Buffer{}, nil},
		{"11:00", 0, Buffer{}, nil},
		{"11:00", -time.Hour, Buffer{Before: 2 * time.Hour}, []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s+%s", tt.start, tt.d), func(t *testing.T) {
			if got := Conflicts(busy, at(tt.start), tt.d, tt.buf); !slices.Equal(got, tt.want) {
				t.Fatalf("Conflicts = %v, want %v", got, tt.want)
			}
		})
	}
}

// checkAgainstBruteForce compares Find with the definition applied minute by
// minute from q.After to q.Until: every aligned wall-clock minute that is a
// first occurrence, whose every minute is inside every schedule's hours and
// that conflicts with nothing. It needs q.Until set and q.Limit large.
func checkAgainstBruteForce(t testing.TB, q Query) {
	t.Helper()
	got, err := Find(q)
	if err != nil {
		t.Fatal(err)
	}
	step := q.Step
	if step == 0 {
		step = DefaultStep
	}
	open := func(u time.Time) bool {
		l := u.In(q.Zone)
		d, m := DateOf(l), Clock(l.Hour()*60+l.Minute())
		for _, h := range q.Open {
			if !slices.ContainsFunc(h.On(d), func(iv Interval) bool { return iv.Start <= m && m < iv.End }) {
				return false
			}
		}
		return len(q.Open) > 0
	}
	repeated := func(u time.Time) bool {
		l := u.In(q.Zone)
		for _, back := range []time.Duration{30 * time.Minute, time.Hour, 90 * time.Minute, 2 * time.Hour} {
			e := u.Add(-back).In(q.Zone)
			if DateOf(e) == DateOf(l) && e.Hour() == l.Hour() && e.Minute() == l.Minute() {
				return true
			}
		}
		return false
	}
	var want []time.Time
	for u := q.After.Truncate(time.Minute); u.Before(q.Until); u = u.Add(time.Minute) {
		l := u.In(q.Zone)
		if u.Before(q.After) || l.Second() != 0 || time.Duration(l.Hour()*60+l.Minute())*time.Minute%step != 0 || repeated(u) {
			continue
		}
		fits := true
		for m := time.Duration(0); m < q.Duration && fits; m += time.Minute {
			fits = open(u.Add(m))
		}
		if fits && Conflicts(q.Busy, u, q.Duration, q.Buffer) == nil {
			want = append(want, u)
		}
		if len(want) == q.Limit {
			break
		}
	}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Fatalf("Find disagrees with the brute force:\n  find:  %s\n  brute: %s", show(got), show(want))
	}
}

// BenchmarkFindBusyProvider: a provider with 5,000 appointments packed into
// a year (visits every 30 minutes of every working day), asked for the next
// three free times from the start of the year, which makes the finder walk
// the whole booked year, and from a date past the bookings.
func BenchmarkFindBusyProvider(b *testing.B) {
	paris := mustLoc(b, "Europe/Paris")
	hours := week(b, "mon-fri 08:00-12:00,13:00-18:00\nsat 09:00-12:00")
	start := local(b, paris, "2026-01-01 00:00")
	var busy []Busy
	for d := 0; len(busy) < 5000; d++ {
		day := DateOf(start.AddDate(0, 0, d))
		for _, iv := range hours.Weekly[day.Weekday()] {
			for m := iv.Start; m+30 <= iv.End && len(busy) < 5000; m += 30 {
				s := local(b, paris, fmt.Sprintf("%s %s", day, m))
				busy = append(busy, Busy{Start: s, End: s.Add(25 * time.Minute), Buffer: Buffer{After: 5 * time.Minute}})
			}
		}
	}
	last := busy[len(busy)-1].End
	slices.Reverse(busy) // the finder must not rely on their order
	for _, tc := range []struct {
		name  string
		after time.Time
	}{{"whole year booked", start}, {"past the bookings", last}} {
		b.Run(tc.name, func(b *testing.B) {
			q := Query{Open: []Hours{hours}, Zone: paris, Busy: busy, Duration: 30 * time.Minute, After: tc.after, Limit: 3}
			got, err := Find(q)
			if err != nil || len(got) != 3 || got[0].Before(last) {
				b.Fatalf("Find = %v, %v; want three times after %v", got, err, last)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Find(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
