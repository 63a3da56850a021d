package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

func TestLocationsAndProviders(t *testing.T) {
	e := newEnv(t)
	var locs api.List[api.Location]
	e.decode(http.StatusOK, &locs, http.MethodGet, "/api/v1/locations", "")
	if len(locs.Data) != 2 || !locs.Data[0].IsDefault && !locs.Data[1].IsDefault {
		t.Fatalf("locations %+v", locs.Data)
	}
	var nice api.Location
	r := e.decode(http.StatusCreated, &nice, http.MethodPost, "/api/v1/locations",
		`{"name": "Nice", "time_zone": "Europe/Paris", "country": "FR", "quiet_start": "21:00", "quiet_end": "08:00"}`)
	if nice.Name != "Nice" || nice.IsDefault || nice.QuietStart != "21:00" || r.header.Get("Location") != fmt.Sprintf("/api/v1/locations/%d", nice.ID) {
		t.Errorf("created %+v", nice)
	}
	var moved api.Location
	e.decode(http.StatusOK, &moved, http.MethodPatch, fmt.Sprintf("/api/v1/locations/%d", nice.ID), `{"address": "1 promenade des Anglais"}`)
	if moved.Address != "1 promenade des Anglais" || moved.QuietStart != "21:00" || moved.TimeZone != "Europe/Paris" {
		t.Errorf("patched %+v", moved)
	}
	for _, c := range []struct{ method, path, body, field string }{
		{http.MethodPost, "/api/v1/locations", `{"name": "Nice", "time_zone": "Europe/Paris", "country": "FR"}`, "name"},
		{http.MethodPost, "/api/v1/locations", `{"name": "Mars", "time_zone": "Mars/Olympus", "country": "FR"}`, "time_zone"},
		{http.MethodPatch, fmt.Sprintf("/api/v1/locations/%d", e.paris.ID), `{"is_default": false}`, "is_default"},
		{http.MethodPost, "/api/v1/providers", `{"name": ""}`, "name"},
		{http.MethodPost, "/api/v1/providers", `{"name": "Dr X", "location_id": 999}`, "location_id"},
	} {
		if r := e.do(c.method, c.path, c.body); r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s %s %s: status %d: %s", c.method, c.path, c.body, r.status, r.body)
		} else if _, field, _ := r.errorOf(t); field != c.field {
			t.Errorf("%s: field %q, want %q", c.body, field, c.field)
		}
	}
	if r := e.do(http.MethodPatch, "/api/v1/locations/9999", `{"name": "x"}`); r.status != http.StatusNotFound {
		t.Errorf("unknown location: %d", r.status)
	}

	var dr api.Provider
	e.decode(http.StatusCreated, &dr, http.MethodPost, "/api/v1/providers", fmt.Sprintf(`{"name": "Dr Durand", "location_id": %d}`, nice.ID))
	if !dr.Active || dr.LocationID == nil || *dr.LocationID != nice.ID {
		t.Errorf("provider %+v", dr)
	}
	e.decode(http.StatusOK, &dr, http.MethodPatch, fmt.Sprintf("/api/v1/providers/%d", dr.ID), `{"active": false}`)
	if dr.Active || dr.LocationID == nil || dr.Name != "Dr Durand" {
		t.Errorf("deactivated %+v", dr)
	}
	e.decode(http.StatusOK, &dr, http.MethodPatch, fmt.Sprintf("/api/v1/providers/%d", dr.ID), `{"location_id": null}`)
	if dr.LocationID != nil {
		t.Errorf("anywhere %+v", dr)
	}
	var ps api.List[api.Provider]
	e.decode(http.StatusOK, &ps, http.MethodGet, fmt.Sprintf("/api/v1/providers?location_id=%d", e.lyon.ID), "")
	if len(ps.Data) != 1 || ps.Data[0].ID != dr.ID {
		t.Errorf("providers %+v", ps.Data)
	}
	// A read-only token reads but does not write.
	ro, _, err := e.api.Tokens().CreateWith(t.Context(), e.clinicActor(), api.TokenInput{Name: "ro", Scope: models.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(http.MethodGet, "/api/v1/providers", "", withToken(ro)); r.status != http.StatusOK {
		t.Errorf("read-only list: %d", r.status)
	}
	if r := e.do(http.MethodPost, "/api/v1/providers", `{"name": "Dr Y"}`, withToken(ro)); r.status != http.StatusForbidden {
		t.Errorf("read-only create: %d", r.status)
	}
}
