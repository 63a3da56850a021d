package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/metrics"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// scrape serves m's handler once and returns the text.
func scrape(t *testing.T, m *metrics.Metrics) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *metrics.Metrics
	// None of these may panic.
	m.MessageSent("delivered")
	m.WebhookEvents("dlr_update", 1)
	m.ObserveDispatch(time.Second)
	m.ObserveWebhook(time.Second)
	m.HTTPRequest("/x", 200)
	if m.Registry() != nil {
		t.Error("nil metrics have a registry")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil metrics handler: status %d", rec.Code)
	}
}

func TestSeries(t *testing.T) {
	m := metrics.New(metrics.Options{Inbox: func(context.Context) (int64, error) { return 4, nil }})
	m.MessageSent("accepted")
	m.MessageSent("accepted")
	m.MessageSent("<script>")
	m.WebhookEvents("new_optout", 3)
	m.WebhookEvents("new_optout", 0)
	m.WebhookEvents("../../etc", 1)
	m.ObserveDispatch(40 * time.Millisecond)
	m.ObserveWebhook(2 * time.Second)
	m.HTTPRequest("/api/v1/stats", 200)
	m.HTTPRequest("", 404)
	code, text := scrape(t, m)
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	cases := []struct {
		name, want string
	}{
		{"message status", `apptconfirm_messages_sent_total{status="accepted"} 2`},
		{"unknown message status", `apptconfirm_messages_sent_total{status="other"} 1`},
		{"known status at zero", `apptconfirm_messages_sent_total{status="rejected"} 0`},
		{"webhook event", `apptconfirm_webhook_events_total{event="new_optout"} 3`},
		{"unknown webhook event", `apptconfirm_webhook_events_total{event="other"} 1`},
		{"dispatch histogram", `apptconfirm_dispatch_duration_seconds_bucket{le="0.05"} 1`},
		{"dispatch sum", `apptconfirm_dispatch_duration_seconds_sum 0.04`},
		{"webhook histogram", `apptconfirm_webhook_duration_seconds_bucket{le="1"} 0`},
		{"webhook count", `apptconfirm_webhook_duration_seconds_count 1`},
		{"http route", `apptconfirm_http_requests_total{route="/api/v1/stats",status="200"} 1`},
		{"unmatched route", `apptconfirm_http_requests_total{route="unmatched",status="404"} 1`},
		{"inbox", `apptconfirm_inbox_size 4`},
		{"go collector", `go_goroutines `},
		{"process collector", `process_cpu_seconds_total `},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(text, c.want) {
				t.Errorf("scrape lacks %q", c.want)
			}
		})
	}
	if strings.Contains(text, `status="<script>"`) || strings.Contains(text, `event="../../etc"`) {
		t.Error("outside text became a label value")
	}
}

func TestInboxErrorKeepsTheRest(t *testing.T) {
	m := metrics.New(metrics.Options{Inbox: func(context.Context) (int64, error) { return 0, errors.New("database is locked") }})
	m.MessageSent("sent")
	code, text := scrape(t, m)
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if strings.Contains(text, "apptconfirm_inbox_size ") {
		t.Error("inbox size served despite the error")
	}
	if !strings.Contains(text, `apptconfirm_messages_sent_total{status="sent"} 1`) {
		t.Error("other series missing after an inbox error")
	}
}

func TestInboxSizeCountsOpenItems(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rows := []models.InboundMessage{
		{ProviderID: "a", From: "+33600000001", Text: "?", NeedsAttention: true, ReceivedAt: now},
		{ProviderID: "b", From: "+33600000002", Text: "?", NeedsAttention: true, ReceivedAt: now, HandledAt: &now},
		{ProviderID: "c", From: "+33600000003", Text: "YES", ReceivedAt: now},
	}
	count := metrics.InboxSize(st)
	n, err := count(ctx)
	if err != nil || n != 0 {
		t.Fatalf("empty inbox: %d %v", n, err)
	}
	if err := st.DB(ctx).Create(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if n, err = count(ctx); err != nil || n != 1 {
		t.Fatalf("inbox %d %v, want 1", n, err)
	}
	_ = st.Close()
	if _, err := count(ctx); !errors.Is(err, models.ErrUnavailable) {
		t.Errorf("closed database: %v, want ErrUnavailable", err)
	}
}
