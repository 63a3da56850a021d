package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/app/server"
	"apptconfirm/models"
)

// chromium finds the browser: $APPTCONFIRM_TEST_CHROMIUM, else the Debian
// package's path. `make test` installs it; without it the test is skipped
// loudly.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("APPTCONFIRM_TEST_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("APPTCONFIRM_TEST_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("SKIPPING browser test: no Chromium at /usr/bin/chromium and APPTCONFIRM_TEST_CHROMIUM unset (make test installs it)")
	return ""
}

// startBrowserApp builds and serves the whole app, as `apptconfirm serve`
// does, on a real listener and a fresh SQLite file, with the default
// location in zone; it stops when the test ends.
func startBrowserApp(t *testing.T, zone string) (*server.App, string) {
	t.Helper()
	return startBrowserAppWith(t, zone, nil)
}

// startBrowserAppWith is startBrowserApp with a change to the
// configuration (clinic.clock, say) before it is validated.
func startBrowserAppWith(t *testing.T, zone string, change func(*config.Config)) (*server.App, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := config.Default()
	cfg.Server.PublicURL = base
	cfg.Database.DSN = filepath.Join(t.TempDir(), "app.db")
	cfg.Database.AutoMigrate = true
	cfg.Clinic.Timezone = zone
	if change != nil {
		change(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := server.Build(ctx, cfg, slog.New(slog.DiscardHandler), server.Options{HashCost: 10})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return app, base
}

// newChromium starts a fresh headless Chromium with the flags this closed
// network needs, and returns its tab's context (bounded to two minutes).
func newChromium(t *testing.T, exe string, width, height int) context.Context {
	t.Helper()
	return newChromiumFor(t, exe, width, height, 2*time.Minute)
}

// newChromiumFor is newChromium for a test that needs longer than two
// minutes in the browser.
func newChromiumFor(t *testing.T, exe string, width, height int, limit time.Duration) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	bctx, tcancel := context.WithTimeout(bctx, limit)
	t.Cleanup(func() {
		tcancel()
		bcancel()
		acancel()
	})
	return bctx
}

// TestBrowserDashboardGoesLive drives the whole app in headless Chromium:
// log in, open the dashboard, let SMS.CX post a "YES" reply to the real
// webhook endpoint, and watch the appointment's badge turn confirmed
// without a reload. A screenshot of the dashboard must not be blank.
func TestBrowserDashboardGoesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)

	// The whole app, as `apptconfirm serve` builds it, on a real listener.
	app, base := startBrowserApp(t, "UTC")
	ctx := context.Background()

	// A patient with an appointment tomorrow whose reminder went out and
	// awaits an answer.
	actor := models.SystemActor()
	if _, err := app.Clinic.CreateUser(ctx, actor, clinic.UserInput{Email: "front@example.com", Name: "Front Desk", Role: "staff", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	p, err := app.Clinic.CreatePatient(ctx, actor, clinic.PatientInput{FirstName: "Ada", LastName: "Lovelace", Phone: "+12025550143"}, "US")
	if err != nil {
		t.Fatal(err)
	}
	tomorrow := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1).Add(10 * time.Hour)
	appt, err := app.Clinic.CreateAppointment(ctx, actor, clinic.AppointmentInput{PatientID: p.ID, StartsAt: tomorrow, DurationMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	reminder := &models.Message{
		UUID: uuid.NewString(), AppointmentID: &appt.ID, PatientID: &p.ID, RuleName: "48h", Kind: models.KindReminder,
		To: p.Phone, Body: "Reminder", Status: models.MsgAccepted, SendAt: sent, SentAt: &sent,
		ProviderID: uuid.NewString(), CampaignID: uuid.NewString(),
	}
	if err := app.Store.DB(ctx).Create(reminder).Error; err != nil {
		t.Fatal(err)
	}

	// A fresh headless Chromium.
	bctx := newChromium(t, exe, 1280, 1800)

	// Exceptions and CSP refusals in the page fail the test.
	var mu sync.Mutex
	var jsErrors []string
	messages := chromedp.Console(bctx)
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				jsErrors = append(jsErrors, m.String())
				mu.Unlock()
			}
		}
	}()

	badge := fmt.Sprintf("#dash-status-%d", appt.ID)
	err = chromedp.Do(bctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, "front@example.com"),
		chromedp.SendKeys(`input[name="password"]`, "correct horse battery"),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#rates-chart`),
		chromedp.WaitVisible(badge),
	)
	if err != nil {
		t.Fatalf("log in and open the dashboard: %v", err)
	}
	text, err := chromedp.Run(bctx, chromedp.Text(badge))
	if err != nil || text != "scheduled" {
		t.Fatalf("badge before the reply: %q (%v)", text, err)
	}
	// The stream must be open before the reply, or the change has nowhere to go.
	poll(t, bctx, "the live dot to turn on", `document.documentElement.getAttribute("data-live") === "on"`)
	// Mark this page: a reload would lose the mark.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.apptconfirmNoReload = 42; true`)); err != nil {
		t.Fatal(err)
	}

	// SMS.CX posts the patient's "YES" to the real webhook endpoint.
	postWebhook(t, app.WebhookURL(), "receive_sms", map[string]any{
		"msgId": uuid.NewString(), "from": p.Phone, "to": "+12025550100", "countryIso": "US", "text": "YES",
		"cost": 0, "receivedAt": time.Now().UTC().Format("2006-01-02 15:04:05"),
	})

	poll(t, bctx, "the badge to turn confirmed without a reload",
		fmt.Sprintf(`(function(){var b=document.querySelector(%q);return !!b && b.textContent==="confirmed" && b.classList.contains("confirmed") && window.apptconfirmNoReload===42;})()`, badge))
	// live.js labels badges from the server's table of words, so a state
	// it sets reads as the server would draw it, never as a stored key.
	poll(t, bctx, "the page to carry the status words", `(function(){var w=JSON.parse(document.getElementById("status-words").textContent);return w.reschedule_requested==="wants another time" && w.no_show==="no-show";})()`)
	// The counts follow (the fragment reloads after the change).
	poll(t, bctx, "the confirmed count to reach 1", `(function(){var c=document.querySelector('[data-count="appointment-confirmed"]');return !!c && c.textContent==="1";})()`)

	// The screenshot is a real page, not a blank one.
	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	// APPTCONFIRM_SCREENSHOTS=DIR keeps a copy for a person to look at.
	if dir := os.Getenv("APPTCONFIRM_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "dashboard.png"), shot, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if n := distinctColours(img); n < 50 {
		t.Fatalf("screenshot %s has %d distinct colours: blank?", path, n)
	}

	// The appointment's page has the same live badge and the reply on its timeline.
	err = chromedp.Do(bctx,
		chromedp.Navigate(fmt.Sprintf("%s/appointments/%d", base, appt.ID)),
		chromedp.WaitVisible(fmt.Sprintf("#appt-status-%d", appt.ID)),
	)
	if err == nil {
		text, err = chromedp.Run(bctx, chromedp.Text(fmt.Sprintf("#appt-status-%d", appt.ID)))
	}
	if err != nil || text != "confirmed" {
		t.Fatalf("appointment page badge %q (%v)", text, err)
	}
	timeline, err := chromedp.Run(bctx, chromedp.Text(`#appointment-timeline`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(timeline, `"YES"`) || !strings.Contains(timeline, "Confirmed") {
		t.Fatalf("timeline lacks the reply or the confirmation:\n%s", timeline)
	}
	// A delivery report changes the reminder's badge on this page in place.
	msgBadge := fmt.Sprintf("#msg-status-%d", reminder.ID)
	if text, err := chromedp.Run(bctx, chromedp.Text(msgBadge)); err != nil || text != "accepted" {
		t.Fatalf("reminder badge %q (%v)", text, err)
	}
	poll(t, bctx, "the live dot on the appointment page", `document.documentElement.getAttribute("data-live") === "on"`)
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.apptconfirmNoReload = 43; true`)); err != nil {
		t.Fatal(err)
	}
	postWebhook(t, app.WebhookURL(), "dlr_update", map[string]any{
		"campaignId": reminder.CampaignID, "msgId": reminder.ProviderID, "statusCode": 0, "status": "DELIVERED",
		"errorCode": nil, "datetime": time.Now().UTC().Format("2006-01-02 15:04:05"), "trackData": reminder.UUID,
	})
	poll(t, bctx, "the reminder badge to turn delivered without a reload",
		fmt.Sprintf(`(function(){var b=document.querySelector(%q);return !!b && b.textContent==="delivered" && b.classList.contains("delivered") && !b.classList.contains("accepted") && window.apptconfirmNoReload===43;})()`, msgBadge))
	// ...and the timeline gains the delivery report, still without a reload.
	poll(t, bctx, "the delivery report on the timeline",
		`document.getElementById("appointment-timeline").textContent.indexOf("delivery") >= 0 && window.apptconfirmNoReload===43`)

	mu.Lock()
	defer mu.Unlock()
	if len(jsErrors) > 0 {
		t.Fatalf("script errors in the browser: %q", jsErrors)
	}
}

// postWebhook posts one SMS.CX event with one item, as SMS.CX does.
func postWebhook(t *testing.T, url, event string, item map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"event": event, "data": []map[string]any{item}})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook %s: status %d", event, resp.StatusCode)
	}
}

// poll evaluates expr in the page until it is true or 20 seconds pass.
func poll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// distinctColours counts the colours of img, up to 10,000.
func distinctColours(img image.Image) int {
	seen := map[uint32]struct{}{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = struct{}{}
			if len(seen) >= 10000 {
				return len(seen)
			}
		}
	}
	return len(seen)
}
