package schedule

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	rule48h = Rule{ID: 1, Name: "48h", Before: 48 * time.Hour, Enabled: true}
	rule2h  = Rule{ID: 2, Name: "2h", Before: 2 * time.Hour, Enabled: true}
)

// want is one expected entry of a plan: "name@UTC-instant" plus the reason
// when skipped.
type want struct {
	rule   string
	sendAt string
	reason string // "" means planned
}

func checkPlan(t *testing.T, got []Planned, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d entries, want %d:\n%s", len(got), len(wants), dump(got))
	}
	for i, w := range wants {
		g := got[i]
		wantOutcome := OutcomePlanned
		if w.reason != "" {
			wantOutcome = OutcomeSkipped
		}
		if g.RuleName != w.rule || g.SendAt.Format(time.RFC3339) != w.sendAt || g.Outcome != wantOutcome || g.Reason != w.reason {
			t.Fatalf("entry %d = %s %s %s %q, want %s %s %s %q\nplan:\n%s",
				i, g.RuleName, g.SendAt.Format(time.RFC3339), g.Outcome, g.Reason,
				w.rule, w.sendAt, wantOutcome, w.reason, dump(got))
		}
		if g.SendAt.Location() != time.UTC {
			t.Fatalf("entry %d SendAt is in %s, want UTC", i, g.SendAt.Location())
		}
		checkMoved(t, g)
	}
}

// checkMoved checks that the move fields agree with each other.
func checkMoved(t *testing.T, p Planned) {
	t.Helper()
	if p.Moved != (p.MoveReason != "") || p.Moved == p.MovedFrom.IsZero() || (p.Moved && p.MovedFrom.Equal(p.SendAt)) {
		t.Fatalf("inconsistent move: %+v", p)
	}
	if p.Moved && p.MovedFrom.Location() != time.UTC {
		t.Fatalf("MovedFrom is in %s, want UTC", p.MovedFrom.Location())
	}
}

func dump(ps []Planned) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %d %s %s %s %q %q\n", p.RuleID, p.RuleName, p.SendAt.Format(time.RFC3339), p.Outcome, p.Reason, p.MoveReason)
	}
	return b.String()
}

