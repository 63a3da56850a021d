package slots

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// DefaultStep is the spacing of offered starts when a Query names none.
const DefaultStep = 15 * time.Minute

// MaxDays is how far ahead of Query.After the finder looks at most, so that
// a schedule with no free time answers quickly with nothing.
const MaxDays = 366

// maxPeriods bounds the zone periods the finder walks through; real zones
// have a handful a year.
const maxPeriods = 10000

// Buffer is time kept free around an appointment: preparation before it,
// cleaning or notes after it.
type Buffer struct {
	Before, After time.Duration
}

// Busy is time already taken, usually another appointment of the same
// provider or room: [Start, End) plus its buffers. An End before Start is
// read as End == Start.
type Busy struct {
	Start, End time.Time
	Buffer
}

// padded returns the busy span with its buffers, [start, end).
func (b Busy) padded() (start, end time.Time) {
	end = b.End
	if end.Before(b.Start) {
		end = b.Start
	}
	return b.Start.Add(-max(b.Before, 0)), end.Add(max(b.After, 0))
}

// Query says what free times to look for.
type Query struct {
	// Open lists the schedules that must all be open for the whole
	// appointment: typically the provider's and the location's. An empty
	// list, or a schedule that is never open, finds nothing.
	Open []Hours
	// Zone is the location's time zone, in which the schedules' wall-clock
	// hours and dates are read. Required.
	Zone *time.Location
	// Busy is the time already taken. Leave out the appointment being
	// moved, or it will stand in its own way.
	Busy []Busy
	// Duration is the appointment's length. Required, positive.
	Duration time.Duration
	// Buffer is the new appointment's own buffers: they must not overlap
	// busy time (nor its buffers), but may reach outside working hours.
	Buffer Buffer
	// Step spaces the starts: they fall on local wall-clock times that are
	// whole multiples of Step after midnight (09:00, 09:15, ...). Zero means
	// DefaultStep; otherwise whole minutes, at most 24 hours.
	Step time.Duration
	// After is the earliest start (included).
	After time.Time
	// Until is the latest start (excluded). Zero, or later than MaxDays
	// after After, means MaxDays after After.
	Until time.Time
	// Limit is how many starts to return at most. Required, positive.
	Limit int
}

// validate checks the query and fills in its defaults.
func (q *Query) validate() error {
	switch {
	case q.Zone == nil:
		return &FieldError{Field: "zone", Err: errors.New("is required")}
	case q.Duration <= 0:
		return &FieldError{Field: "duration", Err: errors.New("must be positive")}
	case q.Limit <= 0:
		return &FieldError{Field: "limit", Err: errors.New("must be positive")}
	case q.After.IsZero():
		return &FieldError{Field: "after", Err: errors.New("is required")}
	case q.Step < 0 || q.Step > 24*time.Hour || q.Step%time.Minute != 0:
		return &FieldError{Field: "step", Err: fmt.Errorf("%s: want whole minutes, at most 24h", q.Step)}
	}
	if q.Step == 0 {
		q.Step = DefaultStep
	}
	for i, h := range q.Open {
		if err := h.Validate(); err != nil {
			return fieldError(fmt.Sprintf("open[%d]", i), err)
		}
	}
	horizon := q.After.Add(MaxDays * 24 * time.Hour)
	if q.Until.IsZero() || q.Until.After(horizon) {
		q.Until = horizon
	}
	return nil
}

