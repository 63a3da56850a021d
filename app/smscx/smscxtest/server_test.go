package smscxtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "key-1"

// newFake starts a fake behind an httptest server; both are closed at the
// end of the test (the fake first, which releases hanging handlers).
func newFake(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.APIKeys == nil {
		opts.APIKeys = []string{testKey}
	}
	s := NewServer(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close)
	return s, ts
}

// call makes one request with the test API key and returns status, headers
// and body.
func call(t *testing.T, base, method, path, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-KEY", testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

type errBody struct {
	Error struct {
		Type    string   `json:"type"`
		Code    int      `json:"code"`
		Message string   `json:"message"`
		URI     string   `json:"uri"`
		Invalid []string `json:"invalid"`
	} `json:"error"`
}

func decodeErr(t *testing.T, data []byte) errBody {
	t.Helper()
	var e errBody
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("error body %s: %v", data, err)
	}
	return e
}

type sendResp struct {
	Info struct {
		CampaignID            string         `json:"campaignId"`
		TotalPhoneNumbers     int            `json:"totalPhoneNumbers"`
		TotalValid            int            `json:"totalValid"`
		TotalInvalid          int            `json:"totalInvalid"`
		TotalCost             float64        `json:"totalCost"`
		TotalParts            int            `json:"totalParts"`
		DLRCallbackURL        *string        `json:"dlrCallbackUrl"`
		PhoneNumbersByCountry map[string]int `json:"phoneNumbersByCountry"`
		Scheduled             bool           `json:"scheduled"`
		Invalid               []string       `json:"invalid"`
	} `json:"info"`
	Data []struct {
		MsgID        string  `json:"msgId"`
		Status       string  `json:"status"`
		StatusCode   int     `json:"statusCode"`
		ErrorCode    *int    `json:"errorCode"`
		CreatedAt    string  `json:"createdAt"`
		Cost         float64 `json:"cost"`
		To           string  `json:"to"`
		CountryISO   string  `json:"countryIso"`
		From         string  `json:"from"`
		Text         string  `json:"text"`
		Parts        int     `json:"parts"`
		TrackData    string  `json:"trackData"`
		ScheduledAt  string  `json:"scheduledAt"`
		TextAnalysis *struct {
			Length  int  `json:"length"`
			Unicode bool `json:"unicode"`
			Parts   int  `json:"parts"`
		} `json:"textAnalysis"`
	} `json:"data"`
}

func decodeSend(t *testing.T, data []byte) sendResp {
	t.Helper()
	var r sendResp
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("send body %s: %v", data, err)
	}
	return r
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// near compares money amounts.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

const (
	uuid1 = "854cd53f-d77d-4aa8-9bd9-fbf720f3332d"
	uuid2 = "bf325375-e030-4ccb-a009-17317c574773"
)

func TestSendValidation(t *testing.T) {
	_, ts := newFake(t, Options{NoAutoDLR: true})
	many := make([]string, maxNumbers+1)
	for i := range many {
		many[i] = fmt.Sprintf("+49151%08d", i)
	}
	past := time.Now().UTC().Add(-time.Hour).Format(timeLayout)
	cases := []struct {
		name    string
		body    string
		status  int
		typ     string
		code    int
		invalid []string
	}{
		{"malformed json", `{"to":`, 400, "invalid_body", CodeInvalidBody, nil},
		{"not an object", `[1,2]`, 400, "invalid_body", CodeInvalidBody, nil},
		{"to missing", `{"from":"Clinic","text":"hi"}`, 400, "invalid_param", 1104, nil},
		{"to null", `{"to":null,"from":"Clinic","text":"hi"}`, 400, "invalid_param", 1104, nil},
		{"to empty array", `{"to":[],"from":"Clinic","text":"hi"}`, 400, "invalid_param", 1104, nil},
		{"to empty string", `{"to":"","from":"Clinic","text":"hi"}`, 400, "invalid_param", 1104, nil},
		{"to number", `{"to":5,"from":"Clinic","text":"hi"}`, 400, "invalid_param", 1104, nil},
		{"to array of numbers", `{"to":[5],"from":"Clinic","text":"hi"}`, 400, "invalid_param", 1104, nil},
		{"too many numbers", mustJSON(t, map[string]any{"to": many, "from": "Clinic", "text": "hi"}), 400, "invalid_param", 1103, nil},
		{"from missing", `{"to":"+4915123456789","text":"hi"}`, 400, "invalid_param", 1105, nil},
		{"from wrong type", `{"to":"+4915123456789","from":7,"text":"hi"}`, 400, "invalid_param", 1105, nil},
		{"from too short", `{"to":"+4915123456789","from":"ab","text":"hi"}`, 400, "invalid_param", 1106, nil},
		{"from too long", `{"to":"+4915123456789","from":"ABCDEFGHIJKLMNOP","text":"hi"}`, 400, "invalid_param", 1106, nil},
		{"text missing", `{"to":"+4915123456789","from":"Clinic"}`, 400, "invalid_param", 1107, nil},
		{"scheduledDate garbage", `{"to":"+4915123456789","from":"Clinic","text":"hi","scheduledDate":"tomorrow"}`, 400, "invalid_param", 1108, nil},
		{"scheduledDate past", `{"to":"+4915123456789","from":"Clinic","text":"hi","scheduledDate":"` + past + `"}`, 400, "invalid_param", 1116, nil},
		{"dlr url invalid", `{"to":"+4915123456789","from":"Clinic","text":"hi","dlrCallbackUrl":"not a url"}`, 400, "invalid_param", 1109, nil},
		{"dlr url ftp", `{"to":"+4915123456789","from":"Clinic","text":"hi","dlrCallbackUrl":"ftp://x.example/a"}`, 400, "invalid_param", 1109, nil},
		{"transliteration alphabet", `{"to":"+4915123456789","from":"Clinic","text":"hi","transliteration":{"alphabet":"KLINGON"}}`, 400, "invalid_param", 1110, nil},
		{"transliteration not object", `{"to":"+4915123456789","from":"Clinic","text":"hi","transliteration":"x"}`, 400, "invalid_param", 1135, nil},
		{"removeEmojis not bool", `{"to":"+4915123456789","from":"Clinic","text":"hi","transliteration":{"removeEmojis":"yes"}}`, 400, "invalid_param", 1503, nil},
		{"idempotencyId not uuid", `{"to":"+4915123456789","from":"Clinic","text":"hi","idempotencyId":"abc"}`, 400, "invalid_param", 1111, nil},
		{"idempotencyId nil uuid", `{"to":"+4915123456789","from":"Clinic","text":"hi","idempotencyId":"00000000-0000-0000-0000-000000000000"}`, 400, "invalid_param", 1111, nil},
		{"one invalid number", `{"to":["+4915123456789","0151 123"],"from":"Clinic","text":"hi"}`, 400, "invalid_param", 1207, []string{"0151 123"}},
		{"two invalid numbers", `{"to":["+12","+4915123456789","abc"],"from":"Clinic","text":"hi"}`, 400, "invalid_param", 1210, []string{"+12", "abc"}},
		{"allowInvalid but none valid", `{"to":["+12","abc"],"from":"Clinic","text":"hi","allowInvalid":true}`, 400, "invalid_param", 1210, []string{"+12", "abc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, h, data := call(t, ts.URL, http.MethodPost, "/sms", tc.body)
			if status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", status, tc.status, data)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			e := decodeErr(t, data)
			if e.Error.Type != tc.typ || e.Error.Code != tc.code {
				t.Errorf("error = %s/%d, want %s/%d", e.Error.Type, e.Error.Code, tc.typ, tc.code)
			}
			if e.Error.Message == "" || e.Error.URI == "" {
				t.Errorf("message/uri empty: %s", data)
			}
			if fmt.Sprint(e.Error.Invalid) != fmt.Sprint(tc.invalid) {
				t.Errorf("invalid = %v, want %v", e.Error.Invalid, tc.invalid)
			}
		})
	}
}

