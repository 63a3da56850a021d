package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbound"
	"apptconfirm/models"
)

// The webhook pages fit a phone and a desktop without sideways scrolling,
// with a long URL, a long description and a delivery that failed with a
// long error.
func TestBrowserWebhookPagesFit(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	app, base := startBrowserApp(t, "UTC")
	ctx := context.Background()
	actor := models.SystemActor()
	if _, err := app.Clinic.CreateUser(ctx, actor, clinic.UserInput{Email: "boss@example.com", Name: "Boss", Role: "admin", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	u := "https://integrations.practice-system.example/hooks/apptconfirm/incoming/" + strings.Repeat("segment/", 12)
	desc := "Practice management system (Nextech bridge, production tenant for all three locations)"
	ep, err := app.Outbound.Create(ctx, actor, outbound.EndpointInput{URL: &u, Description: &desc, Events: outbound.Types})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Outbound.SendTest(ctx, actor, ep.ID); err != nil {
		t.Fatal(err)
	}
	// The served app's worker tries it: the name does not resolve here.
	poll := func() bool {
		ds, _ := app.Outbound.Deliveries(ctx, ep.ID, 1)
		return len(ds) == 1 && ds[0].LastAttemptAt != nil
	}
	for i := 0; !poll(); i++ {
		if i == 400 {
			t.Fatal("the test delivery was never attempted")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, width := range []int{390, 1366} {
		bctx := newChromiumFor(t, exe, width, 900, 4*time.Minute)
		// Under the whole suite's load this login has twice hung past the
		// browser's deadline (the cause not found; alone it takes
		// seconds): each try gets a minute, and a second try a new page.
		// The first action starts the browser, for as long as its context
		// lives: bctx's, not a try's.
		err := chromedp.Do(bctx, chromedp.EmulateViewport(int64(width), 900))
		if err != nil {
			t.Fatal(err)
		}
		for try := 0; try < 2; try++ {
			lctx, cancel := context.WithTimeout(bctx, time.Minute)
			err = login(lctx, base)
			cancel()
			if err == nil {
				break
			}
			url, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`location.href`))
			t.Logf("login at %d px, try %d: %v (page %s)", width, try+1, err, url)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, page := range []string{"/admin/webhooks", fmt.Sprintf("/admin/webhooks/%d", ep.ID)} {
			if err := chromedp.Do(bctx, chromedp.Navigate(base+page), chromedp.WaitVisible(`h1`)); err != nil {
				t.Fatal(err)
			}
			over, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if over > 0 {
				t.Errorf("%s at %d px scrolls sideways by %d px", page, width, over)
			}
		}
	}
}

// login signs the admin in, unless the page it opens shows the app's
// header already (a first try that went through after all).
func login(ctx context.Context, base string) error {
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`header.top, input[name="email"]`),
	)
	if err != nil {
		return err
	}
	in, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("header.top") !== null`))
	if err != nil || in {
		return err
	}
	return chromedp.Do(ctx,
		chromedp.SendKeys(`input[name="email"]`, "boss@example.com"),
		chromedp.SendKeys(`input[name="password"]`, "correct horse battery"),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`header.top`), // on a phone the menu is folded away
	)
}
