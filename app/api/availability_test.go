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
	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

func TestProviderHoursRoundTrip(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.clinic.CreateProvider(ctx, models.SystemActor(), clinic.ProviderInput{Name: "Dr Lee", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/providers/%d/hours", p.ID)

	var h api.Hours
	e.decode(http.StatusOK, &h, http.MethodGet, path, "")
	if h.Set || h.Owner != "provider" || h.ID != p.ID || len(h.Exceptions) != 0 || h.UpdatedAt != nil {
		t.Fatalf("before saving: %+v", h)
	}

	body := `{"weekly": {"mon": ["13:00-17:00", "09:00-12:00"], "tuesday": "09:00-12:00", "sat": "closed"},
		"exceptions": [{"from": "2026-12-25", "note": "Christmas"}, {"from": "2026-08-03", "to": "2026-08-14", "hours": ["09:00-11:00"]}],
		"buffer_before_minutes": 5, "buffer_after_minutes": 10}`
	e.decode(http.StatusOK, &h, http.MethodPut, path, body)
	if !h.Set || h.Weekly.String() != "mon 09:00-12:00,13:00-17:00\ntue 09:00-12:00" || h.BufferBeforeMinutes != 5 || h.BufferAfterMinutes != 10 || h.UpdatedAt == nil {
		t.Fatalf("saved: %+v (%q)", h, h.Weekly.String())
	}
	r := e.decode(http.StatusOK, nil, http.MethodGet, path, "")
	want := `"weekly":{"mon":["09:00-12:00","13:00-17:00"],"tue":["09:00-12:00"],"wed":[],"thu":[],"fri":[],"sat":[],"sun":[]},` +
		`"exceptions":[{"from":"2026-12-25","note":"Christmas"},{"from":"2026-08-03","to":"2026-08-14","hours":["09:00-11:00"]}]`
	if !strings.Contains(string(r.body), want) {
		t.Errorf("GET answers\n%s\nwant it to contain\n%s", r.body, want)
	}

	for name, tc := range map[string]struct{ body, field string }{
		"overlap":         {`{"weekly": {"tue": ["09:00-12:00", "11:00-13:00"]}}`, "weekly.tue"},
		"bad clock":       {`{"weekly": {"wed": ["9h-12h"]}}`, "weekly.wed[0]"},
		"bad day":         {`{"weekly": {"funday": []}}`, "weekly.funday"},
		"no weekly":       {`{"exceptions": []}`, "weekly"},
		"bad date":        {`{"weekly": {}, "exceptions": [{"from": "2026-02-30"}]}`, "exceptions[0]"},
		"to before from":  {`{"weekly": {}, "exceptions": [{"from": "2026-05-02", "to": "2026-05-01"}]}`, "exceptions[0].to"},
		"shared date":     {`{"weekly": {}, "exceptions": [{"from": "2026-05-01"}, {"from": "2026-04-30", "to": "2026-05-03"}]}`, "exceptions"},
		"unknown member":  {`{"weekly": {}, "exceptions": [{"from": "2026-05-01", "colour": "red"}]}`, "exceptions[0].colour"},
		"not a list":      {`{"weekly": {}, "exceptions": {"from": "2026-05-01"}}`, "exceptions"},
		"buffer too long": {`{"weekly": {}, "buffer_after_minutes": 241}`, "buffer_after_minutes"},
		"buffer type":     {`{"weekly": {}, "buffer_after_minutes": "10"}`, "buffer_after_minutes"},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do(http.MethodPut, path, tc.body)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if _, field, _ := r.errorOf(t); field != tc.field {
				t.Errorf("field %q, want %q (%s)", field, tc.field, r.body)
			}
		})
	}
	// Nothing refused was stored.
	e.decode(http.StatusOK, &h, http.MethodGet, path, "")
	if h.BufferAfterMinutes != 10 || len(h.Exceptions) != 2 {
		t.Errorf("after refused changes: %+v", h)
	}

	// Read-only tokens read but do not write.
	ro, _, err := e.api.Tokens().CreateWith(ctx, models.SystemActor(), api.TokenInput{Name: "ro", Scope: models.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(http.MethodPut, path, `{"weekly": {}}`, withToken(ro)); r.status != http.StatusForbidden {
		t.Errorf("read-only PUT: %d", r.status)
	}
	if r := e.do(http.MethodGet, path, "", withToken(ro)); r.status != http.StatusOK {
		t.Errorf("read-only GET: %d", r.status)
	}

	e.decode(http.StatusNoContent, nil, http.MethodDelete, path, "")
	e.decode(http.StatusOK, &h, http.MethodGet, path, "")
	if h.Set {
		t.Error("still set after DELETE")
	}
	for _, p := range []string{"/api/v1/providers/999/hours", "/api/v1/locations/999/hours", "/api/v1/providers/x/hours"} {
		if r := e.do(http.MethodGet, p, ""); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, r.status)
		}
	}
	if r := e.do(http.MethodPut, "/api/v1/providers/999/hours", `{"weekly": {}}`); r.status != http.StatusNotFound {
		t.Errorf("PUT on an unknown provider: %d %s", r.status, r.body)
	}
}

