package render

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// dayClaim is what a template's fixed words say about the appointment's
// day, relative to the day the message goes out.
type dayClaim int

const (
	claimToday dayClaim = iota
	claimTomorrow
)

func (c dayClaim) days() int {
	if c == claimTomorrow {
		return 1
	}
	return 0
}

// dayPhrase is one way of saying "today" or "tomorrow" in a shipped
// language, as folded words (lower case, no accents, no apostrophes).
type dayPhrase struct {
	words []string
	claim dayClaim
	// notAfter lists the words (or, with a space, word pairs) that, just
	// before the phrase, give it another meaning: "la mañana" is "the
	// morning", "Guten Morgen" is "good morning", "après-demain" is "the
	// day after tomorrow".
	notAfter []string
}

// dayPhrases lists the phrases DayContradiction looks for. Longer phrases
// come first so that "esta mañana" (this morning) is read before "mañana"
// (tomorrow) could be.
var dayPhrases = buildDayPhrases()

func buildDayPhrases() []dayPhrase {
	today := []string{
		// English
		"today", "todays", "tonight", "this morning", "this afternoon", "this evening",
		// French
		"aujourdhui", "ce soir", "ce matin", "cet apres midi",
		// Spanish
		"hoy", "esta tarde", "esta noche", "esta manana",
		// German ("heute Abend" and "heute Morgen" start with it)
		"heute",
		// Dutch
		"vandaag", "vanavond", "vanmiddag", "vanochtend", "vanmorgen", "vannacht",
		// Portuguese ("esta tarde" is listed with Spanish)
		"hoje", "esta noite", "esta manha",
		// Italian
		"oggi", "stasera", "stamattina", "stamani", "stanotte", "questa sera", "questa mattina", "questo pomeriggio",
	}
	// "morgen" is tomorrow in German and Dutch, and "morning" after an
	// article or a greeting; "mañana" is tomorrow in Spanish, and
	// "morning" after an article or a demonstrative. "Après-demain",
	// "pasado mañana", "depois de amanhã" and "dopo domani" are the day
	// after tomorrow.
	morgenNot := []string{
		"guten", "am", "den", "dem", "der", "des", "einen", "jeden", "diesen", "ganzen", "heute", "gestern",
		"goede", "goeie", "de", "deze", "die", "elke", "iedere", "hele",
	}
	mananaNot := []string{"la", "una", "esta", "esa", "aquella", "cada", "media", "pasado"}
	tomorrow := []dayPhrase{
		{words: []string{"demain"}, notAfter: []string{"apres"}},
		{words: []string{"manana"}, notAfter: mananaNot},
		{words: []string{"morgen"}, notAfter: morgenNot},
		{words: []string{"amanha"}, notAfter: []string{"depois de"}},
		{words: []string{"domani"}, notAfter: []string{"dopo"}},
	}
	for _, w := range []string{
		"tomorrow", "tomorrows", // English
		"morgige", "morgigen", "morgiger", "morgiges", // German
		"morgenochtend", "morgenmiddag", "morgenavond", "morgenvroeg", // Dutch
		"domattina", // Italian
	} {
		tomorrow = append(tomorrow, dayPhrase{words: []string{w}})
	}
	var out []dayPhrase
	for _, p := range today {
		out = append(out, dayPhrase{words: strings.Fields(p), claim: claimToday})
	}
	for _, p := range tomorrow {
		p.claim = claimTomorrow
		out = append(out, p)
	}
	// Longest first, so a longer phrase wins where two start at one word.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j].words) > len(out[j-1].words); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// word is one word of a template's fixed text: folded for matching, and
// where it stands in the template, to quote it as written.
type word struct {
	folded     string
	start, end int // byte offsets in the template
}

// placeholderWord stands in the word list for a placeholder's value: it
// matches no phrase and no exception.
const placeholderWord = "{}"

// templateWords splits tmpl into words, placeholders included as
// placeholderWord, or returns nil when tmpl does not parse.
func templateWords(tmpl string) []word {
	segs, err := parse(tmpl)
	if err != nil {
		return nil
	}
	var words []word
	at := 0 // byte offset of the current segment
	for _, s := range segs {
		if s.placeholder != "" {
			words = append(words, word{folded: placeholderWord, start: at, end: at + len(s.placeholder) + 2})
			at += len(s.placeholder) + 2
			continue
		}
		words = appendWords(words, s.text, at)
		at += len(s.text)
	}
	return words
}

// appendWords adds the words of text, which starts at byte offset base.
// Letters, digits and combining marks make words; an apostrophe inside a
// word is dropped ("aujourd'hui" is "aujourdhui"); anything else separates
// words ("après-demain" is two).
func appendWords(words []word, text string, base int) []word {
	start := -1
	flush := func(end int) {
		if start >= 0 {
			words = append(words, word{folded: fold(text[start:end]), start: base + start, end: base + end})
			start = -1
		}
	}
	for i, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
		case isApostrophe(r) && start >= 0:
			// stays inside the word
		default:
			flush(i)
		}
	}
	flush(len(text))
	return words
}

