package webhook_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/metrics"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// mixedBatch is one batch of every handled event type, for the duplicate tests.
func mixedBatches(e *env) []string {
	p := e.patient("Anna", "+4915123456789")
	a := e.appointment(p, 72*time.Hour)
	m := e.sentReminder(a, p.Phone)
	return []string{
		envelope("dlr_update", dlrItem(m, "SENT", nil), dlrItem(m, "DELIVERED", nil)),
		envelope("receive_sms", smsItem(p.Phone, "YES")),
		envelope("shortlink_hit", map[string]any{"hitId": 77, "shortlinkId": "bVc", "phoneNumber": p.Phone, "campaignId": m.CampaignID}),
		envelope("attachment_hit_update", map[string]any{"hitId": 78, "shortlinkId": "att", "phoneNumber": p.Phone}),
		envelope("new_optout", map[string]any{"hitId": 1843, "optoutId": "aB3", "optoutType": "link", "phoneNumber": "+4915100000001"}),
		envelope("otp_update", map[string]any{"otpId": "x", "status": "VERIFIED"}),
	}
}

// The same events delivered again change nothing and answer 200.
func TestReplayChangesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		batches := mixedBatches(e)
		for _, b := range batches {
			e.mustPost(b)
		}
		if n := e.process(); n != 6 {
			t.Fatalf("processed %d events, want 6 (the otp_update is ignored at once)", n)
		}
		before := e.snapshot()
		if before["confirmed"] != 1 {
			t.Fatalf("the YES did not confirm: %v", before)
		}
		for round := range 2 {
			for _, b := range batches {
				code, body := e.post(b)
				if code != http.StatusOK {
					t.Fatalf("replay %d: status %d: %s", round, code, body)
				}
				var r webhook.Receipt
				if err := json.Unmarshal([]byte(body), &r); err != nil || r.Stored != 0 {
					t.Fatalf("replay %d stored something: %s (%v)", round, body, err)
				}
			}
			if n := e.process(); n != 0 {
				t.Fatalf("replay %d: processed %d events", round, n)
			}
			if after := e.snapshot(); !maps.Equal(before, after) {
				t.Fatalf("replay %d changed the database:\nbefore %v\nafter  %v", round, before, after)
			}
		}
	})
}

// The same batch posted twice at the same moment, from two
// connections, stores each event once: to one instance (whose group commit
// may put both in one transaction) and to two instances sharing the
// database (two transactions racing on the unique key).
func TestConcurrentDuplicateBatches(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		other := newEnv(t, s)
		const rounds, size = 8, 50
		for round := range rounds {
			items := make([]any, size)
			for i := range items {
				items[i] = map[string]any{
					"msgId": uuid.NewString(), "status": "DELIVERED", "campaignId": uuid.NewString(),
					"statusCode": 4, "errorCode": nil, "datetime": "2026-03-02 09:00:00",
				}
			}
			body := envelope("dlr_update", items...)
			var wg sync.WaitGroup
			start := make(chan struct{})
			codes, stored := make([]int, 2), make([]int, 2)
			for i := range 2 {
				// A client each, so the two posts travel on two connections.
				client := &http.Client{Transport: &http.Transport{}}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					url := e.url
					if i == 1 && round%2 == 1 {
						url = other.url
					}
					resp, err := client.Post(url, "application/json", strings.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					var r webhook.Receipt
					_ = json.NewDecoder(resp.Body).Decode(&r)
					resp.Body.Close()
					codes[i], stored[i] = resp.StatusCode, r.Stored
				}()
			}
			close(start)
			wg.Wait()
			if codes[0] != http.StatusOK || codes[1] != http.StatusOK {
				t.Fatalf("round %d: statuses %v", round, codes)
			}
			if stored[0]+stored[1] != size {
				t.Fatalf("round %d: receipts say %v new events, want %d in all", round, stored, size)
			}
			if n := e.count(&models.WebhookEvent{}); n != int64((round+1)*size) {
				t.Fatalf("round %d: %d events stored, want %d", round, n, (round+1)*size)
			}
		}
	})
}

