package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/analytics"
	"apptconfirm/app/analytics/analyticstest"
	"apptconfirm/app/api"
)

// analyticsNow is when the generated history was written: after both 2026
// changes to summer time.
var analyticsNow = time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)

func rateOf(r api.AnalyticsRate) analytics.Rate {
	return analytics.Rate{N: r.Numerator, D: r.Denominator}
}

func countsOf(r api.AnalyticsRates) analytics.Counts {
	return analytics.Counts{
		Appointments: r.Appointments, Confirmed: r.Confirmation.Numerator, Cancelled: r.Cancellation.Numerator,
		Rescheduled: r.Reschedule.Numerator, NoShow: r.NoShow.Numerator, Outcome: r.NoShow.Denominator,
	}
}

// checkRates checks that every rate's denominator is the one its
// definition names, and that a rate is null exactly when there is nothing
// to divide by.
func checkRates(t *testing.T, where string, r api.AnalyticsRates) {
	t.Helper()
	for name, x := range map[string]api.AnalyticsRate{"confirmation": r.Confirmation, "cancellation": r.Cancellation, "reschedule": r.Reschedule, "no_show": r.NoShow} {
		if name != "no_show" && x.Denominator != r.Appointments {
			t.Errorf("%s %s: denominator %d, not the %d appointments", where, name, x.Denominator, r.Appointments)
		}
		if (x.Rate == nil) != (x.Denominator == 0) {
			t.Errorf("%s %s: rate %v over %d", where, name, x.Rate, x.Denominator)
		}
		if x.Rate != nil && *x.Rate != float64(x.Numerator)/float64(x.Denominator) {
			t.Errorf("%s %s: rate %v is not %d/%d", where, name, *x.Rate, x.Numerator, x.Denominator)
		}
	}
}

// TestAnalyticsAPIMatchesSeededData generates a clinic's history (three
// zones, one half an hour off, across both changes to summer time), asks
// GET /api/v1/analytics over HTTP for several ranges, and compares every
// figure with counts computed independently by plain loops over the
// generated records.
func TestAnalyticsAPIMatchesSeededData(t *testing.T) {
	e := newEnv(t)
	w := analyticstest.Generate(t, e.store, analyticstest.Options{
		Seed: 11, Patients: 250, Appts: 2500, From: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC), Days: 60, Now: analyticsNow,
	})
	zone := e.paris.Zone()
	// First counted directly, then (after the analytics job's first run)
	// added up from the per-day summary: the same figures.
	for _, way := range []string{"direct", "summary"} {
		if way == "summary" {
			if _, err := analytics.New(e.store, analytics.Options{Now: func() time.Time { return analyticsNow }}).Refresh(t.Context(), zone); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct{ from, to string }{
			{"2026-02-20", "2026-04-20"},
			{"2026-03-08", "2026-03-08"},
			{"2026-03-28", "2026-04-02"},
		} {
			t.Run(way+"_"+tc.from+"_"+tc.to, func(t *testing.T) {
				r := e.do("GET", "/api/v1/analytics?from="+tc.from+"&to="+tc.to, "")
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				var got api.AnalyticsAnswer
				if err := json.Unmarshal(r.body, &got); err != nil {
					t.Fatal(err)
				}
				from, _ := time.ParseInLocation(time.DateOnly, tc.from, zone)
				to, _ := time.ParseInLocation(time.DateOnly, tc.to, zone)
				want := analyticstest.Expect(w, from, to.AddDate(0, 0, 1))
				if got.From != tc.from || got.To != tc.to || got.Zone != "Europe/Paris" {
					t.Errorf("range %s..%s in %s", got.From, got.To, got.Zone)
				}
				if got.AsOf == "" || got.AsOf != got.ComputedAt {
					t.Errorf("exact figures as of %q, computed at %q", got.AsOf, got.ComputedAt)
				}
				if got.AppointmentsInRange != want.InRange {
					t.Errorf("in range: %d, want %d", got.AppointmentsInRange, want.InRange)
				}
				if c := countsOf(got.Totals); c != want.Total {
					t.Errorf("totals: %+v, want %+v", c, want.Total)
				}
				checkRates(t, "totals", got.Totals)
				if rf := rateOf(got.Refill); rf != want.Refill["total"][""] {
					t.Errorf("refill: %+v, want %+v", rf, want.Refill["total"][""])
				}
				for _, name := range []string{analytics.ByRule, analytics.ByHour, analytics.ByLanguage, analytics.ByProvider, analytics.ByLocation, analytics.ByType} {
					bd, ok := got.Breakdowns[name]
					if !ok {
						t.Fatalf("no %s breakdown", name)
					}
					seen := 0
					for _, row := range bd.Rows {
						checkRates(t, name+" "+row.Label, row.AnalyticsRates)
						if row.Refill != nil && rateOf(*row.Refill) != want.Refill[name][row.Key] {
							t.Errorf("%s %s: refill %+v, want %+v", name, row.Label, *row.Refill, want.Refill[name][row.Key])
						}
						if row.Appointments == 0 {
							continue
						}
						seen++
						if c := countsOf(row.AnalyticsRates); c != want.Rows[name][row.Key] {
							t.Errorf("%s %q (%s): %+v, want %+v", name, row.Key, row.Label, c, want.Rows[name][row.Key])
						}
					}
					if seen != len(want.Rows[name]) {
						t.Errorf("%s: %d rows, want %d", name, seen, len(want.Rows[name]))
					}
				}
				// Languages are named, never shown as codes.
				for _, row := range got.Breakdowns[analytics.ByLanguage].Rows {
					if row.Label == row.Key || len(row.Label) <= 3 {
						t.Errorf("language %q labelled %q", row.Key, row.Label)
					}
				}
				for _, rr := range got.Reminders {
					k := "name:" + w.DeletedRule
					if rr.RuleID != nil {
						k = strconv.FormatUint(uint64(*rr.RuleID), 10)
					}
					if rr.Sent != want.Sent[k] || rr.Delivery.Numerator != want.Delivered[k] || rr.Delivery.Denominator != rr.Sent {
						t.Errorf("reminder %s: sent %d delivered %+v, want %d and %d", rr.Name, rr.Sent, rr.Delivery, want.Sent[k], want.Delivered[k])
					}
					if c := countsOf(rr.AnalyticsRates); c != want.Rows[analytics.ByRule][k] {
						t.Errorf("reminder %s: %+v, want %+v", rr.Name, c, want.Rows[analytics.ByRule][k])
					}
					if rr.Ranked != (rr.Appointments >= analytics.MinRanked) {
						t.Errorf("reminder %s: ranked %v with %d appointments", rr.Name, rr.Ranked, rr.Appointments)
					}
				}
			})
		}
	}
}

