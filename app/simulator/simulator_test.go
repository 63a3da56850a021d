package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/smscx"
)

// hook records the webhook POSTs the app under test receives.
type hook struct {
	mu    sync.Mutex
	posts []post
	got   chan struct{}
}

type post struct {
	path, host string
	env        smscx.Envelope
}

func newHook() *hook { return &hook{got: make(chan struct{}, 100)} }

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	env, err := smscx.DecodeEnvelope(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.posts = append(h.posts, post{path: r.URL.Path, host: r.Host, env: *env})
	h.mu.Unlock()
	h.got <- struct{}{}
}

func (h *hook) all() []post {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]post(nil), h.posts...)
}

// testApp is a stand-in for the app: the simulator mounted under Prefix and
// a webhook under /webhooks/smscx/.
type testApp struct {
	sim  *Simulator
	hook *hook
	mux  *http.ServeMux
}

func newTestApp(t *testing.T, publicURL string) *testApp {
	t.Helper()
	a := &testApp{hook: newHook(), mux: http.NewServeMux()}
	sim, err := New(Options{
		PublicURL:  publicURL,
		Webhook:    a.mux,
		WebhookURL: strings.TrimRight(publicURL, "/") + "/webhooks/smscx/s3cret",
		DLRDelay:   -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.sim = sim
	a.mux.Handle(Prefix+"/", sim.Handler())
	a.mux.Handle("POST /webhooks/smscx/{secret}", a.hook)
	t.Cleanup(func() {
		if err := sim.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return a
}

// waitItems waits until the webhook has received n items in all.
func (a *testApp) waitItems(t *testing.T, n int) []post {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		posts := a.hook.all()
		items := 0
		for _, p := range posts {
			items += len(p.env.Data)
		}
		if items >= n {
			return posts
		}
		select {
		case <-a.hook.got:
		case <-deadline:
			t.Fatalf("got %d webhook items, want %d", items, n)
		}
	}
}

func TestSendCrossesTheWireAndReportsComeBack(t *testing.T) {
	// None of these public URLs reaches this process, and none needs to.
	for _, public := range []string{
		"http://localhost:8080",
		"https://clinic.example.org",
		"https://clinic.example.org:443/apptconfirm/",
	} {
		t.Run(public, func(t *testing.T) {
			a := newTestApp(t, public)
			ctx := context.Background()
			base := strings.TrimRight(public, "/")
			if got := a.sim.BaseURL(); got != base+Prefix && got != strings.Replace(base, ":443", "", 1)+Prefix {
				t.Errorf("BaseURL = %q", got)
			}
			resp, err := a.sim.Client().Send(ctx, smscx.SendRequest{
				To: []string{"+12025550143"}, From: "Clinic", Text: "Hi Ada, see you at 10:00.",
				IdempotencyID: "0b6f1c3e-8a52-4a0e-9d7c-7d2f4f0c9a11", DLRCallbackURL: base + "/webhooks/smscx/s3cret",
			})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if len(resp.Data) != 1 || resp.Data[0].Status != smscx.StatusAccepted || resp.Data[0].Parts != 1 {
				t.Fatalf("send response = %+v", resp.Data)
			}
			sends := a.sim.Server().Sends()
			if len(sends) != 1 || sends[0].MsgID != resp.Data[0].MsgID || sends[0].To != "+12025550143" {
				t.Fatalf("fake recorded %+v", sends)
			}
			reqs := a.sim.Server().Requests()
			if len(reqs) == 0 || reqs[len(reqs)-1].Path != "/sms" || reqs[len(reqs)-1].Header.Get("X-Api-Key") != a.sim.APIKey() {
				t.Fatalf("fake saw %+v", reqs)
			}

			posts := a.waitItems(t, 2)
			var statuses []string
			for _, p := range posts {
				if p.path != "/webhooks/smscx/s3cret" {
					t.Errorf("webhook path = %q, want the public prefix removed", p.path)
				}
				if p.host != "clinic.example.org" && p.host != "localhost:8080" && p.host != "clinic.example.org:443" {
					t.Errorf("webhook Host = %q", p.host)
				}
				if p.env.Event != smscx.EventDLRUpdate {
					t.Fatalf("event = %q", p.env.Event)
				}
				for _, raw := range p.env.Data {
					var d smscx.DLRUpdate
					if err := json.Unmarshal(raw, &d); err != nil {
						t.Fatal(err)
					}
					if d.MsgID != resp.Data[0].MsgID {
						t.Errorf("dlr msgId = %q", d.MsgID)
					}
					statuses = append(statuses, d.Status)
				}
			}
			if strings.Join(statuses, ",") != "SENT,DELIVERED" {
				t.Errorf("statuses = %v, want SENT then DELIVERED", statuses)
			}
			for _, cb := range a.sim.Server().Callbacks() {
				if cb.Status != http.StatusOK || cb.URL != base+"/webhooks/smscx/s3cret" {
					t.Errorf("callback %s answered %d %s", cb.URL, cb.Status, cb.Err)
				}
			}
		})
	}
}

func TestPatientReplyReachesTheWebhook(t *testing.T) {
	a := newTestApp(t, "https://clinic.example.org")
	id, err := a.sim.Server().EmitReceiveSMS(context.Background(), "+12025550143", "Clinic", "YES")
	if err != nil {
		t.Fatal(err)
	}
	posts := a.waitItems(t, 1)
	if posts[0].env.Event != smscx.EventReceiveSMS || len(posts[0].env.Data) != 1 {
		t.Fatalf("post = %+v", posts[0])
	}
	var in smscx.ReceiveSMS
	if err := json.Unmarshal(posts[0].env.Data[0], &in); err != nil {
		t.Fatal(err)
	}
	if in.MsgID != id || in.From != "+12025550143" || in.To != "Clinic" || in.Text != "YES" {
		t.Errorf("receive_sms = %+v", in)
	}
}

func TestBalanceAndBadKeyOverTheMount(t *testing.T) {
	a := newTestApp(t, "http://localhost:8080")
	// The mount is also reachable on the app's own listener, with the key only.
	ts := httptest.NewServer(a.mux)
	defer ts.Close()
	tests := []struct {
		name    string
		key     string
		wantErr bool
	}{
		{"simulator key", a.sim.APIKey(), false},
		{"default fake key", "smscxtest-api-key", true},
		{"guessed key", "sim_guess", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := smscx.New(smscx.Config{BaseURL: ts.URL + Prefix, APIKey: tt.key})
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.Balance(context.Background())
			if tt.wantErr {
				if !smscx.IsAuth(err) {
					t.Fatalf("Balance with %s: err = %v, want an auth error", tt.name, err)
				}
				return
			}
			if err != nil || b.Balance <= 0 {
				t.Fatalf("Balance = %+v, %v", b, err)
			}
		})
	}
}

func TestOutsideURLsGoOut(t *testing.T) {
	outside := newHook()
	ts := httptest.NewServer(outside)
	defer ts.Close()
	a := newTestApp(t, "http://localhost:8080")
	// A dlrCallbackUrl that is not the app's is posted to for real.
	_, err := a.sim.Client().Send(context.Background(), smscx.SendRequest{
		To: []string{"+12025550178"}, From: "Clinic", Text: "hello", DLRCallbackURL: ts.URL + "/elsewhere",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.sim.Server().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := outside.all(); len(got) == 0 || got[0].path != "/elsewhere" {
		t.Fatalf("outside receiver got %+v", got)
	}
	if got := a.hook.all(); len(got) != 0 {
		t.Errorf("the app's webhook got %d POSTs for another URL", len(got))
	}
}

func TestAppPath(t *testing.T) {
	tests := []struct {
		public, target string
		want           string
		ok             bool
	}{
		{"http://localhost:8080", "http://localhost:8080/webhooks/smscx/x", "/webhooks/smscx/x", true},
		{"http://localhost:8080", "http://LOCALHOST:8080/sms", "/sms", true},
		{"http://localhost:8080", "http://localhost:8081/sms", "", false},
		{"http://localhost:8080", "https://localhost:8080/sms", "", false},
		{"http://localhost", "http://localhost:80/a", "/a", true},
		{"https://clinic.example.org:443", "https://clinic.example.org/a%2Fb", "/a%2Fb", true},
		{"https://clinic.example.org/app", "https://clinic.example.org/app/webhooks/smscx/x", "/webhooks/smscx/x", true},
		{"https://clinic.example.org/app", "https://clinic.example.org/app", "/", true},
		{"https://clinic.example.org/app", "https://clinic.example.org/apple/x", "", false},
		{"https://clinic.example.org/app", "https://clinic.example.org/other", "", false},
		{"https://clinic.example.org", "https://user@clinic.example.org/x", "", false},
		{"https://clinic.example.org", "https://api.sms.cx/sms", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.public+" "+tt.target, func(t *testing.T) {
			pu, _ := url.Parse(tt.public)
			l := newLoopback(pu, http.NotFoundHandler())
			tu, err := url.Parse(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := l.appPath(tu)
			if got != tt.want || ok != tt.ok {
				t.Errorf("appPath = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no handler", Options{PublicURL: "http://localhost:8080"}},
		{"relative public URL", Options{PublicURL: "/app", Webhook: http.NotFoundHandler()}},
		{"ftp public URL", Options{PublicURL: "ftp://x", Webhook: http.NotFoundHandler()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := New(tt.opts); err == nil {
				_ = s.Close(context.Background())
				t.Fatal("New accepted bad options")
			}
		})
	}
}

func TestKeysDifferPerSimulator(t *testing.T) {
	a, b := newTestApp(t, "http://localhost:8080"), newTestApp(t, "http://localhost:8080")
	if a.sim.APIKey() == b.sim.APIKey() || len(a.sim.APIKey()) < 20 {
		t.Errorf("keys %q and %q", a.sim.APIKey(), b.sim.APIKey())
	}
}

func TestClosedSimulatorRefusesSends(t *testing.T) {
	a := newTestApp(t, "http://localhost:8080")
	if _, err := a.sim.Client().Balance(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.sim.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := a.sim.Client().Balance(ctx)
	var te *smscx.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("Balance after Close: %v, want a transport error", err)
	}
}
