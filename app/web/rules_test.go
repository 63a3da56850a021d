package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/dispatch"
	"apptconfirm/app/reminders"
	"apptconfirm/app/smscx"
	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/app/wording"
	"apptconfirm/models"
)

// remindersFixture is a test app with the reminders planner and a
// dispatcher talking to the fake SMS.CX gateway, a default location in
// Paris (quiet hours 21:00-08:00), the default rules (48h; 2h only if
// unconfirmed) and one appointment tomorrow at 10:00 Paris time.
type remindersFixture struct {
	a       *testApp
	rem     *reminders.Service
	words   *wording.Service
	fake    *smscxtest.Server
	patient *models.Patient
	appt    *models.Appointment
}

func newRemindersFixture(t *testing.T, opts ...appOption) *remindersFixture {
	t.Helper()
	ctx := context.Background()
	f := &remindersFixture{}
	f.fake = smscxtest.NewServer(smscxtest.Options{NoAutoDLR: true})
	gw := httptest.NewServer(f.fake)
	t.Cleanup(func() {
		gw.Close()
		f.fake.Close()
	})
	client, err := smscx.New(smscx.Config{BaseURL: gw.URL, APIKey: smscxtest.DefaultAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, append([]appOption{withPlanning(), withDeps(func(a *testApp, d *Deps) {
		f.words = wording.New(a.store, a.ob, d.Now)
		f.rem = reminders.New(a.store, reminders.Options{Planner: a.ob, Texts: f.words, Now: d.Now})
		disp, err := dispatch.New(a.store, a.ob, dispatch.Options{Sender: client, From: "Clinic", CallbackURL: "http://example.test/webhooks/smscx/x", Now: d.Now, OptOut: a.clinic})
		if err != nil {
			t.Fatal(err)
		}
		d.Rules, d.Sends, d.Sender, d.Texts = f.rem, a.ob, disp, f.words
	})}, opts...)...)
	f.a = a
	err = a.clinic.EnsureDefaults(ctx, clinic.Defaults{ClinicName: "Main St", Timezone: "Europe/Paris", Country: "FR", QuietStart: "21:00", QuietEnd: "08:00"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.words.EnsureTexts(ctx); err != nil {
		t.Fatal(err)
	}
	f.patient = a.addPatient("Ada", "Lovelace", "+33612345678")
	f.appt, err = a.clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{PatientID: f.patient.ID, StartsLocal: "2026-03-03T10:00", DurationMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// planned returns the appointment's planned messages by rule name.
func (f *remindersFixture) planned(t *testing.T) map[string]models.Message {
	t.Helper()
	var ms []models.Message
	if err := f.a.store.DB(context.Background()).Where("appointment_id = ? AND status = ?", f.appt.ID, models.MsgPlanned).Find(&ms).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]models.Message{}
	for _, m := range ms {
		out[m.RuleName] = m
	}
	return out
}

func TestRuleEditor(t *testing.T) {
	f := newRemindersFixture(t)
	a := f.a
	admin := a.loggedIn("boss@example.com", models.RoleAdmin)
	staff := a.loggedIn("front@example.com", models.RoleStaff)
	rule48 := func() *models.ReminderRule {
		var r models.ReminderRule
		a.store.DB(context.Background()).Where("name = ?", "48h").Take(&r)
		return &r
	}()

	t.Run("staff are refused", func(t *testing.T) {
		status, body := staff.get("/admin/rules")
		expectPage(t, "staff list", status, body, http.StatusForbidden, "Admins only")
		before := a.count(&models.ReminderRule{})
		resp, _ := staff.post("/admin/rules", form("name", "x", "before", "1h", "enabled", "1", "action", "save"))
		if resp.StatusCode != http.StatusForbidden || a.count(&models.ReminderRule{}) != before {
			t.Fatalf("staff create: %d", resp.StatusCode)
		}
	})

	t.Run("list", func(t *testing.T) {
		status, body := admin.get("/admin/rules")
		expectPage(t, "list", status, body, http.StatusOK, ">48h<", ">2h<", "only if still unconfirmed", "/admin/rules/"+strconv.FormatUint(uint64(rule48.ID), 10)+"/disable")
	})

	t.Run("an invalid timing is refused", func(t *testing.T) {
		before := a.count(&models.ReminderRule{})
		resp, body := admin.post("/admin/rules", form("name", "Day before", "before", "soon", "enabled", "1", "action", "save"))
		expectPage(t, "invalid timing", resp.StatusCode, body, http.StatusUnprocessableEntity,
			"must be a duration such as 48h, 90m or 2d", `value="Day before"`)
		if a.count(&models.ReminderRule{}) != before {
			t.Fatal("an invalid rule was saved")
		}
	})

	t.Run("the edit form links to the rule's texts", func(t *testing.T) {
		status, body := admin.get("/admin/rules/" + strconv.FormatUint(uint64(rule48.ID), 10) + "/edit")
		expectPage(t, "edit", status, body, http.StatusOK, `value="2d"`, `href="/admin/texts/rule:`+strconv.FormatUint(uint64(rule48.ID), 10)+`"`)
		status, body = admin.get("/admin/rules/9999/edit")
		expectPage(t, "missing rule", status, body, http.StatusNotFound)
	})

	t.Run("a new rule is planned for the upcoming appointment", func(t *testing.T) {
		resp, body := admin.post("/admin/rules", form("name", "Evening before", "before", "16h", "enabled", "1", "action", "save"))
		m, ok := f.planned(t)["Evening before"]
		if !ok || !m.SendAt.Equal(time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC)) {
			t.Fatalf("new rule planned: %+v", f.planned(t))
		}
		// A new rule goes on to its texts, the shipped ones to start with.
		expectRedirect(t, "create", resp, body, "/admin/texts/rule:"+strconv.FormatUint(uint64(*m.RuleID), 10))
		_, body = admin.get("/admin/texts/rule:" + strconv.FormatUint(uint64(*m.RuleID), 10))
		expectPage(t, "texts after create", http.StatusOK, body, http.StatusOK, "Rule Evening before added",
			"Reminder 16 h before (Evening before)", "see you {day} at {time} at {location}", "nous vous attendons {day}")
		_, body = admin.get("/admin/rules")
		expectPage(t, "list after create", http.StatusOK, body, http.StatusOK, "Evening before", "Reminder 16 h before")
	})

	t.Run("disabling a rule cancels its planned message", func(t *testing.T) {
		var r models.ReminderRule
		a.store.DB(context.Background()).Where("name = ?", "2h").Take(&r)
		if _, ok := f.planned(t)["2h"]; !ok {
			t.Fatal("no 2h reminder planned to begin with")
		}
		resp, body := admin.post("/admin/rules/"+strconv.FormatUint(uint64(r.ID), 10)+"/disable", nil)
		expectRedirect(t, "disable", resp, body, "/admin/rules")
		if _, ok := f.planned(t)["2h"]; ok {
			t.Fatal("the disabled rule's reminder is still planned")
		}
		resp, body = admin.post("/admin/rules/"+strconv.FormatUint(uint64(r.ID), 10)+"/enable", nil)
		expectRedirect(t, "enable", resp, body, "/admin/rules")
		if _, ok := f.planned(t)["2h"]; !ok {
			t.Fatal("the enabled rule's reminder is not planned again")
		}
	})
}
