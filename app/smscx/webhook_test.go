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

func TestMaskPhone(t *testing.T) {
	cases := []struct{ in, want string }{
		{"+4915123456789", "+49151*****789"},
		{"+491512345678", "+49151****678"},
		{"+14155550123", "+1415****123"},
		{"+33612345678", "+33612***678"},
		{"+353861234567", "+353861***567"},
		{"+49 151 2345 6789", "+49151*****789"},
		{"015123456789", "015******789"},
		{"+4915123", "+*****23"},
		{"12345", "***45"},
		{"1234", "****"},
		{"+1", "+*"},
		{"", ""},
		{"unknown", "***"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got := MaskPhone(tc.in)
			if got != tc.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseAndFormatTime(t *testing.T) {
	want := time.Date(2023, 2, 19, 12, 0, 7, 0, time.UTC)
	cases := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2023-02-19 12:00:07", want, false},
		{" 2023-02-19 12:00:07 ", want, false},
		{"2023-02-19T13:00:07+01:00", want, false},
		{"2023-02-19T12:00:07Z", want, false},
		{"19.02.2023 12:00", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTime(tc.in)
			if (err != nil) != tc.wantErr || !got.Equal(tc.want) || (err == nil && got.Location() != time.UTC) {
				t.Errorf("ParseTime(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
	berlin := time.FixedZone("CET", 3600)
	if got := FormatTime(want.In(berlin)); got != "2023-02-19 12:00:07" {
		t.Errorf("FormatTime = %q", got)
	}
}

func TestDecodeEnvelope(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		event   string
		items   int
		wantErr bool
	}{
		{"dlr", `{"event":"dlr_update","data":[{"msgId":"a"},{"msgId":"b"}]}`, EventDLRUpdate, 2, false},
		{"empty data", `{"event":"receive_sms","data":[]}`, EventReceiveSMS, 0, false},
		{"missing event", `{"data":[]}`, "", 0, true},
		{"missing data", `{"event":"dlr_update"}`, "", 0, true},
		{"item not object", `{"event":"dlr_update","data":[1]}`, "", 0, true},
		{"not json", `event=dlr_update`, "", 0, true},
		{"array", `[]`, "", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := DecodeEnvelope([]byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && (env.Event != tc.event || len(env.Data) != tc.items) {
				t.Errorf("env = %+v", env)
			}
		})
	}
}

// webhookSink collects envelopes posted by the fake.
type webhookSink struct {
	mu   sync.Mutex
	envs []*Envelope
	fail int
}

func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	env, err := DecodeEnvelope(body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.envs = append(s.envs, env)
}

func (s *webhookSink) got() []*Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Envelope(nil), s.envs...)
}

// TestWebhookPayloadsFromFake decodes what the fake posts into this
// package's webhook types: the field names of both sides must agree.
func TestWebhookPayloadsFromFake(t *testing.T) {
	sink := &webhookSink{fail: 1}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	fake, ts := newFake(t, smscxtest.Options{DLRDelay: 20 * time.Millisecond, DLRBackoff: time.Millisecond, CallbackURL: hook.URL})
	fake.FailDeliveryTo("+3161", 2004)
	c := newClient(t, Config{BaseURL: ts.URL, APIKey: testKey})
	ctx := testContext(t)

	resp, err := c.Send(ctx, SendRequest{
		To: []string{phoneDE, "+31612345678"}, From: "Clinic", Text: "hi",
		TrackData: trackA, DLRCallbackURL: hook.URL + "/dlr",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	envs := sink.got()
	if len(envs) != 2 {
		t.Fatalf("envelopes = %d, want 2 (SENT batch, then final batch; the first try failed)", len(envs))
	}
	byMsg := map[string][]DLRUpdate{}
	for i, env := range envs {
		if env.Event != EventDLRUpdate || len(env.Data) != 2 {
			t.Fatalf("envelope %d = %s with %d items", i, env.Event, len(env.Data))
		}
		for _, raw := range env.Data {
			var u DLRUpdate
			if err := json.Unmarshal(raw, &u); err != nil {
				t.Fatal(err)
			}
			if u.CampaignID != resp.Info.CampaignID || u.TrackData != trackA {
				t.Errorf("update = %+v", u)
			}
			if _, err := ParseTime(u.Datetime); err != nil {
				t.Error(err)
			}
			byMsg[u.MsgID] = append(byMsg[u.MsgID], u)
		}
	}
	de, nl := byMsg[resp.Data[0].MsgID], byMsg[resp.Data[1].MsgID]
	if len(de) != 2 || de[0].Status != StatusSent || de[1].Status != StatusDelivered || de[1].ErrorCode != nil {
		t.Errorf("DE updates = %+v", de)
	}
	if len(nl) != 2 || nl[1].Status != StatusFailed || nl[1].ErrorCode == nil || *nl[1].ErrorCode != 2004 {
		t.Errorf("NL updates = %+v", nl)
	}

	// Emitters.
	msgID, err := fake.EmitReceiveSMS(ctx, phoneDE, "+4915199000000", "YES")
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.EmitOptout(ctx, phoneDE, resp.Info.CampaignID); err != nil {
		t.Fatal(err)
	}
	if err := fake.EmitShortlinkHit(ctx, phoneDE, resp.Info.CampaignID, "bVc", false); err != nil {
		t.Fatal(err)
	}
	if err := fake.EmitAttachmentHit(ctx, phoneDE, "", "att1", true); err != nil {
		t.Fatal(err)
	}
	envs = sink.got()[2:]
	if len(envs) != 4 {
		t.Fatalf("emitted envelopes = %d", len(envs))
	}
	var in ReceiveSMS
	if envs[0].Event != EventReceiveSMS || json.Unmarshal(envs[0].Data[0], &in) != nil ||
		in.MsgID != msgID || in.From != phoneDE || in.Text != "YES" || in.CountryISO != "DE" || in.ReceivedAt == "" {
		t.Errorf("receive_sms = %+v", in)
	}
	var opt NewOptout
	if envs[1].Event != EventNewOptout || json.Unmarshal(envs[1].Data[0], &opt) != nil ||
		opt.PhoneNumber != phoneDE || opt.OptoutType != OptoutTypeLink || opt.CampaignID != resp.Info.CampaignID ||
		opt.HitID == 0 || opt.OptoutID == "" || opt.OptoutURL == "" {
		t.Errorf("new_optout = %+v", opt)
	}
	var hit, att Hit
	if envs[2].Event != EventShortlinkHit || json.Unmarshal(envs[2].Data[0], &hit) != nil ||
		hit.ID() != "bVc" || hit.PhoneNumber != phoneDE || hit.Device != "mobile" || hit.IPAddress == "" {
		t.Errorf("shortlink_hit = %+v", hit)
	}
	if envs[3].Event != EventAttachmentHitUpdate || json.Unmarshal(envs[3].Data[0], &att) != nil ||
		att.ID() != "att1" || att.CampaignID != "" {
		t.Errorf("attachment_hit_update = %+v", att)
	}

	// A later send to the opted-out number is REJECTED, not an error.
	resp, err = c.Send(ctx, basicSend())
	if err != nil || resp.Data[0].Status != StatusRejected || resp.Data[0].Cost != 0 {
		t.Errorf("send after opt-out: %+v %v", resp, err)
	}
}

func TestHitAcceptsAttachmentID(t *testing.T) {
	var h Hit
	if err := json.Unmarshal([]byte(`{"hitId":3,"attachmentId":"doc","referrer":null,"groupId":null}`), &h); err != nil {
		t.Fatal(err)
	}
	if h.ID() != "doc" || h.HitID != 3 {
		t.Errorf("hit = %+v", h)
	}
}

func TestIsRetryableOtherErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("boom"), false},
		{"canceled", context.Canceled, false},
		{"transport", &TransportError{Err: io.ErrUnexpectedEOF}, true},
		{"408", &APIError{HTTPStatus: 408}, true},
		{"503", &APIError{HTTPStatus: 503}, true},
		{"404", &APIError{HTTPStatus: 404}, false},
		{"403 scope", &APIError{HTTPStatus: 403, Type: TypeInsufficientScope}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsRetryable(tc.err); got != tc.want {
				t.Errorf("IsRetryable = %v", got)
			}
		})
	}
	if !IsAuth(&APIError{HTTPStatus: 403, Type: TypeInsufficientScope}) {
		t.Error("insufficient_scope is not IsAuth")
	}
}

func TestDecodeErrorShapes(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		typ     string
		code    int
		invalid []string
	}{
		{"nested invalid", `{"error":{"type":"invalid_param","code":1210,"message":"m","uri":"u","invalid":["+1","+2"]}}`, "invalid_param", 1210, []string{"+1", "+2"}},
		{"top-level invalid", `{"error":{"type":"invalid_param","code":1207,"message":"m"},"invalid":["+1"]}`, "invalid_param", 1207, []string{"+1"}},
		{"string code", `{"error":{"type":"rate_limit","code":"1004"}}`, "rate_limit", 1004, nil},
		{"empty", ``, "", 0, nil},
		{"wrong shape", `{"error":"nope"}`, "", 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := decodeError(400, http.Header{}, []byte(tc.body))
			if e.Type != tc.typ || e.Code != tc.code || strings.Join(e.Invalid, ",") != strings.Join(tc.invalid, ",") ||
				e.HTTPStatus != 400 || e.Message == "" {
				t.Errorf("decodeError = %+v", e)
			}
		})
	}
}

