package csvimport

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Status is what the file says about an appointment.
type Status string

// The statuses a file may set. The zero Status means the file gave none.
const (
	StatusScheduled Status = "scheduled"
	StatusConfirmed Status = "confirmed"
	StatusCancelled Status = "cancelled"
)

// statusWords maps the words other systems use (folded: lower case, no
// accents) to a status.
var statusWords = map[string]Status{
	"scheduled": StatusScheduled, "booked": StatusScheduled, "pending": StatusScheduled,
	"unconfirmed": StatusScheduled, "not confirmed": StatusScheduled, "tentative": StatusScheduled,
	"new": StatusScheduled, "open": StatusScheduled, "planned": StatusScheduled,
	"rescheduled": StatusScheduled, "active": StatusScheduled,
	"prevu": StatusScheduled, "planifie": StatusScheduled, "programado": StatusScheduled,
	"programada": StatusScheduled, "agendado": StatusScheduled, "agendada": StatusScheduled,
	"geplant": StatusScheduled, "gepland": StatusScheduled, "programmato": StatusScheduled,

	"confirmed": StatusConfirmed, "confirm": StatusConfirmed,
	"confirme": StatusConfirmed, "confirmee": StatusConfirmed, "confirmado": StatusConfirmed,
	"confirmada": StatusConfirmed, "bestatigt": StatusConfirmed, "bestaetigt": StatusConfirmed,
	"bevestigd": StatusConfirmed, "confermato": StatusConfirmed, "confermata": StatusConfirmed,

	"cancelled": StatusCancelled, "canceled": StatusCancelled, "cancel": StatusCancelled,
	"annule": StatusCancelled, "annulee": StatusCancelled, "cancelado": StatusCancelled,
	"cancelada": StatusCancelled, "anulado": StatusCancelled, "anulada": StatusCancelled,
	"storniert": StatusCancelled, "abgesagt": StatusCancelled, "geannuleerd": StatusCancelled,
	"afgezegd": StatusCancelled, "annullato": StatusCancelled, "annullata": StatusCancelled,
	"cancellato": StatusCancelled, //nolint:misspell // Italian, not a typo
}