// A batch of 200 with one malformed item keeps the good items
// exactly once, stores the bad one flagged, answers 200, and a retry of the
// batch changes nothing.
func TestBatchWithMalformedItem(t *testing.T) {
	cases := []struct {
		name string
		bad  any
	}{
		{"not an object", "oops"},
		{"an array", []int{1, 2}},
		{"null", nil},
		{"no msgId", map[string]any{"from": "+4915100000009", "text": "hi"}},
		{"msgId of the wrong type", map[string]any{"msgId": 12, "from": "+4915100000009", "text": "hi"}},
		{"text of the wrong type", map[string]any{"msgId": "m-1", "from": "+4915100000009", "text": []string{"hi"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, storetest.SQLite(t))
			items := make([]any, 0, 200)
			for i := range 199 {
				items = append(items, smsItem("+4915100000009", fmt.Sprintf("question %d?", i)))
			}
			items = append(items[:100], append([]any{tc.bad}, items[100:]...)...)
			body := envelope("receive_sms", items...)
			for attempt := range 3 {
				code, resp := e.post(body)
				if code != http.StatusOK {
					t.Fatalf("attempt %d: status %d: %s", attempt, code, resp)
				}
				var r webhook.Receipt
				if err := json.Unmarshal([]byte(resp), &r); err != nil {
					t.Fatal(err)
				}
				wantStored := 200
				if attempt > 0 {
					wantStored = 0
				}
				if r.Items != 200 || r.Stored != wantStored || r.Malformed != 1 {
					t.Fatalf("attempt %d: receipt %+v", attempt, r)
				}
				e.process()
				if n := e.count(&models.WebhookEvent{}); n != 200 {
					t.Fatalf("attempt %d: %d events stored, want 200", attempt, n)
				}
				if n := e.count(&models.InboundMessage{}); n != 199 {
					t.Fatalf("attempt %d: %d inbound messages, want 199", attempt, n)
				}
			}
			var bad models.WebhookEvent
			if err := e.store.DB(e.ctx).Where("flagged = ?", true).Take(&bad).Error; err != nil {
				t.Fatal(err)
			}
			if bad.ProcessedAt == nil || !strings.HasPrefix(bad.Result, "malformed: ") || bad.DedupKey != models.DedupKey(bad.Event+":malformed:"+webhook.Sum(bad.Raw)) {
				t.Fatalf("malformed item stored as %+v", bad)
			}
		})
	}
}

// A body that is not an envelope gets 400 with a reason, and nothing is stored.
func TestBadEnvelope(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	cases := []struct {
		name, body, reason string
	}{
		{"empty", "", "empty"},
		{"not JSON", "event=dlr_update", "not a JSON object"},
		{"truncated", `{"event":"dlr_update","data":[{"msgId":"a"}`, "not valid JSON"},
		{"trailing garbage", `{"event":"dlr_update","data":[]} x`, "not valid JSON"},
		{"array", `[{"event":"dlr_update"}]`, "not a JSON object"},
		{"no event", `{"data":[]}`, `"event" is missing`},
		{"event null", `{"event":null,"data":[]}`, `"event" is missing`},
		{"event number", `{"event":5,"data":[]}`, `"event" is not a string`},
		{"event empty", `{"event":" ","data":[]}`, "not an event name"},
		{"event odd", `{"event":"dlr update; drop","data":[]}`, "not an event name"},
		{"event too long", `{"event":"` + strings.Repeat("x", 41) + `","data":[]}`, "not an event name"},
		{"no data", `{"event":"dlr_update"}`, `"data" is missing`},
		{"data object", `{"event":"dlr_update","data":{"msgId":"a"}}`, `"data" is not an array`},
		{"invalid UTF-8", "{\"event\":\"receive_sms\",\"data\":[{\"msgId\":\"a\",\"text\":\"\xff\"}]}", "UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.post(tc.body)
			var answer struct {
				Error struct{ Code, Message string }
			}
			_ = json.Unmarshal([]byte(body), &answer)
			if code != http.StatusBadRequest || answer.Error.Code != "bad_envelope" || !strings.Contains(answer.Error.Message, tc.reason) {
				t.Fatalf("status %d, body %s; want 400 saying %q", code, body, tc.reason)
			}
		})
	}
	if n := e.count(&models.WebhookEvent{}); n != 0 {
		t.Fatalf("%d events stored from bad bodies", n)
	}
	// An empty batch is a valid envelope with nothing to store.
	if code, body := e.post(`{"event":"dlr_update","data":[]}`); code != http.StatusOK {
		t.Fatalf("empty batch: %d %s", code, body)
	}
}

