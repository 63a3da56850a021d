package ical

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
)

var (
	stamp = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	paris = mustZone("Europe/Paris")
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func write(t testing.TB, cal Calendar, events ...Event) string {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, cal)
	for _, e := range events {
		if err := w.Write(e); err != nil {
			t.Fatalf("Write(%+v): %v", e, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.String()
}

// checkStrict checks what RFC 5545 asks of every line, beyond what the
// parser needs: CRLF only, at most 75 octets, valid UTF-8 on each physical
// line, no control characters but tab.
func checkStrict(t testing.TB, out string) {
	t.Helper()
	if !strings.HasSuffix(out, "\r\n") {
		t.Fatalf("output does not end in CRLF: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	for i, l := range lines {
		if len(l) > maxLine {
			t.Fatalf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Fatalf("line %d is not valid UTF-8 on its own: %q", i+1, l)
		}
		for _, r := range l {
			if r < 0x20 && r != '\t' || r == 0x7f {
				t.Fatalf("line %d holds control character %U: %q", i+1, r, l)
			}
		}
		if l == "" {
			t.Fatalf("line %d is empty", i+1)
		}
	}
}

func TestCalendarExact(t *testing.T) {
	got := write(t, Calendar{Name: "Dr Smith", Refresh: time.Hour, Stamp: stamp}, Event{
		UID:          "appt-42@apptconfirm",
		Start:        time.Date(2026, 12, 7, 14, 30, 0, 0, paris),
		End:          time.Date(2026, 12, 7, 15, 0, 0, 0, paris),
		Summary:      "A. L. – confirmed",
		Description:  "Bring your card; arrive early, please.\nSecond line \\ end",
		Location:     "Main St. Clinic",
		Status:       StatusConfirmed,
		Sequence:     2,
		LastModified: time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC),
	})
	want := strings.Join([]string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//apptconfirm//apptconfirm//EN",
		"CALSCALE:GREGORIAN",
		"METHOD:PUBLISH",
		"X-WR-CALNAME:Dr Smith",
		"NAME:Dr Smith",
		"REFRESH-INTERVAL;VALUE=DURATION:PT1H",
		"X-PUBLISHED-TTL:PT1H",
		"BEGIN:VEVENT",
		"UID:appt-42@apptconfirm",
		"DTSTAMP:20261201T080000Z",
		"DTSTART:20261207T133000Z",
		"DTEND:20261207T140000Z",
		"SUMMARY:A. L. – confirmed",
		`DESCRIPTION:Bring your card\; arrive early\, please.\nSecond line \\ end`,
		"LOCATION:Main St. Clinic",
		"STATUS:CONFIRMED",
		"SEQUENCE:2",
		"LAST-MODIFIED:20261130T091500Z",
		"END:VEVENT",
		"END:VCALENDAR",
		"",
	}, "\r\n")
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	checkStrict(t, got)
}

func TestEmptyCalendar(t *testing.T) {
	got := write(t, Calendar{Stamp: stamp})
	want := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//apptconfirm//apptconfirm//EN\r\n" +
		"CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := ics.ParseCalendar(strings.NewReader(got)); err != nil {
		t.Fatalf("parse: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	events := []Event{
		{
			UID:          "appt-1@example.org",
			Start:        time.Date(2026, 3, 29, 1, 30, 0, 0, paris),
			End:          time.Date(2026, 3, 29, 3, 30, 0, 0, paris),
			Summary:      "J. D. – awaiting answer",
			Description:  "Notes: café, crème; \"quoted\"\r\nnext line\ttab\\backslash",
			Location:     "Cabinet du Dr Müller, 3 rue de l'Église",
			Status:       StatusTentative,
			Sequence:     0,
			LastModified: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		},
		{
			UID:      "appt-2@example.org",
			Start:    time.Date(2026, 12, 31, 23, 45, 0, 0, time.UTC),
			End:      time.Date(2027, 1, 1, 0, 15, 0, 0, time.UTC),
			Summary:  strings.Repeat("日本語のテキスト、", 20),
			Status:   StatusCancelled,
			Sequence: 7,
		},
		{
			UID:     "appt-3@example.org",
			Start:   time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC),
			Summary: strings.Repeat("😀", 40) + strings.Repeat(`\,;`, 30),
			Status:  StatusConfirmed,
		},
	}
	out := write(t, Calendar{Name: "Clinic, Main; \"St\"", Refresh: 90 * time.Minute, Stamp: stamp}, events...)
	checkStrict(t, out)

	cal, err := ics.ParseCalendar(strings.NewReader(out))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, out)
	}
	calProps := map[string]string{}
	for _, p := range cal.CalendarProperties {
		calProps[p.IANAToken] = p.Value
	}
	for k, v := range map[string]string{
		"VERSION": "2.0", "PRODID": DefaultProdID, "CALSCALE": "GREGORIAN", "METHOD": "PUBLISH",
		"X-WR-CALNAME": "Clinic, Main; \"St\"", "NAME": "Clinic, Main; \"St\"",
		"REFRESH-INTERVAL": "PT1H30M", "X-PUBLISHED-TTL": "PT1H30M",
	} {
		if calProps[k] != v {
			t.Errorf("calendar %s = %q, want %q", k, calProps[k], v)
		}
	}

	got := cal.Events()
	if len(got) != len(events) {
		t.Fatalf("parsed %d events, want %d", len(got), len(events))
	}
	for i, want := range events {
		ev := got[i]
		if ev.Id() != want.UID {
			t.Errorf("event %d UID = %q, want %q", i, ev.Id(), want.UID)
		}
		checkTime := func(name string, get func() (time.Time, error), want time.Time) {
			t.Helper()
			got, err := get()
			if err != nil {
				t.Errorf("event %d %s: %v", i, name, err)
				return
			}
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("event %d %s = %v, want %v in UTC", i, name, got, want)
			}
		}
		checkTime("DTSTART", ev.GetStartAt, want.Start)
		checkTime("DTSTAMP", ev.GetDtStampTime, stamp)
		if want.End.IsZero() {
			if ev.GetProperty(ics.ComponentPropertyDtEnd) != nil {
				t.Errorf("event %d has a DTEND it was not given", i)
			}
		} else {
			checkTime("DTEND", ev.GetEndAt, want.End)
		}
		if want.LastModified.IsZero() {
			if ev.GetProperty(ics.ComponentPropertyLastModified) != nil {
				t.Errorf("event %d has a LAST-MODIFIED it was not given", i)
			}
		} else {
			checkTime("LAST-MODIFIED", ev.GetLastModifiedAt, want.LastModified)
		}
		for prop, v := range map[ics.ComponentProperty]string{
			ics.ComponentPropertySummary:     want.Summary,
			ics.ComponentPropertyDescription: strings.ReplaceAll(want.Description, "\r\n", "\n"),
			ics.ComponentPropertyLocation:    want.Location,
			ics.ComponentPropertyStatus:      string(want.Status),
			ics.ComponentPropertySequence:    strconv.Itoa(want.Sequence),
		} {
			p := ev.GetProperty(prop)
			switch {
			case v == "" && p != nil:
				t.Errorf("event %d has %s %q, want none", i, prop, p.Value)
			case v != "" && p == nil:
				t.Errorf("event %d has no %s, want %q", i, prop, v)
			case v != "" && p.Value != v:
				t.Errorf("event %d %s = %q, want %q", i, prop, p.Value, v)
			}
		}
	}
}

