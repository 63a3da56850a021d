// Package render checks and fills SMS templates: our single-brace
// placeholders ({first_name}, {date}, ...) are replaced from the appointment,
// formatted in the location's zone and the patient's language ({day} says
// "today", "tomorrow" or the weekday and date, seen from the moment the
// message goes out, and DayContradiction flags fixed words that would say
// the wrong day); SMS.CX's own
// double-brace placeholders ({{optoutLink}}, {{shortlink:ID}},
// {{attachement:ID}}) pass through untouched for SMS.CX to fill. It is pure.
//
// Braces have no other use: a template is refused when it holds an unknown
// placeholder, another double-brace name, or a lone "{" or "}". There is,
// on purpose, no placeholder for an appointment's notes or reason: an SMS
// carries no more than the first name, the time and the place.
package render

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"apptconfirm/app/smstext"
)

// Data is what a template can show about one appointment.
type Data struct {
	FirstName, LastName string
	// StartsAt is the appointment's start; it is shown in Location's zone
	// (nil means UTC).
	StartsAt time.Time
	Location *time.Location
	// Language is the patient's language: "en", "fr", "es", "de", "nl",
	// "pt" or "it" (a region such as "pt-BR" is ignored); anything else
	// means "en".
	Language string

	// SendAt is when the message goes out. {day} compares it with StartsAt
	// to say "today" or "tomorrow"; the zero value means unknown, and {day}
	// then names the weekday and date.
	SendAt time.Time

	LocationName, LocationAddress, Provider, ClinicPhone string
	// ClinicName fills {clinic}, the name a patient knows the sender by
	// (HELP and STOP answers must carry it); when empty, {clinic} shows
	// LocationName instead.
	ClinicName string

	// AppointmentID is the appointment described, for the writer of the
	// message to make its {link}; Link is that link (the patient page),
	// empty when there is none.
	AppointmentID uint
	Link          string

	// Choices fills {choices}, the numbered list of the disambiguation
	// question ("1 for Tue 10:00, 2 for Thu 14:30"); only ValidateQuestion
	// allows that placeholder.
	Choices string
}

// ChoicesPlaceholder is the name of the question-only placeholder {choices}.
const ChoicesPlaceholder = "choices"

// The placeholder names, in the order Placeholders lists them.
var placeholderNames = []string{
	"first_name", "last_name", "date", "time", "weekday", "day",
	"location", "location_address", "provider", "clinic", "clinic_phone", "link",
}

// Placeholders returns the names allowed inside single braces, for the
// template editor's help ("first_name" is written {first_name}).
func Placeholders() []string {
	return append([]string(nil), placeholderNames...)
}

// values returns the text each placeholder stands for.
func (d Data) values() map[string]string {
	return map[string]string{
		ChoicesPlaceholder: d.Choices,
		"first_name":       strings.TrimSpace(d.FirstName),
		"last_name":        strings.TrimSpace(d.LastName),
		"date":             FormatDate(d.StartsAt, d.Location, d.Language),
		"time":             FormatTime(d.StartsAt, d.Location, d.Language),
		"weekday":          FormatWeekday(d.StartsAt, d.Location, d.Language),
		"day":              FormatDay(d.SendAt, d.StartsAt, d.Location, d.Language),
		"location":         strings.TrimSpace(d.LocationName),
		"location_address": strings.TrimSpace(d.LocationAddress),
		"provider":         strings.TrimSpace(d.Provider),
		"clinic":           d.clinicName(),
		"clinic_phone":     strings.TrimSpace(d.ClinicPhone),
		"link":             strings.TrimSpace(d.Link),
	}
}

// clinicName is what {clinic} shows.
func (d Data) clinicName() string {
	if name := strings.TrimSpace(d.ClinicName); name != "" {
		return name
	}
	return strings.TrimSpace(d.LocationName)
}

// The kinds of template error; an *Error wraps one of them, so callers can
// test with errors.Is.
var (
	ErrUnknownPlaceholder = errors.New("render: unknown placeholder")
	ErrUnsupportedSMSCX   = errors.New("render: unsupported SMS.CX placeholder")
	ErrUnclosedBrace      = errors.New("render: unclosed brace")
	ErrStrayBrace         = errors.New("render: closing brace without an opening one")
)

// Error says what is wrong with a template and where.
type Error struct {
	// Err is one of the Err* kinds above.
	Err error
	// Token is the offending text as written: "{frist_name}", "{{today}}",
	// "{" or "}".
	Token string
	// Pos is the 1-based character (not byte) position where Token starts.
	Pos int
	// Hint is an optional suggestion, such as "did you mean {first_name}?".
	Hint string
}