func TestPlan(t *testing.T) {
	night := quiet(t, "21:00", "08:00")
	berlin := mustLoc(t, "Europe/Berlin")
	newYork := mustLoc(t, "America/New_York")
	tokyo := mustLoc(t, "Asia/Tokyo")
	defaultRules := []Rule{rule48h, rule2h}

	tests := []struct {
		name string
		in   Input
		want []want
	}{
		{
			name: "default rules, booked well ahead",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC, Quiet: night,
				Rules: defaultRules, Active: true, Now: mustUTC(t, "2026-03-01T10:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"48h", "2026-03-08T14:00:00Z", ""}, {"2h", "2026-03-10T12:00:00Z", ""}},
		},
		{
			name: "booked 30 hours ahead: 48h is in the past",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC, Quiet: night,
				Rules: defaultRules, Active: true, Now: mustUTC(t, "2026-03-09T08:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"48h", "2026-03-08T14:00:00Z", ReasonPast}, {"2h", "2026-03-10T12:00:00Z", ""}},
		},
		{
			name: "booked 1 hour ahead: 2h is in the past",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC, Quiet: night,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-10T13:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"2h", "2026-03-10T12:00:00Z", ReasonPast}},
		},
		{
			name: "send time equal to now is in the past",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-10T12:00:00Z"),
			},
			want: []want{{"2h", "2026-03-10T12:00:00Z", ReasonPast}},
		},
		{
			// Quiet hours end an hour before the visit: the reminder waits
			// for 08:00 instead of moving into the past evening.
			name: "moved after quiet hours though the evening before has passed",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T09:00:00Z"), Location: time.UTC, Quiet: night,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-09T22:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"2h", "2026-03-10T08:00:00Z", ""}},
		},
		{
			name: "moved before quiet hours into the past",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T08:30:00Z"), Location: time.UTC, Quiet: night,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-09T22:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"2h", "2026-03-09T20:59:00Z", ReasonPast}},
		},
		{
			name: "new york spring forward, zone unlike the server's",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-08T13:00:00Z"), Location: newYork, Quiet: night, // 09:00 EDT
				Rules: defaultRules, Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
			},
			// 48h is 48 real hours: 08:00 EST on the 6th (not in quiet hours, which end at 08:00);
			// 2h: 07:00 EDT moves to 08:00 EDT, when quiet hours end.
			want: []want{{"48h", "2026-03-06T13:00:00Z", ""}, {"2h", "2026-03-08T12:00:00Z", ""}},
		},
		{
			name: "new york fall back",
			in: Input{
				StartsAt: mustUTC(t, "2026-11-01T14:00:00Z"), Location: newYork, Quiet: night, // 09:00 EST
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-10-20T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"2h", "2026-11-01T13:00:00Z", ""}}, // 08:00 EST
		},
		{
			name: "berlin spring forward",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-29T07:00:00Z"), Location: berlin, Quiet: night, // 09:00 CEST
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-20T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"2h", "2026-03-29T06:00:00Z", ""}}, // 08:00 CEST
		},
		{
			name: "berlin fall back",
			in: Input{
				StartsAt: mustUTC(t, "2026-10-25T08:00:00Z"), Location: berlin, Quiet: night, // 09:00 CET
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-10-20T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"2h", "2026-10-25T07:00:00Z", ""}}, // 08:00 CET
		},
		{
			name: "starts-at given in another zone is the same instant",
			in: Input{
				StartsAt: mustUTC(t, "2026-10-25T08:00:00Z").In(tokyo), Location: berlin, Quiet: night,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-10-20T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"2h", "2026-10-25T07:00:00Z", ""}},
		},
		{
			name: "kolkata half-hour offset",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T03:30:00Z"), Location: mustLoc(t, "Asia/Kolkata"), Quiet: night, // 09:00 IST
				Rules: defaultRules, Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"48h", "2026-03-08T03:30:00Z", ""}, {"2h", "2026-03-10T02:30:00Z", ""}}, // 08:00 IST
		},
		{
			name: "sydney",
			in: Input{
				StartsAt: mustUTC(t, "2026-06-14T23:00:00Z"), Location: mustLoc(t, "Australia/Sydney"), Quiet: night, // 09:00 AEST
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-06-01T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"2h", "2026-06-14T22:00:00Z", ""}}, // 08:00 AEST
		},
		{
			name: "nil location is UTC",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T09:00:00Z"), Quiet: night,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"),
			},
			want: []want{{"2h", "2026-03-10T08:00:00Z", ""}},
		},
		{
			name: "disabled rule omitted, invalid rule skipped",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC,
				Rules: []Rule{
					{ID: 7, Name: "off", Before: 24 * time.Hour},
					{ID: 8, Name: "zero", Before: 0, Enabled: true},
					{ID: 9, Name: "negative", Before: -time.Hour, Enabled: true},
					rule2h,
				},
				Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"),
			},
			want: []want{{"2h", "2026-03-10T12:00:00Z", ""}, {"zero", "2026-03-10T14:00:00Z", ReasonInvalidRule}, {"negative", "2026-03-10T14:00:00Z", ReasonInvalidRule}},
		},
		{
			name: "conditional rule skipped once confirmed",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC, Quiet: night,
				Rules:  []Rule{rule48h, {ID: 2, Name: "2h if unconfirmed", Before: 2 * time.Hour, OnlyIfUnconfirmed: true, Enabled: true}},
				Active: true, Confirmed: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"48h", "2026-03-08T14:00:00Z", ""}, {"2h if unconfirmed", "2026-03-10T12:00:00Z", ReasonConfirmed}},
		},
		{
			name: "conditional rule planned while unconfirmed",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC, Quiet: night,
				Rules:  []Rule{{ID: 2, Name: "2h if unconfirmed", Before: 2 * time.Hour, OnlyIfUnconfirmed: true, Enabled: true}},
				Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"2h if unconfirmed", "2026-03-10T12:00:00Z", ""}},
		},
		{
			name: "not active skips everything",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC, Quiet: night,
				Rules: defaultRules, Active: false, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"48h", "2026-03-08T14:00:00Z", ReasonNotActive}, {"2h", "2026-03-10T12:00:00Z", ReasonNotActive}},
		},
		{
			name: "two rules the same day: the closer one wins",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T18:00:00Z"), Location: time.UTC, Quiet: night,
				Rules:  []Rule{{ID: 3, Name: "6h", Before: 6 * time.Hour, Enabled: true}, rule2h},
				Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"6h", "2026-03-10T12:00:00Z", "cap: 1 per day reached"}, {"2h", "2026-03-10T16:00:00Z", ""}},
		},
		{
			name: "no caps: both the same day",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T18:00:00Z"), Location: time.UTC, Quiet: night,
				Rules:  []Rule{{ID: 3, Name: "6h", Before: 6 * time.Hour, Enabled: true}, rule2h},
				Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"),
			},
			want: []want{{"6h", "2026-03-10T12:00:00Z", ""}, {"2h", "2026-03-10T16:00:00Z", ""}},
		},
		{
			name: "day cap uses the location's calendar day",
			in: Input{
				// 09:00 CET on the 10th; the other reminder is 00:30 CET on the 10th (23:30Z on the 9th).
				StartsAt: mustUTC(t, "2026-03-10T08:00:00Z"), Location: berlin,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
				Others: []time.Time{mustUTC(t, "2026-03-09T23:30:00Z")},
			},
			want: []want{{"2h", "2026-03-10T06:00:00Z", "cap: 1 per day reached"}},
		},
		{
			name: "day cap: the day before locally does not count",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T08:00:00Z"), Location: berlin,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
				Others: []time.Time{mustUTC(t, "2026-03-09T22:30:00Z")}, // 23:30 CET on the 9th
			},
			want: []want{{"2h", "2026-03-10T06:00:00Z", ""}},
		},
		{
			name: "week cap: two before and two after, no 7-day window holds four",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
				Others: []time.Time{
					mustUTC(t, "2026-03-04T12:00:00Z"), mustUTC(t, "2026-03-05T12:00:00Z"),
					mustUTC(t, "2026-03-15T12:00:00Z"), mustUTC(t, "2026-03-16T12:00:00Z"),
				},
			},
			want: []want{{"2h", "2026-03-10T12:00:00Z", ""}},
		},
		{
			name: "week cap: three in the week before",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
				Others: []time.Time{
					mustUTC(t, "2026-03-04T12:00:01Z"), mustUTC(t, "2026-03-05T12:00:00Z"), mustUTC(t, "2026-03-08T12:00:00Z"),
				},
			},
			want: []want{{"2h", "2026-03-10T12:00:00Z", "cap: 3 per week reached"}},
		},
		{
			name: "week cap: exactly 7 days earlier is outside the window",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
				Others: []time.Time{
					mustUTC(t, "2026-03-03T12:00:00Z"), mustUTC(t, "2026-03-05T12:00:00Z"), mustUTC(t, "2026-03-08T12:00:00Z"),
				},
			},
			want: []want{{"2h", "2026-03-10T12:00:00Z", ""}},
		},
		{
			name: "week cap: three planned later for another appointment",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC,
				Rules: []Rule{rule2h}, Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
				Others: []time.Time{
					mustUTC(t, "2026-03-11T12:00:00Z"), mustUTC(t, "2026-03-13T12:00:00Z"), mustUTC(t, "2026-03-17T11:59:59Z"),
				},
			},
			want: []want{{"2h", "2026-03-10T12:00:00Z", "cap: 3 per week reached"}},
		},
		{
			name: "week cap counts this plan's own reminders, closest first",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Location: time.UTC, Quiet: night,
				Rules: []Rule{
					{ID: 4, Name: "74h", Before: 74 * time.Hour, Enabled: true},
					{ID: 3, Name: "50h", Before: 50 * time.Hour, Enabled: true},
					{ID: 1, Name: "26h", Before: 26 * time.Hour, Enabled: true},
					rule2h,
				},
				Active: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{
				{"74h", "2026-03-07T12:00:00Z", "cap: 3 per week reached"},
				{"50h", "2026-03-08T12:00:00Z", ""},
				{"26h", "2026-03-09T12:00:00Z", ""},
				{"2h", "2026-03-10T12:00:00Z", ""},
			},
		},
		{
			name: "skipped reminders do not use up the cap",
			in: Input{
				StartsAt: mustUTC(t, "2026-03-10T18:00:00Z"), Location: time.UTC,
				Rules:  []Rule{{ID: 3, Name: "6h", Before: 6 * time.Hour, Enabled: true}, {ID: 2, Name: "2h", Before: 2 * time.Hour, OnlyIfUnconfirmed: true, Enabled: true}},
				Active: true, Confirmed: true, Now: mustUTC(t, "2026-03-01T00:00:00Z"), Caps: DefaultCaps(),
			},
			want: []want{{"6h", "2026-03-10T12:00:00Z", ""}, {"2h", "2026-03-10T16:00:00Z", ReasonConfirmed}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkPlan(t, Plan(tt.in), tt.want)
		})
	}
}

