package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

// POST /appointments/{id}/offers sends the times given, in order, and
// turns the appointment into reschedule_requested; bad input names the
// field, a cancelled appointment is a conflict, a missing one 404.
func TestCreateOffer(t *testing.T) {
	e := newEnv(t)
	p := e.patient("Ana", "Lopez", "+33612345678")
	a := e.appointment(p.ID, e.paris.ID, t0.Add(72*time.Hour))
	path := fmt.Sprintf("/api/v1/appointments/%d/offers", a.ID)

	for _, tc := range []struct{ name, body, field, message string }{
		{"not a time", `{"starts_at": ["tomorrow"]}`, "starts_at", "RFC 3339"},
		{"four", `{"starts_at": ["2026-03-03T09:00:00+01:00", "2026-03-03T10:00:00+01:00", "2026-03-03T11:00:00+01:00", "2026-03-03T12:00:00+01:00"]}`, "starts_at", "give 1 to 3 times"},
		{"past", `{"starts_at": ["2026-03-01T09:00:00+01:00"]}`, "starts_at", "is in the past"},
		{"none free (no hours set)", `{}`, "starts_at", "no free time was found"},
		{"unknown member", `{"times": []}`, "times", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, path, tc.body)
			code, field, msg := r.errorOf(t)
			if r.status != http.StatusUnprocessableEntity || code != api.CodeInvalid || field != tc.field || !strings.Contains(msg, tc.message) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	if n := e.count(&models.RescheduleOffer{}); n != 0 {
		t.Fatalf("%d offers stored by refused requests", n)
	}

	var o api.Offer
	e.decode(http.StatusCreated, &o, http.MethodPost, path, `{"starts_at": ["2026-03-04T14:30:00+01:00", "2026-03-03T09:00:00Z"]}`)
	if o.ID == 0 || o.AppointmentID != a.ID || o.Status != "open" || o.MessageID == nil || len(o.StartsAt) != 2 ||
		!o.StartsAt[0].Equal(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)) || !o.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("offer %+v", o)
	}
	got, err := e.clinic.GetAppointment(context.Background(), a.ID)
	if err != nil || got.Status != models.RescheduleRequested {
		t.Fatalf("appointment %+v %v", got, err)
	}
	var m models.Message
	if err := e.store.DB(context.Background()).First(&m, *o.MessageID).Error; err != nil || m.Kind != models.KindRescheduleOffer ||
		!strings.Contains(m.Body, "Reply 1 for Tue 10:00 AM, 2 for Wed 2:30 PM.") {
		t.Fatalf("offer SMS %+v %v", m, err)
	}

	if _, err := e.clinic.Cancel(context.Background(), e.clinicActor(), a.ID, ""); err != nil {
		t.Fatal(err)
	}
	r := e.do(http.MethodPost, path, `{"starts_at": ["2026-03-05T09:00:00+01:00"]}`)
	if code, _, _ := r.errorOf(t); r.status != http.StatusConflict || code != api.CodeConflict {
		t.Fatalf("offer for a cancelled appointment: %d %s", r.status, r.body)
	}
	r = e.do(http.MethodPost, "/api/v1/appointments/999999/offers", `{"starts_at": ["2026-03-05T09:00:00+01:00"]}`)
	if r.status != http.StatusNotFound {
		t.Fatalf("offer for a missing appointment: %d %s", r.status, r.body)
	}
}

// FuzzCreateOfferBody posts arbitrary bodies to POST
// /appointments/{id}/offers: none may cause a 500, and every answer is an
// offer (201) or a JSON error envelope.
func FuzzCreateOfferBody(f *testing.F) {
	e := newEnv(f)
	p := e.patient("Ana", "Lopez", "+33612345678")
	a := e.appointment(p.ID, e.paris.ID, t0.Add(72*time.Hour))
	path := fmt.Sprintf("/api/v1/appointments/%d/offers", a.ID)
	for _, s := range []string{
		`{"starts_at": ["2026-03-03T09:00:00+01:00"]}`,
		`{"starts_at": ["2026-03-03T09:00:00+01:00", "2026-03-03T09:00:00+01:00"]}`,
		`{"starts_at": ["9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00Z", "2026-03-05T10:00:00+01:00"]}`,
		`{"starts_at": null}`, `{"starts_at": [null]}`, `{"starts_at": "x"}`, `{}`, `[]`, `null`, "\xff", `{"starts_at": [`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := e.with(t).do(http.MethodPost, path, body)
		if r.status >= 500 {
			t.Fatalf("status %d for %q: %s", r.status, body, r.body)
		}
		if r.status == http.StatusCreated {
			var o api.Offer
			if err := json.Unmarshal(r.body, &o); err != nil || o.ID == 0 || len(o.StartsAt) == 0 || len(o.StartsAt) > 3 {
				t.Fatalf("201 without an offer: %v %s", err, r.body)
			}
			return
		}
		var eb api.ErrorBody
		if err := json.Unmarshal(r.body, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("status %d without an error envelope for %q: %s", r.status, body, r.body)
		}
	})
}
