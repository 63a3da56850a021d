package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// The conversation on the patient's and the appointment's pages: our texts
// with their ticks and the patient's replies, oldest first; the box sends
// a free text through the outbox, refusing an opted-out patient and the
// location's quiet hours.
func TestConversation(t *testing.T) {
	f := newInboxFixture(t)
	a := f.a
	a.server.sends = a.ob
	ctx := context.Background()
	ap := f.appts[0]
	reply := f.item(f.patient.Phone, "Kann ich später kommen?", ap)
	b := a.loggedIn("desk@example.com", models.RoleStaff)
	manual := func() []models.Message { return f.messages(models.KindManual) }

	status, body := b.get("/patients/" + itoa(f.patient.ID))
	expectPage(t, "patient", status, body, http.StatusOK, `id="conversation"`, `data-thread-reply="`+itoa(reply.ID)+`"`,
		"Kann ich später kommen?", "needs an answer", `action="/patients/`+itoa(f.patient.ID)+`/messages"`)

	// Sent from the appointment's page: it joins that appointment and goes back there.
	resp, out := b.post("/patients/"+itoa(f.patient.ID)+"/messages", url.Values{"text": {"  Ja, kein Problem.\r\nBis später!  "}, "appointment_id": {itoa(ap.ID)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/appointments/"+itoa(ap.ID)+"#conversation" {
		t.Fatalf("send: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), excerpt(out))
	}
	ms := manual()
	if len(ms) != 1 || ms[0].Body != "Ja, kein Problem.\nBis später!" || ms[0].To != f.patient.Phone ||
		ms[0].AppointmentID == nil || *ms[0].AppointmentID != ap.ID || ms[0].Status != models.MsgPlanned {
		t.Fatalf("queued: %+v", ms)
	}
	// Once sent and delivered it shows in the thread, with two ticks.
	sent := a.now.Add(time.Minute)
	if err := a.store.DB(ctx).Model(&ms[0]).Updates(map[string]any{"status": models.MsgDelivered, "sent_at": sent}).Error; err != nil {
		t.Fatal(err)
	}
	status, body = b.get("/appointments/" + itoa(ap.ID))
	expectPage(t, "appointment", status, body, http.StatusOK, `data-thread-message="`+itoa(ms[0].ID)+`"`, "✓✓", "delivered",
		`name="appointment_id" value="`+itoa(ap.ID)+`"`)
	if strings.Index(body, "Kann ich später kommen?") > strings.Index(body, "Bis später!") {
		t.Error("the thread is not oldest first")
	}

	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"empty", url.Values{"text": {"  "}}, "the message required"},
		{"too long", url.Values{"text": {strings.Repeat("a", 613)}}, "must be at most 612 characters"},
		{"someone else's appointment", url.Values{"text": {"Hallo"}, "appointment_id": {itoa(a.addAppointmentFor(t, "Other", "+4915199999999").ID)}}, "is not this patient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := b.post("/patients/"+itoa(f.patient.ID)+"/messages", tc.form)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d", resp.StatusCode)
			}
			_, page := b.get(resp.Header.Get("Location"))
			if !strings.Contains(page, tc.want) {
				t.Fatalf("no %q in the flash:\n%s", tc.want, excerpt(page))
			}
			if n := len(manual()); n != 1 {
				t.Fatalf("%d manual messages after a refused send", n)
			}
		})
	}

	// Quiet hours at the location: 23:00 in Berlin.
	if err := a.store.DB(ctx).Model(&models.Location{}).Where("id = ?", ap.LocationID).
		Updates(map[string]any{"quiet_start": "21:00", "quiet_end": "08:00"}).Error; err != nil {
		t.Fatal(err)
	}
	a.now = time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)
	resp, _ = b.post("/patients/"+itoa(f.patient.ID)+"/messages", url.Values{"text": {"Gute Nacht"}, "appointment_id": {itoa(ap.ID)}})
	_, page := b.get(resp.Header.Get("Location"))
	if !strings.Contains(page, "quiet hours at Main until 08:00") || len(manual()) != 1 {
		t.Fatalf("sent in quiet hours (%d manual):\n%s", len(manual()), excerpt(page))
	}
	a.now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	// Opted out: refused, and the box gives way to a word to call.
	if resp, _ := b.post("/patients/"+itoa(f.patient.ID)+"/opt-out", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("opt out: %d", resp.StatusCode)
	}
	resp, _ = b.post("/patients/"+itoa(f.patient.ID)+"/messages", url.Values{"text": {"Hallo?"}})
	_, page = b.get(resp.Header.Get("Location"))
	if !strings.Contains(page, "opted out of messages; call them instead") || len(manual()) != 1 {
		t.Fatalf("sent to an opted-out patient (%d manual)", len(manual()))
	}
	if strings.Contains(page, `action="/patients/`+itoa(f.patient.ID)+`/messages"`) {
		t.Error("the send box shows for an opted-out patient")
	}
}

