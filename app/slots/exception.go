package slots

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Date is a calendar date on a location's wall calendar, with no time and
// no zone: "2025-12-25". The zero value is no date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q: want a date as YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf returns the date of t on its own location's calendar.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// MarshalText writes "YYYY-MM-DD".
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "YYYY-MM-DD".
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// valid reports whether d is a real date from year 1 to 9999.
func (d Date) valid() bool {
	return d.Year >= 1 && d.Year <= 9999 && DateOf(d.midnight()) == d
}

// midnight is d's start as a UTC instant: the "wall time as if UTC" that the
// finder offsets by each zone period.
func (d Date) midnight() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int { return d.midnight().Compare(e.midnight()) }

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return DateOf(d.midnight().AddDate(0, 0, n)) }

// Weekday returns d's day of the week.
func (d Date) Weekday() time.Weekday { return d.midnight().Weekday() }

// daysUntil returns the number of days from d to e.
func (d Date) daysUntil(e Date) int {
	return int((e.midnight().Unix() - d.midnight().Unix()) / secondsPerDay)
}

// secondsPerDay is the length of a calendar day without a zone.
const secondsPerDay = 24 * 60 * 60

// MaxExceptionDays is the longest range one exception may cover.
const MaxExceptionDays = 366

// MaxExceptions bounds the exceptions of one schedule.
const MaxExceptions = 1000

// Exception replaces the weekly hours on a date, or on every date of a
// range (leave): From to To, both included. Empty Hours means closed all
// day (a public holiday); otherwise the dates have those hours instead of
// their weekly ones (a short day before a holiday).
type Exception struct {
	From Date `json:"from"`
	// To is the last date, included; the zero Date means From alone.
	To    Date      `json:"to,omitzero"`
	Hours Intervals `json:"hours,omitempty"`
	// Note is for people ("Christmas", "Dr Lee on leave").
	Note string `json:"note,omitempty"`
}

// Last returns the exception's last date: To, or From when To is zero.
func (e Exception) Last() Date {
	if e.To.IsZero() {
		return e.From
	}
	return e.To
}

// covers reports whether d is one of the exception's dates.
func (e Exception) covers(d Date) bool {
	return e.From.Compare(d) <= 0 && d.Compare(e.Last()) <= 0
}

// Validate checks the dates and the hours; the error names the field.
func (e Exception) Validate() error {
	if e.From.IsZero() {
		return &FieldError{Field: "from", Err: errors.New("is required")}
	}
	if !e.From.valid() {
		return &FieldError{Field: "from", Err: fmt.Errorf("%s is not a valid date", e.From)}
	}
	last := e.Last()
	if !last.valid() {
		return &FieldError{Field: "to", Err: fmt.Errorf("%s is not a valid date", last)}
	}
	if last.Compare(e.From) < 0 {
		return &FieldError{Field: "to", Err: fmt.Errorf("%s is before from (%s)", last, e.From)}
	}
	if n := e.From.daysUntil(last) + 1; n > MaxExceptionDays {
		return &FieldError{Field: "to", Err: fmt.Errorf("the range covers %d days, at most %d", n, MaxExceptionDays)}
	}
	if err := e.Hours.Validate(); err != nil {
		return fieldError("hours", err)
	}
	return nil
}

// String writes the exception in ParseExceptions' form:
// "2025-08-01..2025-08-15 closed # leave".
func (e Exception) String() string {
	s := e.From.String()
	if last := e.Last(); last != e.From {
		s += ".." + last.String()
	}
	s += " " + e.Hours.String()
	if e.Note != "" {
		s += " # " + e.Note
	}
	return s
}

