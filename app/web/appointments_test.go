package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// The test clock is Monday 2 March 2026, 09:00 UTC: 04:00 in New York,
// still on standard time (UTC-5) until 8 March.

func TestAppointmentBooking(t *testing.T) {
	a := newTestApp(t)
	ny := a.addLocation("Manhattan", "America/New_York", "US")
	paris := a.addLocation("Paris", "Europe/Paris", "FR")
	p := a.addPatient("Alice", "Martin", "+12125550147")
	b := a.loggedIn("front@example.com", models.RoleStaff)
	ctx := context.Background()

	t.Run("form", func(t *testing.T) {
		status, body := b.get("/appointments/new")
		expectPage(t, "new", status, body, http.StatusOK, `name="patient_id"`, "Alice Martin",
			`name="starts_at_date" type="date"`, `name="starts_at_time" type="text"`, `placeholder="14:30"`, `name="duration_minutes"`, `value="30"`, "Manhattan (America/New_York)", "Paris (Europe/Paris)")
		if strings.Contains(body, "allow_past") {
			t.Fatal("the past-booking box shows before it is needed")
		}
		status, body = b.get("/appointments/new?patient_id=" + itoa(p.ID))
		expectPage(t, "new for a patient", status, body, http.StatusOK, `<option value="`+itoa(p.ID)+`" selected>`)
		for _, q := range []string{"999", "abc"} {
			status, body = b.get("/appointments/new?patient_id=" + q)
			expectPage(t, "new for patient "+q, status, body, http.StatusNotFound, "Not found")
		}
	})

	valid := func(kv ...string) map[string]string {
		m := map[string]string{
			"patient_id": itoa(p.ID), "location_id": itoa(ny.ID), "starts_at": "2026-03-04T09:00",
			"duration_minutes": "30", "notes": "Bring X-rays",
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	post := func(path string, m map[string]string) (*http.Response, string) {
		f := form()
		for k, v := range m {
			f.Set(k, v)
		}
		return b.post(path, f)
	}

	t.Run("refused bookings keep what was typed and write nothing", func(t *testing.T) {
		audits := a.count(&models.AuditEntry{})
		for _, tc := range []struct {
			name string
			form map[string]string
			has  []string
		}{
			{"duration zero", valid("duration_minutes", "0"), []string{"must be 1 to 720 minutes", `value="0"`, `value="2026-03-04"`, `value="09:00"`, "Bring X-rays"}},
			{"duration negative", valid("duration_minutes", "-15"), []string{"must be 1 to 720 minutes", `value="-15"`}},
			{"duration words", valid("duration_minutes", "an hour"), []string{"must be a whole number of minutes", `value="an hour"`}},
			{"no start", valid("starts_at", ""), []string{"required"}},
			{"start unreadable", valid("starts_at", "next tuesday"), []string{"must be a date and time", `value="next tuesday"`}},
			{"start skipped by DST", valid("starts_at", "2026-03-08T02:30"), []string{"does not exist on 2026-03-08 in America/New_York"}},
			{"no patient", valid("patient_id", ""), []string{"patient_id", "required"}},
			{"unknown patient", valid("patient_id", "999"), []string{"The chosen patient no longer exists."}},
			{"unknown location", valid("location_id", "999"), []string{"The chosen location no longer exists."}},
			{"unknown provider", valid("provider_id", "999"), []string{"The chosen provider no longer exists."}},
			{"notes with control characters", valid("notes", "a\x00b"), []string{"must not contain control characters"}},
			{"start in the past", valid("starts_at", "2026-03-01T10:00"), []string{clinic.PastStartMessage, "Yes, book it in the past", `name="allow_past"`, `value="2026-03-01"`, `value="10:00"`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := post("/appointments", tc.form)
				expectPage(t, tc.name, resp.StatusCode, body, http.StatusUnprocessableEntity, append(tc.has, `class="field-error"`)...)
			})
		}
		if n := a.count(&models.Appointment{}); n != 0 {
			t.Fatalf("%d appointments after refused forms", n)
		}
		if n := a.count(&models.TimelineEntry{}); n != 0 {
			t.Fatalf("%d timeline rows after refused forms", n)
		}
		if n := a.count(&models.AuditEntry{}); n != audits {
			t.Fatalf("audit rows %d -> %d after refused forms", audits, n)
		}
	})

	var id uint
	t.Run("book", func(t *testing.T) {
		resp, body := post("/appointments", valid())
		expectRedirect(t, "book", resp, body, "/appointments/*")
		var ap models.Appointment
		if err := a.store.DB(ctx).Take(&ap).Error; err != nil {
			t.Fatal(err)
		}
		id = ap.ID
		// 09:00 in New York in winter is 14:00 UTC.
		if want := time.Date(2026, 3, 4, 14, 0, 0, 0, time.UTC); !ap.StartsAt.Equal(want) || ap.DurationMinutes != 30 || ap.Notes != "Bring X-rays" {
			t.Fatalf("stored %+v", ap)
		}
		status, body := b.get(resp.Header.Get("Location"))
		expectPage(t, "show", status, body, http.StatusOK, "Booked Alice Martin for Wed 4 Mar 2026 09:00 (America/New_York)",
			"Wednesday 4 March 2026, 09:00 to 09:30", "(America/New_York)",
			`id="appt-status-`+itoa(id)+`"`, `data-appointment-id="`+itoa(id)+`"`, `class="badge scheduled"`,
			"Bring X-rays", "Booked for Wed 4 Mar 09:00 at Manhattan by front@example.com", "No messages planned")
	})
	show := "/appointments/" + itoa(id)

	t.Run("book in the past with confirmation", func(t *testing.T) {
		resp, body := post("/appointments", valid("starts_at", "2026-03-01T10:00", "allow_past", "1", "location_id", itoa(paris.ID)))
		expectRedirect(t, "book in the past", resp, body, "/appointments/*")
		b.get(resp.Header.Get("Location")) // shows the flash
		var ap models.Appointment
		a.store.DB(ctx).Where("location_id = ?", paris.ID).Take(&ap)
		if want := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC); !ap.StartsAt.Equal(want) {
			t.Fatalf("Paris 10:00 stored as %v", ap.StartsAt)
		}
	})

	t.Run("list by day and filters", func(t *testing.T) {
		for _, tc := range []struct {
			url       string
			want      int
			has, hasn []string
		}{
			// Today is 2 March in New York (the default location).
			{"/appointments?view=list", 200, []string{"Monday 2 March 2026", "No appointments on this day", "date=2026-03-01", "date=2026-03-03", "days in America/New_York"}, []string{"Alice Martin"}},
			{"/appointments?view=list&date=2026-03-04", 200, []string{"Alice Martin", ">09:00<", `data-appointment-id="` + itoa(id) + `"`, `class="badge scheduled"`}, nil},
			{"/appointments?view=list&date=2026-03-04&location_id=" + itoa(ny.ID), 200, []string{"Alice Martin", ">09:00<"}, nil},
			{"/appointments?view=list&date=2026-03-04&location_id=" + itoa(paris.ID), 200, []string{"No appointments on this day", "days in Europe/Paris"}, nil},
			{"/appointments?date=2026-03-04&status=scheduled", 200, []string{"Alice Martin"}, nil},
			{"/appointments?date=2026-03-04&status=confirmed", 200, []string{"No appointments"}, nil},
			{"/appointments?date=2026-03-04&q=alice&sort=patient", 200, []string{"Alice Martin"}, nil},
			{"/appointments?from=2026-02-28&to=2026-03-05", 200, []string{"Alice Martin", "Wed 4 Mar 09:00", "Sun 1 Mar 10:00", "Europe/Paris"}, []string{"Previous day"}},
			{"/appointments?from=2026-03-04", 200, []string{"Alice Martin"}, nil},
			{"/appointments?status=maybe", 400, []string{"status: must be one of scheduled"}, nil},
			{"/appointments?sort=starts_at%20DESC", 400, []string{"sort: must be one of starts_at, -starts_at, status, patient"}, nil},
			{"/appointments?location_id=999", 400, []string{"location id: is not one of the locations"}, nil},
			{"/appointments?location_id=1%20OR%201=1", 400, []string{"location id: is not one of the locations"}, nil},
			{"/appointments?provider_id=7", 400, []string{"provider id: is not one of the providers"}, nil},
			{"/appointments?date=2026-02-30", 400, []string{"date: must be a date as YYYY-MM-DD"}, nil},
			{"/appointments?from=2026-03-05&to=2026-03-01", 400, []string{"to: must be on or after from"}, nil},
			{"/appointments?page=-2", 400, []string{"page: must be a page number"}, nil},
		} {
			t.Run(tc.url, func(t *testing.T) {
				status, body := b.get(tc.url)
				expectPage(t, tc.url, status, body, tc.want, tc.has...)
				for _, s := range tc.hasn {
					if strings.Contains(body, s) {
						t.Fatalf("%s shows %q\n%s", tc.url, s, excerpt(body))
					}
				}
			})
		}
	})

	t.Run("edit", func(t *testing.T) {
		status, body := b.get(show + "/edit")
		expectPage(t, "edit form", status, body, http.StatusOK, `value="2026-03-04"`, `value="09:00"`, "Bring X-rays", `name="duration_minutes" type="number" value="30"`)
		if strings.Contains(body, `name="patient_id"`) {
			t.Fatal("the edit form offers to change the patient")
		}
		edit := map[string]string{"location_id": itoa(ny.ID), "starts_at": "2026-03-04T09:00", "duration_minutes": "0", "notes": "changed"}
		resp, body := post(show, edit)
		expectPage(t, "edit with duration 0", resp.StatusCode, body, http.StatusUnprocessableEntity, "must be 1 to 720 minutes", "changed")
		var ap models.Appointment
		a.store.DB(ctx).First(&ap, id)
		if ap.Notes != "Bring X-rays" || ap.DurationMinutes != 30 {
			t.Fatalf("a refused edit changed the appointment: %+v", ap)
		}
		edit["duration_minutes"] = "45"
		resp, body = post(show, edit)
		expectRedirect(t, "edit", resp, body, show)
		var after models.Appointment
		a.store.DB(ctx).First(&after, id)
		if after.Notes != "changed" || after.DurationMinutes != 45 || !after.StartsAt.Equal(ap.StartsAt) {
			t.Fatalf("after edit: %+v", after)
		}
	})

	t.Run("reschedule", func(t *testing.T) {
		status, body := b.get(show + "/reschedule")
		expectPage(t, "reschedule form", status, body, http.StatusOK, `value="2026-03-04"`, `value="09:00"`, "Reschedule")
		resp, body := post(show+"/reschedule", map[string]string{"starts_at": "2026-03-02T03:00"})
		expectPage(t, "reschedule to the past", resp.StatusCode, body, http.StatusUnprocessableEntity, clinic.PastStartMessage, "Yes, book it in the past", `value="2026-03-02"`, `value="03:00"`)
		resp, body = post(show+"/reschedule", map[string]string{"starts_at": ""})
		expectPage(t, "reschedule without a start", resp.StatusCode, body, http.StatusUnprocessableEntity, "required")
		resp, body = post(show+"/reschedule", map[string]string{"starts_at": "2026-03-05T10:30"})
		expectRedirect(t, "reschedule", resp, body, show)
		var ap models.Appointment
		a.store.DB(ctx).First(&ap, id)
		if want := time.Date(2026, 3, 5, 15, 30, 0, 0, time.UTC); !ap.StartsAt.Equal(want) || ap.Notes != "changed" || ap.DurationMinutes != 45 {
			t.Fatalf("after reschedule: %+v", ap)
		}
		status, body = b.get(show)
		expectPage(t, "show after reschedule", status, body, http.StatusOK, "Rescheduled to Thu 5 Mar 2026 10:30 (America/New_York)",
			"Rescheduled from Wed 4 Mar 09:00 at Manhattan to Thu 5 Mar 10:30 at Manhattan")
	})

	t.Run("state changes", func(t *testing.T) {
		state := func() models.AppointmentStatus {
			var ap models.Appointment
			a.store.DB(ctx).First(&ap, id)
			return ap.Status
		}
		// Safe methods change nothing.
		for _, action := range []string{"confirm", "cancel", "complete", "no-show", "restore"} {
			if status, _ := b.get(show + "/" + action); status != http.StatusMethodNotAllowed {
				t.Fatalf("GET %s: %d, want 405", action, status)
			}
		}
		if st := state(); st != models.Scheduled {
			t.Fatalf("GETs changed the state to %s", st)
		}
		resp, body := b.post(show+"/confirm", nil)
		expectRedirect(t, "confirm", resp, body, show)
		if st := state(); st != models.Confirmed {
			t.Fatalf("after confirm: %s", st)
		}
		resp, body = b.post(show+"/complete", nil)
		expectPage(t, "complete before the start", resp.StatusCode, body, http.StatusUnprocessableEntity,
			"Not changed: the status can be set to completed only after the appointment has started.")
		resp, body = b.post(show+"/no-show", nil)
		expectPage(t, "no-show before the start", resp.StatusCode, body, http.StatusUnprocessableEntity, "only after the appointment has started")
		if st := state(); st != models.Confirmed {
			t.Fatalf("a refused completion changed the state to %s", st)
		}
		long := strings.Repeat("x", 301)
		resp, body = b.post(show+"/cancel", form("reason", long))
		expectPage(t, "cancel with a long reason", resp.StatusCode, body, http.StatusUnprocessableEntity, "must be at most 300 characters", `value="`+long+`"`)
		if st := state(); st != models.Confirmed {
			t.Fatalf("a refused cancel changed the state to %s", st)
		}
		resp, body = b.post(show+"/cancel", form("reason", "patient called"))
		expectRedirect(t, "cancel", resp, body, show)
		if st := state(); st != models.Cancelled {
			t.Fatalf("after cancel: %s", st)
		}
		status, body := b.get(show)
		expectPage(t, "cancelled page", status, body, http.StatusOK, `class="badge cancelled"`, "Cancelled by front@example.com: patient called", `action="`+show+`/restore"`)
		resp, body = b.post(show+"/cancel", nil)
		expectPage(t, "cancel twice", resp.StatusCode, body, http.StatusConflict, "That change is not possible", "annot change status from cancelled to cancelled")
		resp, body = post(show+"/reschedule", map[string]string{"starts_at": "2026-03-06T10:00"})
		expectPage(t, "reschedule a cancelled one", resp.StatusCode, body, http.StatusUnprocessableEntity, "cannot be rescheduled")
		resp, body = b.post(show+"/restore", nil)
		expectRedirect(t, "restore", resp, body, show)
		if st := state(); st != models.Scheduled {
			t.Fatalf("after restore: %s", st)
		}
		resp, body = b.post(show+"/restore", nil)
		expectPage(t, "restore twice", resp.StatusCode, body, http.StatusConflict, "annot change status from scheduled to scheduled")

		// The appointment booked in the past can be completed, then corrected to a no-show.
		var past models.Appointment
		a.store.DB(ctx).Where("location_id = ?", paris.ID).Take(&past)
		pastURL := "/appointments/" + itoa(past.ID)
		resp, body = b.post(pastURL+"/complete", nil)
		expectRedirect(t, "complete", resp, body, pastURL)
		resp, body = b.post(pastURL+"/no-show", nil)
		expectRedirect(t, "no-show", resp, body, pastURL)
		a.store.DB(ctx).First(&past, past.ID)
		if past.Status != models.NoShow {
			t.Fatalf("after no-show: %s", past.Status)
		}
	})

	t.Run("messages and timeline shown in the location's zone", func(t *testing.T) {
		sent := time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC)
		msgs := []models.Message{
			{
				UUID: "00000000-0000-4000-8000-000000000001", AppointmentID: &id, PatientID: &p.ID, RuleName: "48h", Kind: models.KindReminder,
				To: p.Phone, Status: models.MsgFailed, SendAt: sent, SentAt: &sent, Reason: "invalid number",
			},
			{
				UUID: "00000000-0000-4000-8000-000000000002", AppointmentID: &id, PatientID: &p.ID, Kind: models.KindBookingConfirm,
				To: p.Phone, Status: models.MsgPlanned, SendAt: time.Date(2026, 3, 5, 13, 30, 0, 0, time.UTC),
			},
		}
		if err := a.store.DB(ctx).Create(&msgs).Error; err != nil {
			t.Fatal(err)
		}
		status, body := b.get(show)
		expectPage(t, "show", status, body, http.StatusOK, "Reminder 48 h before", `class="badge failed"`, "invalid number",
			"Tue 3 Mar 10:00", // 15:00 UTC in New York
			"Booking confirmation", `class="badge planned"`, "Thu 5 Mar 08:30", "Times in America/New_York.")
	})

	t.Run("unknown ids are 404", func(t *testing.T) {
		for _, path := range []string{"/appointments/999", "/appointments/999/edit", "/appointments/999/reschedule", "/appointments/abc", "/appointments/-1"} {
			status, body := b.get(path)
			expectPage(t, path, status, body, http.StatusNotFound, "Not found")
		}
		for _, action := range []string{"", "/reschedule", "/confirm", "/cancel", "/complete", "/no-show", "/restore"} {
			resp, body := b.post("/appointments/999"+action, form("starts_at", "2026-03-05T10:00", "duration_minutes", "30", "location_id", "1"))
			expectPage(t, "POST "+action, resp.StatusCode, body, http.StatusNotFound, "Not found")
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		var before models.Appointment
		a.store.DB(ctx).First(&before, id)
		resp, _ := b.post(show+"/cancel", form("csrf_token", "forged"))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged token: %d, want 403", resp.StatusCode)
		}
		resp, _ = b.post("/appointments", form("csrf_token", ""))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("missing token: %d, want 403", resp.StatusCode)
		}
		var after models.Appointment
		a.store.DB(ctx).First(&after, id)
		if after.Status != before.Status {
			t.Fatal("a forged post changed the appointment")
		}
	})

	// An appointment at 14:00 UTC in winter reads 09:00 in New York wherever
	// it is shown, whichever zone the list counts days in.
	t.Run("times in the location's zone", func(t *testing.T) {
		ap, err := a.clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{
			PatientID: p.ID, LocationID: ny.ID, StartsAt: time.Date(2026, 12, 10, 14, 0, 0, 0, time.UTC), DurationMinutes: 20,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			url string
			has []string
		}{
			{"/appointments/" + itoa(ap.ID), []string{"Thursday 10 December 2026, 09:00 to 09:20", "America/New_York"}},
			{"/appointments/" + itoa(ap.ID) + "/edit", []string{`value="2026-12-10"`, `value="09:00"`}},
			{"/appointments?view=list&date=2026-12-10", []string{">09:00<", "days in America/New_York"}},
			{"/appointments?view=list&date=2026-12-10&location_id=" + itoa(ny.ID), []string{">09:00<", "days in America/New_York"}},
			// Counted in Paris the day holds nothing from New York's list.
			{"/appointments?view=list&date=2026-12-10&location_id=" + itoa(paris.ID), []string{"No appointments on this day", "days in Europe/Paris"}},
			{"/appointments?from=2026-12-10&to=2026-12-10", []string{"Thu 10 Dec 09:00"}},
			{"/patients/" + itoa(p.ID), []string{"Thu 10 Dec 2026 09:00"}},
		} {
			t.Run(tc.url, func(t *testing.T) {
				status, body := b.get(tc.url)
				expectPage(t, tc.url, status, body, http.StatusOK, tc.has...)
				// The time fields' suggestions list every quarter hour.
				if strings.Contains(datalists.ReplaceAllString(body, ""), "14:00") {
					t.Fatalf("%s shows the UTC time", tc.url)
				}
			})
		}
	})
}

// datalists matches the suggestion lists of time fields.
var datalists = regexp.MustCompile(`(?s)<datalist.*?</datalist>`)
