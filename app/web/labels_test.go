package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
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

// fieldErrorRE finds the errors shown beside fields.
var fieldErrorRE = regexp.MustCompile(`<div class="field-error" role="alert">([^<]*)</div>`)

// The appointment and patient forms report every bad field at once, each
// as a sentence beside its field, and write nothing.
func TestFormsShowEveryErrorBesideItsField(t *testing.T) {
	f := newRemindersFixture(t)
	staff := f.a.loggedIn("front@example.com", models.RoleStaff)
	for _, tc := range []struct {
		name, path string
		form       url.Values
		count      any
		want       []string
	}{
		{"appointment, unreadable duration", "/appointments", url.Values{
			"patient_id": {"999"}, "provider_id": {"888"}, "starts_at": {"2026-03-04T10:00"}, "duration_minutes": {"an hour"}, "notes": {strings.Repeat("n", 5000)},
		}, &models.Appointment{}, []string{
			"The chosen patient no longer exists.", "The chosen provider no longer exists.",
			"Duration (minutes) must be a whole number of minutes.", "Notes (staff only, never sent to the patient) must be at most 2000 characters",
		}},
		{"appointment, missing fields", "/appointments", url.Values{
			"patient_id": {""}, "starts_at": {""}, "duration_minutes": {"0"},
		}, &models.Appointment{}, []string{"Patient is required.", "Start is required.", "Duration (minutes) must be 1 to 720 minutes."}},
		{"patient", "/patients", url.Values{
			"first_name": {""}, "last_name": {strings.Repeat("x", 300)}, "phone": {"12"}, "language": {"xx"},
		}, &models.Patient{}, []string{
			"First name is required.", "Last name must be at most 100 characters", "Mobile phone is too short for FR.",
			"Language of messages must be one of en, fr, es, de, nl, pt, it.",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.a.count(tc.count)
			resp, body := staff.post(tc.path, tc.form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", resp.StatusCode)
			}
			var got []string
			for _, m := range fieldErrorRE.FindAllStringSubmatch(body, -1) {
				got = append(got, html.UnescapeString(m[1]))
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d errors beside fields, want %d: %q", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				if i < len(got) && !strings.HasPrefix(got[i], w) {
					t.Errorf("error %d = %q, want %q…", i, got[i], w)
				}
			}
			for _, g := range got {
				if !strings.HasSuffix(g, ".") || strings.ToUpper(g[:1]) != g[:1] {
					t.Errorf("%q is not a sentence", g)
				}
			}
			if after := f.a.count(tc.count); after != before {
				t.Errorf("%d rows became %d", before, after)
			}
		})
	}
}

func TestSentence(t *testing.T) {
	for _, tc := range [][3]string{
		{"Start", "required", "Start is required."},
		{"Location", "not found", "The chosen location no longer exists."},
		{"Duration", "must be 1 to 720 minutes", "Duration must be 1 to 720 minutes."},
		{"Phone", "too short for FR", "Phone is too short for FR."},
		{"Time zone", `unknown time zone "X"`, `Unknown time zone "X".`},
		{"Start", "Pick a later time.", "Pick a later time."},
		{"Start", "", ""},
	} {
		if got := sentence(tc[0], tc[1]); got != tc[2] {
			t.Errorf("sentence(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}
