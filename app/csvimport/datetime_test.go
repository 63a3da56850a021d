package csvimport

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	dec7 := Date{2026, time.December, 7}
	tests := []struct {
		in    string
		order DateOrder
		want  Date
	}{
		{"2026-12-07", DayFirst, dec7},
		{"2026-12-07", MonthFirst, dec7},
		{"2026/12/07", MonthFirst, dec7},
		{"2026.12.07", MonthFirst, dec7},
		{"2026-12-7", DayFirst, dec7},
		{"12/07/2026", MonthFirst, dec7},
		{"07/12/2026", DayFirst, dec7},
		{"7/12/2026", DayFirst, dec7},
		{"12/7/26", MonthFirst, dec7},
		{"12-07-2026", MonthFirst, dec7},
		{"07-12-2026", DayFirst, dec7},
		{"07.12.2026", DayFirst, dec7},
		{"07.12.2026", MonthFirst, dec7}, // dots are always day first
		{"7.12.26", MonthFirst, dec7},
		{"7 Dec 2026", MonthFirst, dec7},
		{"7-Dec-26", MonthFirst, dec7},
		{"07-DEC-2026", DayFirst, dec7},
		{"Dec 7, 2026", DayFirst, dec7},
		{"December 7th, 2026", DayFirst, dec7},
		{"Monday, December 7, 2026", DayFirst, dec7},
		{"Mon 7 Dec 2026", DayFirst, dec7},
		{"2026 Dec 7", DayFirst, dec7},
		{"  2026-12-07  ", DayFirst, dec7},
		{"2028-02-29", DayFirst, Date{2028, time.February, 29}},
		{"12/07/2026", "", Date{2026, time.July, 12}}, // unknown order: day first
	}
	for _, tc := range tests {
		got, err := ParseDate(tc.in, tc.order)
		if err != nil || got != tc.want {
			t.Errorf("ParseDate(%q, %q) = %v, %v; want %v", tc.in, tc.order, got, err, tc.want)
		}
	}
}

func TestParseDateRefuses(t *testing.T) {
	tests := []struct {
		in    string
		order DateOrder
		want  string // part of the message
	}{
		{"", MonthFirst, "empty"},
		{"tomorrow", MonthFirst, "not a date"},
		{"13/07/2026", MonthFirst, "month/day/year order"},
		{"07/13/2026", DayFirst, "day/month/year order"},
		{"2026-02-30", DayFirst, "February 2026 has no day 30"},
		{"2027-02-29", DayFirst, "has no day 29"},
		{"2026-13-01", DayFirst, "out of range"},
		{"31.04.2026", DayFirst, "has no day 31"},
		{"1/2/3/4", DayFirst, "not a date"},
		{"123/1/2026", DayFirst, "not a date"},
		{"1/1/202", DayFirst, "not a date"},
		{"1800-01-01", DayFirst, "year 1800 is out of range"},
		{"46363", DayFirst, "not a date"},
		{"Dec 2026", DayFirst, "not a date"},
		{"Dec 7 foo 2026", DayFirst, "not a date"},
		{strings.Repeat("1", 100), DayFirst, "too long"},
	}
	for _, tc := range tests {
		_, err := ParseDate(tc.in, tc.order)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseDate(%q, %q) error = %v, want it to say %q", tc.in, tc.order, err, tc.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in           string
		hour, minute int
	}{
		{"14:30", 14, 30},
		{"9:05", 9, 5},
		{"09:05", 9, 5},
		{"00:00", 0, 0},
		{"23:59", 23, 59},
		{"14:30:00", 14, 30},
		{"14:30:00.000", 14, 30},
		{"14h30", 14, 30},
		{"14H30", 14, 30},
		{"14 h 30", 14, 30},
		{"14h", 14, 0},
		{"14.30", 14, 30},
		{"2:30 PM", 14, 30},
		{"2:30PM", 14, 30},
		{"2:30 pm", 14, 30},
		{"2:30 p.m.", 14, 30},
		{"2:30p", 14, 30},
		{"2 PM", 14, 0},
		{"2pm", 14, 0},
		{"12:15 AM", 0, 15},
		{"12:15 PM", 12, 15},
		{"11:59 a.m.", 11, 59},
		{"12 am", 0, 0},
	}
	for _, tc := range tests {
		h, m, err := ParseTime(tc.in)
		if err != nil || h != tc.hour || m != tc.minute {
			t.Errorf("ParseTime(%q) = %d:%02d, %v; want %d:%02d", tc.in, h, m, err, tc.hour, tc.minute)
		}
	}
	for _, bad := range []string{
		"", "24:00", "12:60", "1430", "14:3", "14:300", "13 PM", "0 AM", "2:30 XM", "noon",
		"14:30:15", "14.3", "1:2:3:4", "-1:00", "14:30:0a", strings.Repeat("1", 40),
	} {
		if h, m, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) = %d:%02d, want an error", bad, h, m)
		}
	}
}

