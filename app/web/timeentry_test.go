package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

func TestParseTimeOfDay(t *testing.T) {
	h24, h12 := clockFormat{}, clockFormat{twelve: true}
	for _, tc := range []struct {
		in       string
		c        clockFormat
		h, m, s  int
		problem  string
		clockTag string
	}{
		{in: "14:30", c: h24, h: 14, m: 30},
		{in: " 9:05 ", c: h24, h: 9, m: 5},
		{in: "0930", c: h24, h: 9, m: 30},
		{in: "14.30", c: h24, h: 14, m: 30},
		{in: "14h30", c: h24, h: 14, m: 30},
		{in: "14:30:15", c: h24, h: 14, m: 30, s: 15},
		{in: "2:30 PM", c: h24, h: 14, m: 30},
		{in: "2:30 PM", c: h12, h: 14, m: 30},
		{in: "2:30pm", c: h12, h: 14, m: 30},
		{in: "2 p.m.", c: h12, h: 14},
		{in: "12:00 AM", c: h12, h: 0},
		{in: "12:15 PM", c: h12, h: 12, m: 15},
		{in: "11:59 pm", c: h12, h: 23, m: 59},
		{in: "14:30", c: h12, h: 14, m: 30},
		{in: "09:00", c: h12, h: 9},
		{in: "2:30", c: h12, problem: "needs AM or PM, such as 2:30 PM"},
		{in: "12:00", c: h12, problem: "needs AM or PM"},
		{in: "25:00", c: h24, problem: "is not a time of day: write it like 14:30"},
		{in: "14:60", c: h24, problem: "is not a time of day"},
		{in: "13:00 PM", c: h12, problem: "with AM or PM the hour runs from 1 to 12"},
		{in: "0 AM", c: h12, problem: "the hour runs from 1 to 12"},
		{in: "half past two", c: h12, problem: "is not a time of day: write it like 2:30 PM"},
		{in: "", c: h24, problem: "is not a time of day"},
		{in: "1:2", c: h24, problem: "is not a time of day"},
		{in: "-1:00", c: h24, problem: "is not a time of day"},
		{in: "12345", c: h24, problem: "is not a time of day"},
		// A dot separates like a colon: "10.5" is not 01:05.
		{in: "2.30 p.m.", c: h12, h: 14, m: 30},
		{in: "10.5", c: h24, problem: "is not a time of day"},
		{in: "14.3", c: h24, problem: "is not a time of day"},
		{in: "10.5pm", c: h12, problem: "is not a time of day"},
	} {
		h, m, s, problem := tc.c.parseTimeOfDay(tc.in)
		switch {
		case tc.problem != "" && !strings.Contains(problem, tc.problem):
			t.Errorf("%q (12h %v): problem %q, want %q", tc.in, tc.c.twelve, problem, tc.problem)
		case tc.problem == "" && (problem != "" || h != tc.h || m != tc.m || s != tc.s):
			t.Errorf("%q (12h %v): %d:%d:%d %q, want %d:%d:%d", tc.in, tc.c.twelve, h, m, s, problem, tc.h, tc.m, tc.s)
		}
	}
}

// FuzzParseTimeOfDay: whatever is typed, the parser answers a valid time
// or a problem, and what the clock writes reads back the same.
func FuzzParseTimeOfDay(f *testing.F) {
	for _, s := range []string{"14:30", "2:30 PM", "2 p.m.", "12:00 AM", "0930", "14h30", "25:99", "", "::", "1:2:3:4", "12345678am"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, twelve bool) {
		c := clockFormat{twelve: twelve}
		h, m, sec, problem := c.parseTimeOfDay(s)
		if problem != "" {
			return
		}
		if h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 {
			t.Fatalf("%q: %d:%d:%d", s, h, m, sec)
		}
		shown := c.timeOfDay(time.Date(2026, 3, 2, h, m, sec, 0, time.UTC))
		h2, m2, s2, problem := c.parseTimeOfDay(shown)
		if problem != "" || h2 != h || m2 != m || s2 != sec {
			t.Fatalf("%q reads %d:%d:%d, written %q, reads back %d:%d:%d %q", s, h, m, sec, shown, h2, m2, s2, problem)
		}
	})
}

