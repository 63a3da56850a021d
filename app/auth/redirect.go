package auth

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNextBytes bounds the page a login returns to; a longer one is refused.
const maxNextBytes = 2048

// maxUnescapeRounds bounds how many layers of percent-encoding SafeNext
// looks through; a value still changing after that many is refused.
const maxUnescapeRounds = 8

// SafeNext returns where to send the browser after a login, given the
// "next" value the login form carried: raw itself (re-escaped) when it is a
// path on this site, "/" otherwise. It accepts only a path that starts
// with a single "/", with an optional query (a fragment is dropped), and
// refuses, in the value and in every percent-decoding of it:
//
//   - a scheme, a host or user information ("https://x", "//x",
//     "javascript:...");
//   - a backslash, which browsers read as "/" ("/\x" is "//x");
//   - control characters (browsers drop tabs and newlines, so "/\t/x"
//     becomes "//x"; CR and LF would also split the Location header),
//     other invisible characters and spaces other than " ", and invalid
//     UTF-8.
//
// The result is safe to put in a Location header as it is.
func SafeNext(raw string) string {
	if raw == "" || len(raw) > maxNextBytes {
		return "/"
	}
	// Look at the value and at each layer of percent-decoding under it, so
	// that a browser or proxy decoding once more finds nothing either.
	s := raw
	for round := 0; ; round++ {
		if !plainPath(s) {
			return "/"
		}
		next := unescapeLenient(s)
		if next == s {
			break
		}
		if round == maxUnescapeRounds {
			return "/"
		}
		s = next
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Opaque != "" || u.User != nil || u.Host != "" {
		return "/"
	}
	out := u.EscapedPath()
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
		return "/"
	}
	if u.RawQuery != "" {
		out += "?" + escapeQuery(u.RawQuery)
	}
	return out
}

// plainPath reports whether s starts with exactly one "/" (not "//" nor
// "/\") and holds no backslash, control or invisible character, and no
// invalid UTF-8.
func plainPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsRune(s, '\\') {
		return false
	}
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return false
		case r < 0x80:
			if r < ' ' || r == 0x7f {
				return false
			}
		case !unicode.IsGraphic(r) || unicode.IsSpace(r):
			return false
		}
	}
	return true
}

// unescapeLenient decodes every valid %XX in s and leaves anything else as
// it is, so that a literal "%" (say "100%" after one decoding of
// "100%25") does not make a good value bad.
func unescapeLenient(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapeQuery percent-encodes the bytes of an already checked query that
// may not appear raw in a URL: spaces, non-ASCII and a few ASCII
// characters.
func escapeQuery(q string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(q))
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>\^`+"`{|}", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
