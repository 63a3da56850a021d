package reply

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.text)
	}
	for _, tc := range rescheduleCases {
		f.Add(tc.text)
	}
	for _, tc := range freeTextCases {
		f.Add(tc.text)
	}
	f.Add("yes\u0301 \u00a0no\u2028stop")
	f.Add("\u3392 \u2163 \u00bd")
	f.Fuzz(func(t *testing.T, text string) {
		got := Parse(text)
		if again := Parse(text); again != got {
			t.Fatalf("Parse(%q) is not deterministic: %+v then %+v", text, got, again)
		}
		if got.Intent < Unknown || got.Intent > Reschedule {
			t.Fatalf("Parse(%q) = %+v: intent out of range", text, got)
		}
		if got.Choice < 0 || got.Choice > maxChoice {
			t.Fatalf("Parse(%q) = %+v: choice out of range", text, got)
		}
		if got.Bare && got.Choice == 0 {
			t.Fatalf("Parse(%q) = %+v: bare without a number", text, got)
		}
		if !got.Bare && got.Choice != 0 && !tiedToAppointment(got.Intent) {
			t.Fatalf("Parse(%q) = %+v: a choice on a %v reply", text, got, got.Intent)
		}

		normalized := Normalize(text)
		if !utf8.ValidString(normalized) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", text, normalized)
		}
		if strings.HasPrefix(normalized, " ") || strings.HasSuffix(normalized, " ") || strings.Contains(normalized, "  ") {
			t.Fatalf("Normalize(%q) = %q: stray spaces", text, normalized)
		}
		for _, r := range normalized {
			if r != ' ' && (unicode.IsSpace(r) || unicode.IsUpper(r) || unicode.IsPunct(r) || unicode.Is(unicode.M, r)) {
				t.Fatalf("Normalize(%q) = %q: holds %U", text, normalized, r)
			}
		}
		if again := Normalize(normalized); again != normalized {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q", text, normalized, again)
		}
		if fromNormalized := Parse(normalized); fromNormalized != got {
			t.Fatalf("Parse(%q) = %+v but Parse of its normalised form %q = %+v", text, got, normalized, fromNormalized)
		}
	})
}

func FuzzResolve(f *testing.F) {
	f.Add("yes", 2, int(Unknown))
	f.Add("2", 2, int(Confirm))
	f.Add("1 no", 1, int(Unknown))
	f.Add("stop", 3, int(Cancel))
	f.Add("3", 0, int(Cancel))
	f.Fuzz(func(t *testing.T, text string, candidates, pendingRaw int) {
		r := Parse(text)
		pending := Intent(pendingRaw)
		intent, index, ask := Resolve(r, candidates, pending)
		if index < 0 || index > max(candidates, 0) {
			t.Fatalf("Resolve(%+v, %d, %v) index %d out of range", r, candidates, pending, index)
		}
		if index > 0 && !tiedToAppointment(intent) {
			t.Fatalf("Resolve(%+v, %d, %v) ties %v to index %d", r, candidates, pending, intent, index)
		}
		if ask && (candidates < 2 || index != 0 || !tiedToAppointment(intent)) {
			t.Fatalf("Resolve(%+v, %d, %v) = %v, %d, ask", r, candidates, pending, intent, index)
		}
		if (r.Intent == OptOut || r.Intent == OptIn || r.Intent == Help) && (intent != r.Intent || index != 0 || ask) {
			t.Fatalf("Resolve(%+v, %d, %v) = %v, %d, %v: keyword changed", r, candidates, pending, intent, index, ask)
		}
		if candidates > 0 && intent != Unknown && !ask && index == 0 && intent != OptOut && intent != OptIn && intent != Help {
			t.Fatalf("Resolve(%+v, %d, %v) = %v with no appointment", r, candidates, pending, intent)
		}
	})
}

// tiedToAppointment reports whether an intent applies to one appointment.
func tiedToAppointment(i Intent) bool {
	return i == Confirm || i == Cancel || i == Reschedule
}

func BenchmarkParse(b *testing.B) {
	texts := []string{
		"Yes!", "STOP please", "I can’t make it", "2", "1 yes", "what time?", "👍🏽",
		"Oui, je confirme.", "Ich kann nicht kommen", "yes but can we move it to 4pm?",
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Parse(texts[i%len(texts)])
		i++
	}
}
