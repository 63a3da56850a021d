package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/app/simulator"
	"apptconfirm/app/smscx"
	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/models"
)

// servedApp is an App served on a real listener on 127.0.0.1.
type servedApp struct {
	*App
	// URL is where the listener is, which public_url may or may not be.
	URL string
}

// serveTestApp builds the app with cfg (its database in a temp dir) and
// serves it until the test ends. An empty public_url becomes the
// listener's URL.
func serveTestApp(t *testing.T, cfg config.Config) *servedApp {
	t.Helper()
	return serveTestAppWith(t, cfg, Options{})
}

// serveTestAppWith is serveTestApp with Build options (HashCost is set).
func serveTestAppWith(t *testing.T, cfg config.Config, opts Options) *servedApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lnURL := "http://" + ln.Addr().String()
	if cfg.Server.PublicURL == "" {
		cfg.Server.PublicURL = lnURL
	}
	cfg.Database.DSN = filepath.Join(t.TempDir(), "app.db")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	opts.HashCost = 10
	app, err := Build(ctx, cfg, slog.New(slog.DiscardHandler), opts)
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &servedApp{App: app, URL: lnURL}
}

// eventually polls cond until it holds or 10 seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// webhookEvents returns the stored webhook events of one kind that mention s.
func (a *servedApp) webhookEvents(t *testing.T, event, s string) []models.WebhookEvent {
	t.Helper()
	var evs []models.WebhookEvent
	err := a.Store.DB(context.Background()).Where("event = ? AND raw LIKE ?", event, "%"+s+"%").Order("id").Find(&evs).Error
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestSimulatorModeEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name, publicURL string
	}{
		{"public_url is the listener", ""},
		// A public URL behind a proxy, or simply wrong for this process: the
		// simulator's traffic does not depend on it.
		{"public_url is elsewhere", "https://clinic.example.org"},
		{"public_url is the default", "http://localhost:8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Server.PublicURL = tc.publicURL
			a := serveTestApp(t, cfg)
			if a.Simulator == nil || a.SMS == nil {
				t.Fatal("simulate mode built no simulator or client")
			}
			ctx := context.Background()
			id := uuid.NewString()
			resp, err := a.SMS.Send(ctx, smscx.SendRequest{
				To: []string{"+12025550143"}, From: cfg.SMSCX.Sender, Text: "Hi Ada, see you at 10:00.",
				IdempotencyID: id, TrackData: id, DLRCallbackURL: a.WebhookURL(),
			})
			if err != nil {
				t.Fatalf("send through the client: %v", err)
			}
			msgID := resp.Data[0].MsgID
			if s := a.Simulator.Sends(); len(s) != 1 || s[0].MsgID != msgID || s[0].DLRCallbackURL != a.WebhookURL() {
				t.Fatalf("the fake recorded %+v", s)
			}
			if !strings.HasPrefix(a.simulator.BaseURL(), strings.TrimRight(a.Config.Server.PublicURL, "/")+simulator.Prefix) {
				t.Errorf("client base URL %q is not under public_url", a.simulator.BaseURL())
			}

			// Both delivery reports come back through the real webhook route.
			if err := a.Simulator.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			cbs := a.Simulator.Callbacks()
			if len(cbs) == 0 {
				t.Fatal("the fake posted no delivery report")
			}
			for _, cb := range cbs {
				if cb.URL != a.WebhookURL() || cb.Event != smscx.EventDLRUpdate || cb.Status != http.StatusOK {
					t.Fatalf("callback to %s (%s): %d %s", cb.URL, cb.Event, cb.Status, cb.Err)
				}
			}
			evs := a.webhookEvents(t, smscx.EventDLRUpdate, msgID)
			var statuses []string
			for _, ev := range evs {
				switch {
				case strings.Contains(ev.Raw, `"SENT"`):
					statuses = append(statuses, "SENT")
				case strings.Contains(ev.Raw, `"DELIVERED"`):
					statuses = append(statuses, "DELIVERED")
				}
			}
			if strings.Join(statuses, ",") != "SENT,DELIVERED" {
				t.Fatalf("stored delivery reports %v, want SENT then DELIVERED", statuses)
			}
		})
	}
}

// The fake gateway is not served on the app's listener, with or without
// its key: only the simulator's client reaches it, in-process. Anonymous
// posts to its old path cost nothing.
func TestSimulatorNotOnTheListener(t *testing.T) {
	a := serveTestApp(t, config.Default())
	for _, tt := range []struct {
		name, method, path, key string
	}{
		{"balance with the process's key", http.MethodGet, "/account/balance", a.simulator.APIKey()},
		{"send with the process's key", http.MethodPost, "/sms", a.simulator.APIKey()},
		{"send without a key", http.MethodPost, "/sms", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, a.URL+simulator.Prefix+tt.path, strings.NewReader(`{"to":["+12025550143"],"text":"x","from":"Clinic"}`))
			req.Header.Set("Content-Type", "application/json")
			if tt.key != "" {
				req.Header.Set("X-API-KEY", tt.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("status %d, want 404", resp.StatusCode)
			}
		})
	}
	if n := len(a.Simulator.Requests()); n != 0 {
		t.Fatalf("the fake recorded %d requests from the listener", n)
	}
	// The client still reaches it.
	if _, err := a.SMS.Balance(context.Background()); err != nil {
		t.Fatalf("balance through the simulator's client: %v", err)
	}
}

