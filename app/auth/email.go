package auth

import (
	"strings"
	"unicode/utf8"
)

// MaxEmailBytes is the longest e-mail address there can be (RFC 5321 caps
// a forward path at 256 bytes, two of them the angle brackets). No account
// has a longer one.
const MaxEmailBytes = 254

// NormalizeEmail returns the form under which an e-mail typed into the
// login form is looked up and rate-limited: spaces around it trimmed,
// lower-cased, at most MaxEmailBytes bytes. The value is cut before it is
// lower-cased, so that a huge one costs no more than a short one, and cut
// at a character boundary. A cut value matches no account; callers may
// refuse an e-mail over MaxEmailBytes outright instead.
func NormalizeEmail(raw string) string {
	s := capBytes(strings.TrimSpace(raw), MaxEmailBytes)
	// Lower-casing can lengthen a string (some letters and every invalid
	// byte), hence the second cut.
	return strings.TrimSpace(capBytes(strings.ToLower(s), MaxEmailBytes))
}

// capBytes cuts s to at most n bytes without splitting a UTF-8 sequence.
func capBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut]
}
