package analytics_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"apptconfirm/app/analytics"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// testNow is the clock of the generated data: after the US and before the
// European change to summer time of 2026, so a range across 8 March and
// 29 March covers both.
var testNow = time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)

// expected is what a range should show, computed with plain loops over
// the generated rows, following docs/analytics.md word for word.
type expected struct {
	inRange int64
	total   analytics.Counts
	// by breakdown name, then row key.
	rows map[string]map[string]analytics.Counts
	// sends by rule key (the rule id, or "name:" and the deleted rule's name).
	sent, delivered map[string]int64
	// refill by breakdown name, then row key ("" in "total").
	refill map[string]map[string]analytics.Rate
}

func ruleKey(id uint, name string) string {
	if id == 0 {
		return "name:" + name
	}
	return strconv.FormatUint(uint64(id), 10)
}

func expect(w *world, from, to time.Time) expected {
	e := expected{
		rows: map[string]map[string]analytics.Counts{}, sent: map[string]int64{}, delivered: map[string]int64{},
		refill: map[string]map[string]analytics.Rate{},
	}
	id := func(n uint) string { return strconv.FormatUint(uint64(n), 10) }
	for _, sl := range w.slots {
		if sl.StartsAt.Before(from) || !sl.StartsAt.Before(to) || len(sl.Offers) == 0 {
			continue
		}
		var taken int64
		for _, o := range sl.Offers {
			if o == models.WaitlistTaken {
				taken = 1
			}
		}
		for _, k := range [][2]string{{"total", ""}, {analytics.ByProvider, id(sl.ProviderID)}, {analytics.ByLocation, id(sl.LocationID)}, {analytics.ByType, id(sl.TypeID)}} {
			if e.refill[k[0]] == nil {
				e.refill[k[0]] = map[string]analytics.Rate{}
			}
			r := e.refill[k[0]][k[1]]
			r.N += taken
			r.D++
			e.refill[k[0]][k[1]] = r
		}
	}
	lang := map[uint]string{}
	for _, p := range w.patients {
		lang[p.ID] = p.Language
	}
	zone := map[uint]*time.Location{}
	for i := range w.locations {
		zone[w.locations[i].ID] = w.locations[i].Zone()
	}
	add := func(bd, key string, c analytics.Counts) {
		if e.rows[bd] == nil {
			e.rows[bd] = map[string]analytics.Counts{}
		}
		x := e.rows[bd][key]
		x.Appointments += c.Appointments
		x.Confirmed += c.Confirmed
		x.Cancelled += c.Cancelled
		x.Rescheduled += c.Rescheduled
		x.NoShow += c.NoShow
		x.Outcome += c.Outcome
		e.rows[bd][key] = x
	}
	for _, a := range w.appts {
		if a.StartsAt.Before(from) || !a.StartsAt.Before(to) {
			continue
		}
		e.inRange++
		var last *genMsg
		reminded := false
		for i := range a.Msgs {
			m := &a.Msgs[i]
			if m.Kind != models.KindReminder || m.SentAt == nil {
				continue
			}
			reminded = true
			e.sent[ruleKey(m.RuleID, m.RuleName)]++
			if m.Delivered {
				e.delivered[ruleKey(m.RuleID, m.RuleName)]++
			}
			if a.ConfirmedAt != nil && m.SentAt.After(*a.ConfirmedAt) {
				continue
			}
			if last == nil || m.SentAt.After(*last.SentAt) || (m.SentAt.Equal(*last.SentAt) && m.ID > last.ID) {
				last = m
			}
		}
		if !reminded {
			continue
		}
		c := analytics.Counts{Appointments: 1}
		if a.ConfirmedAt != nil {
			c.Confirmed = 1
		}
		if a.Status == models.Cancelled {
			c.Cancelled = 1
		}
		if a.Rescheduled {
			c.Rescheduled = 1
		}
		if a.Status == models.NoShow {
			c.NoShow, c.Outcome = 1, 1
		}
		if a.Status == models.Completed {
			c.Outcome = 1
		}
		add("total", "", c)
		if last != nil {
			add(analytics.ByRule, ruleKey(last.RuleID, last.RuleName), c)
			add(analytics.ByHour, strconv.Itoa(last.SentAt.In(zone[a.LocationID]).Hour()), c)
		} else {
			add(analytics.ByRule, "none", c)
			add(analytics.ByHour, "none", c)
		}
		add(analytics.ByLanguage, lang[a.PatientID], c)
		add(analytics.ByProvider, strconv.FormatUint(uint64(a.ProviderID), 10), c)
		add(analytics.ByLocation, strconv.FormatUint(uint64(a.LocationID), 10), c)
		add(analytics.ByType, strconv.FormatUint(uint64(a.TypeID), 10), c)
	}
	e.total = e.rows["total"][""]
	return e
}