// Booking, its errors and the edit form, through HTTP on both clocks: the
// time is typed as the clinic writes it and stored on the location's clock.
func TestTimesEnteredOnTheClinicClock(t *testing.T) {
	for _, tc := range []struct {
		name             string
		opts             []appOption
		typed, shown     string
		ambiguous, wrong string
		wrongMsg         string
	}{
		{"24h", nil, "14:30", "14:30", "", "2:30 XM", "Start: “2:30 XM” is not a time of day: write it like 14:30."},
		{"12h", []appOption{withClock12h()}, "2:30 pm", "2:30 PM", "2:30", "25:00", "Start: “25:00” is not a time of day: write it like 2:30 PM."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestApp(t, tc.opts...)
			ny := a.addLocation("Manhattan", "America/New_York", "US")
			p := a.addPatient("Alice", "Martin", "+12125550147")
			b := a.loggedIn("front@example.com", models.RoleStaff)

			_, body := b.get("/appointments/new?starts_at=2026-03-04T10:15&location_id=" + itoa(ny.ID))
			example := map[bool]string{false: "14:30", true: "2:30 PM"}[tc.name == "12h"]
			at1015 := map[bool]string{false: "10:15", true: "10:15 AM"}[tc.name == "12h"]
			for _, want := range []string{`name="starts_at_date" type="date" value="2026-03-04"`, `name="starts_at_time" type="text" value="` + at1015 + `"`, `placeholder="` + example + `"`, `<legend>Start</legend>`} {
				if !strings.Contains(body, want) {
					t.Fatalf("the form lacks %q", want)
				}
			}
			if strings.Contains(body, "datetime-local") {
				t.Fatal("the form still uses the browser's datetime-local field")
			}

			form := func(date, tod string) url.Values {
				return url.Values{"patient_id": {itoa(p.ID)}, "location_id": {itoa(ny.ID)}, "starts_at_date": {date}, "starts_at_time": {tod}, "duration_minutes": {"30"}}
			}
			refused := func(f url.Values, want string) {
				t.Helper()
				resp, body := b.post("/appointments", f)
				if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
					t.Fatalf("%v: %d, want %q", f, resp.StatusCode, want)
				}
				if !strings.Contains(body, `value="`+f.Get("starts_at_time")+`"`) {
					t.Fatalf("the refused form lost the typed time %q", f.Get("starts_at_time"))
				}
				if n := a.count(&models.Appointment{}); n != 0 {
					t.Fatalf("a refused booking wrote %d appointments", n)
				}
			}
			refused(form("2026-03-04", tc.wrong), tc.wrongMsg)
			refused(form("", "10:00"), "Start has a time but no date.")
			refused(form("2026-03-04", ""), "Start has a date but no time: write it like "+example+".")
			refused(form("04/03/2026", "10:00"), "Start: “04/03/2026” is not a date")
			if tc.ambiguous != "" {
				refused(form("2026-03-04", tc.ambiguous), "Start: “2:30” needs AM or PM, such as 2:30 PM.")
			}

			resp, body := b.post("/appointments", form("2026-03-04", tc.typed))
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("book: %d\n%s", resp.StatusCode, body)
			}
			var ap models.Appointment
			if err := a.store.DB(context.Background()).Take(&ap).Error; err != nil {
				t.Fatal(err)
			}
			if want := time.Date(2026, 3, 4, 14, 30, 0, 0, ny.Zone()); !ap.StartsAt.Equal(want) {
				t.Fatalf("stored %s, want %s", ap.StartsAt, want)
			}
			_, body = b.get(fmt.Sprintf("/appointments/%d/edit", ap.ID))
			if !strings.Contains(body, `value="2026-03-04"`) || !strings.Contains(body, `value="`+tc.shown+`"`) {
				t.Fatalf("the edit form does not show %s on the clinic's clock", tc.shown)
			}
			// Rescheduling reads the same fields.
			resp, body = b.post(fmt.Sprintf("/appointments/%d/reschedule", ap.ID), url.Values{"starts_at_date": {"2026-03-05"}, "starts_at_time": {tc.typed}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("reschedule: %d\n%s", resp.StatusCode, body)
			}
			if err := a.store.DB(context.Background()).Take(&ap).Error; err != nil || !ap.StartsAt.Equal(time.Date(2026, 3, 5, 14, 30, 0, 0, ny.Zone())) {
				t.Fatalf("rescheduled to %s", ap.StartsAt)
			}
			resp, body = b.post(fmt.Sprintf("/appointments/%d/reschedule", ap.ID), url.Values{"starts_at_date": {"2026-03-05"}, "starts_at_time": {tc.wrong}})
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.wrongMsg) {
				t.Fatalf("reschedule to a wrong time: %d", resp.StatusCode)
			}
		})
	}
}

