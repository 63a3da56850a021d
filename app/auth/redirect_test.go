package auth

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		// The attack of the report: a tab that browsers drop, leaving "//".
		{"/\t/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%0a/evil.example", "/"},
		{"/%0D/evil.example", "/"},
		{"/%00", "/"},
		{"/%2509/evil.example", "/"}, // encoded twice
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/%5cevil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/x\\y", "/"},
		{"https://evil.example", "/"},
		{"HTTPS://evil.example/x", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"/%2f/evil.example", "/"},
		{"/%252F%252Fevil.example", "/"},
		{"javascript:alert(1)", "/"},
		{" /x", "/"},
		{"\t/x", "/"},
		{"/x\r\nSet-Cookie: a=b", "/"},
		{"/x%0d%0aSet-Cookie:%20a=b", "/"},
		{"/x?a=%0a", "/"},
		{"/x?a=%5c", "/"},
		{"/\u2028", "/"},
		{"/\u200b//evil.example", "/"},
		{"/\xff", "/"},
		{"/%ff", "/"},
		{"x/y", "/"},
		{"", "/"},
		{"/" + strings.Repeat("a", maxNextBytes), "/"},
		{"/%" + strings.Repeat("25", maxUnescapeRounds+2) + "41", "/"},
		{"/%" + strings.Repeat("25", 3) + "41", "/%25252541"},

		// Good ones are kept.
		{"/", "/"},
		{"/appointments?date=2026-12-07", "/appointments?date=2026-12-07"},
		{"/patients/3", "/patients/3"},
		{"/patients?q=Anna%20Smith&page=2", "/patients?q=Anna%20Smith&page=2"},
		{"/patients?q=100%25", "/patients?q=100%25"},
		{"/patients?back=%2F%2Fx", "/patients?back=%2F%2Fx"},
		{"/patients/3#notes", "/patients/3"},
		{"/a b?q=x y", "/a%20b?q=x%20y"},
		{"/patients?q=Müller", "/patients?q=M%C3%BCller"},
		{"/javascript:alert(1)", "/javascript:alert(1)"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := SafeNext(tc.in); got != tc.want {
				t.Errorf("SafeNext(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{
		"/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example",
		"/%2F%2Fevil.example", "javascript:alert(1)", " /x", "/x\r\nSet-Cookie:",
		"/appointments?date=2026-12-07", "/patients/3", "/a%2520b?c=%25#d", "/%E2%80%8B",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SafeNext(in)
		checkSameSite(t, in, out)
		if again := SafeNext(out); again != out {
			t.Fatalf("SafeNext(%q) = %q, but SafeNext of that is %q", in, out, again)
		}
	})
}

// checkSameSite fails unless out is a path on this site at every layer of
// percent-decoding.
func checkSameSite(t *testing.T, in, out string) {
	t.Helper()
	u, err := url.Parse(out)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		t.Fatalf("SafeNext(%q) = %q: parses to %+v, %v", in, out, u, err)
	}
	for s, round := out, 0; ; round++ {
		if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
			t.Fatalf("SafeNext(%q) = %q: decodes to %q", in, out, s)
		}
		if strings.ContainsFunc(s, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) {
			t.Fatalf("SafeNext(%q) = %q: decodes to %q, with a backslash or control character", in, out, s)
		}
		next, err := url.PathUnescape(s)
		if err != nil || next == s || round > 20 {
			break
		}
		s = next
	}
}
