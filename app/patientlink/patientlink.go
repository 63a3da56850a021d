// Package patientlink makes and reads the short links of the patient page,
// /a/{token}: the token names one appointment and is signed, so that it
// cannot be guessed or altered, and carries nothing else (no name, no
// date). It never expires by itself: the page refuses a token once its
// appointment is over, so a moved appointment keeps its link.
//
// A token is 22 URL-safe characters: the appointment id (4 bytes) and the
// first 12 bytes of an HMAC-SHA256 of it under the clinic's key.
//
// The package is pure; a Links is safe for concurrent use.
package patientlink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
)

// Prefix is the path the patient page lives under.
const Prefix = "/a/"

// macBytes is how much of the HMAC a token keeps: 96 bits.
const macBytes = 12

// TokenLen is the length of a token in characters.
const TokenLen = 22

// MinKeyBytes is the shortest key New accepts.
const MinKeyBytes = 32

// Links signs and reads tokens under one key.
type Links struct {
	key  []byte
	base string
}

// New returns Links signing with key (at least MinKeyBytes), whose URLs
// start with publicURL (the app's address as patients reach it, such as
// "https://clinic.example"; empty makes URL return "").
func New(key []byte, publicURL string) (*Links, error) {
	if len(key) < MinKeyBytes {
		return nil, errors.New("patientlink: the key is shorter than 32 bytes")
	}
	return &Links{key: append([]byte(nil), key...), base: strings.TrimRight(publicURL, "/")}, nil
}

func (l *Links) mac(id []byte) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte("apptconfirm patient link v1\x00"))
	m.Write(id)
	return m.Sum(nil)[:macBytes]
}

// Token returns appointment id's token.
func (l *Links) Token(id uint) string {
	b := make([]byte, 4, 4+macBytes)
	binary.BigEndian.PutUint32(b, uint32(id))
	b = append(b, l.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// URL returns the patient page of appointment id: publicURL + "/a/" +
// token, or "" without a public URL.
func (l *Links) URL(id uint) string {
	if l.base == "" {
		return ""
	}
	return l.base + Prefix + l.Token(id)
}

// Parse returns the appointment a token names, and false for anything
// that is not a token signed with this key.
func (l *Links) Parse(token string) (uint, bool) {
	if len(token) != TokenLen {
		return 0, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != 4+macBytes {
		return 0, false
	}
	if !hmac.Equal(b[4:], l.mac(b[:4])) {
		return 0, false
	}
	id := binary.BigEndian.Uint32(b[:4])
	if id == 0 {
		return 0, false
	}
	return uint(id), true
}