// check compares a report with the expected figures.
func check(t *testing.T, rep *analytics.Report, e expected) {
	t.Helper()
	if rep.InRange != e.inRange {
		t.Errorf("in range: got %d, want %d", rep.InRange, e.inRange)
	}
	if rep.Total != e.total {
		t.Errorf("total: got %+v, want %+v", rep.Total, e.total)
	}
	if e.total.Appointments < 100 {
		t.Fatalf("the generator made too few reminded appointments (%d) for the test to mean much", e.total.Appointments)
	}
	if rep.Refill != e.refill["total"][""] {
		t.Errorf("refill: got %+v, want %+v", rep.Refill, e.refill["total"][""])
	}
	if e.refill["total"][""].D < 20 || e.refill["total"][""].N == 0 {
		t.Fatalf("the generator offered too few freed times (%+v)", e.refill["total"][""])
	}
	for _, name := range []string{analytics.ByRule, analytics.ByHour, analytics.ByLanguage, analytics.ByProvider, analytics.ByLocation, analytics.ByType} {
		bd, ok := rep.Breakdown(name)
		if !ok {
			t.Fatalf("no %s breakdown", name)
		}
		refillRows := map[string]bool{}
		for _, r := range bd.Rows {
			refillRows[r.Key] = r.Refill.D > 0
		}
		for k := range e.refill[name] {
			if !refillRows[k] {
				t.Errorf("%s: no refill on row %q", name, k)
			}
		}
		got := map[string]analytics.Counts{}
		var sum analytics.Counts
		for _, r := range bd.Rows {
			if r.Refill != e.refill[name][r.Key] {
				t.Errorf("%s %q: refill %+v, want %+v", name, r.Key, r.Refill, e.refill[name][r.Key])
			}
			if r.Counts == (analytics.Counts{}) {
				continue // a line of freed times only
			}
			if _, dup := got[r.Key]; dup {
				t.Errorf("%s: row %q twice", name, r.Key)
			}
			got[r.Key] = r.Counts
			sum.Appointments += r.Appointments
			sum.Confirmed += r.Confirmed
			sum.Cancelled += r.Cancelled
			sum.Rescheduled += r.Rescheduled
			sum.NoShow += r.NoShow
			sum.Outcome += r.Outcome
			if r.Label == "" || r.Label == r.Key && r.Key != "" {
				t.Errorf("%s: row %q is labelled %q", name, r.Key, r.Label)
			}
		}
		key := func(k string) string {
			// The rules of the generator that still exist are keyed by
			// id; the deleted one by its name.
			return k
		}
		want := e.rows[name]
		if len(got) != len(want) {
			t.Errorf("%s: %d rows, want %d (%v vs %v)", name, len(got), len(want), got, want)
		}
		for k, w := range want {
			if got[key(k)] != w {
				t.Errorf("%s %q: got %+v, want %+v", name, k, got[key(k)], w)
			}
		}
		if sum != e.total {
			t.Errorf("%s: rows add up to %+v, not the total %+v", name, sum, e.total)
		}
	}
	for _, r := range rep.Reminders {
		k := ruleKey(r.RuleID, "")
		if r.RuleID == 0 {
			k = "name:Old 24h reminder"
		}
		if r.Sent != e.sent[k] || r.Delivered != e.delivered[k] {
			t.Errorf("reminder %s: sent %d delivered %d, want %d and %d", r.Name, r.Sent, r.Delivered, e.sent[k], e.delivered[k])
		}
		if r.Counts != e.rows[analytics.ByRule][k] {
			t.Errorf("reminder %s: %+v, want %+v", r.Name, r.Counts, e.rows[analytics.ByRule][k])
		}
	}
	if len(rep.Reminders) != len(e.sent) {
		t.Errorf("%d reminder rows, want %d", len(rep.Reminders), len(e.sent))
	}
	// Ranked rows first, best confirmation rate first.
	for i := 1; i < len(rep.Reminders); i++ {
		a, b := rep.Reminders[i-1], rep.Reminders[i]
		if !a.Ranked && b.Ranked {
			t.Errorf("unranked %s before ranked %s", a.Name, b.Name)
		}
		va, _ := a.Confirmation().Value()
		vb, _ := b.Confirmation().Value()
		if a.Ranked && b.Ranked && va < vb {
			t.Errorf("%s (%.3f) ranked before %s (%.3f)", a.Name, va, b.Name, vb)
		}
	}
}