// A wrong path secret answers 404 and stores nothing.
func TestWrongSecret(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		body := envelope("receive_sms", smsItem("+4915100000009", "hi"))
		for _, secret := range []string{"x", testSecret[:len(testSecret)-1], testSecret + "0", strings.ToUpper(testSecret), "%20" + testSecret} {
			code, _ := e.postTo(e.http.URL+"/webhooks/smscx/"+secret, body)
			if code != http.StatusNotFound {
				t.Fatalf("secret %q: status %d, want 404", secret, code)
			}
		}
		if code, _ := e.postTo(e.http.URL+"/webhooks/smscx/", body); code != http.StatusNotFound {
			t.Fatalf("no secret: status %d, want 404", code)
		}
		if n := e.count(&models.WebhookEvent{}); n != 0 {
			t.Fatalf("%d events stored with a wrong secret", n)
		}
		e.mustPost(body)
		if n := e.count(&models.WebhookEvent{}); n != 1 {
			t.Fatalf("right secret: %d events stored", n)
		}
	})
}

// A body over the cap answers 413, stores nothing, and
// the endpoint keeps working.
func TestBodyOverLimit(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), withMaxBody(2048))
	big := envelope("receive_sms", smsItem("+4915100000009", strings.Repeat("a", 3000)))
	code, body := e.post(big)
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("with Content-Length: status %d: %s", code, body)
	}
	// Without a Content-Length (chunked), the cap is met while reading.
	req, _ := http.NewRequest(http.MethodPost, e.url, struct{ *strings.Reader }{strings.NewReader(big)})
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: status %d", resp.StatusCode)
	}
	if n := e.count(&models.WebhookEvent{}); n != 0 {
		t.Fatalf("%d events stored from oversized bodies", n)
	}
	e.mustPost(envelope("receive_sms", smsItem("+4915100000009", "small")))
}

// A body cut short of its Content-Length is unreadable (400) and stores
// nothing; a chunked body within the cap is read whole.
func TestBodyReadByItsLength(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	good := envelope("receive_sms", smsItem("+4915100000009", "yes"))
	req := httptest.NewRequest(http.MethodPost, webhook.PathPrefix+testSecret, strings.NewReader(good[:len(good)-5]))
	req.ContentLength = int64(len(good))
	rec := httptest.NewRecorder()
	e.recv.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "unreadable_body") {
		t.Fatalf("short body: %d %s", rec.Code, rec.Body)
	}
	if n := e.count(&models.WebhookEvent{}); n != 0 {
		t.Fatalf("%d events stored from a short body", n)
	}
	req = httptest.NewRequest(http.MethodPost, webhook.PathPrefix+testSecret, strings.NewReader(good))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	e.recv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("chunked body: %d %s", rec.Code, rec.Body)
	}
	if n := e.count(&models.WebhookEvent{}); n != 1 {
		t.Fatalf("chunked body: %d events stored, want 1", n)
	}
}

// A large declared length is not taken on trust: a sender that declares
// the cap and sends two bytes costs about two bytes, not the cap.
func TestLargeDeclaredBodyIsNotAllocatedUpFront(t *testing.T) {
	const declared = 16 << 20
	e := newEnv(t, storetest.SQLite(t), withMaxBody(declared))
	serve := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, webhook.PathPrefix+testSecret, strings.NewReader("{}"))
		req.ContentLength = declared
		rec := httptest.NewRecorder()
		e.recv.ServeHTTP(rec, req)
		return rec
	}
	serve() // warm up: the first request sets up what later ones reuse
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rec := serve()
	runtime.ReadMemStats(&after)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("short body: %d %s", rec.Code, rec.Body)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > declared/4 {
		t.Fatalf("a 2-byte body declaring %d bytes allocated %d bytes", declared, got)
	}
}

