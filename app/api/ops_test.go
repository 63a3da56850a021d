package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/api"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodGet, "/healthz", "", withToken(""))
	if r.status != 200 || string(r.body) != "ok\n" {
		t.Fatalf("status %d body %q", r.status, r.body)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
}

// opsEngine serves only the operations endpoints over store.
func opsEngine(store *models.Store) *gin.Engine {
	eng := gin.New()
	a := api.New(api.Deps{Store: store})
	eng.GET("/healthz", a.Healthz)
	eng.GET("/readyz", a.Readyz)
	eng.GET("/metrics", a.Metrics)
	return eng
}

func readyz(t *testing.T, h http.Handler, token ...string) (int, api.Readiness) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	for _, tok := range token {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	h.ServeHTTP(rec, req)
	var r api.Readiness
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("readyz body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, r
}

func TestReadyz(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		e := newEnv(t)
		r := e.do(http.MethodGet, "/readyz", "", withToken(""))
		var got api.Readiness
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || got.Status != "ready" {
			t.Fatalf("status %d %+v %v", r.status, got, err)
		}
		if got.Checks["database"] != "ok" || got.Checks["schema"] != "ok" {
			t.Errorf("checks %v", got.Checks)
		}
	})
	t.Run("schema out of date", func(t *testing.T) {
		st, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: filepath.Join(t.TempDir(), "old.db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		// Anonymous callers learn which check failed, not why.
		code, r := readyz(t, opsEngine(st))
		if code != http.StatusServiceUnavailable || r.Status != "unavailable" || r.Reason != "" ||
			r.Checks["database"] != "ok" || r.Checks["schema"] != "failed" {
			t.Fatalf("anonymous: status %d %+v", code, r)
		}
		// A bad token is anonymous too.
		if _, r := readyz(t, opsEngine(st), api.TokenPrefix+strings.Repeat("x", 43)); r.Reason != "" || r.Checks["schema"] != "failed" {
			t.Fatalf("bad token: %+v", r)
		}
	})
	t.Run("schema newer than the build, asked by an operator", func(t *testing.T) {
		st := storetest.SQLite(t)
		plain, _, err := api.NewTokens(st, nil).CreateWith(context.Background(), models.SystemActor(), api.TokenInput{Name: "monitor", Scope: models.ScopeRead})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.DB(context.Background()).Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', ?)",
			models.LatestVersion()+1, time.Now()).Error; err != nil {
			t.Fatal(err)
		}
		if _, r := readyz(t, opsEngine(st)); r.Reason != "" || r.Checks["schema"] != "failed" {
			t.Fatalf("anonymous: %+v", r)
		}
		code, r := readyz(t, opsEngine(st), plain)
		if code != http.StatusServiceUnavailable || !strings.Contains(r.Reason, "newer than this build") || !strings.Contains(r.Checks["schema"], "newer") {
			t.Fatalf("with a token: status %d %+v", code, r)
		}
	})
	t.Run("database closed", func(t *testing.T) {
		st := storetest.SQLite(t)
		h := opsEngine(st)
		if code, _ := readyz(t, h); code != 200 {
			t.Fatalf("open database: status %d", code)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		code, r := readyz(t, h)
		if code != http.StatusServiceUnavailable || r.Reason != "" || r.Checks["database"] != "failed" || r.Checks["schema"] != "not checked" {
			t.Fatalf("status %d %+v", code, r)
		}
		for _, v := range r.Checks {
			if strings.Contains(v, "closed") {
				t.Fatalf("the error text reached an anonymous caller: %+v", r)
			}
		}
	})
}

func TestDatabaseDownAnswers503(t *testing.T) {
	e := newEnv(t)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/patients", "/api/v1/appointments/1"} {
		r := e.do(http.MethodGet, path, "")
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("%s: status %d: %s", path, r.status, r.body)
		}
		if code, _, _ := r.errorOf(t); code != api.CodeUnavailable {
			t.Errorf("code %q", code)
		}
	}
}

func TestMetricsEndpoint(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := t0
	inbox := []models.InboundMessage{
		{ProviderID: "in-1", From: "+33600000001", Text: "what?", NeedsAttention: true, ReceivedAt: now},
		{ProviderID: "in-2", From: "+33600000002", Text: "hmm", NeedsAttention: true, ReceivedAt: now},
		{ProviderID: "in-3", From: "+33600000003", Text: "done", NeedsAttention: true, ReceivedAt: now, HandledAt: &now},
		{ProviderID: "in-4", From: "+33600000004", Text: "YES", ReceivedAt: now},
	}
	if err := e.store.DB(ctx).Create(&inbox).Error; err != nil {
		t.Fatal(err)
	}
	e.decode(200, nil, http.MethodGet, "/api/v1/patients", "")
	e.decode(200, nil, http.MethodGet, "/api/v1/patients", "")
	e.do(http.MethodGet, "/api/v1/patients", "", withToken(""))
	e.do(http.MethodGet, "/api/v1/appointments/77", "")
	e.do(http.MethodDelete, "/api/v1/patients", "")
	e.metrics.MessageSent("delivered")
	e.metrics.MessageSent("made-up")
	e.metrics.WebhookEvents("receive_sms", 1)
	e.metrics.ObserveDispatch(120 * time.Millisecond)
	e.metrics.ObserveWebhook(3 * time.Millisecond)

	r := e.do(http.MethodGet, "/metrics", "", withToken(""))
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	text := string(r.body)
	for _, want := range []string{
		`apptconfirm_http_requests_total{route="/api/v1/patients",status="200"} 2`,
		`apptconfirm_http_requests_total{route="/api/v1/patients",status="401"} 1`,
		`apptconfirm_http_requests_total{route="/api/v1/appointments/:id",status="404"} 1`,
		`apptconfirm_http_requests_total{route="unmatched",status="405"} 1`,
		`apptconfirm_messages_sent_total{status="delivered"} 1`,
		`apptconfirm_messages_sent_total{status="other"} 1`,
		`apptconfirm_messages_sent_total{status="failed"} 0`,
		`apptconfirm_webhook_events_total{event="receive_sms"} 1`,
		`apptconfirm_webhook_events_total{event="dlr_update"} 0`,
		`apptconfirm_dispatch_duration_seconds_count 1`,
		`apptconfirm_dispatch_duration_seconds_bucket{le="0.25"} 1`,
		`apptconfirm_webhook_duration_seconds_count 1`,
		`apptconfirm_inbox_size 2`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}
