package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/conversation"
	"apptconfirm/app/delivery"
	"apptconfirm/app/reschedule"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// idOf is the id at the end of a redirect to /prefix/{id}.
func idOf(t *testing.T, resp *http.Response, prefix string) uint {
	t.Helper()
	loc := resp.Header.Get("Location")
	rest, ok := strings.CutPrefix(loc, prefix)
	if !ok {
		t.Fatalf("redirect to %q, want %s{id}", loc, prefix)
	}
	n, err := strconv.ParseUint(rest, 10, 32)
	if err != nil {
		t.Fatalf("redirect to %q: %v", loc, err)
	}
	return uint(n)
}

// messagesOf returns the appointment's reminders by rule name, the latest
// of each.
func messagesOf(t *testing.T, a *testApp, apptID uint) map[string]models.Message {
	t.Helper()
	var ms []models.Message
	if err := a.store.DB(context.Background()).Where("appointment_id = ? AND kind = ?", apptID, models.KindReminder).Order("id").Find(&ms).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]models.Message{}
	for _, m := range ms {
		out[m.RuleName] = m
	}
	return out
}

// ruleID finds a rule by name.
func ruleID(t *testing.T, a *testApp, name string) uint {
	t.Helper()
	var r models.ReminderRule
	if err := a.store.DB(context.Background()).Where("name = ?", name).Take(&r).Error; err != nil {
		t.Fatalf("rule %q: %v", name, err)
	}
	return r.ID
}

func idStr(id uint) string { return strconv.FormatUint(uint64(id), 10) }