// The handler answers after the durable write and before the
// processing: with the processor stuck, batches are still acknowledged.
func TestAnswerDoesNotWaitForProcessing(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	p := e.patient("Anna", "+4915123456789")
	a := e.appointment(p, 72*time.Hour)
	m := e.sentReminder(a, p.Phone)
	release := make(chan struct{})
	e.pub.block = release
	e.run()

	e.mustPost(envelope("dlr_update", dlrItem(m, "DELIVERED", nil)))
	// The processor applies the report and then blocks publishing it.
	deadline := time.Now().Add(5 * time.Second)
	for e.message(m.ID).Status != models.MsgDelivered {
		if time.Now().After(deadline) {
			t.Fatal("the processor never applied the report")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := range 5 {
		start := time.Now()
		e.mustPost(envelope("receive_sms", smsItem("+4915100000009", fmt.Sprintf("hello %d", i))))
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("answer took %s while the processor was stuck", took)
		}
	}
	if n := e.count(&models.WebhookEvent{}, "processed_at IS NULL"); n != 5 {
		t.Fatalf("%d events pending while the processor is stuck, want 5", n)
	}
	close(release)
	e.waitProcessed()
	if n := e.count(&models.InboundMessage{}, "needs_attention = ?", true); n != 5 {
		t.Fatalf("%d inbox items after processing resumed, want 5", n)
	}
}

// A database that cannot take the write answers 503; nothing is
// lost, because SMS.CX retries and the retry is stored.
func TestDatabaseUnavailable(t *testing.T) {
	body := envelope("receive_sms", smsItem("+4915100000009", "hello"))

	t.Run("sqlite locked", func(t *testing.T) {
		_, path := storetest.SQLitePath(t)
		// A store whose connections give up on a lock after 50 ms (the
		// first _busy_timeout in the DSN wins).
		store, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: "file:" + path + "?_busy_timeout=50"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		e := newEnv(t, store)
		locker, err := sql.Open("sqlite3", models.SQLiteDSN(path))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = locker.Close() })
		conn, err := locker.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
			t.Fatal(err)
		}
		code, resp := e.post(body)
		if code != http.StatusServiceUnavailable {
			t.Fatalf("locked database: status %d: %s", code, resp)
		}
		if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		_ = conn.Close()
		if n := e.count(&models.WebhookEvent{}); n != 0 {
			t.Fatalf("%d events stored by the refused request", n)
		}
		e.mustPost(body) // SMS.CX's retry
		if n := e.count(&models.WebhookEvent{}); n != 1 {
			t.Fatalf("retry stored %d events", n)
		}
	})

	t.Run("group past its deadline", func(t *testing.T) {
		// A batch that cannot be written within the group's time: the
		// deadline (far shorter than writing the longest batch accepted
		// takes) passes before it is all written.
		e := newEnv(t, storetest.SQLite(t), withMaxBody(16<<20))
		e.recv.SetGroupTimeout(100 * time.Microsecond)
		big := string(appendBatch(nil, webhook.MaxBatchItems))
		code, resp := e.post(big)
		if code != http.StatusServiceUnavailable || !strings.Contains(resp, "unavailable") {
			t.Fatalf("group past its deadline: status %d: %s", code, resp)
		}
		if n := e.count(&models.WebhookEvent{}); n != 0 {
			t.Fatalf("%d events stored by the refused request", n)
		}
		e.recv.SetGroupTimeout(webhook.GroupTimeout)
		e.mustPost(big) // SMS.CX's retry
		if n := e.count(&models.WebhookEvent{}); n != webhook.MaxBatchItems {
			t.Fatalf("retry stored %d events", n)
		}
	})

	closed := func(t *testing.T, opts models.Options) {
		store, err := models.Open(opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, store)
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		code, resp := e.post(body)
		if code != http.StatusServiceUnavailable || !strings.Contains(resp, "unavailable") {
			t.Fatalf("closed database: status %d: %s", code, resp)
		}
		again, err := models.Open(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = again.Close() })
		var n int64
		if err := again.DB(t.Context()).Model(&models.WebhookEvent{}).Count(&n).Error; err != nil || n != 0 {
			t.Fatalf("%d events stored by the refused request (%v)", n, err)
		}
	}
	t.Run("sqlite closed", func(t *testing.T) {
		closed(t, models.Options{Driver: models.DriverSQLite, DSN: filepath.Join(t.TempDir(), "closed.db")})
	})
	t.Run("postgres closed", func(t *testing.T) {
		closed(t, models.Options{Driver: models.DriverPostgres, DSN: storetest.PostgresDSN(t)})
	})
}

