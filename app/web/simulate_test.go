package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// addAppointment books one appointment tomorrow for p.
func (a *smscxTestApp) addAppointment(p *models.Patient, l *models.Location) *models.Appointment {
	a.t.Helper()
	appt, err := a.clinic.CreateAppointment(context.Background(), models.SystemActor(), clinic.AppointmentInput{
		PatientID: p.ID, LocationID: l.ID, StartsAt: a.now.Add(25 * time.Hour), DurationMinutes: 30,
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return appt
}

func TestSimulateReply(t *testing.T) {
	a := newSMSCXTestApp(t, smscxSetup{simulating: true})
	loc := a.addLocation("Main", "UTC", "US")
	p := a.addPatient("Ada", "Lovelace", "+12025550143")
	appt := a.addAppointment(p, loc)
	page := "/appointments/" + itoa(appt.ID)
	reply := page + "/simulate-reply"
	b := a.loggedIn("front@example.com", models.RoleStaff)

	t.Run("the appointment page offers the form and the banner", func(t *testing.T) {
		status, body := b.get(page)
		expectPage(t, "appointment", status, body, http.StatusOK, "Simulator mode", "Nothing reaches a phone",
			`id="simulate-reply"`, "Reply as the patient", `action="`+reply+`"`,
			`name="text" value="YES"`, `name="text" value="NO"`, `name="text" value="STOP"`)
	})

	sent := 0
	for _, tc := range []struct {
		name, text, want string
	}{
		{"quick YES", "YES", "YES"},
		{"quick NO", "NO", "NO"},
		{"typed, trimmed", "  yes please, see you  ", "yes please, see you"},
		{"unicode", "Oui, merci 👍", "Oui, merci 👍"},
		{"quick STOP", "STOP", "STOP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := b.post(reply, form("text", tc.text))
			expectRedirect(t, tc.name, resp, body, page)
			sent++
			got := a.hook.replies(t)
			if len(got) != sent {
				t.Fatalf("webhook got %d replies, want %d", len(got), sent)
			}
			in := got[len(got)-1]
			if in.From != "+12025550143" || in.To != "Clinic" || in.Text != tc.want || in.MsgID == "" || in.ReceivedAt == "" {
				t.Fatalf("receive_sms = %+v", in)
			}
			status, body := b.get(page)
			expectPage(t, tc.name, status, body, http.StatusOK, "Sent as the patient: "+tc.want)
		})
	}

	t.Run("refused replies post nothing", func(t *testing.T) {
		for _, tc := range []struct {
			name, text, flash string
		}{
			{"empty", "  ", "Type the patient's reply"},
			{"too long", strings.Repeat("y", replyMaxChars+1), "The reply is too long: at most 459 characters"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := b.post(reply, form("text", tc.text))
				expectRedirect(t, tc.name, resp, body, page)
				status, body := b.get(page)
				expectPage(t, tc.name, status, body, http.StatusOK, tc.flash, `class="flash error"`)
			})
		}
		if got := len(a.hook.replies(t)); got != sent {
			t.Fatalf("webhook got %d replies, want %d", got, sent)
		}
	})

	t.Run("missing CSRF token", func(t *testing.T) {
		resp, _ := b.post(reply, form("csrf_token", "", "text", "YES"))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("no CSRF: %d, want 403", resp.StatusCode)
		}
		if got := len(a.hook.replies(t)); got != sent {
			t.Fatal("a reply without a CSRF token was posted")
		}
	})

	t.Run("not logged in", func(t *testing.T) {
		anon := a.browser()
		anon.get("/login")
		resp, _ := anon.post(reply, form("text", "YES"))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("anonymous: %d, want 401", resp.StatusCode)
		}
		if got := len(a.hook.replies(t)); got != sent {
			t.Fatal("an anonymous reply was posted")
		}
	})

	t.Run("unknown appointment", func(t *testing.T) {
		for _, id := range []string{"999", "abc"} {
			resp, body := b.post("/appointments/"+id+"/simulate-reply", form("text", "YES"))
			expectPage(t, "appointment "+id, resp.StatusCode, body, http.StatusNotFound, "Not found")
		}
	})

	t.Run("the webhook refuses", func(t *testing.T) {
		a.hook.setStatus(http.StatusInternalServerError)
		defer a.hook.setStatus(http.StatusOK)
		resp, body := b.post(reply, form("text", "YES"))
		expectRedirect(t, "refused", resp, body, page)
		status, body := b.get(page)
		expectPage(t, "refused", status, body, http.StatusOK, "could not deliver the reply", `class="flash error"`)
		if strings.Contains(body, "hooksecret") || strings.Contains(body, "Sent as the patient") {
			t.Fatal("the page shows the webhook secret or claims success")
		}
	})
}

func TestSimulateReplyLiveMode(t *testing.T) {
	a := newSMSCXTestApp(t, smscxSetup{})
	loc := a.addLocation("Main", "UTC", "US")
	p := a.addPatient("Ada", "Lovelace", "+12025550143")
	appt := a.addAppointment(p, loc)
	page := "/appointments/" + itoa(appt.ID)
	b := a.loggedIn("front@example.com", models.RoleStaff)

	status, body := b.get(page)
	expectPage(t, "appointment", status, body, http.StatusOK, p.FirstName)
	for _, s := range []string{"Reply as the patient", "simulate-reply", "Simulator mode"} {
		if strings.Contains(body, s) {
			t.Fatalf("live mode page shows %q", s)
		}
	}
	resp, body := b.post(page+"/simulate-reply", form("text", "YES"))
	expectPage(t, "live reply", resp.StatusCode, body, http.StatusNotFound, "Not found")
	if got := len(a.hook.replies(t)); got != 0 {
		t.Fatalf("live mode posted %d replies", got)
	}
}
