package web

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/seed"
	"apptconfirm/app/stats"
	"apptconfirm/models"
)

// The test clock is Monday 2 March 2026, 09:00 UTC.

// tileNumber reads the big number of the tile with id.
func tileNumber(t *testing.T, body, id string) string {
	t.Helper()
	re := regexp.MustCompile(`id="` + id + `"[^>]*><div class="n">([^<]*)</div>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no tile %s in %s", id, excerpt(body))
	}
	return html.UnescapeString(m[1])
}

// countCell reads a count of the appointment or message state tables.
func countCell(t *testing.T, body, key string) string {
	t.Helper()
	re := regexp.MustCompile(`data-count="` + key + `">([0-9]+)<`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no count %s", key)
	}
	return m[1]
}

func pct(n, d int64) string {
	if d == 0 {
		return "—"
	}
	return strconv.Itoa(int(float64(n)/float64(d)*100+0.5)) + "%"
}

func TestDashboardFiguresMatchSeededData(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	a.addLocation("Main", "UTC", "US")
	if _, err := seed.Run(ctx, a.store, seed.Options{Count: 2500, Now: a.now, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	var locs []models.Location
	if err := a.store.DB(ctx).Order("id").Find(&locs).Error; err != nil {
		t.Fatal(err)
	}
	b := a.loggedIn("front@example.com", models.RoleStaff)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

	for _, tc := range []struct {
		name     string
		path     string
		from, to time.Time
		location uint
		label    string
	}{
		{"default: today and the next 7 days", "/", day, day.AddDate(0, 0, 8), 0, "Mon 2 Mar 2026 to Mon 9 Mar 2026"},
		{
			"one location, last 30 days", "/?from=2026-01-31&to=2026-03-01&location_id=" + itoa(locs[1].ID),
			day.AddDate(0, 0, -30), day, locs[1].ID, "Sat 31 Jan 2026 to Sun 1 Mar 2026",
		},
		{"one day", "/?from=2026-03-03&to=2026-03-03", day.AddDate(0, 0, 1), day.AddDate(0, 0, 2), 0, "Tuesday 3 March 2026"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := b.get(tc.path)
			expectPage(t, tc.name, status, body, http.StatusOK, tc.label, `id="rates-chart"`, `<svg`, "Confirmation rate")
			// Count with plain SQL, independently of the stats package.
			count := func(where string, args ...any) int64 {
				t.Helper()
				db := a.store.DB(ctx).Model(&models.Appointment{}).Where("starts_at >= ? AND starts_at < ?", tc.from, tc.to)
				if tc.location != 0 {
					db = db.Where("location_id = ?", tc.location)
				}
				if where != "" {
					db = db.Where(where, args...)
				}
				var n int64
				if err := db.Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}
			total := count("")
			if total == 0 {
				t.Fatal("no appointments in range: the test proves nothing")
			}
			active := total - count("status = ?", models.Cancelled)
			confirmed := count("status <> ? AND confirmed_at IS NOT NULL", models.Cancelled)
			reached := count("EXISTS (SELECT 1 FROM messages m WHERE m.appointment_id = appointments.id AND m.sent_at IS NOT NULL AND m.kind IN ?)",
				[]string{models.KindReminder, models.KindBookingConfirm})
			replied := count("EXISTS (SELECT 1 FROM messages m WHERE m.appointment_id = appointments.id AND m.sent_at IS NOT NULL AND m.kind IN ?) "+
				"AND EXISTS (SELECT 1 FROM inbound_messages i WHERE i.appointment_id = appointments.id)",
				[]string{models.KindReminder, models.KindBookingConfirm})
			if got := tileNumber(t, body, "stat-total"); got != itoa(uint(total)) {
				t.Errorf("total %s, want %d", got, total)
			}
			if got := tileNumber(t, body, "stat-confirmation"); got != pct(confirmed, active) {
				t.Errorf("confirmation rate %s, want %s (%d of %d)", got, pct(confirmed, active), confirmed, active)
			}
			if !strings.Contains(body, "confirmation rate · "+itoa(uint(confirmed))+" of "+itoa(uint(active))) {
				t.Errorf("confirmation detail missing (%d of %d)", confirmed, active)
			}
			if got := tileNumber(t, body, "stat-replies"); got != pct(replied, reached) {
				t.Errorf("reply rate %s, want %s", got, pct(replied, reached))
			}
			for _, st := range models.AppointmentStatuses {
				if got, want := countCell(t, body, "appointment-"+string(st)), count("status = ?", st); got != itoa(uint(want)) {
					t.Errorf("%s: %s, want %d", st, got, want)
				}
			}
			var failed int64
			mq := a.store.DB(ctx).Model(&models.Message{}).Joins("JOIN appointments ON appointments.id = messages.appointment_id").
				Where("appointments.starts_at >= ? AND appointments.starts_at < ?", tc.from, tc.to).
				Where("messages.status IN ?", []string{"failed", "rejected"})
			if tc.location != 0 {
				mq = mq.Where("appointments.location_id = ?", tc.location)
			}
			if err := mq.Count(&failed).Error; err != nil {
				t.Fatal(err)
			}
			if got := tileNumber(t, body, "stat-failed"); got != itoa(uint(failed)) {
				t.Errorf("failed %s, want %d", got, failed)
			}
			var waiting int64
			if err := a.store.DB(ctx).Model(&models.InboundMessage{}).Where("needs_attention = ?", true).Count(&waiting).Error; err != nil {
				t.Fatal(err)
			}
			if got := tileNumber(t, body, "stat-inbox"); got != itoa(uint(waiting)) {
				t.Errorf("inbox %s, want %d", got, waiting)
			}
			// The list: bounded, with live badges, and a link to the full list.
			badges := strings.Count(body, `data-appointment-id="`)
			if want := min(int(total), dashboardListSize); badges != want {
				t.Errorf("%d badges, want %d", badges, want)
			}
			if !strings.Contains(body, `href="/appointments?from=`) {
				t.Error("no link to the full list")
			}
			if strings.Contains(body, "<script>") || strings.Contains(body, " style=") {
				t.Error("inline script or style breaks the CSP")
			}
		})
	}

	t.Run("the live fragment is the same body without the layout", func(t *testing.T) {
		status, body := b.get("/dashboard/body?from=2026-03-02&to=2026-03-09")
		expectPage(t, "fragment", status, body, http.StatusOK, `id="stat-total"`, `id="rates-chart"`)
		if strings.Contains(body, "<html") || strings.Contains(body, "<header") {
			t.Fatal("the fragment carries the layout")
		}
		_, page := b.get("/")
		if tileNumber(t, body, "stat-total") != tileNumber(t, page, "stat-total") {
			t.Fatal("fragment and page disagree")
		}
	})
}

