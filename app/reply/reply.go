// Package reply reads a patient's SMS reply: Parse turns the text into a
// Reply (confirm, cancel, reschedule, opt out, opt in, help, or unknown,
// with any appointment number the patient attached), Resolve decides what
// that reply does given how many appointments await an answer from the
// number, and ParsePick reads the patient's choice among offered times.
//
// The parser is deliberately conservative: a text counts only when every
// word in it is understood (an intent word, a number, a greeting or a polite
// word). Anything else, questions and mixed answers included, is Unknown and
// belongs in the staff inbox. The one exception is a request for another
// time, which is also recognised in free text ("no, can we move it to
// Friday?"): the request is what the staff need to see, and it still lands
// in their inbox, labelled. The package is pure: no I/O, no state, safe for
// concurrent use.
package reply

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Intent is what a reply asks for.
type Intent int

// The intents a reply can carry.
const (
	// Unknown means the text needs a human.
	Unknown Intent = iota
	// Confirm means the patient will come.
	Confirm
	// Cancel means the patient will not come.
	Cancel
	// OptOut means the patient wants no more messages (STOP).
	OptOut
	// OptIn means the patient wants messages again (START).
	OptIn
	// Help means the patient asks for the help text.
	Help
	// Reschedule means the patient wants another time ("can we move it?").
	Reschedule
)

var intentNames = [...]string{
	Unknown:    "unknown",
	Confirm:    "confirm",
	Cancel:     "cancel",
	OptOut:     "opt_out",
	OptIn:      "opt_in",
	Help:       "help",
	Reschedule: "reschedule",
}

// String returns the intent's stable name: "unknown", "confirm", "cancel",
// "opt_out", "opt_in", "help" or "reschedule" (and "Intent(n)" for values
// outside the set).
func (i Intent) String() string {
	if i >= 0 && int(i) < len(intentNames) {
		return intentNames[i]
	}
	return fmt.Sprintf("Intent(%d)", int(i))
}

// ParseIntent is the inverse of Intent.String, for reading a stored intent
// (such as the pending one Resolve takes) back.
func ParseIntent(name string) (Intent, error) {
	for i, n := range intentNames {
		if n == name {
			return Intent(i), nil
		}
	}
	return Unknown, fmt.Errorf("reply: parse intent: unknown name %q", name)
}

// Reply is what a text says.
type Reply struct {
	// Intent is Confirm, Cancel, Reschedule, OptOut, OptIn, Help or
	// Unknown.
	Intent Intent
	// Choice is a number the patient attached to pick one of several
	// appointments ("1 YES", "YES 2", "2 no", "reschedule 2"), 0 if none.
	// It is set only for Confirm, Cancel and Reschedule replies and for bare
	// numbers.
	Choice int
	// Bare reports that the whole text was just a number ("1", "2", "#2",
	// "2.", "1️⃣"), possibly with greetings or polite words around it.
	// Choice holds the number; Intent is Confirm for 1, Cancel for 2 and
	// Unknown otherwise, and Resolve decides what the number really means.
	Bare bool
}

// item is one understood piece of a normalised text.
type item struct {
	entry
	number int // the choice number when entry.kind == kindNumber
}

