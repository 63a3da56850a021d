package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/app/slots"
	"apptconfirm/models"
)

// A patient asks by SMS for another time; staff see the request labelled
// in the inbox, the finder's times in the appointment page's offer form,
// and the count on the dashboard, at phone and desktop widths, with no
// sideways scroll on the phone.
func TestBrowserRescheduleRequestPages(t *testing.T) {
	exe := chromium(t)
	app, base := startBrowserApp(t, "Europe/Paris")
	ctx := context.Background()
	actor := models.SystemActor()
	loc, err := app.Store.DefaultLocation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := slots.ParseHours("mon-fri 09:00-17:00", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Availability.SaveSchedule(ctx, actor, availability.LocationOwner(loc.ID), availability.ScheduleInput{Hours: h}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Clinic.CreateUser(ctx, actor, clinic.UserInput{Email: "front@example.com", Name: "Front Desk", Role: "staff", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	p, err := app.Clinic.CreatePatient(ctx, actor, clinic.PatientInput{FirstName: "Ada", LastName: "Lovelace", Phone: "+33612345678"}, "FR")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().In(loc.Zone()).Truncate(24*time.Hour).AddDate(0, 0, 3).Add(10 * time.Hour)
	appt, err := app.Clinic.CreateAppointment(ctx, actor, clinic.AppointmentInput{PatientID: p.ID, StartsAt: start, DurationMinutes: 30})
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
	postWebhook(t, app.WebhookURL(), "receive_sms", map[string]any{
		"msgId": uuid.NewString(), "from": p.Phone, "to": "+33100000000", "countryIso": "FR", "text": "Can I reschedule?",
		"cost": 0, "receivedAt": time.Now().UTC().Format("2006-01-02 15:04:05"),
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		a, err := app.Clinic.GetAppointment(ctx, appt.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status == models.RescheduleRequested {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the request was not applied: %s", a.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}

	pages := []struct{ name, path, ready string }{
		{"appointment", fmt.Sprintf("/appointments/%d", appt.ID), "#offer"},
		{"inbox", "/inbox", `[data-label="wants-another-time"]`},
		{"dashboard", "/", `[data-count="appointment-reschedule_requested"]`},
	}
	for _, width := range []int{390, 1366} {
		bctx := newChromium(t, exe, width, 2000)
		err := chromedp.Do(bctx,
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(`input[name="email"]`),
			chromedp.SendKeys(`input[name="email"]`, "front@example.com"),
			chromedp.SendKeys(`input[name="password"]`, "correct horse battery"),
			chromedp.Submit(`input[name="password"]`),
			chromedp.WaitVisible(`#rates-chart`),
		)
		if err != nil {
			t.Fatalf("log in: %v", err)
		}
		for _, pg := range pages {
			if err := chromedp.Do(bctx, chromedp.Navigate(base+pg.path), chromedp.WaitVisible(pg.ready)); err != nil {
				t.Fatalf("%s at %d px: %v", pg.name, width, err)
			}
			fits, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
			if err != nil || !fits {
				wide, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('body *')).filter(e=>e.getBoundingClientRect().right>window.innerWidth+1 && !e.closest('#chart-table')).slice(0,8).map(e=>e.tagName+'.'+e.className+' '+Math.round(e.getBoundingClientRect().right)).join('; ')+' | '+document.documentElement.scrollWidth+' '+(function(){var e=document.getElementById('chart-table');var o=[];while(e){o.push(e.tagName+'.'+e.className+':'+Math.round(e.getBoundingClientRect().width)+':'+getComputedStyle(e).display);e=e.parentElement;}return o.join(' < ')})()`))
				t.Errorf("%s at %d px scrolls sideways (%v): %s", pg.name, width, err, wide)
			}
			shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			// APPTCONFIRM_SCREENSHOTS=DIR keeps a copy for a person to look at.
			if dir := os.Getenv("APPTCONFIRM_SCREENSHOTS"); dir != "" {
				_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("reschedule-%s-%d.png", pg.name, width)), shot, 0o644)
			}
		}
	}
}
