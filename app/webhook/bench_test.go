package webhook

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"apptconfirm/models/storetest"
)

// BenchmarkBaseline is the yardstick of QUALITY P1: a gin handler that
// only answers 200, driven exactly like BenchmarkReceive.
func BenchmarkBaseline(b *testing.B) {
	g := gin.New()
	g.POST("/webhooks/smscx/:secret", func(c *gin.Context) {
		_, _ = io.Copy(io.Discard, c.Request.Body)
		c.Status(http.StatusOK)
	})
	srv := httptest.NewServer(g)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	body := `{"event":"dlr_update","data":[{"msgId":"bench","status":"DELIVERED"}]}`
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(srv.URL+"/webhooks/smscx/x", "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReceive measures durably acknowledged events per second through
// the real endpoint on SQLite (QUALITY P1), with single-event batches and
// with 200-event batches, many senders at once. Processing is not running.
func BenchmarkReceive(b *testing.B) {
	for _, size := range []int{1, 200} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			e := newEnv(b, storetest.SQLite(b))
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var seq atomic.Int64
			b.SetParallelism(32) // with GOMAXPROCS 2: 64 senders
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				items := make([]string, size)
				for pb.Next() {
					for i := range items {
						items[i] = fmt.Sprintf(`{"msgId":"bench-%d","status":"DELIVERED"}`, seq.Add(1))
					}
					body := `{"event":"dlr_update","data":[` + strings.Join(items, ",") + `]}`
					resp, err := client.Post(e.url, "application/json", strings.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkIngest is BenchmarkReceive without HTTP: decoding and the group
// commit alone, single-event batches from 64 goroutines.
func BenchmarkIngest(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	var seq atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"event":"dlr_update","data":[{"msgId":"bench-%d","status":"DELIVERED"}]}`, seq.Add(1))
			if _, err := e.recv.Ingest(context.Background(), []byte(body)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
