package dispatch_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/dispatch"
	"apptconfirm/app/outbox"
	"apptconfirm/app/smscx"
	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// S4: a 429 pauses sending until X-Rate-Limit-Reset, with no hot loop.
func TestRateLimitWaitsForTheReset(t *testing.T) {
	e := newEnv(t)
	reset := t0.Add(3 * time.Second)
	e.fake.RateLimitNext(1, reset)
	var ms []*models.Message
	for range 3 {
		ms = append(ms, e.message(t, models.Message{To: "+33612345678", Body: "hello"}))
	}
	d := e.dispatcher(t, func(o *dispatch.Options) { o.Concurrency = 1 })
	sent := runOnce(t, d)
	first := e.reload(t, ms[0].ID)
	if first.Status == models.MsgSending && (first.LeaseUntil == nil || !first.LeaseUntil.Equal(reset)) {
		t.Fatalf("the rate-limited message retries at %v, want the reset %v", first.LeaseUntil, reset)
	}
	if first.Status == models.MsgSending {
		sent += runOnce(t, d)
	}
	if sent != 3 {
		t.Fatalf("sent %d, want 3", sent)
	}
	if sleeps := e.clk.Sleeps(); len(sleeps) != 1 || sleeps[0] != 3*time.Second {
		t.Fatalf("sleeps %v, want one wait of 3s until the reset", sleeps)
	}
	if n := e.sendRequests(); n != 4 {
		t.Fatalf("%d requests, want 4 (one 429, then three sends)", n)
	}
	for _, m := range ms {
		if got := e.reload(t, m.ID); got.Status != models.MsgAccepted || e.fake.SendCount(m.UUID) != 1 {
			t.Fatalf("message %d: %s, sent %d times", m.ID, got.Status, e.fake.SendCount(m.UUID))
		}
	}
}

// S4: 5xx and timeouts back off exponentially with jitter, a bounded number
// of times, then stop with a reason; nothing is retried before its time.
// Each of those tries may have reached SMS.CX, so the message is not
// recorded failed: it stays in doubt, with no lease, until a delivery
// report settles it.
func TestRetryableErrorsBackOffThenFail(t *testing.T) {
	tests := []struct {
		name   string
		fault  func(*smscxtest.Server)
		reason string
	}{
		{"500", func(f *smscxtest.Server) { f.ServerErrorNext(-1) }, "gave up after 3 attempts: SMS.CX server error (HTTP 500)"},
		{"timeout", func(f *smscxtest.Server) { f.TimeoutNext(-1) }, "gave up after 3 attempts: SMS.CX did not answer in time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.fault(e.fake)
			e.client = e.newClient(t, smscxtest.DefaultAPIKey, 100*time.Millisecond)
			m := e.message(t, models.Message{To: "+33612345678", Body: "hello"})
			d := e.dispatcher(t, nil) // 3 attempts, backoff 10s..40s, jitter 0.5
			// Attempt n waits BackoffBase + 0.5·(min(40s, 10s·2ⁿ⁻¹) − 10s).
			wantDelays := []time.Duration{10 * time.Second, 15 * time.Second}
			for attempt := 1; attempt <= 3; attempt++ {
				runOnce(t, d)
				runOnce(t, d) // nothing is due again at the same instant
				if n := e.sendRequests(); n != attempt {
					t.Fatalf("after attempt %d: %d requests", attempt, n)
				}
				got := e.reload(t, m.ID)
				if got.Attempts != attempt {
					t.Fatalf("attempts %d, want %d", got.Attempts, attempt)
				}
				if attempt == 3 {
					want := outbox.GaveUpInDoubt(tc.reason)
					if got.Status != models.MsgSending || !got.InDoubt || got.Reason != want || got.LeaseUntil != nil {
						t.Fatalf("finally %s (in doubt %v) %q, want in doubt %q", got.Status, got.InDoubt, got.Reason, want)
					}
					e.clk.Set(e.clk.Now().Add(time.Hour))
					runOnce(t, d)
					if n := e.sendRequests(); n != 3 {
						t.Fatalf("tried again after giving up: %d requests", n)
					}
					break
				}
				if got.Status != models.MsgSending || got.LeaseUntil == nil {
					t.Fatalf("after attempt %d: %+v", attempt, got)
				}
				if delay := got.LeaseUntil.Sub(e.clk.Now()); delay != wantDelays[attempt-1] {
					t.Fatalf("retry %d in %s, want %s", attempt, delay, wantDelays[attempt-1])
				}
				if !strings.Contains(got.Reason, fmt.Sprintf("attempt %d of 3", attempt)) {
					t.Fatalf("reason %q", got.Reason)
				}
				e.clk.Set(*got.LeaseUntil)
			}
		})
	}
}