// Working hours are shown and typed on the clinic's clock.
func TestWorkingHoursOnTheClinicClock(t *testing.T) {
	a := newTestApp(t, withClock12h())
	ctx := context.Background()
	loc := a.addLocation("Main", "America/New_York", "US")
	p, err := a.clinic.CreateProvider(ctx, models.SystemActor(), clinic.ProviderInput{Name: "Dr Lee", LocationID: &loc.ID, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	b := a.loggedIn("boss@example.com", models.RoleAdmin)
	path := fmt.Sprintf("/admin/providers/%d/hours", p.ID)
	_, body := b.get(path)
	if !strings.Contains(body, "9:00 AM-12:00 PM, 1:00 PM-5:00 PM") {
		t.Fatal("the hint does not write hours on a 12-hour clock")
	}
	resp, body := b.post(path, form("weekly.mon", "9 AM-12 PM, 1:00 PM-5:00 PM", "weekly.sat", "6 PM-12 AM", "weekly.tue", "09:00-13:00",
		"exceptions", "2026-12-24 9:00 AM-12:00 PM # Christmas Eve"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	sc, err := a.avail.Schedule(ctx, availability.ProviderOwner(p.ID))
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Hours.Weekly.String(); got != "mon 09:00-12:00,13:00-17:00\ntue 09:00-13:00\nsat 18:00-24:00" || len(sc.Hours.Exceptions) != 1 || sc.Hours.Exceptions[0].String() != "2026-12-24 09:00-12:00 # Christmas Eve" {
		t.Fatalf("stored %q %v", got, sc.Hours.Exceptions)
	}
	_, body = b.get(path)
	for _, want := range []string{`value="9:00 AM-12:00 PM, 1:00 PM-5:00 PM"`, `value="6:00 PM-12:00 AM"`, "2026-12-24 9:00 AM-12:00 PM # Christmas Eve"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the page lacks %q", want)
		}
	}
	// Saving the page as shown changes nothing.
	resp, _ = b.post(path, form("weekly.mon", "9:00 AM-12:00 PM, 1:00 PM-5:00 PM", "weekly.tue", "9:00 AM-1:00 PM", "weekly.sat", "6:00 PM-12:00 AM",
		"exceptions", "2026-12-24 9:00 AM-12:00 PM # Christmas Eve"))
	again, _ := a.avail.Schedule(ctx, availability.ProviderOwner(p.ID))
	if resp.StatusCode != http.StatusSeeOther || again.Hours.Weekly.String() != sc.Hours.Weekly.String() {
		t.Fatalf("saving as shown: %d %q", resp.StatusCode, again.Hours.Weekly.String())
	}
	for field, tc := range map[string]struct{ value, msg string }{
		"weekly.wed": {"9-5", "Wednesday has a start that cannot be read in span 1: “9” needs AM or PM, such as 2:30 PM."},
		"weekly.thu": {"9 AM", "Thursday needs a start and an end in span 1"},
		"exceptions": {"2026-12-31 9 AM-25 PM", "Line 1 has an end that cannot be read in span 1: “25 PM”"},
	} {
		resp, body := b.post(path, form(field, tc.value))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.msg) {
			t.Fatalf("%s %q: %d, want %q", field, tc.value, resp.StatusCode, tc.msg)
		}
	}
}

// A location's quiet hours are typed and shown on the clinic's clock.
func TestQuietHoursOnTheClinicClock(t *testing.T) {
	a := newTestApp(t, withClock12h())
	ctx := context.Background()
	b := a.loggedIn("boss@example.com", models.RoleAdmin)
	_, body := b.get("/admin/locations/new")
	if !strings.Contains(body, `name="quiet_start" type="text" value="9:00 PM"`) || !strings.Contains(body, `name="quiet_end" type="text" value="8:00 AM"`) {
		t.Fatal("the new location's quiet hours are not on a 12-hour clock")
	}
	f := form("name", "Uptown", "time_zone", "America/New_York", "country", "US", "quiet_start", "10 pm", "quiet_end", "7:30 AM")
	if resp, body := b.post("/admin/locations", f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", resp.StatusCode, body)
	}
	var l models.Location
	if err := a.store.DB(ctx).Where("name = ?", "Uptown").Take(&l).Error; err != nil || l.QuietStart != "22:00" || l.QuietEnd != "07:30" {
		t.Fatalf("stored %q-%q %v", l.QuietStart, l.QuietEnd, err)
	}
	_, body = b.get(fmt.Sprintf("/admin/locations/%d/edit", l.ID))
	if !strings.Contains(body, `value="10:00 PM"`) || !strings.Contains(body, `value="7:30 AM"`) {
		t.Fatal("the edit form does not show the quiet hours on the clinic's clock")
	}
	f.Set("name", "Downtown")
	f.Set("quiet_start", "10")
	resp, body := b.post("/admin/locations", f)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Quiet hours start: “10” needs AM or PM, such as 2:30 PM.") {
		t.Fatalf("ambiguous quiet hours: %d", resp.StatusCode)
	}
	if a.count(&models.Location{}) != 1 { // Uptown alone
		t.Fatal("a refused location was written")
	}
}

// A waitlist entry's hours are typed and shown on the clinic's clock.
func TestWaitlistHoursOnTheClinicClock(t *testing.T) {
	a := newTestApp(t, withWaitlist(), withClock12h())
	a.addLocation("Main", "America/New_York", "US")
	b := a.loggedIn("front@example.com", models.RoleStaff)
	p := a.addPatient("Ben", "Roy", "+12125550149")
	resp, body := b.post("/waitlist", url.Values{"patient_id": {itoa(p.ID)}, "from": {"9"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "From: “9” needs AM or PM, such as 2:30 PM.") {
		t.Fatalf("ambiguous from: %d", resp.StatusCode)
	}
	resp, _ = b.post("/waitlist", url.Values{"patient_id": {itoa(p.ID)}, "from": {"9 am"}, "until": {"12:30 PM"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	var e models.WaitlistEntry
	if err := a.store.DB(context.Background()).Take(&e).Error; err != nil || e.FromTime != "09:00" || e.UntilTime != "12:30" {
		t.Fatalf("stored %q-%q %v", e.FromTime, e.UntilTime, err)
	}
	if _, body := b.get("/waitlist"); !strings.Contains(body, "from 9:00 AM until 12:30 PM") {
		t.Fatal("the waitlist does not show the hours on the clinic's clock")
	}
}
