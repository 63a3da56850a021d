package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

// footprint is what a change leaves behind: if two footprints are equal,
// nothing was written in between.
type footprint struct {
	timeline, events, audit, messages, patients, appointments int64
	updated                                                   string
}

func (e *env) footprint(t *testing.T) footprint {
	t.Helper()
	var last models.Appointment
	e.store.DB(context.Background()).Order("updated_at DESC").Limit(1).Find(&last)
	var msgs []models.Message
	e.store.DB(context.Background()).Order("id").Find(&msgs)
	sig := last.UpdatedAt.String()
	for _, m := range msgs {
		sig += fmt.Sprintf("|%d:%s:%s", m.ID, m.Status, m.UpdatedAt)
	}
	return footprint{
		timeline: e.count(&models.TimelineEntry{}), events: e.count(&models.Event{}), audit: e.count(&models.AuditEntry{}),
		messages: e.count(&models.Message{}), patients: e.count(&models.Patient{}), appointments: e.count(&models.Appointment{}),
		updated: sig,
	}
}

func TestUpsertByExternalID(t *testing.T) {
	e := newEnvPlanned(t, true)
	path := "/api/v1/appointments/by-external-id/EHR-1001"
	body := `{"patient": {"name": "Ana Lopez", "phone": "+33612345678", "external_id": "MRN-7"},
		"starts_at": "2026-03-10T09:30:00+01:00", "duration_minutes": 20, "notes": "x-rays"}`

	var created api.Appointment
	r := e.decode(http.StatusCreated, &created, http.MethodPut, path, body)
	if created.ExternalID == nil || *created.ExternalID != "EHR-1001" || created.Patient.ExternalID == nil || *created.Patient.ExternalID != "MRN-7" {
		t.Fatalf("created %+v", created)
	}
	if created.Status != "scheduled" || created.StartsAt != "2026-03-10T09:30:00+01:00" || created.DurationMinutes != 20 {
		t.Errorf("created %+v", created)
	}
	if loc := r.header.Get("Location"); loc != fmt.Sprintf("/api/v1/appointments/%d", created.ID) {
		t.Errorf("Location %q", loc)
	}
	if len(created.Messages) == 0 {
		t.Fatal("no message planned for the new appointment")
	}

	t.Run("the same body again changes nothing", func(t *testing.T) {
		before := e.footprint(t)
		var again api.Appointment
		e.decode(http.StatusOK, &again, http.MethodPut, path, body)
		if again.ID != created.ID || again.UpdatedAt != created.UpdatedAt {
			t.Errorf("again %+v", again)
		}
		if after := e.footprint(t); after != before {
			t.Errorf("footprint changed:\n before %+v\n after  %+v", before, after)
		}
	})

	t.Run("a patient known by external id is found", func(t *testing.T) {
		var other api.Appointment
		e.decode(http.StatusCreated, &other, http.MethodPut, "/api/v1/appointments/by-external-id/EHR-1002",
			`{"patient": {"external_id": "MRN-7"}, "starts_at": "2026-03-11T09:30:00+01:00", "duration_minutes": 20}`)
		if other.Patient.ID != created.Patient.ID {
			t.Errorf("patient %d, want %d", other.Patient.ID, created.Patient.ID)
		}
	})

	t.Run("a changed start reschedules", func(t *testing.T) {
		e.clock.Add(time.Minute)
		moved := strings.Replace(body, "09:30", "14:00", 1)
		var got api.Appointment
		e.decode(http.StatusOK, &got, http.MethodPut, path, moved)
		if got.StartsAt != "2026-03-10T14:00:00+01:00" || got.ID != created.ID {
			t.Errorf("after reschedule %+v", got)
		}
		var tl api.Timeline
		e.decode(http.StatusOK, &tl, http.MethodGet, fmt.Sprintf("/api/v1/appointments/%d/timeline", created.ID), "")
		found := false
		for _, it := range tl.Data {
			found = found || strings.HasPrefix(it.Detail, "Rescheduled from")
		}
		if !found {
			t.Errorf("no reschedule in the timeline %+v", tl.Data)
		}
		var rescheduled int64
		e.store.DB(context.Background()).Model(&models.Event{}).
			Where("type = ? AND appointment_id = ?", models.EventAppointmentRescheduled, created.ID).Count(&rescheduled)
		if rescheduled != 1 {
			t.Errorf("%d reschedule events, want 1", rescheduled)
		}
		before := e.footprint(t)
		e.decode(http.StatusOK, nil, http.MethodPut, path, moved)
		if after := e.footprint(t); after != before {
			t.Errorf("the reschedule sent twice wrote again:\n before %+v\n after  %+v", before, after)
		}
	})

	t.Run("confirmed confirms, scheduled keeps the confirmation", func(t *testing.T) {
		var got api.Appointment
		e.decode(http.StatusOK, &got, http.MethodPut, path, `{"status": "confirmed"}`)
		if got.Status != "confirmed" {
			t.Errorf("status %q", got.Status)
		}
		before := e.footprint(t)
		e.decode(http.StatusOK, &got, http.MethodPut, path, `{"status": "scheduled"}`)
		if got.Status != "confirmed" || e.footprint(t) != before {
			t.Errorf("scheduled took back a confirmation: %q", got.Status)
		}
	})

	t.Run("cancelled cancels, once", func(t *testing.T) {
		var got api.Appointment
		e.decode(http.StatusOK, &got, http.MethodPut, path, `{"status": "cancelled"}`)
		if got.Status != "cancelled" {
			t.Errorf("status %q", got.Status)
		}
		for _, m := range got.Messages {
			if m.Status == "planned" {
				t.Errorf("message %d still planned after the cancellation", m.ID)
			}
		}
		before := e.footprint(t)
		e.decode(http.StatusOK, &got, http.MethodPut, path, `{"status": "cancelled"}`)
		if e.footprint(t) != before {
			t.Error("cancelling twice wrote again")
		}
		// Cancelling what was never sent creates nothing.
		r := e.decode(http.StatusNotFound, nil, http.MethodPut, "/api/v1/appointments/by-external-id/NEVER", `{"status": "cancelled"}`)
		if _, field, _ := r.errorOf(t); field != "external_id" {
			t.Errorf("field %q", field)
		}
	})

	bad := []struct {
		name, path, body, field string
	}{
		{"no start on create", "/api/v1/appointments/by-external-id/NEW-1", `{"patient_id": 1, "duration_minutes": 20}`, "starts_at"},
		{"no patient on create", "/api/v1/appointments/by-external-id/NEW-2", `{"starts_at": "2026-03-12T09:00:00Z", "duration_minutes": 20}`, "patient_id"},
		{"new patient without phone", "/api/v1/appointments/by-external-id/NEW-3", `{"patient": {"name": "Bo", "external_id": "MRN-9"}, "starts_at": "2026-03-12T09:00:00Z", "duration_minutes": 20}`, "patient.phone"},
		{"another external id in the body", path, `{"external_id": "EHR-9"}`, "external_id"},
		{"unknown status", path, `{"status": "maybe"}`, "status"},
		{"the patient cannot change", path, `{"patient": {"external_id": "MRN-OTHER"}}`, "patient.external_id"},
		{"too long an external id", "/api/v1/appointments/by-external-id/" + strings.Repeat("x", 101), `{"patient_id": 1, "starts_at": "2026-03-12T09:00:00Z", "duration_minutes": 20}`, "external_id"},
	}
	for _, c := range bad {
		t.Run("refuses "+c.name, func(t *testing.T) {
			before := e.footprint(t)
			r := e.do(http.MethodPut, c.path, c.body)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if _, field, _ := r.errorOf(t); field != c.field {
				t.Errorf("field %q, want %q: %s", field, c.field, r.body)
			}
			if after := e.footprint(t); after != before {
				t.Errorf("a refused upsert wrote something:\n before %+v\n after  %+v", before, after)
			}
		})
	}
}