// A rule limited to a type and a location plans only for appointments of
// that type there, and one limited to a provider only for theirs; a type
// changed later cancels the reminder with the reason. Types are made on
// their admin page, the rules in the editor, the appointments in the
// booking form, whose type fills the length; the appointment page says
// why each reminder was planned.
func TestScopedRules(t *testing.T) {
	f := newRemindersFixture(t)
	a := f.a
	ctx := context.Background()
	admin := a.loggedIn("boss@example.com", models.RoleAdmin)

	for _, ty := range [][3]string{{"Check-up", "20", "#2563eb"}, {"Cleaning", "45", "#FDE047"}} {
		resp, body := admin.post("/admin/types", form("name", ty[0], "default_duration_minutes", ty[1], "colour", ty[2]))
		expectRedirect(t, "create type "+ty[0], resp, body, "/admin/types")
	}
	resp, body := admin.post("/admin/types", form("name", "check-UP", "default_duration_minutes", "10", "colour", "#000"))
	expectPage(t, "duplicate type", resp.StatusCode, body, http.StatusUnprocessableEntity,
		"Name is already used by another appointment type")
	resp, body = admin.post("/admin/types", form("name", "X-ray", "default_duration_minutes", "2", "colour", "blue"))
	expectPage(t, "invalid type", resp.StatusCode, body, http.StatusUnprocessableEntity,
		"Colour must be a colour such as #2563eb", "Default length (minutes) must be from 5 to 1440 minutes")
	checkup, err := a.store.AppointmentTypeByName(ctx, "Check-up")
	if err != nil {
		t.Fatal(err)
	}
	cleaning, err := a.store.AppointmentTypeByName(ctx, "Cleaning")
	if err != nil || cleaning.Colour != "#fde047" {
		t.Fatalf("cleaning = %+v, %v", cleaning, err)
	}
	status, body := admin.get("/admin/types")
	expectPage(t, "types page", status, body, http.StatusOK, "Check-up", "20 min", "Cleaning", "45 min")
	status, body = admin.get("/admin")
	expectPage(t, "admin index", status, body, http.StatusOK, `href="/admin/types"`, "Appointment types")
	status, body = admin.get("/appointment-types.css")
	// Dark text on the light yellow, white on the blue: both readable.
	expectPage(t, "type colours", status, body, http.StatusOK,
		".type-c"+idStr(checkup.ID)+"{background:#2563eb;color:#ffffff}",
		".type-c"+idStr(cleaning.ID)+"{background:#fde047;color:#000000}")

	main, err := a.store.DefaultLocation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lyon := a.addLocation("Lyon", "Europe/Paris", "FR")
	kim, err := a.clinic.CreateProvider(ctx, models.SystemActor(), clinic.ProviderInput{Name: "Dr Kim", Active: true})
	if err != nil {
		t.Fatal(err)
	}

	rule := url.Values{
		"name": {"Check-up eve"}, "timing": {"before"}, "before": {"20h"}, "enabled": {"1"},
		"type_ids": {idStr(checkup.ID)}, "location_ids": {idStr(main.ID)}, "action": {"save"},
	}
	resp, body = admin.post("/admin/rules", rule)
	expectRedirect(t, "scoped rule", resp, body, "/admin/texts/*")
	rule = url.Values{
		"name": {"Kim eve"}, "timing": {"before"}, "before": {"18h"}, "enabled": {"1"},
		"provider_ids": {idStr(kim.ID)}, "action": {"save"},
	}
	resp, body = admin.post("/admin/rules", rule)
	expectRedirect(t, "provider rule", resp, body, "/admin/texts/*")
	rule = url.Values{
		"name": {"Bad"}, "timing": {"before"}, "before": {"18h"}, "enabled": {"1"},
		"provider_ids": {"999"}, "type_ids": {"998"}, "action": {"save"},
	}
	resp, body = admin.post("/admin/rules", rule)
	expectPage(t, "unknown scope", resp.StatusCode, body, http.StatusUnprocessableEntity,
		"Providers must list existing providers only", "Types must list existing appointment types only")
	status, body = admin.get("/admin/rules")
	expectPage(t, "rule list", status, body, http.StatusOK, "Only types Check-up; locations Main St", "Only providers Dr Kim")

	staff := a.loggedIn("front@example.com", models.RoleStaff)
	status, body = staff.get("/admin/types")
	expectPage(t, "staff on the types page", status, body, http.StatusForbidden)
	if resp, _ := staff.post("/admin/types", form("name", "Staff's", "default_duration_minutes", "10")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("staff create a type: %d", resp.StatusCode)
	}
	// Each visit for another patient: the caps count a patient's
	// reminders across their appointments.
	n := 0
	book := func(loc *models.Location, typ *models.AppointmentType, prov *models.Provider) uint {
		t.Helper()
		n++
		p := a.addPatient("Pat"+strconv.Itoa(n), "Test", "+3361234567"+strconv.Itoa(n))
		v := form("patient_id", idStr(p.ID), "location_id", idStr(loc.ID), "starts_at", "2026-03-05T10:00", "allow_busy", "1")
		if typ != nil {
			v.Set("appointment_type_id", idStr(typ.ID))
		} else {
			v.Set("duration_minutes", "30")
		}
		if prov != nil {
			v.Set("provider_id", idStr(prov.ID))
		}
		resp, body := staff.post("/appointments", v)
		expectRedirect(t, "book", resp, body, "/appointments/*")
		return idOf(t, resp, "/appointments/")
	}
	checkupHere := book(main, checkup, nil)
	cleaningHere := book(main, cleaning, nil)
	checkupLyon := book(lyon, checkup, nil)
	withKim := book(main, nil, kim)

	got, err := a.store.Appointment(ctx, checkupHere)
	if err != nil || got.DurationMinutes != 20 || got.AppointmentTypeID == nil || *got.AppointmentTypeID != checkup.ID {
		t.Fatalf("booked check-up = %+v, %v (want the type's 20 minutes)", got, err)
	}
	for _, c := range []struct {
		appt         uint
		what         string
		checkup, kim bool
	}{
		{checkupHere, "check-up at Main St", true, false},
		{cleaningHere, "cleaning at Main St", false, false},
		{checkupLyon, "check-up at Lyon", false, false},
		{withKim, "with Dr Kim", false, true},
	} {
		ms := messagesOf(t, a, c.appt)
		if m, ok := ms["Check-up eve"]; ok != c.checkup || (ok && m.Status != models.MsgPlanned) {
			t.Errorf("%s: Check-up eve planned = %v (%+v), want %v", c.what, ok, m, c.checkup)
		}
		if m, ok := ms["Kim eve"]; ok != c.kim || (ok && m.Status != models.MsgPlanned) {
			t.Errorf("%s: Kim eve planned = %v (%+v), want %v", c.what, ok, m, c.kim)
		}
		if _, ok := ms["48h"]; !ok {
			t.Errorf("%s: the unscoped 48h rule is not planned", c.what)
		}
	}
	m := messagesOf(t, a, checkupHere)["Check-up eve"]
	if want := time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC); !m.SendAt.Equal(want) {
		t.Errorf("Check-up eve goes out %s, want %s", m.SendAt, want)
	}
	status, body = staff.get("/appointments/" + idStr(checkupHere))
	expectPage(t, "appointment page", status, body, http.StatusOK,
		"Why: Reminder 'Check-up eve' (type Check-up, Main St)", "Why: Reminder '48h'",
		`class="type-chip type-c`+idStr(checkup.ID)+`">Check-up</span>`)
	status, body = staff.get("/appointments/" + idStr(withKim))
	expectPage(t, "appointment page with Dr Kim", status, body, http.StatusOK, "Why: Reminder 'Kim eve' (Dr Kim)")
	status, body = staff.get("/appointments?view=day&date=2026-03-05")
	expectPage(t, "day view", status, body, http.StatusOK, `<span class="chip type-chip type-c`+idStr(checkup.ID)+`" data-type>Check-up</span>`)

	// The type changed: the scoped reminder no longer applies.
	resp, body = staff.post("/appointments/"+idStr(checkupHere), form("location_id", idStr(main.ID), "appointment_type_id", idStr(cleaning.ID),
		"starts_at", "2026-03-05T10:00", "duration_minutes", "20", "allow_busy", "1"))
	expectRedirect(t, "change the type", resp, body, "/appointments/"+idStr(checkupHere))
	m = messagesOf(t, a, checkupHere)["Check-up eve"]
	if m.Status != models.MsgCancelled || !strings.Contains(m.Reason, "does not apply to this appointment's type") {
		t.Fatalf("after the type changed: %s %q", m.Status, m.Reason)
	}
}