func TestDashboardFilters(t *testing.T) {
	a := newTestApp(t)
	loc := a.addLocation("Main", "America/New_York", "US")
	b := a.loggedIn("front@example.com", models.RoleStaff)
	for _, tc := range []struct {
		name, query string
		want        int
		contains    []string
	}{
		{"defaults in the default location's zone", "", http.StatusOK, []string{"Mon 2 Mar 2026 to Mon 9 Mar 2026", "(days in America/New_York)", `value="2026-03-02"`, `value="2026-03-09"`}},
		{"from alone gives 8 days", "?from=2026-04-01", http.StatusOK, []string{"Wed 1 Apr 2026 to Wed 8 Apr 2026"}},
		{"known location", "?location_id=" + itoa(loc.ID), http.StatusOK, []string{`<option value="` + itoa(loc.ID) + `" selected>`}},
		{"92 days is the most", "?from=2026-01-01&to=2026-04-02", http.StatusOK, []string{"Thu 1 Jan 2026 to Thu 2 Apr 2026"}},
		{"unknown location", "?location_id=999", badQuery, []string{"location id: is not one of the locations"}},
		{"location not a number", "?location_id=1%20OR%201=1", badQuery, []string{"location id: is not one of the locations"}},
		{"bad day", "?from=yesterday", badQuery, []string{"from: must be a date as YYYY-MM-DD"}},
		{"reversed", "?from=2026-03-05&to=2026-03-01", badQuery, []string{"to: must be on or after from"}},
		{"too long", "?from=2026-01-01&to=2026-04-03", badQuery, []string{"the range must be at most 92 days"}},
		{"unknown parameters are ignored", "?sort=DROP+TABLE&x=1", http.StatusOK, []string{`id="stat-total"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := b.get("/" + tc.query)
			expectPage(t, tc.name, status, body, tc.want, tc.contains...)
			if tc.want != http.StatusOK && strings.Contains(body, `id="stat-total"`) {
				t.Fatal("figures shown for refused filters")
			}
			status, _ = b.get("/dashboard/body" + tc.query)
			if status != tc.want {
				t.Fatalf("fragment: status %d, want %d", status, tc.want)
			}
		})
	}
}

func TestDashboardAccess(t *testing.T) {
	a := newTestApp(t)
	a.addLocation("Main", "UTC", "US")
	for _, path := range []string{"/", "/dashboard/body", "/events"} {
		t.Run("logged out "+path, func(t *testing.T) {
			resp, err := a.browser().client.Get(a.http.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Fatalf("status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	for _, role := range []models.Role{models.RoleStaff, models.RoleAdmin} {
		t.Run(string(role), func(t *testing.T) {
			b := a.loggedIn(string(role)+"@example.com", role)
			status, body := b.get("/")
			expectPage(t, "dashboard", status, body, http.StatusOK, `class="active">Dashboard`, `src="/static/live.js?v=`)
		})
	}
	t.Run("the login page loads no live script", func(t *testing.T) {
		_, body := a.browser().get("/login")
		if strings.Contains(body, "live.js") {
			t.Fatal("live.js on the login page")
		}
	})
}

