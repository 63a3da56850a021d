package reply

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxPickBytes and maxPickWords bound the text ParsePick reads; an answer
// to an offer is a few words.
const (
	maxPickBytes = 400
	maxPickWords = 20
)

// ParsePick reads a patient's answer to an offer of times ("Reply 1 for Tue
// 10:00, 2 for Wed 14:30, 3 for Thu 09:00") and returns the 1-based number
// of the option chosen, or 0 when the text does not name exactly one of
// them. Each option is read on its own location's wall clock, so pass them
// in the appointment's zone. lang is the patient's language ("pt", "pt-BR";
// empty or unknown is fine): it settles words whose meaning differs between
// languages, such as Portuguese "segunda" (Monday, or second).
//
// An option can be named by its number ("2", "#2", "option 2", "2 please",
// "yes 2", "2️⃣"), an ordinal in any of the seven languages ("the second",
// "2nd", "le 2", "deuxième", "la segunda", "den zweiten", "tweede",
// "secondo", "the last"), its weekday ("Wednesday", "mer.", "quarta-feira",
// "mercoledì") or its local time ("14:30", "2:30pm", "14h30", "at 2"). Every
// clue in the text must point at the same single option: "Wednesday 14:30"
// picks the Wednesday at 14:30 even when another Wednesday is offered,
// "1 or 2" and "Wednesday" with two Wednesdays offered pick nothing.
//
// Like Parse, it is conservative: a word it does not know (beyond greetings,
// thanks and yes-words) makes it answer 0, so "not 2", "2 is too early" or
// "Wednesday next week" go to a human. It never fails.
func ParsePick(text string, options []time.Time, lang string) int {
	if len(options) == 0 || len(text) > maxPickBytes {
		return 0
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, " ")
	}
	lang = baseLanguage(lang)
	clocks, rest := extractClocks(prepareClocks(text))

	var signals [][]bool // one set of matching options per clue
	for _, c := range clocks {
		signals = append(signals, c.matches(options))
	}

	words := strings.Fields(Normalize(rest))
	if len(words) > maxPickWords {
		return 0
	}
	var weakOne bool
	for i := 0; i < len(words); {
		w := words[i]
		if isDigits(w) {
			n := -1
			if len(w) <= 2 {
				n = atoi(w)
			}
			switch {
			case i > 0 && isMarker(words[i-1], lang) && n >= 0 && n <= 23:
				// "at 2", "um 14": an hour.
				signals = append(signals, clue{hour: n, anyHalf: true}.matches(options))
			default:
				signals = append(signals, optionSet(options, n))
			}
			i++
			if i < len(words) && ordinalSuffixes[words[i]] {
				i++
			}
			continue
		}
		meaning, size, ok := pickWord(words[i:], lang)
		if ok {
			switch {
			case meaning.weakOne:
				weakOne = true
			case meaning.set != nil:
				signals = append(signals, meaning.set(options))
			}
			i += size
			continue
		}
		if e, size, ok := longestPhrase(words[i:]); ok {
			switch e.kind {
			case kindNeutral, kindConnector:
			case kindIntent:
				if e.intent != Confirm {
					return 0 // "no", "stop", "help": not a pick
				}
			default:
				return 0
			}
			i += size
			continue
		}
		if isSymbolWord(w) {
			i++
			continue
		}
		return 0
	}
	if len(signals) == 0 && weakOne {
		signals = append(signals, optionSet(options, 1))
	}
	return single(signals, len(options))
}

// single intersects the clues' sets and returns the one option left
// (1-based), or 0.
func single(signals [][]bool, n int) int {
	if len(signals) == 0 {
		return 0
	}
	found := 0
	for i := range n {
		all := true
		for _, s := range signals {
			all = all && s[i]
		}
		if all {
			if found != 0 {
				return 0
			}
			found = i + 1
		}
	}
	return found
}

// optionSet is the set holding option n (1-based) alone; empty when n is
// out of range.
func optionSet(options []time.Time, n int) []bool {
	set := make([]bool, len(options))
	if n >= 1 && n <= len(options) {
		set[n-1] = true
	}
	return set
}

func isDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// baseLanguage reduces "pt-BR" or "PT_br" to "pt".
func baseLanguage(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	base, _, _ = strings.Cut(base, "_")
	return base
}

// clue is a time of day named in the text.
type clue struct {
	hour, minute int
	// anyHalf: the hour may be read on a 12-hour clock ("2:30" is 02:30 or
	// 14:30).
	anyHalf bool
}