func TestFolding(t *testing.T) {
	tests := []struct {
		name, text string
	}{
		{"ascii", strings.Repeat("abcdefghij", 30)},
		{"two-byte", strings.Repeat("é", 200)},
		{"three-byte", strings.Repeat("€", 120)},
		{"four-byte", strings.Repeat("𝄞", 90)},
		{"mixed offsets", "x" + strings.Repeat("é€𝄞", 50)},
		{"escapes at the edges", strings.Repeat(`a\,`, 100)},
		{"backslash runs", strings.Repeat(`\`, 301)},
		{"combining marks", strings.Repeat("e\u0301", 100)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for shift := 0; shift < 4; shift++ {
				text := strings.Repeat("y", shift) + tc.text
				out := write(t, Calendar{Stamp: stamp}, Event{UID: "u", Start: stamp, Summary: text})
				checkStrict(t, out)
				if got := parseSummary(t, out); got != text {
					t.Fatalf("summary read back as %q, want %q", got, text)
				}
				for _, l := range strings.Split(out, "\r\n") {
					if escapeEndsAt([]byte(l)) && strings.HasPrefix(l, " ") {
						// A continuation line ending in an unfinished escape
						// means the escape was split.
						t.Fatalf("line ends inside an escape: %q", l)
					}
				}
			}
		})
	}
}

func parseSummary(t testing.TB, out string) string {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(out))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, out)
	}
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("parsed %d events", len(evs))
	}
	p := evs[0].GetProperty(ics.ComponentPropertySummary)
	if p == nil {
		return ""
	}
	return p.Value
}

func TestFoldPoint(t *testing.T) {
	tests := []struct {
		name  string
		b     string
		limit int
		want  int
	}{
		{"fits", "abc", 5, 3},
		{"exact", "abcde", 5, 5},
		{"ascii cut", "abcdef", 5, 5},
		{"before a two-byte rune", "abcdé", 5, 4},
		{"inside a four-byte rune", "ab𝄞", 3, 2},
		{"escape kept whole", `abcd\,`, 5, 4},
		{"escaped backslash may end a line", `abc\\x`, 5, 5},
		{"a rune longer than the limit", "𝄞𝄞", 2, 4},
	}
	for _, tc := range tests {
		if got := foldPoint([]byte(tc.b), tc.limit); got != tc.want {
			t.Errorf("%s: foldPoint(%q, %d) = %d, want %d", tc.name, tc.b, tc.limit, got, tc.want)
		}
	}
}

func TestAppendText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`a\b;c,d`, `a\\b\;c\,d`},
		{"one\ntwo\r\nthree\rfour", `one\ntwo\nthree\nfour`},
		{"tab\tkept", "tab\tkept"},
		{"nul\x00bell\x07del\x7fgone", "nulbelldelgone"},
		{"c1\u0085gone", "c1gone"},
		{"bad\xffbyte", "bad\ufffdbyte"},
		{`"quotes" and: colons`, `"quotes" and: colons`},
	}
	for _, tc := range tests {
		if got := string(appendText(nil, tc.in)); got != tc.want {
			t.Errorf("appendText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, ""},
		{-time.Hour, ""},
		{500 * time.Millisecond, ""},
		{time.Second, "PT1S"},
		{15 * time.Minute, "PT15M"},
		{time.Hour, "PT1H"},
		{90*time.Minute + 5*time.Second, "PT1H30M5S"},
		{24 * time.Hour, "P1D"},
		{36 * time.Hour, "P1DT12H"},
	}
	for _, tc := range tests {
		if got := duration(tc.d); got != tc.want {
			t.Errorf("duration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestInvalid(t *testing.T) {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		e    Event
	}{
		{"no UID", Event{Start: start}},
		{"UID of control characters only", Event{UID: "\x00\x01", Start: start}},
		{"no start", Event{UID: "u"}},
		{"end before start", Event{UID: "u", Start: start, End: start.Add(-time.Minute)}},
		{"end equals start", Event{UID: "u", Start: start, End: start}},
		{"negative sequence", Event{UID: "u", Start: start, Sequence: -1}},
		{"unknown status", Event{UID: "u", Start: start, Status: "DONE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf, Calendar{Stamp: stamp})
			if err := w.Write(tc.e); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Write = %v, want ErrInvalid", err)
			}
			// The writer stays usable and the bad event left no trace.
			if err := w.Write(Event{UID: "ok", Start: start}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			cal, err := ics.ParseCalendar(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(cal.Events()); n != 1 {
				t.Fatalf("%d events written, want 1", n)
			}
		})
	}

	var buf bytes.Buffer
	if err := WriteEvent(&buf, Calendar{}, Event{UID: "u", Start: start}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a calendar without a stamp: %v, want ErrInvalid", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %q for an invalid calendar", buf.String())
	}
}

func TestWriteEvent(t *testing.T) {
	var buf bytes.Buffer
	e := Event{
		UID: "appt-9@x", Start: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC),
		End: time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC), Summary: "Dentist", Status: StatusConfirmed,
	}
	if err := WriteEvent(&buf, Calendar{Stamp: stamp}, e); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	checkStrict(t, out)
	if strings.Count(out, "BEGIN:VEVENT") != 1 || !strings.Contains(out, "\r\nMETHOD:PUBLISH\r\n") {
		t.Fatalf("not a single published event:\n%s", out)
	}
	cal, err := ics.ParseCalendar(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if evs := cal.Events(); len(evs) != 1 || evs[0].Id() != e.UID {
		t.Fatalf("parsed %v", evs)
	}
}

type failAfter struct{ n int }

var errBroken = errors.New("broken pipe")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		return 0, errBroken
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriteErrorIsSticky(t *testing.T) {
	w := NewWriter(&failAfter{n: 10}, Calendar{Stamp: stamp})
	e := Event{UID: "u", Start: stamp, Description: strings.Repeat("x", 5000)}
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		err = w.Write(e)
	}
	if !errors.Is(err, errBroken) {
		t.Fatalf("Write = %v, want the writer's error", err)
	}
	if err := w.Write(e); !errors.Is(err, errBroken) {
		t.Fatalf("Write after a failure = %v", err)
	}
	if err := w.Close(); !errors.Is(err, errBroken) {
		t.Fatalf("Close after a failure = %v", err)
	}
}

func TestCloseTwiceAndWriteAfterClose(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Calendar{Stamp: stamp})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	n := buf.Len()
	if err := w.Close(); err != nil || buf.Len() != n {
		t.Fatalf("second Close: %v, wrote %d more bytes", err, buf.Len()-n)
	}
	if err := w.Write(Event{UID: "u", Start: stamp}); err == nil {
		t.Fatal("Write after Close succeeded")
	}
}

// clean is the text a parser must give back for the valid UTF-8 text s:
// line breaks as LF, control characters other than tab and LF gone.
func clean(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	var b strings.Builder
	for _, r := range s {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func FuzzText(f *testing.F) {
	f.Add("A. L. – confirmed", "Bring your card; arrive early, please.\nThanks")
	f.Add(strings.Repeat("é", 80), strings.Repeat(`\,;`, 40))
	f.Add("𝄞𝄞𝄞", "\r\n\r\x00\x7f\u0085")
	f.Add("\\", "\\n")
	f.Fuzz(func(t *testing.T, summary, description string) {
		if !utf8.ValidString(summary) || !utf8.ValidString(description) {
			// Invalid bytes become U+FFFD; checked by TestAppendText.
			summary, description = strings.ToValidUTF8(summary, "\ufffd"), strings.ToValidUTF8(description, "\ufffd")
		}
		out := write(t, Calendar{Stamp: stamp}, Event{
			UID: "fuzz@x", Start: stamp, End: stamp.Add(time.Hour), Summary: summary, Description: description,
		})
		checkStrict(t, out)
		cal, err := ics.ParseCalendar(strings.NewReader(out))
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, out)
		}
		evs := cal.Events()
		if len(evs) != 1 {
			t.Fatalf("parsed %d events", len(evs))
		}
		for prop, in := range map[ics.ComponentProperty]string{
			ics.ComponentPropertySummary:     summary,
			ics.ComponentPropertyDescription: description,
		} {
			want := clean(in)
			p := evs[0].GetProperty(prop)
			got := ""
			if p != nil {
				got = p.Value
			}
			if got != want {
				t.Fatalf("%s %q read back as %q, want %q", prop, in, got, want)
			}
		}
	})
}

func BenchmarkFeed5000(b *testing.B) {
	events := make([]Event, 5000)
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	for i := range events {
		events[i] = Event{
			UID:          "appt-" + strings.Repeat("9", 6) + "@apptconfirm.example",
			Start:        start.Add(time.Duration(i) * 20 * time.Minute),
			End:          start.Add(time.Duration(i)*20*time.Minute + 30*time.Minute),
			Summary:      "A. L. – confirmed",
			Description:  "Reminder sent, patient confirmed by SMS; notes: bring the referral letter, please.",
			Location:     "Main Street Clinic, Room 3",
			Status:       StatusConfirmed,
			Sequence:     1,
			LastModified: start,
		}
	}
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		var cw countingWriter
		w := NewWriter(&cw, Calendar{Name: "Dr Smith", Refresh: time.Hour, Stamp: stamp})
		for _, e := range events {
			if err := w.Write(e); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		n = cw.n
	}
	b.SetBytes(n)
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
