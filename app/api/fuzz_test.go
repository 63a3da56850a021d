package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"apptconfirm/app/api"
	"apptconfirm/app/texts"
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

// FuzzPutTemplatesBody puts arbitrary bodies to PUT /templates: none may
// cause a 500, every answer is the texts (200) or a JSON error envelope,
// and whatever is stored afterwards is a text the editor accepts: a
// refused body leaves nothing behind.
func FuzzPutTemplatesBody(f *testing.F) {
	e := newEnv(f)
	seeds := []string{
		`{"templates": [{"key": "help", "texts": {"fr": "{clinic} : appelez le {clinic_phone}. STOP pour arrêter."}}]}`,
		`{"templates": [{"key": "rule:1", "texts": {"de": "Hallo {first_name}, {day} um {time}.", "nl": ""}}]}`,
		`{"templates": [{"key": "question", "texts": {"es": "Responda {choices}."}}, {"key": "help", "texts": {"en": null}}]}`,
		`{"templates": [{"key": "optout_ack", "texts": {"it": "{clinic}: {{optoutLink}} STOP"}}]}`,
		`{"templates": [{"key": "rule:18446744073709551615", "texts": {"en": "x"}}]}`,
		`{"templates": [{"key": "help", "texts": {"en": "{clinic} STOP {"}}]}`,
		`{"templates": null}`, `{"templates": [null]}`, `{"templates": [{"key": 3}]}`, `[]`, `{}`, "\xff",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := e.with(t).do(http.MethodPut, "/api/v1/templates", body, func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json")
		})
		if r.status >= 500 {
			t.Fatalf("status %d for %q: %s", r.status, body, r.body)
		}
		if r.status == http.StatusOK {
			var got api.Templates
			if err := json.Unmarshal(r.body, &got); err != nil || got.Changed == nil {
				t.Fatalf("200 without the texts: %v %s", err, r.body)
			}
			for _, x := range got.Templates {
				kind := x.Key
				if strings.HasPrefix(kind, "rule:") {
					kind = texts.KindReminder
				}
				if strings.TrimSpace(x.Texts[got.DefaultLanguage]) == "" {
					t.Fatalf("%s lost its text in the default language after %q", x.Key, body)
				}
				for lang, text := range x.Texts {
					if text == "" {
						continue
					}
					if err := texts.Check(kind, text); err != nil {
						t.Fatalf("%s.%s stored %q, which the editor refuses: %v (after %q)", x.Key, lang, text, err, body)
					}
				}
			}
			return
		}
		var eb api.ErrorBody
		if err := json.Unmarshal(r.body, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("status %d without an error envelope for %q: %s", r.status, body, r.body)
		}
	})
}