func TestSendSuccess(t *testing.T) {
	s, ts := newFake(t, Options{NoAutoDLR: true, Balance: 100})
	body := mustJSON(t, map[string]any{
		"to":             "+4915123456789",
		"from":           "Clinic",
		"text":           "Your appointment is tomorrow at 10:00.",
		"idempotencyId":  uuid1,
		"trackData":      uuid2,
		"dlrCallbackUrl": "https://app.example/webhooks/smscx/secret",
	})
	status, h, data := call(t, ts.URL, http.MethodPost, "/sms", body)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, data)
	}
	for _, k := range []string{"X-Request-Id", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Response-Time"} {
		if h.Get(k) == "" {
			t.Errorf("header %s missing", k)
		}
	}
	if got := h.Get("X-Idempotency-Id"); got != uuid1 {
		t.Errorf("X-Idempotency-Id = %q", got)
	}
	r := decodeSend(t, data)
	if !isUUID(r.Info.CampaignID, true) || r.Info.TotalPhoneNumbers != 1 || r.Info.TotalValid != 1 ||
		r.Info.TotalInvalid != 0 || r.Info.TotalParts != 1 || r.Info.TotalCost != 0.041 ||
		r.Info.DLRCallbackURL == nil || r.Info.PhoneNumbersByCountry["DE"] != 1 || r.Info.Scheduled {
		t.Errorf("info = %+v", r.Info)
	}
	if len(r.Data) != 1 {
		t.Fatalf("data = %+v", r.Data)
	}
	d := r.Data[0]
	if !isUUID(d.MsgID, true) || d.Status != StatusAccepted || d.StatusCode != statusCodes[StatusAccepted] ||
		d.ErrorCode != nil || d.Cost != 0.041 || d.To != "+4915123456789" || d.CountryISO != "DE" ||
		d.From != "Clinic" || d.Parts != 1 || d.TrackData != uuid2 || d.TextAnalysis == nil ||
		d.TextAnalysis.Length != 38 || d.TextAnalysis.Unicode {
		t.Errorf("data[0] = %+v", d)
	}
	if _, err := time.Parse(timeLayout, d.CreatedAt); err != nil {
		t.Errorf("createdAt %q: %v", d.CreatedAt, err)
	}
	if got := s.Balance(); !near(got, 100-0.041) {
		t.Errorf("balance = %v", got)
	}
	sends := s.Sends()
	if len(sends) != 1 || sends[0].MsgID != d.MsgID || sends[0].IdempotencyID != uuid1 ||
		sends[0].TrackData != uuid2 || sends[0].Status != StatusAccepted || s.SendCount(uuid1) != 1 {
		t.Errorf("sends = %+v", sends)
	}
}

