package csvimport

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DateOrder says how to read a date written with numbers only and the
// year last, such as 12/07/2026.
type DateOrder string

// The two orders in use.
const (
	// MonthFirst reads 12/07/2026 as December 7 (the United States).
	MonthFirst DateOrder = "mdy"
	// DayFirst reads 12/07/2026 as July 12 (most other countries).
	DayFirst DateOrder = "dmy"
)

// monthFirstCountries write the month first; every other country is taken
// to write the day first.
var monthFirstCountries = map[string]bool{
	"US": true, "PR": true, "GU": true, "VI": true, "AS": true, "MP": true, "UM": true,
	"PH": true, "FM": true, "MH": true, "PW": true,
}

// DefaultDateOrder is the usual order of a country (ISO 3166 alpha-2):
// MonthFirst for the United States, its territories and a few countries
// that follow it, DayFirst for the rest.
func DefaultDateOrder(country string) DateOrder {
	if monthFirstCountries[strings.ToUpper(strings.TrimSpace(country))] {
		return MonthFirst
	}
	return DayFirst
}

// valid reports whether o is one of the two orders.
func (o DateOrder) valid() bool { return o == MonthFirst || o == DayFirst }

// ErrNonexistentTime is wrapped by LocalDateTime.In for a wall-clock time
// that a change to daylight-saving time skips.
var ErrNonexistentTime = errors.New("the time does not exist there: the clocks skip it")

// LocalDateTime is a wall-clock date and time with no time zone, as a
// schedule writes it ("2026-12-07 14:30"); the location's zone gives it
// an instant.
type LocalDateTime struct {
	Year   int
	Month  time.Month
	Day    int
	Hour   int
	Minute int
}

// IsZero reports whether l is the zero LocalDateTime (no date given).
func (l LocalDateTime) IsZero() bool { return l == LocalDateTime{} }

// String formats l as "2026-12-07 14:30", the form our own files use.
func (l LocalDateTime) String() string {
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d", l.Year, int(l.Month), l.Day, l.Hour, l.Minute)
}

// In returns the instant l names in loc. A time that the clocks skip
// (02:30 on the night they go forward) is refused with an error wrapping
// ErrNonexistentTime; a time that happens twice (the night they go back)
// is the first of the two, the one before the change.
func (l LocalDateTime) In(loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	wall := time.Date(l.Year, l.Month, l.Day, l.Hour, l.Minute, 0, 0, time.UTC)
	var found time.Time
	// The zone's offset a day either side covers both sides of any change.
	for _, probe := range []time.Time{wall.Add(-24 * time.Hour), wall.Add(24 * time.Hour)} {
		_, offset := probe.In(loc).Zone()
		t := wall.Add(-time.Duration(offset) * time.Second).In(loc)
		if !sameWall(t, l) {
			continue
		}
		if found.IsZero() || t.Before(found) {
			found = t
		}
	}
	if found.IsZero() {
		return time.Time{}, fmt.Errorf("csvimport: %s in %s: %w", l, loc, ErrNonexistentTime)
	}
	return found, nil
}

func sameWall(t time.Time, l LocalDateTime) bool {
	y, m, d := t.Date()
	return y == l.Year && m == l.Month && d == l.Day && t.Hour() == l.Hour && t.Minute() == l.Minute
}

// Start is when an appointment starts, as the file gives it: a wall-clock
// time in the location's zone, or an instant when the file wrote an
// offset ("2026-12-07T14:30:00+01:00"). At most one is set.
type Start struct {
	Local   LocalDateTime
	Instant time.Time
}

// IsZero reports whether no start was given.
func (s Start) IsZero() bool { return s.Local.IsZero() && s.Instant.IsZero() }

// In returns the instant: Instant as it is, or Local resolved in loc (see
// LocalDateTime.In).
func (s Start) In(loc *time.Location) (time.Time, error) {
	if !s.Instant.IsZero() {
		return s.Instant, nil
	}
	return s.Local.In(loc)
}

// maxDateTimeLen bounds what ParseStart looks at: no date and time as
// people write them comes near it.
const maxDateTimeLen = 64

