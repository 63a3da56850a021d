package slots

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	tests := []struct {
		in      string
		want    Clock
		wantErr string
	}{
		{in: "00:00", want: 0},
		{in: "9:00", want: 540},
		{in: "09:00", want: 540},
		{in: "17:30", want: 17*60 + 30},
		{in: "23:59", want: 1439},
		{in: "24:00", want: 1440},
		{in: "24:01", wantErr: "hour"},
		{in: "25:00", wantErr: "hour"},
		{in: "12:60", wantErr: "minute"},
		{in: "", wantErr: "HH:MM"},
		{in: "9", wantErr: "HH:MM"},
		{in: "0900", wantErr: "HH:MM"},
		{in: "9h00", wantErr: "HH:MM"},
		{in: " 9:00", wantErr: "HH:MM"},
		{in: "-1:00", wantErr: "HH:MM"},
		{in: "٠٩:٠٠", wantErr: "HH:MM"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseClock(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseClock(%q) = %v, %v; want an error about %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseClock(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseIntervals(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "09:00-12:00", want: "09:00-12:00"},
		{in: "09:00-12:00,13:00-17:00", want: "09:00-12:00,13:00-17:00"},
		{in: " 13:00 - 17:00 , 9:00-12:00 ", want: "09:00-12:00,13:00-17:00"},
		{in: "09:00-12:00,12:00-13:00", want: "09:00-12:00,12:00-13:00"},
		{in: "20:00-24:00", want: "20:00-24:00"},
		{in: "closed", want: "closed"},
		{in: "Closed", want: "closed"},
		{in: "", want: "closed"},
		{in: "12:00-09:00", wantErr: "end must be after start"},
		{in: "22:00-02:00", wantErr: "night shift"},
		{in: "09:00-09:00", wantErr: "end must be after start"},
		{in: "24:00-24:00", wantErr: "start must be"},
		{in: "09:00-12:00,11:00-13:00", wantErr: "overlaps"},
		{in: "09:00", wantErr: "HH:MM-HH:MM"},
		{in: "9-17", wantErr: "start"},
		{in: "09:00-12:00,", wantErr: "interval 2"},
		{in: "09:00-25:00", wantErr: "end"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseIntervals(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseIntervals(%q) = %v, %v; want an error about %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("ParseIntervals(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseWeek(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // Week.String()
		wantErr string // substring, including the field named
	}{
		{name: "one day", in: "mon 09:00-12:00,13:00-17:00", want: "mon 09:00-12:00,13:00-17:00"},
		{
			name: "range and lines", in: "mon-thu 09:00-17:00\nfri 09:00-13:00\nsat closed",
			want: "mon 09:00-17:00\ntue 09:00-17:00\nwed 09:00-17:00\nthu 09:00-17:00\nfri 09:00-13:00",
		},
		{
			name: "semicolons, case, full names, comments", in: "Monday 09:00-12:00; WED,fri 14:00-18:00 # afternoons\n\n# nothing",
			want: "mon 09:00-12:00\nwed 14:00-18:00\nfri 14:00-18:00",
		},
		{name: "wrapping range", in: "sat-mon 10:00-11:00", want: "mon 10:00-11:00\nsat 10:00-11:00\nsun 10:00-11:00"},
		{name: "crlf", in: "mon 09:00-10:00\r\ntue 09:00-10:00\r\n", want: "mon 09:00-10:00\ntue 09:00-10:00"},
		{name: "empty", in: "", want: ""},
		{name: "bad day", in: "mon 09:00-12:00\nmoon 09:00-12:00", wantErr: `line 2: "moon" is not a day`},
		{name: "bad range end", in: "mon-frii 09:00-12:00", wantErr: `line 1: "frii"`},
		{name: "twice", in: "mon-fri 09:00-12:00\nwed 13:00-14:00", wantErr: "line 2: wed is given twice"},
		{name: "bad interval", in: "mon 09:00-12:00\ntue 9-17", wantErr: "line 2: interval 1: start"},
		{name: "overlap", in: "tue 09:00-12:00,11:00-13:00", wantErr: "line 1: 11:00-13:00 overlaps 09:00-12:00"},
		{name: "no hours", in: "tue", want: ""},
		{name: "too long", in: strings.Repeat("#", maxWeekInput+1), wantErr: "hours: longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ParseWeek(tt.in)
			if tt.wantErr != "" {
				var fe *FieldError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) {
					t.Fatalf("ParseWeek(%q) = %v; want a FieldError containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWeek(%q): %v", tt.in, err)
			}
			if got := w.String(); got != tt.want {
				t.Fatalf("ParseWeek(%q) = %q, want %q", tt.in, got, tt.want)
			}
			back, err := ParseWeek(w.String())
			if err != nil || back.String() != w.String() {
				t.Fatalf("round trip: %q -> %v, %v", w.String(), back, err)
			}
		})
	}
}

func TestWeekJSON(t *testing.T) {
	w, err := ParseWeek("mon-fri 09:00-12:00,13:00-17:00\nsat 09:00-12:00")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"mon":["09:00-12:00","13:00-17:00"],"tue":["09:00-12:00","13:00-17:00"],"wed":["09:00-12:00","13:00-17:00"],` +
		`"thu":["09:00-12:00","13:00-17:00"],"fri":["09:00-12:00","13:00-17:00"],"sat":["09:00-12:00"],"sun":[]}`
	if string(b) != want {
		t.Fatalf("Marshal = %s\nwant      %s", b, want)
	}
	var back Week
	if err := json.Unmarshal(b, &back); err != nil || back.String() != w.String() {
		t.Fatalf("Unmarshal(%s) = %v, %v", b, back, err)
	}

	// The other accepted shapes.
	var loose Week
	if err := json.Unmarshal([]byte(`{"Monday":"13:00-17:00, 09:00-12:00","wed":null,"fri":"closed","sat":["10:00-11:00"]}`), &loose); err != nil {
		t.Fatal(err)
	}
	if got := loose.String(); got != "mon 09:00-12:00,13:00-17:00\nsat 10:00-11:00" {
		t.Fatalf("loose = %q", got)
	}

	bad := []struct{ in, field, reason string }{
		{`{"mon":["09:00-12:00","25:00-26:00"]}`, "mon[1]", "hour"},
		{`{"tue":["09:00-12:00","11:00-13:00"]}`, "tue", "overlaps"},
		{`{"funday":[]}`, "funday", "not a day"},
		{`{"mon":[],"monday":[]}`, "mon", "given twice"},
		{`{"mon":[9]}`, "mon", "list"},
		{`{"mon":"9-5"}`, "mon", "interval 1"},
	}
	for _, tt := range bad {
		var w Week
		err := json.Unmarshal([]byte(tt.in), &w)
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, tt.field) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Unmarshal(%s) = %v; want a FieldError on %s about %q", tt.in, err, tt.field, tt.reason)
		}
	}
	if err := json.Unmarshal([]byte(`["mon"]`), &w); err == nil {
		t.Error("Unmarshal of a list succeeded")
	}
}

func date(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseExceptions(t *testing.T) {
	in := "2026-12-25 closed # Christmas\n2026-08-01..2026-08-15 closed # summer leave\n2026-12-24 09:00-12:00"
	got, err := ParseExceptions(in)
	if err != nil {
		t.Fatal(err)
	}
	want := "2026-08-01..2026-08-15 closed # summer leave\n2026-12-24 09:00-12:00\n2026-12-25 closed # Christmas"
	if s := FormatExceptions(got); s != want {
		t.Fatalf("FormatExceptions = %q\nwant %q", s, want)
	}
	back, err := ParseExceptions(FormatExceptions(got))
	if err != nil || FormatExceptions(back) != want {
		t.Fatalf("round trip: %v, %v", back, err)
	}

	bad := []struct{ in, want string }{
		{"2026-02-30 closed", `line 1: "2026-02-30": want a date`},
		{"2026-12-25", `line 1: want "closed"`},
		{"closed", "line 1"},
		{"2026-08-15..2026-08-01 closed", "line 1: to: 2026-08-01 is before from"},
		{"2026-01-01..2027-12-31 closed", "line 1: to: the range covers 730 days"},
		{"2026-12-24 12:00-09:00", "line 1: interval 1"},
		{"2026-08-01..2026-08-15 closed\n2026-08-10 09:00-12:00", "exceptions: 2026-08-01..2026-08-15 closed and 2026-08-10 09:00-12:00 share a date"},
		{"2026-08-01..x closed", `line 1: "x"`},
	}
	for _, tt := range bad {
		_, err := ParseExceptions(tt.in)
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseExceptions(%q) = %v; want a FieldError containing %q", tt.in, err, tt.want)
		}
	}
}

func TestHoursJSONAndValidate(t *testing.T) {
	h, err := ParseHours("mon-fri 09:00-17:00", "2026-12-25 closed # Christmas\n2026-12-24 09:00-12:00")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"exceptions":[{"from":"2026-12-24","hours":["09:00-12:00"]},{"from":"2026-12-25","note":"Christmas"}]`) {
		t.Fatalf("Marshal = %s", b)
	}
	var back Hours
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Weekly.String() != h.Weekly.String() || FormatExceptions(back.Exceptions) != FormatExceptions(h.Exceptions) {
		t.Fatalf("round trip = %+v", back)
	}

	bad := []struct {
		name  string
		hours Hours
		field string
	}{
		{"bad weekly interval", Hours{Weekly: Week{time.Tuesday: {{Start: 600, End: 540}}}}, "weekly.tue[0]"},
		{"unsorted weekly", Hours{Weekly: Week{time.Monday: {{Start: 600, End: 660}, {Start: 540, End: 600}}}}, "weekly.mon[1]"},
		{"no from", Hours{Exceptions: []Exception{{}}}, "exceptions[0].from"},
		{"impossible date", Hours{Exceptions: []Exception{{From: Date{2026, 2, 30}}}}, "exceptions[0].from"},
		{"to before from", Hours{Exceptions: []Exception{{From: date(t, "2026-03-02"), To: date(t, "2026-03-01")}}}, "exceptions[0].to"},
		{"bad exception hours", Hours{Exceptions: []Exception{{From: date(t, "2026-03-02"), Hours: Intervals{{Start: 0, End: 2000}}}}}, "exceptions[0].hours[0]"},
		{"overlap", Hours{Exceptions: []Exception{
			{From: date(t, "2026-03-05")},
			{From: date(t, "2026-03-01"), To: date(t, "2026-03-07")},
		}}, "exceptions"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.hours.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Validate() = %v; want a FieldError on %q", err, tt.field)
			}
		})
	}

	var h2 Hours
	err = json.Unmarshal([]byte(`{"weekly":{"mon":["09:00-12:00"]},"exceptions":[{"from":"2026-13-01"}]}`), &h2)
	if err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Fatalf("bad exception date: %v", err)
	}
}

