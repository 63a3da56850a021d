package smscx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/smscx/smscxtest"
)

const (
	testKey    = "key-1"
	testID     = "app-1"
	testSecret = "secret-1"
	idemA      = "854cd53f-d77d-4aa8-9bd9-fbf720f3332d"
	trackA     = "bf325375-e030-4ccb-a009-17317c574773"
	phoneDE    = "+4915123456789"
)

// newFake starts a fake gateway that accepts testKey and the testID OAuth
// client; automatic delivery reports are off unless opts says otherwise.
func newFake(t *testing.T, opts smscxtest.Options) (*smscxtest.Server, *httptest.Server) {
	t.Helper()
	opts.APIKeys = []string{testKey}
	opts.ClientID, opts.ClientSecret = testID, testSecret
	fake := smscxtest.NewServer(opts)
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	t.Cleanup(fake.Close)
	return fake, ts
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func basicSend() SendRequest {
	return SendRequest{To: []string{phoneDE}, From: "Clinic", Text: "Reminder: tomorrow 10:00"}
}

func tokenRequests(fake *smscxtest.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Path == "/oauth/token" {
			n++
		}
	}
	return n
}

func TestNew(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		wantErr bool
		base    string
	}{
		{"no credentials", Config{}, true, ""},
		{"client id without secret", Config{ClientID: "x"}, true, ""},
		{"bad base url", Config{APIKey: "k", BaseURL: "api.sms.cx"}, true, ""},
		{"default base", Config{APIKey: "k"}, false, DefaultBaseURL},
		{"trailing slash and prefix", Config{APIKey: "k", BaseURL: "http://localhost:8080/_simulator/smscx/"}, false, "http://localhost:8080/_simulator/smscx"},
		{"oauth", Config{ClientID: "a", ClientSecret: "b"}, false, DefaultBaseURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "smscx: new: ") {
					t.Errorf("error %q lacks prefix", err)
				}
				return
			}
			if c.baseURL != tc.base || c.hc.Timeout != DefaultTimeout || c.maxBody != DefaultMaxResponseBytes {
				t.Errorf("client = %q %v %d", c.baseURL, c.hc.Timeout, c.maxBody)
			}
		})
	}
}