func TestPlanDoesNotModifyInput(t *testing.T) {
	others := make([]time.Time, 1, 4)
	others[0] = mustUTC(t, "2026-01-01T00:00:00Z")
	rules := []Rule{rule2h, rule48h}
	Plan(Input{
		StartsAt: mustUTC(t, "2026-03-10T14:00:00Z"), Rules: rules, Active: true,
		Now: mustUTC(t, "2026-03-01T00:00:00Z"), Others: others, Caps: DefaultCaps(),
	})
	if rules[0] != rule2h || rules[1] != rule48h {
		t.Fatalf("rules reordered: %+v", rules)
	}
	if full := others[:cap(others)]; !full[1].IsZero() {
		t.Fatalf("Others' spare capacity was written: %v", full)
	}
}

func FuzzPlan(f *testing.F) {
	f.Add(uint8(1), int64(1772974800), int64(1772300000), uint32(2880), uint32(120), uint32(1440), uint16(1260), uint16(480), uint8(1), uint8(3), false, int64(0))
	f.Add(uint8(2), int64(1793520000), int64(1793500000), uint32(60), uint32(120), uint32(0), uint16(0), uint16(0), uint8(0), uint8(0), true, int64(-3600))
	f.Add(uint8(4), int64(1775394000), int64(1775000000), uint32(5), uint32(9000), uint32(45), uint16(1439), uint16(1), uint8(2), uint8(1), false, int64(7200))
	f.Fuzz(func(t *testing.T, zone uint8, startUnix, nowUnix int64, b1, b2, b3 uint32, qs, qe uint16, perDay, perWeek uint8, confirmed bool, otherOffset int64) {
		loc := mustLoc(t, testZones[int(zone)%len(testZones)])
		// Keep to 1970..2100 and rules under a year, where times are meaningful.
		startsAt := time.Unix(abs(startUnix)%(130*365*86400), 0)
		now := time.Unix(abs(nowUnix)%(130*365*86400), 0)
		rules := []Rule{
			{ID: 1, Name: "a", Before: time.Duration(b1%(366*1440)) * time.Minute, Enabled: true},
			{ID: 2, Name: "b", Before: time.Duration(b2%(366*1440)) * time.Minute, Enabled: true, OnlyIfUnconfirmed: true},
			{ID: 3, Name: "c", Before: time.Duration(b3%(366*1440)) * time.Minute, Enabled: b3%2 == 0},
			{ID: 4, Name: "off", Before: time.Hour},
		}
		in := Input{
			StartsAt: startsAt, Location: loc, Quiet: QuietHours{Start: Clock(qs), End: Clock(qe)},
			Rules: rules, Confirmed: confirmed, Active: true, Now: now,
			Others: []time.Time{startsAt.Add(time.Duration(otherOffset%(10*86400)) * time.Second)},
			Caps:   Caps{PerDay: int(perDay % 4), PerWeek: int(perWeek % 6)},
		}
		got := Plan(in)
		for _, p := range got {
			checkMoved(t, p)
			if p.Moved && p.SendAt.After(p.MovedFrom) && startsAt.Sub(p.SendAt) < DefaultMinLead {
				t.Fatalf("moved past quiet hours to %s, less than %s before %s", p.SendAt, DefaultMinLead, startsAt)
			}
		}
		enabled := 2
		if rules[2].Enabled {
			enabled = 3
		}
		if len(got) != enabled {
			t.Fatalf("got %d entries for %d enabled rules", len(got), enabled)
		}
		var planned []time.Time
		for i, p := range got {
			if i > 0 && p.SendAt.Before(got[i-1].SendAt) {
				t.Fatalf("not sorted:\n%s", dump(got))
			}
			if p.Outcome != OutcomePlanned {
				if p.Outcome != OutcomeSkipped || p.Reason == "" {
					t.Fatalf("bad skipped entry %+v", p)
				}
				continue
			}
			if p.Reason != "" {
				t.Fatalf("planned entry with reason %+v", p)
			}
			if InQuiet(p.SendAt, loc, in.Quiet) {
				t.Fatalf("planned in quiet hours: %s (%s local)", p.SendAt, p.SendAt.In(loc))
			}
			if !p.SendAt.After(now) || !p.SendAt.Before(startsAt) {
				t.Fatalf("planned at %s, now %s, starts %s", p.SendAt, now, startsAt)
			}
			if p.RuleName == "b" && confirmed {
				t.Fatalf("conditional rule planned though confirmed")
			}
			planned = append(planned, p.SendAt)
		}
		all := append(planned, in.Others...)
		if in.Caps.PerDay > 0 {
			for _, p := range planned {
				n := 0
				for _, a := range all {
					if sameDay(a, p, loc) {
						n++
					}
				}
				if n > in.Caps.PerDay {
					t.Fatalf("%d reminders on the local day of %s, cap %d:\n%s", n, p.In(loc), in.Caps.PerDay, dump(got))
				}
			}
		}
		if in.Caps.PerWeek > 0 {
			for _, p := range planned {
				if busiestWeek(p, all) > in.Caps.PerWeek {
					t.Fatalf("more than %d reminders in a week around %s:\n%s", in.Caps.PerWeek, p, dump(got))
				}
			}
		}
	})
}

