package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// The webhook's answers carry the request id and nosniff but not the page
// headers; pages keep every one, and a handler changing a header changes
// it for its own answer only. Every request is logged once, with its id.
func TestMiddlewareHeadersAndLog(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	e := gin.New()
	e.Use(s.requestLog, s.recover, s.securityHeaders)
	e.POST(webhookRoute, func(c *gin.Context) { c.Status(http.StatusOK) })
	e.GET("/page", func(c *gin.Context) { c.Status(http.StatusOK) })
	e.GET("/framed", func(c *gin.Context) {
		c.Header("X-Frame-Options", "SAMEORIGIN")
		c.Status(http.StatusOK)
	})
	do := func(method, path, id string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		if id != "" {
			req.Header.Set(RequestIDHeader, id)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}

	hook := do(http.MethodPost, WebhookPrefix+"s3cret", "")
	if got := hook.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("webhook: X-Content-Type-Options = %q", got)
	}
	for _, name := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"} {
		if got := hook.Header().Get(name); got != "" {
			t.Errorf("webhook: %s = %q, want none", name, got)
		}
	}
	id := hook.Header().Get(RequestIDHeader)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Errorf("webhook: request id %q, want 16 hex digits", id)
	}

	if got := do(http.MethodGet, "/framed", "").Header().Get("X-Frame-Options"); got != "SAMEORIGIN" {
		t.Errorf("framed: X-Frame-Options = %q", got)
	}
	page := do(http.MethodGet, "/page", "abc-123")
	for i, name := range securityHeaderNames {
		if got := page.Header().Get(name); got != securityHeaderValues[i] {
			t.Errorf("page: %s = %q, want %q", name, got, securityHeaderValues[i])
		}
	}
	if got := page.Header().Get(RequestIDHeader); got != "abc-123" {
		t.Errorf("page: request id %q, want the client's", got)
	}
	if other := do(http.MethodPost, WebhookPrefix+"s3cret", "").Header().Get(RequestIDHeader); other == id {
		t.Errorf("two requests got the same id %q", id)
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d log lines, want one per request:\n%s", len(lines), logs.String())
	}
	for _, want := range []string{"request_id=" + id, "method=POST", "route=" + webhookRoute, "status=200", "took="} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %q lacks %q", lines[0], want)
		}
	}
}

// BenchmarkWebhookMiddleware is what the engine and its middleware cost a
// webhook request, around a handler that only answers.
func BenchmarkWebhookMiddleware(b *testing.B) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	e := gin.New()
	e.Use(s.requestLog, s.recover, s.securityHeaders)
	e.POST(WebhookPrefix+":secret", func(c *gin.Context) {
		c.Writer.Header()["Content-Type"] = []string{"application/json; charset=utf-8"}
		c.Writer.WriteHeader(http.StatusOK)
		_, _ = c.Writer.Write([]byte(`{"event":"dlr_update","items":1,"stored":1,"malformed":0}`))
	})
	req := httptest.NewRequest(http.MethodPost, WebhookPrefix+"s3cret", nil)
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		// net/http copies and writes every header of each answer.
		_ = rec.Result().Header.Write(io.Discard)
	}
}
