package webhook_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// FuzzEndpoint: whatever the body, the endpoint answers 200 or 400 (never
// 500), and whatever it stored is processed without an error.
func FuzzEndpoint(f *testing.F) {
	for _, s := range webhook.FuzzSeeds {
		f.Add(s)
	}
	store := storetest.SQLite(f)
	e := newEnv(f, store)
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/webhooks/smscx/"+testSecret, strings.NewReader(body))
		e.recv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
		if _, err := e.proc.ProcessPending(t.Context()); err != nil {
			t.Fatalf("process: %v", err)
		}
		var failed []models.WebhookEvent
		if err := store.DB(t.Context()).Where("result LIKE ?", "error:%").Find(&failed).Error; err != nil {
			t.Fatal(err)
		}
		if len(failed) > 0 {
			t.Fatalf("processing failed: %+v", failed)
		}
	})
}