// ParseStart reads a date and time: "2026-12-07 14:30", "2026-12-07T14:30",
// RFC 3339 with an offset or Z (an instant), or any date ParseDate reads
// followed by any time ParseTime reads ("12/07/2026 2:30 PM",
// "07.12.2026 14h30", "Dec 7, 2026 9:00 am"), optionally followed by an
// offset, Z, UTC or GMT. order says how to read 12/07/2026.
func ParseStart(s string, order DateOrder) (Start, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Start{}, errors.New("empty")
	}
	if len(s) > maxDateTimeLen {
		return Start{}, errors.New("too long to be a date and time")
	}
	if l, ok := parseISOLocal(s); ok {
		return Start{Local: l}, nil
	}
	if len(s) > 10 && strings.ContainsAny(s[10:], "Zz+-") {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return Start{Instant: t}, nil
		}
	}
	datePart, timePart, ok := splitISO(s)
	if !ok {
		datePart, timePart, ok = splitDateTime(s, order)
	}
	if !ok {
		if _, err := ParseDate(s, order); err == nil {
			return Start{}, errors.New("a date without a time: add the time, as in 2026-12-07 14:30")
		}
		return Start{}, fmt.Errorf("not a date and time: write it as 2026-12-07 14:30 (%s)", orderHint(order))
	}
	timePart, offset, hasOffset, err := cutOffset(timePart)
	if err != nil {
		return Start{}, err
	}
	d, err := ParseDate(datePart, order)
	if err != nil {
		return Start{}, err
	}
	hour, minute, err := ParseTime(timePart)
	if err != nil {
		return Start{}, err
	}
	l := LocalDateTime{Year: d.Year, Month: d.Month, Day: d.Day, Hour: hour, Minute: minute}
	if hasOffset {
		zone := time.FixedZone("", offset)
		return Start{Instant: time.Date(l.Year, l.Month, l.Day, l.Hour, l.Minute, 0, 0, zone)}, nil
	}
	return Start{Local: l}, nil
}

// parseISOLocal reads the form our own files use, "2026-12-07 14:30" or
// "2026-12-07T14:30", with or without ":00" seconds, without allocating:
// the fast path for large files. It reports false for anything else,
// invalid dates included, which the general path then explains.
func parseISOLocal(s string) (LocalDateTime, bool) {
	if len(s) == 19 && s[16] == ':' && s[17] == '0' && s[18] == '0' {
		s = s[:16]
	}
	if len(s) != 16 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' {
		return LocalDateTime{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if !isDigit(c) {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2)
	if y < 1900 || y > 2999 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
		d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return LocalDateTime{}, false
	}
	return LocalDateTime{Year: y, Month: time.Month(mo), Day: d, Hour: h, Minute: mi}, true
}

// splitISO splits "2026-12-07T14:30..." at its T.
func splitISO(s string) (string, string, bool) {
	i := strings.IndexAny(s, "Tt")
	if i != 10 || len(s) < 12 || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// splitDateTime finds the border between a date and a time: the space
// after which a time follows, preferring one before which a date stands
// (so that a bad date is reported as such).
func splitDateTime(s string, order DateOrder) (string, string, bool) {
	candidate := -1
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			continue
		}
		datePart, timePart := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
		if datePart == "" || timePart == "" {
			continue
		}
		t, _, _, err := cutOffset(timePart)
		if err != nil {
			continue
		}
		if _, _, err := ParseTime(t); err != nil {
			continue
		}
		if _, err := ParseDate(datePart, order); err == nil {
			return datePart, timePart, true
		}
		if candidate < 0 {
			candidate = i
		}
	}
	if candidate < 0 {
		return "", "", false
	}
	return strings.TrimSpace(s[:candidate]), strings.TrimSpace(s[candidate+1:]), true
}

// cutOffset removes a trailing UTC offset ("+01:00", "-0500", "Z", "UTC",
// "GMT") from a time and returns it in seconds east of UTC.
func cutOffset(s string) (string, int, bool, error) {
	s = strings.TrimSpace(s)
	for _, z := range []string{"Z", "UTC", "GMT"} {
		if len(s) > len(z) && strings.EqualFold(s[len(s)-len(z):], z) && isDigitOrSpace(s[len(s)-len(z)-1]) {
			return strings.TrimSpace(s[:len(s)-len(z)]), 0, true, nil
		}
	}
	i := strings.LastIndexAny(s, "+-")
	if i <= 0 {
		return s, 0, false, nil
	}
	off := s[i+1:]
	if len(off) == 5 && off[2] == ':' {
		off = off[:2] + off[3:]
	}
	if (len(off) != 4 && len(off) != 2) || !allDigits(off) {
		return "", 0, false, fmt.Errorf("%q is not an offset: write it as +01:00", s[i:])
	}
	h, _ := strconv.Atoi(off[:2])
	m := 0
	if len(off) == 4 {
		m, _ = strconv.Atoi(off[2:])
	}
	if h > 14 || m > 59 {
		return "", 0, false, fmt.Errorf("%q is not an offset", s[i:])
	}
	secs := (h*60 + m) * 60
	if s[i] == '-' {
		secs = -secs
	}
	return strings.TrimSpace(s[:i]), secs, true, nil
}

