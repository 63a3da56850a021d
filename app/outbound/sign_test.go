package outbound_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/outbound"
)

// The specification's test vector, as its reference libraries publish it.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignReproducesTheSpecificationVector(t *testing.T) {
	if got := outbound.Sign([]string{specSecret}, specID, specTimestamp, []byte(specBody)); got != specSignature {
		t.Fatalf("Sign = %q, want %q", got, specSignature)
	}
}

func TestVerifierAcceptsTheVectorAndRejectsTampering(t *testing.T) {
	at := time.Unix(specTimestamp, 0)
	h := func(id, ts, sig string) http.Header {
		return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}}
	}
	if err := verify(specSecret, h(specID, "1614265330", specSignature), []byte(specBody), at); err != nil {
		t.Fatalf("the verifier refuses the specification's vector: %v", err)
	}
	for name, c := range map[string]struct {
		h    http.Header
		body string
		now  time.Time
	}{
		"body changed":      {h(specID, "1614265330", specSignature), `{"test": 2432232315}`, at},
		"id changed":        {h("msg_other", "1614265330", specSignature), specBody, at},
		"timestamp changed": {h(specID, "1614265331", specSignature), specBody, at},
		"too old":           {h(specID, "1614265330", specSignature), specBody, at.Add(6 * time.Minute)},
		"other secret":      {h(specID, "1614265330", outbound.Sign([]string{outbound.NewSecret()}, specID, specTimestamp, []byte(specBody))), specBody, at},
		"v2 scheme":         {h(specID, "1614265330", strings.Replace(specSignature, "v1,", "v2,", 1)), specBody, at},
	} {
		if err := verify(specSecret, c.h, []byte(c.body), c.now); err == nil {
			t.Errorf("%s: the verifier accepts it", name)
		}
	}
}

func TestSignWithTwoSecretsVerifiesWithEither(t *testing.T) {
	old, cur := outbound.NewSecret(), outbound.NewSecret()
	now := time.Now()
	sig := outbound.Sign([]string{cur, old}, "msg_1", now.Unix(), []byte(`{}`))
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("want two signatures, got %q", sig)
	}
	h := http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Webhook-Signature": {sig}}
	for _, s := range []string{old, cur} {
		if err := verify(s, h, []byte(`{}`), now); err != nil {
			t.Errorf("secret %s…: %v", s[:10], err)
		}
	}
	if err := verify(outbound.NewSecret(), h, []byte(`{}`), now); err == nil {
		t.Error("a third secret verifies")
	}
}

func TestNewSecretIsStandardWebhooksShaped(t *testing.T) {
	a, b := outbound.NewSecret(), outbound.NewSecret()
	if !strings.HasPrefix(a, "whsec_") || a == b || len(a) != len("whsec_")+32 {
		t.Fatalf("secrets %q %q", a, b)
	}
}
