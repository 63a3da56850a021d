package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// TestBrowserBookAndCancel is the front desk's first day in real headless
// Chromium: log in, create a patient, book an appointment, see it in the
// day's list, cancel it (accepting the confirmation dialog), and see the
// state change.
func TestBrowserBookAndCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	app, base := startBrowserApp(t, "America/New_York")
	ctx := context.Background()
	if _, err := app.Clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{Email: "desk@example.com", Name: "Desk", Role: "staff", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}

	bctx := newChromium(t, exe, 1280, 1400)
	// The cancel button asks "Cancel this appointment?": accept it, as staff would.
	dialogs := make(chan string, 4)
	events := chromedp.Events(bctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			dialogs <- ev.Message
			_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()

	zone, _ := time.LoadLocation("America/New_York")
	day := time.Now().In(zone).AddDate(0, 0, 2)
	start := time.Date(day.Year(), day.Month(), day.Day(), 10, 30, 0, 0, zone)
	const statusBadge = `[id^="appt-status-"]`
	err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, "desk@example.com"),
		chromedp.SendKeys(`#password`, "correct horse battery"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`header.top`),

		chromedp.Navigate(base+"/patients/new"),
		chromedp.WaitVisible(`#f-first_name`),
		chromedp.SendKeys(`#f-first_name`, "Grace"),
		chromedp.SendKeys(`#f-last_name`, "Hopper"),
		chromedp.SendKeys(`#f-phone`, "(202) 555-0178"),
		chromedp.Submit(`#f-phone`),
		chromedp.WaitVisible(`a[href^="/appointments/new?patient_id="]`),
		chromedp.Click(`a[href^="/appointments/new?patient_id="]`),
		chromedp.WaitVisible(`#f-starts_at`),
		// datetime-local takes its value in the ISO form, whatever the locale shows.
		chromedp.SetValue(`#f-starts_at`, start.Format("2006-01-02T15:04")),
		chromedp.SetValue(`#f-duration_minutes`, "30"),
		chromedp.Submit(`#f-starts_at`),
		chromedp.WaitVisible(statusBadge),
		chromedp.Navigate(base+"/appointments?view=list&date="+start.Format("2006-01-02")),
		chromedp.WaitVisible(`td a[href^="/appointments/"]`),
	)
	if err != nil {
		t.Fatalf("browser: log in, add patient, book: %v", err)
	}
	listText, err := chromedp.Run(bctx, chromedp.Text(`main`))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(bctx,
		chromedp.Click(`td a[href^="/appointments/"]`),
		chromedp.WaitVisible(`#f-reason`),
		chromedp.SendKeys(`#f-reason`, "patient phoned"),
		chromedp.Click(`button.danger[data-confirm]`),
		chromedp.WaitVisible(`.flash`),
	)
	if err != nil {
		t.Fatalf("browser: cancel: %v", err)
	}
	status, err := chromedp.Run(bctx, chromedp.Text(statusBadge))
	if err != nil {
		t.Fatal(err)
	}
	flash, _ := chromedp.Run(bctx, chromedp.Text(`.flash`))
	if !strings.Contains(listText, "Hopper") || !strings.Contains(listText, "10:30") {
		t.Fatalf("the day's list does not show the booking at 10:30 local: %q", listText)
	}
	if got := strings.TrimSpace(status); !strings.EqualFold(got, "cancelled") {
		t.Fatalf("status badge after cancelling = %q (flash %q)", got, flash)
	}
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "Cancel this appointment") {
			t.Fatalf("confirmation dialog said %q", msg)
		}
	default:
		t.Fatal("cancelling did not ask for confirmation")
	}
	// What the browser showed is what the database holds.
	var a models.Appointment
	if err := app.Store.DB(ctx).Preload("Patient").Take(&a).Error; err != nil {
		t.Fatal(err)
	}
	if a.Status != models.Cancelled || a.Patient.Phone != "+12025550178" || !a.StartsAt.Equal(start) {
		t.Fatalf("stored %s for %s at %s, want cancelled for +12025550178 at %s", a.Status, a.Patient.Phone, a.StartsAt, start.UTC())
	}
}

// Choosing a type in the booking form fills in its length, which staff
// may still change; the appointment is booked with the type.
func TestBrowserTypeFillsDuration(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	app, base := startBrowserApp(t, "America/New_York")
	ctx := context.Background()
	if _, err := app.Clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{Email: "desk@example.com", Name: "Desk", Role: "staff", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	ty, err := app.Clinic.CreateType(ctx, models.SystemActor(), clinic.TypeInput{Name: "Cleaning", DefaultDurationMinutes: 45, Colour: "#fde047"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := app.Clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Grace", LastName: "Hopper", Phone: "+12025550178"}, "")
	if err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation("America/New_York")
	day := time.Now().In(zone).AddDate(0, 0, 2)
	start := time.Date(day.Year(), day.Month(), day.Day(), 10, 30, 0, 0, zone)
	bctx := newChromium(t, exe, 1280, 1400)
	err = chromedp.Do(bctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, "desk@example.com"),
		chromedp.SendKeys(`#password`, "correct horse battery"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`header.top`),
		chromedp.Navigate(fmt.Sprintf("%s/appointments/new?patient_id=%d", base, p.ID)),
		chromedp.WaitVisible(`#f-appointment_type_id`),
		chromedp.SetValue(`#f-starts_at`, start.Format("2006-01-02T15:04")),
		chromedp.SetValue(`#f-appointment_type_id`, fmt.Sprint(ty.ID)),
	)
	if err != nil {
		t.Fatalf("browser: open the booking form: %v", err)
	}
	// Choosing from the list fires "change", which setting the value does not.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById("f-appointment_type_id").dispatchEvent(new Event("change", {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
	filled, err := chromedp.Run(bctx, chromedp.Value(`#f-duration_minutes`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Submit(`#f-starts_at`), chromedp.WaitVisible(`#appt-type`)); err != nil {
		t.Fatalf("browser: book with a type: %v", err)
	}
	if filled != "45" {
		t.Fatalf("choosing the type filled the length with %q, want 45", filled)
	}
	var a models.Appointment
	if err := app.Store.DB(ctx).Where("patient_id = ?", p.ID).Take(&a).Error; err != nil {
		t.Fatal(err)
	}
	if a.DurationMinutes != 45 || a.AppointmentTypeID == nil || *a.AppointmentTypeID != ty.ID {
		t.Fatalf("booked %d minutes, type %v", a.DurationMinutes, a.AppointmentTypeID)
	}
}