// A "day before at 10:00" rule falls at 10:00 on the local clock of the
// appointment's location, whatever the clocks did in between: across the
// spring and autumn changes of New York and of Paris (which change on
// other dates), where a fixed offset would be an hour off.
func TestFixedTimeRuleAcrossDaylightSaving(t *testing.T) {
	f := newRemindersFixture(t)
	a := f.a
	ctx := context.Background()
	admin := a.loggedIn("boss@example.com", models.RoleAdmin)
	// The shipped rules would share the reminder's day (a cap of one a
	// day): leave the new rule alone.
	f.disableShippedRules(t)
	resp, body := admin.post("/admin/rules", form("name", "Two days before at 10", "timing", "day_before", "days_before", "2", "local_time", "10:00", "enabled", "1"))
	expectRedirect(t, "fixed rule", resp, body, "/admin/texts/*")
	resp, body = admin.post("/admin/rules", form("name", "Bad time", "timing", "day_before", "days_before", "31", "local_time", "25:00", "enabled", "1"))
	expectPage(t, "invalid fixed rule", resp.StatusCode, body, http.StatusUnprocessableEntity,
		"Days before must be a whole number from 0 to 30", "must be a time such as 10:00")
	status, body := admin.get("/admin/rules")
	expectPage(t, "rule list", status, body, http.StatusOK, "2 days before at 10:00")

	paris, err := a.store.DefaultLocation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ny := a.addLocation("Brooklyn", "America/New_York", "US")
	staff := a.loggedIn("front@example.com", models.RoleStaff)
	for _, c := range []struct {
		what  string
		loc   *models.Location
		start string
		want  time.Time
	}{
		// Clocks go forward on Sun 8 March in New York: Sat 7 March 10:00
		// is still EST (UTC-5); the appointment is in EDT (UTC-4).
		{"New York, spring", ny, "2026-03-09T09:00", time.Date(2026, 3, 7, 15, 0, 0, 0, time.UTC)},
		// Clocks go back on Sun 1 November: Sat 31 October 10:00 is EDT.
		{"New York, autumn", ny, "2026-11-02T09:00", time.Date(2026, 10, 31, 14, 0, 0, 0, time.UTC)},
		// Paris goes forward on Sun 29 March: Sat 28 March 10:00 is CET.
		{"Paris, spring", paris, "2026-03-30T09:00", time.Date(2026, 3, 28, 9, 0, 0, 0, time.UTC)},
		// Paris goes back on Sun 25 October: Sat 24 October 10:00 is CEST.
		{"Paris, autumn", paris, "2026-10-26T09:00", time.Date(2026, 10, 24, 8, 0, 0, 0, time.UTC)},
		// The change itself between: Mon 9 March 10:00 EDT for Wed 11 March.
		{"New York, just after", ny, "2026-03-11T08:00", time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC)},
	} {
		t.Run(c.what, func(t *testing.T) {
			resp, body := staff.post("/appointments", form("patient_id", idStr(f.patient.ID), "location_id", idStr(c.loc.ID),
				"starts_at", c.start, "duration_minutes", "30", "allow_busy", "1"))
			expectRedirect(t, "book", resp, body, "/appointments/*")
			id := idOf(t, resp, "/appointments/")
			m, ok := messagesOf(t, a, id)["Two days before at 10"]
			if !ok || m.Status != models.MsgPlanned {
				t.Fatalf("not planned: %+v", messagesOf(t, a, id))
			}
			if !m.SendAt.Equal(c.want) {
				t.Fatalf("goes out %s, want %s (10:00 in %s)", m.SendAt, c.want, c.loc.TimeZone)
			}
			if got := m.SendAt.In(c.loc.Zone()).Format("15:04"); got != "10:00" {
				t.Fatalf("local time %s", got)
			}
			_, body = staff.get("/appointments/" + idStr(id))
			expectPage(t, "page", http.StatusOK, body, http.StatusOK, "Why: Reminder 'Two days before at 10'", "10:00")
		})
	}
}

