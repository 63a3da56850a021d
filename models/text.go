package models

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Clip cuts s to at most n runes, marking a cut with "…", so that a text
// always fits the column it is written to.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return string([]rune(s)[:max(n, 0)])
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ClipBytes cuts s to at most n bytes on a rune boundary.
func ClipBytes(s string, n int) string { return clipBytes(s, n) }

// CleanText makes text from outside safe to store: valid UTF-8, no NUL, at
// most maxRunes runes.
func CleanText(s string, maxRunes int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes])
	}
	return s
}

// PlainToken reports whether s may be stored or keyed as it is: 1 to 64 of
// A-Z, a-z, 0-9, '.', '_', ' ' and '-'. It runs for every webhook item, so
// it is a loop rather than a regular expression.
func PlainToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == ' ', c == '-':
		default:
			return false
		}
	}
	return true
}

// InboundRef is how an inbound SMS's provider id is stored (64 bytes at
// most): as it came when it is a plain token, else "sha256:" and the start
// of its hash.
func InboundRef(msgID string) string {
	msgID = strings.TrimSpace(msgID)
	if PlainToken(msgID) {
		return msgID
	}
	sum := sha256.Sum256([]byte(msgID))
	return "sha256:" + hex.EncodeToString(sum[:])[:56]
}