func sameDay(a, b time.Time, loc *time.Location) bool {
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.In(loc).Date()
	return ay == by && am == bm && ad == bd
}

// TestPlanMoves checks where a reminder due in quiet hours goes, and what
// the plan says about it, across zones and daylight-saving changes.
func TestPlanMoves(t *testing.T) {
	night := quiet(t, "21:00", "08:00")
	tests := []struct {
		name    string
		zone    string
		q       QuietHours
		starts  string // UTC
		before  time.Duration
		minLead time.Duration
		sendAt  string // UTC; the rule's own time when not moved
		reason  string // MoveReason; "" means not moved
	}{
		{"not in quiet hours", "UTC", night, "2026-03-10T14:00:00Z", 2 * time.Hour, 0, "2026-03-10T12:00:00Z", ""},
		{
			"a 2 h reminder for a 09:00 visit goes at 08:00", "UTC", night, "2026-03-10T09:00:00Z", 2 * time.Hour, 0,
			"2026-03-10T08:00:00Z", "moved to 08:00, after quiet hours",
		},
		{
			"exactly the minimum lead after quiet hours", "UTC", night, "2026-03-10T09:00:00Z", 3 * time.Hour, 60 * time.Minute,
			"2026-03-10T08:00:00Z", "moved to 08:00, after quiet hours",
		},
		{
			"too close after quiet hours: before them", "UTC", night, "2026-03-10T08:30:00Z", 2 * time.Hour, 0,
			"2026-03-09T20:59:00Z", "moved to 20:59, before quiet hours: after them there would be less than 60 min before the appointment",
		},
		{
			"a shorter minimum lead allows after", "UTC", night, "2026-03-10T08:30:00Z", 2 * time.Hour, 30 * time.Minute,
			"2026-03-10T08:00:00Z", "moved to 08:00, after quiet hours",
		},
		{
			"a longer minimum lead, in minutes", "UTC", night, "2026-03-10T09:00:00Z", 2 * time.Hour, 90 * time.Minute,
			"2026-03-09T20:59:00Z", "moved to 20:59, before quiet hours: after them there would be less than 90 min before the appointment",
		},
		{
			"a longer minimum lead, in hours", "UTC", night, "2026-03-10T09:00:00Z", 2 * time.Hour, 2 * time.Hour,
			"2026-03-09T20:59:00Z", "moved to 20:59, before quiet hours: after them there would be less than 2 h before the appointment",
		},
		{
			"an appointment inside quiet hours", "UTC", night, "2026-03-10T07:00:00Z", 2 * time.Hour, 0,
			"2026-03-09T20:59:00Z", "moved to 20:59, before quiet hours: the appointment starts before they end",
		},
		{
			"a 48 h reminder due at night waits for the morning", "UTC", night, "2026-03-10T22:30:00Z", 48 * time.Hour, 0,
			"2026-03-09T08:00:00Z", "moved to 08:00, after quiet hours",
		},
		{
			"a window that does not cross midnight", "UTC", quiet(t, "12:00", "14:00"), "2026-03-10T16:00:00Z", 3 * time.Hour, 0,
			"2026-03-10T14:00:00Z", "moved to 14:00, after quiet hours",
		},
		// 2026-03-08 02:00 EST -> 03:00 EDT.
		{
			"new york spring forward, after", "America/New_York", night, "2026-03-08T13:00:00Z", 2 * time.Hour, 0,
			"2026-03-08T12:00:00Z", "moved to 08:00, after quiet hours",
		},
		{
			"new york spring forward, before", "America/New_York", night, "2026-03-08T12:30:00Z", 2 * time.Hour, 0,
			"2026-03-08T01:59:00Z", "moved to 20:59, before quiet hours: after them there would be less than 60 min before the appointment",
		},
		// 2026-11-01 02:00 EDT -> 01:00 EST.
		{
			"new york fall back, after", "America/New_York", night, "2026-11-01T14:00:00Z", 2 * time.Hour, 0,
			"2026-11-01T13:00:00Z", "moved to 08:00, after quiet hours",
		},
		// Quiet 00:30-01:30: the second 01:00 (EST, 06:00Z) is quiet until
		// 01:30 EST; the stretch began at 01:00 EST, after 01:59 EDT.
		{
			"new york fall back, repeated hour, after", "America/New_York", quiet(t, "00:30", "01:30"), "2026-11-01T08:15:00Z", 135 * time.Minute, 0,
			"2026-11-01T06:30:00Z", "moved to 01:30, after quiet hours",
		},
		{
			"new york fall back, repeated hour, before", "America/New_York", quiet(t, "00:30", "01:30"), "2026-11-01T06:45:00Z", 45 * time.Minute, 0,
			"2026-11-01T05:59:00Z", "moved to 01:59, before quiet hours: after them there would be less than 60 min before the appointment",
		},
		// 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
		{
			"paris spring forward", "Europe/Paris", night, "2026-03-29T07:00:00Z", 2 * time.Hour, 0,
			"2026-03-29T06:00:00Z", "moved to 08:00, after quiet hours",
		},
		{
			"paris fall back", "Europe/Paris", night, "2026-10-25T08:00:00Z", 2 * time.Hour, 0,
			"2026-10-25T07:00:00Z", "moved to 08:00, after quiet hours",
		},
		{
			"paris fall back, before", "Europe/Paris", night, "2026-10-25T07:30:00Z", 2 * time.Hour, 0,
			"2026-10-24T18:59:00Z", "moved to 20:59, before quiet hours: after them there would be less than 60 min before the appointment",
		},
		// Lord Howe moves by 30 minutes: 2026-10-04 02:00 (+10:30) -> 02:30
		// (+11). A window ending at 02:15 ends at the change itself.
		{
			"lord howe, the end falls in the gap", "Australia/Lord_Howe", quiet(t, "22:00", "02:15"), "2026-10-03T17:00:00Z", 3 * time.Hour, 0,
			"2026-10-03T15:30:00Z", "moved to 02:30, after quiet hours",
		},
		// 2026-04-05 02:00 (+11) -> 01:30 (+10:30).
		{
			"lord howe, fall back", "Australia/Lord_Howe", night, "2026-04-04T22:30:00Z", 2 * time.Hour, 0,
			"2026-04-04T21:30:00Z", "moved to 08:00, after quiet hours",
		},
		// Santiago springs forward at midnight, 2026-09-06 00:00 (-04) ->
		// 01:00 (-03): a window ending at 00:30 ends at the change.
		{
			"santiago, midnight change inside a window across midnight", "America/Santiago", quiet(t, "23:00", "00:30"), "2026-09-06T06:00:00Z", 3 * time.Hour, 0,
			"2026-09-06T04:00:00Z", "moved to 01:00, after quiet hours",
		},
		{
			"kolkata half-hour offset", "Asia/Kolkata", night, "2026-03-10T03:30:00Z", 2 * time.Hour, 0,
			"2026-03-10T02:30:00Z", "moved to 08:00, after quiet hours",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			startsAt := mustUTC(t, tt.starts)
			got := Plan(Input{
				StartsAt: startsAt, Location: loc, Quiet: tt.q, MinLead: tt.minLead,
				Rules:  []Rule{{ID: 1, Name: "r", Before: tt.before, Enabled: true}},
				Active: true, Now: startsAt.Add(-30 * 24 * time.Hour), Caps: DefaultCaps(),
			})
			if len(got) != 1 {
				t.Fatalf("got %d entries", len(got))
			}
			p := got[0]
			checkMoved(t, p)
			if p.Outcome != OutcomePlanned || p.SendAt.Format(time.RFC3339) != tt.sendAt || p.MoveReason != tt.reason {
				t.Fatalf("got %s %s (%s local) %q %q; want %s %q", p.Outcome, p.SendAt.Format(time.RFC3339),
					p.SendAt.In(loc).Format("2006-01-02 15:04 MST"), p.Reason, p.MoveReason, tt.sendAt, tt.reason)
			}
			if p.Moved && !p.MovedFrom.Equal(startsAt.Add(-tt.before)) {
				t.Fatalf("MovedFrom = %s, want %s", p.MovedFrom, startsAt.Add(-tt.before))
			}
			if InQuiet(p.SendAt, loc, tt.q) {
				t.Fatalf("planned in quiet hours: %s", p.SendAt.In(loc))
			}
		})
	}
}