func TestAnalyticsAPIEdges(t *testing.T) {
	e := newEnv(t)
	t.Run("empty range", func(t *testing.T) {
		r := e.do("GET", "/api/v1/analytics?from=2026-01-01&to=2026-01-31", "")
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var got api.AnalyticsAnswer
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Totals.Confirmation.Rate != nil || got.Totals.NoShow.Rate != nil || got.Refill.Rate != nil {
			t.Errorf("rates over nothing: %s", r.body)
		}
		if !bytes.Contains(r.body, []byte(`"rate":null`)) || bytes.Contains(r.body, []byte("NaN")) {
			t.Errorf("a rate over nothing must be null: %s", r.body)
		}
	})
	t.Run("default range is the last 30 days", func(t *testing.T) {
		r := e.do("GET", "/api/v1/analytics", "")
		var got api.AnalyticsAnswer
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
			t.Fatalf("%d %v %s", r.status, err, r.body)
		}
		if got.From != "2026-01-31" || got.To != "2026-03-01" {
			t.Errorf("default range %s..%s", got.From, got.To)
		}
	})
	for _, tc := range []struct{ query, field string }{
		{"from=2026-02-30", "from"},
		{"from=yesterday&to=2026-03-01", "from"},
		{"from=2026-03-01&to=01/03/2026", "to"},
		{"from=2026-03-05&to=2026-03-01", "to"},
		{"from=2024-01-01&to=2026-03-01", "to"},
		{"format=xml", "format"},
		{"format=csv&breakdown=patients", "breakdown"},
		{"format=csv", "breakdown"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := e.do("GET", "/api/v1/analytics?"+tc.query, "")
			if r.status != 422 && r.status != 400 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			_, field, msg := r.errorOf(t)
			if field != tc.field || !strings.Contains(msg, tc.field) {
				t.Errorf("field %q message %q, want the field %q named", field, msg, tc.field)
			}
		})
	}
}

// TestAnalyticsCSV downloads each breakdown from the API and checks that
// every line is there, with formulas neutralised in names that look like
// them.
func TestAnalyticsCSV(t *testing.T) {
	e := newEnv(t)
	w := analyticstest.Generate(t, e.store, analyticstest.Options{
		Seed: 3, Patients: 50, Appts: 400, From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Days: 20, Now: analyticsNow,
	})
	// A provider named like a formula.
	e.store.DB(t.Context()).Exec("UPDATE providers SET name = ? WHERE id = ?", "=HYPERLINK(\"http://x\")", w.Providers[0].ID)
	js := e.do("GET", "/api/v1/analytics?from=2026-03-01&to=2026-03-31", "")
	var ans api.AnalyticsAnswer
	if err := json.Unmarshal(js.body, &ans); err != nil {
		t.Fatal(err)
	}
	for _, name := range analytics.BreakdownNames {
		r := e.do("GET", "/api/v1/analytics?from=2026-03-01&to=2026-03-31&format=csv&breakdown="+name, "")
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%s: %d %s", name, r.status, r.header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := len(ans.Reminders)
		if name != analytics.ByReminder {
			want = len(ans.Breakdowns[name].Rows)
		}
		if len(recs) != want+1 {
			t.Errorf("%s: %d lines, want %d and a header", name, len(recs), want)
		}
		for _, rec := range recs {
			for _, cell := range rec {
				if strings.HasPrefix(cell, "=") {
					t.Errorf("%s: formula cell %q", name, cell)
				}
			}
		}
		if name == analytics.ByProvider && !bytes.Contains(r.body, []byte(`'=HYPERLINK`)) {
			t.Errorf("the provider named like a formula is not neutralised:\n%s", r.body)
		}
	}
}
