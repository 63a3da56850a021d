package schedule

import (
	"errors"
	"fmt"
	"time"
)

// minutesPerDay is the number of wall-clock minutes in a day.
const minutesPerDay = 24 * 60

// Clock is a wall-clock time of day in minutes since midnight (0 to 1439).
// Values outside that range are taken modulo 24 hours wherever a Clock is
// used, so a hand-built Clock can never cause a panic.
type Clock int

// ParseClock parses a 24-hour "HH:MM" time of day ("08:00", "21:30"; a
// one-digit hour such as "8:00" is accepted too). "24:00" is refused: the end
// of a day is "00:00".
func ParseClock(s string) (Clock, error) {
	hh, mm, ok := splitClock(s)
	if !ok {
		return 0, fmt.Errorf("schedule: parse clock %q: want HH:MM", s)
	}
	if hh > 23 {
		return 0, fmt.Errorf("schedule: parse clock %q: hour must be 00 to 23", s)
	}
	if mm > 59 {
		return 0, fmt.Errorf("schedule: parse clock %q: minute must be 00 to 59", s)
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

// String formats c as "HH:MM".
func (c Clock) String() string {
	n := c.normalized()
	return fmt.Sprintf("%02d:%02d", n/60, n%60)
}

// normalized brings c into 0..1439.
func (c Clock) normalized() Clock {
	return ((c % minutesPerDay) + minutesPerDay) % minutesPerDay
}

// QuietHours is a daily window of local wall-clock time, [Start, End), during
// which no reminder is sent, for example 21:00 to 08:00. The window may wrap
// midnight (Start after End). It is read in each location's own time zone.
//
// A window whose Start equals End is empty: the zero value means "no quiet
// hours". A window covering the whole day cannot be expressed, on purpose,
// since it would forbid every reminder.
type QuietHours struct {
	Start, End Clock
}

// ErrEmptyQuietHours is returned by ParseQuietHours when start equals end but
// is not empty: such a window would silently mean "no quiet hours".
var ErrEmptyQuietHours = errors.New("schedule: quiet hours start and end are equal")

// ParseQuietHours parses a configured window such as ("21:00", "08:00"). Two
// empty strings mean no quiet hours; one empty string, a bad clock, or a
// start equal to the end is an error that names the offending side.
func ParseQuietHours(start, end string) (QuietHours, error) {
	if start == "" && end == "" {
		return QuietHours{}, nil
	}
	if start == "" {
		return QuietHours{}, errors.New("schedule: quiet hours: start is empty but end is set")
	}
	if end == "" {
		return QuietHours{}, errors.New("schedule: quiet hours: end is empty but start is set")
	}
	s, err := ParseClock(start)
	if err != nil {
		return QuietHours{}, fmt.Errorf("schedule: quiet hours start: %w", err)
	}
	e, err := ParseClock(end)
	if err != nil {
		return QuietHours{}, fmt.Errorf("schedule: quiet hours end: %w", err)
	}
	if s == e {
		return QuietHours{}, fmt.Errorf("%w (%s)", ErrEmptyQuietHours, s)
	}
	return QuietHours{Start: s, End: e}, nil
}

// IsZero reports whether q is empty, that is, whether it holds no quiet
// time at all (Start equals End, which includes the zero value).
func (q QuietHours) IsZero() bool {
	return q.Start.normalized() == q.End.normalized()
}

// String formats q as "21:00-08:00", or "" when it is empty.
func (q QuietHours) String() string {
	if q.IsZero() {
		return ""
	}
	return q.Start.String() + "-" + q.End.String()
}

// InQuiet reports whether instant t falls inside quiet hours q, read on the
// wall clock of loc (nil means UTC). Only the wall-clock minute counts:
// with a 21:00 start, 20:59:59 is allowed and 21:00:00 is quiet. On a
// daylight-saving day a wall-clock minute that is skipped simply never
// occurs, and one that occurs twice is quiet (or not) both times.
func InQuiet(t time.Time, loc *time.Location, q QuietHours) bool {
	if loc == nil {
		loc = time.UTC
	}
	start, end := q.Start.normalized(), q.End.normalized()
	if start == end {
		return false
	}
	local := t.In(loc)
	m := Clock(local.Hour()*60 + local.Minute())
	if start < end {
		return m >= start && m < end
	}
	return m >= start || m < end
}

// floorMinute returns the instant at which t's local wall-clock minute in loc
// began (zeroing the local seconds, which matters for historical offsets that
// are not whole minutes).
func floorMinute(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	return t.Add(-time.Duration(local.Second())*time.Second - time.Duration(local.Nanosecond()))
}

// maxQuietSteps bounds the walk in moveBeforeQuiet. Each step crosses one
// zone period or lands on the answer, and a quiet stretch is under a day
// long, so real zones need at most three.
const maxQuietSteps = 64

// moveBeforeQuiet returns t itself when it is outside quiet hours, and
// otherwise the start of the last local minute before the quiet stretch
// containing t began (20:59:00 local for a 21:00 start). ok is false only if
// no such minute was found within the step bound, which takes a zone with
// pathological transitions.
//
// The walk works on instants, not on wall-clock values rebuilt with
// time.Date, because time.Date leaves unspecified which instant it returns
// for a wall time that is skipped or repeated by a daylight-saving change.
// Inside one zone period (constant UTC offset, found with ZoneBounds) wall
// time advances exactly with real time, so the quiet stretch began
// "minutes since quiet start" ago, unless the period itself began later; in
// that case the walk continues from the minute before the change. So:
//   - a quiet start that does not exist that day (spring forward across it)
//     means quiet began at the first instant whose wall clock is inside the
//     window, and the reminder moves to the minute before that instant;
//   - a quiet start that occurs twice (fall back) means the window began at
//     the occurrence that starts the quiet stretch containing t; a minute
//     whose wall clock is outside the window is allowed even during a
//     repeated hour, exactly as InQuiet says.
func moveBeforeQuiet(t time.Time, loc *time.Location, q QuietHours) (time.Time, bool) {
	if !InQuiet(t, loc, q) {
		return t, true
	}
	start := q.Start.normalized()
	cur := floorMinute(t, loc)
	for range maxQuietSteps {
		if !InQuiet(cur, loc, q) {
			return cur, true
		}
		local := cur.In(loc)
		sinceStart := (Clock(local.Hour()*60+local.Minute()) - start + minutesPerDay) % minutesPerDay
		began := cur.Add(-time.Duration(sinceStart) * time.Minute)
		if periodStart, _ := local.ZoneBounds(); periodStart.After(began) {
			// The zone changed while quiet hours were running: the stretch
			// reaches back at least to the change.
			began = periodStart
		}
		cur = floorMinute(began.Add(-time.Minute), loc)
	}
	return t, false
}

// moveAfterQuiet returns t itself when it is outside quiet hours, and
// otherwise the first instant after t that is not: the start of the local
// minute at which the quiet stretch containing t ends (08:00:00 local for
// an 08:00 end). ok is false only if no such instant was found within the
// step bound, which takes a zone with pathological transitions.
//
// Like moveBeforeQuiet it walks on instants. Inside one zone period wall
// time advances exactly with real time, so the stretch ends "minutes until
// the end" after the start of t's minute, unless the period ends first; in
// that case the walk continues from the first instant of the next period.
// So:
//   - an end that does not exist that day (spring forward across it) means
//     quiet hours end at the change itself, the first instant whose wall
//     clock is past the end;
//   - an end that occurs twice (fall back) is reached the first time: the
//     repeated minutes after it are outside the window, exactly as InQuiet
//     says.
func moveAfterQuiet(t time.Time, loc *time.Location, q QuietHours) (time.Time, bool) {
	if !InQuiet(t, loc, q) {
		return t, true
	}
	end := q.End.normalized()
	cur := t
	for range maxQuietSteps {
		local := cur.In(loc)
		untilEnd := (end - Clock(local.Hour()*60+local.Minute()) + minutesPerDay) % minutesPerDay
		next := floorMinute(cur, loc).Add(time.Duration(untilEnd) * time.Minute)
		if _, periodEnd := local.ZoneBounds(); !periodEnd.IsZero() && periodEnd.Before(next) {
			// The zone changes before quiet hours end: read the wall
			// clock again from the change.
			next = periodEnd
		}
		cur = next
		if !InQuiet(cur, loc, q) {
			return cur, true
		}
	}
	return t, false
}
