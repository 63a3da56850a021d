package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/app/config"
	"apptconfirm/models"
)

// The whole path as served: an integrator registers an endpoint through
// the API, books through the API, confirms through the API, and the
// receiver gets both events in order, signed with the secret it was given.
func TestOutboundWebhooksEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	var secret string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%s.%s", r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), body)
		if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			t.Errorf("bad signature %q", r.Header.Get("webhook-signature"))
		}
		var v map[string]any
		_ = json.Unmarshal(body, &v)
		got = append(got, v)
	}))
	t.Cleanup(receiver.Close)
	cfg := config.Default()
	cfg.OutboundWebhooks.AllowPrivate = true
	a := serveTestApp(t, cfg)
	ctx := context.Background()
	tok, _, err := api.NewTokens(a.Store, nil).Create(ctx, models.SystemActor(), "erp")
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, a.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &v)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return v
	}
	ep := call(http.MethodPost, "/api/v1/webhook-endpoints",
		fmt.Sprintf(`{"url": %q, "events": ["appointment.created", "appointment.confirmed"]}`, receiver.URL+"/in"))
	mu.Lock()
	secret, _ = ep["secret"].(string)
	mu.Unlock()
	appt := call(http.MethodPost, "/api/v1/appointments", fmt.Sprintf(`{"patient": {"name": "Ada Byron", "phone": "+12025550143"}, "starts_at": %q, "duration_minutes": 30}`,
		time.Now().Add(72*time.Hour).Format(time.RFC3339)))
	id := appt["id"].(float64)
	call(http.MethodPatch, fmt.Sprintf("/api/v1/appointments/%d", int(id)), `{"status": "confirmed"}`)
	eventually(t, "two webhooks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	if got[0]["type"] != "appointment.created" || got[1]["type"] != "appointment.confirmed" {
		t.Fatalf("received %v", got)
	}
}