// matches returns the options whose local time is the clue's.
func (c clue) matches(options []time.Time) []bool {
	set := make([]bool, len(options))
	for i, o := range options {
		h, m := o.Hour(), o.Minute()
		if m != c.minute {
			continue
		}
		set[i] = h == c.hour || (c.anyHalf && c.hour <= 12 && h%12 == c.hour%12)
	}
	return set
}

// prepareClocks folds compatibility characters ("１４：３０") to ASCII,
// lowers the case and drops apostrophes ("o'clock"), keeping the colons
// and dots that Normalize would turn into spaces.
func prepareClocks(text string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(text) {
		if !isApostrophe(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// extractClocks finds the times of day in s ("14:30", "2:30 pm", "14h30",
// "14h", "9am", "14.30 uhr", "14u30", "2 oclock") and returns them with the
// rest of the text, the times blanked out. A bare number is not a time.
func extractClocks(s string) ([]clue, string) {
	var clues []clue
	var rest strings.Builder
	for i := 0; i < len(s); {
		if c, n, ok := clockAt(s, i); ok {
			clues = append(clues, c)
			rest.WriteByte(' ')
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		rest.WriteRune(r)
		i += size
		// Skip the rest of a word so that "a2:30" is not read.
		for unicode.IsLetter(r) || unicode.IsDigit(r) {
			if i >= len(s) {
				break
			}
			r, size = utf8.DecodeRuneInString(s[i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			rest.WriteRune(r)
			i += size
		}
	}
	return clues, rest.String()
}

// meridiems are the suffixes of a 12-hour time, longest first.
var meridiems = []struct {
	text string
	pm   bool
}{
	{"a.m.", false}, {"p.m.", true}, {"a.m", false}, {"p.m", true}, {"am", false}, {"pm", true},
}

// clockSuffixes mark a 24-hour time or an hour ("14 uhr", "9h", "14 uur").
var clockSuffixes = []string{"oclock", "uhr", "uur", "hrs", "hs", "h", "u"}

// clockAt reads a time of day at s[i:], where a word starts: one or two
// digits, then minutes after ":", ".", "h" or "u" and/or a suffix (am, pm,
// h, uhr, uur, oclock). It returns the clue and the bytes it covers.
func clockAt(s string, i int) (clue, int, bool) {
	j := i
	for j < len(s) && j-i < 3 && isDigitByte(s[j]) {
		j++
	}
	if j == i || j-i > 2 || (j < len(s) && isDigitByte(s[j])) {
		return clue{}, 0, false
	}
	hour := atoi(s[i:j])
	c := clue{hour: hour, anyHalf: true}
	found := false
	// Minutes: "14:30", "14.30", "14h30", "14u30", "14 : 30".
	if k := skipSpace(s, j); k < len(s) && (s[k] == ':' || s[k] == '.' || s[k] == 'h' || s[k] == 'u') {
		m := skipSpace(s, k+1)
		if m+2 <= len(s) && isDigitByte(s[m]) && isDigitByte(s[m+1]) && (m+2 == len(s) || !isDigitByte(s[m+2])) {
			c.minute = atoi(s[m : m+2])
			if s[k] == 'h' || s[k] == 'u' {
				c.anyHalf = false
			}
			j = m + 2
			found = true
		}
	}
	// Suffix: "pm", "a.m.", "uhr", "h", "oclock".
	k := skipSpace(s, j)
	suffixed := false
	for _, mer := range meridiems {
		if strings.HasPrefix(s[k:], mer.text) && wordEnds(s, k+len(mer.text)) {
			if hour < 1 || hour > 12 {
				return clue{}, 0, false
			}
			c.hour = hour % 12
			if mer.pm {
				c.hour += 12
			}
			c.anyHalf = false
			j, found, suffixed = k+len(mer.text), true, true
			break
		}
	}
	if !suffixed {
		for _, suf := range clockSuffixes {
			// "h" and "u" only when attached ("14h", not "14 h").
			if (len(suf) > 1 || k == j) && strings.HasPrefix(s[k:], suf) && wordEnds(s, k+len(suf)) {
				if suf != "oclock" {
					c.anyHalf = false
				}
				j, found = k+len(suf), true
				break
			}
		}
	}
	if !found || !wordEnds(s, j) || c.hour > 23 || c.minute > 59 {
		return clue{}, 0, false
	}
	return c, j - i, true
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func skipSpace(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// wordEnds reports whether position i in s is not inside a word: the end,
// or anything but a letter or digit.
func wordEnds(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}