// The processor, too, stops on an unavailable database and leaves the
// events for later.
func TestProcessingWaitsForDatabase(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.mustPost(envelope("receive_sms", smsItem("+4915100000009", "hello")))
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	if _, err := e.proc.ProcessPending(ctx); err == nil {
		t.Fatal("processing with a cancelled context reported no error")
	}
	if n := e.count(&models.WebhookEvent{}, "processed_at IS NULL"); n != 1 {
		t.Fatalf("%d pending after a failed pass, want 1", n)
	}
	if n := e.process(); n != 1 {
		t.Fatalf("processed %d", n)
	}
}

// Two processors (two workers or two instances) apply each event once.
func TestTwoProcessorsApplyOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		other, err := webhook.NewProcessor(webhook.ProcessorOptions{Store: s, Appliers: appliers(s, e.clinic, e.ob, e.clock.Now), Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		items := make([]any, 40)
		for i := range items {
			items[i] = smsItem("+4915100000009", fmt.Sprintf("hello %d", i))
		}
		e.mustPost(envelope("receive_sms", items...))
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i, p := range []*webhook.Processor{e.proc, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := p.ProcessPending(context.Background())
				if err != nil {
					t.Error(err)
				}
				counts[i] = n
			}()
		}
		wg.Wait()
		if counts[0]+counts[1] != 40 {
			t.Fatalf("applied %v times, want 40 in total", counts)
		}
		if n := e.count(&models.InboundMessage{}); n != 40 {
			t.Fatalf("%d inbound messages, want 40", n)
		}
		if n := e.count(&models.WebhookEvent{}, "attempts <> 1"); n != 0 {
			t.Fatalf("%d events were attempted more than once", n)
		}
	})
}

// Prune deletes processed events past the retention, never pending ones.
func TestPrune(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.mustPost(envelope("receive_sms", smsItem("+4915100000009", "old")))
	e.process()
	e.mustPost(envelope("receive_sms", smsItem("+4915100000009", "pending")))
	e.clock.Set(t0.Add(webhook.DefaultRetention + time.Hour))
	e.mustPost(envelope("receive_sms", smsItem("+4915100000009", "new")))
	n, err := e.proc.Prune(e.ctx)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	if left := e.count(&models.WebhookEvent{}); left != 2 {
		t.Fatalf("%d events left, want 2", left)
	}
	if _, err := webhook.NewProcessor(webhook.ProcessorOptions{Store: e.store, Retention: time.Hour}); err == nil {
		t.Fatal("a retention under 72h was accepted")
	}
}

