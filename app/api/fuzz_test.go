package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"apptconfirm/app/api"
)

// FuzzCreateAppointmentBody posts arbitrary bodies to POST /appointments:
// none may cause a 500, and every answer is a JSON appointment (201) or a
// JSON error envelope.
func FuzzCreateAppointmentBody(f *testing.F) {
	e := newEnv(f)
	p := e.patient("Ana", "Lopez", "+33612345678")
	seeds := []string{
		fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T09:30:00+01:00", "duration_minutes": 30}`, p.ID),
		`{"patient": {"name": "Mary Ann Smith", "phone": "06 12 34 56 78", "language": "fr"}, "starts_at": "2026-03-10T09:30:00Z", "duration_minutes": 30, "notes": "x"}`,
		fmt.Sprintf(`{"patient_id": %d, "location_id": %d, "starts_at": "2026-03-10T09:30:00-05:00", "duration_minutes": 720}`, p.ID, e.lyon.ID),
		`{"patient": {"name": "A", "phone": "+33612345678"}, "patient_id": 1, "starts_at": "x", "duration_minutes": -1}`,
		`{"patient": null, "patient_id": null, "starts_at": null, "duration_minutes": null, "notes": null, "location_id": null}`,
		`{"patient": {"name": "\u0000\u2028", "phone": "+999999999999999999999"}, "starts_at": "9999-12-31T23:59:59+14:00", "duration_minutes": 1}`,
		`{"patient_id": 18446744073709551615, "starts_at": "0001-01-01T00:00:00Z", "duration_minutes": 9223372036854775807}`,
		`{"patient_id": 1e3}`, `[]`, `null`, `""`, `{}`, `{"a":`, "\xff\xfe", `{"notes": "` + strings.Repeat("é", 3000) + `"}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := e.with(t).do(http.MethodPost, "/api/v1/appointments", body, func(r *http.Request) {
			if body == "" {
				r.Header.Set("Content-Type", "application/json")
			}
		})
		if r.status >= 500 {
			t.Fatalf("status %d for %q: %s", r.status, body, r.body)
		}
		if r.status == http.StatusCreated {
			var a api.Appointment
			if err := json.Unmarshal(r.body, &a); err != nil || a.ID == 0 {
				t.Fatalf("201 without an appointment: %v %s", err, r.body)
			}
			return
		}
		var eb api.ErrorBody
		if err := json.Unmarshal(r.body, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("status %d without an error envelope for %q: %s", r.status, body, r.body)
		}
	})
}
