package api_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

// keys returns the sorted member names of a JSON object.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

func TestCreateAppointmentWithPatientID(t *testing.T) {
	e := newEnv(t)
	p := e.patient("Ana", "Lopez", "+33612345678")
	body := fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T09:30:00+01:00", "duration_minutes": 20, "notes": "bring x-rays"}`, p.ID)
	r := e.do(http.MethodPost, "/api/v1/appointments", body)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	v := r.json(t)
	// The public shape of an appointment, exactly.
	if got, want := keys(v), sorted("id", "status", "starts_at", "duration_minutes", "location_id", "provider_id", "appointment_type_id", "external_id", "patient", "messages", "created_at", "updated_at"); !reflect.DeepEqual(got, want) {
		t.Fatalf("appointment members %v, want %v", got, want)
	}
	pv := v["patient"].(map[string]any)
	if got, want := keys(pv), sorted("id", "name", "phone", "opted_out", "external_id"); !reflect.DeepEqual(got, want) {
		t.Fatalf("patient members %v, want %v", got, want)
	}
	id := uint(v["id"].(float64))
	if r.header.Get("Location") != fmt.Sprintf("/api/v1/appointments/%d", id) {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	checks := map[string]any{
		"status": "scheduled", "starts_at": "2026-03-10T09:30:00+01:00", "duration_minutes": 20.0,
		"location_id": float64(e.paris.ID), "created_at": "2026-03-02T10:00:00+01:00",
	}
	for k, want := range checks {
		if v[k] != want {
			t.Errorf("%s = %v, want %v", k, v[k], want)
		}
	}
	if pv["name"] != "Ana Lopez" || pv["phone"] != "+33612345678" || pv["opted_out"] != false || pv["id"] != float64(p.ID) {
		t.Errorf("patient = %v", pv)
	}
	if msgs, ok := v["messages"].([]any); !ok || len(msgs) != 0 {
		t.Errorf("messages = %v, want []", v["messages"])
	}
	var ap models.Appointment
	if err := e.store.DB(context.Background()).First(&ap, id).Error; err != nil {
		t.Fatal(err)
	}
	if ap.Notes != "bring x-rays" || !ap.StartsAt.Equal(time.Date(2026, 3, 10, 8, 30, 0, 0, time.UTC)) {
		t.Errorf("stored %+v", ap)
	}
	var audit models.AuditEntry
	if err := e.store.DB(context.Background()).Where("action = ? AND entity_id = ?", "appointment.create", id).Take(&audit).Error; err != nil {
		t.Fatal(err)
	}
	if audit.Actor != "api:test" {
		t.Errorf("audit actor %q, want api:test", audit.Actor)
	}
}

func TestCreateAppointmentInlinePatient(t *testing.T) {
	e := newEnv(t)
	create := func(body string) api.Appointment {
		t.Helper()
		var a api.Appointment
		e.decode(http.StatusCreated, &a, http.MethodPost, "/api/v1/appointments", body)
		return a
	}
	a1 := create(fmt.Sprintf(`{"patient": {"name": "Mary Ann Smith", "phone": "06 12 34 56 78", "language": "fr"},
		"location_id": %d, "starts_at": "2026-03-10T09:30:00+01:00", "duration_minutes": 30}`, e.lyon.ID))
	var p models.Patient
	if err := e.store.DB(context.Background()).First(&p, a1.Patient.ID).Error; err != nil {
		t.Fatal(err)
	}
	if p.FirstName != "Mary" || p.LastName != "Ann Smith" || p.Phone != "+33612345678" || p.Language != "fr" {
		t.Errorf("created patient %+v", p)
	}
	if a1.LocationID != e.lyon.ID {
		t.Errorf("location %d, want %d", a1.LocationID, e.lyon.ID)
	}
	// The same person again (other case, E.164 form): reused.
	a2 := create(`{"patient": {"name": "mary ann SMITH", "phone": "+33612345678"}, "starts_at": "2026-03-11T09:30:00Z", "duration_minutes": 30}`)
	if a2.Patient.ID != a1.Patient.ID {
		t.Errorf("same phone and name made a new patient %d (first %d)", a2.Patient.ID, a1.Patient.ID)
	}
	if a2.LocationID != e.paris.ID {
		t.Errorf("no location_id: location %d, want the default %d", a2.LocationID, e.paris.ID)
	}
	// Same phone, another name (a family sharing a phone): a new patient.
	a3 := create(`{"patient": {"name": "Tom Smith", "phone": "+33612345678"}, "starts_at": "2026-03-11T10:30:00Z", "duration_minutes": 30}`)
	if a3.Patient.ID == a1.Patient.ID {
		t.Error("another name on the same phone reused the patient")
	}
	if n := e.count(&models.Patient{}); n != 2 {
		t.Errorf("%d patients, want 2", n)
	}
}

func TestCreateAppointmentErrors(t *testing.T) {
	e := newEnv(t)
	p := e.patient("Ana", "Lopez", "+33612345678")
	valid := fmt.Sprintf(`"patient_id": %d, "starts_at": "2026-03-10T09:30:00+01:00", "duration_minutes": 30`, p.ID)
	inline := `"starts_at": "2026-03-10T09:30:00+01:00", "duration_minutes": 30`
	cases := []struct {
		name, body  string
		contentType string
		want        int
		code, field string
		msg         string
	}{
		{name: "malformed JSON", body: `{"patient_id": `, want: 400, code: api.CodeMalformed},
		{name: "syntax error", body: `{"patient_id" 1}`, want: 400, code: api.CodeMalformed},
		{name: "empty body", body: ``, want: 400, code: api.CodeMalformed},
		{name: "two values", body: `{` + valid + `} {}`, want: 400, code: api.CodeMalformed},
		{name: "trailing garbage", body: `{` + valid + `}x`, want: 400, code: api.CodeMalformed},
		{name: "array body", body: `[1, 2]`, want: 422, code: api.CodeInvalid, field: "body"},
		{name: "unknown field", body: `{` + valid + `, "colour": "red"}`, want: 422, code: api.CodeInvalid, field: "colour"},
		{name: "unknown field in patient", body: `{"patient": {"name": "A B", "phone": "+33612345678", "age": 3}, ` + inline + `}`, want: 422, code: api.CodeInvalid, field: "age"},
		{name: "text content type", body: `{` + valid + `}`, contentType: "text/plain", want: 415, code: api.CodeUnsupportedMediaType},
		{name: "duration as text", body: `{"patient_id": 1, "starts_at": "2026-03-10T09:30:00+01:00", "duration_minutes": "thirty"}`, want: 422, code: api.CodeInvalid, field: "duration_minutes", msg: "whole number"},
		{name: "duration fractional", body: `{"patient_id": 1, "starts_at": "2026-03-10T09:30:00+01:00", "duration_minutes": 30.5}`, want: 422, code: api.CodeInvalid, field: "duration_minutes"},
		{name: "negative patient id", body: `{"patient_id": -1, ` + inline + `}`, want: 422, code: api.CodeInvalid, field: "patient_id"},
		{name: "missing starts_at", body: fmt.Sprintf(`{"patient_id": %d, "duration_minutes": 30}`, p.ID), want: 422, code: api.CodeInvalid, field: "starts_at", msg: "required"},
		{name: "starts_at without offset", body: fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T09:30:00", "duration_minutes": 30}`, p.ID), want: 422, code: api.CodeInvalid, field: "starts_at", msg: "RFC 3339"},
		{name: "starts_at in the past", body: fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-01T09:30:00Z", "duration_minutes": 30}`, p.ID), want: 422, code: api.CodeInvalid, field: "starts_at", msg: "future"},
		{name: "starts_at far future", body: fmt.Sprintf(`{"patient_id": %d, "starts_at": "2999-03-01T09:30:00Z", "duration_minutes": 30}`, p.ID), want: 422, code: api.CodeInvalid, field: "starts_at"},
		{name: "missing duration", body: fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T09:30:00Z"}`, p.ID), want: 422, code: api.CodeInvalid, field: "duration_minutes", msg: "required"},
		{name: "zero duration", body: fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T09:30:00Z", "duration_minutes": 0}`, p.ID), want: 422, code: api.CodeInvalid, field: "duration_minutes"},
		{name: "long duration", body: fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T09:30:00Z", "duration_minutes": 721}`, p.ID), want: 422, code: api.CodeInvalid, field: "duration_minutes"},
		{name: "notes too long", body: fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T09:30:00Z", "duration_minutes": 30, "notes": %q}`, p.ID, strings.Repeat("n", 2001)), want: 422, code: api.CodeInvalid, field: "notes"},
		{name: "unknown patient id", body: `{"patient_id": 9999, ` + inline + `}`, want: 422, code: api.CodeInvalid, field: "patient_id", msg: "not found"},
		{name: "no patient", body: `{` + inline + `}`, want: 422, code: api.CodeInvalid, field: "patient_id"},
		{name: "patient and patient_id", body: fmt.Sprintf(`{"patient_id": %d, "patient": {"name": "A B", "phone": "+33612345678"}, %s}`, p.ID, inline), want: 422, code: api.CodeInvalid, field: "patient"},
		{name: "unknown location", body: `{` + valid + `, "location_id": 9999}`, want: 422, code: api.CodeInvalid, field: "location_id"},
		{name: "inline patient bad phone", body: `{"patient": {"name": "A B", "phone": "12"}, ` + inline + `}`, want: 422, code: api.CodeInvalid, field: "patient.phone"},
		{name: "inline patient no name", body: `{"patient": {"name": " ", "phone": "+33612345678"}, ` + inline + `}`, want: 422, code: api.CodeInvalid, field: "patient.name"},
		{name: "inline patient bad language", body: `{"patient": {"name": "A B", "phone": "+33612345678", "language": "xx"}, ` + inline + `}`, want: 422, code: api.CodeInvalid, field: "patient.language"},
		{name: "inline patient name too long", body: `{"patient": {"name": "` + strings.Repeat("a", 101) + `", "phone": "+33612345678"}, ` + inline + `}`, want: 422, code: api.CodeInvalid, field: "patient.name"},
		{name: "inline patient, past start", body: `{"patient": {"name": "New Person", "phone": "+33698765432"}, "starts_at": "2020-01-01T00:00:00Z", "duration_minutes": 30}`, want: 422, code: api.CodeInvalid, field: "starts_at"},
		{name: "inline patient, unknown location", body: `{"patient": {"name": "New Person", "phone": "+33698765432"}, "location_id": 9999, ` + inline + `}`, want: 422, code: api.CodeInvalid, field: "location_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			patients, appts := e.count(&models.Patient{}), e.count(&models.Appointment{})
			var opts []reqOpt
			if c.contentType != "" {
				opts = append(opts, withHeader("Content-Type", c.contentType))
			}
			r := e.do(http.MethodPost, "/api/v1/appointments", c.body, opts...)
			if r.status != c.want {
				t.Fatalf("status %d, want %d: %s", r.status, c.want, r.body)
			}
			code, field, msg := r.errorOf(t)
			if code != c.code || field != c.field || !strings.Contains(msg, c.msg) {
				t.Errorf("error code %q field %q message %q; want code %q field %q message with %q", code, field, msg, c.code, c.field, c.msg)
			}
			if c.field != "" && !strings.Contains(msg, c.field) {
				t.Errorf("message %q does not name the field %q", msg, c.field)
			}
			if e.count(&models.Patient{}) != patients || e.count(&models.Appointment{}) != appts {
				t.Error("a refused request wrote rows")
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	big := `{"notes": "` + strings.Repeat("x", api.MaxBodyBytes) + `"}`
	t.Run("with a Content-Length", func(t *testing.T) {
		r := e.do(http.MethodPost, "/api/v1/appointments", big)
		if r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d: %.200s", r.status, r.body)
		}
		if code, _, _ := r.errorOf(t); code != api.CodeTooLarge {
			t.Errorf("code %q", code)
		}
	})
	t.Run("streamed without a length", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/patients", struct{ *strings.Reader }{strings.NewReader(big)})
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "application/json")
		r := e.send(req)
		if r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d: %.200s", r.status, r.body)
		}
	})
}

func TestGetAppointment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.patient("Ana", "Lopez", "+33612345678")
	ap := e.appointment(p.ID, e.paris.ID, time.Date(2026, 3, 10, 8, 30, 0, 0, time.UTC))
	sent := time.Date(2026, 3, 8, 8, 30, 5, 0, time.UTC)
	msgs := []models.Message{
		{
			UUID: "00000000-0000-4000-8000-000000000001", AppointmentID: &ap.ID, PatientID: &p.ID, RuleName: "48h", Kind: models.KindReminder,
			To: p.Phone, Status: models.MsgDelivered, SendAt: time.Date(2026, 3, 8, 8, 30, 0, 0, time.UTC), SentAt: &sent, ProviderID: "msg-1",
		},
		{
			UUID: "00000000-0000-4000-8000-000000000002", AppointmentID: &ap.ID, PatientID: &p.ID, RuleName: "2h", Kind: models.KindReminder,
			To: p.Phone, Status: models.MsgFailed, SendAt: time.Date(2026, 3, 10, 6, 30, 0, 0, time.UTC), Reason: "no coverage",
		},
		{
			UUID: "00000000-0000-4000-8000-000000000003", AppointmentID: &ap.ID, PatientID: &p.ID, Kind: models.KindBookingConfirm,
			To: p.Phone, Status: models.MsgPlanned, SendAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		},
	}
	if err := e.store.DB(ctx).Create(&msgs).Error; err != nil {
		t.Fatal(err)
	}
	r := e.decode(200, nil, http.MethodGet, fmt.Sprintf("/api/v1/appointments/%d", ap.ID), "")
	v := r.json(t)
	ms := v["messages"].([]any)
	if len(ms) != 3 {
		t.Fatalf("messages %v", ms)
	}
	first := ms[0].(map[string]any)
	if got, want := keys(first), sorted("id", "rule", "name", "language", "fallback", "status", "send_at", "sent_at", "provider_message_id", "error", "planned_because"); !reflect.DeepEqual(got, want) {
		t.Fatalf("message members %v, want %v", got, want)
	}
	// Ordered by send time; times in the location's zone with its offset.
	want := []map[string]any{
		{"rule": "booking_confirmation", "status": "planned", "send_at": "2026-03-02T10:00:00+01:00", "sent_at": nil, "provider_message_id": nil, "error": nil},
		{"rule": "48h", "status": "delivered", "send_at": "2026-03-08T09:30:00+01:00", "sent_at": "2026-03-08T09:30:05+01:00", "provider_message_id": "msg-1", "error": nil},
		{"rule": "2h", "status": "failed", "send_at": "2026-03-10T07:30:00+01:00", "sent_at": nil, "provider_message_id": nil, "error": "no coverage"},
	}
	for i, w := range want {
		m := ms[i].(map[string]any)
		for k, wv := range w {
			if m[k] != wv {
				t.Errorf("message %d: %s = %v, want %v", i, k, m[k], wv)
			}
		}
	}
	if v["starts_at"] != "2026-03-10T09:30:00+01:00" {
		t.Errorf("starts_at %v", v["starts_at"])
	}

	for _, path := range []string{"/api/v1/appointments/9999", "/api/v1/appointments/abc", "/api/v1/appointments/0", "/api/v1/appointments/99999999999999999999"} {
		t.Run("unknown "+path, func(t *testing.T) {
			r := e.do(http.MethodGet, path, "")
			if r.status != http.StatusNotFound {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if code, _, _ := r.errorOf(t); code != api.CodeNotFound {
				t.Errorf("code %q", code)
			}
		})
	}
}

func TestListAppointments(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.patient("Ana", "Lopez", "+33612345678")
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	// Five in Paris on 3, 4, 5, 6, 7 March; two in Lyon on 4 March.
	var paris []*models.Appointment
	for d := 3; d <= 7; d++ {
		paris = append(paris, e.appointment(p.ID, e.paris.ID, day(d, 9)))
	}
	lyon1 := e.appointment(p.ID, e.lyon.ID, day(4, 10))
	e.appointment(p.ID, e.lyon.ID, day(4, 12))
	if _, err := e.clinic.Cancel(ctx, e.clinicActor(), paris[1].ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.clinic.Confirm(ctx, e.clinicActor(), lyon1.ID, "staff"); err != nil {
		t.Fatal(err)
	}

	ids := func(pg api.Page[api.Appointment]) []uint {
		out := []uint{}
		for _, a := range pg.Data {
			out = append(out, a.ID)
		}
		return out
	}
	cases := []struct {
		query string
		want  []uint
		total int64
		page  int
		per   int
	}{
		{"", []uint{paris[0].ID, paris[1].ID, lyon1.ID, lyon1.ID + 1, paris[2].ID, paris[3].ID, paris[4].ID}, 7, 1, 50},
		{"?per_page=2", []uint{paris[0].ID, paris[1].ID}, 7, 1, 2},
		{"?per_page=2&page=2", []uint{lyon1.ID, lyon1.ID + 1}, 7, 2, 2},
		{"?per_page=2&page=4", []uint{paris[4].ID}, 7, 4, 2},
		{"?per_page=2&page=9", []uint{}, 7, 9, 2},
		{"?location_id=" + fmt.Sprint(e.lyon.ID), []uint{lyon1.ID, lyon1.ID + 1}, 2, 1, 50},
		{"?status=cancelled", []uint{paris[1].ID}, 1, 1, 50},
		{"?status=confirmed", []uint{lyon1.ID}, 1, 1, 50},
		// Dates are days in the location's zone; "to" includes its day.
		{"?from=2026-03-05&to=2026-03-06", []uint{paris[2].ID, paris[3].ID}, 2, 1, 50},
		{"?from=2026-03-04T10:00:00%2B01:00&to=2026-03-04T13:00:00%2B01:00", []uint{paris[1].ID, lyon1.ID}, 2, 1, 50},
		{"?from=2026-03-04T10:00:00Z&to=2026-03-05T00:00:00Z&location_id=" + fmt.Sprint(e.lyon.ID), []uint{lyon1.ID, lyon1.ID + 1}, 2, 1, 50},
		{"?per_page=200", []uint{paris[0].ID, paris[1].ID, lyon1.ID, lyon1.ID + 1, paris[2].ID, paris[3].ID, paris[4].ID}, 7, 1, 200},
	}
	for _, c := range cases {
		t.Run("query "+c.query, func(t *testing.T) {
			var pg api.Page[api.Appointment]
			r := e.decode(200, &pg, http.MethodGet, "/api/v1/appointments"+c.query, "")
			if got := ids(pg); !reflect.DeepEqual(got, c.want) {
				t.Errorf("ids %v, want %v", got, c.want)
			}
			if pg.Total != c.total || pg.Page != c.page || pg.PerPage != c.per {
				t.Errorf("total %d page %d per_page %d, want %d %d %d", pg.Total, pg.Page, pg.PerPage, c.total, c.page, c.per)
			}
			if got, want := keys(r.json(t)), sorted("data", "page", "per_page", "total"); !reflect.DeepEqual(got, want) {
				t.Errorf("list members %v, want %v", got, want)
			}
		})
	}

	bad := []struct{ query, field string }{
		{"?status=maybe", "status"},
		{"?from=yesterday", "from"},
		{"?to=2026-13-01", "to"},
		{"?from=2026-03-05&to=2026-03-01", "to"},
		{"?per_page=201", "per_page"},
		{"?per_page=-1", "per_page"},
		{"?page=abc", "page"},
		{"?page=-2", "page"},
		{"?location_id=x", "location_id"},
	}
	for _, c := range bad {
		t.Run("refuses "+c.query, func(t *testing.T) {
			r := e.do(http.MethodGet, "/api/v1/appointments"+c.query, "")
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if code, field, msg := r.errorOf(t); code != api.CodeInvalid || field != c.field || !strings.Contains(msg, c.field) {
				t.Errorf("code %q field %q message %q, want field %q", code, field, msg, c.field)
			}
		})
	}
}

func TestPatchAppointment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.patient("Ana", "Lopez", "+33612345678")
	start := time.Date(2026, 3, 10, 8, 30, 0, 0, time.UTC)
	path := func(id uint) string { return fmt.Sprintf("/api/v1/appointments/%d", id) }

	t.Run("reschedule resets a confirmation", func(t *testing.T) {
		ap := e.appointment(p.ID, e.paris.ID, start)
		if _, err := e.clinic.Confirm(ctx, e.clinicActor(), ap.ID, "staff"); err != nil {
			t.Fatal(err)
		}
		var got api.Appointment
		e.decode(200, &got, http.MethodPatch, path(ap.ID), `{"starts_at": "2026-03-12T14:00:00+01:00"}`)
		if got.StartsAt != "2026-03-12T14:00:00+01:00" || got.Status != "scheduled" || got.DurationMinutes != 30 {
			t.Errorf("after reschedule %+v", got)
		}
		var tl api.Timeline
		e.decode(200, &tl, http.MethodGet, path(ap.ID)+"/timeline", "")
		last := tl.Data[len(tl.Data)-1]
		if !strings.HasPrefix(last.Detail, "Rescheduled from") || !strings.Contains(last.Detail, "api:test") {
			t.Errorf("timeline ends with %+v", last)
		}
	})

	t.Run("edit duration, notes and location keeps the rest", func(t *testing.T) {
		ap := e.appointment(p.ID, e.paris.ID, start)
		var got api.Appointment
		e.decode(200, &got, http.MethodPatch, path(ap.ID), fmt.Sprintf(`{"duration_minutes": 45, "notes": "wheelchair", "location_id": %d}`, e.lyon.ID))
		if got.DurationMinutes != 45 || got.LocationID != e.lyon.ID || got.StartsAt != "2026-03-10T09:30:00+01:00" {
			t.Errorf("after edit %+v", got)
		}
		var stored models.Appointment
		e.store.DB(ctx).First(&stored, ap.ID)
		if stored.Notes != "wheelchair" {
			t.Errorf("notes %q", stored.Notes)
		}
		// Leaving notes out keeps them.
		e.decode(200, &got, http.MethodPatch, path(ap.ID), `{"duration_minutes": 50}`)
		e.store.DB(ctx).First(&stored, ap.ID)
		if stored.Notes != "wheelchair" || stored.DurationMinutes != 50 {
			t.Errorf("notes %q duration %d", stored.Notes, stored.DurationMinutes)
		}
	})

	t.Run("status changes", func(t *testing.T) {
		ap := e.appointment(p.ID, e.paris.ID, start)
		var got api.Appointment
		e.decode(200, &got, http.MethodPatch, path(ap.ID), `{"status": "confirmed"}`)
		if got.Status != "confirmed" {
			t.Errorf("status %q", got.Status)
		}
		e.decode(200, &got, http.MethodPatch, path(ap.ID), `{"status": "cancelled"}`)
		if got.Status != "cancelled" {
			t.Errorf("status %q", got.Status)
		}
		r := e.decode(409, nil, http.MethodPatch, path(ap.ID), `{"status": "confirmed"}`)
		if code, field, _ := r.errorOf(t); code != api.CodeConflict || field != "status" {
			t.Errorf("confirming a cancelled appointment: %q %q", code, field)
		}
		e.decode(200, &got, http.MethodPatch, path(ap.ID), `{"status": "scheduled"}`)
		if got.Status != "scheduled" {
			t.Errorf("restored status %q", got.Status)
		}
		// Completed only after the start.
		r = e.decode(422, nil, http.MethodPatch, path(ap.ID), `{"status": "completed"}`)
		if _, field, _ := r.errorOf(t); field != "status" {
			t.Errorf("field %q", field)
		}
	})

	ap := e.appointment(p.ID, e.paris.ID, start)
	bad := []struct {
		name, path, body string
		want             int
		field            string
	}{
		{"empty object", path(ap.ID), `{}`, 422, "body"},
		{"status with edits", path(ap.ID), `{"status": "confirmed", "notes": "x"}`, 422, "status"},
		{"unknown status", path(ap.ID), `{"status": "maybe"}`, 422, "status"},
		{"past start", path(ap.ID), `{"starts_at": "2026-03-01T10:00:00Z"}`, 422, "starts_at"},
		{"start without offset", path(ap.ID), `{"starts_at": "2026-03-12 10:00"}`, 422, "starts_at"},
		{"zero duration", path(ap.ID), `{"duration_minutes": 0}`, 422, "duration_minutes"},
		{"zero location", path(ap.ID), `{"location_id": 0}`, 422, "location_id"},
		{"unknown location", path(ap.ID), `{"location_id": 9999}`, 422, "location_id"},
		{"patient cannot change", path(ap.ID), `{"patient_id": 1}`, 422, "patient_id"},
		{"malformed", path(ap.ID), `{"notes": `, 400, ""},
		{"unknown id", path(9999), `{"notes": "x"}`, 404, ""},
		{"unknown id with status", path(9999), `{"status": "confirmed"}`, 404, ""},
	}
	for _, c := range bad {
		t.Run("refuses "+c.name, func(t *testing.T) {
			r := e.do(http.MethodPatch, c.path, c.body)
			if r.status != c.want {
				t.Fatalf("status %d, want %d: %s", r.status, c.want, r.body)
			}
			if _, field, _ := r.errorOf(t); field != c.field {
				t.Errorf("field %q, want %q", field, c.field)
			}
		})
	}
}

func TestCancelAppointment(t *testing.T) {
	e := newEnv(t)
	p := e.patient("Ana", "Lopez", "+33612345678")
	ap := e.appointment(p.ID, e.paris.ID, time.Date(2026, 3, 10, 8, 30, 0, 0, time.UTC))
	path := fmt.Sprintf("/api/v1/appointments/%d/cancel", ap.ID)

	r := e.do(http.MethodPost, path, `{"reason": "`+strings.Repeat("r", 301)+`"}`)
	if r.status != 422 {
		t.Fatalf("long reason: status %d", r.status)
	}
	if _, field, _ := r.errorOf(t); field != "reason" {
		t.Errorf("field %q", field)
	}
	if r := e.do(http.MethodPost, path, `{"reason": 1}`); r.status != 422 {
		t.Errorf("reason as a number: status %d", r.status)
	}
	if r := e.do(http.MethodPost, path, `{"why": "x"}`); r.status != 422 {
		t.Errorf("unknown member: status %d", r.status)
	}
	if r := e.do(http.MethodPost, path, `{`); r.status != 400 {
		t.Errorf("malformed: status %d", r.status)
	}

	var got api.Appointment
	e.decode(200, &got, http.MethodPost, path, `{"reason": "patient called"}`)
	if got.Status != "cancelled" {
		t.Fatalf("status %q", got.Status)
	}
	// A retry (no body this time) answers the same and writes nothing.
	entries := e.count(&models.TimelineEntry{})
	e.decode(200, &got, http.MethodPost, path, "")
	if got.Status != "cancelled" || e.count(&models.TimelineEntry{}) != entries {
		t.Errorf("second cancel: status %q, timeline grew", got.Status)
	}
	var tl api.Timeline
	e.decode(200, &tl, http.MethodGet, fmt.Sprintf("/api/v1/appointments/%d/timeline", ap.ID), "")
	if last := tl.Data[len(tl.Data)-1]; last.Detail != "Cancelled by api:test: patient called" {
		t.Errorf("timeline ends with %+v", last)
	}
	if r := e.do(http.MethodPost, "/api/v1/appointments/9999/cancel", ""); r.status != 404 {
		t.Errorf("unknown id: status %d", r.status)
	}
}

func TestTimeline(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.patient("Ana", "Lopez", "+33612345678")
	ap := e.appointment(p.ID, e.paris.ID, time.Date(2026, 3, 10, 8, 30, 0, 0, time.UTC))
	e.clock.Add(time.Hour)
	reply := models.TimelineEntry{AppointmentID: ap.ID, At: t0.Add(30 * time.Minute), Kind: models.TimelineReply, Detail: "Reply: YES"}
	if err := e.store.DB(ctx).Create(&reply).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := e.clinic.Cancel(ctx, e.clinicActor(), ap.ID, ""); err != nil {
		t.Fatal(err)
	}
	r := e.decode(200, nil, http.MethodGet, fmt.Sprintf("/api/v1/appointments/%d/timeline", ap.ID), "")
	if got, want := keys(r.json(t)), []string{"data"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("timeline members %v", got)
	}
	var tl api.Timeline
	e.decode(200, &tl, http.MethodGet, fmt.Sprintf("/api/v1/appointments/%d/timeline", ap.ID), "")
	want := []api.TimelineItem{
		{At: "2026-03-02T10:00:00+01:00", Kind: "system"},
		{At: "2026-03-02T10:30:00+01:00", Kind: "reply", Detail: "Reply: YES"},
		{At: "2026-03-02T11:00:00+01:00", Kind: "system", Detail: "Cancelled by test-actor"},
	}
	if len(tl.Data) != len(want) {
		t.Fatalf("timeline %+v", tl.Data)
	}
	for i, w := range want {
		g := tl.Data[i]
		if g.At != w.At || g.Kind != w.Kind || !strings.HasPrefix(g.Detail, w.Detail) {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
	for _, path := range []string{"/api/v1/appointments/9999/timeline", "/api/v1/appointments/x/timeline"} {
		if r := e.do(http.MethodGet, path, ""); r.status != 404 {
			t.Errorf("%s: status %d", path, r.status)
		}
	}
}
