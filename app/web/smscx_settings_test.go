package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/auth"
	"apptconfirm/app/clinic"
	"apptconfirm/app/smscx"
	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
	"apptconfirm/static"
	"apptconfirm/templates"
)

// gatewayKey is the API key the test gateway accepts.
const gatewayKey = "right-key-Zq8x1v7b3n5m"

// smscxTestApp is a web UI with the SMS.CX pages enabled: a fake gateway
// behind httptest, a real client, and a stand-in for the app's webhook
// that records what the gateway posts.
type smscxTestApp struct {
	*testApp
	fake       *smscxtest.Server
	hook       *webhookStandIn
	webhookURL string
}

// smscxSetup chooses how newSMSCXTestApp wires the pages.
type smscxSetup struct {
	simulating bool
	// apiKey is the client's key; empty means gatewayKey.
	apiKey string
	// baseURL overrides the gateway URL the client calls.
	baseURL string
	// checkTimeout bounds the credentials check; zero means 2s.
	checkTimeout time.Duration
}

func newSMSCXTestApp(t *testing.T, setup smscxSetup) *smscxTestApp {
	t.Helper()
	st := storetest.SQLite(t)
	a := &smscxTestApp{testApp: &testApp{t: t, store: st, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	a.clinic = clinic.New(st, clinic.Options{Hasher: testHasher, Now: func() time.Time { return a.now }})

	a.hook = &webhookStandIn{status: http.StatusOK}
	hookSrv := httptest.NewServer(a.hook)
	t.Cleanup(hookSrv.Close)
	a.webhookURL = hookSrv.URL + "/webhooks/smscx/hooksecret-0123456789abcdef"
	a.fake = smscxtest.NewServer(smscxtest.Options{
		APIKeys: []string{gatewayKey}, CallbackURL: a.webhookURL, DLRCallbackURL: a.webhookURL, NoAutoDLR: true,
	})
	t.Cleanup(a.fake.Close)
	gw := httptest.NewServer(a.fake)
	t.Cleanup(gw.Close)

	key, base := setup.apiKey, setup.baseURL
	if key == "" {
		key = gatewayKey
	}
	if base == "" {
		base = gw.URL
	}
	client, err := smscx.New(smscx.Config{BaseURL: base, APIKey: key, HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	d := SMSCX{
		Mode: "live", BaseURL: base, Auth: "API key", Sender: "Clinic", WebhookURL: a.webhookURL,
		Client: client, CheckTimeout: setup.checkTimeout, SendTimeout: 5 * time.Second,
	}
	if d.CheckTimeout == 0 {
		d.CheckTimeout = 2 * time.Second
	}
	if setup.simulating {
		d.Mode, d.Simulator = "simulate", a.fake
	}
	srv, err := New(Options{ClinicName: "Test Clinic", TrustedProxies: []string{"127.0.0.1"}, Simulating: setup.simulating}, Deps{
		Sessions:  auth.NewSessions(st, auth.SessionOptions{Lifetime: time.Hour}),
		Hasher:    testHasher,
		Limiter:   auth.NewLoginLimiter(15*time.Minute, 5, 20, nil),
		Templates: templates.FS,
		Static:    static.FS,
		Now:       func() time.Time { return a.now },
		Clinic:    a.clinic,
		SMSCX:     &d,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.server = srv
	a.http = httptest.NewServer(srv.Handler())
	t.Cleanup(a.http.Close)
	return a
}

// webhookStandIn records the envelopes posted to it and answers status.
type webhookStandIn struct {
	mu     sync.Mutex
	status int
	posts  []smscx.Envelope
}

func (h *webhookStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	env, err := smscx.DecodeEnvelope(body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.posts = append(h.posts, *env)
	w.WriteHeader(h.status)
}

func (h *webhookStandIn) setStatus(code int) {
	h.mu.Lock()
	h.status = code
	h.mu.Unlock()
}

// replies returns the receive_sms items posted so far.
func (h *webhookStandIn) replies(t *testing.T) []smscx.ReceiveSMS {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []smscx.ReceiveSMS
	for _, env := range h.posts {
		if env.Event != smscx.EventReceiveSMS {
			continue
		}
		for _, raw := range env.Data {
			var in smscx.ReceiveSMS
			if err := json.Unmarshal(raw, &in); err != nil {
				t.Fatal(err)
			}
			out = append(out, in)
		}
	}
	return out
}

func TestSMSCXSettingsCheck(t *testing.T) {
	// Nothing listens on port 1 (a closed test server's port could be
	// taken by another server of the suite by the time the page checks).
	const closedURL = "http://127.0.0.1:1"
	tests := []struct {
		name   string
		setup  smscxSetup
		fault  func(*smscxtest.Server)
		has    []string
		hasnt  []string
		secret string
	}{
		{
			name:  "simulator, credentials work",
			setup: smscxSetup{simulating: true},
			has: []string{
				"Simulator mode", "built-in simulator", "working", "10000.00 EUR", "prepaid billing",
				"API key", "<code>Clinic</code>", "hooksecret-0123456789abcdef", "inbound SMS", "opt-outs",
				"short link hits", "attachment hits", "dlrCallbackUrl", "nothing is sent or billed",
			},
			hasnt:  []string{"Bad credentials", "Unreachable"},
			secret: gatewayKey,
		},
		{
			name:  "live, credentials work",
			setup: smscxSetup{},
			has:   []string{"the real SMS.CX API", "working", "10000.00 EUR", "SMS.CX bills it"},
			hasnt: []string{"Simulator mode", "built-in simulator"},
		},
		{
			name:   "bad credentials",
			setup:  smscxSetup{apiKey: "wrong-key-Secret-9876"},
			has:    []string{"Bad credentials", "SMS.CX refused the credentials (HTTP 401 invalid_api_key", "APPTCONFIRM_SMSCX_API_KEY"},
			hasnt:  []string{"working", "10000.00"},
			secret: "wrong-key-Secret-9876",
		},
		{
			name:  "unreachable",
			setup: smscxSetup{baseURL: closedURL},
			has:   []string{"Unreachable", "Could not connect to SMS.CX"},
			hasnt: []string{"working"},
		},
		{
			name:  "rate limited",
			setup: smscxSetup{},
			fault: func(f *smscxtest.Server) { f.RateLimitNext(1, time.Date(2030, 1, 1, 12, 34, 56, 0, time.UTC)) },
			has:   []string{"Rate limited", "wait until 12:34:56 UTC"},
			hasnt: []string{"working"},
		},
		{
			name:  "server error",
			setup: smscxSetup{},
			fault: func(f *smscxtest.Server) { f.ServerErrorNext(1) },
			has:   []string{"SMS.CX error", "HTTP 500"},
			hasnt: []string{"working"},
		},
		{
			name:  "no answer in time",
			setup: smscxSetup{checkTimeout: 300 * time.Millisecond},
			fault: func(f *smscxtest.Server) { f.TimeoutNext(1) },
			has:   []string{"Unreachable", "did not answer within 300ms"},
			hasnt: []string{"working"},
		},
	}
	// Cases with the same setup share an app: logging in is slow on purpose.
	type app struct {
		a *smscxTestApp
		b *browser
	}
	apps := map[smscxSetup]app{}
	for _, tt := range tests {
		if _, ok := apps[tt.setup]; !ok {
			a := newSMSCXTestApp(t, tt.setup)
			apps[tt.setup] = app{a: a, b: a.loggedIn("boss@example.com", models.RoleAdmin)}
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := apps[tt.setup].a, apps[tt.setup].b
			a.t, b.t = t, t
			if tt.fault != nil {
				tt.fault(a.fake)
			}
			status, body := b.get("/admin/smscx")
			expectPage(t, tt.name, status, body, http.StatusOK, tt.has...)
			for _, s := range tt.hasnt {
				if strings.Contains(body, s) {
					t.Errorf("page shows %q", s)
				}
			}
			if tt.secret != "" && strings.Contains(body, tt.secret) {
				t.Fatal("the page shows the API key")
			}
			if strings.Contains(body, gatewayKey) {
				t.Fatal("the page shows the gateway's key")
			}
		})
	}
}

func TestSMSCXSettingsRefuseStaff(t *testing.T) {
	a := newSMSCXTestApp(t, smscxSetup{simulating: true})
	a.addLocation("Main", "UTC", "US")
	b := a.loggedIn("front@example.com", models.RoleStaff)
	status, body := b.get("/admin/smscx")
	expectPage(t, "staff settings", status, body, http.StatusForbidden, "Admins only")
	resp, _ := b.post("/admin/smscx/test", form("to", "+12025550143", "text", "hi", "idempotency_id", uuid.NewString()))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("staff test SMS: %d, want 403", resp.StatusCode)
	}
	if n := len(a.fake.Sends()); n != 0 {
		t.Fatalf("staff sent %d SMS", n)
	}
	// Not logged in: the form is refused too.
	anon := a.browser()
	anon.get("/login")
	resp, _ = anon.post("/admin/smscx/test", form("to", "+12025550143", "text", "hi"))
	if resp.StatusCode != http.StatusUnauthorized || len(a.fake.Sends()) != 0 {
		t.Fatalf("anonymous test SMS: %d, %d sends", resp.StatusCode, len(a.fake.Sends()))
	}
}

func TestSMSCXTestSMS(t *testing.T) {
	a := newSMSCXTestApp(t, smscxSetup{})
	a.addLocation("Main", "UTC", "US")
	b := a.loggedIn("boss@example.com", models.RoleAdmin)

	status, body := b.get("/admin/smscx")
	expectPage(t, "form", status, body, http.StatusOK, `name="to"`, `value="apptconfirm test message"`, `name="idempotency_id"`)
	formID := idempotencyIDOf(t, body)

	t.Run("refused input sends nothing", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			to, text string
			has      []string
		}{
			{"invalid number", "12345", "hello", []string{"is not a valid phone number", `value="12345"`}},
			{"letters", "call me", "hello", []string{"is not a valid phone number"}},
			{"no number", "", "hello", []string{"is not a valid phone number"}},
			{"no text", "+12025550143", "   ", []string{"required"}},
			{"text too long", "+12025550143", strings.Repeat("a", 161), []string{"must be at most 160 characters, got 161"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := b.post("/admin/smscx/test", form("to", tc.to, "text", tc.text, "idempotency_id", formID))
				expectPage(t, tc.name, resp.StatusCode, body, http.StatusUnprocessableEntity, tc.has...)
			})
		}
		if n := len(a.fake.Sends()); n != 0 {
			t.Fatalf("refused forms sent %d SMS", n)
		}
	})

	t.Run("missing CSRF token", func(t *testing.T) {
		resp, _ := b.post("/admin/smscx/test", form("csrf_token", "", "to", "+12025550143", "text", "hi"))
		if resp.StatusCode != http.StatusForbidden || len(a.fake.Sends()) != 0 {
			t.Fatalf("no CSRF: %d, %d sends", resp.StatusCode, len(a.fake.Sends()))
		}
	})

	t.Run("sent", func(t *testing.T) {
		resp, body := b.post("/admin/smscx/test", form("to", "(202) 555-0143", "text", "apptconfirm test message", "idempotency_id", formID))
		sends := a.fake.Sends()
		if len(sends) != 1 {
			t.Fatalf("%d sends, want 1", len(sends))
		}
		s := sends[0]
		expectPage(t, "sent", resp.StatusCode, body, http.StatusOK, "SMS.CX accepted the test SMS to +12025550143",
			s.MsgID, "ACCEPTED", `id="test-parts">1<`, "0.041 EUR")
		if s.To != "+12025550143" || s.From != "Clinic" || s.Text != "apptconfirm test message" ||
			s.IdempotencyID != formID || s.DLRCallbackURL != a.webhookURL {
			t.Fatalf("gateway got %+v", s)
		}
		if next := idempotencyIDOf(t, body); next == formID {
			t.Fatal("the form after a send reuses the idempotency id")
		}
		var audit models.AuditEntry
		if err := a.store.DB(context.Background()).Where("action = ?", "smscx.test_sms").Take(&audit).Error; err != nil {
			t.Fatalf("no audit row: %v", err)
		}
		if audit.Actor != "boss@example.com" || !strings.Contains(audit.Detail, s.MsgID) ||
			strings.Contains(audit.Detail, "+12025550143") {
			t.Fatalf("audit row %+v", audit)
		}
	})

	t.Run("the same form twice sends once", func(t *testing.T) {
		resp, body := b.post("/admin/smscx/test", form("to", "+12025550143", "text", "apptconfirm test message", "idempotency_id", formID))
		expectPage(t, "resent", resp.StatusCode, body, http.StatusOK, a.fake.Sends()[0].MsgID)
		if n, c := len(a.fake.Sends()), a.fake.SendCount(formID); n != 1 || c != 1 {
			t.Fatalf("%d sends, %d with the form's id; want 1", n, c)
		}
	})

	t.Run("gateway refusals in words", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			fault  func(*smscxtest.Server)
			status int
			has    string
		}{
			{"no credit", func(f *smscxtest.Server) { f.SetInsufficientCredit(true) }, http.StatusUnprocessableEntity, "Insufficient credit"},
			{"no coverage", func(f *smscxtest.Server) { f.AddNoCoverage("+4479") }, http.StatusUnprocessableEntity, "No coverage"},
			{"server error", func(f *smscxtest.Server) { f.ServerErrorNext(1) }, http.StatusBadGateway, "SMS.CX error"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(a.fake.Sends())
				tc.fault(a.fake)
				defer a.fake.ClearFaults()
				resp, body := b.post("/admin/smscx/test", form("to", "+447911123456", "text", "hi", "idempotency_id", uuid.NewString()))
				expectPage(t, tc.name, resp.StatusCode, body, tc.status, "Not sent. "+tc.has, `value="+447911123456"`)
				if len(a.fake.Sends()) != before {
					t.Fatal("a refused send was recorded")
				}
			})
		}
	})
}

func idempotencyIDOf(t *testing.T, body string) string {
	t.Helper()
	const marker = `name="idempotency_id" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatal("no idempotency id in the form")
	}
	rest := body[i+len(marker):]
	id := rest[:strings.IndexByte(rest, '"')]
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("idempotency id %q: %v", id, err)
	}
	return id
}