// Find returns up to q.Limit free starts, earliest first, in q.Zone. A start
// T is free when:
//
//   - T is at or after q.After and before q.Until;
//   - T's local wall-clock time is a whole multiple of q.Step after
//     midnight;
//   - every instant of [T, T+Duration) falls inside the working hours of
//     every schedule in q.Open (working hours on consecutive days that
//     touch at midnight join up);
//   - [T-Buffer.Before, T+Duration+Buffer.After) overlaps no busy time
//     widened by its own buffers.
//
// Daylight-saving changes are read on the wall clock: a 09:00 start stays
// 09:00 on both sides of a change. A wall-clock time that a spring-forward
// change skips is never offered, and an appointment that straddles the
// change lasts its real Duration. A wall-clock time that a fall-back change
// repeats is offered only at its first occurrence, so a patient never sees
// two identical times; the repeated hour remains working time for
// appointments that started earlier.
//
// The error reports a bad query (naming the field); it is never about the
// absence of free times, which is an empty result.
func Find(q Query) ([]time.Time, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	if len(q.Open) == 0 || !q.Until.After(q.After) {
		return nil, nil
	}
	for _, h := range q.Open {
		if h.neverOpen() {
			return nil, nil
		}
	}

	first := DateOf(q.After.In(q.Zone)).AddDays(-1)
	// A long appointment starting just before Until needs the hours of the
	// days after it.
	last := DateOf(q.Until.In(q.Zone)).AddDays(1 + min(int(q.Duration/(24*time.Hour)), MaxDays))
	periods, err := zonePeriods(q.Zone, first.midnight().Add(-26*time.Hour), last.midnight().Add(50*time.Hour))
	if err != nil {
		return nil, err
	}
	pieces := openPieces(q.Open, periods, first, last)
	busy := busyUnion(q.Busy)

	var (
		out []time.Time
		// runEnd is where the working time containing the current piece
		// ends: pieces that touch are joined.
		runEnd time.Time
		next   = 0 // first busy span that may still overlap a candidate
		step   = int64(q.Step / time.Second)
	)
	for i, p := range pieces {
		if i == 0 || p.start.After(pieces[i-1].end) {
			runEnd = p.end
			for j := i + 1; j < len(pieces) && !pieces[j].start.After(pieces[j-1].end); j++ {
				runEnd = pieces[j].end
			}
		}
		earliest := latest(p.start, p.repeatUntil, q.After)
		for t := p.firstAligned(earliest, step); t.Before(p.end); t = t.Add(q.Step) {
			if !t.Before(q.Until) {
				return out, nil
			}
			if t.Add(q.Duration).After(runEnd) {
				break
			}
			from, to := t.Add(-max(q.Buffer.Before, 0)), t.Add(q.Duration+max(q.Buffer.After, 0))
			for next < len(busy) && !busy[next].end.After(from) {
				next++
			}
			if next < len(busy) && busy[next].start.Before(to) {
				continue
			}
			out = append(out, t.In(q.Zone))
			if len(out) == q.Limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// Conflicts returns the indexes of the busy entries that a new appointment
// at start, lasting d, with buffers buf, would overlap (both sides widened
// by their buffers), in the order given; nil when there is none. It is the
// booking form's double-booking check.
func Conflicts(busy []Busy, start time.Time, d time.Duration, buf Buffer) []int {
	from, to := start.Add(-max(buf.Before, 0)), start.Add(max(d, 0)+max(buf.After, 0))
	if !from.Before(to) {
		return nil
	}
	var out []int
	for i, b := range busy {
		bs, be := b.padded()
		if bs.Before(be) && bs.Before(to) && from.Before(be) {
			out = append(out, i)
		}
	}
	return out
}

// span is a half-open stretch of instants [start, end).
type span struct{ start, end time.Time }

// busyUnion returns the busy spans widened by their buffers, sorted and
// joined where they overlap or touch.
func busyUnion(busy []Busy) []span {
	spans := make([]span, 0, len(busy))
	for _, b := range busy {
		s, e := b.padded()
		if s.Before(e) {
			spans = append(spans, span{s, e})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start.Compare(b.start) })
	out := spans[:0]
	for _, s := range spans {
		if n := len(out); n > 0 && !s.start.After(out[n-1].end) {
			if s.end.After(out[n-1].end) {
				out[n-1].end = s.end
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// period is a stretch of time with one UTC offset in the zone.
type period struct {
	start, end time.Time // end is the next period's start
	offset     int64     // seconds east of UTC
	prevOffset int64     // the offset just before start
}

// zonePeriods lists the zone's offset periods that overlap [from, to). A
// zone without transitions (UTC, a fixed zone) is one period.
func zonePeriods(loc *time.Location, from, to time.Time) ([]period, error) {
	var out []period
	t := from
	for len(out) < maxPeriods {
		local := t.In(loc)
		_, off := local.Zone()
		start, end := local.ZoneBounds()
		p := period{start: start, end: end, offset: int64(off), prevOffset: int64(off)}
		if start.IsZero() || start.Before(from) {
			p.start = from
		} else {
			_, prev := start.Add(-time.Second).In(loc).Zone()
			p.prevOffset = int64(prev)
		}
		if end.IsZero() || !end.Before(to) {
			p.end = to
			return append(out, p), nil
		}
		out = append(out, p)
		t = end
	}
	return nil, fmt.Errorf("slots: zone %s: more than %d offset changes in the search window", loc, maxPeriods)
}

// piece is a stretch of working time within one zone period and one local
// date: the instants whose wall clock lies in one working interval.
type piece struct {
	start, end time.Time
	midnight   int64 // the local date's midnight as wall-clock seconds
	offset     int64
	// repeatUntil is when the wall-clock times repeated by a fall-back
	// change end: starts before it were already offered.
	repeatUntil time.Time
}

// firstAligned returns the first instant at or after t, inside the piece's
// period, whose wall clock is a whole multiple of step seconds after the
// local midnight.
func (p piece) firstAligned(t time.Time, step int64) time.Time {
	wall := t.Unix() + p.offset - p.midnight
	if t.Nanosecond() > 0 {
		wall++
	}
	k := (wall + step - 1) / step
	if wall <= 0 {
		k = 0
	}
	return time.Unix(p.midnight+k*step-p.offset, 0)
}

// openPieces maps the working hours of every date from first to last onto
// instants: for each date, the wall-clock intervals open in every schedule,
// cut along the zone periods. The result is sorted and non-overlapping.
func openPieces(open []Hours, periods []period, first, last Date) []piece {
	var out []piece
	lo := 0
	for d := first; d.Compare(last) <= 0; d = d.AddDays(1) {
		ivs := open[0].On(d)
		for _, h := range open[1:] {
			if len(ivs) == 0 {
				break
			}
			ivs = intersect(ivs, h.On(d))
		}
		if len(ivs) == 0 {
			continue
		}
		midnight := d.midnight()
		for lo < len(periods)-1 && !periods[lo].end.After(midnight.Add(-26*time.Hour)) {
			lo++
		}
		for _, iv := range ivs {
			for _, p := range periods[lo:] {
				if !p.start.Before(midnight.Add(50 * time.Hour)) {
					break
				}
				off := time.Duration(p.offset) * time.Second
				start := latest(midnight.Add(time.Duration(iv.Start)*time.Minute-off), p.start)
				end := earliest(midnight.Add(time.Duration(iv.End)*time.Minute-off), p.end)
				if !start.Before(end) {
					continue
				}
				pc := piece{start: start, end: end, midnight: midnight.Unix(), offset: p.offset, repeatUntil: p.start}
				if p.prevOffset > p.offset {
					pc.repeatUntil = p.start.Add(time.Duration(p.prevOffset-p.offset) * time.Second)
				}
				out = append(out, pc)
			}
		}
	}
	slices.SortFunc(out, func(a, b piece) int { return a.start.Compare(b.start) })
	return out
}

func latest(ts ...time.Time) time.Time {
	out := ts[0]
	for _, t := range ts[1:] {
		if t.After(out) {
			out = t
		}
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
