package analytics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"apptconfirm/app/analytics"
	"apptconfirm/app/analytics/analyticstest"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// testNow is the clock of the generated data: after the US and before the
// European change to summer time of 2026, so a range across 8 March and
// 29 March covers both.
var testNow = time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)

// check compares a report with the expected figures.
func check(t *testing.T, rep *analytics.Report, e analyticstest.Expected) {
	t.Helper()
	if rep.InRange != e.InRange {
		t.Errorf("in range: got %d, want %d", rep.InRange, e.InRange)
	}
	if rep.Total != e.Total {
		t.Errorf("total: got %+v, want %+v", rep.Total, e.Total)
	}
	if e.Total.Appointments < 100 {
		t.Fatalf("the generator made too few reminded appointments (%d) for the test to mean much", e.Total.Appointments)
	}
	if rep.Refill != e.Refill["total"][""] {
		t.Errorf("refill: got %+v, want %+v", rep.Refill, e.Refill["total"][""])
	}
	if e.Refill["total"][""].D < 20 || e.Refill["total"][""].N == 0 {
		t.Fatalf("the generator offered too few freed times (%+v)", e.Refill["total"][""])
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
		for k := range e.Refill[name] {
			if !refillRows[k] {
				t.Errorf("%s: no refill on row %q", name, k)
			}
		}
		got := map[string]analytics.Counts{}
		var sum analytics.Counts
		for _, r := range bd.Rows {
			if r.Refill != e.Refill[name][r.Key] {
				t.Errorf("%s %q: refill %+v, want %+v", name, r.Key, r.Refill, e.Refill[name][r.Key])
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
		want := e.Rows[name]
		if len(got) != len(want) {
			t.Errorf("%s: %d rows, want %d (%v vs %v)", name, len(got), len(want), got, want)
		}
		for k, w := range want {
			if got[key(k)] != w {
				t.Errorf("%s %q: got %+v, want %+v", name, k, got[key(k)], w)
			}
		}
		if sum != e.Total {
			t.Errorf("%s: rows add up to %+v, not the total %+v", name, sum, e.Total)
		}
	}
	for _, r := range rep.Reminders {
		k := analyticstest.RuleKey(r.RuleID, "")
		if r.RuleID == 0 {
			k = "name:Old 24h reminder"
		}
		if r.Sent != e.Sent[k] || r.Delivered != e.Delivered[k] {
			t.Errorf("reminder %s: sent %d delivered %d, want %d and %d", r.Name, r.Sent, r.Delivered, e.Sent[k], e.Delivered[k])
		}
		if r.Counts != e.Rows[analytics.ByRule][k] {
			t.Errorf("reminder %s: %+v, want %+v", r.Name, r.Counts, e.Rows[analytics.ByRule][k])
		}
	}
	if len(rep.Reminders) != len(e.Sent) {
		t.Errorf("%d reminder rows, want %d", len(rep.Reminders), len(e.Sent))
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
		w := analyticstest.Generate(t, st, analyticstest.Options{Seed: 7, Patients: 300, Appts: 3000, From: from, Days: 60, Now: testNow})
		svc := analytics.New(st, analytics.Options{Now: func() time.Time { return testNow }})
		chicago := w.Locations[0].Zone()
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
				check(t, rep, analyticstest.Expect(w, r.From, r.To))
			})
		}
	})
}

func TestEmptyRange(t *testing.T) {
	st := storetest.SQLite(t)
	svc := analytics.New(st, analytics.Options{Now: func() time.Time { return testNow }})
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
	if _, err := analytics.New(storetest.SQLite(t), analytics.Options{}).Report(context.Background(), analytics.Range{}); !errors.Is(err, analytics.ErrBadRange) {
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
