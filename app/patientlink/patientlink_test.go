package patientlink

import (
	"bytes"
	"strings"
	"testing"
)

var key = bytes.Repeat([]byte{7}, 32)

func TestTokenRoundTrip(t *testing.T) {
	l, err := New(key, "https://clinic.example/")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint{1, 2, 42, 1 << 31, 1<<32 - 1} {
		tok := l.Token(id)
		if len(tok) != TokenLen {
			t.Fatalf("token %q is %d characters", tok, len(tok))
		}
		if got, ok := l.Parse(tok); !ok || got != id {
			t.Errorf("Parse(Token(%d)) = %d, %v", id, got, ok)
		}
	}
	if u := l.URL(42); u != "https://clinic.example/a/"+l.Token(42) {
		t.Errorf("URL = %q", u)
	}
	if l.Token(1) == l.Token(2) {
		t.Error("two appointments share a token")
	}
	noBase, _ := New(key, "")
	if noBase.URL(1) != "" {
		t.Error("a URL without a public URL")
	}
	if _, err := New(key[:31], ""); err == nil {
		t.Error("a short key was accepted")
	}
}

// A token is bound to its key and its id: another key, a changed
// character, another length or the zero id are refused.
func TestParseRefusesForgeries(t *testing.T) {
	l, _ := New(key, "")
	other, _ := New(bytes.Repeat([]byte{8}, 32), "")
	tok := l.Token(42)
	if _, ok := other.Parse(tok); ok {
		t.Error("a token of another key was accepted")
	}
	for i := range tok {
		c := byte('A')
		if tok[i] == 'A' {
			c = 'B'
		}
		forged := tok[:i] + string(c) + tok[i+1:]
		if _, ok := l.Parse(forged); ok {
			t.Errorf("a token changed at %d was accepted", i)
		}
	}
	for _, bad := range []string{"", tok + "A", tok[:21], strings.Repeat("A", 22), "!!!!!!!!!!!!!!!!!!!!!!", l.Token(0)} {
		if _, ok := l.Parse(bad); ok {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// FuzzParse reads arbitrary tokens: none panics, and whatever is accepted
// is the token of the id it names.
func FuzzParse(f *testing.F) {
	l, _ := New(key, "")
	for _, s := range []string{l.Token(1), l.Token(99), "", "AAAAAAAAAAAAAAAAAAAAAA", "a/b", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := l.Parse(s)
		if ok && l.Token(id) != s {
			t.Fatalf("Parse(%q) = %d, whose token is %q", s, id, l.Token(id))
		}
	})
}
