package reply

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Normalize reduces an SMS text to the form the parser matches against:
// compatibility-decomposed (NFKD, so full-width letters, ligatures and
// keycap digits become plain ones), without combining marks (accents,
// emoji variation selectors, keycap enclosures), lower case, apostrophes
// dropped ("can't" → "cant", "d'accord" → "daccord"), other punctuation,
// quotes and separators turned into single spaces, emoji skin-tone
// modifiers and zero-width characters removed, every other symbol (emoji)
// kept as a word of its own, and ASCII digits split from adjacent letters
// ("1yes" → "1 yes"). Invalid UTF-8 counts as a space.
//
// Normalize is idempotent, and Parse(Normalize(s)) == Parse(s) for every s.
func Normalize(text string) string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, " ")
	}
	decomposed := text
	if !isASCII(text) {
		// A Chain holds buffers, so it is built per call: Normalize is safe
		// for concurrent use. ASCII, the common case, is already decomposed.
		stripMarks := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.M)))
		var err error
		decomposed, _, err = transform.String(stripMarks, text)
		if err != nil {
			// Not reachable for valid UTF-8; fall back to the decomposition
			// alone (the loop below still drops marks).
			decomposed = norm.NFKD.String(text)
		}
	}

	var b strings.Builder
	b.Grow(len(decomposed))
	// last is the class of the last rune written: 0 nothing or a space,
	// 'a' a letter or non-ASCII digit, '1' an ASCII digit, 's' a symbol.
	var last byte
	space := func() {
		if last != 0 {
			b.WriteByte(' ')
			last = 0
		}
	}
	for _, r := range decomposed {
		switch {
		case isApostrophe(r):
			// Dropped so that "can't", "can’t" and "cant" read the same.
		case r >= '0' && r <= '9':
			if last == 'a' || last == 's' {
				space()
			}
			b.WriteRune(r)
			last = '1'
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if last == '1' || last == 's' {
				space()
			}
			b.WriteRune(unicode.ToLower(r))
			last = 'a'
		case unicode.Is(unicode.M, r), unicode.Is(unicode.Cf, r), isSkinTone(r):
			// Marks left by the fallback path, zero-width joiners and spaces,
			// byte-order marks and skin tones carry no meaning here.
		case unicode.Is(unicode.So, r) && r != utf8.RuneError:
			space()
			b.WriteRune(r)
			last = 's'
		default:
			// Punctuation, quotes, maths and currency signs, whitespace,
			// control characters, unassigned code points.
			space()
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`', '\u2018', '\u2019', '\u02bc', '\u2032', '\uff07':
		return true
	}
	return false
}

// isSkinTone reports whether r is one of the Fitzpatrick emoji modifiers
// (U+1F3FB to U+1F3FF) that follow 👍 and friends.
func isSkinTone(r rune) bool {
	return r >= 0x1F3FB && r <= 0x1F3FF
}