// The metrics count newly stored events, by type: not duplicates, within a
// batch or replayed.
func TestStoredEventsCounted(t *testing.T) {
	m := metrics.New(metrics.Options{})
	e := newEnv(t, storetest.SQLite(t), withMetrics(m))
	a := map[string]any{"msgId": "5d5f6a3c-1", "status": "DELIVERED"}
	b := map[string]any{"msgId": "5d5f6a3c-2", "status": "DELIVERED"}
	batch := envelope("dlr_update", a, b, a)
	e.mustPost(batch)
	e.mustPost(batch)
	e.mustPost(envelope("receive_sms", smsItem("+4915123456789", "YES")))

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`apptconfirm_webhook_events_total{event="dlr_update"} 2` + "\n",
		`apptconfirm_webhook_events_total{event="receive_sms"} 1` + "\n",
		`apptconfirm_webhook_duration_seconds_count 3` + "\n",
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// An event stored before schema version 3, under its name, is still a
// duplicate when SMS.CX retries it after the upgrade: migration 3 gives the
// stored name the key that decoding gives the retried item.
func TestRetryAcrossKeyMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store *models.Store) {
		ctx := t.Context()
		db := store.DB(ctx)
		// Back to version 2, holding what a version 2 build stored for
		// these items.
		if err := db.Exec("DELETE FROM schema_migrations WHERE version >= 3").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Migrator().DropTable("events"); err != nil {
			t.Fatal(err)
		}
		dlr := string(appendItem(nil, "0b6c1e2a-9d4f-4c1e-8f00-3a7d2b9c5e11"))
		hit := `{"hitId":1843,"optoutId":"aB3","optoutType":"link","phoneNumber":"+4915100000001"}`
		now := time.Now().UTC()
		for _, v2 := range []models.WebhookEvent{
			{Event: "dlr_update", DedupKey: "dlr_update:0b6c1e2a-9d4f-4c1e-8f00-3a7d2b9c5e11:DELIVERED", Raw: dlr, ReceivedAt: now, ProcessedAt: &now, Result: "applied"},
			{Event: "new_optout", DedupKey: "new_optout:1843", Raw: hit, ReceivedAt: now, ProcessedAt: &now, Result: "applied"},
		} {
			if err := db.Create(&v2).Error; err != nil {
				t.Fatal(err)
			}
		}
		if n, err := store.Migrate(ctx); err != nil || n == 0 || store.CheckSchema(ctx) != nil {
			t.Fatalf("Migrate = %d, %v; want every migration after version 2 (schema: %v)", n, err, store.CheckSchema(ctx))
		}

		e := newEnv(t, store)
		for _, body := range []string{
			`{"event":"dlr_update","data":[` + dlr + `]}`,
			`{"event":"new_optout","data":[` + hit + `]}`,
		} {
			code, resp := e.post(body)
			var r webhook.Receipt
			if err := json.Unmarshal([]byte(resp), &r); code != http.StatusOK || err != nil || r.Items != 1 || r.Stored != 0 {
				t.Fatalf("retry after the upgrade: status %d: %s", code, resp)
			}
		}
		if n := e.count(&models.WebhookEvent{}); n != 2 {
			t.Fatalf("%d events stored, want the 2 from before the upgrade", n)
		}
	})
}

// A batch of more than 1,000 items is refused whole with 413 and nothing of
// it is stored; 1,000 exactly is taken.
func TestBatchOverItemLimit(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), withMaxBody(8<<20))
	items := func(n, base int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"hitId": base + i, "optoutId": "o", "optoutType": "link", "phoneNumber": "+4915100000001"}
		}
		return out
	}
	code, body := e.post(envelope("new_optout", items(webhook.MaxBatchItems+1, 0)...))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"too_many_items"`) || !strings.Contains(body, "1001 items") {
		t.Fatalf("status %d: %s", code, body)
	}
	if n := e.count(&models.WebhookEvent{}); n != 0 {
		t.Fatalf("%d events stored from the refused batch", n)
	}
	code, body = e.post(envelope("new_optout", items(webhook.MaxBatchItems, 5000)...))
	if code != http.StatusOK {
		t.Fatalf("1000 items: status %d: %s", code, body)
	}
	if n := e.count(&models.WebhookEvent{}); n != webhook.MaxBatchItems {
		t.Fatalf("%d events stored, want %d", n, webhook.MaxBatchItems)
	}
}

// The items of a batch are stored, and so applied, in their order in the
// batch, whatever their de-duplication keys: a patient's STOP and START
// in one batch must apply in the order sent.
func TestBatchItemsKeepTheirOrder(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		var items []any
		var want []string
		for i := range 40 {
			it := smsItem("+4915123456789", fmt.Sprintf("text %d", i))
			items = append(items, it)
			want = append(want, it["msgId"].(string))
		}
		e.mustPost(envelope("receive_sms", items...))
		var rows []models.WebhookEvent
		if err := e.store.DB(e.ctx).Order("id").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			var it struct {
				MsgID string `json:"msgId"`
			}
			if err := json.Unmarshal([]byte(r.Raw), &it); err != nil {
				t.Fatal(err)
			}
			got = append(got, it.MsgID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("stored in the order\n%v\nwant\n%v", got, want)
		}
	})
}
