package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// BenchmarkInstances measures webhook ingest and dispatch
// against real `apptconfirm serve` processes, with one and with two
// instances, on PostgreSQL and on SQLite (one instance). It starts servers,
// so it runs only when APPTCONFIRM_BENCH_INSTANCES=1; see BENCHMARKS.md.
func BenchmarkInstances(b *testing.B) {
	if os.Getenv("APPTCONFIRM_BENCH_INSTANCES") != "1" {
		b.Skip("set APPTCONFIRM_BENCH_INSTANCES=1 to start servers for this benchmark")
	}
	backlog := 20000
	if v, err := strconv.Atoi(os.Getenv("APPTCONFIRM_BENCH_BACKLOG")); err == nil && v > 0 {
		backlog = v
	}
	for _, db := range []string{"sqlite", "postgres"} {
		for _, n := range []int{1, 2} {
			if db == "sqlite" && n == 2 {
				continue // SQLite serves one instance
			}
			b.Run(fmt.Sprintf("%s/instances=%d", db, n), func(b *testing.B) {
				env, store := benchDatabase(b, db)
				for _, lat := range []time.Duration{0, 50 * time.Millisecond} {
					b.Run(fmt.Sprintf("dispatch/latency=%s", lat), func(b *testing.B) {
						benchDispatch(b, env, store, n, lat, backlog)
					})
				}
				for _, size := range []int{1, 200} {
					for _, senders := range []int{1, 16, 64} {
						b.Run(fmt.Sprintf("ingest/batch=%d/senders=%d", size, senders), func(b *testing.B) {
							benchIngest(b, env, n, size, senders)
						})
					}
				}
			})
		}
	}
}

func benchDatabase(b *testing.B, driver string) ([]string, *models.Store) {
	var env []string
	var store *models.Store
	var err error
	switch driver {
	case "sqlite":
		path := b.TempDir() + "/bench.db"
		store, err = models.Open(models.Options{Driver: models.DriverSQLite, DSN: path})
		env = []string{"APPTCONFIRM_DATABASE_DRIVER=sqlite", "APPTCONFIRM_DATABASE_DSN=" + path}
	default:
		dsn := storetest.PostgresDSN(b)
		store, err = models.Open(models.Options{Driver: models.DriverPostgres, DSN: dsn})
		env = []string{"APPTCONFIRM_DATABASE_DRIVER=postgres", "APPTCONFIRM_DATABASE_DSN=" + dsn}
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	if _, err := store.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return append(env,
		"APPTCONFIRM_SMSCX_WEBHOOK_SECRET="+webhookSecret,
		"APPTCONFIRM_ADMIN_EMAIL=admin@example.com", "APPTCONFIRM_ADMIN_PASSWORD=bench-password",
		"APPTCONFIRM_LOG_LEVEL=error"), store
}

// benchDispatch drains a backlog of due messages through n instances and
// reports messages per second handed to the fake gateway.
func benchDispatch(b *testing.B, env []string, store *models.Store, n int, latency time.Duration, backlog int) {
	ctx := context.Background()
	fake := smscxtest.NewServer(smscxtest.Options{APIKeys: []string{"bench-key"}, NoAutoDLR: true})
	gw := httptest.NewServer(fake)
	defer gw.Close()
	defer fake.Close()
	fake.SetLatency(latency)
	env = append(env, "APPTCONFIRM_SMSCX_MODE=live", "APPTCONFIRM_SMSCX_BASE_URL="+gw.URL, "APPTCONFIRM_SMSCX_API_KEY=bench-key",
		"APPTCONFIRM_DISPATCH_INTERVAL=1s", "APPTCONFIRM_DISPATCH_BATCH_SIZE=500", "APPTCONFIRM_DISPATCH_CONCURRENCY=128")
	patient := models.Patient{FirstName: "Bench", Phone: "+12025550111", Language: "en"}
	var instances []*instance
	for i := range n {
		instances = append(instances, startInstance(b, fmt.Sprintf("bench-%d", i), env))
	}
	if err := store.DB(ctx).Create(&patient).Error; err != nil {
		b.Fatal(err)
	}
	for range b.N {
		// Insert the backlog with a send time in the future, then make it due at once.
		at := time.Now().UTC().Add(time.Hour)
		batch := make([]models.Message, 0, 1000)
		for i := range backlog {
			batch = append(batch, models.Message{
				UUID: uuid.NewString(), PatientID: &patient.ID, Kind: models.KindManual,
				To: patient.Phone, Body: "benchmark message " + strconv.Itoa(i), Status: models.MsgPlanned, SendAt: at,
			})
			if len(batch) == cap(batch) || i == backlog-1 {
				if err := store.DB(ctx).CreateInBatches(batch, 500).Error; err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		before := len(fake.Sends())
		b.ResetTimer()
		start := time.Now()
		if err := store.DB(ctx).Model(&models.Message{}).Where("status = ? AND send_at = ?", models.MsgPlanned, at).
			Update("send_at", time.Now().UTC().Add(-time.Second)).Error; err != nil {
			b.Fatal(err)
		}
		waitFor(b, 30*time.Minute, "the backlog to drain", func() bool { return len(fake.Sends())-before >= backlog })
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(backlog)/elapsed.Seconds(), "msgs/s")
	}
	_ = instances
}

// benchIngest posts webhook batches to n instances round-robin from many
// senders and reports durably acknowledged events per second and latency.
func benchIngest(b *testing.B, env []string, n, size, senders int) {
	env = append(env, "APPTCONFIRM_SMSCX_MODE=simulate")
	var urls []string
	for i := range n {
		urls = append(urls, startInstance(b, fmt.Sprintf("ingest-%d", i), env).url+"/webhooks/smscx/"+webhookSecret)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	const perSender = 200
	var lat []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	start := time.Now()
	var total atomic.Int64
	for range b.N {
		var wg sync.WaitGroup
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for i := range perSender / max(1, size/10) {
					var buf bytes.Buffer
					buf.WriteString(`{"event":"dlr_update","data":[`)
					for k := range size {
						if k > 0 {
							buf.WriteByte(',')
						}
						buf.WriteString(`{"campaignId":"4baf0298-0c21-4df1-a60a-6e3476e95e0b","msgId":"`)
						buf.WriteString(uuid.NewString())
						buf.WriteString(`","statusCode":3,"status":"DELIVERED","errorCode":null,"datetime":"2026-11-27 10:00:00","trackData":null}`)
					}
					buf.WriteString(`]}`)
					t0 := time.Now()
					resp, err := client.Post(urls[(s+i)%len(urls)], "application/json", &buf)
					if err != nil {
						b.Error(err)
						return
					}
					// Reading the answer to its end lets the connection be
					// reused, as SMS.CX's client would.
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					mine = append(mine, time.Since(t0))
					total.Add(int64(size))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(total.Load())/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