func TestSendVariants(t *testing.T) {
	s, ts := newFake(t, Options{NoAutoDLR: true})
	s.AddOptout("+4915100000001")
	s.AddNoCoverage("+999")
	future := time.Now().UTC().Add(time.Hour).Truncate(time.Second).Format(timeLayout)
	long := strings.Repeat("Ж", 100) // Unicode: 100 UTF-16 units, 2 parts

	t.Run("allowInvalid skips and lists", func(t *testing.T) {
		status, _, data := call(t, ts.URL, http.MethodPost, "/sms",
			`{"to":["+4915123456789","nope"],"from":"Clinic","text":"hi","allowInvalid":true}`)
		r := decodeSend(t, data)
		if status != 200 || r.Info.TotalInvalid != 1 || r.Info.TotalValid != 1 ||
			len(r.Info.Invalid) != 1 || r.Info.Invalid[0] != "nope" || len(r.Data) != 1 {
			t.Errorf("%d %s", status, data)
		}
	})
	t.Run("opted out and no coverage", func(t *testing.T) {
		status, _, data := call(t, ts.URL, http.MethodPost, "/sms",
			`{"to":["+4915100000001","+99912345678","+4915123456789"],"from":"Clinic","text":"hi"}`)
		r := decodeSend(t, data)
		if status != 200 || len(r.Data) != 3 {
			t.Fatalf("%d %s", status, data)
		}
		want := []struct {
			status string
			cost   float64
		}{{StatusRejected, 0}, {StatusNoCoverage, 0}, {StatusAccepted, 0.041}}
		for i, w := range want {
			if r.Data[i].Status != w.status || r.Data[i].Cost != w.cost {
				t.Errorf("data[%d] = %s %v, want %s %v", i, r.Data[i].Status, r.Data[i].Cost, w.status, w.cost)
			}
		}
		if r.Info.TotalCost != 0.041 {
			t.Errorf("totalCost = %v", r.Info.TotalCost)
		}
	})
	t.Run("all without coverage", func(t *testing.T) {
		status, _, data := call(t, ts.URL, http.MethodPost, "/sms",
			`{"to":["+99912345678"],"from":"Clinic","text":"hi"}`)
		e := decodeErr(t, data)
		if status != 403 || e.Error.Type != "no_coverage" || e.Error.Code != 1119 {
			t.Errorf("%d %s", status, data)
		}
	})
	t.Run("unicode two parts", func(t *testing.T) {
		status, _, data := call(t, ts.URL, http.MethodPost, "/sms",
			mustJSON(t, map[string]any{"to": []string{"+4915123456789"}, "from": "Clinic", "text": long}))
		r := decodeSend(t, data)
		if status != 200 || r.Data[0].Parts != 2 || !r.Data[0].TextAnalysis.Unicode || r.Data[0].Cost != 0.082 {
			t.Errorf("%d %s", status, data)
		}
	})
	t.Run("bad trackData dropped", func(t *testing.T) {
		_, _, data := call(t, ts.URL, http.MethodPost, "/sms",
			`{"to":"+4915123456789","from":"Clinic","text":"hi","trackData":"appt-17"}`)
		if r := decodeSend(t, data); r.Data[0].TrackData != "" || strings.Contains(string(data), "appt-17") {
			t.Errorf("trackData kept: %s", data)
		}
	})
	t.Run("placeholders replaced", func(t *testing.T) {
		_, _, data := call(t, ts.URL, http.MethodPost, "/sms",
			`{"to":"+4915123456789","from":"Clinic","text":"Stop: {{optoutLink}} Map: {{shortlink:bVc}} {{today}}"}`)
		txt := decodeSend(t, data).Data[0].Text
		if strings.Contains(txt, "{{optoutLink}}") || strings.Contains(txt, "{{shortlink") ||
			!strings.Contains(txt, "https://en.ax/bVc/") || !strings.Contains(txt, "{{today}}") {
			t.Errorf("text = %q", txt)
		}
	})
	t.Run("scheduled", func(t *testing.T) {
		_, _, data := call(t, ts.URL, http.MethodPost, "/sms",
			`{"to":"+4915123456789","from":"Clinic","text":"hi","scheduledDate":"`+future+`"}`)
		r := decodeSend(t, data)
		if !r.Info.Scheduled || r.Data[0].Status != StatusScheduled || r.Data[0].ScheduledAt != future {
			t.Errorf("%s", data)
		}
	})
	t.Run("short response and no text details", func(t *testing.T) {
		_, _, data := call(t, ts.URL, http.MethodPost, "/sms",
			`{"to":"+4915123456789","from":"Clinic","text":"hi","shortResponse":true}`)
		if r := decodeSend(t, data); len(r.Data) != 0 || r.Info.TotalValid != 1 {
			t.Errorf("%s", data)
		}
		_, _, data = call(t, ts.URL, http.MethodPost, "/sms",
			`{"to":"+4915123456789","from":"Clinic","text":"hi","noTextDetails":true}`)
		if r := decodeSend(t, data); r.Data[0].Text != "" || r.Data[0].TextAnalysis != nil {
			t.Errorf("%s", data)
		}
	})
	t.Run("insufficient credit", func(t *testing.T) {
		s.SetInsufficientCredit(true)
		defer s.SetInsufficientCredit(false)
		status, _, data := call(t, ts.URL, http.MethodPost, "/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi"}`)
		if e := decodeErr(t, data); status != 400 || e.Error.Type != "insufficient_credit" || e.Error.Code != 1113 {
			t.Errorf("%d %s", status, data)
		}
	})
	t.Run("balance too low", func(t *testing.T) {
		s.SetBalance(0.01)
		defer s.SetBalance(100)
		status, _, data := call(t, ts.URL, http.MethodPost, "/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi"}`)
		if e := decodeErr(t, data); status != 400 || e.Error.Code != 1113 {
			t.Errorf("%d %s", status, data)
		}
	})
}

