package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// An admin sets a provider's weekly hours, exceptions and buffers on the
// hours page; what is refused names the day or the line and keeps the
// stored hours.
func TestHoursPage(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	loc := a.addLocation("Main", "Europe/Paris", "FR")
	p, err := a.clinic.CreateProvider(ctx, models.SystemActor(), clinic.ProviderInput{Name: "Dr Lee", LocationID: &loc.ID, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	b := a.loggedIn("boss@example.com", models.RoleAdmin)
	path := fmt.Sprintf("/admin/providers/%d/hours", p.ID)

	status, body := b.get("/admin/providers")
	if status != http.StatusOK || !strings.Contains(body, `href="`+path+`"`) {
		t.Fatalf("the providers list does not link the hours page: %d", status)
	}
	status, body = b.get(path)
	if status != http.StatusOK || !strings.Contains(body, "No working hours are set yet") || !strings.Contains(body, "Europe/Paris") {
		t.Fatalf("hours page: %d\n%s", status, body)
	}

	resp, body := b.post(path, form("weekly.mon", "13:00-17:00, 09:00-12:00", "weekly.fri", "9:00-13:00",
		"exceptions", "2026-12-25 closed # Christmas\n2026-08-03..2026-08-14 closed", "buffer_after_minutes", "10"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	sc, err := a.avail.Schedule(ctx, availability.ProviderOwner(p.ID))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Hours.Weekly.String() != "mon 09:00-12:00,13:00-17:00\nfri 09:00-13:00" || len(sc.Hours.Exceptions) != 2 || sc.Buffer.After.Minutes() != 10 {
		t.Fatalf("stored %q, %v, %v", sc.Hours.Weekly.String(), sc.Hours.Exceptions, sc.Buffer)
	}
	_, body = b.get(path)
	for _, want := range []string{`value="09:00-12:00, 13:00-17:00"`, "2026-08-03..2026-08-14 closed\n2026-12-25 closed # Christmas", "Clear working hours", "Working hours of Dr Lee saved."} {
		if !strings.Contains(body, want) {
			t.Errorf("the page after saving lacks %q", want)
		}
	}

	for name, tc := range map[string]struct {
		form  url.Values
		field string
		msg   string
	}{
		"overlap":      {form("weekly.tue", "09:00-12:00, 11:00-13:00"), "weekly.tue", "overlaps"},
		"not a time":   {form("weekly.wed", "nine to five"), "weekly.wed", "“nine” is not a time of day"},
		"bad line":     {form("exceptions", "2026-12-25 closed\n2026-13-01 closed"), "exceptions", "Line 2"},
		"buffer":       {form("buffer_before_minutes", "ten"), "buffer_before_minutes", "whole number"},
		"buffer range": {form("buffer_before_minutes", "999"), "buffer_before_minutes", "0 to 240"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := b.post(path, tc.form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if !strings.Contains(body, `id="f-`+tc.field+`" name="`+tc.field+`"`) || !strings.Contains(body, tc.msg) {
				t.Fatalf("no %q message on %s:\n%s", tc.msg, tc.field, body)
			}
			if !strings.Contains(body, `aria-invalid="true"`) {
				t.Error("the field is not marked invalid")
			}
		})
	}
	if sc2, _ := a.avail.Schedule(ctx, availability.ProviderOwner(p.ID)); sc2.Hours.Weekly.String() != sc.Hours.Weekly.String() {
		t.Error("a refused form changed the stored hours")
	}

	if resp, _ := b.post(path+"/clear", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear: %d", resp.StatusCode)
	}
	if sc, _ = a.avail.Schedule(ctx, availability.ProviderOwner(p.ID)); sc.Set {
		t.Error("still set after clearing")
	}
	var audits int64
	a.store.DB(ctx).Model(&models.AuditEntry{}).Where("action = ?", "provider.hours").Count(&audits)
	if audits != 2 {
		t.Errorf("%d audit entries, want 2 (save, clear)", audits)
	}

	// The location's page works the same way.
	lpath := fmt.Sprintf("/admin/locations/%d/hours", loc.ID)
	if resp, body := b.post(lpath, form("weekly.sat", "closed", "weekly.sun", "")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("location save: %d %s", resp.StatusCode, body)
	}
	if status, _ := b.get("/admin/locations/999/hours"); status != http.StatusNotFound {
		t.Errorf("unknown location: %d", status)
	}
}

// The booking form warns about a double booking and proposes free times;
// ticking "book this time anyway" books it.
func TestBookingFormWarnsAboutTakenTimes(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	loc := a.addLocation("Main", "Europe/Paris", "FR")
	pat := a.addPatient("Ana", "Lima", "+33612345678")
	p, err := a.clinic.CreateProvider(ctx, models.SystemActor(), clinic.ProviderInput{Name: "Dr Lee", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	b := a.loggedIn("staff@example.com", models.RoleStaff)
	book := func(start string, extra ...string) (*http.Response, string) {
		b.get("/appointments/new")
		f := form(append([]string{
			"patient_id", fmt.Sprint(pat.ID), "location_id", fmt.Sprint(loc.ID), "provider_id", fmt.Sprint(p.ID),
			"starts_at", start, "duration_minutes", "30",
		}, extra...)...)
		return b.post("/appointments", f)
	}
	if resp, body := book("2026-03-03T10:00"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first booking: %d %s", resp.StatusCode, body)
	}
	resp, body := book("2026-03-03T10:15")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Dr Lee is already booked then: Tue 3 Mar 10:00–10:30") ||
		!strings.Contains(body, `name="allow_busy"`) {
		t.Fatalf("no warning: %d\n%s", resp.StatusCode, body)
	}
	if n := a.count(&models.Appointment{}); n != 1 {
		t.Fatalf("%d appointments after the warning", n)
	}
	if resp, body := book("2026-03-03T10:15", "allow_busy", "1"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("booking anyway: %d %s", resp.StatusCode, body)
	}
	if n := a.count(&models.Appointment{}); n != 2 {
		t.Fatalf("%d appointments after booking anyway", n)
	}
}
