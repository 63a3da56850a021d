package outbound

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// SecretPrefix starts every signing secret, as Standard Webhooks writes
// them: "whsec_" and the key in standard base64.
const SecretPrefix = "whsec_"

// secretBytes is the length of a new signing key: 24 random bytes, within
// the 24 to 64 bytes the specification recommends.
const secretBytes = 24

// NewSecret returns a new random signing secret.
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand does not fail
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a secret into its HMAC key.
func secretKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errors.New("the secret does not start with " + SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return nil, errors.New("the secret is not base64 after " + SecretPrefix)
	}
	return key, nil
}

// Sign returns the webhook-signature header of a payload: one "v1,"
// signature (base64 of HMAC-SHA256 over "id.timestamp.body") per secret,
// separated by spaces, so that a receiver holding either secret of a
// rotation can verify it. A secret that does not decode is skipped.
func Sign(secrets []string, msgID string, timestamp int64, body []byte) string {
	var sigs []string
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			continue
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(msgID))
		mac.Write([]byte{'.'})
		mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// newMsgID returns a new webhook-id: "msg_" and 22 random base64url
// characters, unique across databases (a restored or second database
// does not reuse the ids of another).
func newMsgID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + base64.RawURLEncoding.EncodeToString(b)
}