func TestChartGeometry(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	days := []stats.Day{
		{Start: day.AddDate(0, 0, -2), Total: 10, Active: 8, Confirmed: 6, NoShow: 2},
		{Start: day.AddDate(0, 0, -1), Total: 0},
		{Start: day, Total: 5, Active: 4, Confirmed: 4},
		{Start: day.AddDate(0, 0, 1), Total: 3, Active: 3, Confirmed: 1},
	}
	ch := newChart(days, day.Add(9*time.Hour))
	if len(ch.Bars) != 3 || ch.MaxCount != 10 {
		t.Fatalf("bars %+v", ch.Bars)
	}
	if ch.Bars[0].H != ch.Bottom-ch.Top {
		t.Errorf("the tallest bar is %v high, want the plot's %v", ch.Bars[0].H, ch.Bottom-ch.Top)
	}
	// The confirmation line breaks on the empty day: two moves, no line.
	if strings.Count(ch.ConfirmPath, "M") != 2 || strings.Contains(ch.ConfirmPath, "L") {
		t.Errorf("confirm path %q", ch.ConfirmPath)
	}
	// Rates only for days that have begun: tomorrow keeps its bar (three
	// planned appointments) but has no confirmation point, since its replies
	// are still to come; today has begun, so it has both rates.
	if len(ch.ConfirmDots) != 2 || strings.Count(ch.ConfirmPath, "M") != 2 {
		t.Errorf("confirm dots %+v, path %q", ch.ConfirmDots, ch.ConfirmPath)
	}
	if len(ch.NoShowDots) != 2 || !strings.Contains(ch.NoShowDots[0].Title, "25% no-shows (2 of 8)") {
		t.Errorf("no-show dots %+v", ch.NoShowDots)
	}
	if y := ch.ConfirmDots[1].Y; y != ch.Top {
		t.Errorf("a 100%% day is drawn at %v, want the top %v", y, ch.Top)
	}
	if ch.Days[1].ConfirmationRate != "—" || ch.Days[3].ConfirmationRate != "—" || ch.Days[3].NoShowRt != "—" ||
		ch.Days[0].ConfirmationRate != "75%" || ch.Days[2].NoShowRt != "0%" || ch.Days[3].Total != 3 {
		t.Errorf("table %+v", ch.Days)
	}
	if empty := newChart(nil, day); len(empty.Bars) != 0 || empty.ConfirmPath != "" {
		t.Errorf("empty chart %+v", empty)
	}
}