// Date is a calendar day.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

var monthNames = map[string]time.Month{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
	"may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
	"sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
	"dec": 12, "december": 12,
}

var weekdayNames = map[string]bool{
	"mon": true, "monday": true, "tue": true, "tues": true, "tuesday": true, "wed": true, "wednesday": true,
	"thu": true, "thur": true, "thurs": true, "thursday": true, "fri": true, "friday": true,
	"sat": true, "saturday": true, "sun": true, "sunday": true,
}

// ParseDate reads a date: 2026-12-07 or 2026/12/07 (year first);
// 12/07/2026 or 12-07-2026 in the given order; 07.12.2026 (dots: always
// day first); two-digit years as 20xx; or with an English month name:
// "7 Dec 2026", "7-Dec-26" (Excel's d-mmm-yy), "Dec 7, 2026", "Monday,
// December 7, 2026".
func ParseDate(s string, order DateOrder) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Date{}, errors.New("empty")
	}
	if len(s) > maxDateTimeLen {
		return Date{}, errors.New("too long to be a date")
	}
	if !order.valid() {
		order = DayFirst
	}
	if hasLetter(s) {
		if d, ok, err := parseNamedMonth(s); ok {
			return d, err
		}
	}
	sep := byte(0)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '-' || c == '/' || c == '.' {
			sep = c
			break
		}
	}
	var parts [3]string
	ok := sep != 0
	if ok {
		sepStr := s[strings.IndexByte(s, sep):][:1]
		var rest string
		parts[0], rest, _ = strings.Cut(s, sepStr)
		parts[1], parts[2], ok = strings.Cut(rest, sepStr)
		ok = ok && !strings.Contains(parts[2], sepStr)
	}
	if !ok || !allDigits(parts[0]) || !allDigits(parts[1]) || !allDigits(parts[2]) {
		return Date{}, fmt.Errorf("not a date: write it as 2026-12-07 (%s)", orderHint(order))
	}
	var y, m, d string
	used := DateOrder("") // the order that decided, if one did
	switch {
	case len(parts[0]) == 4:
		y, m, d = parts[0], parts[1], parts[2]
	case sep == '.':
		d, m, y = parts[0], parts[1], parts[2]
	case order == DayFirst:
		d, m, y, used = parts[0], parts[1], parts[2], DayFirst
	default:
		m, d, y, used = parts[0], parts[1], parts[2], MonthFirst
	}
	if len(m) > 2 || len(d) > 2 || (len(y) != 4 && len(y) != 2) {
		return Date{}, fmt.Errorf("not a date: write it as 2026-12-07 (%s)", orderHint(order))
	}
	return makeDate(y, m, d, used)
}

// parseNamedMonth reads a date written with a month name. ok is false
// when s holds no month name.
func parseNamedMonth(s string) (Date, bool, error) {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == ' ' || r == ',' || r == '-' || r == '/' || r == '.'
	})
	var month time.Month
	var numbers []string
	for _, w := range words {
		if m, ok := monthNames[w]; ok && month == 0 {
			month = m
			continue
		}
		if weekdayNames[w] && month == 0 && len(numbers) == 0 {
			continue
		}
		w = strings.TrimRight(w, "stndrh") // 1st, 2nd, 3rd, 7th
		if !allDigits(w) || w == "" {
			return Date{}, month != 0, errors.New("not a date: write it as 2026-12-07")
		}
		numbers = append(numbers, w)
	}
	if month == 0 {
		return Date{}, false, nil
	}
	if len(numbers) != 2 {
		return Date{}, true, errors.New("not a date: write it as 2026-12-07")
	}
	day, year := numbers[0], numbers[1]
	if len(day) == 4 {
		day, year = year, day
	}
	if len(day) > 2 || (len(year) != 4 && len(year) != 2) {
		return Date{}, true, errors.New("not a date: write it as 2026-12-07")
	}
	d, err := makeDate(year, strconv.Itoa(int(month)), day, "")
	return d, true, err
}

