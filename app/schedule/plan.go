// Package schedule plans when reminder messages go out: one per enabled rule,
// moved out of the location's quiet hours (to when they end if that still
// leaves time before the appointment, else to before they begin), skipped
// when pointless or over the per-patient caps. It is pure: no clock, no database, no I/O; the
// caller passes the current time and the patient's other reminders.
package schedule

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Rule is a reminder rule: send Before the appointment starts, or, when
// Fixed, DaysBefore days before the appointment's local day at the local
// time LocalMinutes (minutes after midnight) in the appointment's zone.
type Rule struct {
	ID                uint
	Name              string
	Before            time.Duration
	OnlyIfUnconfirmed bool
	Enabled           bool
	Fixed             bool
	DaysBefore        int
	LocalMinutes      int
}

// FixedAt is when a fixed-time rule falls for an appointment starting at
// startsAt in zone loc: the wall-clock time LocalMinutes after midnight on
// the local day DaysBefore days before the appointment's. A wall time that
// a spring change skips is read as the clock reads it an hour later (02:30
// becomes 03:30); one an autumn change repeats is the first of the two.
func FixedAt(startsAt time.Time, loc *time.Location, daysBefore, localMinutes int) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	local := startsAt.In(loc)
	y, m, d := local.Date()
	t := time.Date(y, m, d-daysBefore, localMinutes/60, localMinutes%60, 0, 0, loc)
	// In a gap time.Date may use the offset after the change, giving a
	// wall time an hour early: move on by what the clock is short.
	want := time.Date(y, m, d-daysBefore, localMinutes/60, localMinutes%60, 0, 0, time.UTC)
	lt := t.In(loc)
	got := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), 0, 0, time.UTC)
	if short := want.Sub(got); short > 0 {
		t = t.Add(short)
	}
	return t
}

// SendTime is when rule r falls for an appointment starting at startsAt
// in zone loc, before any quiet-hours move.
func (r Rule) SendTime(startsAt time.Time, loc *time.Location) time.Time {
	if r.Fixed {
		return FixedAt(startsAt, loc, r.DaysBefore, r.LocalMinutes)
	}
	return startsAt.Add(-r.Before)
}

// ReasonAfterStart says a fixed-time rule falls at or after the start.
const ReasonAfterStart = "the rule's time is not before the appointment"

// Caps limits how many reminders one patient receives. A value of zero or
// less means no limit. Use DefaultCaps for the limits of the US health-care exemption.
type Caps struct {
	// PerDay is the limit per calendar day in the appointment location's
	// time zone.
	PerDay int
	// PerWeek is the limit in any rolling window of 7 × 24 hours.
	PerWeek int
}

// DefaultCaps returns one reminder per day and three per week, the limits of
// the US health-care exemption.
func DefaultCaps() Caps {
	return Caps{PerDay: 1, PerWeek: 3}
}

// Input is everything Plan needs about one appointment.
type Input struct {
	AppointmentID uint
	// StartsAt is the appointment's start (any zone; compared as an instant).
	StartsAt time.Time
	// Location is the appointment location's IANA zone; nil means UTC.
	Location *time.Location
	// Quiet is the location's quiet hours; the zero value means none.
	Quiet QuietHours
	// MinLead is the least time a reminder moved to the end of quiet hours
	// must leave before the appointment starts; zero or less means
	// DefaultMinLead.
	MinLead time.Duration
	Rules   []Rule
	// Confirmed is true when the appointment is already confirmed.
	Confirmed bool
	// Active is false when the appointment is cancelled, completed or a
	// no-show: then every rule is skipped.
	Active bool
	// Now is the current time; a send time at or before it is skipped.
	Now time.Time
	// Others holds the send times of the same patient's reminders for other
	// appointments, planned or already sent; they count towards Caps.
	Others []time.Time
	Caps   Caps
}

// DefaultMinLead is Input.MinLead's default: a reminder moved past quiet
// hours still goes out at least an hour before the appointment.
const DefaultMinLead = 60 * time.Minute

// Outcome says what became of a rule.
type Outcome string

// The outcomes of a rule.
const (
	OutcomePlanned Outcome = "planned"
	OutcomeSkipped Outcome = "skipped"
)

