package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// Ingest is measured at these numbers of concurrent senders and
// events per batch.
var (
	benchSenders = []int{1, 16, 64}
	benchBatches = []int{1, 200}
)

// BenchmarkBaseline is the yardstick of ingest: a gin handler that
// reads the body and only answers 200, driven exactly like
// BenchmarkReceive.
func BenchmarkBaseline(b *testing.B) {
	g := gin.New()
	g.POST(webhook.PathPrefix+":secret", func(c *gin.Context) {
		_, _ = io.Copy(io.Discard, c.Request.Body)
		c.Status(http.StatusOK)
	})
	srv := httptest.NewServer(g)
	defer srv.Close()
	eachShape(b, func(b *testing.B, senders, size int) {
		drive(b, srv.URL+"/webhooks/smscx/"+testSecret, senders, size)
	})
}

// BenchmarkReceive measures durably acknowledged events per second through
// the real endpoint on SQLite: every 200 it counts was
// answered after the batch was committed. The webhook.Processor runs meanwhile, as
// in a server, giving way to the receiver (see webhook.Traffic).
func BenchmarkReceive(b *testing.B) {
	eachShape(b, func(b *testing.B, senders, size int) {
		e := newEnv(b, storetest.SQLite(b))
		e.run()
		drive(b, e.url, senders, size)
	})
}