func isApostrophe(r rune) bool {
	return r == '\'' || r == '’' || r == 'ʼ' || r == '‘' || r == '`'
}

// fold lowers s and drops its accents and apostrophes: "Mañana" is
// "manana", "aujourd’hui" is "aujourdhui".
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) || isApostrophe(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// matchAt reports whether p stands at words[i].
func (p dayPhrase) matchAt(words []word, i int) bool {
	if i+len(p.words) > len(words) {
		return false
	}
	for k, w := range p.words {
		if words[i+k].folded != w {
			return false
		}
	}
	for _, not := range p.notAfter {
		before := strings.Fields(not)
		if i < len(before) {
			continue
		}
		same := true
		for k, w := range before {
			if words[i-len(before)+k].folded != w {
				same = false
				break
			}
		}
		if same {
			return false
		}
	}
	return true
}

// DayContradiction reports when the fixed words of tmpl name a day, "today"
// or "tomorrow" in any shipped language ("today", "tonight", "this
// morning", "tomorrow"; "aujourd'hui", "ce soir", "demain"; "hoy", "esta
// tarde", "mañana"; "heute", "morgen"; "vandaag", "vanavond", "morgen";
// "hoje", "amanhã"; "oggi", "stasera", "domani"), case-, accent- and
// apostrophe-insensitively and on word boundaries, while d.SendAt and
// d.StartsAt (read in d.Location's zone) fall on days for which that word
// is false. It returns a warning for staff, in English, quoting the words
// as written, or "" when nothing contradicts, when either time is zero or
// when tmpl does not parse (Validate says why).
//
// Words that only look like a day are not counted: "por la mañana" and
// "Guten Morgen" are "morning", "après-demain" and "pasado mañana" are the
// day after tomorrow. Values are not read: {day} is always right.
func DayContradiction(tmpl string, d Data) string {
	if d.SendAt.IsZero() || d.StartsAt.IsZero() {
		return ""
	}
	words := templateWords(tmpl)
	days := CalendarDays(d.SendAt, d.StartsAt, d.Location)
	for i := range words {
		for _, p := range dayPhrases {
			if !p.matchAt(words, i) {
				continue
			}
			if p.claim.days() == days {
				break // true here; a shorter phrase at i must not be read
			}
			said := tmpl[words[i].start:words[i+len(p.words)-1].end]
			return fmt.Sprintf("the text says %q, but it goes out %s at %s, %s (%s at %s); use {day}, which always names the right day",
				said, formatOn(d.SendAt, d.Location, "en"), FormatTime(d.SendAt, d.Location, "en"),
				relation(days), formatOn(d.StartsAt, d.Location, "en"), FormatTime(d.StartsAt, d.Location, "en"))
		}
	}
	return ""
}

// relation says how the send's day stands to the appointment's day.
func relation(days int) string {
	switch {
	case days == 0:
		return "the day of the appointment"
	case days == 1:
		return "the day before the appointment"
	case days > 1:
		return fmt.Sprintf("%d days before the appointment", days)
	case days == -1:
		return "the day after the appointment"
	}
	return fmt.Sprintf("%d days after the appointment", -days)
}
