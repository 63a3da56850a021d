package outbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"apptconfirm/app/outbound"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// concurrency is the deliveries under way at once, the default of
// outbound_webhooks.concurrency.
const concurrency = 64

// benchReceiver answers every webhook after delay and notes when each
// arrived and when its event was recorded.
type benchReceiver struct {
	srv   *httptest.Server
	n     atomic.Int64
	mu    sync.Mutex
	lags  []time.Duration
	delay time.Duration
}

func newBenchReceiver(b *testing.B, delay time.Duration) *benchReceiver {
	r := &benchReceiver{delay: delay}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var env outbound.Envelope
		_ = json.Unmarshal(body, &env)
		if r.delay > 0 {
			time.Sleep(r.delay)
		}
		w.WriteHeader(http.StatusNoContent)
		r.mu.Lock()
		r.lags = append(r.lags, time.Since(env.Timestamp))
		r.mu.Unlock()
		r.n.Add(1)
	}))
	b.Cleanup(r.srv.Close)
	return r
}

// benchEnv is a store with one endpoint for appointment.updated, a
// receiver and the appointments events are spread over.
func benchEnv(b *testing.B, delay time.Duration, appointments int) (*env, *benchReceiver, []uint) {
	store := storetest.SQLite(b)
	e := newEnv(b, store)
	r := newBenchReceiver(b, delay)
	e.endpoint(b, r.srv.URL, false, "appointment.updated")
	ids := make([]uint, appointments)
	for i := range ids {
		ids[i] = e.book(b, fmt.Sprintf("P%d", i)).ID
	}
	return e, r, ids
}

// record commits n appointment.updated events, round-robin over ids,
// batch to a transaction.
func record(b *testing.B, e *env, ids []uint, from, n, batch int) {
	ctx := context.Background()
	for i := 0; i < n; i += batch {
		err := e.store.Tx(ctx, func(ctx context.Context) error {
			for j := i; j < min(i+batch, n); j++ {
				ev := models.Event{At: time.Now(), Type: models.EventAppointmentUpdated, AppointmentID: ids[(from+j)%len(ids)], Source: "api"}
				if err := e.store.Record(ctx, ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOutboundThroughput drains a backlog of b.N events over 500
// appointments to a local receiver answering at once or after 100 ms, with
// the default concurrency, and reports events per second.
func BenchmarkOutboundThroughput(b *testing.B) {
	for _, c := range []struct {
		name  string
		delay time.Duration
	}{{"instant", 0}, {"100ms", 100 * time.Millisecond}} {
		b.Run(c.name, func(b *testing.B) {
			e, r, ids := benchEnv(b, c.delay, 500)
			record(b, e, ids, 0, b.N, 100)
			w := e.worker(outbound.WorkerOptions{Concurrency: concurrency, Client: outbound.NewClient(true, outbound.Timeout)})
			b.ResetTimer()
			start := time.Now()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { w.Run(ctx); close(done) }()
			for r.n.Load() < int64(b.N) {
				time.Sleep(2 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}

// BenchmarkOutboundLag commits b.N events one transaction each, at rate
// per second, while the worker runs, and reports the lag from the event to
// its arrival at an instant receiver: the median and the 99th percentile.
func BenchmarkOutboundLag(b *testing.B) {
	const rate = 200
	e, r, ids := benchEnv(b, 0, 500)
	w := e.worker(outbound.WorkerOptions{Concurrency: concurrency, Poll: time.Second, Client: outbound.NewClient(true, outbound.Timeout)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	b.ResetTimer()
	tick := time.NewTicker(time.Second / rate)
	for i := 0; i < b.N; i++ {
		<-tick.C
		record(b, e, ids, i, 1, 1)
	}
	tick.Stop()
	for r.n.Load() < int64(b.N) {
		time.Sleep(2 * time.Millisecond)
	}
	b.StopTimer()
	cancel()
	<-done
	r.mu.Lock()
	lags := slices.Clone(r.lags)
	r.mu.Unlock()
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
}
