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
	"apptconfirm/app/config"
	"apptconfirm/models"
)

// TestBrowserBookAndCancel is the front desk's first day in real headless
// Chromium: log in, create a patient, book an appointment (typing the time
// as the clinic writes it, on a 24-hour and on a 12-hour clock), see it in
// the day's list, cancel it (accepting the confirmation dialog), and see
// the state change.
func TestBrowserBookAndCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	for _, tc := range []struct {
		clock, typed, shown, placeholder string
	}{
		{config.Clock24h, "10:30", "10:30", "14:30"},
		{config.Clock12h, "10:30 am", "10:30 AM", "2:30 PM"},
	} {
		t.Run(tc.clock, func(t *testing.T) {
			bookAndCancel(t, exe, tc.clock, tc.typed, tc.shown, tc.placeholder)
		})
	}
}

func bookAndCancel(t *testing.T, exe, clock, typed, shown, placeholder string) {
	app, base := startBrowserAppWith(t, "America/New_York", func(c *config.Config) { c.Clinic.Clock = clock })
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
	var gotPlaceholder string
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
		chromedp.WaitVisible(`#f-starts_at-time`),
	)
	if err != nil {
		t.Fatalf("browser: log in, add patient, open the booking form: %v", err)
	}
	ph, err := chromedp.Run(bctx, chromedp.AttributeValue(`#f-starts_at-time`, "placeholder"))
	if err != nil {
		t.Fatal(err)
	}
	gotPlaceholder = ph.Value
	err = chromedp.Do(bctx,
		// The date field takes its value in the ISO form, whatever the
		// locale shows; the time is typed as the clinic writes it.
		chromedp.SetValue(`#f-starts_at-date`, start.Format("2006-01-02")),
		chromedp.SendKeys(`#f-starts_at-time`, typed),
		chromedp.SetValue(`#f-duration_minutes`, "30"),
		chromedp.Submit(`#f-starts_at-time`),
		chromedp.WaitVisible(statusBadge),
		chromedp.Navigate(base+"/appointments?view=list&date="+start.Format("2006-01-02")),
		chromedp.WaitVisible(`td a[href^="/appointments/"]`),
	)
	if err != nil {
		t.Fatalf("browser: book: %v", err)
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
	if !strings.Contains(listText, "Hopper") || !strings.Contains(listText, shown) {
		t.Fatalf("the day's list does not show the booking at %s local: %q", shown, listText)
	}
	if gotPlaceholder != placeholder {
		t.Fatalf("the time field suggests %q, want %q", gotPlaceholder, placeholder)
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

// TestBrowserTodaysOutcomes marks a day's visits no-show in bulk in real
// Chromium: "Select all" ticks the location's visits, one button marks
// them, and the page then says nothing waits.
func TestBrowserTodaysOutcomes(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	app, base := startBrowserApp(t, "America/New_York")
	ctx := context.Background()
	if _, err := app.Clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{Email: "desk@example.com", Name: "Desk", Role: "staff", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation("America/New_York")
	first := time.Now().Add(-3 * time.Hour).Truncate(15 * time.Minute).In(zone)
	second := first.Add(30 * time.Minute)
	if second.Day() != first.Day() {
		second = first.Add(-30 * time.Minute)
	}
	var ids []uint
	for i, start := range []time.Time{first, second} {
		p, err := app.Clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Past", LastName: string(rune('A' + i)), Phone: "+1202555017" + string(rune('0'+i))}, "US")
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.Clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{PatientID: p.ID, StartsAt: start.UTC(), DurationMinutes: 20, AllowPast: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	bctx := newChromium(t, exe, 390, 900)
	err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, "desk@example.com"),
		chromedp.SendKeys(`#password`, "correct horse battery"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`header.top`),
		chromedp.Navigate(base+"/outcomes?date="+first.Format("2006-01-02")),
		chromedp.WaitVisible(`[data-select-all]`),
		chromedp.Click(`[data-select-all]`),
		chromedp.Click(`button[value="no_show"]`),
		chromedp.WaitVisible(`#outcomes-empty`),
	)
	if err != nil {
		t.Fatalf("browser: select all and mark no-show: %v", err)
	}
	flash, _ := chromedp.Run(bctx, chromedp.Text(`.flash`))
	if !strings.Contains(flash, "2 appointments marked no-show.") {
		t.Fatalf("flash %q", flash)
	}
	for _, id := range ids {
		a, err := app.Store.Appointment(ctx, id)
		if err != nil || a.Status != models.NoShow {
			t.Fatalf("appointment %d: %v %v", id, a.Status, err)
		}
	}
}

// Choosing a type in the booking form fills in its length, which staff
// may still change; the appointment is booked with the type.
func TestBrowserTypeFillsDuration(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	app, base := startBrowserAppWith(t, "America/New_York", func(c *config.Config) { c.Clinic.Clock = config.Clock24h })
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
		chromedp.SetValue(`#f-starts_at-date`, start.Format("2006-01-02")),
		chromedp.SendKeys(`#f-starts_at-time`, "10:30"),
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
	if err := chromedp.Do(bctx, chromedp.Submit(`#f-starts_at-time`), chromedp.WaitVisible(`#appt-type`)); err != nil {
		t.Fatalf("browser: book with a type: %v", err)
	}
	if filled != "45" {
		t.Fatalf("choosing the type filled the length with %q, want 45", filled)
	}
	var a models.Appointment
	if err := app.Store.DB(ctx).Where("patient_id = ?", p.ID).Take(&a).Error; err != nil {
		t.Fatal(err)
	}
	if a.DurationMinutes != 45 || a.AppointmentTypeID == nil || *a.AppointmentTypeID != ty.ID || !a.StartsAt.Equal(start) {
		t.Fatalf("booked %d minutes at %s, type %v", a.DurationMinutes, a.StartsAt, a.AppointmentTypeID)
	}
}
