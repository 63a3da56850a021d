package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// instance is one `apptconfirm serve` child process.
type instance struct {
	name string
	url  string
	cmd  *exec.Cmd
	// exited is closed when the process has ended; err is Wait's answer.
	exited chan struct{}
	err    error
}

// startInstance runs `apptconfirm serve` as a child process with env added
// to the configuration, and waits until it is ready.
func startInstance(t testing.TB, name string, env []string) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args, _ := json.Marshal([]string{"serve"})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// The instance's public URL is plain http on loopback, which live
	// mode allows only when told.
	cmd.Env = append(os.Environ(), envChildArgs+"="+string(args),
		"APPTCONFIRM_SERVER_ADDR="+addr, "APPTCONFIRM_SERVER_PUBLIC_URL=http://"+addr,
		"APPTCONFIRM_SERVER_ALLOW_INSECURE_PUBLIC_URL=true")
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = t.TempDir() // no config.yaml there: defaults plus the environment
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{name: name, url: "http://" + addr, cmd: cmd, exited: make(chan struct{})}
	go func() {
		in.err = cmd.Wait()
		logf.Close()
		close(in.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-in.exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("%s log:\n%s", name, tail(string(b), 4000))
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(in.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		select {
		case <-in.exited:
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("%s exited before ready: %v\n%s", name, in.err, tail(string(b), 4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 90s", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// webhookSecret is pinned so the test can post to every instance.
const webhookSecret = "multi-instance-test-secret-0123456789"

// TestTwoInstancesOnPostgreSQL runs two `apptconfirm serve` processes on one
// PostgreSQL database and one fake SMS.CX gateway:
//   - the same webhook batch posted to both at once is applied once;
//   - a browser's event stream on instance A sees a webhook instance B processed;
//   - 20,000 due messages are drained with each sent exactly once, even when
//     instance A is killed with SIGKILL halfway.
func TestTwoInstancesOnPostgreSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two server processes")
	}
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	store, err := models.Open(models.Options{Driver: models.DriverPostgres, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	fake := smscxtest.NewServer(smscxtest.Options{APIKeys: []string{"test-key"}, NoAutoDLR: true})
	gw := httptest.NewServer(fake)
	defer gw.Close()
	defer fake.Close()

	env := []string{
		"APPTCONFIRM_DATABASE_DRIVER=postgres",
		"APPTCONFIRM_DATABASE_DSN=" + dsn,
		"APPTCONFIRM_SMSCX_MODE=live",
		"APPTCONFIRM_SMSCX_BASE_URL=" + gw.URL,
		"APPTCONFIRM_SMSCX_API_KEY=test-key",
		"APPTCONFIRM_SMSCX_TIMEOUT=3s",
		"APPTCONFIRM_SMSCX_WEBHOOK_SECRET=" + webhookSecret,
		"APPTCONFIRM_DISPATCH_INTERVAL=1s",
		"APPTCONFIRM_DISPATCH_LEASE=6s",
		"APPTCONFIRM_DISPATCH_BATCH_SIZE=200",
		"APPTCONFIRM_DISPATCH_CONCURRENCY=8",
		"APPTCONFIRM_ADMIN_EMAIL=admin@example.com",
		"APPTCONFIRM_ADMIN_PASSWORD=multi-instance-pw",
		"APPTCONFIRM_LOG_LEVEL=warn",
	}
	a := startInstance(t, "A", env)
	b := startInstance(t, "B", env)

	var loc models.Location
	if err := store.DB(ctx).Take(&loc).Error; err != nil {
		t.Fatalf("instances did not create the default location: %v", err)
	}
	patient := models.Patient{FirstName: "Pat", LastName: "Multi", Phone: "+12025550199", Language: "en"}
	if err := store.DB(ctx).Create(&patient).Error; err != nil {
		t.Fatal(err)
	}

	t.Run("same batch to both instances is applied once", func(t *testing.T) {
		msgID := uuid.NewString()
		body := fmt.Sprintf(`{"event":"receive_sms","data":[{"msgId":%q,"from":%q,"countryIso":"US","to":"+12025550100","text":"what time is it?","cost":0,"receivedAt":"2026-11-27 10:00:00"}]}`,
			msgID, patient.Phone)
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, in := range []*instance{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Post(in.url+"/webhooks/smscx/"+webhookSecret, "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		if codes[0] != 200 || codes[1] != 200 {
			t.Fatalf("answers %v, want 200 from both", codes)
		}
		waitFor(t, 30*time.Second, "the inbound message to be processed", func() bool {
			var n int64
			store.DB(ctx).Model(&models.WebhookEvent{}).Where("processed_at IS NOT NULL").Count(&n)
			return n >= 1
		})
		var events, inbound int64
		store.DB(ctx).Model(&models.WebhookEvent{}).Count(&events)
		store.DB(ctx).Model(&models.InboundMessage{}).Where("provider_message_id = ?", msgID).Count(&inbound)
		if events != 1 || inbound != 1 {
			t.Fatalf("stored %d events and %d inbound messages, want 1 and 1", events, inbound)
		}
	})

	t.Run("a browser on A sees a webhook B processed", func(t *testing.T) {
		stream := openEventStream(t, a.url, "admin@example.com", "multi-instance-pw")
		msg := models.Message{
			UUID: uuid.NewString(), PatientID: &patient.ID, Kind: models.KindManual, To: patient.Phone,
			Body: "hello", Status: models.MsgAccepted, SendAt: time.Now().UTC(), ProviderID: uuid.NewString(), CampaignID: uuid.NewString(),
		}
		if err := store.DB(ctx).Create(&msg).Error; err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf(`{"event":"dlr_update","data":[{"campaignId":%q,"msgId":%q,"statusCode":3,"status":"DELIVERED","errorCode":null,"datetime":"2026-11-27 10:00:07","trackData":%q}]}`,
			msg.CampaignID, msg.ProviderID, msg.UUID)
		resp, err := http.Post(b.url+"/webhooks/smscx/"+webhookSecret, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("webhook on B: %d", resp.StatusCode)
		}
		want := fmt.Sprintf(`"message_id":%d`, msg.ID)
		if !stream.waitFor(want, 30*time.Second) {
			t.Fatalf("A's event stream never carried %s", want)
		}
	})

	t.Run("20000 messages sent exactly once with one instance killed", func(t *testing.T) {
		const total = 20000
		fake.SetLatency(2 * time.Millisecond)
		now := time.Now().UTC()
		batch := make([]models.Message, 0, 1000)
		ids := make([]string, 0, total)
		for i := 0; i < total; i++ {
			id := uuid.NewString()
			ids = append(ids, id)
			batch = append(batch, models.Message{
				UUID: id, PatientID: &patient.ID, Kind: models.KindManual, To: patient.Phone,
				Body: fmt.Sprintf("message %d", i), Status: models.MsgPlanned, SendAt: now.Add(-time.Minute),
			})
			if len(batch) == cap(batch) {
				if err := store.DB(ctx).CreateInBatches(batch, 500).Error; err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		waitFor(t, 5*time.Minute, "half of the messages to be sent", func() bool { return len(fake.Sends()) >= total/2 })
		if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-a.exited
		t.Logf("killed A after %d sends", len(fake.Sends()))
		waitFor(t, 8*time.Minute, "every message to leave planned and sending", func() bool {
			var n int64
			store.DB(ctx).Model(&models.Message{}).Where("status IN ?", []models.MessageStatus{models.MsgPlanned, models.MsgSending}).Count(&n)
			return n == 0
		})
		counts := map[models.MessageStatus]int64{}
		var rows []struct {
			Status models.MessageStatus
			N      int64
		}
		store.DB(ctx).Model(&models.Message{}).Select("status, COUNT(*) AS n").Where("kind = ?", models.KindManual).Group("status").Scan(&rows)
		for _, r := range rows {
			counts[r.Status] = r.N
		}
		if counts[models.MsgAccepted] < total {
			t.Fatalf("statuses %v: want all %d accepted", counts, total)
		}
		sent := map[string]int{}
		for _, s := range fake.Sends() {
			sent[s.IdempotencyID]++
		}
		for _, id := range ids {
			if sent[id] != 1 || fake.SendCount(id) != 1 {
				t.Fatalf("message %s sent %d times (SendCount %d), want exactly once", id, sent[id], fake.SendCount(id))
			}
		}
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// eventStream reads a logged-in /events stream in the background.
type eventStream struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// openEventStream logs in at base like a browser and opens GET /events.
func openEventStream(t *testing.T, base, email, password string) *eventStream {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the login page")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"csrf_token": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &eventStream{more: make(chan struct{}, 1)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.mu.Unlock()
			select {
			case s.more <- struct{}{}:
			default:
			}
		}
	}()
	return s
}

// waitFor reports whether a line containing want arrives before the limit.
func (s *eventStream) waitFor(want string, limit time.Duration) bool {
	deadline := time.After(limit)
	for {
		s.mu.Lock()
		for _, l := range s.lines {
			if strings.Contains(l, want) {
				s.mu.Unlock()
				return true
			}
		}
		s.mu.Unlock()
		select {
		case <-s.more:
		case <-deadline:
			return false
		}
	}
}