func TestIdempotentReplay(t *testing.T) {
	s, ts := newFake(t, Options{NoAutoDLR: true})
	body := `{"to":["+4915123456789","+31612345678"],"from":"Clinic","text":"hi","idempotencyId":"` + uuid1 + `"}`
	_, _, first := call(t, ts.URL, http.MethodPost, "/sms", body)
	// A replay returns the original answer even when the body differs.
	other := `{"to":"+4915100000009","from":"Other","text":"changed","idempotencyId":"` + uuid1 + `"}`
	for _, b := range []string{body, other} {
		status, h, again := call(t, ts.URL, http.MethodPost, "/sms", b)
		if status != 200 || !bytes.Equal(first, again) {
			t.Fatalf("replay differs:\n%s\n%s", first, again)
		}
		if h.Get("X-Idempotency-Id") != uuid1 {
			t.Errorf("X-Idempotency-Id = %q", h.Get("X-Idempotency-Id"))
		}
	}
	if n := s.SendCount(uuid1); n != 1 {
		t.Errorf("SendCount = %d", n)
	}
	if n := len(s.Sends()); n != 2 {
		t.Errorf("sends = %d, want 2 (two recipients, one send)", n)
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[0].Replay || !reqs[1].Replay || !reqs[2].Replay || reqs[2].Status != 200 {
		t.Errorf("requests = %+v", reqs)
	}
	if !near(s.Balance(), DefaultBalance-0.082) {
		t.Errorf("balance = %v", s.Balance())
	}
}

func TestIdempotencyFailureReleasesID(t *testing.T) {
	s, ts := newFake(t, Options{NoAutoDLR: true})
	status, _, _ := call(t, ts.URL, http.MethodPost, "/sms", `{"to":"bad","from":"Clinic","text":"hi","idempotencyId":"`+uuid1+`"}`)
	if status != 400 {
		t.Fatalf("status %d", status)
	}
	status, _, _ = call(t, ts.URL, http.MethodPost, "/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi","idempotencyId":"`+uuid1+`"}`)
	if status != 200 || s.SendCount(uuid1) != 1 {
		t.Fatalf("status %d count %d", status, s.SendCount(uuid1))
	}
}

func TestConcurrentReplays(t *testing.T) {
	s, ts := newFake(t, Options{NoAutoDLR: true})
	s.SetLatency(20 * time.Millisecond)
	body := `{"to":"+4915123456789","from":"Clinic","text":"hi","idempotencyId":"` + uuid1 + `"}`
	const n = 20
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, bodies[i] = call(t, ts.URL, http.MethodPost, "/sms", body)
		})
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if !bytes.Equal(bodies[0], bodies[i]) {
			t.Fatalf("answers differ:\n%s\n%s", bodies[0], bodies[i])
		}
	}
	if c := s.SendCount(uuid1); c != 1 || len(s.Sends()) != 1 {
		t.Errorf("SendCount = %d, sends = %d", c, len(s.Sends()))
	}
	replays := 0
	for _, r := range s.Requests() {
		if r.Replay {
			replays++
		}
	}
	if replays != n-1 {
		t.Errorf("replays = %d", replays)
	}
}

func TestDropThenReplay(t *testing.T) {
	s, ts := newFake(t, Options{NoAutoDLR: true})
	s.DropNext(1)
	body := `{"to":"+4915123456789","from":"Clinic","text":"hi","idempotencyId":"` + uuid1 + `"}`
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/sms", strings.NewReader(body))
	req.Header.Set("X-API-KEY", testKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("dropped request got an answer: %d", resp.StatusCode)
	}
	if len(s.Sends()) != 1 || s.SendCount(uuid1) != 1 {
		t.Fatalf("dropped send not recorded: %+v", s.Sends())
	}
	status, _, data := call(t, ts.URL, http.MethodPost, "/sms", body)
	if status != 200 || decodeSend(t, data).Data[0].MsgID != s.Sends()[0].MsgID {
		t.Fatalf("%d %s", status, data)
	}
	if s.SendCount(uuid1) != 1 || len(s.Sends()) != 1 {
		t.Errorf("count %d sends %d", s.SendCount(uuid1), len(s.Sends()))
	}
	reqs := s.Requests()
	if len(reqs) != 2 || !reqs[0].Dropped || reqs[0].Status != 0 || !reqs[1].Replay {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestFaults(t *testing.T) {
	s, ts := newFake(t, Options{NoAutoDLR: true})
	ok := `{"to":"+4915123456789","from":"Clinic","text":"hi"}`

	reset := time.Unix(1900000000, 0)
	s.RateLimitNext(2, reset)
	for range 2 {
		status, h, data := call(t, ts.URL, http.MethodPost, "/sms", ok)
		if e := decodeErr(t, data); status != 429 || e.Error.Type != "rate_limit" || h.Get("X-Rate-Limit-Reset") != "1900000000" {
			t.Fatalf("%d %v %s", status, h, data)
		}
	}
	if status, _, _ := call(t, ts.URL, http.MethodPost, "/sms", ok); status != 200 {
		t.Fatalf("after 429s: %d", status)
	}

	s.ServerErrorNext(1)
	if status, _, data := call(t, ts.URL, http.MethodGet, "/account/balance", ""); status != 500 || decodeErr(t, data).Error.Type != "server_error" {
		t.Fatalf("%d %s", status, data)
	}

	s.ServerErrorNext(-1)
	for range 3 {
		if status, _, _ := call(t, ts.URL, http.MethodGet, "/account/balance", ""); status != 500 {
			t.Fatalf("unlimited 500: %d", status)
		}
	}
	s.ClearFaults()

	s.TimeoutNext(1)
	hc := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/sms", strings.NewReader(ok))
	req.Header.Set("X-API-KEY", testKey)
	if resp, err := hc.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("hanging request answered")
	}
	if status, _, _ := call(t, ts.URL, http.MethodPost, "/sms", ok); status != 200 {
		t.Fatalf("after timeout: %d", status)
	}
	if got := len(s.Sends()); got != 2 {
		t.Errorf("sends = %d, want 2 (faults send nothing)", got)
	}
}

func TestAPIKeyAuth(t *testing.T) {
	_, ts := newFake(t, Options{NoAutoDLR: true})
	cases := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"none", nil, 401},
		{"wrong key", map[string]string{"X-API-KEY": "nope"}, 401},
		{"unknown bearer", map[string]string{"Authorization": "Bearer abc"}, 401},
		{"good key", map[string]string{"X-API-KEY": testKey}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/account/balance", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, data)
			}
			if tc.status == 401 && decodeErr(t, data).Error.Type != "invalid_api_key" {
				t.Errorf("body %s", data)
			}
		})
	}
}

func TestDefaultAPIKey(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	req := httptest.NewRequest(http.MethodGet, "/account/balance", nil)
	req.Header.Set("X-API-KEY", DefaultAPIKey)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"currency":"eur"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func tokenRequest(t *testing.T, base, id, secret, form string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func TestOAuth(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	s, ts := newFake(t, Options{ClientID: "app", ClientSecret: "sec", TokenTTL: time.Hour, Now: clock, NoAutoDLR: true})

	cases := []struct {
		name, id, secret, form string
		status                 int
		typ                    string
	}{
		{"no basic auth", "", "", "grant_type=client_credentials", 401, "invalid_client"},
		{"wrong secret", "app", "bad", "grant_type=client_credentials", 401, "invalid_client"},
		{"missing grant", "app", "sec", "", 400, "invalid_request"},
		{"other grant", "app", "sec", "grant_type=password", 400, "unsupported_grant_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, data := tokenRequest(t, ts.URL, tc.id, tc.secret, tc.form)
			e := decodeErr(t, data)
			if status != tc.status || e.Error.Type != tc.typ || e.Error.Code != 1600 {
				t.Errorf("%d %s", status, data)
			}
		})
	}

	status, data := tokenRequest(t, ts.URL, "app", "sec", "grant_type=client_credentials&scope=sms+reports")
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(data, &tok); err != nil || status != 200 || tok.AccessToken == "" ||
		tok.ExpiresIn != 3600 || tok.Scope != "sms reports" || tok.TokenType != "Bearer" {
		t.Fatalf("%d %s", status, data)
	}
	bearer := func() int {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/account/balance", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if got := bearer(); got != 200 {
		t.Fatalf("bearer: %d", got)
	}
	clockMu.Lock()
	now = now.Add(time.Hour)
	clockMu.Unlock()
	if got := bearer(); got != 401 {
		t.Fatalf("expired bearer: %d", got)
	}

	_, data = tokenRequest(t, ts.URL, "app", "sec", "grant_type=client_credentials")
	if err := json.Unmarshal(data, &tok); err != nil {
		t.Fatal(err)
	}
	if got := bearer(); got != 200 {
		t.Fatalf("new bearer: %d", got)
	}
	s.ExpireTokens()
	if got := bearer(); got != 401 {
		t.Fatalf("revoked bearer: %d", got)
	}
}

func TestRoutes(t *testing.T) {
	_, ts := newFake(t, Options{NoAutoDLR: true})
	cases := []struct {
		method, path string
		status       int
		typ          string
	}{
		{http.MethodGet, "/nope", 404, "not_found"},
		{http.MethodGet, "/sms", 405, "invalid_method"},
		{http.MethodPost, "/account/balance", 405, "invalid_method"},
		{http.MethodGet, "/oauth/token", 405, "invalid_method"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, _, data := call(t, ts.URL, tc.method, tc.path, "")
			if status != tc.status || decodeErr(t, data).Error.Type != tc.typ {
				t.Errorf("%d %s", status, data)
			}
		})
	}
}

func TestReportAndBalance(t *testing.T) {
	s, ts := newFake(t, Options{DLRDelay: -1, Balance: 50})
	_, _, data := call(t, ts.URL, http.MethodPost, "/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi"}`)
	id := decodeSend(t, data).Data[0].MsgID

	cases := []struct {
		name   string
		id     string
		status int
		code   int
	}{
		{"bad id", "xyz", 400, 1165},
		{"unknown", "9eeed792-9c8c-463c-a8e2-43ebf4494c02", 404, 1160},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, data := call(t, ts.URL, http.MethodGet, "/reports/single/"+tc.id, "")
			if status != tc.status || decodeErr(t, data).Error.Code != tc.code {
				t.Errorf("%d %s", status, data)
			}
		})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	status, _, data := call(t, ts.URL, http.MethodGet, "/reports/single/"+id, "")
	var rep struct {
		Data struct {
			MsgID     string  `json:"msgId"`
			Status    string  `json:"status"`
			UpdatedAt *string `json:"updatedAt"`
			Source    string  `json:"source"`
			Channel   string  `json:"channel"`
			Cost      float64 `json:"cost"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &rep); err != nil || status != 200 || rep.Data.MsgID != id ||
		rep.Data.Status != StatusDelivered || rep.Data.UpdatedAt == nil || rep.Data.Source != "api" ||
		rep.Data.Channel != "sms" || rep.Data.Cost != 0.041 {
		t.Fatalf("%d %s", status, data)
	}

	status, _, data = call(t, ts.URL, http.MethodGet, "/account/balance", "")
	var bal struct {
		Balance  float64 `json:"balance"`
		Currency string  `json:"currency"`
		Billing  string  `json:"billing"`
	}
	if err := json.Unmarshal(data, &bal); err != nil || status != 200 || !near(bal.Balance, 50-0.041) ||
		bal.Currency != "eur" || bal.Billing != "prepaid" {
		t.Fatalf("%d %s", status, data)
	}
}

// receiver is an httptest webhook endpoint that records envelopes and
// answers with the statuses queued in fail (then 200).
type receiver struct {
	mu        sync.Mutex
	envelopes []envelopeRec
	fail      []int
	srv       *httptest.Server
}

type envelopeRec struct {
	Event string            `json:"event"`
	Data  []json.RawMessage `json:"data"`
}

func newReceiver(t *testing.T, fail ...int) *receiver {
	t.Helper()
	rc := &receiver{fail: fail}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if len(rc.fail) > 0 {
			code := rc.fail[0]
			rc.fail = rc.fail[1:]
			w.WriteHeader(code)
			return
		}
		var env envelopeRec
		if err := json.Unmarshal(body, &env); err != nil || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rc.envelopes = append(rc.envelopes, env)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() []envelopeRec {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]envelopeRec(nil), rc.envelopes...)
}

type dlrItemRec struct {
	CampaignID string  `json:"campaignId"`
	MsgID      string  `json:"msgId"`
	StatusCode int     `json:"statusCode"`
	Status     string  `json:"status"`
	ErrorCode  *int    `json:"errorCode"`
	Datetime   string  `json:"datetime"`
	TrackData  *string `json:"trackData"`
}

func dlrItems(t *testing.T, envs []envelopeRec) [][]dlrItemRec {
	t.Helper()
	out := make([][]dlrItemRec, len(envs))
	for i, e := range envs {
		if e.Event != EventDLRUpdate {
			t.Fatalf("event %q", e.Event)
		}
		for _, raw := range e.Data {
			var it dlrItemRec
			if err := json.Unmarshal(raw, &it); err != nil {
				t.Fatal(err)
			}
			out[i] = append(out[i], it)
		}
	}
	return out
}

func flush(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDeliveryReports(t *testing.T) {
	rc := newReceiver(t)
	s, ts := newFake(t, Options{DLRDelay: 20 * time.Millisecond})
	s.FailDeliveryTo("+3161", 3001)
	body := mustJSON(t, map[string]any{
		"to": []string{"+4915123456789", "+31612345678", "+4915100000002"}, "from": "Clinic", "text": "hi",
		"trackData": uuid2, "dlrCallbackUrl": rc.srv.URL + "/dlr",
	})
	_, _, data := call(t, ts.URL, http.MethodPost, "/sms", body)
	r := decodeSend(t, data)
	flush(t, s)

	batches := dlrItems(t, rc.got())
	if len(batches) != 2 || len(batches[0]) != 3 || len(batches[1]) != 3 {
		t.Fatalf("batches = %+v", batches)
	}
	for i, it := range batches[0] {
		if it.Status != StatusSent || it.MsgID != r.Data[i].MsgID || it.CampaignID != r.Info.CampaignID ||
			it.TrackData == nil || *it.TrackData != uuid2 || it.ErrorCode != nil {
			t.Errorf("first batch item %d = %+v", i, it)
		}
		if _, err := time.Parse(timeLayout, it.Datetime); err != nil {
			t.Errorf("datetime %q", it.Datetime)
		}
	}
	final := map[string]dlrItemRec{}
	for _, it := range batches[1] {
		final[it.MsgID] = it
	}
	if it := final[r.Data[1].MsgID]; it.Status != StatusFailed || it.ErrorCode == nil || *it.ErrorCode != 3001 {
		t.Errorf("failed item = %+v", it)
	}
	if it := final[r.Data[0].MsgID]; it.Status != StatusDelivered || it.ErrorCode != nil {
		t.Errorf("delivered item = %+v", it)
	}
	msgs := s.Messages()
	if msgs[0].Status != StatusDelivered || msgs[1].Status != StatusFailed || msgs[1].ErrorCode != 3001 {
		t.Errorf("messages = %+v", msgs)
	}
}

func TestDeliveryReportsDefaultURLAndBatchLimit(t *testing.T) {
	rc := newReceiver(t)
	s, ts := newFake(t, Options{DLRDelay: 30 * time.Millisecond, DLRCallbackURL: rc.srv.URL})
	to := make([]string, 450)
	for i := range to {
		to[i] = fmt.Sprintf("+4915%09d", i)
	}
	call(t, ts.URL, http.MethodPost, "/sms", mustJSON(t, map[string]any{"to": to, "from": "Clinic", "text": "hi"}))
	flush(t, s)
	// Reports due at the same time share a POST (at most 200 items); a
	// message's DELIVERED never comes before its SENT.
	counts := map[string]int{}
	seen := map[string]string{}
	full := 0
	for _, b := range dlrItems(t, rc.got()) {
		if len(b) > 200 {
			t.Errorf("batch of %d", len(b))
		}
		if len(b) == 200 {
			full++
		}
		for _, it := range b {
			counts[it.Status]++
			if it.Status == StatusDelivered && seen[it.MsgID] != StatusSent {
				t.Errorf("%s: DELIVERED before SENT", it.MsgID)
			}
			seen[it.MsgID] = it.Status
		}
	}
	if full < 2 {
		t.Errorf("%d full batches, want at least 2", full)
	}
	if counts[StatusSent] != 450 || counts[StatusDelivered] != 450 {
		t.Errorf("counts = %v", counts)
	}
}

func TestDeliveryReportRetry(t *testing.T) {
	rc := newReceiver(t, 500, 503)
	s, ts := newFake(t, Options{DLRDelay: -1, DLRBackoff: time.Millisecond, DLRCallbackURL: rc.srv.URL})
	call(t, ts.URL, http.MethodPost, "/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi"}`)
	flush(t, s)
	batches := dlrItems(t, rc.got())
	if len(batches) != 2 || batches[0][0].Status != StatusSent || batches[1][0].Status != StatusDelivered {
		t.Fatalf("batches = %+v", batches)
	}
	var attempts []int
	for _, c := range s.Callbacks() {
		attempts = append(attempts, c.Status)
	}
	if fmt.Sprint(attempts) != "[500 503 200 200]" {
		t.Errorf("attempt statuses = %v", attempts)
	}
}

