package slots

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Week is weekly working hours, indexed by time.Weekday (Sunday is 0). The
// zero value is closed every day.
type Week [7]Intervals

// weekOrder is the order days are written in: Monday first, as clinics plan.
var weekOrder = [7]time.Weekday{
	time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday,
}

// dayKeys are the short names used in the text and JSON forms.
var dayKeys = [7]string{
	time.Sunday: "sun", time.Monday: "mon", time.Tuesday: "tue", time.Wednesday: "wed",
	time.Thursday: "thu", time.Friday: "fri", time.Saturday: "sat",
}

// maxWeekInput bounds the text ParseWeek reads.
const maxWeekInput = 16 << 10

// parseDay reads a day name: "mon" or "monday", any case.
func parseDay(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d, key := range dayKeys {
		full := strings.ToLower(time.Weekday(d).String())
		if s == key || s == full {
			return time.Weekday(d), true
		}
	}
	return 0, false
}

// parseDays reads a day list: "mon", "mon-fri", "sat,sun", "mon-wed,fri".
// A range runs forward through the week from Monday and may wrap
// ("fri-mon" is Friday to Monday).
func parseDays(s string) ([]time.Weekday, error) {
	var days []time.Weekday
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		from, ok := parseDay(a)
		if !ok {
			return nil, fmt.Errorf("%q is not a day (mon, tue, ..., sun)", a)
		}
		if !isRange {
			days = append(days, from)
			continue
		}
		to, ok := parseDay(b)
		if !ok {
			return nil, fmt.Errorf("%q is not a day (mon, tue, ..., sun)", b)
		}
		for d := from; ; d = (d + 1) % 7 {
			days = append(days, d)
			if d == to {
				break
			}
		}
	}
	return days, nil
}

// ParseWeek reads weekly hours as an admin types them, one day or day range
// per line (or separated by ";"), "#" starting a comment:
//
//	mon-thu 09:00-12:00,13:00-17:00
//	fri 09:00-13:00
//	sat closed
//
// Days not mentioned are closed; a day mentioned twice is an error. Errors
// name the line: "slots: line 2: ...".
func ParseWeek(s string) (Week, error) {
	var w Week
	if len(s) > maxWeekInput {
		return w, &FieldError{Field: "hours", Err: fmt.Errorf("longer than %d bytes", maxWeekInput)}
	}
	var seen [7]bool
	for n, line := range splitLines(s) {
		field := fmt.Sprintf("line %d", n+1)
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		daySpec, rest, _ := strings.Cut(line, " ")
		days, err := parseDays(daySpec)
		if err != nil {
			return Week{}, fieldError(field, err)
		}
		ivs, err := ParseIntervals(rest)
		if err != nil {
			return Week{}, fieldError(field, err)
		}
		for _, d := range days {
			if seen[d] {
				return Week{}, fieldError(field, fmt.Errorf("%s is given twice", dayKeys[d]))
			}
			seen[d] = true
			w[d] = ivs
		}
	}
	return w, nil
}

// splitLines splits on newlines and semicolons, keeping line numbers
// meaningful for error messages.
func splitLines(s string) []string {
	return strings.FieldsFunc(strings.ReplaceAll(s, "\r", ""), func(r rune) bool { return r == '\n' || r == ';' })
}

// String writes the week in ParseWeek's form, one open day per line, Monday
// first ("" for a week closed every day). ParseWeek(w.String()) == w for
// every valid w.
func (w Week) String() string {
	var b strings.Builder
	for _, d := range weekOrder {
		if len(w[d]) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(dayKeys[d] + " " + w[d].String())
	}
	return b.String()
}

// Validate checks every day's intervals; the error names the day
// ("tue[1]").
func (w Week) Validate() error {
	for _, d := range weekOrder {
		if err := w[d].Validate(); err != nil {
			return fieldError(dayKeys[d], err)
		}
	}
	return nil
}

// IsClosed reports whether no day has any working hours.
func (w Week) IsClosed() bool {
	for _, ivs := range w {
		if len(ivs) > 0 {
			return false
		}
	}
	return true
}

// MarshalJSON writes the week as an object with all seven days in order,
// Monday first: {"mon":["09:00-12:00","13:00-17:00"],...,"sun":[]}.
func (w Week) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, d := range weekOrder {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:[", dayKeys[d])
		for j, iv := range w[d] {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q", iv.String())
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object keyed by day ("mon" or "monday"). Each
// value is a list of "HH:MM-HH:MM" strings, one string in ParseIntervals'
// form ("09:00-12:00,13:00-17:00" or "closed"), or null. Missing days are
// closed. Errors name the day and the interval ("tue[1]").
func (w *Week) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("want an object keyed by day: %w", err)
	}
	var out Week
	var seen [7]bool
	for key, value := range raw {
		d, ok := parseDay(key)
		if !ok {
			return &FieldError{Field: key, Err: errors.New("not a day (mon, tue, ..., sun)")}
		}
		if seen[d] {
			return &FieldError{Field: key, Err: fmt.Errorf("%s is given twice", dayKeys[d])}
		}
		seen[d] = true
		ivs, err := decodeIntervals(value)
		if err != nil {
			return fieldError(dayKeys[d], err)
		}
		out[d] = ivs
	}
	*w = out
	return nil
}

// UnmarshalJSON reads a list of "HH:MM-HH:MM" strings, one string in
// ParseIntervals' form ("09:00-12:00,13:00-17:00" or "closed"), or null;
// the result is sorted and checked.
func (ivs *Intervals) UnmarshalJSON(b []byte) error {
	v, err := decodeIntervals(json.RawMessage(b))
	if err != nil {
		return err
	}
	*ivs = v
	return nil
}

// decodeIntervals reads a JSON list of interval strings, one string in
// ParseIntervals' form, or null.
func decodeIntervals(value json.RawMessage) (Intervals, error) {
	var one string
	if err := json.Unmarshal(value, &one); err == nil {
		return ParseIntervals(one)
	}
	var list []string
	if err := json.Unmarshal(value, &list); err != nil {
		return nil, errors.New(`want a list of "HH:MM-HH:MM" strings`)
	}
	if len(list) > MaxIntervalsPerDay {
		return nil, fmt.Errorf("%d intervals, at most %d", len(list), MaxIntervalsPerDay)
	}
	var out Intervals
	for i, s := range list {
		iv, err := ParseInterval(s)
		if err != nil {
			return nil, fieldError(fmt.Sprintf("[%d]", i), err)
		}
		out = append(out, iv)
	}
	out.sort()
	if _, err := out.check(); err != nil {
		return nil, err
	}
	return out, nil
}