// Parse reads an SMS reply. It never fails: whatever it does not clearly
// understand is Unknown.
func Parse(text string) Reply {
	normalized := Normalize(text)
	if normalized == "" {
		return Reply{}
	}
	words := strings.Split(normalized, " ")
	if len(words) > maxSpotWords {
		return Reply{}
	}
	if len(words) > maxWords {
		return spotted(words)
	}
	items, ok := segment(words)
	if !ok {
		return spotted(words)
	}

	var (
		number      int
		numberCount int
		numberAt    int // position of the number among the meaningful items
		meaningful  int
		strongStop  bool
		weakStop    bool
		intent      Intent
		mixed       bool
		reschedule  bool // kept apart: it outweighs a yes or no beside it
	)
	for _, it := range items {
		switch it.kind {
		case kindNeutral, kindConnector:
			continue
		case kindNumber:
			number = it.number
			numberCount++
			numberAt = meaningful
		case kindStrongStop:
			strongStop = true
		case kindWeakStop:
			weakStop = true
		}
		switch {
		case it.intent == Reschedule:
			reschedule = true
		case it.kind != kindNumber:
			if intent != Unknown && intent != it.intent {
				mixed = true
			}
			intent = it.intent
		}
		meaningful++
	}

	switch {
	case strongStop:
		// A STOP keyword among words that are all understood is honoured
		// whatever else the text says: a missed opt-out is worse than a
		// missed confirmation, and START undoes it.
		return Reply{Intent: OptOut}
	case utf8.RuneCountInString(normalized) > maxNormalizedLen:
		return spotted(words)
	case mixed, numberCount > 1:
		return Reply{}
	case numberCount == 1 && numberAt != 0 && numberAt != meaningful-1:
		// "yes 2 ok": the number sits between the words, not beside them.
		return Reply{}
	case reschedule:
		// "no, another day", "yes, another time": the request says what to
		// do. Beside HELP, START, END or QUIT a person reads it.
		if weakStop || (intent != Unknown && intent != Confirm && intent != Cancel) {
			return Reply{}
		}
		return Reply{Intent: Reschedule, Choice: number}
	case intent == Unknown && numberCount == 1:
		r := Reply{Choice: number, Bare: true}
		switch number {
		case 1:
			r.Intent = Confirm
		case 2:
			r.Intent = Cancel
		}
		return r
	case intent == Confirm, intent == Cancel:
		return Reply{Intent: intent, Choice: number}
	case numberCount == 1:
		// "help 2", "start 1", "end 2": not a keyword on its own.
		return Reply{}
	case weakStop:
		return Reply{Intent: OptOut}
	default:
		return Reply{Intent: intent}
	}
}

// spotted is the reply to a text understood only in part: Reschedule if it
// asks for another time, Unknown otherwise.
func spotted(words []string) Reply {
	if spotReschedule(words) {
		return Reply{Intent: Reschedule}
	}
	return Reply{}
}

// segment splits the words of a normalised text into lexicon phrases
// (longest first), choice numbers and unknown-but-harmless emoji. It reports
// false when some word is not understood.
func segment(words []string) ([]item, bool) {
	items := make([]item, 0, len(words))
	for i := 0; i < len(words); {
		if n, ok := choiceNumber(words[i]); ok {
			items = append(items, item{entry: entry{kind: kindNumber}, number: n})
			i++
			continue
		}
		e, size, ok := longestPhrase(words[i:])
		if !ok {
			e, ok = stretched(words[i])
			size = 1
		}
		switch {
		case ok && e.kind == kindConnector:
			// Only meaningful just before a number ("yes for 2").
			if i+1 >= len(words) {
				return nil, false
			}
			if _, isNumber := choiceNumber(words[i+1]); !isNumber {
				return nil, false
			}
		case ok:
		case isSymbolWord(words[i]):
			// An emoji with no meaning of its own (🙂, 🙏, ❤): neutral.
			e = entry{kind: kindNeutral}
		default:
			return nil, false
		}
		items = append(items, item{entry: e})
		i += size
	}
	return items, true
}

// longestPhrase finds the longest phrase of lexicon or rescheduleLexicon at
// the start of words.
func longestPhrase(words []string) (entry, int, bool) {
	for size := min(maxPhraseWords, len(words)); size > 0; size-- {
		phrase := strings.Join(words[:size], " ")
		if e, ok := lexicon[phrase]; ok {
			return e, size, true
		}
		if e, ok := rescheduleLexicon[phrase]; ok {
			return e, size, true
		}
	}
	return entry{}, 0, false
}

