package web

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/outbound"
	"apptconfirm/models"
)

// withOutbound serves Admin → Webhooks, private addresses allowed (the
// receivers are local).
func withOutbound(svc **outbound.Service) appOption {
	return withDeps(func(a *testApp, d *Deps) {
		*svc = outbound.New(a.store, outbound.Options{AllowPrivate: true, Now: func() time.Time { return a.now }})
		d.Outbound = *svc
	})
}

var secretRE = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

func TestWebhookPagesCreateTestResendRotate(t *testing.T) {
	var svc *outbound.Service
	a := newTestApp(t, withOutbound(&svc))
	a.addUser("admin@example.com", models.RoleAdmin)
	a.addUser("staff@example.com", models.RoleStaff)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(receiver.Close)

	staff := a.browser()
	staff.login("staff@example.com")
	if code, _ := staff.get("/admin/webhooks"); code != http.StatusForbidden {
		t.Fatalf("staff sees the webhooks: %d", code)
	}

	b := a.browser()
	b.login("admin@example.com")
	if code, body := b.get("/admin"); code != 200 || !strings.Contains(body, `href="/admin/webhooks"`) {
		t.Fatalf("admin index lacks webhooks: %d", code)
	}
	code, body := b.get("/admin/webhooks")
	if code != 200 || !strings.Contains(body, "No webhooks yet") || !strings.Contains(body, `value="appointment.no_show"`) {
		t.Fatalf("list: %d %s", code, body)
	}
	resp, body := b.post("/admin/webhooks", url.Values{"url": {"ftp://x"}, "description": {"ERP"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "must start with https://") || !strings.Contains(body, "List at least one event type") ||
		!strings.Contains(body, `value="ERP"`) {
		t.Fatalf("invalid create: %d %s", resp.StatusCode, body)
	}
	resp, body = b.post("/admin/webhooks", url.Values{
		"url": {receiver.URL + "/in"}, "description": {"ERP"}, "events": {"appointment.confirmed", "patient.opted_out"}, "include_phone": {"1"},
	})
	secret := secretRE.FindString(html.UnescapeString(body))
	if resp.StatusCode != 200 || secret == "" || !strings.Contains(body, receiver.URL+"/in") {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("the page with the secret may be cached")
	}
	eps, _ := svc.Endpoints(context.Background())
	if len(eps) != 1 || eps[0].Secret != secret || !eps[0].IncludePhone || eps[0].Events != "appointment.confirmed,patient.opted_out" {
		t.Fatalf("stored %+v", eps)
	}
	page := "/admin/webhooks/" + itoa(eps[0].ID)
	if _, body := b.get("/admin/webhooks"); strings.Contains(html.UnescapeString(body), secret) {
		t.Fatal("the secret is shown again")
	}

	resp, _ = b.post(page+"/test", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("test: %d", resp.StatusCode)
	}
	w := outbound.NewWorker(a.store, outbound.WorkerOptions{Client: outbound.NewClient(true, 2*time.Second), Now: func() time.Time { return a.now }})
	if n, err := w.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d %v", n, err)
	}
	code, body = b.get(page)
	if code != 200 || !strings.Contains(body, "Test event queued") || !strings.Contains(body, "webhook.test") || !strings.Contains(body, "HTTP 202") ||
		!strings.Contains(body, "{&#34;ok&#34;:true}") || !strings.Contains(body, "Send again") || strings.Contains(html.UnescapeString(body), secret) {
		t.Fatalf("endpoint page: %d %s", code, body)
	}
	ds, _ := svc.Deliveries(context.Background(), eps[0].ID, 10)
	resp, _ = b.post(page+"/deliveries/"+itoa(ds[0].ID)+"/resend", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend: %d", resp.StatusCode)
	}
	if ds, _ = svc.Deliveries(context.Background(), eps[0].ID, 10); len(ds) != 2 || ds[0].MsgID != ds[1].MsgID || ds[0].Status != models.DeliveryPending {
		t.Fatalf("after resend %+v", ds)
	}

	// The resent delivery waits for the worker; its badge says so in words.
	if _, body := b.get(page); !strings.Contains(body, `<span class="badge planned">waiting</span>`) || strings.Contains(body, ">pending<") {
		t.Fatalf("a waiting delivery's badge: %s", body)
	}

	_, body = b.post(page+"/rotate", nil)
	if s := secretRE.FindString(html.UnescapeString(body)); s == "" || s == secret || !strings.Contains(body, "also signs until") {
		t.Fatalf("rotate: %s", body)
	}

	resp, _ = b.post(page, url.Values{"url": {receiver.URL + "/v2"}, "events": {"appointment.cancelled"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	e, _ := svc.Endpoint(context.Background(), eps[0].ID)
	if e.URL != receiver.URL+"/v2" || e.Events != "appointment.cancelled" || e.Enabled || e.IncludePhone {
		t.Fatalf("updated %+v", e)
	}
	resp, _ = b.post(page+"/delete", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if code, _ := b.get(page); code != http.StatusNotFound {
		t.Fatalf("after delete: %d", code)
	}
}

func TestWebhookPageShowsWhyItWasDisabled(t *testing.T) {
	var svc *outbound.Service
	a := newTestApp(t, withOutbound(&svc))
	a.addUser("admin@example.com", models.RoleAdmin)
	u := "https://erp.example.com/in"
	e, err := svc.Create(context.Background(), models.SystemActor(), outbound.EndpointInput{URL: &u, Events: []string{"appointment.created"}})
	if err != nil {
		t.Fatal(err)
	}
	since := a.now.Add(-80 * time.Hour)
	a.store.DB(context.Background()).Model(&models.WebhookEndpoint{}).Where("id = ?", e.ID).Update("failing_since", since)
	w := outbound.NewWorker(a.store, outbound.WorkerOptions{Now: func() time.Time { return a.now }})
	if n, err := w.DisableFailing(context.Background()); n != 1 || err != nil {
		t.Fatalf("DisableFailing = %d %v", n, err)
	}
	b := a.browser()
	b.login("admin@example.com")
	_, body := b.get("/admin/webhooks/" + itoa(e.ID))
	if !strings.Contains(body, `id="disabled-reason"`) || !strings.Contains(body, "every delivery failed since") {
		t.Fatalf("page: %s", body)
	}
	_, body = b.get("/admin/webhooks")
	if !strings.Contains(body, "disabled") {
		t.Fatalf("list: %s", body)
	}
}
