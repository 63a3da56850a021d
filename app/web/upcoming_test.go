package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"apptconfirm/models"
)

func TestUpcomingPage(t *testing.T) {
	f := newRemindersFixture(t)
	a := f.a
	staff := a.loggedIn("front@example.com", models.RoleStaff)
	m, ok := f.planned(t)["2h"]
	if !ok {
		t.Fatal("no 2h reminder planned")
	}
	path := func(id uint, action string) string {
		return "/upcoming/" + strconv.FormatUint(uint64(id), 10) + "/" + action
	}
	reload := func(id uint) *models.Message {
		var got models.Message
		if err := a.store.DB(context.Background()).First(&got, id).Error; err != nil {
			t.Fatal(err)
		}
		return &got
	}

	t.Run("lists tomorrow's sends with their text, in the location's zone", func(t *testing.T) {
		status, body := staff.get("/upcoming")
		expectPage(t, "upcoming", status, body, http.StatusOK,
			"Tue 3 Mar 08:00 CET", "Reminder 2 h before", "Hi Ada, see you today at 10:00 AM at Main St.", "1 part", "English",
			"Ada Lovelace", path(m.ID, "send"), path(m.ID, "skip"))
		if strings.Contains(body, "Reminder 48 h before") {
			t.Fatal("a skipped reminder is listed")
		}
	})

	t.Run("send now", func(t *testing.T) {
		resp, body := staff.post(path(m.ID, "send"), nil)
		expectRedirect(t, "send now", resp, body, "/upcoming")
		got := reload(m.ID)
		if got.Status != models.MsgAccepted || f.fake.SendCount(got.UUID) != 1 {
			t.Fatalf("after send now: %s, %d sends", got.Status, f.fake.SendCount(got.UUID))
		}
		_, body = staff.get("/upcoming")
		expectPage(t, "after send now", http.StatusOK, body, http.StatusOK, "Reminder 2 h before sent to +33612345678.", "Nothing planned for the next 24 hours")

		resp, body = staff.post(path(m.ID, "send"), nil)
		expectRedirect(t, "send again", resp, body, "/upcoming")
		_, body = staff.get("/upcoming")
		expectPage(t, "send again", http.StatusOK, body, http.StatusOK, "no longer planned")
		if f.fake.SendCount(got.UUID) != 1 {
			t.Fatal("sent twice")
		}
	})

	t.Run("skip", func(t *testing.T) {
		other := &models.Message{
			UUID: "3c3cbd6b-5f5c-4a7e-9d53-2b7a4d6f0a11", AppointmentID: &f.appt.ID, PatientID: &f.patient.ID,
			Kind: models.KindManual, To: f.patient.Phone, Body: "See you tomorrow", Status: models.MsgPlanned, SendAt: a.now.Add(3600e9),
		}
		if err := a.store.DB(context.Background()).Create(other).Error; err != nil {
			t.Fatal(err)
		}
		resp, body := staff.post(path(other.ID, "skip"), form("reason", "patient called"))
		expectRedirect(t, "skip", resp, body, "/upcoming")
		got := reload(other.ID)
		if got.Status != models.MsgSkipped || got.Reason != "skipped by front@example.com: patient called" || f.fake.SendCount(got.UUID) != 0 {
			t.Fatalf("after skip: %+v", got)
		}
	})

	t.Run("a malformed id is not found", func(t *testing.T) {
		resp, _ := staff.post("/upcoming/abc/send", nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})

	t.Run("without the services the page is off", func(t *testing.T) {
		b := newTestApp(t).loggedIn("x@example.com", models.RoleStaff)
		status, _ := b.get("/upcoming")
		if status != http.StatusNotFound {
			t.Fatalf("status %d", status)
		}
	})
}
