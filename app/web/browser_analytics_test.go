package web_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"apptconfirm/app/analytics/analyticstest"
	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// TestBrowserAnalytics shows the analytics page over a generated history
// (the demo clinic has no past yet) on a phone and a laptop: no sideways
// scroll, no serious accessibility fault, and the charts drawn.
// APPTCONFIRM_SCREENSHOTS=DIR keeps a screenshot at each width.
func TestBrowserAnalytics(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	axeSource, err := os.ReadFile(axePath(t))
	if err != nil {
		t.Fatal(err)
	}
	app, base := startBrowserApp(t, "America/New_York")
	ctx := context.Background()
	if _, err := app.Clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{Email: "admin@example.com", Name: "Ada Admin", Role: "admin", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	analyticstest.Generate(t, app.Store, analyticstest.Options{
		Seed: 9, Patients: 200, Appts: 1500, From: now.AddDate(0, 0, -45), Days: 44, Now: now,
	})
	bctx := newChromiumFor(t, exe, 1366, 900, 4*time.Minute)
	if err := logIn(bctx, base, "admin@example.com"); err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("APPTCONFIRM_SCREENSHOTS")
	for _, s := range screenWidths {
		if err := setScreen(bctx, s.width, s.height, s.mobile); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/analytics"), chromedp.WaitVisible(`#best-reminder svg.hbars`)); err != nil {
			t.Fatal(err)
		}
		over, culprit, err := sidewaysScroll(bctx)
		if err != nil {
			t.Fatal(err)
		}
		if over > 0 {
			t.Errorf("the analytics page scrolls sideways by %d px on the %s screen (widest: %s)", over, s.name, culprit)
		}
		vs, err := runAxe(bctx, string(axeSource))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			t.Errorf("%s screen: %s %s: %s at %q\n  %s", s.name, v.Impact, v.ID, v.Help, v.Targets, v.Summary)
		}
		if shots != "" {
			png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(shots, "analytics-data-"+s.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
