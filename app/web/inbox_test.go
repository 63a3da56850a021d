package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/inbox"
	"apptconfirm/app/live"
	"apptconfirm/models"
)

// inboxFixture is a web app with the inbox enabled, one patient with two
// upcoming appointments, and helpers to put replies into the inbox.
type inboxFixture struct {
	a       *testApp
	kick    *kickCounter
	hub     *live.Hub
	patient *models.Patient
	appts   []*models.Appointment
}

func newInboxFixture(t *testing.T) *inboxFixture {
	t.Helper()
	a := newTestApp(t, withDeps(func(a *testApp, d *Deps) {
		d.Inbox = inbox.New(a.store, a.clinic, a.ob, nil, d.Now)
	}))
	f := &inboxFixture{a: a, kick: a.kick, hub: a.live}
	a.addLocation("Main", "Europe/Berlin", "DE")
	f.patient = a.addPatient("Anna", "Schmidt", "+4915123456789")
	for _, in := range []time.Duration{26 * time.Hour, 50 * time.Hour} {
		ap, err := a.clinic.CreateAppointment(context.Background(), models.SystemActor(), clinic.AppointmentInput{
			PatientID: f.patient.ID, StartsAt: a.now.Add(in), DurationMinutes: 30,
		})
		if err != nil {
			t.Fatal(err)
		}
		f.appts = append(f.appts, ap)
	}
	return f
}

// item stores an inbound message needing attention, as the webhook
// processor leaves it.
func (f *inboxFixture) item(from, text string, candidates ...*models.Appointment) *models.InboundMessage {
	f.a.t.Helper()
	ids := make([]string, len(candidates))
	for i, c := range candidates {
		ids[i] = fmt.Sprint(c.ID)
	}
	in := &models.InboundMessage{
		ProviderID: fmt.Sprintf("msg-%d-%d", time.Now().UnixNano(), len(text)), From: from, Text: text,
		ReceivedAt: f.a.now, NeedsAttention: true, Candidates: strings.Join(ids, ","), CreatedAt: f.a.now,
	}
	if len(candidates) > 0 {
		in.PatientID = &f.patient.ID
	}
	if err := f.a.store.DB(context.Background()).Create(in).Error; err != nil {
		f.a.t.Fatal(err)
	}
	return in
}

func (f *inboxFixture) inbound(id uint) *models.InboundMessage {
	f.a.t.Helper()
	var in models.InboundMessage
	if err := f.a.store.DB(context.Background()).First(&in, id).Error; err != nil {
		f.a.t.Fatal(err)
	}
	return &in
}

func (f *inboxFixture) status(ap *models.Appointment) models.AppointmentStatus {
	f.a.t.Helper()
	var got models.Appointment
	if err := f.a.store.DB(context.Background()).First(&got, ap.ID).Error; err != nil {
		f.a.t.Fatal(err)
	}
	return got.Status
}

func (f *inboxFixture) messages(kind string) []models.Message {
	f.a.t.Helper()
	var ms []models.Message
	if err := f.a.store.DB(context.Background()).Where("kind = ?", kind).Order("id").Find(&ms).Error; err != nil {
		f.a.t.Fatal(err)
	}
	return ms
}