// BenchmarkIngest is BenchmarkReceive without HTTP: decoding and the group
// commit alone, single-event batches from 64 goroutines.
func BenchmarkIngest(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var body []byte
		for pb.Next() {
			body = appendBatch(body[:0], 1)
			if _, err := e.recv.Ingest(context.Background(), body); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSQLiteInsert is the other yardstick of ingest: plain
// single-row inserts into the same table, each its own transaction, with no
// HTTP and no decoding: what storing an event costs without a group commit.
func BenchmarkSQLiteInsert(b *testing.B) {
	for _, senders := range []int{1, 64} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			store := storetest.SQLite(b)
			sqlDB, err := store.DB(b.Context()).DB()
			if err != nil {
				b.Fatal(err)
			}
			const insert = "INSERT INTO webhook_events (event, dedup_key, raw, received_at, attempts, result, flagged) VALUES (?,?,?,?,0,'',false) ON CONFLICT (dedup_key) DO NOTHING"
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range senders {
				wg.Go(func() {
					for {
						n := next.Add(1)
						if n > int64(b.N) {
							return
						}
						msgID := uuid.NewString()
						key := models.DedupKey("dlr_update:" + msgID + ":DELIVERED")
						raw := string(appendItem(nil, msgID))
						if _, err := sqlDB.Exec(insert, "dlr_update", key, raw, time.Now().UTC()); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// eachShape runs fn as one sub-benchmark per number of senders and batch
// size that BENCHMARKS.md reports.
func eachShape(b *testing.B, fn func(b *testing.B, senders, size int)) {
	for _, size := range benchBatches {
		for _, senders := range benchSenders {
			b.Run(fmt.Sprintf("batch=%d/senders=%d", size, senders), func(b *testing.B) {
				fn(b, senders, size)
			})
		}
	}
}

// drive posts b.N batches of size dlr_update events to url from senders
// goroutines, each with its own keep-alive connection, and reports events
// per second with the p50 and p99 latency of a request. Every answer must be
// a 200.
func drive(b *testing.B, url string, senders, size int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	defer client.CloseIdleConnections()
	var (
		next int64 // requests handed out, under mu
		mu   sync.Mutex
		lats []time.Duration
		wg   sync.WaitGroup
	)
	b.ResetTimer()
	for range senders {
		wg.Go(func() {
			var body []byte
			mine := make([]time.Duration, 0, b.N/senders+1)
			defer func() {
				mu.Lock()
				lats = append(lats, mine...)
				mu.Unlock()
			}()
			for {
				mu.Lock()
				next++
				more := next <= int64(b.N)
				mu.Unlock()
				if !more {
					return
				}
				body = appendBatch(body[:0], size)
				start := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				// Reading the answer to its end lets the connection be
				// reused, as SMS.CX's client would.
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
	if len(lats) > 0 {
		slices.Sort(lats)
		b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// appendBatch appends a dlr_update envelope of size items to dst.
func appendBatch(dst []byte, size int) []byte {
	dst = append(dst, `{"event":"dlr_update","data":[`...)
	for i := range size {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendItem(dst, uuid.NewString())
	}
	return append(dst, "]}"...)
}

// appendItem appends one delivery report as SMS.CX sends it. Its msgId
// should be a random UUID, as SMS.CX's are, so that the de-duplication
// index takes keys all over its range, not only at its end.
func appendItem(dst []byte, msgID string) []byte {
	dst = append(dst, `{"campaignId":"4baf0298-0c21-4df1-a60a-6e3476e95e0b","msgId":"`...)
	dst = append(dst, msgID...)
	return append(dst, `","statusCode":3,"status":"DELIVERED","errorCode":null,"datetime":"2026-11-27 10:00:00","trackData":null}`...)
}

// BenchmarkProcess measures how many stored delivery reports per second the
// webhook.Processor applies on SQLite: each one matched to a sent reminder, moved
// to delivered, with its timeline entry, one after another as Run does,
// through the per-event path and the set-based one. Receiving is not timed.
func BenchmarkProcess(b *testing.B) {
	benchProcess(b, func(b *testing.B) *models.Store { return storetest.SQLite(b) })
}

// BenchmarkProcessPostgres is BenchmarkProcess on PostgreSQL.
func BenchmarkProcessPostgres(b *testing.B) {
	benchProcess(b, func(b *testing.B) *models.Store { return storetest.Postgres(b) })
}

func benchProcess(b *testing.B, open func(b *testing.B) *models.Store) {
	for _, path := range []struct {
		name     string
		perEvent bool
	}{{"per-event", true}, {"set-based", false}} {
		b.Run(path.name, func(b *testing.B) {
			e := newEnv(b, open(b))
			p := e.patient("Ada", "+4915100000009")
			a := e.appointment(p, 48*time.Hour)
			for start := 0; start < b.N; start += 200 {
				items := make([]any, 0, 200)
				for range min(200, b.N-start) {
					items = append(items, dlrItem(e.sentReminder(a, p.Phone), "DELIVERED", nil))
				}
				e.mustPost(envelope("dlr_update", items...))
			}
			n, cpu := timeProcessing(b, e, path.perEvent, nil)
			if n != b.N {
				b.Fatalf("applied %d of %d", n, b.N)
			}
			if got := e.count(&models.Message{}, "status = ?", models.MsgDelivered); got != int64(b.N) {
				b.Fatalf("%d messages delivered, want %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
		})
	}
}

// BenchmarkDecodeBatch measures decoding alone: a dlr_update envelope of
// one item (what most requests carry) and of 200 into its keyed items.
func BenchmarkDecodeBatch(b *testing.B) {
	for _, size := range []int{1, 200} {
		b.Run(fmt.Sprintf("items=%d", size), func(b *testing.B) {
			body := appendBatch(nil, size)
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := webhook.DecodeBatch(body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// benchReplyTexts are the replies BenchmarkProcessReplies sends, as
// cmd/benchhttp's sustained load sends them: mostly YES-like, some NO,
// HELP, a number, a request for another time and text for the inbox.
var benchReplyTexts = []string{"YES", "Yes", "C", "NO", "ok thanks", "Can I come later?", "1", "HELP"}

// BenchmarkProcessReplies measures how many stored replies per second the
// webhook.Processor applies on SQLite, through the per-event path and the
// set-based one: replies from the numbers of 300 patients, each with an
// appointment awaiting an answer (a reminder sent), the texts drawn as
// the sustained load draws them (a fixed seed, so both paths get the same
// stream). Receiving is not timed.
func BenchmarkProcessReplies(b *testing.B) {
	benchProcessReplies(b, func(b *testing.B) *models.Store { return storetest.SQLite(b) })
}

// BenchmarkProcessRepliesPostgres is BenchmarkProcessReplies on
// PostgreSQL, where each statement is a round trip and the server shares
// the machine's cores; it also reports the CPU time per reply.
func BenchmarkProcessRepliesPostgres(b *testing.B) {
	benchProcessReplies(b, func(b *testing.B) *models.Store { return storetest.Postgres(b) })
}

func benchProcessReplies(b *testing.B, open func(b *testing.B) *models.Store) {
	for _, path := range []struct {
		name     string
		perEvent bool
	}{{"per-event", true}, {"set-based", false}} {
		b.Run(path.name, func(b *testing.B) {
			e := newEnv(b, open(b))
			const patients = 300
			phones := make([]string, patients)
			for i := range phones {
				phones[i] = fmt.Sprintf("+4915100%06d", i)
				p := e.patient(fmt.Sprintf("P%d", i), phones[i])
				a := e.appointment(p, time.Duration(48+i%24)*time.Hour)
				e.sentReminder(a, p.Phone)
			}
			rng := rand.New(rand.NewPCG(5000, 1))
			for start := 0; start < b.N; start += 200 {
				items := make([]any, 0, 200)
				for range min(200, b.N-start) {
					items = append(items, smsItem(phones[rng.IntN(patients)], benchReplyTexts[rng.IntN(len(benchReplyTexts))]))
				}
				e.mustPost(envelope("receive_sms", items...))
			}
			n, cpu := timeProcessing(b, e, path.perEvent, nil)
			if n != b.N {
				b.Fatalf("applied %d of %d", n, b.N)
			}
			if got := e.count(&models.InboundMessage{}); got != int64(b.N) {
				b.Fatalf("%d inbound messages, want %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/reply")
		})
	}
}

// BenchmarkProcessMixed measures how many stored events per second the
// webhook.Processor applies on SQLite from a mixed stream as the sustained
// load sends it (single-event bodies: 70% delivery reports, 25% replies,
// 2.5% opt-outs, 2.5% link clicks, about 300 patients each with a
// reminder sent), through the per-event path and the set-based one. Runs
// of one type are short here, so what a run costs counts as much as what
// an event costs. Receiving is not timed.
func BenchmarkProcessMixed(b *testing.B) {
	for _, path := range []struct {
		name     string
		perEvent bool
	}{{"per-event", true}, {"set-based", false}} {
		b.Run(path.name, func(b *testing.B) {
			benchProcessMixed(b, storetest.SQLite(b), webhook.ProcessorOptions{PerEvent: path.perEvent})
		})
	}
}

// BenchmarkProcessMixedPostgres is BenchmarkProcessMixed's set-based path
// on PostgreSQL, with one worker and with the default number, which apply
// shares of the patients side by side.
func BenchmarkProcessMixedPostgres(b *testing.B) {
	for _, workers := range []int{1, webhook.DefaultWorkers} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			benchProcessMixed(b, storetest.Postgres(b), webhook.ProcessorOptions{Workers: workers})
		})
	}
}

func benchProcessMixed(b *testing.B, store *models.Store, o webhook.ProcessorOptions) {
	e := newEnv(b, store)
	const patients = 300
	phones := make([]string, patients)
	sent := make([]*models.Message, patients)
	for i := range phones {
		phones[i] = fmt.Sprintf("+4915100%06d", i)
		p := e.patient(fmt.Sprintf("P%d", i), phones[i])
		sent[i] = e.sentReminder(e.appointment(p, time.Duration(48+i%24)*time.Hour), p.Phone)
	}
	rng := rand.New(rand.NewPCG(5000, 2))
	for n := range b.N {
		k := rng.IntN(patients)
		switch r := rng.IntN(1000); {
		case r < 700:
			status := []string{"SENT", "DELIVERED", "DELIVERED", "DELIVERED", "FAILED"}[rng.IntN(5)]
			e.mustPost(envelope("dlr_update", dlrItem(sent[k], status, nil)))
		case r < 950:
			e.mustPost(envelope("receive_sms", smsItem(phones[k], benchReplyTexts[rng.IntN(len(benchReplyTexts))])))
		case r < 975:
			e.mustPost(envelope("new_optout", map[string]any{
				"hitId": n, "optoutId": "aB3", "optoutUrl": "https://x", "optoutType": "link",
				"countryIso": "DE", "datetime": "2026-03-02 09:00:00", "phoneNumber": phones[k], "campaignId": nil, "groupId": nil,
			}))
		default:
			e.mustPost(envelope("shortlink_hit", map[string]any{
				"hitId": n, "shortlinkId": "bVc", "device": "mobile", "city": "Berlin", "phoneNumber": phones[k],
			}))
		}
	}
	o.Appliers = appliers(e.store, e.clinic, e.ob, e.clock.Now)
	n, cpu := timeProcessingWith(b, e, o)
	// A repeated delivery report is stored once.
	if stored := e.count(&models.WebhookEvent{}); int64(n) != stored {
		b.Fatalf("applied %d of %d", n, stored)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/event")
}

// timeProcessing applies every event stored in e with a processor of the
// given path and appliers (nil: every applier of the harness), timing only
// that, and returns how many it applied and the CPU time it took.
func timeProcessing(b *testing.B, e *env, perEvent bool, as map[string]webhook.Applier) (int, time.Duration) {
	b.Helper()
	if as == nil {
		as = appliers(e.store, e.clinic, e.ob, e.clock.Now)
	}
	return timeProcessingWith(b, e, webhook.ProcessorOptions{Appliers: as, PerEvent: perEvent})
}

// timeProcessingWith is timeProcessing with a processor of options o (its
// Store and clock are e's).
func timeProcessingWith(b *testing.B, e *env, o webhook.ProcessorOptions) (int, time.Duration) {
	b.Helper()
	o.Store, o.Now = e.store, e.clock.Now
	proc, err := webhook.NewProcessor(o)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime(b)
	n, err := proc.ProcessPending(b.Context())
	cpu = cpuTime(b) - cpu
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	return n, cpu
}