// Error reads like "render: unknown placeholder {frist_name} at character 7
// (did you mean {first_name}?)".
func (e *Error) Error() string {
	msg := fmt.Sprintf("%v %s at character %d", e.Err, e.Token, e.Pos)
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// Unwrap returns the kind of error.
func (e *Error) Unwrap() error { return e.Err }

// segment is a piece of a parsed template: literal text (which includes
// SMS.CX placeholders) or one of our placeholders.
type segment struct {
	text        string // literal text, when placeholder is ""
	placeholder string
}

// maxTokenShown keeps error messages short when a stray "{" swallows a
// long stretch of text.
const maxTokenShown = 40

// parse splits tmpl into segments, or reports the first problem.
func parse(tmpl string) ([]segment, error) {
	var segs []segment
	lit := 0 // start of the pending literal text
	fail := func(kind error, at, end int, hint string) ([]segment, error) {
		return nil, &Error{Err: kind, Token: shorten(tmpl[at:end]), Pos: utf8.RuneCountInString(tmpl[:at]) + 1, Hint: hint}
	}
	for i := 0; i < len(tmpl); {
		switch tmpl[i] {
		case '}':
			return fail(ErrStrayBrace, i, i+1, "braces are only for placeholders such as {first_name}")
		case '{':
			if strings.HasPrefix(tmpl[i:], "{{") {
				n := strings.Index(tmpl[i+2:], "}}")
				if n < 0 {
					return fail(ErrUnclosedBrace, i, i+2, "an SMS.CX placeholder ends with }}")
				}
				end := i + 2 + n + 2
				if inner := tmpl[i+2 : end-2]; !smscxPlaceholder(inner) {
					return fail(ErrUnsupportedSMSCX, i, end, smscxHint(inner))
				}
				i = end // stays in the literal text
				continue
			}
			n := strings.IndexAny(tmpl[i+1:], "{}")
			if n < 0 || tmpl[i+1+n] == '{' {
				return fail(ErrUnclosedBrace, i, i+1, "braces are only for placeholders such as {first_name}")
			}
			end := i + 1 + n + 1
			name := tmpl[i+1 : end-1]
			if !isPlaceholder(name) {
				return fail(ErrUnknownPlaceholder, i, end, suggest(name))
			}
			if lit < i {
				segs = append(segs, segment{text: tmpl[lit:i]})
			}
			segs = append(segs, segment{placeholder: name})
			i, lit = end, end
			continue
		}
		i++
	}
	if lit < len(tmpl) {
		segs = append(segs, segment{text: tmpl[lit:]})
	}
	return segs, nil
}

// shorten trims a token for an error message, and quotes it when it holds
// characters that would not read well there (such as a line break).
func shorten(s string) string {
	if utf8.RuneCountInString(s) > maxTokenShown {
		s = string([]rune(s)[:maxTokenShown-1]) + "…"
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func isPlaceholder(name string) bool {
	if name == ChoicesPlaceholder {
		return true // parse accepts it; Validate refuses it outside the question
	}
	for _, p := range placeholderNames {
		if name == p {
			return true
		}
	}
	return false
}

// smscxPlaceholder reports whether inner (the text between "{{" and "}}")
// is one SMS.CX fills for us: optoutLink, or shortlink/attachement (SMS.CX's
// spelling) or attachment followed by ":" and an id of letters, digits, "-"
// or "_".
func smscxPlaceholder(inner string) bool {
	if inner == "optoutLink" {
		return true
	}
	kind, id, ok := strings.Cut(inner, ":")
	if !ok || id == "" || len(id) > 64 {
		return false
	}
	switch kind {
	case "shortlink", "attachement", "attachment":
	default:
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idByte(id[i]) {
			return false
		}
	}
	return true
}

// idByte reports whether c may appear in an SMS.CX link id.
func idByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// smscxHint helps with a refused double-brace placeholder.
func smscxHint(inner string) string {
	switch {
	case strings.EqualFold(inner, "optoutLink"):
		return "did you mean {{optoutLink}}?"
	case isPlaceholder(strings.TrimSpace(inner)):
		return "our own placeholders take single braces: {" + strings.TrimSpace(inner) + "}"
	}
	return "allowed: {{optoutLink}}, {{shortlink:ID}}, {{attachement:ID}}"
}

// suggest proposes the placeholder an unknown name was probably meant to be.
func suggest(name string) string {
	squash := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(s)
	}
	best, bestDist := "", 3 // suggest only within two edits
	for _, p := range placeholderNames {
		if squash(name) == squash(p) {
			return "did you mean {" + p + "}?"
		}
		if d := editDistance(strings.ToLower(name), p); d < bestDist {
			best, bestDist = p, d
		}
	}
	if best != "" {
		return "did you mean {" + best + "}?"
	}
	return "allowed: {" + strings.Join(placeholderNames, "}, {") + "}"
}

// editDistance is the Levenshtein distance between a and b, in bytes; it
// gives up (returning a large value) for long inputs.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Validate checks a template as the editor saves it. The error, an *Error,
// names the offending placeholder or brace and its position.
func Validate(tmpl string) error {
	segs, err := parse(tmpl)
	if err != nil {
		return err
	}
	token := "{" + ChoicesPlaceholder + "}"
	for _, sg := range segs {
		if sg.placeholder == ChoicesPlaceholder {
			pos := max(0, strings.Index(tmpl, token))
			return &Error{
				Err: ErrUnknownPlaceholder, Token: token, Pos: 1 + utf8.RuneCountInString(tmpl[:pos]),
				Hint: "{choices} is only for the numbered question",
			}
		}
	}
	return nil
}

// ValidateQuestion checks the numbered question's template, which must hold
// {choices} and may use every other placeholder.
func ValidateQuestion(tmpl string) error {
	segs, err := parse(tmpl)
	if err != nil {
		return err
	}
	for _, sg := range segs {
		if sg.placeholder == ChoicesPlaceholder {
			return nil
		}
	}
	return &Error{Err: ErrUnknownPlaceholder, Token: "{" + ChoicesPlaceholder + "}", Pos: 1, Hint: "the question must list the choices with {choices}"}
}

// Render fills tmpl's placeholders from d. It fails only when Validate
// fails. Values are inserted as text and never read as placeholders, so a
// patient named "{time}" is greeted as "{time}". So that no value can form
// an SMS.CX placeholder either, a brace that comes from a value and touches
// another brace in the result is written as a parenthesis: a name of
// "{{optoutLink}}" renders as "((optoutLink))".
func Render(tmpl string, d Data) (string, error) {
	segs, err := parse(tmpl)
	if err != nil {
		return "", err
	}
	values := d.values()
	var out []byte
	var fromValue []bool // per byte of out: whether it came from a value
	for _, s := range segs {
		text, isValue := s.text, false
		if s.placeholder != "" {
			text, isValue = values[s.placeholder], true
		}
		out = append(out, text...)
		for range len(text) {
			fromValue = append(fromValue, isValue)
		}
	}
	// Decide on the original bytes, then replace, so that "{{" from a value
	// turns into "((" rather than "({".
	var swap []int
	for i, c := range out {
		if !fromValue[i] || (c != '{' && c != '}') {
			continue
		}
		if (i > 0 && isBrace(out[i-1])) || (i+1 < len(out) && isBrace(out[i+1])) {
			swap = append(swap, i)
		}
	}
	for _, i := range swap {
		if out[i] == '{' {
			out[i] = '('
		} else {
			out[i] = ')'
		}
	}
	return string(out), nil
}

func isBrace(c byte) bool { return c == '{' || c == '}' }

// Preview is what the template editor shows: the rendered text and how it
// will be billed.
type Preview struct {
	Text string
	// Length is in GSM-7 characters (extension characters such as "€"
	// count two) or, when Unicode, in UTF-16 units, as carriers count.
	Length  int
	Unicode bool
	Parts   int
	// Warning is non-empty when the text needs more than one part, and
	// says by how much it is over one part.
	Warning string
}

// PreviewText renders tmpl with d (sample data, in the editor) and measures
// the result. SMS.CX placeholders are counted as written; SMS.CX replaces
// them with links of its own (a short link looks like
// "https://en.ax/bVc/r2N"), so the sent text may be a little longer.
func PreviewText(tmpl string, d Data) (Preview, error) {
	text, err := Render(tmpl, d)
	if err != nil {
		return Preview{}, err
	}
	a := smstext.Analyze(text)
	p := Preview{Text: text, Length: a.Length, Unicode: a.Unicode, Parts: a.Parts}
	if a.Parts > 1 {
		p.Warning = overWarning(text, a)
	}
	return p, nil
}

// overWarning explains a multi-part text, for example "182 characters, 22
// over the 160 of one SMS part: it will be sent as 2 parts."
func overWarning(text string, a smstext.Analysis) string {
	limit, why := smstext.GSMSingle, ""
	if a.Unicode {
		limit = smstext.UnicodeSingle
		for _, r := range text {
			if !smstext.IsGSM(string(r)) {
				why = fmt.Sprintf(" (Unicode because of %q)", string(r))
				break
			}
		}
	}
	return fmt.Sprintf("%d characters%s, %d over the %d of one SMS part: it will be sent as %d parts.",
		a.Length, why, a.Length-limit, limit, a.Parts)
}
