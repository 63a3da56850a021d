package web

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/analytics"
	"apptconfirm/app/analytics/analyticstest"
	"apptconfirm/models"
)

// TestAnalyticsPage shows the analytics of a generated history to an
// admin: the headline rates with their counts (worked out independently
// from the generated records), the table of which reminder works best,
// a chart and a table per breakdown, languages by name.
func TestAnalyticsPage(t *testing.T) {
	a := newTestApp(t)
	a.addUser("admin@example.com", models.RoleAdmin)
	a.addUser("staff@example.com", models.RoleStaff)
	w := analyticstest.Generate(t, a.store, analyticstest.Options{
		Seed: 5, Patients: 120, Appts: 1200, From: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Days: 50, Now: a.now,
	})
	b := a.browser()
	b.login("admin@example.com")
	code, body := b.get("/analytics?from=2026-01-05&to=2026-02-23")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	zone := time.UTC // the test clinic has no default location of its own: the first generated one is it
	if l, err := a.clinic.DefaultLocation(t.Context()); err == nil {
		zone = l.Zone()
	}
	from := time.Date(2026, 1, 5, 0, 0, 0, 0, zone)
	want := analyticstest.Expect(w, from, time.Date(2026, 2, 24, 0, 0, 0, 0, zone))
	conf := want.Total.Confirmation()
	for _, s := range []string{
		"Which reminder works best", `<svg class="hbars"`, "By reminder rule", "By local hour the reminder was sent",
		"By patient&#39;s language", "By appointment type", "French", "German", "Dr Kim", "Check-up",
		conf.Percent(), // the headline rate and the counts behind it
		itoa64(conf.N) + " of " + itoa64(conf.D) + " reminded appointments",
		"/analytics.csv?breakdown=language&amp;from=2026-01-05&amp;to=2026-02-23",
		`href="/analytics" aria-current="page"`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	for _, s := range []string{"NaN", ">fr<", ">de<", "Inf%"} {
		if strings.Contains(body, s) {
			t.Errorf("the page shows %q", s)
		}
	}

	t.Run("bad dates name their field", func(t *testing.T) {
		code, body := b.get("/analytics?from=2026-02-31&to=2026-03-01")
		if code != http.StatusBadRequest || !strings.Contains(body, "from: must be a date as YYYY-MM-DD") {
			t.Fatalf("%d %s", code, body)
		}
		code, body = b.get("/analytics?from=2026-03-01&to=2026-02-01")
		if code != http.StatusBadRequest || !strings.Contains(body, "to: must be on or after from") {
			t.Fatalf("%d %s", code, body)
		}
	})
	t.Run("an empty range shows no rate", func(t *testing.T) {
		code, body := b.get("/analytics?from=2025-01-01&to=2025-01-31")
		if code != http.StatusOK || !strings.Contains(body, "0 of 0 reminded appointments") || strings.Contains(body, "0%") {
			t.Fatalf("%d %s", code, body)
		}
	})
	t.Run("csv", func(t *testing.T) {
		resp, err := b.client.Get(a.http.URL + "/analytics.csv?breakdown=language&from=2026-01-05&to=2026-02-23")
		if err != nil {
			t.Fatal(err)
		}
		csv, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(string(csv), "French,") || strings.Contains(string(csv), "\nfr,") {
			t.Fatalf("%d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), csv)
		}
		code, body := b.get("/analytics.csv?breakdown=patients")
		if code != http.StatusBadRequest || !strings.Contains(body, "breakdown: must be one of") {
			t.Fatalf("%d %s", code, body)
		}
	})
	t.Run("staff are refused", func(t *testing.T) {
		s := a.browser()
		s.login("staff@example.com")
		for _, p := range []string{"/analytics", "/analytics.csv?breakdown=rule"} {
			if code, _ := s.get(p); code != http.StatusForbidden {
				t.Errorf("staff %s: %d", p, code)
			}
		}
		if _, body := s.get("/"); strings.Contains(body, `href="/analytics"`) {
			t.Error("staff see the analytics link")
		}
	})
	t.Run("from the summary, and as of when", func(t *testing.T) {
		svc := analytics.New(a.store, analytics.Options{Now: func() time.Time { return a.now }})
		if _, err := svc.Refresh(t.Context(), zone); err != nil {
			t.Fatal(err)
		}
		_, body := b.get("/analytics?from=2026-01-05&to=2026-02-23")
		if !strings.Contains(body, itoa64(conf.N)+" of "+itoa64(conf.D)+" reminded appointments") || strings.Contains(body, "still being counted") {
			t.Fatalf("the page from the summary: %s", body)
		}
		// Cancellations on more days than a request counts itself.
		for i := range 3 * analytics.InlineDays {
			ap := w.Appts[i*len(w.Appts)/(3*analytics.InlineDays)]
			err := a.store.Tx(t.Context(), func(ctx context.Context) error {
				if err := a.store.DB(ctx).Exec("UPDATE appointments SET status = ? WHERE id = ?", models.Cancelled, ap.ID).Error; err != nil {
					return err
				}
				return a.store.Record(ctx, models.Event{At: a.now.Add(-time.Minute), Type: models.EventAppointmentCancelled, AppointmentID: ap.ID})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		_, body = b.get("/analytics?from=2026-01-05&to=2026-02-23")
		if !strings.Contains(body, "still being counted") {
			t.Fatalf("the page does not say its figures miss changes: %s", body)
		}
	})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