// browser is a logged-in HTTP client of a served app.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (a *servedApp) login(t *testing.T, email, password string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: a.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	b.get("/login")
	if resp, body := b.post("/login", url.Values{"email": {email}, "password": {password}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	return b
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	form.Set("csrf_token", b.csrf)
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestSimulatorPagesEndToEnd(t *testing.T) {
	cfg := config.Default()
	cfg.Server.PublicURL = "https://clinic.example.org" // not this listener
	a := serveTestApp(t, cfg)
	ctx := context.Background()
	if _, err := a.Clinic.CreateFirstAdmin(ctx, "boss@example.com", "Boss", "password123"); err != nil {
		t.Fatal(err)
	}
	loc, err := a.Clinic.DefaultLocation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Ada", LastName: "Lovelace", Phone: "+12025550143"}, "US")
	if err != nil {
		t.Fatal(err)
	}
	appt, err := a.Clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{
		PatientID: p.ID, LocationID: loc.ID, StartsAt: time.Now().Add(26 * time.Hour), DurationMinutes: 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	b := a.login(t, "boss@example.com", "password123")

	t.Run("settings page", func(t *testing.T) {
		status, body := b.get("/admin/smscx")
		for _, s := range []string{"Simulator mode", "working", "10000.00 EUR", a.WebhookURL(), "https://clinic.example.org/_simulator/smscx"} {
			if !strings.Contains(body, s) {
				t.Fatalf("settings page (%d) lacks %q", status, s)
			}
		}
		if strings.Contains(body, a.simulator.APIKey()) {
			t.Fatal("the settings page shows the simulator's key")
		}
	})

	t.Run("test SMS", func(t *testing.T) {
		_, body := b.get("/admin/smscx")
		m := regexp.MustCompile(`name="idempotency_id" value="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no idempotency id")
		}
		resp, body := b.post("/admin/smscx/test", url.Values{"to": {"+12025550178"}, "text": {"apptconfirm test message"}, "idempotency_id": {m[1]}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "ACCEPTED") {
			t.Fatalf("test SMS: %d", resp.StatusCode)
		}
		if a.Simulator.SendCount(m[1]) != 1 {
			t.Fatal("the test SMS did not reach the simulator")
		}
	})

	t.Run("reply as the patient", func(t *testing.T) {
		page := "/appointments/" + itoa(appt.ID)
		status, body := b.get(page)
		if status != http.StatusOK || !strings.Contains(body, "Reply as the patient") || !strings.Contains(body, "Nothing reaches a phone") {
			t.Fatalf("appointment page (%d) lacks the simulator's form or banner", status)
		}
		resp, _ := b.post(page+"/simulate-reply", url.Values{"text": {"YES"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("reply: %d", resp.StatusCode)
		}
		_, body = b.get(page)
		if !strings.Contains(body, "Sent as the patient: YES") {
			t.Fatal("no confirmation flash")
		}
		evs := a.webhookEvents(t, smscx.EventReceiveSMS, "+12025550143")
		if len(evs) != 1 || !strings.Contains(evs[0].Raw, `"text":"YES"`) {
			t.Fatalf("stored receive_sms events: %+v", evs)
		}
		// The webhook processor (run by Serve) applies it.
		eventually(t, "the reply to be processed", func() bool {
			var ev models.WebhookEvent
			err := a.Store.DB(ctx).First(&ev, evs[0].ID).Error
			return err == nil && ev.ProcessedAt != nil
		})
	})
}

func TestLiveModeBuildsTheRealClient(t *testing.T) {
	fake := smscxtest.NewServer(smscxtest.Options{APIKeys: []string{"live-key-0123456789"}})
	defer fake.Close()
	gw := httptest.NewServer(fake)
	defer gw.Close()
	cfg := config.Default()
	cfg.SMSCX.Mode = config.ModeLive
	cfg.SMSCX.APIKey = "live-key-0123456789"
	cfg.SMSCX.BaseURL = gw.URL
	cfg.Server.AllowInsecurePublicURL = true // the listener's http:// URL
	a := serveTestApp(t, cfg)
	if a.Simulator != nil || a.simulator != nil {
		t.Fatal("live mode built a simulator")
	}
	b, err := a.SMS.Balance(context.Background())
	if err != nil || b.Balance <= 0 {
		t.Fatalf("balance through the live client: %+v, %v", b, err)
	}
	resp, err := http.Get(a.URL + simulator.Prefix + "/account/balance")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the simulator mount answers %d in live mode, want 404", resp.StatusCode)
	}
}

func TestCloseStopsTheSimulator(t *testing.T) {
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "app.db")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := Build(ctx, cfg, slog.New(slog.DiscardHandler), Options{HashCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Before any listener exists the simulator already works in-process.
	if _, err := a.SMS.Balance(ctx); err != nil {
		t.Fatalf("balance before Serve: %v", err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = a.SMS.Balance(cctx)
	var te *smscx.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("balance after Close: %v, want a transport error", err)
	}
}

func itoa(id uint) string { return strconv.FormatUint(uint64(id), 10) }