// TestPlanMovedAndSkipped shows where a skipped reminder would have gone.
func TestPlanMovedAndSkipped(t *testing.T) {
	got := Plan(Input{
		StartsAt: mustUTC(t, "2026-03-10T09:00:00Z"), Location: time.UTC, Quiet: quiet(t, "21:00", "08:00"),
		Rules: []Rule{rule2h}, Active: false, Now: mustUTC(t, "2026-03-01T00:00:00Z"),
	})
	p := got[0]
	if p.Outcome != OutcomeSkipped || p.Reason != ReasonNotActive || !p.Moved || p.MoveReason != "moved to 08:00, after quiet hours" {
		t.Fatalf("got %+v", p)
	}
}

// FixedAt keeps the wall-clock time in the zone across the clock
// changes, reads a skipped wall time as the clock reads it an hour later
// and a repeated one as the first of the two.
func TestFixedAtAcrossClockChanges(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		start      time.Time
		days, mins int
		want       time.Time
	}{
		// Mon 9 March 09:00 EDT; the day before at 10:00 is EDT too.
		{time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC), 1, 600, time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)},
		// Two days before is Saturday, still EST.
		{time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC), 2, 600, time.Date(2026, 3, 7, 15, 0, 0, 0, time.UTC)},
		// 02:30 on Sun 8 March does not exist: 03:30 EDT.
		{time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC), 1, 150, time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)},
		// 01:30 on Sun 1 November happens twice: the first, EDT.
		{time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC), 1, 90, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)},
		// An appointment at 00:30 local: its day is the local one, not UTC's.
		{time.Date(2026, 6, 10, 4, 30, 0, 0, time.UTC), 1, 600, time.Date(2026, 6, 9, 14, 0, 0, 0, time.UTC)},
	} {
		if got := FixedAt(c.start, ny, c.days, c.mins); !got.Equal(c.want) {
			t.Errorf("FixedAt(%s, %d days, %d min) = %s, want %s", c.start, c.days, c.mins, got.UTC(), c.want)
		}
	}
}