func TestExternalIDsAreUnique(t *testing.T) {
	e := newEnv(t)
	p := e.patient("Ana", "Lopez", "+33612345678")
	body := fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T09:30:00+01:00", "duration_minutes": 20, "external_id": "A-1"}`, p.ID)
	e.decode(http.StatusCreated, nil, http.MethodPost, "/api/v1/appointments", body)
	r := e.decode(http.StatusUnprocessableEntity, nil, http.MethodPost, "/api/v1/appointments", body)
	if _, field, _ := r.errorOf(t); field != "external_id" {
		t.Errorf("field %q", field)
	}
	var pt api.Patient
	e.decode(http.StatusCreated, &pt, http.MethodPost, "/api/v1/patients", `{"name": "Bo Li", "phone": "+33612345679", "external_id": "P-1"}`)
	if pt.ExternalID == nil || *pt.ExternalID != "P-1" {
		t.Errorf("patient %+v", pt)
	}
	r = e.decode(http.StatusUnprocessableEntity, nil, http.MethodPost, "/api/v1/patients", `{"name": "Cy Li", "phone": "+33612345670", "external_id": "P-1"}`)
	if _, field, _ := r.errorOf(t); field != "external_id" {
		t.Errorf("field %q", field)
	}
	// Any number of rows may have none.
	for i := 0; i < 2; i++ {
		e.decode(http.StatusCreated, nil, http.MethodPost, "/api/v1/appointments",
			fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-1%dT09:30:00+01:00", "duration_minutes": 20}`, p.ID, i+1))
	}
}
