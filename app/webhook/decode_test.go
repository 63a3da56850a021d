package webhook

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"apptconfirm/models"
)

// Keys are short and free of odd bytes whatever the ids look like.
func TestDedupKeys(t *testing.T) {
	long := strings.Repeat("a", 300)
	cases := []struct {
		event, item, want string
	}{
		{"dlr_update", `{"msgId":"9eee-1","status":"DELIVERED"}`, "dlr_update:9eee-1:DELIVERED"},
		{"dlr_update", `{"msgId":"9eee-1","status":"NO COVERAGE"}`, "dlr_update:9eee-1:NO COVERAGE"},
		{"dlr_update", `{"msgId":"` + long + `","status":"SENT"}`, "dlr_update:h:08b3f40ccfd687232bdb1ff9d16de154916cfbd22ad13c60543ddacaa51d1ed6"},
		{"dlr_update", `{"msgId":"a\u0000b","status":"SENT"}`, "dlr_update:h:f43718f34e52ead8edb685ac3fc74b1b7237d73cbdfb0188565dc907003fd5e3"},
		{"receive_sms", `{"msgId":"3328fe13"}`, "receive_sms:3328fe13"},
		{"new_optout", `{"hitId":1843}`, "new_optout:1843"},
		{"shortlink_hit", `{"hitId":77}`, "shortlink_hit:77"},
		{"shortlink_hit_update", `{"hitId":77}`, "shortlink_hit_update:77"},
		{"attachment_hit", `{"hitId":0}`, "attachment_hit:0"},
		{"otp_update", `{"otpId": "x"}`, "otp_update:sha256:eb576ce4b9638eb86ea0ec6e92259b6de0af352fb9fa06518cab4c61c2ba8884"},
		{"shortlink_hit", `{"hitId":"77"}`, "shortlink_hit:malformed:cd01706244640a7bf318ef5f154e66d70a69c304684845782205b5190108b7c7"},
		{"new_optout", `{"optoutId":"x"}`, "new_optout:malformed:8b8793e735b8adbcd3a56e6d0ec815ae1b42fb9e64e92692d1b4bbc3d430d118"},
	}
	keys := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.event+" "+clip(tc.item, 30), func(t *testing.T) {
			// The name is what schema version 2 stored as the key, so it
			// must not change; the key is its hash (models.DedupKey, whose
			// own test pins it), which migration 3 gives the stored names.
			_, name := judgeItem(tc.event, json.RawMessage(tc.item))
			if name != tc.want {
				t.Fatalf("name %q, want %q", name, tc.want)
			}
			it := decodeItem(tc.event, json.RawMessage(tc.item))
			if it.key != models.DedupKey(name) || len(it.key) != 22 || strings.Contains(it.key, ":") {
				t.Fatalf("key %q of name %q, want the 22-character DedupKey %q", it.key, name, models.DedupKey(name))
			}
			if other, dup := keys[it.key]; dup {
				t.Fatalf("key %q also given to %s", it.key, other)
			}
			keys[it.key] = tc.event + " " + tc.item
		})
	}
	// Whitespace does not make an unknown item new.
	a := decodeItem("otp_update", json.RawMessage(`{"otpId": "x"}`))
	b := decodeItem("otp_update", json.RawMessage(`{ "otpId":"x" }`))
	if a.key != b.key {
		t.Fatalf("keys differ by whitespace: %q %q", a.key, b.key)
	}
}

// The hand-written 200 answer is exactly what encoding/json writes, for
// every event name decodeBatch accepts.
func TestReceiptJSON(t *testing.T) {
	for _, rc := range []Receipt{
		{Event: "dlr_update", Items: 1, Stored: 1},
		{Event: "a.b:c-d_E9", Items: 1000, Stored: 0, Malformed: 3},
		{Event: "x"},
	} {
		if !isEventName(rc.Event) {
			t.Fatalf("%q is not an accepted event name", rc.Event)
		}
		rec := httptest.NewRecorder()
		writeReceipt(rec, rc)
		want, err := json.Marshal(rc)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusOK || rec.Body.String() != string(want) {
			t.Fatalf("writeReceipt(%+v) = %d %s, want 200 %s", rc, rec.Code, rec.Body, want)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
	}
}

// eventPattern is the event-name rule isEventName implements by hand.
var eventPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,40}$`)

// FuzzEventName: the envelope's event is read as the decoder reads it and
// judged as the pattern judges it, whatever the string.
func FuzzEventName(f *testing.F) {
	for _, s := range []string{
		`"dlr_update"`, `"a.b:c-d_E9"`, `""`, `" dlr_update "`, `"dlr\u005fupdate"`, `"a\"b"`,
		`"` + strings.Repeat("x", 40) + `"`, `"` + strings.Repeat("x", 41) + `"`, `"é"`, `"a\nb"`, `"a/b"`, `5`, `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if got, want := isEventName(raw), eventPattern.MatchString(raw); got != want {
			t.Fatalf("isEventName(%q) = %v, the pattern says %v", raw, got, want)
		}
		var want string
		if !utf8.ValidString(raw) || json.Unmarshal([]byte(raw), &want) != nil {
			return // decodeBatch reads only valid UTF-8 and valid JSON
		}
		if got, ok := plainString([]byte(raw)); ok && got != want {
			t.Fatalf("plainString(%s) = %q, want %q", raw, got, want)
		}
	})
}