// Reasons given with OutcomeSkipped (cap reasons are built by the cap, for
// example "cap: 1 per day reached", and all start with ReasonCapPrefix).
const (
	ReasonInvalidRule = "invalid rule"
	ReasonNotActive   = "appointment not active"
	ReasonConfirmed   = "already confirmed"
	ReasonPast        = "in the past"
	ReasonNoTime      = "no time outside quiet hours"
	ReasonCapPrefix   = "cap: "
)

// Planned is the plan for one rule.
type Planned struct {
	RuleID   uint
	RuleName string
	// SendAt is when the message goes out (in UTC), after any move out of
	// quiet hours. For a skipped rule it is when it would have gone out, so
	// staff can see why it was skipped (for an invalid rule: StartsAt).
	SendAt  time.Time
	Outcome Outcome
	// Reason is empty when planned and says why when skipped.
	Reason string
	// Moved is true when the rule's time (StartsAt − Before) fell in quiet
	// hours and SendAt was moved out of them; MovedFrom is then that time
	// (in UTC) and MoveReason says where to and why, in the location's
	// wall-clock time: "moved to 08:00, after quiet hours" or "moved to
	// 20:59, before quiet hours: after them there would be less than 60
	// min before the appointment". All three are zero otherwise.
	Moved      bool
	MovedFrom  time.Time
	MoveReason string
}

// Plan returns one entry per enabled rule, sorted by SendAt (then RuleID).
// Disabled rules are left out.
//
// For each rule the send time is StartsAt − Before. If that falls in quiet
// hours in the location's zone it moves to the nearest allowed time that
// still serves: to when quiet hours end (08:00 for an 08:00 end) if that is
// at least MinLead before StartsAt, else to the start of the last allowed
// local minute before the quiet stretch began (20:59 for a 21:00 start).
// So a 2-hour reminder for a 09:00 visit goes at 08:00, and one for an
// 08:30 visit at 20:59 the evening before. Both moves are computed on
// instants so daylight-saving days behave (see moveAfterQuiet and
// moveBeforeQuiet). A rule is then skipped, checking in this order, when:
// Before ≤ 0 ("invalid rule"); the appointment is not active; the rule is
// only-if-unconfirmed and the appointment is confirmed; the (moved) send
// time is at or before Now ("in the past"); or a cap is reached.
//
// Caps count Others and the reminders this plan has already accepted. Rules
// are considered from the closest to the appointment to the farthest
// (smallest Before first, then ID, then Name), so when a cap allows only one
// of two reminders, the one nearer the appointment wins: it is the one the
// patient is most likely to act on.
func Plan(in Input) []Planned {
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	rules := make([]Rule, 0, len(in.Rules))
	for _, r := range in.Rules {
		if r.Enabled {
			if r.Fixed {
				// Ordered among the others by how long before the start
				// it falls for this appointment.
				r.Before = in.StartsAt.Sub(r.SendTime(in.StartsAt, loc))
			}
			rules = append(rules, r)
		}
	}
	slices.SortStableFunc(rules, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(a.Before, b.Before), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name))
	})

	accepted := slices.Clone(in.Others)
	out := make([]Planned, 0, len(rules))
	for _, r := range rules {
		p := planRule(r, in, loc, accepted)
		if p.Outcome == OutcomePlanned {
			accepted = append(accepted, p.SendAt)
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b Planned) int {
		return cmp.Or(a.SendAt.Compare(b.SendAt), cmp.Compare(a.RuleID, b.RuleID))
	})
	return out
}

// PlanNudge decides a nudge due at (some time after the reminder it
// follows) for the appointment of in: moved out of quiet hours as a
// reminder is, skipped when that is not before the start or is past, or
// when the appointment is confirmed (every signal wants it unconfirmed). A
// nudge is a follow-up of a reminder already counted, so the caps do not
// apply to it.
func PlanNudge(in Input, ruleID uint, name string, at time.Time) Planned {
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	p := Planned{RuleID: ruleID, RuleName: name, SendAt: at.UTC()}
	skip := func(reason string) Planned {
		p.Outcome, p.Reason = OutcomeSkipped, reason
		return p
	}
	if !at.Before(in.StartsAt) {
		return skip(ReasonAfterStart)
	}
	moved, why, ok := placeOutsideQuiet(at, in, loc)
	p.SendAt = moved.UTC()
	if ok && !moved.Equal(at) {
		p.Moved, p.MovedFrom, p.MoveReason = true, at.UTC(), why
	}
	switch {
	case !in.Active:
		return skip(ReasonNotActive)
	case in.Confirmed:
		return skip(ReasonConfirmed)
	case !ok:
		return skip(ReasonNoTime)
	case !moved.After(in.Now):
		return skip(ReasonPast)
	}
	p.Outcome = OutcomePlanned
	return p
}