// stretched looks up a word typed with repeated letters ("yesss", "noooo",
// "neeee", "okkk") by squeezing each run to two letters, then to one.
func stretched(word string) (entry, bool) {
	for _, keep := range []int{2, 1} {
		squeezed, changed := squeeze(word, keep)
		if !changed {
			continue
		}
		if e, ok := lexicon[squeezed]; ok && e.kind != kindConnector {
			return e, true
		}
	}
	return entry{}, false
}

// squeeze shortens every run of one repeated ASCII letter in word to keep
// letters. It reports whether anything changed; words with other runes are
// left alone.
func squeeze(word string, keep int) (string, bool) {
	var b strings.Builder
	run := 0
	var prev byte
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c < 'a' || c > 'z' {
			return word, false
		}
		if c == prev {
			run++
		} else {
			run = 1
			prev = c
		}
		if run <= keep {
			b.WriteByte(c)
		}
	}
	return b.String(), b.Len() != len(word)
}

// choiceNumber reads a word as a pick from a numbered list: one or two ASCII
// digits with a value from 1 to maxChoice.
func choiceNumber(word string) (int, bool) {
	if len(word) == 0 || len(word) > 2 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n >= 1 && n <= maxChoice
}

// isSymbolWord reports whether a normalised word is a single symbol (an
// emoji); Normalize puts each symbol in a word of its own.
func isSymbolWord(word string) bool {
	r, size := utf8.DecodeRuneInString(word)
	return size == len(word) && r != utf8.RuneError && unicode.Is(unicode.So, r)
}

// Resolve decides what a reply does given how many appointments await an
// answer from this number (candidates, 0 or more) and the intent of an
// earlier YES, NO or request for another time that made the app ask the
// numbered question (pending, Unknown if none). It returns the intent to apply, the 1-based
// candidate index it applies to (0 when it applies to no specific
// appointment), and whether the app must ask the numbered question (then
// intent is what to remember as pending).
//
// The candidates must be counted and ordered as in the numbered question
// the app sent, if it sent one.
//
//   - OptOut, OptIn and Help are never tied to an appointment.
//   - No candidates: the intent as parsed, index 0 (the caller sends
//     Confirm, Cancel, Reschedule and Unknown to the inbox).
//   - A bare number answering the numbered question (pending is Confirm,
//     Cancel or Reschedule) applies the pending intent to that candidate;
//     out of range it is Unknown.
//   - One candidate, no question pending: Confirm, Cancel or Reschedule,
//     with no number or number 1, apply to it; bare 1 confirms it and bare
//     2 cancels it; any other number is Unknown (it names an appointment
//     that does not exist).
//   - Several candidates: Confirm, Cancel or Reschedule with a number in
//     range apply to that candidate; without a number the app must ask; a
//     bare number with no question pending is Unknown (a human decides).
//
// A bare number answering an offer of new times is not a Resolve matter:
// see ParsePick.
func Resolve(r Reply, candidates int, pending Intent) (intent Intent, index int, ask bool) {
	switch r.Intent {
	case OptOut, OptIn, Help:
		return r.Intent, 0, false
	}
	if candidates <= 0 {
		return r.Intent, 0, false
	}
	inRange := r.Choice >= 1 && r.Choice <= candidates
	if r.Bare {
		if pending == Confirm || pending == Cancel || pending == Reschedule {
			if inRange {
				return pending, r.Choice, false
			}
			return Unknown, 0, false
		}
		if candidates == 1 && (r.Choice == 1 || r.Choice == 2) {
			return r.Intent, 1, false
		}
		return Unknown, 0, false
	}
	if r.Intent != Confirm && r.Intent != Cancel && r.Intent != Reschedule {
		return Unknown, 0, false
	}
	switch {
	case r.Choice == 0 && candidates == 1:
		return r.Intent, 1, false
	case r.Choice == 0:
		return r.Intent, 0, true
	case inRange:
		return r.Intent, r.Choice, false
	default:
		return Unknown, 0, false
	}
}