// TestReportMatchesSeededData generates a clinic over eight weeks across
// both 2026 changes to summer time, at locations in three zones (one with
// a half-hour offset), and checks every figure of several ranges against
// counts computed independently from the generated rows, on SQLite and on
// PostgreSQL.
func TestReportMatchesSeededData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *models.Store) {
		from := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
		w := generate(t, st, genOptions{Seed: 7, Patients: 300, Appts: 3000, From: from, Days: 60, Now: testNow})
		svc := analytics.New(st, func() time.Time { return testNow })
		chicago := w.locations[0].Zone()
		for _, tc := range []struct{ from, to string }{
			{"2026-02-20", "2026-04-20"},
			{"2026-03-05", "2026-03-12"},
			{"2026-03-27", "2026-03-31"},
		} {
			t.Run(tc.from+"_"+tc.to, func(t *testing.T) {
				r, fe := analytics.ParseRange(tc.from, tc.to, chicago, testNow)
				if fe != nil {
					t.Fatal(fe)
				}
				rep, err := svc.Report(context.Background(), r)
				if err != nil {
					t.Fatal(err)
				}
				check(t, rep, expect(w, r.From, r.To))
			})
		}
	})
}

func TestEmptyRange(t *testing.T) {
	st := storetest.SQLite(t)
	svc := analytics.New(st, func() time.Time { return testNow })
	r, fe := analytics.ParseRange("", "", time.UTC, testNow)
	if fe != nil {
		t.Fatal(fe)
	}
	rep, err := svc.Report(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if rep.InRange != 0 || rep.Total != (analytics.Counts{}) || len(rep.Reminders) != 0 {
		t.Fatalf("empty clinic: %+v", rep)
	}
	for _, rate := range []analytics.Rate{rep.Total.Confirmation(), rep.Total.NoShowRate()} {
		if _, ok := rate.Value(); ok || rate.Percent() != "—" {
			t.Errorf("a rate over nothing: %v %q", ok, rate.Percent())
		}
	}
}

func TestParseRange(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 3, 30, 23, 30, 0, 0, time.UTC) // already the 31st in Paris
	r, fe := analytics.ParseRange("", "", paris, now)
	if fe != nil || r.FirstDay() != "2026-03-01" || r.LastDay() != "2026-03-30" || r.Days() != 30 {
		t.Fatalf("default: %v %s %s %d", fe, r.FirstDay(), r.LastDay(), r.Days())
	}
	r, fe = analytics.ParseRange("2026-03-29", "2026-03-29", paris, now)
	if fe != nil || r.To.Sub(r.From) != 23*time.Hour {
		t.Fatalf("the 23-hour day: %v %v", fe, r.To.Sub(r.From))
	}
	for _, tc := range []struct{ from, to, field string }{
		{"2026-13-01", "", "from"},
		{"yesterday", "2026-03-01", "from"},
		{"2026-03-01", "3/4/2026", "to"},
		{"2026-03-05", "2026-03-01", "to"},
		{"2025-01-01", "2026-03-01", "to"},
		{"0001-01-01", "", "from"},
	} {
		_, fe := analytics.ParseRange(tc.from, tc.to, paris, now)
		if fe[tc.field] == "" {
			t.Errorf("%q..%q: no error on %s: %v", tc.from, tc.to, tc.field, fe)
		}
	}
	if _, fe := analytics.ParseRange("2025-03-02", "2026-03-02", paris, now); fe != nil {
		t.Errorf("366 days refused: %v", fe)
	}
	if _, err := analytics.New(storetest.SQLite(t), nil).Report(context.Background(), analytics.Range{}); !errors.Is(err, analytics.ErrBadRange) {
		t.Errorf("zero range: %v", err)
	}
}

func FuzzParseRange(f *testing.F) {
	f.Add("2026-03-01", "2026-03-31")
	f.Add("", "")
	f.Add("2026-02-30", "x")
	now := time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, from, to string) {
		r, fe := analytics.ParseRange(from, to, time.UTC, now)
		if fe != nil {
			for k := range fe {
				if k != "from" && k != "to" {
					t.Fatalf("error on unknown field %q", k)
				}
			}
			return
		}
		if !r.To.After(r.From) || r.Days() < 1 || r.Days() > analytics.MaxDays {
			t.Fatalf("accepted %q..%q as %v..%v (%d days)", from, to, r.From, r.To, r.Days())
		}
	})
}
