package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

func TestWebhookEndpointsLifecycle(t *testing.T) {
	e := newEnv(t)
	var created api.WebhookEndpoint
	r := e.decode(http.StatusCreated, &created, http.MethodPost, "/api/v1/webhook-endpoints",
		`{"url": "https://erp.example.com/hooks", "events": ["appointment.confirmed", "patient.opted_out"], "description": "Practice system"}`)
	if !strings.HasPrefix(created.Secret, "whsec_") || created.ID == 0 || !created.Enabled || created.IncludePhone ||
		strings.Join(created.Events, ",") != "appointment.confirmed,patient.opted_out" || created.Description != "Practice system" {
		t.Fatalf("created %+v", created)
	}
	path := "/api/v1/webhook-endpoints/" + strconv.FormatUint(uint64(created.ID), 10)
	if loc := r.header.Get("Location"); loc != path {
		t.Errorf("Location %q", loc)
	}

	// The secret is shown once.
	for _, p := range []string{"/api/v1/webhook-endpoints", path} {
		if r := e.do(http.MethodGet, p, ""); r.status != 200 || strings.Contains(string(r.body), created.Secret) || strings.Contains(string(r.body), `"secret"`) {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}

	var patched api.WebhookEndpoint
	e.decode(http.StatusOK, &patched, http.MethodPatch, path, `{"events": ["appointment.cancelled"], "include_phone": true, "enabled": false}`)
	if strings.Join(patched.Events, ",") != "appointment.cancelled" || !patched.IncludePhone || patched.Enabled || patched.URL != created.URL {
		t.Fatalf("patched %+v", patched)
	}

	var rotated api.WebhookEndpoint
	e.decode(http.StatusOK, &rotated, http.MethodPost, path+"/rotate-secret", "")
	if rotated.Secret == created.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.OldSecretUntil == nil ||
		rotated.OldSecretUntil.Sub(e.clock.Now()).Hours() != 24 {
		t.Fatalf("rotated %+v", rotated)
	}

	var queued api.WebhookDelivery
	e.decode(http.StatusAccepted, &queued, http.MethodPost, path+"/test", "")
	if queued.Type != "webhook.test" || queued.Status != "pending" || !strings.HasPrefix(queued.WebhookID, "msg_") {
		t.Fatalf("test delivery %+v", queued)
	}
	var list struct{ Data []api.WebhookDelivery }
	e.decode(http.StatusOK, &list, http.MethodGet, path+"/deliveries", "")
	if len(list.Data) != 1 || list.Data[0].ID != queued.ID {
		t.Fatalf("deliveries %+v", list)
	}

	if r := e.do(http.MethodDelete, path, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodGet, path, ""); r.status != http.StatusNotFound {
		t.Fatalf("GET after DELETE: %d", r.status)
	}
	var n int64
	e.store.DB(context.Background()).Model(&models.WebhookDelivery{}).Count(&n)
	if n != 0 {
		t.Errorf("%d deliveries left after DELETE", n)
	}
}

func TestWebhookEndpointErrorsNameTheField(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		body, field string
		status      int
	}{
		{`{"url": "http://erp.example.com/", "events": ["appointment.created"]}`, "url", 422},
		{`{"url": "https://10.0.0.8/", "events": ["appointment.created"]}`, "url", 422},
		{`{"url": "https://erp.example.com/", "events": []}`, "events", 422},
		{`{"url": "https://erp.example.com/"}`, "events", 422},
		{`{"url": "https://erp.example.com/", "events": ["nope"]}`, "events", 422},
		{`{"url": "https://erp.example.com/", "events": "appointment.created"}`, "events", 422},
		{`{"url": "https://erp.example.com/", "events": ["appointment.created"], "secret": "whsec_x"}`, "secret", 422},
	} {
		r := e.do(http.MethodPost, "/api/v1/webhook-endpoints", c.body)
		if r.status != c.status {
			t.Errorf("%s: %d %s", c.body, r.status, r.body)
			continue
		}
		if _, field, _ := r.errorOf(t); field != c.field {
			t.Errorf("%s: field %q, want %q", c.body, field, c.field)
		}
	}
	if r := e.do(http.MethodPatch, "/api/v1/webhook-endpoints/999", `{"enabled": true}`); r.status != 404 {
		t.Errorf("PATCH unknown: %d", r.status)
	}
	// A read-only token reads but does not register.
	ro, _, err := e.api.Tokens().CreateWith(context.Background(), models.SystemActor(), api.TokenInput{Name: "ro", Scope: models.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(http.MethodPost, "/api/v1/webhook-endpoints", `{"url": "https://erp.example.com/", "events": ["appointment.created"]}`, withToken(ro)); r.status != http.StatusForbidden {
		t.Errorf("read-only POST: %d", r.status)
	}
	if r := e.do(http.MethodGet, "/api/v1/webhook-endpoints", "", withToken(ro)); r.status != 200 {
		t.Errorf("read-only GET: %d", r.status)
	}
}