// addAppointmentFor books an appointment tomorrow for a new patient.
func (a *testApp) addAppointmentFor(t *testing.T, first, phone string) *models.Appointment {
	t.Helper()
	p := a.addPatient(first, "Someone", phone)
	ap, err := a.clinic.CreateAppointment(context.Background(), models.SystemActor(), clinic.AppointmentInput{PatientID: p.ID, StartsAt: a.now.Add(24 * time.Hour), DurationMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// The inbox says why a reply is there and preselects the appointment it is
// most likely about: the one it was matched to, else the soonest.
func TestInboxSaysWhyAndPreselects(t *testing.T) {
	f := newInboxFixture(t)
	ctx := context.Background()
	two := f.item(f.patient.Phone, "Das passt mir nicht", f.appts[0], f.appts[1])
	matched := f.item(f.patient.Phone, "Ich komme etwas später", f.appts[0], f.appts[1])
	if err := f.a.store.DB(ctx).Model(matched).Update("appointment_id", f.appts[1].ID).Error; err != nil {
		t.Fatal(err)
	}
	unknown := f.item("+4915100000042", "Wer ist da?")
	b := f.a.loggedIn("desk@example.com", models.RoleStaff)
	status, body := b.get("/inbox")
	expectPage(t, "inbox", status, body, http.StatusOK, "Why it is here", "the patient has 2 upcoming appointments", "The number is not a patient")
	section := func(id uint) string {
		start := strings.Index(body, `id="inbox-`+itoa(id)+`"`)
		if start < 0 {
			t.Fatalf("item %d not shown", id)
		}
		end := strings.Index(body[start:], "</section>")
		return body[start : start+end]
	}
	for _, tc := range []struct {
		item *models.InboundMessage
		want *models.Appointment
	}{{two, f.appts[0]}, {matched, f.appts[1]}} {
		s := section(tc.item.ID)
		if !strings.Contains(s, `value="`+itoa(tc.want.ID)+`" checked`) || strings.Count(s, " checked") != 2 { // the radio and the notify box
			t.Errorf("item %d: want appointment %d preselected:\n%s", tc.item.ID, tc.want.ID, s)
		}
		if !strings.Contains(s, "(likely)") {
			t.Errorf("item %d does not say which is likely", tc.item.ID)
		}
	}
	if s := section(unknown.ID); strings.Contains(s, `type="radio"`) {
		t.Error("an unknown number offers appointments")
	}
}

// Completed and no-show are not offered before the visit begins.
func TestLaterActionsWaitForTheVisit(t *testing.T) {
	f := newInboxFixture(t)
	b := f.a.loggedIn("desk@example.com", models.RoleStaff)
	page := "/appointments/" + itoa(f.appts[0].ID)
	_, body := b.get(page)
	for _, action := range []string{"/complete", "/no-show"} {
		if strings.Contains(body, `action="`+page+action+`"`) {
			t.Errorf("%s offered before the visit", action)
		}
	}
	if !strings.Contains(body, "offered once the appointment has started") {
		t.Error("the page does not say when they are offered")
	}
	f.a.now = f.appts[0].StartsAt.Add(time.Minute)
	_, body = b.get(page)
	for _, action := range []string{"/complete", "/no-show"} {
		if !strings.Contains(body, `action="`+page+action+`"`) {
			t.Errorf("%s not offered once the visit began", action)
		}
	}
}

// A number another patient uses too is pointed out, with a link to them.
func TestSharedPhoneWarns(t *testing.T) {
	a := newTestApp(t)
	a.addLocation("Main", "Europe/Berlin", "DE")
	mum := a.addPatient("Anna", "Schmidt", "+4915123456789")
	kid := a.addPatient("Tom", "Schmidt", "+4915123456789")
	alone := a.addPatient("Eva", "Klein", "+4915123456000")
	b := a.loggedIn("desk@example.com", models.RoleStaff)
	status, body := b.get("/patients/" + itoa(kid.ID))
	expectPage(t, "patient", status, body, http.StatusOK, `id="same-phone"`, `href="/patients/`+itoa(mum.ID)+`">Anna Schmidt</a>`)
	if _, body := b.get("/patients/" + itoa(alone.ID)); strings.Contains(body, "same-phone") {
		t.Error("a patient with a number of their own is warned")
	}
}