func TestHoursOn(t *testing.T) {
	h, err := ParseHours("mon-fri 09:00-17:00\nsat 09:00-12:00",
		"2026-12-24 09:00-12:00\n2026-12-25 closed\n2026-08-03..2026-08-14 closed\n2026-08-15 14:00-16:00")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ date, want string }{
		{"2026-12-23", "09:00-17:00"}, // Wednesday
		{"2026-12-24", "09:00-12:00"}, // short day
		{"2026-12-25", "closed"},      // holiday on a Friday
		{"2026-12-26", "09:00-12:00"}, // Saturday
		{"2026-12-27", "closed"},      // Sunday
		{"2026-08-02", "closed"},      // Sunday before the leave
		{"2026-08-03", "closed"},      // first day of leave
		{"2026-08-10", "closed"},
		{"2026-08-14", "closed"}, // last day of leave, included
		{"2026-08-15", "14:00-16:00"},
		{"2026-08-17", "09:00-17:00"},
	}
	for _, tt := range tests {
		if got := h.On(date(t, tt.date)).String(); got != tt.want {
			t.Errorf("On(%s) = %s, want %s", tt.date, got, tt.want)
		}
	}
}

func TestDate(t *testing.T) {
	d := date(t, "2026-02-28")
	if got := d.AddDays(1).String(); got != "2026-03-01" {
		t.Errorf("AddDays(1) = %s", got)
	}
	if got := d.AddDays(-59).String(); got != "2025-12-31" {
		t.Errorf("AddDays(-59) = %s", got)
	}
	if d.Weekday() != time.Saturday {
		t.Errorf("Weekday = %v", d.Weekday())
	}
	if d.Compare(d.AddDays(1)) != -1 || d.Compare(d) != 0 || d.AddDays(1).Compare(d) != 1 {
		t.Error("Compare")
	}
	if n := d.daysUntil(date(t, "2027-02-28")); n != 365 {
		t.Errorf("daysUntil = %d", n)
	}
	for _, s := range []string{"2026-2-28", "26-02-28", "2026-02-29", "", "2026/02/28"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) succeeded", s)
		}
	}
}