func TestSendWithAPIKey(t *testing.T) {
	fake, ts := newFake(t, smscxtest.Options{NoAutoDLR: true})
	c := newClient(t, Config{BaseURL: ts.URL, APIKey: testKey})
	resp, err := c.Send(testContext(t), SendRequest{
		To: []string{phoneDE, "+31612345678"}, From: "Clinic", Text: "Reminder: tomorrow 10:00",
		IdempotencyID: idemA, TrackData: trackA, DLRCallbackURL: "https://app.example/webhooks/smscx/s3cret",
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.IdempotencyID != idemA || resp.RequestID == "" {
		t.Errorf("headers: idempotency %q request %q", resp.IdempotencyID, resp.RequestID)
	}
	in := resp.Info
	if in.CampaignID == "" || in.TotalPhoneNumbers != 2 || in.TotalValid != 2 || in.TotalInvalid != 0 ||
		in.TotalParts != 2 || in.TotalCost != 0.082 || in.DLRCallbackURL != "https://app.example/webhooks/smscx/s3cret" ||
		in.PhoneNumbersByCountry["NL"] != 1 {
		t.Errorf("info = %+v", in)
	}
	if len(resp.Data) != 2 {
		t.Fatalf("data = %+v", resp.Data)
	}
	m := resp.Data[0]
	if m.MsgID == "" || m.Status != StatusAccepted || m.ErrorCode != nil || m.Cost != 0.041 || m.To != phoneDE ||
		m.From != "Clinic" || m.Parts != 1 || m.TrackData != trackA || m.TextAnalysis == nil ||
		m.TextAnalysis.Length != 24 || m.CountryISO != "DE" {
		t.Errorf("data[0] = %+v", m)
	}
	if _, err := ParseTime(m.CreatedAt); err != nil {
		t.Error(err)
	}

	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Header.Get("X-Api-Key") != testKey || reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("requests = %+v", reqs)
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"to", "from", "text", "idempotencyId", "trackData", "dlrCallbackUrl"} {
		if _, ok := body[k]; !ok {
			t.Errorf("body lacks %s: %s", k, reqs[0].Body)
		}
	}
	if _, ok := body["allowInvalid"]; ok {
		t.Errorf("empty allowInvalid not omitted: %s", reqs[0].Body)
	}
	sends := fake.Sends()
	if len(sends) != 2 || sends[0].MsgID != m.MsgID || fake.SendCount(idemA) != 1 {
		t.Errorf("fake sends = %+v", sends)
	}
}

func TestSendAllowInvalidAndStatuses(t *testing.T) {
	fake, ts := newFake(t, smscxtest.Options{NoAutoDLR: true})
	fake.AddOptout("+4915100000001")
	fake.AddNoCoverage("+999")
	c := newClient(t, Config{BaseURL: ts.URL, APIKey: testKey})
	resp, err := c.Send(testContext(t), SendRequest{
		To: []string{phoneDE, "0151-bad", "+4915100000001", "+99912345678"}, From: "Clinic", Text: "hi",
		AllowInvalid: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Info.Invalid) != 1 || resp.Info.Invalid[0] != "0151-bad" || resp.Info.TotalInvalid != 1 {
		t.Errorf("info = %+v", resp.Info)
	}
	var got []string
	for _, d := range resp.Data {
		got = append(got, d.Status)
	}
	if strings.Join(got, ",") != "ACCEPTED,REJECTED,NO COVERAGE" {
		t.Errorf("statuses = %v", got)
	}
}

func TestSendErrors(t *testing.T) {
	reset := time.Unix(1900000000, 0).UTC()
	past := time.Now().Add(-time.Hour)
	cases := []struct {
		name      string
		setup     func(*smscxtest.Server)
		key       string
		req       func(*SendRequest)
		status    int
		typ       string
		code      int
		retryable bool
		check     func(*testing.T, error)
	}{
		{name: "to missing", req: func(r *SendRequest) { r.To = nil }, status: 400, typ: TypeInvalidParam, code: 1104},
		{name: "from missing", req: func(r *SendRequest) { r.From = "" }, status: 400, typ: TypeInvalidParam, code: 1105},
		{name: "from too short", req: func(r *SendRequest) { r.From = "Dr" }, status: 400, typ: TypeInvalidParam, code: 1106},
		{name: "text missing", req: func(r *SendRequest) { r.Text = "" }, status: 400, typ: TypeInvalidParam, code: 1107},
		{name: "bad callback url", req: func(r *SendRequest) { r.DLRCallbackURL = "::nope" }, status: 400, typ: TypeInvalidParam, code: 1109},
		{name: "bad idempotency id", req: func(r *SendRequest) { r.IdempotencyID = "reminder-17" }, status: 400, typ: TypeInvalidParam, code: 1111},
		{name: "scheduled in the past", req: func(r *SendRequest) { r.ScheduledAt = past }, status: 400, typ: TypeInvalidParam, code: 1116},
		{
			name: "invalid number", req: func(r *SendRequest) { r.To = []string{"+4915"} },
			status: 400, typ: TypeInvalidParam, code: 1207,
			check: func(t *testing.T, err error) {
				var ae *APIError
				if !IsInvalidNumber(err) || !errors.As(err, &ae) || len(ae.Invalid) != 1 || ae.Invalid[0] != "+4915" {
					t.Errorf("not an invalid-number error: %v", err)
				}
			},
		},
		{
			name: "invalid numbers", req: func(r *SendRequest) { r.To = []string{"+4915", phoneDE, "x"} },
			status: 400, typ: TypeInvalidParam, code: 1210,
			check: func(t *testing.T, err error) {
				var ae *APIError
				if !IsInvalidNumber(err) || !errors.As(err, &ae) || len(ae.Invalid) != 2 {
					t.Errorf("not an invalid-numbers error: %v", err)
				}
			},
		},
		{
			name: "no coverage", setup: func(f *smscxtest.Server) { f.AddNoCoverage("+49151") },
			status: 403, typ: TypeNoCoverage, code: 1119,
			check: func(t *testing.T, err error) {
				if !IsNoCoverage(err) {
					t.Errorf("IsNoCoverage false: %v", err)
				}
			},
		},
		{
			name: "insufficient credit", setup: func(f *smscxtest.Server) { f.SetInsufficientCredit(true) },
			status: 400, typ: TypeInsufficientCredit, code: 1113,
			check: func(t *testing.T, err error) {
				if !IsInsufficientCredit(err) {
					t.Errorf("IsInsufficientCredit false: %v", err)
				}
			},
		},
		{
			name: "bad api key", key: "wrong",
			status: 401, typ: TypeInvalidAPIKey, code: smscxtest.CodeInvalidAPIKey,
			check: func(t *testing.T, err error) {
				if !IsAuth(err) {
					t.Errorf("IsAuth false: %v", err)
				}
			},
		},
		{
			name: "rate limited", setup: func(f *smscxtest.Server) { f.RateLimitNext(1, reset) },
			status: 429, typ: TypeRateLimit, code: smscxtest.CodeRateLimit, retryable: true,
			check: func(t *testing.T, err error) {
				at, ok := RetryAt(err)
				if !ok || !at.Equal(reset) {
					t.Errorf("RetryAt = %v %v", at, ok)
				}
			},
		},
		{
			name: "server error", setup: func(f *smscxtest.Server) { f.ServerErrorNext(1) },
			status: 500, typ: TypeServerError, code: smscxtest.CodeServerError, retryable: true,
			check: func(t *testing.T, err error) {
				if _, ok := RetryAt(err); ok {
					t.Error("RetryAt set for a 500")
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, ts := newFake(t, smscxtest.Options{NoAutoDLR: true})
			if tc.setup != nil {
				tc.setup(fake)
			}
			key := testKey
			if tc.key != "" {
				key = tc.key
			}
			c := newClient(t, Config{BaseURL: ts.URL, APIKey: key})
			req := basicSend()
			if tc.req != nil {
				tc.req(&req)
			}
			resp, err := c.Send(testContext(t), req)
			if err == nil {
				t.Fatalf("no error, response %+v", resp)
			}
			if !strings.HasPrefix(err.Error(), "smscx: send: ") {
				t.Errorf("error %q lacks prefix", err)
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("not an APIError: %v", err)
			}
			if ae.HTTPStatus != tc.status || ae.Type != tc.typ || ae.Code != tc.code || ae.Message == "" {
				t.Errorf("APIError = %+v", ae)
			}
			if IsRetryable(err) != tc.retryable || ae.Retryable() != tc.retryable {
				t.Errorf("retryable = %v, want %v", IsRetryable(err), tc.retryable)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			if strings.Contains(err.Error(), phoneDE) {
				t.Errorf("error shows a full number: %v", err)
			}
		})
	}
}

func TestOAuthTokenCaching(t *testing.T) {
	fake, ts := newFake(t, smscxtest.Options{NoAutoDLR: true})
	c := newClient(t, Config{BaseURL: ts.URL, ClientID: testID, ClientSecret: testSecret})
	ctx := testContext(t)
	for range 5 {
		if _, err := c.Send(ctx, basicSend()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Balance(ctx); err != nil {
		t.Fatal(err)
	}
	if n := tokenRequests(fake); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	for _, r := range fake.Requests() {
		if r.Path == "/oauth/token" {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") || string(r.Body) != "grant_type=client_credentials" {
				t.Errorf("token request = %+v %s", r.Header, r.Body)
			}
		} else if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			t.Errorf("API request without bearer: %+v", r.Header)
		}
	}

	// A revoked token: one 401, one new token, the call repeated once.
	fake.ExpireTokens()
	if _, err := c.Send(ctx, basicSend()); err != nil {
		t.Fatal(err)
	}
	if n := tokenRequests(fake); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
	if n := len(fake.Sends()); n != 6 {
		t.Errorf("sends = %d", n)
	}
}

func TestOAuthRetriesOnlyOnce(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			_, _ = io.WriteString(w, `{"access_token":"t","expires_in":86400,"token_type":"Bearer"}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"type":"invalid_api_key","code":1001,"message":"no"}}`)
	}))
	defer ts.Close()
	c := newClient(t, Config{BaseURL: ts.URL, ClientID: testID, ClientSecret: testSecret})
	_, err := c.Send(testContext(t), basicSend())
	if !IsAuth(err) || IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls["/sms"] != 2 || calls["/oauth/token"] != 2 {
		t.Errorf("calls = %v, want 2 sends and 2 token fetches", calls)
	}
}

func TestOAuthRefreshesBeforeExpiry(t *testing.T) {
	fake, ts := newFake(t, smscxtest.Options{NoAutoDLR: true, TokenTTL: time.Hour})
	c := newClient(t, Config{BaseURL: ts.URL, ClientID: testID, ClientSecret: testSecret})
	var mu sync.Mutex
	now := time.Now()
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ctx := testContext(t)
	if _, err := c.Balance(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(58*time.Minute + 59*time.Second) // inside the 60 s margin is at 59:00
	mu.Unlock()
	if _, err := c.Balance(ctx); err != nil {
		t.Fatal(err)
	}
	if n := tokenRequests(fake); n != 1 {
		t.Fatalf("token requests = %d, want 1 before the margin", n)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if _, err := c.Balance(ctx); err != nil {
		t.Fatal(err)
	}
	if n := tokenRequests(fake); n != 2 {
		t.Errorf("token requests = %d, want 2 after the margin", n)
	}
}

func TestTokenExpiry(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		expiresIn int64
		want      time.Time
	}{
		{86400, start.Add(86400*time.Second - time.Minute)},
		{300, start.Add(270 * time.Second)},
		{0, time.Time{}},
		{-5, time.Time{}},
	}
	for _, tc := range cases {
		if got := tokenExpiry(start, tc.expiresIn); !got.Equal(tc.want) {
			t.Errorf("tokenExpiry(%d) = %v, want %v", tc.expiresIn, got, tc.want)
		}
	}
}

func TestOAuthConcurrentFetchShared(t *testing.T) {
	fake, ts := newFake(t, smscxtest.Options{NoAutoDLR: true})
	fake.SetLatency(50 * time.Millisecond) // keep the token fetch in flight while all callers arrive
	c := newClient(t, Config{BaseURL: ts.URL, ClientID: testID, ClientSecret: testSecret})
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := c.Send(ctx, basicSend()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := tokenRequests(fake); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestOAuthBadCredentials(t *testing.T) {
	fake, ts := newFake(t, smscxtest.Options{NoAutoDLR: true})
	c := newClient(t, Config{BaseURL: ts.URL, ClientID: testID, ClientSecret: "wrong"})
	_, err := c.Send(testContext(t), basicSend())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Type != TypeInvalidClient || ae.Code != CodeOAuth || !IsAuth(err) || IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	if len(fake.Sends()) != 0 {
		t.Error("sent without a token")
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	fake, ts := newFake(t, smscxtest.Options{NoAutoDLR: true})
	fake.TimeoutNext(1)
	c := newClient(t, Config{BaseURL: ts.URL, APIKey: testKey, HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}})
	_, err := c.Send(testContext(t), basicSend())
	var te *TransportError
	if !errors.As(err, &te) || !te.Timeout || !IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasPrefix(err.Error(), "smscx: send: ") {
		t.Errorf("error %q lacks prefix", err)
	}
}

func TestDroppedConnectionThenIdempotentRetry(t *testing.T) {
	fake, ts := newFake(t, smscxtest.Options{NoAutoDLR: true})
	fake.DropNext(1)
	c := newClient(t, Config{BaseURL: ts.URL, APIKey: testKey})
	req := basicSend()
	req.IdempotencyID = idemA
	ctx := testContext(t)
	_, err := c.Send(ctx, req)
	var te *TransportError
	if !errors.As(err, &te) || !IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	resp, err := c.Send(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if fake.SendCount(idemA) != 1 || len(fake.Sends()) != 1 || resp.Data[0].MsgID != fake.Sends()[0].MsgID {
		t.Errorf("count %d, sends %+v, response %+v", fake.SendCount(idemA), fake.Sends(), resp.Data)
	}
}

func TestCallerCancelIsNotRetryable(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client going away.
		_, _ = io.Copy(io.Discard, r.Body)
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer ts.Close()
	defer close(release)
	c := newClient(t, Config{BaseURL: ts.URL, APIKey: testKey})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := c.Send(ctx, basicSend())
	if !errors.Is(err, context.Canceled) || IsRetryable(err) {
		t.Fatalf("err = %v, retryable %v", err, IsRetryable(err))
	}
	var te *TransportError
	if errors.As(err, &te) {
		t.Error("cancellation reported as a TransportError")
	}
}

func TestCallerCancelWhileWaitingForToken(t *testing.T) {
	fake, ts := newFake(t, smscxtest.Options{NoAutoDLR: true})
	fake.SetLatency(time.Hour) // the token request hangs until the fake closes
	c := newClient(t, Config{BaseURL: ts.URL, ClientID: testID, ClientSecret: testSecret})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, basicSend())
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for tokenRequests(fake) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("token request never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || IsRetryable(err) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send did not return after cancel")
	}
}

func TestResponseBodyCapped(t *testing.T) {
	big := strings.Repeat("x", 2<<20)
	cases := []struct {
		name   string
		status int
		check  func(*testing.T, error)
	}{
		{"success body too large", 200, func(t *testing.T, err error) {
			if !errors.Is(err, ErrResponseTooLarge) || IsRetryable(err) {
				t.Errorf("err = %v", err)
			}
		}},
		{"error body too large", 502, func(t *testing.T, err error) {
			var ae *APIError
			if !errors.As(err, &ae) || ae.HTTPStatus != 502 || len(ae.Message) > 400 || !IsRetryable(err) {
				t.Errorf("err = %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, `{"info":{"campaignId":"`+big+`"}}`)
			}))
			defer ts.Close()
			c := newClient(t, Config{BaseURL: ts.URL, APIKey: testKey})
			_, err := c.Send(testContext(t), basicSend())
			tc.check(t, err)
		})
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		http.Error(w, "<html>Service \x00Unavailable</html>", http.StatusServiceUnavailable)
	}))
	defer ts.Close()
	c := newClient(t, Config{BaseURL: ts.URL, APIKey: testKey})
	before := time.Now()
	_, err := c.Balance(testContext(t))
	var ae *APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != 503 || !strings.Contains(ae.Message, "Service") ||
		strings.ContainsRune(ae.Message, 0) || !IsRetryable(err) {
		t.Fatalf("err = %#v", err)
	}
	if at, ok := RetryAt(err); !ok || at.Before(before.Add(119*time.Second)) {
		t.Errorf("RetryAt = %v %v", at, ok)
	}
	if !strings.HasPrefix(err.Error(), "smscx: balance: HTTP 503") {
		t.Errorf("error = %q", err)
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	c := newClient(t, Config{BaseURL: url, APIKey: testKey})
	_, err := c.Send(testContext(t), basicSend())
	var te *TransportError
	if !errors.As(err, &te) || te.Timeout || !IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestReportAndBalance(t *testing.T) {
	fake, ts := newFake(t, smscxtest.Options{DLRDelay: -1, Balance: 20})
	c := newClient(t, Config{BaseURL: ts.URL, APIKey: testKey})
	ctx := testContext(t)
	resp, err := c.Send(ctx, basicSend())
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	id := resp.Data[0].MsgID
	rep, err := c.Report(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MsgID != id || rep.Status != StatusDelivered || rep.UpdatedAt == "" || rep.To != phoneDE ||
		rep.Cost != 0.041 || rep.Channel != "sms" || rep.TextAnalysis == nil || rep.ErrorCode != nil {
		t.Errorf("report = %+v", rep)
	}

	_, err = c.Report(ctx, "9eeed792-9c8c-463c-a8e2-43ebf4494c02")
	var ae *APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != 404 || ae.Code != 1160 || IsRetryable(err) ||
		!strings.HasPrefix(err.Error(), "smscx: report: ") {
		t.Errorf("unknown report: %v", err)
	}
	if _, err := c.Report(ctx, "not/a uuid"); !errors.As(err, &ae) || ae.Code != 1165 {
		t.Errorf("bad id: %v", err)
	}

	bal, err := c.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Balance < 19.958 || bal.Balance > 19.96 || bal.Currency != "eur" || bal.Billing != "prepaid" {
		t.Errorf("balance = %+v", bal)
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	fake := smscxtest.NewServer(smscxtest.Options{APIKeys: []string{testKey}, NoAutoDLR: true})
	defer fake.Close()
	mux := http.NewServeMux()
	mux.Handle("/_simulator/smscx/", http.StripPrefix("/_simulator/smscx", fake))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	c := newClient(t, Config{BaseURL: ts.URL + "/_simulator/smscx/", APIKey: testKey})
	ctx := testContext(t)
	resp, err := c.Send(ctx, basicSend())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Report(ctx, resp.Data[0].MsgID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Balance(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMountedUnderPrefixOAuth(t *testing.T) {
	fake := smscxtest.NewServer(smscxtest.Options{ClientID: testID, ClientSecret: testSecret, NoAutoDLR: true})
	defer fake.Close()
	mux := http.NewServeMux()
	mux.Handle("/_sim/", http.StripPrefix("/_sim", fake))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	c := newClient(t, Config{BaseURL: ts.URL + "/_sim", ClientID: testID, ClientSecret: testSecret})
	if _, err := c.Send(testContext(t), basicSend()); err != nil {
		t.Fatal(err)
	}
}