// ParseStatus reads a status: scheduled, confirmed or cancelled, or a
// word other systems use for one of them ("booked", "canceled",
// "Cancelled by patient", "annulé", "bestätigt"...).
func ParseStatus(s string) (Status, error) {
	var buf [24]byte
	if b, ok := lowerASCII(buf[:0], strings.TrimSpace(s)); ok {
		if st, ok := statusWords[string(b)]; ok {
			return st, nil
		}
	}
	f := fold(s)
	if st, ok := statusWords[f]; ok {
		return st, nil
	}
	// "Cancelled - patient", "Canceled by office": the first word decides.
	if first, _, ok := strings.Cut(f, " "); ok {
		if st, ok := statusWords[first]; ok && st == StatusCancelled {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown status %s: use scheduled, confirmed or cancelled", quoteShort(s))
}

// languages lists the languages a patient may get messages in.
var languages = []string{"en", "fr", "es", "de", "nl", "pt", "it"}

// languageNames maps language names (folded), in English and in the
// languages themselves, and ISO 639-2 codes, to our codes.
var languageNames = map[string]string{
	"english": "en", "eng": "en", "anglais": "en", "ingles": "en", "englisch": "en", "engels": "en", "inglese": "en",
	"french": "fr", "fra": "fr", "fre": "fr", "francais": "fr", "frances": "fr", "franzosisch": "fr",
	"frans": "fr", "francese": "fr",
	"spanish": "es", "spa": "es", "espanol": "es", "castellano": "es", "espagnol": "es", "spanisch": "es", //nolint:misspell // German
	"spaans": "es", "espanhol": "es", "spagnolo": "es",
	"german": "de", "deu": "de", "ger": "de", "deutsch": "de", "allemand": "de", "aleman": "de",
	"duits": "de", "alemao": "de", "tedesco": "de",
	"dutch": "nl", "nld": "nl", "dut": "nl", "nederlands": "nl", "neerlandais": "nl", "holandes": "nl",
	"niederlandisch": "nl", "flemish": "nl", "vlaams": "nl", "olandese": "nl",
	"portuguese": "pt", "por": "pt", "portugues": "pt", "portugais": "pt", "portugiesisch": "pt", //nolint:misspell // Portuguese
	"portugees": "pt", "portoghese": "pt",
	"italian": "it", "ita": "it", "italiano": "it", "italien": "it", "italienisch": "it", "italiaans": "it",
}

// ParseLanguage reads a language as one of en, fr, es, de, nl, pt, it: a
// code with or without a region ("pt-BR", "fr_CA", "EN"), a three-letter
// code ("eng") or a name ("Spanish", "Français", "English (US)").
func ParseLanguage(s string) (string, error) {
	var buf [24]byte
	if b, ok := lowerASCII(buf[:0], strings.TrimSpace(s)); ok && len(b) == 2 {
		for _, l := range languages {
			if string(b) == l {
				return l, nil
			}
		}
	}
	f := fold(s)
	if i := strings.IndexByte(f, '('); i > 0 {
		f = strings.TrimSpace(f[:i])
	}
	code, _, _ := strings.Cut(f, "-")
	code, _, _ = strings.Cut(code, "_")
	for _, l := range languages {
		if code == l {
			return l, nil
		}
	}
	if l, ok := languageNames[f]; ok {
		return l, nil
	}
	if l, ok := languageNames[code]; ok {
		return l, nil
	}
	return "", fmt.Errorf("unsupported language %s: use %s", quoteShort(s), strings.Join(languages, ", "))
}

// errNotDuration explains a duration that cannot be read.
var errNotDuration = errors.New("not a duration: give the minutes, as in 30")

// MaxDurationMinutes is the longest appointment, as the clinic allows.
const MaxDurationMinutes = 720

// ParseDuration reads a length in minutes: "30", "30 min", "30m", "45
// minutes", "1h", "1h30", "1:30" (hours and minutes), "30.0" (a number a
// spreadsheet wrote). It must be 1 to MaxDurationMinutes.
func ParseDuration(s string) (int, error) {
	if t := strings.TrimSpace(s); allDigits(t) && len(t) <= 5 {
		// The usual case, without allocating.
		minutes, _ := strconv.Atoi(t)
		return checkMinutes(minutes)
	}
	f := strings.ToLower(strings.TrimSpace(s))
	if strings.ContainsAny(f, " \t") {
		f = strings.Join(strings.Fields(f), "")
	}
	bad := errNotDuration
	if f == "" {
		return 0, errors.New("empty")
	}
	if len(f) > 20 {
		return 0, bad
	}
	var minutes int
	switch {
	case strings.Contains(f, ":"):
		h, m, _ := strings.Cut(f, ":")
		m = strings.TrimSuffix(m, ":00")
		if !allDigits(h) || len(m) != 2 || !allDigits(m) {
			return 0, bad
		}
		hi, _ := strconv.Atoi(h)
		mi, _ := strconv.Atoi(m)
		if mi > 59 || hi > 99 {
			return 0, bad
		}
		minutes = hi*60 + mi
	case strings.Contains(f, "h"):
		h, m, _ := strings.Cut(f, "h")
		m = trimAnySuffix(m, "minutes", "minute", "mins", "min", "m")
		if !allDigits(h) || (m != "" && !allDigits(m)) || len(h) > 2 || len(m) > 2 {
			return 0, bad
		}
		hi, _ := strconv.Atoi(h)
		mi := 0
		if m != "" {
			mi, _ = strconv.Atoi(m)
		}
		if mi > 59 {
			return 0, bad
		}
		minutes = hi*60 + mi
	default:
		f = trimAnySuffix(f, "minutes", "minute", "mins", "min", "m")
		if whole, frac, ok := strings.Cut(f, "."); ok && strings.Trim(frac, "0") == "" {
			f = whole
		}
		if !allDigits(f) || len(f) > 5 {
			return 0, bad
		}
		minutes, _ = strconv.Atoi(f)
	}
	return checkMinutes(minutes)
}

func checkMinutes(minutes int) (int, error) {
	if minutes < 1 || minutes > MaxDurationMinutes {
		return 0, fmt.Errorf("must be 1 to %d minutes", MaxDurationMinutes)
	}
	return minutes, nil
}

func trimAnySuffix(s string, suffixes ...string) string {
	for _, x := range suffixes {
		if rest, ok := strings.CutSuffix(s, x); ok {
			return rest
		}
	}
	return s
}

// nameTitles are dropped from the front of a full name.
var nameTitles = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "miss": true, "mx": true, "dr": true, "prof": true,
	"m": true, "mme": true, "mlle": true, "herr": true, "frau": true, "sr": true, "sra": true,
	"srta": true, "dhr": true, "mevr": true, "sig": true, "sigra": true,
}

// nameParticles belong to the last name that follows them: "Ludwig van
// Beethoven", "Maria de la Cruz".
var nameParticles = map[string]bool{
	"van": true, "von": true, "de": true, "da": true, "del": true, "della": true, "di": true,
	"du": true, "le": true, "la": true, "dos": true, "das": true, "der": true, "den": true,
	"ter": true, "ten": true, "bin": true, "al": true, "st": true, "y": true,
}

// nameSuffixes stay with the last name: "John Smith Jr." gives "Smith Jr.".
var nameSuffixes = map[string]bool{"jr": true, "sr": true, "ii": true, "iii": true, "iv": true}

// SplitName splits a full name into first and last names: "Last, First"
// (a comma means the last name comes first), "First Last", and "First
// Middle Last" (the middle names stay with the first). A leading title
// (Mr, Dr, Mme...) is dropped; particles (van, de la...) and suffixes
// (Jr, III) stay with the last name. One word is a first name alone.
func SplitName(full string) (first, last string) {
	full = strings.TrimSpace(full)
	if strings.Contains(full, "  ") || strings.ContainsAny(full, "\t\n\r\v\f\u00a0") {
		full = strings.Join(strings.Fields(full), " ")
	}
	if before, after, ok := strings.Cut(full, ","); ok {
		last, first = strings.TrimSpace(before), strings.TrimSpace(after)
		if first == "" || last == "" || isNameWord(nameSuffixes, first) {
			// "Smith," or ", John" or "Smith, Jr.": not a Last, First name.
			return SplitName(strings.ReplaceAll(full, ",", " "))
		}
		return stripTitle(first), last
	}
	full = stripTitle(full)
	if full == "" {
		return "", ""
	}
	// Cut before the last word, or before a suffix and the word before it,
	// then before any particles.
	cut := strings.LastIndexByte(full, ' ')
	if cut < 0 {
		return full, ""
	}
	if isNameWord(nameSuffixes, full[cut+1:]) {
		if i := strings.LastIndexByte(full[:cut], ' '); i >= 0 {
			cut = i
		}
	}
	for {
		i := strings.LastIndexByte(full[:cut], ' ')
		if i < 0 || !nameParticles[full[i+1:cut]] {
			break
		}
		cut = i
	}
	return full[:cut], full[cut+1:]
}

// stripTitle drops leading titles from words separated by single spaces,
// keeping at least one word.
func stripTitle(s string) string {
	for {
		word, rest, ok := strings.Cut(s, " ")
		if !ok || !isNameWord(nameTitles, word) {
			return s
		}
		s = rest
	}
}

// isNameWord reports whether w, in lower case and without a trailing dot
// ("Dr." gives "dr"), is in set.
func isNameWord(set map[string]bool, w string) bool {
	var buf [16]byte
	b, ok := lowerASCII(buf[:0], strings.TrimSuffix(w, "."))
	return ok && set[string(b)]
}

// lowerASCII appends s in lower case to dst, or reports false when s is
// not ASCII.
func lowerASCII(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return dst, false
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst, true
}

// checkText refuses text that has no place in a cell: control characters
// (tabs and line breaks are allowed only when multiline), the characters
// that reorder text on screen, and text longer than max characters.
func checkText(s string, maxChars int, multiline bool) string {
	if n := utf8.RuneCountInString(s); n > maxChars {
		return fmt.Sprintf("longer than %d characters", maxChars)
	}
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case r == '\n' || r == '\r':
			return "contains a line break"
		case unicode.IsControl(r):
			return "contains a control character"
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return "contains a character that reorders text"
		}
	}
	return ""
}

// fold lowers s, drops its accents and squeezes its spaces, for comparing
// words.
func fold(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
		if out, _, err := transform.String(t, s); err == nil {
			s = out
		}
		s = strings.ReplaceAll(s, "ß", "ss")
	}
	if strings.Contains(s, "  ") || strings.ContainsAny(s, "\t\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

// quoteShort quotes s for a message, cut to a readable length.
func quoteShort(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "…"
	}
	return strconv.Quote(s)
}