func FuzzDecodeError(f *testing.F) {
	f.Add(400, `{"error":{"type":"invalid_param","code":1207,"message":"The phone number is not valid","uri":"x","invalid":["+4915123456789"]}}`, "")
	f.Add(429, `{"error":{"type":"rate_limit","code":1004}}`, "1664103086")
	f.Add(503, "<html>down</html>", "99999999999999")
	f.Add(500, `{"error":{"code":1e400}}`, "-1")
	f.Add(401, "\xff\xfe", "")
	f.Fuzz(func(t *testing.T, status int, body, reset string) {
		h := http.Header{}
		h.Set("X-Rate-Limit-Reset", reset)
		h.Set("Retry-After", reset)
		e := decodeError(status, h, []byte(body))
		if e.HTTPStatus != status {
			t.Fatalf("status %d, want %d", e.HTTPStatus, status)
		}
		msg := e.Error()
		if len(e.Message) > maxMessageLen+len("…") || strings.ContainsAny(e.Message, "\x00\n\r") {
			t.Fatalf("message not cleaned: %q", e.Message)
		}
		_ = msg
		_ = e.Retryable()
		_, _ = RetryAt(e)
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add([]byte(`{"event":"dlr_update","data":[{"campaignId":"c","msgId":"m","statusCode":4,"status":"DELIVERED","errorCode":null,"datetime":"2023-02-19 12:00:07","trackData":null}]}`))
	f.Add([]byte(`{"event":"shortlink_hit","data":[{"hitId":77,"shortlinkId":"bVc","referrer":null}]}`))
	f.Add([]byte(`{"event":"","data":null}`))
	f.Add([]byte(`{"event":"x","data":[[]]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := DecodeEnvelope(body)
		if err != nil {
			return
		}
		if env.Event == "" || env.Data == nil {
			t.Fatalf("accepted %q", body)
		}
		for _, raw := range env.Data {
			var u DLRUpdate
			var h Hit
			var o NewOptout
			var r ReceiveSMS
			_ = json.Unmarshal(raw, &u)
			_ = json.Unmarshal(raw, &h)
			_ = json.Unmarshal(raw, &o)
			_ = json.Unmarshal(raw, &r)
			_, _ = ParseTime(u.Datetime)
		}
	})
}

func FuzzMaskPhone(f *testing.F) {
	for _, s := range []string{"+4915123456789", "", "+", "12", "+1 (415) 555-0123", "\xff+49"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := MaskPhone(s)
		digits := 0
		for i := 0; i < len(s); i++ {
			if s[i] >= '0' && s[i] <= '9' {
				digits++
			}
		}
		shown := 0
		for i := 0; i < len(m); i++ {
			if m[i] >= '0' && m[i] <= '9' {
				shown++
			}
		}
		if digits >= 7 && shown > digits-3 {
			t.Fatalf("MaskPhone(%q) = %q hides fewer than 3 digits", s, m)
		}
		if digits > 0 && digits < 8 && shown > 2 {
			t.Fatalf("MaskPhone(%q) = %q shows too much of a short number", s, m)
		}
	})
}