// planRule decides one rule, given the reminders accepted so far.
func planRule(r Rule, in Input, loc *time.Location, accepted []time.Time) Planned {
	p := Planned{RuleID: r.ID, RuleName: r.Name, SendAt: in.StartsAt.UTC()}
	skip := func(reason string) Planned {
		p.Outcome, p.Reason = OutcomeSkipped, reason
		return p
	}
	if r.Before <= 0 {
		if r.Fixed {
			return skip(ReasonAfterStart)
		}
		return skip(ReasonInvalidRule)
	}
	at := in.StartsAt.Add(-r.Before)
	moved, why, ok := placeOutsideQuiet(at, in, loc)
	p.SendAt = moved.UTC()
	if ok && !moved.Equal(at) {
		p.Moved, p.MovedFrom, p.MoveReason = true, at.UTC(), why
	}
	switch {
	case !in.Active:
		return skip(ReasonNotActive)
	case r.OnlyIfUnconfirmed && in.Confirmed:
		return skip(ReasonConfirmed)
	case !ok:
		return skip(ReasonNoTime)
	case !moved.After(in.Now):
		return skip(ReasonPast)
	}
	if reason := capReached(moved, loc, accepted, in.Caps); reason != "" {
		return skip(reason)
	}
	p.Outcome = OutcomePlanned
	return p
}

// placeOutsideQuiet moves at out of quiet hours as Plan describes, and
// says why. ok is false when neither move found a time.
func placeOutsideQuiet(at time.Time, in Input, loc *time.Location) (moved time.Time, why string, ok bool) {
	if !InQuiet(at, loc, in.Quiet) {
		return at, "", true
	}
	minLead := in.MinLead
	if minLead <= 0 {
		minLead = DefaultMinLead
	}
	after, afterOK := moveAfterQuiet(at, loc, in.Quiet)
	if afterOK && in.StartsAt.Sub(after) >= minLead {
		return after, fmt.Sprintf("moved to %s, after quiet hours", after.In(loc).Format("15:04")), true
	}
	before, ok := moveBeforeQuiet(at, loc, in.Quiet)
	if !ok {
		return at, "", false
	}
	why = fmt.Sprintf("moved to %s, before quiet hours", before.In(loc).Format("15:04"))
	switch {
	case afterOK && !after.Before(in.StartsAt):
		why += ": the appointment starts before they end"
	case afterOK:
		why += ": after them there would be less than " + formatLead(minLead) + " before the appointment"
	}
	return before, why, true
}

// formatLead writes a lead time as staff read it: "60 min", "90 min", "2 h".
func formatLead(d time.Duration) string {
	if d > time.Hour && d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}

// week is the length of the rolling window for Caps.PerWeek.
const week = 7 * 24 * time.Hour

// capReached returns a reason when sending at t would exceed caps, given the
// reminders already accepted, and "" otherwise.
func capReached(t time.Time, loc *time.Location, accepted []time.Time, caps Caps) string {
	if caps.PerDay > 0 {
		y, m, d := t.In(loc).Date()
		n := 0
		for _, a := range accepted {
			if ay, am, ad := a.In(loc).Date(); ay == y && am == m && ad == d {
				n++
			}
		}
		if n >= caps.PerDay {
			return fmt.Sprintf("%s%d per day reached", ReasonCapPrefix, caps.PerDay)
		}
	}
	if caps.PerWeek > 0 && busiestWeek(t, accepted)+1 > caps.PerWeek {
		return fmt.Sprintf("%s%d per week reached", ReasonCapPrefix, caps.PerWeek)
	}
	return ""
}

// busiestWeek returns the largest number of accepted reminders in any window
// [w, w+7d) that also contains t. Such a window can always be slid right
// until it starts at t or at an accepted reminder without losing any, so only
// those starts need checking.
func busiestWeek(t time.Time, accepted []time.Time) int {
	count := func(w time.Time) int {
		n := 0
		end := w.Add(week)
		for _, a := range accepted {
			if !a.Before(w) && a.Before(end) {
				n++
			}
		}
		return n
	}
	best := count(t)
	from := t.Add(-week)
	for _, a := range accepted {
		if a.After(from) && !a.After(t) {
			best = max(best, count(a))
		}
	}
	return best
}
