// Package slots finds free appointment times: weekly working hours with
// dated exceptions (holidays, leave), read on a location's wall clock, minus
// the appointments already booked and their buffers.
//
// Working hours are wall-clock intervals such as 09:00-12:00, because that
// is how a clinic thinks of them: a 09:00 start stays 09:00 on both sides of
// a daylight-saving change. Busy time is a set of instants, because that is
// what appointments occupy. Find bridges the two, and Conflicts answers the
// booking form's "is this time already taken?".
//
// The package is pure: no I/O, no clock of its own, no state; everything is
// safe for concurrent use.
package slots

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// minutesPerDay is the number of wall-clock minutes in a day.
const minutesPerDay = 24 * 60

// MaxIntervalsPerDay bounds the intervals of one day, so that admin input
// cannot make every lookup expensive.
const MaxIntervalsPerDay = 48

// FieldError is a validation error that names the field at fault, in a path
// form an admin page or an API response can show: "weekly.tue[1]",
// "exceptions[2].from", "line 3".
type FieldError struct {
	Field string
	Err   error
}

// Error reads "slots: FIELD: reason".
func (e *FieldError) Error() string {
	return "slots: " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns the underlying reason.
func (e *FieldError) Unwrap() error { return e.Err }

// fieldError wraps err with the field name; an err that is already a
// FieldError gets the outer name prefixed ("weekly.tue" + "[1]"), except
// under a line of text input ("line 2"), where the inner name joins the
// reason ("line 2: to: ...").
func fieldError(field string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) && strings.HasPrefix(field, "line ") {
		return &FieldError{Field: field, Err: fmt.Errorf("%s: %w", fe.Field, fe.Err)}
	}
	if errors.As(err, &fe) {
		sep := "."
		if strings.HasPrefix(fe.Field, "[") {
			sep = ""
		}
		return &FieldError{Field: field + sep + fe.Field, Err: fe.Err}
	}
	return &FieldError{Field: field, Err: err}
}

// Clock is a wall-clock time of day in minutes since midnight, from 0
// (00:00) to 1440 (24:00, the end of a day, valid only as an interval's end).
type Clock int

// ParseClock parses a 24-hour "HH:MM" ("09:00", "9:00", "17:30", and
// "24:00" for the end of the day).
func ParseClock(s string) (Clock, error) {
	hh, mm, ok := splitClock(s)
	switch {
	case !ok:
		return 0, fmt.Errorf("%q: want HH:MM", s)
	case mm > 59:
		return 0, fmt.Errorf("%q: minute must be 00 to 59", s)
	case hh > 24 || (hh == 24 && mm != 0):
		return 0, fmt.Errorf("%q: hour must be 00 to 23, or 24:00 for the end of the day", s)
	}
	return Clock(hh*60 + mm), nil
}

// splitClock reads "H:MM" or "HH:MM" made of ASCII digits only.
func splitClock(s string) (hh, mm int, ok bool) {
	if len(s) != 4 && len(s) != 5 {
		return 0, 0, false
	}
	colon := len(s) - 3
	if s[colon] != ':' {
		return 0, 0, false
	}
	for i := 0; i < len(s); i++ {
		if i != colon && (s[i] < '0' || s[i] > '9') {
			return 0, 0, false
		}
	}
	for i := 0; i < colon; i++ {
		hh = hh*10 + int(s[i]-'0')
	}
	mm = int(s[colon+1]-'0')*10 + int(s[colon+2]-'0')
	return hh, mm, true
}

// String formats c as "HH:MM" ("24:00" for the end of the day). Values
// outside 0..1440 are clamped; they never come out of the parsers.
func (c Clock) String() string {
	c = max(0, min(c, minutesPerDay))
	return fmt.Sprintf("%02d:%02d", c/60, c%60)
}

// Interval is a span of one day's wall-clock time, [Start, End): "09:00-12:00"
// covers 09:00 up to but not including 12:00. An interval never crosses
// midnight; a night shift is written as two intervals on consecutive days
// ("mon 20:00-24:00" and "tue 00:00-04:00"), which Find joins.
type Interval struct {
	Start, End Clock
}