// A nudge "2 h after the reminder, if the patient opened the link but has
// not confirmed" is planned once the reminder is, judged when it comes
// due: sent through the gateway when the link was opened and the
// appointment is still unconfirmed; skipped, with the reason on the
// appointment page, when it was never opened or when the patient
// confirmed meanwhile.
func TestNudgeOnSignal(t *testing.T) {
	f := newRemindersFixture(t)
	a := f.a
	ctx := context.Background()
	admin := a.loggedIn("boss@example.com", models.RoleAdmin)
	staff := a.loggedIn("front@example.com", models.RoleStaff)
	f.disableShippedRules(t)
	resp, body := admin.post("/admin/rules", form("name", "Day before", "timing", "before", "before", "20h", "enabled", "1"))
	expectRedirect(t, "reminder rule", resp, body, "/admin/texts/*")
	reminder := ruleID(t, a, "Day before")
	resp, body = admin.post("/admin/rules", form("name", "Opened, not confirmed", "timing", "nudge", "after_rule_id", idStr(reminder),
		"after", "2h", "signal", "clicked_not_confirmed", "enabled", "1"))
	expectRedirect(t, "nudge rule", resp, body, "/admin/texts/*")
	resp, body = admin.post("/admin/rules", form("name", "Bad nudge", "timing", "nudge", "after", "9d", "signal", "maybe", "enabled", "1"))
	expectPage(t, "invalid nudge", resp.StatusCode, body, http.StatusUnprocessableEntity,
		"The reminder it follows is required (the reminder this nudge follows)", "must be from 1m to 7d", "Sent only if must be")
	status, body := admin.get("/admin/rules")
	expectPage(t, "rule list", status, body, http.StatusOK, "2 h after 'Day before', if link opened, not confirmed")

	reports := delivery.New(a.store, a.ob, a.clinic, func() time.Time { return a.now })
	// book books a visit on Thu 5 March at 10:00 Paris (09:00 UTC) for a
	// new patient: the reminder goes at 13:00 UTC the day before, the
	// nudge at 15:00.
	n := 0
	book := func() (uint, *models.Patient) {
		n++
		p := a.addPatient("Pat"+strconv.Itoa(n), "Test", "+3361234567"+strconv.Itoa(n))
		resp, body := staff.post("/appointments", form("patient_id", idStr(p.ID), "starts_at", "2026-03-05T10:00", "duration_minutes", "30", "allow_busy", "1"))
		expectRedirect(t, "book", resp, body, "/appointments/*")
		return idOf(t, resp, "/appointments/"), p
	}
	opened, openedPatient := book()
	confirmed, _ := book()
	ignored, _ := book()
	for _, id := range []uint{opened, confirmed, ignored} {
		ms := messagesOf(t, a, id)
		r, n := ms["Day before"], ms["Opened, not confirmed"]
		if r.Status != models.MsgPlanned || !r.SendAt.Equal(time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC)) ||
			n.Status != models.MsgPlanned || !n.SendAt.Equal(time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)) {
			t.Fatalf("appointment %d planned: %+v", id, ms)
		}
		if n.PlannedBecause != "Nudge 'Opened, not confirmed': link opened, not confirmed, 2 h after the reminder 'Day before'" {
			t.Fatalf("nudge because %q", n.PlannedBecause)
		}
	}

	// Tomorrow's sends say why each is planned.
	a.now = time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	status, body = staff.get("/upcoming")
	expectPage(t, "tomorrow's sends", status, body, http.StatusOK, "Why: Reminder 'Day before'",
		"Why: Nudge 'Opened, not confirmed': link opened, not confirmed, 2 h after the reminder 'Day before'")

	// The reminders go out through the gateway at their time.
	a.now = time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC)
	sendNow := func(id uint) *http.Response {
		t.Helper()
		resp, _ := staff.post("/upcoming/"+idStr(id)+"/send", nil)
		return resp
	}
	for _, id := range []uint{opened, confirmed, ignored} {
		sendNow(messagesOf(t, a, id)["Day before"].ID)
		if st := messagesOf(t, a, id)["Day before"].Status; st != models.MsgAccepted && st != models.MsgSent {
			t.Fatalf("reminder of %d: %s", id, st)
		}
	}
	if got := len(f.fake.Messages()); got != 3 {
		t.Fatalf("%d messages at the gateway, want 3", got)
	}

	// One patient opens the link (SMS.CX's short-link hit), another
	// confirms on the appointment page.
	a.now = a.now.Add(30 * time.Minute)
	hit, _ := json.Marshal(smscx.Hit{HitID: 1, ShortlinkID: "sl-1", PhoneNumber: openedPatient.Phone, Datetime: a.now.Format(time.RFC3339)})
	if res, err := reports.Apply(ctx, smscx.EventShortlinkHit, hit); err != nil || !strings.Contains(res.Text, "recorded on appointment "+idStr(opened)) {
		t.Fatalf("hit: %+v %v", res, err)
	}
	resp, body = staff.post("/appointments/"+idStr(confirmed)+"/confirm", nil)
	expectRedirect(t, "confirm", resp, body, "/appointments/"+idStr(confirmed))

	// The nudges come due.
	a.now = time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
	for _, id := range []uint{opened, ignored} {
		sendNow(messagesOf(t, a, id)["Opened, not confirmed"].ID)
	}
	if m := messagesOf(t, a, opened)["Opened, not confirmed"]; m.Status != models.MsgAccepted && m.Status != models.MsgSent {
		t.Fatalf("opened, not confirmed: nudge %s %q", m.Status, m.Reason)
	} else if want := "Hi Pat1, see you tomorrow at 10:00 AM at Main St. Reply YES to confirm or NO to cancel."; m.Body != want {
		// A new nudge starts with the shipped "shortly before" text.
		t.Fatalf("the nudge reads %q, want %q", m.Body, want)
	}
	if got := len(f.fake.Messages()); got != 4 {
		t.Fatalf("%d messages at the gateway, want 4", got)
	}
	if m := messagesOf(t, a, ignored)["Opened, not confirmed"]; m.Status != models.MsgSkipped || m.Reason != "the patient had not opened the link when the nudge was due" {
		t.Fatalf("never opened: nudge %s %q", m.Status, m.Reason)
	}
	if m := messagesOf(t, a, confirmed)["Opened, not confirmed"]; m.Status != models.MsgSkipped || m.Reason != "the appointment is already confirmed" {
		t.Fatalf("confirmed: nudge %s %q", m.Status, m.Reason)
	}
	_, body = staff.get("/appointments/" + idStr(opened))
	expectPage(t, "opened page", http.StatusOK, body, http.StatusOK,
		"Why: Nudge 'Opened, not confirmed': link opened, not confirmed, 2 h after the reminder 'Day before'")
	_, body = staff.get("/appointments/" + idStr(ignored))
	expectPage(t, "ignored page", http.StatusOK, body, http.StatusOK, "the patient had not opened the link when the nudge was due")
	_, body = staff.get("/appointments/" + idStr(confirmed))
	expectPage(t, "confirmed page", http.StatusOK, body, http.StatusOK, "the appointment is already confirmed")
}

