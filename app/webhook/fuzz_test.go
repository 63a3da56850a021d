package webhook

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are bodies worth starting from: every event type, and the
// shapes that went wrong elsewhere.
var fuzzSeeds = []string{
	`{"event":"dlr_update","data":[{"campaignId":"4baf0298-0c21-4df1-a60a-6e3476e95e0b","msgId":"9eeed792-9c8c-463c-a8e2-43ebf4494c02","statusCode":0,"status":"DELIVERED","errorCode":null,"datetime":"2023-02-19 12:00:07","trackData":"bf325375-e030-4ccb-a009-17317c574773"}]}`,
	`{"event":"receive_sms","data":[{"msgId":"3328fe13-2b99-4282-b62e-d891f5e452a8","from":"+4915123456789","countryIso":"DE","to":"+4915199000000","text":"STOP","cost":0,"receivedAt":"2023-02-19 12:03:00"}]}`,
	`{"event":"new_optout","data":[{"hitId":1843,"optoutId":"aB3","optoutUrl":"https://x","optoutType":"link","countryIso":"FR","datetime":"2023-02-19 12:10:00","phoneNumber":"+33612310000","campaignId":null,"groupId":null}]}`,
	`{"event":"shortlink_hit","data":[{"hitId":77,"shortlinkId":"bVc","url":"https://en.ax/bVc/r2N","device":"mobile","referrer":null,"phoneNumber":"+4915123456789","campaignId":"4baf0298-0c21-4df1-a60a-6e3476e95e0b"}]}`,
	`{"event":"attachment_hit_update","data":[{"hitId":78,"attachmentId":"q1","phoneNumber":"4915123456789"}]}`,
	`{"event":"receive_sms","data":[{"msgId":"a","from":"+4915123456789","text":"yes \u0000 2"}, "oops", null, 5, []]}`,
	`{"event":"dlr_update","data":[{"msgId":"x","status":"NO COVERAGE","errorCode":12}],"extra":true}`,
	`{"event":"otp_update","data":[{"otpId":"1"}]}`,
	`{"event":"receive_sms","data":[]}`,
	`{"event":"","data":[]}`,
	`{"data":[{"msgId":"a"}],"event":"receive_sms","event":"dlr_update"}`,
	`[]`, `null`, `"x"`, ``, `{`, "\xff",
}

// FuzzDecodeBatch: decoding never panics; it refuses with an *EnvelopeError
// (or a *TooManyItemsError) or returns at most MaxBatchItems items with
// unique, bounded keys and valid UTF-8. What it accepts is JSON to the
// standard library too, which the processor decodes items with.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := decodeBatch(body)
		if err != nil {
			var ee *EnvelopeError
			var many *TooManyItemsError
			if errors.As(err, &many) && many.Items > MaxBatchItems {
				return
			}
			if !errors.As(err, &ee) || ee.Reason == "" {
				t.Fatalf("error %v is not an EnvelopeError with a reason", err)
			}
			return
		}
		if len(b.items) > MaxBatchItems {
			t.Fatalf("%d items accepted", len(b.items))
		}
		if !isEventName(b.event) {
			t.Fatalf("event %q accepted", b.event)
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body encoding/json calls invalid: %q", body)
		}
		seen := map[string]bool{}
		for _, it := range b.items {
			if len(it.key) != 22 || strings.ContainsRune(it.key, ':') {
				t.Fatalf("bad key %q (not a models.DedupKey)", it.key)
			}
			if seen[it.key] {
				t.Fatalf("duplicate key %q", it.key)
			}
			seen[it.key] = true
			if !utf8.ValidString(it.raw) || len(it.malformed) > 300 || !json.Valid([]byte(it.raw)) {
				t.Fatalf("bad item %+v", it)
			}
		}
	})
}
