package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// The dashboard opens with today's appointments that need a person, each
// for its reason, with its one-click actions; the nav counts the inbox; an
// appointment whose reply waits says so at the top of its page.
func TestWhoNeedsChasing(t *testing.T) {
	f := newInboxFixture(t)
	a := f.a
	ctx := context.Background()
	// Today in Berlin is 2 March; it is 10:00 there.
	book := func(first, phone string, in time.Duration) *models.Appointment {
		p := a.addPatient(first, "Weber", phone)
		ap, err := a.clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{PatientID: p.ID, StartsAt: a.now.Add(in), DurationMinutes: 30})
		if err != nil {
			t.Fatal(err)
		}
		return ap
	}
	message := func(ap *models.Appointment, status models.MessageStatus) {
		sent := a.now.Add(-time.Hour)
		m := &models.Message{
			UUID: uuid.NewString(), AppointmentID: &ap.ID, PatientID: &ap.PatientID, RuleName: "24h", Kind: models.KindReminder,
			To: "+4915100000000", Body: "Reminder", Status: status, SendAt: sent, SentAt: &sent,
		}
		if err := a.store.DB(ctx).Create(m).Error; err != nil {
			t.Fatal(err)
		}
	}
	replied := book("Lena", "+4915123450001", 3*time.Hour)
	in := f.item(f.patient.Phone, "Kann ich später kommen?")
	if err := a.store.DB(ctx).Model(in).Update("appointment_id", replied.ID).Error; err != nil {
		t.Fatal(err)
	}
	failed := book("Jonas", "+4915123450002", 4*time.Hour)
	message(failed, models.MsgFailed)
	silent := book("Mia", "+4915123450003", 5*time.Hour)
	message(silent, models.MsgDelivered)
	fine := book("Paul", "+4915123450004", 6*time.Hour)
	message(fine, models.MsgDelivered)
	if _, err := a.clinic.Confirm(ctx, models.SystemActor(), fine.ID, "staff"); err != nil {
		t.Fatal(err)
	}
	tomorrow := book("Emma", "+4915123450005", 26*time.Hour)
	message(tomorrow, models.MsgFailed)

	b := a.loggedIn("desk@example.com", models.RoleStaff)
	status, body := b.get("/")
	expectPage(t, "dashboard", status, body, http.StatusOK,
		`id="chase-`+itoa(replied.ID)+`"`, "reply needs an answer", `href="/inbox#inbox-`+itoa(in.ID)+`"`,
		`id="chase-`+itoa(failed.ID)+`"`, "a message failed", `href="tel:+4915123450002"`,
		`id="chase-`+itoa(silent.ID)+`"`, "not confirmed after the last reminder",
		`action="/appointments/`+itoa(silent.ID)+`/confirm"`, `name="next" value="/"`,
		`data-inbox-count>1<`)
	for _, ap := range []*models.Appointment{fine, tomorrow} {
		if strings.Contains(body, fmt.Sprintf(`id="chase-%d"`, ap.ID)) {
			t.Errorf("appointment %d is listed to chase", ap.ID)
		}
	}
	// The live fragment carries the list and its token too.
	status, frag := b.get("/dashboard/body")
	expectPage(t, "fragment", status, frag, http.StatusOK, `id="chase-`+itoa(silent.ID)+`"`, `name="csrf_token" value="`)

	// Confirm in one click goes back to the dashboard; a foreign "next" is not followed.
	for _, tc := range []struct {
		ap   *models.Appointment
		next string
	}{{silent, "/"}, {failed, "//evil.example/"}} {
		resp, body := b.post("/appointments/"+itoa(tc.ap.ID)+"/confirm", url.Values{"next": {tc.next}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("confirm with next=%q: %d to %q %s", tc.next, resp.StatusCode, resp.Header.Get("Location"), excerpt(body))
		}
		if st := f.status(tc.ap); st != models.Confirmed {
			t.Fatalf("after confirm: %s", st)
		}
	}
	_, body = b.get("/")
	if strings.Contains(body, `id="chase-`+itoa(silent.ID)+`"`) {
		t.Error("a confirmed appointment is still listed to chase")
	}

	// The nav's count, as live.js asks for it.
	status, count := b.get("/inbox/count")
	if status != http.StatusOK || count != "1" {
		t.Fatalf("/inbox/count: %d %q", status, count)
	}

	// The banner on the page of the appointment whose reply waits, only there.
	status, body = b.get("/appointments/" + itoa(replied.ID))
	expectPage(t, "appointment", status, body, http.StatusOK, `id="attention-banner"`, `href="/inbox#inbox-`+itoa(in.ID)+`"`)
	_, body = b.get("/appointments/" + itoa(failed.ID))
	if strings.Contains(body, "attention-banner") {
		t.Error("the banner shows on an appointment whose reply does not wait")
	}
	// Handled, the reply no longer asks for anyone.
	if err := a.store.DB(ctx).Model(in).Updates(map[string]any{"handled_at": a.now}).Error; err != nil {
		t.Fatal(err)
	}
	_, body = b.get("/appointments/" + itoa(replied.ID))
	if strings.Contains(body, "attention-banner") {
		t.Error("the banner stays after the reply was handled")
	}
	if _, count := b.get("/inbox/count"); count != "0" {
		t.Errorf("/inbox/count after handling: %q", count)
	}
}