func TestDeliveryReportGivesUp(t *testing.T) {
	rc := newReceiver(t, 500, 500, 500, 500, 500, 500)
	s, ts := newFake(t, Options{DLRDelay: -1, DLRBackoff: time.Millisecond, DLRAttempts: 3, DLRCallbackURL: rc.srv.URL})
	call(t, ts.URL, http.MethodPost, "/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi"}`)
	flush(t, s)
	if n := len(s.Callbacks()); n != 6 {
		t.Errorf("attempts = %d, want 3 for SENT and 3 for DELIVERED", n)
	}
	if got := s.Messages()[0].Status; got != StatusDelivered {
		t.Errorf("status = %s (the carrier outcome does not depend on the webhook)", got)
	}
}

func TestFlushSkipsDelays(t *testing.T) {
	rc := newReceiver(t, 500)
	s, ts := newFake(t, Options{DLRDelay: time.Hour, DLRBackoff: time.Hour, DLRCallbackURL: rc.srv.URL})
	call(t, ts.URL, http.MethodPost, "/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.got()); n != 2 {
		t.Errorf("envelopes = %d", n)
	}
}

func TestAutoDLROffAndManual(t *testing.T) {
	rc := newReceiver(t)
	s, ts := newFake(t, Options{NoAutoDLR: true, DLRCallbackURL: rc.srv.URL})
	_, _, data := call(t, ts.URL, http.MethodPost, "/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi"}`)
	id := decodeSend(t, data).Data[0].MsgID
	flush(t, s)
	if len(rc.got()) != 0 {
		t.Fatal("reports sent with auto DLR off")
	}
	ctx := context.Background()
	if err := s.EmitDLR(ctx, id, StatusDelivered, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.EmitDLR(ctx, id, StatusSent, 0); err != nil {
		t.Fatal(err)
	}
	batches := dlrItems(t, rc.got())
	if len(batches) != 2 || batches[0][0].Status != StatusDelivered || batches[1][0].Status != StatusSent {
		t.Fatalf("batches = %+v", batches)
	}
	if m, _ := s.Lookup(id); m.Status != StatusDelivered {
		t.Errorf("late SENT regressed status to %s", m.Status)
	}
	if err := s.EmitDLR(ctx, "9eeed792-9c8c-463c-a8e2-43ebf4494c02", StatusSent, 0); err == nil {
		t.Error("unknown message accepted")
	}
	if err := s.EmitDLR(ctx, id, "LOST", 0); err == nil {
		t.Error("unknown status accepted")
	}
}

