package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"apptconfirm/app/clinic"
	"apptconfirm/app/patientlink"
	"apptconfirm/models"
)

// The patient page in headless Chromium at phone width (390 px), in the
// patient's language: nothing overflows sideways; opening the page and
// every link on it (its cancel step, the calendar file) changes nothing
// about the appointment; Confirm, Ask for another time and Cancel (with
// its second step) each work with a tap.
func TestBrowserPatientPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	app, base := startBrowserApp(t, "Europe/Paris")
	ctx := context.Background()
	actor := models.SystemActor()
	p, err := app.Clinic.CreatePatient(ctx, actor, clinic.PatientInput{FirstName: "Élodie", LastName: "Marchand", Phone: "+33612345678", Language: "fr"}, "FR")
	if err != nil {
		t.Fatal(err)
	}
	loc, err := app.Store.DefaultLocation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	loc.Address, loc.Phone = "12 rue de la République, 69002 Lyon", "+33478000000"
	if err := app.Store.SaveLocation(ctx, loc); err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 2).Add(9 * time.Hour)
	appt, err := app.Clinic.CreateAppointment(ctx, actor, clinic.AppointmentInput{PatientID: p.ID, StartsAt: start, DurationMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	key, err := clinic.SigningKey(ctx, app.Store, "patient_link")
	if err != nil {
		t.Fatal(err)
	}
	links, err := patientlink.New(key, base)
	if err != nil {
		t.Fatal(err)
	}
	page := links.URL(appt.ID)

	state := func() string {
		a, err := app.Store.Appointment(ctx, appt.ID)
		if err != nil {
			t.Fatal(err)
		}
		var msgs, audits int64
		app.Store.DB(ctx).Model(&models.Message{}).Where("appointment_id = ?", appt.ID).Count(&msgs)
		app.Store.DB(ctx).Model(&models.AuditEntry{}).Count(&audits)
		return fmt.Sprintf("%s %s %d %d", a.Status, a.UpdatedAt.UTC().Format(time.RFC3339Nano), msgs, audits)
	}
	before := state()

	bctx := newChromium(t, exe, 390, 900)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 900), chromedp.Navigate(page), chromedp.WaitVisible(`.pp h1`)); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	text, err := chromedp.Run(bctx, chromedp.Text(`main`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Votre rendez-vous", "Confirmer", "Demander un autre horaire", "Ajouter à l'agenda", "Itinéraire", "Annuler le rendez-vous", "12 rue de la République"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
	lang, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if lang != "fr" {
		t.Errorf("html lang=%q", lang)
	}
	wide, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || wide {
		t.Fatalf("the page scrolls sideways at 390 px (%v)", err)
	}
	shot := func(name string) {
		b, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if dir := os.Getenv("APPTCONFIRM_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
		}
	}
	shot("patient-page-390")

	// Every link of the page, and of its cancel step, read with GET:
	// nothing changes.
	hrefs, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("a[href]")).map(function(a){return a.href;})`))
	if err != nil {
		t.Fatal(err)
	}
	var own []string
	for _, h := range hrefs {
		if strings.HasPrefix(h, base+"/a/") {
			own = append(own, h)
		}
	}
	if len(own) < 2 {
		t.Fatalf("the page links %q", hrefs)
	}
	for _, h := range own {
		if strings.HasSuffix(h, ".ics") {
			res, err := http.Get(h)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
				t.Errorf("GET %s: %d %s", h, res.StatusCode, res.Header.Get("Content-Type"))
			}
			continue
		}
		if err := chromedp.Do(bctx, chromedp.Navigate(h), chromedp.WaitVisible(`.pp h1`)); err != nil {
			t.Fatalf("GET %s: %v", h, err)
		}
	}
	if after := state(); after != before {
		t.Fatalf("GET of the page's links changed the appointment:\n%s\n%s", before, after)
	}

	// Confirm.
	if err := chromedp.Do(bctx, chromedp.Navigate(page), chromedp.Click(`form[action$="/confirm"] button`), chromedp.WaitVisible(`.flash`)); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	flash, _ := chromedp.Run(bctx, chromedp.Text(`.flash`))
	if !strings.Contains(flash, "votre rendez-vous est confirmé") {
		t.Errorf("after Confirm: %q", flash)
	}
	shot("patient-page-390-confirmed")
	if a, _ := app.Store.Appointment(ctx, appt.ID); a.Status != models.Confirmed {
		t.Fatalf("after Confirm: %s", a.Status)
	}

	// Ask for another time.
	if err := chromedp.Do(bctx, chromedp.Click(`form[action$="/another-time"] button`)); err != nil {
		t.Fatalf("another time: %v", err)
	}
	poll(t, bctx, "the answer to Ask for another time",
		`(function(){var f=document.querySelector('.flash');return !!f && f.textContent.indexOf("créneaux libres")>=0;})()`)
	if a, _ := app.Store.Appointment(ctx, appt.ID); a.Status != models.RescheduleRequested {
		t.Fatalf("after asking for another time: %s", a.Status)
	}

	// Cancel, in two steps.
	err = chromedp.Do(bctx,
		chromedp.Click(`a.danger[href$="/cancel"]`),
		chromedp.WaitVisible(`form[action$="/cancel"] button.danger`),
	)
	if err != nil {
		t.Fatalf("cancel step: %v", err)
	}
	shot("patient-page-390-cancel-step")
	if a, _ := app.Store.Appointment(ctx, appt.ID); a.Status != models.RescheduleRequested {
		t.Fatalf("the cancel step changed the appointment: %s", a.Status)
	}
	if err := chromedp.Do(bctx, chromedp.Click(`form[action$="/cancel"] button.danger`), chromedp.WaitVisible(`.flash`)); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if a, _ := app.Store.Appointment(ctx, appt.ID); a.Status != models.Cancelled {
		t.Fatalf("after Cancel: %s", a.Status)
	}
	text, _ = chromedp.Run(bctx, chromedp.Text(`main`))
	if !strings.Contains(text, "Ce rendez-vous est annulé.") || strings.Contains(text, "Confirmer") {
		t.Errorf("the cancelled page:\n%s", text)
	}
}