// S2: SMS.CX accepted the message but the answer was lost; the retry reuses
// the idempotencyId and the gateway records one send.
func TestLostAnswerIsRetriedWithTheSameIdempotencyID(t *testing.T) {
	e := newEnv(t)
	e.fake.DropNext(1)
	m := e.message(t, models.Message{To: "+33612345678", Body: "hello"})
	d := e.dispatcher(t, nil)
	if n := runOnce(t, d); n != 0 {
		t.Fatalf("sent %d on a dropped answer", n)
	}
	got := e.reload(t, m.ID)
	if got.Status != models.MsgSending || got.LeaseUntil == nil || !strings.Contains(got.Reason, "SMS.CX") {
		t.Fatalf("after the drop: %+v", got)
	}
	e.clk.Set(*got.LeaseUntil)
	if n := runOnce(t, d); n != 1 {
		t.Fatalf("retry sent %d", n)
	}
	got = e.reload(t, m.ID)
	sends := e.fake.Sends()
	if e.fake.SendCount(m.UUID) != 1 || len(sends) != 1 || got.Status != models.MsgAccepted || got.ProviderID != sends[0].MsgID {
		t.Fatalf("gateway counted %d sends (%d in all); message %+v", e.fake.SendCount(m.UUID), len(sends), got)
	}
	replays := 0
	for _, r := range e.fake.Requests() {
		if r.Replay {
			replays++
		}
	}
	if replays != 1 {
		t.Fatalf("%d replays, want 1", replays)
	}
}

// S3: two dispatchers over one database claim each message once.
func TestTwoDispatchersClaimEachMessageOnce(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		s1, path := storetest.SQLitePath(t)
		s2, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s2.Close() })
		twoDispatchers(t, s1, s2)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		var stores []*models.Store
		for range 2 {
			s, err := models.Open(models.Options{Driver: models.DriverPostgres, DSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			stores = append(stores, s)
		}
		if _, err := stores[0].Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		twoDispatchers(t, stores[0], stores[1])
	})
}

func twoDispatchers(t *testing.T, s1, s2 *models.Store) {
	const n = 100
	e := newEnvOn(t, s1)
	e.fake.SetLatency(time.Millisecond)
	p := e.patient(t, "Ada", "+33612345678")
	var ms []*models.Message
	for i := range n {
		if i%2 == 0 {
			ms = append(ms, e.reminder(t, e.appointment(t, p, t0.Add(48*time.Hour)), p))
			continue
		}
		ms = append(ms, e.message(t, models.Message{PatientID: &p.ID, To: p.Phone, Body: fmt.Sprintf("message %d", i)}))
	}
	opts := e.options()
	opts.BatchSize = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for _, s := range []*models.Store{s1, s2} {
		d, err := dispatch.New(s, outbox.New(s, outbox.Options{}), opts)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent, err := d.RunOnce(context.Background())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += sent
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != n {
		t.Fatalf("the dispatchers sent %d in all, want %d", total, n)
	}
	if got := e.sendRequests(); got != n {
		t.Fatalf("%d requests for %d messages: a message was claimed twice", got, n)
	}
	for _, m := range ms {
		if c := e.fake.SendCount(m.UUID); c != 1 {
			t.Fatalf("message %d sent %d times", m.ID, c)
		}
		if st := e.reload(t, m.ID).Status; st != models.MsgAccepted {
			t.Fatalf("message %d is %s", m.ID, st)
		}
	}
}

// Helper process environment.
const (
	helperEnv    = "APPTCONFIRM_DISPATCH_HELPER"
	helperDB     = "APPTCONFIRM_DISPATCH_HELPER_DB"
	helperURL    = "APPTCONFIRM_DISPATCH_HELPER_URL"
	helperLease  = time.Second
	helperPolled = 30 * time.Second
)

// TestHelperProcess is not a test: it is the dispatcher process that
// TestKilledMidBatch starts and kills. It dispatches until nothing is
// pending, then exits 0.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestKilledMidBatch")
	}
	os.Exit(helperMain())
}