func TestParseStart(t *testing.T) {
	local := func(y int, mo time.Month, d, h, mi int) Start {
		return Start{Local: LocalDateTime{y, mo, d, h, mi}}
	}
	tests := []struct {
		in    string
		order DateOrder
		want  Start
	}{
		{"2026-12-07 14:30", DayFirst, local(2026, 12, 7, 14, 30)},
		{"2026-12-07T14:30", DayFirst, local(2026, 12, 7, 14, 30)},
		{"2026-12-07T14:30:00", DayFirst, local(2026, 12, 7, 14, 30)},
		{"2026-12-07  14:30", DayFirst, local(2026, 12, 7, 14, 30)},
		{"12/07/2026 2:30 PM", MonthFirst, local(2026, 12, 7, 14, 30)},
		{"07/12/2026 14:30", DayFirst, local(2026, 12, 7, 14, 30)},
		{"07.12.2026 14h30", MonthFirst, local(2026, 12, 7, 14, 30)},
		{"Dec 7, 2026 9:00 am", DayFirst, local(2026, 12, 7, 9, 0)},
		{"7 December 2026 09:00", DayFirst, local(2026, 12, 7, 9, 0)},
		{"2026-12-07T14:30:00+01:00", DayFirst, Start{Instant: time.Date(2026, 12, 7, 13, 30, 0, 0, time.UTC)}},
		{"2026-12-07T14:30:00Z", DayFirst, Start{Instant: time.Date(2026, 12, 7, 14, 30, 0, 0, time.UTC)}},
		{"2026-12-07T14:30-05:00", DayFirst, Start{Instant: time.Date(2026, 12, 7, 19, 30, 0, 0, time.UTC)}},
		{"2026-12-07 14:30 +0100", DayFirst, Start{Instant: time.Date(2026, 12, 7, 13, 30, 0, 0, time.UTC)}},
		{"2026-12-07 14:30Z", DayFirst, Start{Instant: time.Date(2026, 12, 7, 14, 30, 0, 0, time.UTC)}},
		{"2026-12-07 14:30 UTC", DayFirst, Start{Instant: time.Date(2026, 12, 7, 14, 30, 0, 0, time.UTC)}},
		{"12/07/2026 2:30 PM GMT", MonthFirst, Start{Instant: time.Date(2026, 12, 7, 14, 30, 0, 0, time.UTC)}},
	}
	for _, tc := range tests {
		got, err := ParseStart(tc.in, tc.order)
		if err != nil {
			t.Errorf("ParseStart(%q): %v", tc.in, err)
			continue
		}
		if got.Local != tc.want.Local || !got.Instant.Equal(tc.want.Instant) {
			t.Errorf("ParseStart(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"2026-12-07", "a date without a time"},
		{"12/07/2026", "a date without a time"},
		{"14:30", "not a date and time"},
		{"soon", "not a date and time"},
		{"2026-12-07 25:00", "not a date and time"},
		{"2026-02-30 10:00", "has no day 30"},
		{"2026-12-07 14:30 EST", "not a date and time"},
		{"2026-12-07T14:30+1:00", "not an offset"},
		{"2026-12-07T14:30+15:00", "not an offset"},
		{strings.Repeat("2026-12-07 ", 10), "too long"},
	} {
		_, err := ParseStart(tc.in, DayFirst)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseStart(%q) error = %v, want it to say %q", tc.in, err, tc.want)
		}
	}
}

func TestLocalDateTimeIn(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		l    LocalDateTime
		loc  *time.Location
		want time.Time // UTC; zero for a skipped time
	}{
		{"winter", LocalDateTime{2026, 12, 7, 14, 30}, ny, time.Date(2026, 12, 7, 19, 30, 0, 0, time.UTC)},
		{"summer", LocalDateTime{2026, 7, 7, 14, 30}, ny, time.Date(2026, 7, 7, 18, 30, 0, 0, time.UTC)},
		{"skipped in spring", LocalDateTime{2026, 3, 8, 2, 30}, ny, time.Time{}},
		{"just before the gap", LocalDateTime{2026, 3, 8, 1, 59}, ny, time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC)},
		{"just after the gap", LocalDateTime{2026, 3, 8, 3, 0}, ny, time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
		{"twice in autumn: the first", LocalDateTime{2026, 11, 1, 1, 30}, ny, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)},
		{"Paris skipped", LocalDateTime{2026, 3, 29, 2, 15}, paris, time.Time{}},
		{"Paris twice", LocalDateTime{2026, 10, 25, 2, 15}, paris, time.Date(2026, 10, 25, 0, 15, 0, 0, time.UTC)},
		{"nil is UTC", LocalDateTime{2026, 12, 7, 14, 30}, nil, time.Date(2026, 12, 7, 14, 30, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.l.In(tc.loc)
			if tc.want.IsZero() {
				if !errors.Is(err, ErrNonexistentTime) {
					t.Fatalf("In = %v, %v; want ErrNonexistentTime", got, err)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Fatalf("In = %v, %v; want %v", got, err, tc.want)
			}
			if tc.loc != nil && got.Location() != tc.loc {
				t.Fatalf("In returned a time in %v", got.Location())
			}
		})
	}
	s := Start{Instant: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if got, err := s.In(ny); err != nil || !got.Equal(s.Instant) {
		t.Fatalf("Start.In with an instant = %v, %v", got, err)
	}
	if got := (LocalDateTime{2026, 12, 7, 9, 5}).String(); got != "2026-12-07 09:05" {
		t.Fatalf("String = %q", got)
	}
}

func TestDefaultDateOrder(t *testing.T) {
	for country, want := range map[string]DateOrder{
		"US": MonthFirst, "us ": MonthFirst, "PR": MonthFirst, "PH": MonthFirst,
		"CA": DayFirst, "GB": DayFirst, "FR": DayFirst, "": DayFirst,
	} {
		if got := DefaultDateOrder(country); got != want {
			t.Errorf("DefaultDateOrder(%q) = %q, want %q", country, got, want)
		}
	}
}