func TestScheduledGetsNoReports(t *testing.T) {
	rc := newReceiver(t)
	s, ts := newFake(t, Options{DLRDelay: -1, DLRCallbackURL: rc.srv.URL})
	future := time.Now().UTC().Add(time.Hour).Format(timeLayout)
	call(t, ts.URL, http.MethodPost, "/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi","scheduledDate":"`+future+`"}`)
	flush(t, s)
	if len(rc.got()) != 0 || s.Messages()[0].Status != StatusScheduled {
		t.Errorf("got %d envelopes, status %s", len(rc.got()), s.Messages()[0].Status)
	}
}

func TestEmitters(t *testing.T) {
	rc := newReceiver(t)
	s, _ := newFake(t, Options{CallbackURL: rc.srv.URL})
	ctx := context.Background()

	id, err := s.EmitReceiveSMS(ctx, "+4915123456789", "+4915199000000", "YES")
	if err != nil || !isUUID(id, true) {
		t.Fatalf("receive: %q %v", id, err)
	}
	if err := s.EmitOptout(ctx, "+33612345678", uuid2); err != nil {
		t.Fatal(err)
	}
	if !s.OptedOut("+33612345678") {
		t.Error("opt-out not on the list")
	}
	if err := s.EmitShortlinkHit(ctx, "+4915123456789", "", "bVc", false); err != nil {
		t.Fatal(err)
	}
	if err := s.EmitShortlinkHit(ctx, "+4915123456789", "", "bVc", true); err != nil {
		t.Fatal(err)
	}
	if err := s.EmitAttachmentHit(ctx, "+4915123456789", uuid2, "doc1", false); err != nil {
		t.Fatal(err)
	}

	envs := rc.got()
	wantEvents := []string{EventReceiveSMS, EventNewOptout, EventShortlinkHit, EventShortlinkHitUpdate, EventAttachmentHit}
	if len(envs) != len(wantEvents) {
		t.Fatalf("envelopes = %d", len(envs))
	}
	fields := []string{
		`{"msgId","from","countryIso","to","text","cost","receivedAt"}`,
		`{"hitId","optoutId","optoutUrl","optoutType","countryIso","datetime","phoneNumber","campaignId","groupId"}`,
		`{"hitId","shortlinkId","url","device","browser","browserVersion","os","osVersion","brand","model","screenResolution","acceptLanguage","referrer","ipAddress","countryIso","city","datetime","phoneNumber","campaignId","groupId"}`,
	}
	for i, e := range envs {
		if e.Event != wantEvents[i] || len(e.Data) != 1 {
			t.Errorf("envelope %d = %s with %d items", i, e.Event, len(e.Data))
		}
		var m map[string]any
		if err := json.Unmarshal(e.Data[0], &m); err != nil {
			t.Fatal(err)
		}
		want := fields[min(i, 2)]
		for _, k := range strings.Split(strings.Trim(want, "{}"), ",") {
			if _, ok := m[strings.Trim(k, `"`)]; !ok {
				t.Errorf("%s: field %s missing in %s", e.Event, k, e.Data[0])
			}
		}
	}
	var first, update, opt struct {
		HitID      int64   `json:"hitId"`
		OptoutType string  `json:"optoutType"`
		CampaignID *string `json:"campaignId"`
		Text       string  `json:"text"`
	}
	_ = json.Unmarshal(envs[1].Data[0], &opt)
	_ = json.Unmarshal(envs[2].Data[0], &first)
	_ = json.Unmarshal(envs[3].Data[0], &update)
	if opt.OptoutType != "link" || opt.CampaignID == nil || *opt.CampaignID != uuid2 {
		t.Errorf("optout = %+v", opt)
	}
	if first.HitID != update.HitID || first.CampaignID != nil {
		t.Errorf("hit ids %d/%d, campaign %v", first.HitID, update.HitID, first.CampaignID)
	}

	t.Run("receiver failure", func(t *testing.T) {
		bad := newReceiver(t, 503)
		s.SetCallbackURL(bad.srv.URL)
		if _, err := s.EmitReceiveSMS(ctx, "+4915123456789", "+4915199000000", "NO"); err == nil {
			t.Error("no error for 503")
		}
		s.SetCallbackURL("")
		if err := s.EmitOptout(ctx, "+4915123456789", ""); err == nil {
			t.Error("no error without a URL")
		}
	})
}

