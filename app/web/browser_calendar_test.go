package web_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// TestBrowserDayView opens the appointments page on a seeded day in
// headless Chromium: each appointment is a block in its provider's column
// and in the row of its start, spanning its length; then a click on a free
// time books there, and the new appointment appears in that place.
func TestBrowserDayView(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	app, base := startBrowserApp(t, "America/New_York")
	ctx := context.Background()
	actor := models.SystemActor()
	if _, err := app.Clinic.CreateUser(ctx, actor, clinic.UserInput{Email: "desk@example.com", Name: "Desk", Role: "staff", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	loc, err := app.Clinic.DefaultLocation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var provs []*models.Provider
	for _, name := range []string{"Dr. Blackwell", "Dr. Apgar"} {
		p, err := app.Clinic.CreateProvider(ctx, actor, clinic.ProviderInput{Name: name, LocationID: &loc.ID, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		provs = append(provs, p)
	}
	zone, _ := time.LoadLocation("America/New_York")
	d := time.Now().In(zone).AddDate(0, 0, 2)
	at := func(h, m int) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, zone).UTC() }
	seeded := []struct {
		first, phone string
		provider     *uint
		start        time.Time
		minutes      int
		column, row  string
		span         int
		// The demo clinic speaks English, so its rows read on a 12-hour clock.
	}{
		{"Ada", "+12025550143", &provs[0].ID, at(9, 0), 30, "p" + strconv.Itoa(int(provs[0].ID)), "9:00 AM", 2},
		{"Grace", "+12025550144", &provs[1].ID, at(10, 30), 60, "p" + strconv.Itoa(int(provs[1].ID)), "10:30 AM", 4},
		{"Mary", "+12025550145", nil, at(14, 0), 45, "none", "2:00 PM", 3},
	}
	var firstPatient uint
	ids := make([]uint, len(seeded))
	for i, s := range seeded {
		p, err := app.Clinic.CreatePatient(ctx, actor, clinic.PatientInput{FirstName: s.first, LastName: "Tester", Phone: s.phone}, "US")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			firstPatient = p.ID
		}
		a, err := app.Clinic.CreateAppointment(ctx, actor, clinic.AppointmentInput{PatientID: p.ID, LocationID: loc.ID, ProviderID: s.provider, StartsAt: s.start, DurationMinutes: s.minutes})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}

	bctx := newChromium(t, exe, 1366, 1400)
	if err := logIn(bctx, base, "desk@example.com"); err != nil {
		t.Fatal(err)
	}
	dayURL := base + "/appointments?date=" + d.Format("2006-01-02")
	if err := chromedp.Do(bctx, chromedp.Navigate(dayURL), chromedp.WaitVisible(`#calendar`)); err != nil {
		t.Fatal(err)
	}
	// where reports a block's cell: its column, the heading drawn above it,
	// its row's time (from the row heading), and how many rows it spans.
	where := func(id uint) string {
		t.Helper()
		got, err := chromedp.Run(bctx, chromedp.Evaluate[string](fmt.Sprintf(`(function () {
			var b = document.getElementById("block-%d");
			if (!b) { return "missing"; }
			var td = b.closest("td"), tr = td.parentElement;
			var rowTime = tr.querySelector("th").textContent.trim();
			var left = Math.round(td.getBoundingClientRect().left), head = null;
			document.querySelectorAll("#calendar thead th").forEach(function (th) {
				if (Math.round(th.getBoundingClientRect().left) === left) { head = th; }
			});
			return td.getAttribute("data-column") + "|" + (head ? head.getAttribute("data-column") : "no heading above") + "|" + rowTime + "|" + td.rowSpan;
		})()`, id)))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	blocks, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#calendar a.block").length`))
	if err != nil || blocks != len(seeded) {
		t.Fatalf("%d blocks on the day (%v), want %d", blocks, err, len(seeded))
	}
	for i, s := range seeded {
		want := fmt.Sprintf("%s|%s|%s|%d", s.column, s.column, s.row, s.span)
		if got := where(ids[i]); got != want {
			t.Errorf("%s's block: column|heading|row|span = %s, want %s", s.first, got, want)
		}
	}
	chips, _ := chromedp.Run(bctx, chromedp.Text(fmt.Sprintf("#block-%d", ids[0])))
	if !strings.Contains(chips, "scheduled") || !strings.Contains(chips, "Reminder planned") {
		t.Errorf("Ada's block lacks its state or reminder chip: %q", chips)
	}

	// A free time, clicked, opens the booking form there.
	free := fmt.Sprintf(`#calendar td[data-column="p%d"][data-time="11:00 AM"] a.free`, provs[0].ID)
	if err := chromedp.Do(bctx, chromedp.Click(free), chromedp.WaitVisible(`#f-starts_at-time`)); err != nil {
		t.Fatalf("click the free time: %v", err)
	}
	startsOn, _ := chromedp.Run(bctx, chromedp.Value(`#f-starts_at-date`))
	startsAt, _ := chromedp.Run(bctx, chromedp.Value(`#f-starts_at-time`))
	provider, _ := chromedp.Run(bctx, chromedp.Value(`#f-provider_id`))
	if startsOn != d.Format("2006-01-02") || startsAt != "11:00 AM" || provider != strconv.Itoa(int(provs[0].ID)) {
		t.Fatalf("booking form prefilled with %q %q and provider %q", startsOn, startsAt, provider)
	}
	if err := chromedp.Do(bctx,
		chromedp.SetValue(`#f-patient_id`, strconv.Itoa(int(firstPatient))),
		chromedp.Submit(`#f-starts_at-time`),
		chromedp.WaitVisible(`[id^="appt-status-"]`),
	); err != nil {
		t.Fatalf("book from the free time: %v", err)
	}
	loc2, _ := chromedp.Run(bctx, chromedp.Location())
	newID, err := strconv.Atoi(loc2[strings.LastIndex(loc2, "/")+1:])
	if err != nil {
		t.Fatalf("after booking the browser is at %s", loc2)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(dayURL), chromedp.WaitVisible(`#calendar`)); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("p%d|p%d|11:00 AM|2", provs[0].ID, provs[0].ID)
	if got := where(uint(newID)); got != want {
		t.Errorf("the new appointment's block: %s, want %s", got, want)
	}

	// The week holds the same appointments, in the column of their day.
	if err := chromedp.Do(bctx, chromedp.Navigate(dayURL+"&view=week"), chromedp.WaitVisible(`#calendar`)); err != nil {
		t.Fatal(err)
	}
	if got := where(ids[1]); got != d.Format("2006-01-02")+"|"+d.Format("2006-01-02")+"|10:30 AM|4" {
		t.Errorf("Grace's block in the week: %s", got)
	}
}

// TestBrowserInboxCountGoesLive: a reply the app cannot act on arrives
// through the real webhook while staff look at another page; the nav's
// inbox count rises without a reload and screen readers are told.
func TestBrowserInboxCountGoesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	app, base := startBrowserApp(t, "America/New_York")
	if _, err := app.Clinic.CreateUser(context.Background(), models.SystemActor(), clinic.UserInput{Email: "desk@example.com", Name: "Desk", Role: "staff", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	bctx := newChromium(t, exe, 390, 844)
	if err := logIn(bctx, base, "desk@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/patients"), chromedp.WaitReady(`[data-inbox-count]`)); err != nil {
		t.Fatal(err)
	}
	poll(t, bctx, "the live stream", `document.documentElement.getAttribute("data-live") === "on"`)
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.apptconfirmNoReload = 7; document.querySelector("[data-inbox-count]").textContent === ""`)); err != nil {
		t.Fatal(err)
	}
	postWebhook(t, app.WebhookURL(), "receive_sms", map[string]any{
		"msgId": "0b9c8a37-1f2e-4d5c-9b8a-7e6f5d4c3b2a", "from": "+12025550199", "to": "+12025550100", "countryIso": "US",
		"text": "Hello, who is this?", "cost": 0, "receivedAt": time.Now().UTC().Format("2006-01-02 15:04:05"),
	})
	poll(t, bctx, "the nav's inbox count to show 1 without a reload",
		`(function(){var c=document.querySelector("[data-inbox-count]");return c.textContent.indexOf("1")===0 && window.apptconfirmNoReload===7;})()`)
	poll(t, bctx, "the announcement", `document.getElementById("announcer").textContent.indexOf("inbox") >= 0`)
}

// TestBrowserThreadReplyArrivesLive: staff have a patient's page open; the
// patient's text arrives through the real webhook and appears in the
// conversation without a reload.
func TestBrowserThreadReplyArrivesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	app, base := startBrowserApp(t, "America/New_York")
	ctx := context.Background()
	actor := models.SystemActor()
	if _, err := app.Clinic.CreateUser(ctx, actor, clinic.UserInput{Email: "desk@example.com", Name: "Desk", Role: "staff", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	p, err := app.Clinic.CreatePatient(ctx, actor, clinic.PatientInput{FirstName: "Ada", LastName: "Lovelace", Phone: "+12025550143"}, "US")
	if err != nil {
		t.Fatal(err)
	}
	bctx := newChromium(t, exe, 390, 844)
	if err := logIn(bctx, base, "desk@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(fmt.Sprintf("%s/patients/%d", base, p.ID)), chromedp.WaitVisible(`#conversation`)); err != nil {
		t.Fatal(err)
	}
	poll(t, bctx, "the live stream", `document.documentElement.getAttribute("data-live") === "on"`)
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.apptconfirmNoReload = 9; true`)); err != nil {
		t.Fatal(err)
	}
	postWebhook(t, app.WebhookURL(), "receive_sms", map[string]any{
		"msgId": "5d1f3c2b-8a7e-4f6d-9c5b-4a3e2d1c0b9a", "from": p.Phone, "to": "+12025550100", "countryIso": "US",
		"text": "Running ten minutes late, sorry!", "cost": 0, "receivedAt": time.Now().UTC().Format("2006-01-02 15:04:05"),
	})
	poll(t, bctx, "the reply in the conversation without a reload",
		`(function(){var c=document.querySelector("#conversation ol.thread");return !!c && c.textContent.indexOf("Running ten minutes late")>=0 && window.apptconfirmNoReload===9;})()`)
}
