package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

// Appointment types through the API: created, listed by name, changed;
// a taken name, a bad colour or length is refused naming the field, and
// nothing is written. An appointment carries its type, booked with the
// type's length when it gives none; a PATCH changes or clears it.
func TestAppointmentTypesAPI(t *testing.T) {
	e := newEnvPlanned(t, true)
	var checkup api.AppointmentType
	r := e.decode(http.StatusCreated, &checkup, http.MethodPost, "/api/v1/appointment-types", `{"name": "Check-up", "default_duration_minutes": 20, "colour": "#2563EB"}`)
	if checkup.Colour != "#2563eb" || checkup.DefaultDurationMinutes != 20 || r.header.Get("Location") != fmt.Sprintf("/api/v1/appointment-types/%d", checkup.ID) {
		t.Fatalf("created %+v %s", checkup, r.header.Get("Location"))
	}
	var cleaning api.AppointmentType
	e.decode(http.StatusCreated, &cleaning, http.MethodPost, "/api/v1/appointment-types", `{"name": "Cleaning", "default_duration_minutes": 45}`)
	if cleaning.Colour != "#2563eb" {
		t.Errorf("default colour %q", cleaning.Colour)
	}
	for _, c := range []struct{ body, field string }{
		{`{"name": "CHECK-UP", "default_duration_minutes": 20}`, "name"},
		{`{"name": "X", "default_duration_minutes": 2}`, "default_duration_minutes"},
		{`{"name": "X", "default_duration_minutes": 20, "colour": "red"}`, "colour"},
		{`{"default_duration_minutes": 20}`, "name"},
	} {
		r := e.do(http.MethodPost, "/api/v1/appointment-types", c.body)
		if _, field, _ := r.errorOf(t); r.status != http.StatusUnprocessableEntity || field != c.field {
			t.Errorf("%s: %d %s, want 422 naming %s", c.body, r.status, r.body, c.field)
		}
	}
	if n := e.count(&models.AppointmentType{}); n != 2 {
		t.Fatalf("%d types after refusals", n)
	}
	var list api.List[api.AppointmentType]
	e.decode(http.StatusOK, &list, http.MethodGet, "/api/v1/appointment-types", "")
	if len(list.Data) != 2 || list.Data[0].Name != "Check-up" || list.Data[1].Name != "Cleaning" {
		t.Fatalf("list %+v", list)
	}
	var changed api.AppointmentType
	e.decode(http.StatusOK, &changed, http.MethodPatch, fmt.Sprintf("/api/v1/appointment-types/%d", cleaning.ID), `{"colour": "#fde047"}`)
	if changed.Name != "Cleaning" || changed.Colour != "#fde047" || changed.DefaultDurationMinutes != 45 {
		t.Fatalf("patched %+v", changed)
	}
	r = e.do(http.MethodPatch, fmt.Sprintf("/api/v1/appointment-types/%d", cleaning.ID), `{"name": "check-up"}`)
	if _, field, _ := r.errorOf(t); r.status != http.StatusUnprocessableEntity || field != "name" {
		t.Errorf("rename onto another: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodPatch, "/api/v1/appointment-types/999", `{"colour": "#000000"}`); r.status != http.StatusNotFound {
		t.Errorf("missing type: %d", r.status)
	}

	p := e.patient("Ana", "Lopez", "+33612345678")
	var ap api.Appointment
	e.decode(http.StatusCreated, &ap, http.MethodPost, "/api/v1/appointments",
		fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T09:30:00+01:00", "appointment_type_id": %d}`, p.ID, checkup.ID))
	if ap.AppointmentTypeID == nil || *ap.AppointmentTypeID != checkup.ID || ap.DurationMinutes != 20 {
		t.Fatalf("booked %+v", ap)
	}
	for _, m := range ap.Messages {
		if m.PlannedBecause == nil || !strings.HasPrefix(*m.PlannedBecause, "Reminder '") {
			t.Errorf("message %+v says no why", m)
		}
	}
	r = e.do(http.MethodPost, "/api/v1/appointments", fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T11:30:00+01:00", "appointment_type_id": 999}`, p.ID))
	if _, field, _ := r.errorOf(t); r.status != http.StatusUnprocessableEntity || field != "appointment_type_id" {
		t.Errorf("unknown type: %d %s", r.status, r.body)
	}
	r = e.do(http.MethodPost, "/api/v1/appointments", fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T11:30:00+01:00"}`, p.ID))
	if _, field, _ := r.errorOf(t); r.status != http.StatusUnprocessableEntity || field != "duration_minutes" {
		t.Errorf("no length and no type: %d %s", r.status, r.body)
	}
	path := fmt.Sprintf("/api/v1/appointments/%d", ap.ID)
	e.decode(http.StatusOK, &ap, http.MethodPatch, path, fmt.Sprintf(`{"appointment_type_id": %d}`, cleaning.ID))
	if ap.AppointmentTypeID == nil || *ap.AppointmentTypeID != cleaning.ID || ap.DurationMinutes != 20 {
		t.Fatalf("type changed: %+v (the length stays)", ap)
	}
	e.decode(http.StatusOK, &ap, http.MethodPatch, path, `{"appointment_type_id": null}`)
	if ap.AppointmentTypeID != nil {
		t.Fatalf("type cleared: %+v", ap)
	}
}

// The export's type column names each appointment's type; importing the
// export again changes nothing, and a type changed in the file changes
// the appointment's (an unknown one is refused naming the column).
func TestTypeColumnRoundTrip(t *testing.T) {
	e := newEnvPlanned(t, true)
	for _, body := range []string{`{"name": "Check-up", "default_duration_minutes": 20}`, `{"name": "Cleaning", "default_duration_minutes": 45}`} {
		e.decode(http.StatusCreated, nil, http.MethodPost, "/api/v1/appointment-types", body)
	}
	file := "external_id,patient_external_id,first_name,last_name,phone,language,location,type,starts_at,duration_minutes,notes,status\n" +
		"E-1,P-1,Ana,Lopez,+33612345678,fr,Paris,check-up,2026-03-10 09:30,20,,\n" +
		"E-2,P-2,Bo,Li,+33612345679,es,Paris,,2026-03-11 10:00,30,,\n" +
		"E-3,P-3,Cy,Roux,+33612345670,,Paris,Scaling,2026-03-12 10:00,30,,\n"
	res := e.importCSV(t, http.StatusOK, "", file)
	if res.Created != 2 || res.Refused != 1 || res.Errors[0].Field != "type" || !strings.Contains(res.Errors[0].Message, `"Scaling"`) {
		t.Fatalf("import %+v", res)
	}
	r := e.do(http.MethodGet, "/api/v1/exports/appointments?from=2026-03-01&to=2026-03-31", "")
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.body), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][8] != "type" || recs[1][8] != "Check-up" || recs[2][8] != "" {
		t.Fatalf("export %q", recs)
	}
	before := e.footprint(t)
	again := e.importCSV(t, http.StatusOK, "", string(r.body))
	if again.Unchanged != 2 || again.Created+again.Updated+again.Refused != 0 {
		t.Fatalf("re-importing the export: %+v", again)
	}
	if after := e.footprint(t); after != before {
		t.Fatalf("re-importing the export wrote:\n before %+v\n after  %+v", before, after)
	}
	moved := strings.Replace(string(r.body), "Check-up", "Cleaning", 1)
	if res := e.importCSV(t, http.StatusOK, "", moved); res.Updated != 1 {
		t.Fatalf("type changed in the file: %+v", res)
	}
	var a models.Appointment
	e.store.DB(context.Background()).Preload("AppointmentType").Where("external_id = ?", "E-1").Take(&a)
	if a.AppointmentType == nil || a.AppointmentType.Name != "Cleaning" {
		t.Fatalf("after the import: %+v", a.AppointmentType)
	}
}