func TestMountedUnderPrefix(t *testing.T) {
	s := NewServer(Options{APIKeys: []string{testKey}, NoAutoDLR: true})
	defer s.Close()
	mux := http.NewServeMux()
	mux.Handle("/_sim/", http.StripPrefix("/_sim", s))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "app", http.StatusTeapot) })
	ts := httptest.NewServer(mux)
	defer ts.Close()

	status, _, data := call(t, ts.URL, http.MethodPost, "/_sim/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi","idempotencyId":"`+uuid1+`"}`)
	if status != 200 {
		t.Fatalf("%d %s", status, data)
	}
	id := decodeSend(t, data).Data[0].MsgID
	if status, _, data := call(t, ts.URL, http.MethodGet, "/_sim/reports/single/"+url.PathEscape(id), ""); status != 200 {
		t.Fatalf("%d %s", status, data)
	}
	if status, _, _ := call(t, ts.URL, http.MethodGet, "/_sim/account/balance", ""); status != 200 {
		t.Fatalf("balance %d", status)
	}
	if p := s.Requests()[0].Path; p != "/sms" {
		t.Errorf("recorded path %q", p)
	}
	// Dropping the connection works through StripPrefix too.
	s.DropNext(1)
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/_sim/sms", strings.NewReader(`{"to":"+4915123456789","from":"Clinic","text":"hi"}`))
	req.Header.Set("X-API-KEY", testKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("dropped send answered %d", resp.StatusCode)
	}
	if n := len(s.Sends()); n != 2 {
		t.Errorf("sends = %d", n)
	}
}

func TestMaxRecorded(t *testing.T) {
	s, ts := newFake(t, Options{NoAutoDLR: true, MaxRecorded: 3})
	for i := range 5 {
		call(t, ts.URL, http.MethodGet, fmt.Sprintf("/nope/%d", i), "")
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[0].Path != "/nope/2" || reqs[2].Path != "/nope/4" {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestCloseStopsDelivery(t *testing.T) {
	rc := newReceiver(t)
	s := NewServer(Options{APIKeys: []string{testKey}, DLRDelay: time.Hour, DLRCallbackURL: rc.srv.URL})
	ts := httptest.NewServer(s)
	defer ts.Close()
	call(t, ts.URL, http.MethodPost, "/sms", `{"to":"+4915123456789","from":"Clinic","text":"hi"}`)
	s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rc.got()) != 0 {
		t.Error("delivered after Close")
	}
	if err := s.EmitOptout(ctx, "+4915123456789", ""); err == nil {
		t.Error("emit after Close succeeded")
	}
}

func TestValidNumber(t *testing.T) {
	cases := map[string]bool{
		"+4915123456789":    true,
		"+12345678":         true,
		"+1234567":          false,
		"+123456789012345":  true,
		"+1234567890123456": false,
		"4915123456789":     false,
		"+49 151 2345":      false,
		"":                  false,
	}
	for n, want := range cases {
		t.Run(n, func(t *testing.T) {
			if got := ValidNumber(n); got != want {
				t.Errorf("ValidNumber(%q) = %v", n, got)
			}
		})
	}
}

func FuzzSMSBody(f *testing.F) {
	f.Add([]byte(`{"to":"+4915123456789","from":"Clinic","text":"hi"}`))
	f.Add([]byte(`{"to":["+4915123456789","x"],"from":"Clinic","text":"{{optoutLink}}","allowInvalid":true}`))
	f.Add([]byte(`{"to":5,"transliteration":{"alphabet":1}}`))
	f.Add([]byte(`{"to":"+4915123456789","from":"Clinic","text":"hi","idempotencyId":"854cd53f-d77d-4aa8-9bd9-fbf720f3332d"}`))
	f.Add([]byte(`{"to":"+4915123456789","from":"Clinic","text":"{{shortlink:}}{{","scheduledDate":"2999-01-01 00:00:00"}`))
	f.Add([]byte(`null`))
	f.Add([]byte("\xff"))
	s := NewServer(Options{APIKeys: []string{testKey}, NoAutoDLR: true, Balance: 1e9, MaxRecorded: -1})
	defer s.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/sms", bytes.NewReader(body))
		req.Header.Set("X-API-KEY", testKey)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 403:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if !json.Valid(rec.Body.Bytes()) || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("not JSON: %q", rec.Body.Bytes())
		}
	})
}

// The report's attack on simulator mode: strangers post 8 MB bodies to the
// fake on the public listener. They are refused before their bodies are
// read, and the log keeps a small summary of each; the heap does not grow
// by the bodies' size.
func TestStrangersLeaveOnlySummaries(t *testing.T) {
	s := NewServer(Options{APIKeys: []string{testKey}, NoAutoDLR: true, MaxRecorded: 500})
	defer s.Close()
	big := bytes.Repeat([]byte("x"), maxRequestBody)
	serve := func(path, key string, body []byte) int {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		if key != "" {
			req.Header.Set("X-API-KEY", key)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 8 {
		if code := serve("/sms", "", big); code != http.StatusUnauthorized {
			t.Fatalf("anonymous post %d: status %d, want 401", i, code)
		}
	}
	for _, tc := range []struct {
		path, key string
		body      []byte
		want      int
	}{
		{"/sms", "wrong key", big, http.StatusUnauthorized},
		{"/nowhere", testKey, big, http.StatusNotFound},
		{"/oauth/token", "", big, http.StatusUnauthorized},
		{"/sms", testKey, append(big, 'x'), http.StatusRequestEntityTooLarge},
		// Authenticated and read, but only its start is kept.
		{"/sms", testKey, big, http.StatusBadRequest},
	} {
		if code := serve(tc.path, tc.key, tc.body); code != tc.want {
			t.Fatalf("%s with key %q: status %d, want %d", tc.path, tc.key, code, tc.want)
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(big)

	reqs := s.Requests()
	if len(reqs) != 13 {
		t.Fatalf("%d requests recorded, want 13", len(reqs))
	}
	recorded := 0
	for i, r := range reqs {
		recorded += len(r.Method) + len(r.Path) + len(r.Body)
		for _, v := range r.Header {
			recorded += len(v[0])
		}
		if i < len(reqs)-1 && len(r.Body) != 0 {
			t.Errorf("request %d (%s, status %d) kept %d body bytes", i, r.Path, r.Status, len(r.Body))
		}
		if r.Size < maxRequestBody {
			t.Errorf("request %d: Size %d, want the declared %d", i, r.Size, maxRequestBody)
		}
	}
	if last := reqs[len(reqs)-1]; len(last.Body) != DefaultMaxRecordedBody || last.Status != http.StatusBadRequest {
		t.Errorf("authenticated request kept %d body bytes (want %d), status %d", len(last.Body), DefaultMaxRecordedBody, last.Status)
	}
	if recorded > 16<<10 {
		t.Errorf("the log holds %d bytes for 13 requests", recorded)
	}
	s.mu.Lock()
	logBytes := s.requests.bytes
	s.mu.Unlock()
	if logBytes > 16<<10 {
		t.Errorf("the log counts %d bytes for 13 requests", logBytes)
	}
	// Keeping the bodies, as the fake once did, grew the heap by 8 MB a post.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 16<<20 {
		t.Errorf("heap grew by %d MB over 13 posts of 8 MB", grew>>20)
	}
}

// The request log is bounded in bytes: the oldest entries go first, and a
// body is cut at MaxRecordedBody with its full length in Size.
func TestRecordedBytesBounded(t *testing.T) {
	s, ts := newFake(t, Options{NoAutoDLR: true, MaxRecordedBody: 100, MaxRecordedBytes: 4 << 10})
	long := `{"to":"+4915123456789","from":"Clinic","text":"` + strings.Repeat("a", 300) + `"}`
	for range 50 {
		if status, _, data := call(t, ts.URL, http.MethodPost, "/sms", long); status != 200 {
			t.Fatalf("%d %s", status, data)
		}
	}
	reqs := s.Requests()
	if len(reqs) == 0 || len(reqs) >= 50 {
		t.Fatalf("%d of 50 requests kept under a 4 KB bound", len(reqs))
	}
	for _, r := range reqs {
		if string(r.Body) != long[:100] || r.Size != int64(len(long)) {
			t.Fatalf("kept body %q (size %d), want the first 100 bytes of %d", r.Body, r.Size, len(long))
		}
	}
	s.mu.Lock()
	logBytes := s.requests.bytes
	s.mu.Unlock()
	if logBytes > 4<<10 {
		t.Errorf("log holds %d bytes, bound 4096", logBytes)
	}
	// Long paths and headers are cut too.
	call(t, ts.URL, http.MethodGet, "/"+strings.Repeat("p", 5000), "")
	if last := s.Requests(); len(last[len(last)-1].Path) != maxRecordedField {
		t.Errorf("recorded path of %d bytes", len(last[len(last)-1].Path))
	}
}