// A nudge on "delivered, no reply" goes out when SMS.CX reported the
// reminder delivered and the patient said nothing since; it is skipped
// when the patient replied, or when no delivery report came.
func TestNudgeDeliveredNoReply(t *testing.T) {
	f := newRemindersFixture(t)
	a := f.a
	ctx := context.Background()
	admin := a.loggedIn("boss@example.com", models.RoleAdmin)
	staff := a.loggedIn("front@example.com", models.RoleStaff)
	f.disableShippedRules(t)
	resp, body := admin.post("/admin/rules", form("name", "Day before", "timing", "before", "before", "20h", "enabled", "1"))
	expectRedirect(t, "reminder rule", resp, body, "/admin/texts/*")
	resp, body = admin.post("/admin/rules", form("name", "No answer", "timing", "nudge", "after_rule_id", idStr(ruleID(t, a, "Day before")),
		"after", "3h", "signal", "delivered_no_reply", "enabled", "1"))
	expectRedirect(t, "nudge rule", resp, body, "/admin/texts/*")

	clock := func() time.Time { return a.now }
	reports := delivery.New(a.store, a.ob, a.clinic, clock)
	replies := conversation.New(a.store, a.clinic, a.ob, reschedule.New(a.store, a.clinic, a.ob, a.avail, reschedule.Options{Now: clock}), nil, clock)
	n := 0
	book := func() (uint, *models.Patient) {
		n++
		p := a.addPatient("Pat"+strconv.Itoa(n), "Test", "+3361234567"+strconv.Itoa(n))
		resp, body := staff.post("/appointments", form("patient_id", idStr(p.ID), "starts_at", "2026-03-05T10:00", "duration_minutes", "30", "allow_busy", "1"))
		expectRedirect(t, "book", resp, body, "/appointments/*")
		return idOf(t, resp, "/appointments/"), p
	}
	silent, _ := book()
	answered, answeredPatient := book()
	undelivered, _ := book()

	a.now = time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC)
	for _, id := range []uint{silent, answered, undelivered} {
		resp, _ := staff.post("/upcoming/"+idStr(messagesOf(t, a, id)["Day before"].ID)+"/send", nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("send now: %d", resp.StatusCode)
		}
	}
	a.now = a.now.Add(10 * time.Minute)
	for _, id := range []uint{silent, answered} {
		m := messagesOf(t, a, id)["Day before"]
		dlr, _ := json.Marshal(smscx.DLRUpdate{MsgID: m.ProviderID, Status: smscx.StatusDelivered, Datetime: a.now.Format(time.RFC3339)})
		if _, err := reports.Apply(ctx, smscx.EventDLRUpdate, dlr); err != nil {
			t.Fatal(err)
		}
		if got := messagesOf(t, a, id)["Day before"].Status; got != models.MsgDelivered {
			t.Fatalf("after the report: %s", got)
		}
	}
	a.now = a.now.Add(30 * time.Minute)
	in, _ := json.Marshal(smscx.ReceiveSMS{MsgID: "in-1", From: answeredPatient.Phone, To: "Clinic", Text: "Can I bring my son along?", ReceivedAt: a.now.Format(time.RFC3339)})
	if _, err := replies.Apply(ctx, smscx.EventReceiveSMS, in); err != nil {
		t.Fatal(err)
	}

	a.now = time.Date(2026, 3, 4, 16, 0, 0, 0, time.UTC)
	for _, id := range []uint{silent, answered, undelivered} {
		staff.post("/upcoming/"+idStr(messagesOf(t, a, id)["No answer"].ID)+"/send", nil)
	}
	for _, c := range []struct {
		id           uint
		what, reason string
	}{
		{silent, "delivered, no reply", ""},
		{answered, "replied", "the patient replied to the reminder"},
		{undelivered, "no delivery report", "the reminder it follows was not delivered"},
	} {
		m := messagesOf(t, a, c.id)["No answer"]
		switch {
		case c.reason == "" && m.Status != models.MsgAccepted && m.Status != models.MsgSent:
			t.Errorf("%s: nudge %s %q, want it sent", c.what, m.Status, m.Reason)
		case c.reason != "" && (m.Status != models.MsgSkipped || m.Reason != c.reason):
			t.Errorf("%s: nudge %s %q, want skipped: %s", c.what, m.Status, m.Reason, c.reason)
		}
	}
	_, body = staff.get("/appointments/" + idStr(answered))
	expectPage(t, "answered page", http.StatusOK, body, http.StatusOK,
		"Why: Nudge 'No answer': delivered, no reply, 3 h after the reminder 'Day before'", "the patient replied to the reminder")
}

