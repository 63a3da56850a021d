package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"apptconfirm/models"
)

func TestStatusLabel(t *testing.T) {
	for in, want := range map[any]string{
		models.RescheduleRequested: "wants another time",
		models.NoShow:              "no-show",
		models.Confirmed:           "confirmed",
		models.MsgDelivered:        "delivered",
		models.DeliveryPending:     "waiting",
		"in_doubt":                 "in doubt",
		models.TimelineOptOut:      "opt-out",
		"some_new_state":           "some new state",
	} {
		if got := statusLabel(in); got != want {
			t.Errorf("statusLabel(%v) = %q, want %q", in, got, want)
		}
	}
}

// tagRE strips markup, leaving what a person reads.
var tagRE = regexp.MustCompile(`(?s)<script.*?</script>|<[^>]*>`)

// An appointment whose patient asked for another time reads so on every
// page that shows its state; the stored key never reaches the text.
func TestNoInternalStateKeysShown(t *testing.T) {
	f := newRemindersFixture(t)
	staff := f.a.loggedIn("front@example.com", models.RoleStaff)
	err := f.a.store.DB(context.Background()).Model(&models.Appointment{}).Where("id = ?", f.appt.ID).
		Update("status", models.RescheduleRequested).Error
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/appointments/" + itoa(f.appt.ID),
		"/appointments?view=list&from=2026-03-01&to=2026-03-09",
		"/appointments?date=2026-03-03",
		"/patients/" + itoa(f.patient.ID),
		"/?from=2026-03-03&to=2026-03-03",
	} {
		status, body := staff.get(path)
		if status != http.StatusOK {
			t.Fatalf("%s: %d", path, status)
		}
		text := tagRE.ReplaceAllString(body, " ")
		if !strings.Contains(text, "wants another time") {
			t.Errorf("%s does not say the patient wants another time:\n%s", path, text)
		}
		for _, key := range []string{"reschedule_requested", "reschedule-requested", "no_show", "in_doubt", "opt_out"} {
			if strings.Contains(text, key) {
				t.Errorf("%s shows the key %q:\n%s", path, key, text)
			}
		}
	}
}