func TestInboxNeedsLogin(t *testing.T) {
	f := newInboxFixture(t)
	in := f.item("+4915123456789", "what time?", f.appts[0])
	b := f.a.browser()
	resp, err := b.client.Get(f.a.http.URL + "/inbox")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("GET /inbox logged out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp2, _ := b.post(fmt.Sprintf("/inbox/%d/handled", in.ID), form())
	if resp2.StatusCode != http.StatusUnauthorized && resp2.StatusCode != http.StatusForbidden {
		t.Fatalf("POST logged out: %d", resp2.StatusCode)
	}
	if got := f.inbound(in.ID); got.HandledAt != nil {
		t.Fatal("a logged-out request handled the item")
	}
}

func TestInboxList(t *testing.T) {
	f := newInboxFixture(t)
	f.item("+4915123456789", "Can I come at 3 instead?", f.appts...)
	f.item("+4915199999999", "who is this?")
	b := f.a.loggedIn("front@example.com", models.RoleStaff)
	status, body := b.get("/inbox")
	expectPage(t, "inbox", status, body, http.StatusOK,
		"Needs attention (2)", "Can I come at 3 instead?", "Anna Schmidt", "who is this?", "unknown number",
		"Tue 3 Mar 12:00", "Wed 4 Mar 12:00", `action="/inbox/`, `name="appointment_id"`, `name="text"`, "Mark handled")
	status, body = b.get("/inbox?show=handled")
	expectPage(t, "handled view", status, body, http.StatusOK, "No handled messages yet")
	status, body = b.get("/inbox?show=everything")
	expectPage(t, "bad view", status, body, http.StatusBadRequest, "must be empty or handled")
}

func TestInboxActions(t *testing.T) {
	cases := []struct {
		name   string
		path   string
		action string
		form   func(f *inboxFixture) []string
		check  func(t *testing.T, f *inboxFixture)
	}{
		{
			"confirm with acknowledgement", "confirm", "inbox.confirm",
			func(f *inboxFixture) []string {
				return []string{"appointment_id", fmt.Sprint(f.appts[1].ID), "notify", "1"}
			},
			func(t *testing.T, f *inboxFixture) {
				if st := f.status(f.appts[1]); st != models.Confirmed {
					t.Fatalf("appointment %s", st)
				}
				if st := f.status(f.appts[0]); st != models.Scheduled {
					t.Fatalf("the other appointment became %s", st)
				}
				acks := f.messages(models.KindAckConfirm)
				if len(acks) != 1 || acks[0].To != "+4915123456789" || !strings.Contains(acks[0].Body, "Anna") || acks[0].Status != models.MsgPlanned {
					t.Fatalf("acknowledgements %+v", acks)
				}
				if f.kick.n.Load() != 1 {
					t.Fatalf("dispatcher kicked %d times", f.kick.n.Load())
				}
			},
		},
		{
			"cancel without acknowledgement", "cancel", "inbox.cancel",
			func(f *inboxFixture) []string { return []string{"appointment_id", fmt.Sprint(f.appts[0].ID)} },
			func(t *testing.T, f *inboxFixture) {
				if st := f.status(f.appts[0]); st != models.Cancelled {
					t.Fatalf("appointment %s", st)
				}
				if n := len(f.messages(models.KindAckCancel)); n != 0 {
					t.Fatalf("%d acknowledgements without notify", n)
				}
			},
		},
		{
			"answer by SMS", "answer", "inbox.answer",
			func(*inboxFixture) []string { return []string{"text", "  Yes, 3 pm works. See you!  "} },
			func(t *testing.T, f *inboxFixture) {
				ms := f.messages(models.KindManual)
				if len(ms) != 1 || ms[0].Body != "Yes, 3 pm works. See you!" || ms[0].CreatedByID == nil || ms[0].To != "+4915123456789" {
					t.Fatalf("manual messages %+v", ms)
				}
				if f.kick.n.Load() != 1 {
					t.Fatalf("dispatcher kicked %d times", f.kick.n.Load())
				}
			},
		},
		{
			"mark handled with a note", "handled", "inbox.handle",
			func(*inboxFixture) []string { return []string{"note", "called her back"} },
			func(t *testing.T, f *inboxFixture) {
				if n := f.a.count(&models.Message{}); n != 0 {
					t.Fatalf("%d messages queued", n)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newInboxFixture(t)
			in := f.item("+4915123456789", "Can I come at 3 instead?", f.appts...)
			user := "front@example.com"
			b := f.a.loggedIn(user, models.RoleStaff)
			resp, body := b.post(fmt.Sprintf("/inbox/%d/%s", in.ID, tc.path), form(tc.form(f)...))
			expectRedirect(t, tc.name, resp, body, "/inbox")
			tc.check(t, f)
			got := f.inbound(in.ID)
			if got.HandledAt == nil || got.HandledByID == nil || got.HandledNote == "" {
				t.Fatalf("item after %s: %+v", tc.path, got)
			}
			status, page := b.get("/inbox")
			expectPage(t, "inbox after", status, page, http.StatusOK, "Needs attention (0)", "Nothing needs attention")
			status, page = b.get("/inbox?show=handled")
			expectPage(t, "handled list", status, page, http.StatusOK, "Can I come at 3 instead?", "by front ("+user+")", got.HandledNote)
			var audit int64
			if err := f.a.store.DB(context.Background()).Model(&models.AuditEntry{}).
				Where("entity = ? AND entity_id = ? AND action = ?", inbox.EntityInbound, in.ID, tc.action).
				Count(&audit).Error; err != nil {
				t.Fatal(err)
			}
			if audit != 1 {
				t.Fatalf("%d audit rows for the action", audit)
			}
			// A second action on the handled item is refused.
			resp, _ = b.post(fmt.Sprintf("/inbox/%d/handled", in.ID), form())
			expectRedirect(t, "again", resp, "", "/inbox")
			status, page = b.get("/inbox")
			expectPage(t, "again", status, page, http.StatusOK, "Someone else handled that message already")
		})
	}
}

func TestInboxRefusals(t *testing.T) {
	f := newInboxFixture(t)
	b := f.a.loggedIn("front@example.com", models.RoleStaff)
	other := f.a.addPatient("Carl", "", "+4915100000001")
	otherAppt, err := f.a.clinic.CreateAppointment(context.Background(), models.SystemActor(), clinic.AppointmentInput{
		PatientID: other.ID, StartsAt: f.a.now.Add(30 * time.Hour), DurationMinutes: 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	in := f.item("+4915123456789", "hm?", f.appts[0])
	cases := []struct {
		name, path string
		form       []string
		message    string
	}{
		{"no appointment chosen", "confirm", nil, "choose an appointment"},
		{"someone else's appointment", "confirm", []string{"appointment_id", fmt.Sprint(otherAppt.ID)}, "is not one of this message's appointments"},
		{"empty answer", "answer", []string{"text", "   "}, "required"},
		{"answer too long", "answer", []string{"text", strings.Repeat("a", inbox.MaxAnswer+1)}, "at most 612"},
		{"note with control characters", "handled", []string{"note", "a\x07b"}, "control characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := b.post(fmt.Sprintf("/inbox/%d/%s", in.ID, tc.path), form(tc.form...))
			expectRedirect(t, tc.name, resp, body, "/inbox")
			status, page := b.get("/inbox")
			expectPage(t, tc.name, status, page, http.StatusOK, tc.message, "hm?")
			if got := f.inbound(in.ID); got.HandledAt != nil {
				t.Fatal("a refused action handled the item")
			}
		})
	}
	t.Run("CSRF", func(t *testing.T) {
		resp, _ := b.post(fmt.Sprintf("/inbox/%d/confirm", in.ID), form("csrf_token", "forged", "appointment_id", fmt.Sprint(f.appts[0].ID)))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged token: %d", resp.StatusCode)
		}
		if st := f.status(f.appts[0]); st != models.Scheduled {
			t.Fatalf("appointment %s after a forged form", st)
		}
	})
	t.Run("unknown item", func(t *testing.T) {
		resp, _ := b.post("/inbox/999999/handled", form())
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown item: %d", resp.StatusCode)
		}
	})
	t.Run("opted-out number cannot be answered", func(t *testing.T) {
		if err := f.a.clinic.OptOut(context.Background(), models.SystemActor(), f.patient.ID, "sms_stop"); err != nil {
			t.Fatal(err)
		}
		status, page := b.get("/inbox")
		expectPage(t, "opted out", status, page, http.StatusOK, "opted out of messages: call the patient instead")
		resp, body := b.post(fmt.Sprintf("/inbox/%d/answer", in.ID), form("text", "hello"))
		expectRedirect(t, "answer", resp, body, "/inbox")
		if n := len(f.messages(models.KindManual)); n != 0 {
			t.Fatalf("%d messages to an opted-out number", n)
		}
	})
}