func TestAppointmentSlots(t *testing.T) {
	e := newEnv(t)
	pa := e.patient("Ana", "Lima", "+33612345678")
	// Tuesday 3 March, 09:00 in Paris.
	a := e.appointment(pa.ID, e.paris.ID, time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC))
	path := fmt.Sprintf("/api/v1/appointments/%d/slots", a.ID)

	var got api.Slots
	e.decode(http.StatusOK, &got, http.MethodGet, path, "")
	if got.HoursSet || len(got.Data) != 0 || got.TimeZone != "Europe/Paris" {
		t.Fatalf("without hours: %+v", got)
	}

	e.decode(http.StatusOK, nil, http.MethodPut, fmt.Sprintf("/api/v1/locations/%d/hours", e.paris.ID),
		`{"weekly": {"tue": ["09:00-10:30"], "wed": ["09:00-10:00"]}, "buffer_after_minutes": 15}`)
	// Another provider-less appointment at 10:00 Tuesday holds 10:00-10:45.
	e.appointment(pa.ID, e.paris.ID, time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC))

	e.decode(http.StatusOK, &got, http.MethodGet, path+"?after=2026-03-03&limit=4", "")
	var starts []string
	for _, s := range got.Data {
		starts = append(starts, s.StartsAt)
	}
	// The appointment's own 09:00 is free for it; 09:15-09:45 and its
	// 15-minute buffer end as the 10:00 one starts; 09:30 to 10:15 is
	// taken.
	want := []string{"2026-03-03T09:00:00+01:00", "2026-03-03T09:15:00+01:00", "2026-03-04T09:00:00+01:00", "2026-03-04T09:15:00+01:00"}
	if fmt.Sprint(starts) != fmt.Sprint(want) || !got.HoursSet {
		t.Errorf("slots %v (hours set %v), want %v", starts, got.HoursSet, want)
	}

	e.decode(http.StatusOK, &got, http.MethodGet, path+"?after=2026-03-04T09:20:00%2B01:00", "")
	if len(got.Data) == 0 || got.Data[0].StartsAt != "2026-03-04T09:30:00+01:00" {
		t.Errorf("after an instant: %+v", got.Data)
	}

	for q, field := range map[string]string{"?limit=0": "limit", "?limit=51": "limit", "?limit=x": "limit", "?after=tomorrow": "after"} {
		r := e.do(http.MethodGet, path+q, "")
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", q, r.status)
			continue
		}
		if _, f, _ := r.errorOf(t); f != field {
			t.Errorf("%s: field %q, want %q", q, f, field)
		}
	}
	if r := e.do(http.MethodGet, "/api/v1/appointments/9999/slots", ""); r.status != http.StatusNotFound {
		t.Errorf("unknown appointment: %d", r.status)
	}
}

// FuzzPutHoursBody puts arbitrary bodies to PUT /locations/{id}/hours:
// none may cause a 500; a 200 answers hours that read back the same, and
// anything else is a JSON error envelope.
func FuzzPutHoursBody(f *testing.F) {
	e := newEnv(f)
	path := fmt.Sprintf("/api/v1/locations/%d/hours", e.paris.ID)
	for _, s := range []string{
		`{"weekly": {"mon": ["09:00-12:00", "13:00-17:00"], "fri": "09:00-13:00"}, "exceptions": [{"from": "2026-12-25"}], "buffer_after_minutes": 10}`,
		`{"weekly": {"sun": ["20:00-24:00"], "monday": ["00:00-04:00"]}, "exceptions": [{"from": "2026-01-01", "to": "2026-12-31", "hours": ["10:00-11:00"], "note": "x"}]}`,
		`{"weekly": {"tue": ["24:00-24:00"]}}`, `{"weekly": {"wed": [null]}}`, `{"weekly": null, "exceptions": null}`,
		`{"weekly": {}, "exceptions": [{"from": "0000-01-01"}, {"from": "9999-12-31", "to": "10000-01-01"}]}`,
		`{"weekly": {"thu": "closed"}, "buffer_before_minutes": -5}`, `{"weekly": []}`, `[]`, `{}`, `{"weekly":`, "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := e.with(t).do(http.MethodPut, path, body)
		if r.status >= 500 {
			t.Fatalf("status %d for %q: %s", r.status, body, r.body)
		}
		if r.status == http.StatusOK {
			var put, got api.Hours
			if err := json.Unmarshal(r.body, &put); err != nil || !put.Set {
				t.Fatalf("200 without hours: %v %s", err, r.body)
			}
			back := e.with(t).decode(http.StatusOK, &got, http.MethodGet, path, "")
			if string(back.body) != string(r.body) {
				t.Fatalf("PUT answered\n%s\nGET answers\n%s", r.body, back.body)
			}
			return
		}
		var eb api.ErrorBody
		if err := json.Unmarshal(r.body, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("status %d without an error envelope for %q: %s", r.status, body, r.body)
		}
	})
}