// makeDate checks a year, month and day given as digits; used is the
// date order that told the month from the day, if one did.
func makeDate(ys, ms, ds string, used DateOrder) (Date, error) {
	y, _ := strconv.Atoi(ys)
	m, _ := strconv.Atoi(ms)
	d, _ := strconv.Atoi(ds)
	if len(ys) == 2 {
		y += 2000
	}
	if y < 1900 || y > 2999 {
		return Date{}, fmt.Errorf("year %d is out of range", y)
	}
	if m < 1 || m > 12 || d < 1 || d > 31 {
		if used != "" {
			return Date{}, fmt.Errorf("not a date in %s order", orderName(used))
		}
		return Date{}, errors.New("not a date: month or day out of range")
	}
	if t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC); t.Day() != d {
		return Date{}, fmt.Errorf("%s %d has no day %d", time.Month(m), y, d)
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, nil
}

func orderName(o DateOrder) string {
	if o == MonthFirst {
		return "month/day/year"
	}
	return "day/month/year"
}

func orderHint(o DateOrder) string {
	if o == MonthFirst {
		return "dates like 12/07/2026 are read month first"
	}
	return "dates like 07/12/2026 are read day first"
}

// errNotTime explains a time that cannot be read.
var errNotTime = errors.New("not a time: write it as 14:30 or 2:30 PM")

// ParseTime reads a time of day to the minute: 14:30, 9:05, 14:30:00,
// 14h30, 14h, 14.30, 2:30 PM, 2:30pm, 2 p.m., 12 AM. Seconds, when given,
// must be zero.
func ParseTime(s string) (hour, minute int, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, errors.New("empty")
	}
	if len(s) > 32 {
		return 0, 0, errors.New("too long to be a time")
	}
	meridiem := ""
	for _, suffix := range []struct{ text, m string }{
		{"a.m.", "am"}, {"p.m.", "pm"}, {"am", "am"}, {"pm", "pm"}, {"a", "am"}, {"p", "pm"},
	} {
		n := len(s) - len(suffix.text)
		if n > 0 && strings.EqualFold(s[n:], suffix.text) && isDigitOrSpace(s[n-1]) {
			s, meridiem = strings.TrimSpace(s[:n]), suffix.m
			break
		}
	}
	sep := byte(0)
	if i := strings.IndexAny(s, ":hH."); i >= 0 {
		sep = s[i]
	}
	var h, m, sec string
	hasSec := false
	switch sep {
	case ':':
		h, m, _ = strings.Cut(s, ":")
		m, sec, hasSec = strings.Cut(m, ":")
	case 'h', 'H':
		i := strings.IndexAny(s, "hH")
		h, m = s[:i], s[i+1:]
		if m = strings.TrimSpace(m); m == "" {
			m = "00"
		}
	case '.':
		h, m, _ = strings.Cut(s, ".")
		if len(m) != 2 {
			return 0, 0, errNotTime
		}
	default:
		if meridiem == "" {
			return 0, 0, errNotTime
		}
		h, m = s, "00"
	}
	h, m = strings.TrimSpace(h), strings.TrimSpace(m)
	if !allDigits(h) || len(h) > 2 || len(m) != 2 || !allDigits(m) {
		return 0, 0, errNotTime
	}
	if hasSec {
		whole, frac, _ := strings.Cut(sec, ".")
		if len(whole) != 2 || !allDigits(whole) || strings.Trim(frac, "0") != "" {
			return 0, 0, errNotTime
		}
		if whole != "00" {
			return 0, 0, errors.New("appointments start on a whole minute: the seconds must be 00")
		}
	}
	hour, _ = strconv.Atoi(h)
	minute, _ = strconv.Atoi(m)
	if minute > 59 {
		return 0, 0, errNotTime
	}
	switch meridiem {
	case "":
		if hour > 23 {
			return 0, 0, errNotTime
		}
	default:
		if hour < 1 || hour > 12 {
			return 0, 0, fmt.Errorf("not a time: %d is not an hour on a 12-hour clock", hour)
		}
		hour %= 12
		if meridiem == "pm" {
			hour += 12
		}
	}
	return hour, minute, nil
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; (c >= 'a' && c <= 'z') || s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDigitOrSpace(c byte) bool { return isDigit(c) || c == ' ' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