// ParseInterval parses "HH:MM-HH:MM" ("09:00-12:00", "13:00-24:00").
func ParseInterval(s string) (Interval, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Interval{}, fmt.Errorf("%q: want HH:MM-HH:MM", s)
	}
	start, err := ParseClock(strings.TrimSpace(a))
	if err != nil {
		return Interval{}, fmt.Errorf("start %w", err)
	}
	end, err := ParseClock(strings.TrimSpace(b))
	if err != nil {
		return Interval{}, fmt.Errorf("end %w", err)
	}
	iv := Interval{Start: start, End: end}
	if err := iv.Validate(); err != nil {
		return Interval{}, err
	}
	return iv, nil
}

// Validate reports whether the interval is a non-empty span inside one day.
func (iv Interval) Validate() error {
	switch {
	case iv.Start < 0 || iv.Start >= minutesPerDay:
		return fmt.Errorf("%s: start must be 00:00 to 23:59", iv)
	case iv.End <= 0 || iv.End > minutesPerDay:
		return fmt.Errorf("%s: end must be 00:01 to 24:00", iv)
	case iv.End <= iv.Start:
		return fmt.Errorf("%s: end must be after start (split a night shift at midnight)", iv)
	}
	return nil
}

// String formats the interval as "HH:MM-HH:MM".
func (iv Interval) String() string { return iv.Start.String() + "-" + iv.End.String() }

// MarshalText writes the interval as "HH:MM-HH:MM" (in JSON, a string).
func (iv Interval) MarshalText() ([]byte, error) { return []byte(iv.String()), nil }

// UnmarshalText reads "HH:MM-HH:MM".
func (iv *Interval) UnmarshalText(b []byte) error {
	v, err := ParseInterval(string(b))
	if err != nil {
		return err
	}
	*iv = v
	return nil
}

// Intervals is one day's working hours: sorted, not overlapping (touching is
// fine), at most MaxIntervalsPerDay. Empty means closed.
type Intervals []Interval

// ParseIntervals parses a comma-separated list ("09:00-12:00,13:00-17:00");
// the word "closed" or an empty string is an empty list. The result is
// sorted and validated.
func ParseIntervals(s string) (Intervals, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "closed") {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > MaxIntervalsPerDay {
		return nil, fmt.Errorf("%d intervals, at most %d", len(parts), MaxIntervalsPerDay)
	}
	out := make(Intervals, 0, len(parts))
	for i, p := range parts {
		iv, err := ParseInterval(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("interval %d: %w", i+1, err)
		}
		out = append(out, iv)
	}
	out.sort()
	if _, err := out.check(); err != nil {
		return nil, err
	}
	return out, nil
}

func (ivs Intervals) sort() {
	slices.SortFunc(ivs, func(a, b Interval) int { return int(a.Start - b.Start) })
}

// Validate checks every interval, their order and that none overlap; the
// error names the interval at fault ("[1]").
func (ivs Intervals) Validate() error {
	if i, err := ivs.check(); err != nil {
		if i < 0 {
			return err
		}
		return fieldError(fmt.Sprintf("[%d]", i), err)
	}
	return nil
}

// check is Validate with the index of the interval at fault apart (-1 when
// the fault is the list's length).
func (ivs Intervals) check() (int, error) {
	if len(ivs) > MaxIntervalsPerDay {
		return -1, fmt.Errorf("%d intervals, at most %d", len(ivs), MaxIntervalsPerDay)
	}
	for i, iv := range ivs {
		if err := iv.Validate(); err != nil {
			return i, err
		}
		if i > 0 && iv.Start < ivs[i-1].End {
			return i, fmt.Errorf("%s overlaps %s or comes before it", iv, ivs[i-1])
		}
	}
	return -1, nil
}

// String formats the list as "09:00-12:00,13:00-17:00", or "closed".
func (ivs Intervals) String() string {
	if len(ivs) == 0 {
		return "closed"
	}
	parts := make([]string, len(ivs))
	for i, iv := range ivs {
		parts[i] = iv.String()
	}
	return strings.Join(parts, ",")
}

// intersect returns the wall-clock time common to a and b, both sorted and
// non-overlapping.
func intersect(a, b Intervals) Intervals {
	var out Intervals
	for i, j := 0, 0; i < len(a) && j < len(b); {
		start, end := max(a[i].Start, b[j].Start), min(a[i].End, b[j].End)
		if start < end {
			out = append(out, Interval{Start: start, End: end})
		}
		if a[i].End < b[j].End {
			i++
		} else {
			j++
		}
	}
	return out
}
