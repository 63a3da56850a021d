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
	"apptconfirm/app/inbox"
	"apptconfirm/app/reschedule"
	"apptconfirm/app/slots"
	"apptconfirm/models"
)

// The appointment page offers the finder's first free times, editable;
// sending them puts the appointment into reschedule_requested and queues
// the numbered SMS; bad or taken times are refused with the reason and
// nothing is sent.
func TestOfferFromTheAppointmentPage(t *testing.T) {
	var rs *reschedule.Service
	a := newTestApp(t, withPlanning(), withDeps(func(a *testApp, d *Deps) {
		now := func() time.Time { return a.now }
		av := availability.New(a.store, availability.Options{Now: now})
		rs = reschedule.New(a.store, a.clinic, a.ob, av, reschedule.Options{Now: now})
		d.Offers = rs
		d.Inbox = inbox.New(a.store, a.clinic, a.ob, rs, now)
	}))
	ctx := context.Background()
	loc := a.addLocation("Main St", "Europe/Paris", "FR")
	h, err := slots.ParseHours("mon-sun 09:00-17:00", "")
	if err != nil {
		t.Fatal(err)
	}
	av := availability.New(a.store, availability.Options{Now: func() time.Time { return a.now }})
	if _, err := av.SaveSchedule(ctx, models.SystemActor(), availability.LocationOwner(loc.ID), availability.ScheduleInput{Hours: h}); err != nil {
		t.Fatal(err)
	}
	p := a.addPatient("Anna", "Martin", "+33612345678")
	other := a.addPatient("Ben", "Roy", "+33698765432")
	book := func(pid uint, local string) *models.Appointment {
		ap, err := a.clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{
			PatientID: pid, LocationID: loc.ID, StartsLocal: local, DurationMinutes: 30,
		})
		if err != nil {
			t.Fatal(err)
		}
		return ap
	}
	appt := book(p.ID, "2026-03-05T10:00")
	book(other.ID, "2026-03-03T11:00")
	b := a.loggedIn("desk@example.com", models.RoleStaff)

	// Now is Monday 2 March, 10:00 in Paris: the first free times follow.
	code, body := b.get(fmt.Sprintf("/appointments/%d", appt.ID))
	if code != http.StatusOK {
		t.Fatalf("page: %d", code)
	}
	for _, want := range []string{`id="offer"`, `value="2026-03-02"`, `value="10:00"`, `value="10:15"`, `value="10:30"`, "The first free times"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the page lacks %q", want)
		}
	}

	// Each time goes as a date field and a time field, as the page sends
	// them ("2026-03-04T14:30" is typed as 2026-03-04 and 14:30).
	post := func(values ...string) (*http.Response, string) {
		f := url.Values{}
		for _, v := range values {
			date, tod, ok := strings.Cut(v, "T")
			if !ok {
				date, tod = "", v
			}
			f.Add("starts_at_date", date)
			f.Add("starts_at_time", tod)
		}
		return b.post(fmt.Sprintf("/appointments/%d/offers", appt.ID), f)
	}
	offers := func() []models.Message {
		var ms []models.Message
		a.store.DB(ctx).Where("appointment_id = ? AND kind = ?", appt.ID, models.KindRescheduleOffer).Order("id").Find(&ms)
		return ms
	}
	for _, tc := range []struct {
		name   string
		values []string
		want   string
	}{
		{"not a time", []string{"2026-03-03Ttomorrow", ""}, `Time 1: “tomorrow” is not a time of day: write it like 14:30.`},
		{"no date", []string{"", "10:00"}, `Time 2 has a time but no date.`},
		{"taken", []string{"2026-03-03T11:00"}, "Tue 3 Mar 11:00 is taken"},
		{"outside hours", []string{"2026-03-03T20:00"}, "is outside working hours"},
		{"none", []string{"", "", ""}, "give 1 to 3 times"},
	} {
		resp, body := post(tc.values...)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
			t.Fatalf("%s: %d, want 422 saying %q", tc.name, resp.StatusCode, tc.want)
		}
	}
	if n := len(offers()); n != 0 {
		t.Fatalf("%d offers sent by refused forms", n)
	}

	resp, _ := post("2026-03-04T14:30", "", "2026-03-03T09:00")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", resp.StatusCode)
	}
	sent := offers()
	if len(sent) != 1 || sent[0].Body != "Hi Anna, here are other times at Main St. Reply 1 for Tue 9:00 AM, 2 for Wed 2:30 PM." {
		t.Fatalf("offers %+v", sent)
	}
	got, err := a.clinic.GetAppointment(ctx, appt.ID)
	if err != nil || got.Status != models.RescheduleRequested {
		t.Fatalf("appointment %+v %v", got, err)
	}
	_, body = b.get(fmt.Sprintf("/appointments/%d", appt.ID))
	if !strings.Contains(body, "data-open-offer") || !strings.Contains(body, "Tue 3 Mar 09:00") {
		t.Fatal("the page does not show the open offer")
	}

	// The patient's request in the inbox is labelled and links to the form.
	in := &models.InboundMessage{
		ProviderID: "in-1", From: p.Phone, Text: "Can I reschedule?", ReceivedAt: a.now, CreatedAt: a.now,
		PatientID: &p.ID, AppointmentID: &appt.ID, Intent: "reschedule", NeedsAttention: true,
	}
	if err := a.store.DB(ctx).Create(in).Error; err != nil {
		t.Fatal(err)
	}
	_, body = b.get("/inbox")
	if !strings.Contains(body, `data-label="wants-another-time"`) || !strings.Contains(body, fmt.Sprintf(`href="/appointments/%d#offer"`, appt.ID)) {
		t.Fatal("the inbox does not label the request or link to the offer form")
	}
	// The inbox has the form too, prefilled; sending from it replaces the
	// open offer and takes the message out of the inbox.
	if !strings.Contains(body, "data-offer-form") || !strings.Contains(body, `name="starts_at_date" type="date" value="2026-03-02"`) ||
		!strings.Contains(body, `name="starts_at_time" type="text" value="10:00"`) {
		t.Fatal("the inbox lacks the prefilled offer form")
	}
	resp, _ = b.post(fmt.Sprintf("/inbox/%d/offer", in.ID), url.Values{
		"appointment_id": {fmt.Sprint(appt.ID)}, "starts_at": {"2026-03-03T10:00", "", ""},
	})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send from the inbox: %d", resp.StatusCode)
	}
	sent = offers()
	if len(sent) != 2 || sent[1].Body != "Hi Anna, here are other times at Main St. Reply 1 for Tue 10:00 AM." {
		t.Fatalf("offers after the inbox %+v", sent)
	}
	var handled models.InboundMessage
	if err := a.store.DB(ctx).First(&handled, in.ID).Error; err != nil || handled.HandledAt == nil || !strings.Contains(handled.HandledNote, "Offered 1 new time") {
		t.Fatalf("inbox item after the offer %+v %v", handled, err)
	}
}