// A nudge "12 h after the reminder" counts elapsed hours, so across a
// clock change its local time moves with the clock: a reminder at 20:00
// the evening before New York's spring change is nudged at 09:00 EDT (13 h
// later on the wall clock), one before Paris's autumn change at 07:00 CET
// (11 h later). When it comes due the signal is judged as on any day.
func TestNudgeAcrossDaylightSaving(t *testing.T) {
	f := newRemindersFixture(t)
	a := f.a
	ctx := context.Background()
	admin := a.loggedIn("boss@example.com", models.RoleAdmin)
	staff := a.loggedIn("front@example.com", models.RoleStaff)
	f.disableShippedRules(t)
	resp, body := admin.post("/admin/rules", form("name", "Evening before", "timing", "day_before", "days_before", "1", "local_time", "20:00", "enabled", "1"))
	expectRedirect(t, "reminder rule", resp, body, "/admin/texts/*")
	resp, body = admin.post("/admin/rules", form("name", "Opened overnight", "timing", "nudge", "after_rule_id", idStr(ruleID(t, a, "Evening before")),
		"after", "12h", "signal", "clicked_not_confirmed", "enabled", "1"))
	expectRedirect(t, "nudge rule", resp, body, "/admin/texts/*")
	reports := delivery.New(a.store, a.ob, a.clinic, func() time.Time { return a.now })

	for i, c := range []struct {
		what, zone, country, phone, start string
		reminder, nudge                   time.Time
		nudgeLocal                        string
	}{
		{
			"New York, spring forward", "America/New_York", "US", "+12125550147", "2026-03-08T11:00",
			time.Date(2026, 3, 8, 1, 0, 0, 0, time.UTC), time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC), "09:00",
		},
		{
			"Paris, fall back", "Europe/Paris", "FR", "+33612345670", "2026-10-25T12:00",
			time.Date(2026, 10, 24, 18, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 6, 0, 0, 0, time.UTC), "07:00",
		},
	} {
		t.Run(c.what, func(t *testing.T) {
			loc := a.addLocation("Site "+strconv.Itoa(i), c.zone, c.country)
			p := a.addPatient("Dana", "Lee", c.phone)
			a.now = c.reminder.Add(-72 * time.Hour)
			resp, body := staff.post("/appointments", form("patient_id", idStr(p.ID), "location_id", idStr(loc.ID),
				"starts_at", c.start, "duration_minutes", "30", "allow_busy", "1"))
			expectRedirect(t, "book", resp, body, "/appointments/*")
			id := idOf(t, resp, "/appointments/")
			ms := messagesOf(t, a, id)
			r, n := ms["Evening before"], ms["Opened overnight"]
			if r.Status != models.MsgPlanned || !r.SendAt.Equal(c.reminder) {
				t.Fatalf("reminder %s at %s, want planned at %s", r.Status, r.SendAt, c.reminder)
			}
			if n.Status != models.MsgPlanned || !n.SendAt.Equal(c.nudge) {
				t.Fatalf("nudge %s at %s, want planned at %s (12 h after the reminder)", n.Status, n.SendAt, c.nudge)
			}
			if got := n.SendAt.In(loc.Zone()).Format("15:04"); got != c.nudgeLocal {
				t.Fatalf("nudge at %s local, want %s", got, c.nudgeLocal)
			}

			a.now = c.reminder
			resp, _ = staff.post("/upcoming/"+idStr(r.ID)+"/send", nil)
			resp.Body.Close()
			if st := messagesOf(t, a, id)["Evening before"].Status; st != models.MsgAccepted && st != models.MsgSent {
				t.Fatalf("reminder %s", st)
			}
			a.now = c.reminder.Add(time.Hour)
			hit, _ := json.Marshal(smscx.Hit{HitID: int64(i + 1), ShortlinkID: "sl-" + strconv.Itoa(i), PhoneNumber: p.Phone, Datetime: a.now.Format(time.RFC3339)})
			if res, err := reports.Apply(ctx, smscx.EventShortlinkHit, hit); err != nil || !strings.Contains(res.Text, "recorded on appointment "+idStr(id)) {
				t.Fatalf("hit: %+v %v", res, err)
			}
			if got := messagesOf(t, a, id)["Opened overnight"].SendAt; !got.Equal(c.nudge) {
				t.Fatalf("after the reminder went out the nudge moved to %s", got)
			}
			a.now = c.nudge
			resp, _ = staff.post("/upcoming/"+idStr(n.ID)+"/send", nil)
			resp.Body.Close()
			if m := messagesOf(t, a, id)["Opened overnight"]; m.Status != models.MsgAccepted && m.Status != models.MsgSent {
				t.Fatalf("nudge %s %q", m.Status, m.Reason)
			}
		})
	}
}

// disableShippedRules turns off the shipped "48h" and "2h" rules, which
// would share the tested rule's day (a cap of one reminder a day).
func (f *remindersFixture) disableShippedRules(t *testing.T) {
	t.Helper()
	for _, name := range []string{"48h", "2h"} {
		if _, err := f.rem.SetRuleEnabled(context.Background(), models.SystemActor(), ruleID(t, f.a, name), false); err != nil {
			t.Fatal(err)
		}
	}
}
