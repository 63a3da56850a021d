package web

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"apptconfirm/models"
)

// A message no longer tried while SMS.CX may have taken it reads "in
// doubt" on the appointment's and the patient's pages, with what that
// means, not "failed" nor "goes out".
func TestMessageInDoubtIsShownAsSuch(t *testing.T) {
	f := newRemindersFixture(t)
	staff := f.a.loggedIn("front@example.com", models.RoleStaff)
	m, ok := f.planned(t)["2h"]
	if !ok {
		t.Fatal("no 2h reminder planned")
	}
	reason := "gave up after 6 attempts: SMS.CX server error (HTTP 500); SMS.CX may have taken an earlier try, so the outcome is unknown until its delivery report arrives"
	err := f.a.store.DB(context.Background()).Model(&models.Message{}).Where("id = ?", m.ID).Updates(map[string]any{
		"status": models.MsgSending, "in_doubt": true, "lease_until": nil, "attempts": 6, "reason": reason,
		"body": "Hi Ada, see you today at 10:00 AM at Main St.", "updated_at": time.Now().UTC(),
	}).Error
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/appointments/" + strconv.FormatUint(uint64(f.appt.ID), 10),
		"/patients/" + strconv.FormatUint(uint64(f.patient.ID), 10),
	} {
		status, body := staff.get(path)
		expectPage(t, path, status, body, http.StatusOK,
			`id="msg-status-`+strconv.FormatUint(uint64(m.ID), 10)+`" data-in-doubt>in doubt</span>`,
			"Outcome unknown: SMS.CX may have sent it.", "outcome is unknown until its delivery report arrives",
			"Hi Ada, see you today at 10:00 AM at Main St.")
	}
}