func helperMain() int {
	ctx := context.Background()
	store, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: os.Getenv(helperDB)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer store.Close()
	client, err := smscx.New(smscx.Config{BaseURL: os.Getenv(helperURL), APIKey: smscxtest.DefaultAPIKey, HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	d, err := dispatch.New(store, outbox.New(store, outbox.Options{}), dispatch.Options{
		Sender: client, From: "Clinic", CallbackURL: webhookURL, Concurrency: 4, BatchSize: 10,
		MaxAttempts: 5, Lease: helperLease, BackoffBase: 100 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	deadline := time.Now().Add(helperPolled)
	for time.Now().Before(deadline) {
		if _, err := d.RunOnce(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		var pending int64
		if err := store.DB(ctx).Model(&models.Message{}).Where("status IN ?", []string{"planned", "sending"}).Count(&pending).Error; err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		if pending == 0 {
			return 0
		}
		time.Sleep(20 * time.Millisecond) // a leased message becomes due when its lease expires
	}
	fmt.Fprintln(os.Stderr, "messages still pending at the deadline")
	return 3
}

// S1: a dispatcher process killed with SIGKILL in the middle of a batch, then
// a second one: every due message is sent exactly once (the gateway counts
// by idempotencyId) and none is lost.
func TestKilledMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const n = 60
	store, path := storetest.SQLitePath(t)
	e := newEnvOn(t, store)
	ctx := context.Background()
	// The children use the real clock: no quiet hours, appointments ahead.
	store.DB(ctx).Model(e.loc).Updates(map[string]any{"quiet_start": "", "quiet_end": ""})
	p := e.patient(t, "Ada", "+33612345678")
	var ms []*models.Message
	for i := range n {
		a := e.appointment(t, p, time.Now().Add(48*time.Hour))
		m := models.Message{AppointmentID: &a.ID, PatientID: &p.ID, To: p.Phone, SendAt: time.Now().Add(-time.Second)}
		if i%2 == 0 {
			m.RuleID, m.RuleName, m.Kind = &e.rule.ID, e.rule.Name, models.KindReminder
		} else {
			m.Body = fmt.Sprintf("message %d", i)
		}
		ms = append(ms, e.message(t, m))
	}
	e.fake.SetLatency(15 * time.Millisecond)

	first := helper(t, path, e.http.URL)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(e.fake.Sends()) < 12 {
		if time.Now().After(deadline) {
			_ = first.Process.Kill()
			t.Fatal("the first dispatcher sent nothing")
		}
		time.Sleep(time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = first.Wait()
	atKill := len(e.fake.Sends())
	var inFlight int64
	store.DB(ctx).Model(&models.Message{}).Where("status = ?", models.MsgSending).Count(&inFlight)
	if atKill >= n {
		t.Fatalf("the first dispatcher finished before the kill (%d sends)", atKill)
	}
	t.Logf("killed after %d sends with %d messages sending", atKill, inFlight)

	second := helper(t, path, e.http.URL)
	if out, err := second.CombinedOutput(); err != nil {
		t.Fatalf("second dispatcher: %v\n%s", err, out)
	}
	if got := len(e.fake.Sends()); got != n {
		t.Fatalf("the gateway sent %d messages, want %d", got, n)
	}
	for _, m := range ms {
		if c := e.fake.SendCount(m.UUID); c != 1 {
			t.Errorf("message %d sent %d times", m.ID, c)
		}
		got := e.reload(t, m.ID)
		if got.Status != models.MsgAccepted && (got.Status != models.MsgFailed || got.Reason == "") {
			t.Errorf("message %d ended %s %q", m.ID, got.Status, got.Reason)
		}
	}
}

func helper(t *testing.T, dbPath, gatewayURL string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperDB+"="+dbPath, helperURL+"="+gatewayURL)
	return cmd
}