// ParseExceptions reads dated exceptions as an admin types them, one per
// line (or separated by ";"): a date or a range "FROM..TO", then "closed"
// or the day's intervals, then an optional "# note":
//
//	2025-12-25 closed # Christmas
//	2025-12-24 09:00-12:00
//	2025-08-01..2025-08-15 closed # summer leave
//
// The result is sorted by date and validated (no two exceptions may share a
// date). Errors name the line.
func ParseExceptions(s string) ([]Exception, error) {
	if len(s) > maxWeekInput*4 {
		return nil, &FieldError{Field: "exceptions", Err: fmt.Errorf("longer than %d bytes", maxWeekInput*4)}
	}
	var out []Exception
	for n, line := range splitLines(s) {
		field := fmt.Sprintf("line %d", n+1)
		body, note, _ := strings.Cut(line, "#")
		body = strings.TrimSpace(body)
		if body == "" {
			continue
		}
		dates, rest, _ := strings.Cut(body, " ")
		e := Exception{Note: strings.TrimSpace(note)}
		from, to, isRange := strings.Cut(dates, "..")
		var err error
		if e.From, err = ParseDate(from); err != nil {
			return nil, fieldError(field, err)
		}
		if isRange {
			if e.To, err = ParseDate(to); err != nil {
				return nil, fieldError(field, err)
			}
		}
		if strings.TrimSpace(rest) == "" {
			return nil, fieldError(field, errors.New(`want "closed" or the day's hours after the date`))
		}
		if e.Hours, err = ParseIntervals(rest); err != nil {
			return nil, fieldError(field, err)
		}
		if err := e.Validate(); err != nil {
			return nil, fieldError(field, err)
		}
		out = append(out, e)
		if len(out) > MaxExceptions {
			return nil, fieldError(field, fmt.Errorf("more than %d exceptions", MaxExceptions))
		}
	}
	sortExceptions(out)
	if i, j, ok := overlapping(out); ok {
		return nil, &FieldError{Field: "exceptions", Err: fmt.Errorf("%s and %s share a date", out[i], out[j])}
	}
	return out, nil
}

// FormatExceptions writes exceptions in ParseExceptions' form, one per line.
func FormatExceptions(list []Exception) string {
	lines := make([]string, len(list))
	for i, e := range list {
		lines[i] = e.String()
	}
	return strings.Join(lines, "\n")
}

func sortExceptions(list []Exception) {
	slices.SortStableFunc(list, func(a, b Exception) int { return a.From.Compare(b.From) })
}

// overlapping finds two exceptions of a list sorted by From that share a
// date.
func overlapping(list []Exception) (i, j int, ok bool) {
	for k := 1; k < len(list); k++ {
		if list[k].From.Compare(list[k-1].Last()) <= 0 {
			return k - 1, k, true
		}
	}
	return 0, 0, false
}

// Hours is one schedule: a provider's or a location's weekly hours and its
// dated exceptions. The zero value is closed every day.
type Hours struct {
	Weekly     Week        `json:"weekly"`
	Exceptions []Exception `json:"exceptions,omitempty"`
}

// ParseHours reads a schedule from its two text forms (see ParseWeek and
// ParseExceptions).
func ParseHours(weekly, exceptions string) (Hours, error) {
	w, err := ParseWeek(weekly)
	if err != nil {
		return Hours{}, fieldError("weekly", err)
	}
	ex, err := ParseExceptions(exceptions)
	if err != nil {
		return Hours{}, fieldError("exceptions", err)
	}
	return Hours{Weekly: w, Exceptions: ex}, nil
}

// Validate checks the weekly hours and every exception, and that no two
// exceptions share a date. Errors name the field: "weekly.tue[1]",
// "exceptions[2].to".
func (h Hours) Validate() error {
	if err := h.Weekly.Validate(); err != nil {
		return fieldError("weekly", err)
	}
	if len(h.Exceptions) > MaxExceptions {
		return &FieldError{Field: "exceptions", Err: fmt.Errorf("%d exceptions, at most %d", len(h.Exceptions), MaxExceptions)}
	}
	for i, e := range h.Exceptions {
		if err := e.Validate(); err != nil {
			return fieldError(fmt.Sprintf("exceptions[%d]", i), err)
		}
	}
	sorted := slices.Clone(h.Exceptions)
	sortExceptions(sorted)
	if i, j, ok := overlapping(sorted); ok {
		return &FieldError{Field: "exceptions", Err: fmt.Errorf("%s and %s share a date", sorted[i], sorted[j])}
	}
	return nil
}

// On returns the working hours on date d: those of the exception covering
// d if there is one (the first listed, should several), otherwise the
// weekly hours of d's weekday.
func (h Hours) On(d Date) Intervals {
	for _, e := range h.Exceptions {
		if e.covers(d) {
			return e.Hours
		}
	}
	return h.Weekly[d.Weekday()]
}

// neverOpen reports whether the schedule has no working time on any date.
func (h Hours) neverOpen() bool {
	if !h.Weekly.IsClosed() {
		return false
	}
	for _, e := range h.Exceptions {
		if len(e.Hours) > 0 {
			return false
		}
	}
	return true
}
