package smscxtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkSend measures one single-recipient POST /sms with an
// idempotency id through the handler (no network), as the P2 dispatch
// benchmark drives it.
func BenchmarkSend(b *testing.B) {
	s := NewServer(Options{APIKeys: []string{testKey}, NoAutoDLR: true, MaxRecorded: -1, Balance: 1e12})
	defer s.Close()
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"to":"+49151%08d","from":"Clinic","text":"Reminder: tomorrow at 10:00","idempotencyId":"%08x-0000-4000-8000-000000000000"}`, i, i)
			req := httptest.NewRequest(http.MethodPost, "/sms", strings.NewReader(body))
			req.Header.Set("X-API-KEY", testKey)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
