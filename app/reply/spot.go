package reply

import "strings"

// maxSpotWords bounds the free text searched for a request for another
// time; longer texts go to a human.
const maxSpotWords = 80

// maxSpotPhrase is the length in words of the longest cue or guard.
const maxSpotPhrase = 5

// rescheduleCues ask for another time even among words the parser does not
// otherwise understand: "Can I reschedule?", "no, can we move it to
// Friday". They are phrases that rarely mean anything else; ambiguous single
// words ("move", "change", "mudar") count only inside a longer cue. Every
// key is in Normalize's form.
var rescheduleCues = []string{
	"reschedule", "rescheduling", "resched", "re schedule", "rebook", "re book", "postpone",
	"move it", "move my appointment", "move the appointment", "move appointment", "move my appt",
	"moving my appointment", "moving the appointment", "can we move", "could we move", "can i move",
	"could i move", "change the time", "change the date", "change the day", "change my appointment",
	"change the appointment", "change appointment", "change my time", "change it",
	"another day", "another time", "another date", "another slot", "different day",
	"different time", "different date", "later time", "earlier time", "later date", "later appointment",
	"earlier appointment", "push it back", "push back", "bring it forward", "move it forward",
	"anything earlier", "anything later", "something earlier", "something later", "cant make it",
	"cannot make it", "can not make it", "cant come", "cannot come",
	"je ne peux pas venir", "je ne pourrai pas venir", "no puedo ir", "no podre ir", "kann nicht kommen",
	"leider nicht kommen",
	"kan niet komen", "nao posso ir", "non posso venire", "non ce la faccio",
	"reporter", "deplacer", "decaler", "changer", "reprogrammer", "empeche", "empechee", "empechement",
	"autre jour", "autre date", "autre heure", "autre horaire", "autre creneau", "un autre moment",
	"cambiar", "cambiarla", "cambiarlo", "cambiamos", "cambio de cita", "reprogramar", "reprogramarla",
	"reagendar", "reagendarla", "aplazar", "aplazarla", "posponer", "posponerla", "mover la cita",
	"mover mi cita", "moverla", "otro dia", "otra hora", "otra fecha", "otro horario",
	"verschieben", "verlegen", "umbuchen", "anderer termin", "anderen termin", "neuen termin", "neuer termin",
	"anderen tag", "anderer tag", "andere zeit", "andere uhrzeit", "anderen zeitpunkt", "termin andern",
	"termin aendern",
	"verzetten", "verplaatsen", "omboeken", "andere dag", "ander tijdstip", "andere tijd", "andere datum",
	"afspraak wijzigen", "afspraak veranderen",
	"remarcar", "reagendar a consulta", "adiar", "mudar a consulta", "mudar o horario", "mudar a data",
	"mudar o dia", "mudar de dia", "mudar de horario", "mudar a hora", "trocar o horario", "trocar a data",
	"trocar de horario", "trocar o dia", "outro dia", "outra data", "outro horario", "outra hora",
	"spostare", "spostarlo", "spostarla", "spostiamo", "rimandare", "rimandarlo", "rimandiamo", "rinviare",
	"rinviarlo", "posticipare", "cambiare", "altro giorno", "unaltra ora", "altra ora", "altro orario",
	"unaltra data", "altra data",
	"anticipare", //nolint:misspell // Italian, "bring forward"
}

// weakCues ask for another time only beside a word that names one ("can we
// do Thursday instead", "could we make it 4pm"): alone they are too common
// ("can I pay by card instead?", "what can we do about parking?").
var weakCues = []string{
	"can we do", "could we do", "can we make it", "could we make it", "instead", "new time", "new date",
	"another appointment", "can we change", "could we change", "can i change", "what about", "how about",
	"possible", "plutot", "on peut faire", "en vez", "podemos hacer", "posible", "stattdessen", "geht auch",
	"geht es auch", "moglich", "moeglich", "mogelijk", "em vez", "podemos fazer", "possivel", "invece",
	"possiamo fare",
	"possibile", //nolint:misspell // Italian, "possible"
}

// whenWords name a time, for weakCues; weekday names (see pickLexicon) and
// clock times ("4pm", "14:30", "15h") count too.
var whenWords = map[string]bool{
	"today": true, "tomorrow": true, "tonight": true, "morning": true, "afternoon": true, "evening": true,
	"day": true, "days": true,
	"week": true, "month": true, "later": true, "earlier": true, "am": true, "pm": true,
	"demain": true, "matin": true, "midi": true, "soir": true, "semaine": true, "tard": true, "tot": true,
	"manana": true, "tarde": true, "semana": true,
	"morgen": true, "vormittag": true, "nachmittag": true, "abend": true, "woche": true, "spater": true,
	"spaeter": true, "fruher": true, "frueher": true, "uhr": true,
	"ochtend": true, "middag": true, "avond": true, "eerder": true, "uur": true,
	"amanha": true, "manha": true,
	"domani": true, "mattina": true, "pomeriggio": true, "sera": true, "settimana": true, "dopo": true,
}

// rescheduleGuards contain a cue but mean something else: "change of
// address", "what can we do". Where a guard starts, its words are skipped.
// keepPhrases ("no change", "non spostare") are guards too.
var rescheduleGuards = []string{
	"change of address", "change my address", "change my number", "change of number", "change it myself",
	"what can we do", "what could we do",
	"changer dadresse", "changer mon adresse", "changer de numero", "changer mon numero",
	"changer de telephone", "changer de medecin",
	"cambiar de direccion", "cambiar mi direccion", "cambiar de numero", "cambiar mi numero", "el otro dia",
	"ich bin verlegen", "bin etwas verlegen",
	"cambiare indirizzo", "cambiare numero", "cambiare medico",
}

// spotNegators cancel a cue right after them: "don't reschedule", "keinen
// anderen Termin". Words that also end a sentence do not, since Normalize
// drops the punctuation that would tell: "no, another day", "ich kann
// nicht, geht es auch am Freitag?" and "je ne peux pas, un autre jour ?"
// ask for another time ("nicht verschieben" and the like are keepPhrases).
var spotNegators = map[string]bool{
	"dont": true, "not": true, "never": true, "wont": true, "doesnt": true, "didnt": true,
	"kein": true, "keine": true, "keinen": true, "geen": true,
	"aucun": true, "aucune": true, "ningun": true, "ninguna": true, "nenhum": true, "nenhuma": true,
	"nessun": true, "nessuna": true,
}

// spotKind is what a phrase of spotLexicon does.
type spotKind uint8

const (
	spotGuard spotKind = iota
	spotCue
	spotWeakCue
)

// spotLexicon maps cues, weak cues, guards and keep phrases to their kind.
// Built once, never written afterwards.
var spotLexicon = buildSpotLexicon()

func buildSpotLexicon() map[string]spotKind {
	m := make(map[string]spotKind, len(rescheduleCues)+len(weakCues)+len(rescheduleGuards)+len(keepPhrases))
	for _, p := range keepPhrases {
		m[p] = spotGuard
	}
	for _, p := range rescheduleGuards {
		m[p] = spotGuard
	}
	for _, p := range weakCues {
		m[p] = spotWeakCue
	}
	for _, p := range rescheduleCues {
		m[p] = spotCue
	}
	return m
}

// spotReschedule reads free text (some words of which the parser does not
// understand) for a request for another time. It finds one when a cue, or a
// weak cue beside a word naming a time, stands outside every guard and is
// not negated, and no STOP or HELP keyword appears anywhere: those keep
// their priority, and a text that mixes them with a request needs a person.
func spotReschedule(words []string) bool {
	var found, weak, when bool
	for i := 0; i < len(words); {
		if e, _, ok := longestKeyword(words[i:]); ok && (e.kind == kindStrongStop || e.intent == Help) {
			return false
		}
		when = when || namesTime(words, i)
		kind, size := longestSpot(words[i:])
		switch {
		case size > 0 && kind == spotGuard:
			i += size
			continue
		case size > 0 && kind == spotCue && !negated(words, i):
			found = true
		case size > 0 && kind == spotWeakCue && !negated(words, i):
			weak = true
		}
		// A cue's words may start another cue: "can we change the time".
		i++
	}
	return found || (weak && when)
}

// namesTime reports whether words[i] names a time: a word such as
// "tomorrow" or "Thursday", or a clock time ("4 pm", "14 30", "15 h" once
// normalised).
func namesTime(words []string, i int) bool {
	w := words[i]
	if whenWords[w] {
		return true
	}
	for _, r := range pickLexicon[w] {
		if r.kind == pickWeekday && !r.strict {
			return true
		}
	}
	if !isDigits(w) || len(w) > 2 || i+1 >= len(words) {
		return false
	}
	next := words[i+1]
	return next == "h" || (len(next) == 2 && isDigits(next))
}

// longestKeyword finds the longest phrase of lexicon at the start of words.
func longestKeyword(words []string) (entry, int, bool) {
	for size := min(maxPhraseWords, len(words)); size > 0; size-- {
		if e, ok := lexicon[strings.Join(words[:size], " ")]; ok {
			return e, size, true
		}
	}
	return entry{}, 0, false
}

// longestSpot finds the longest cue, weak cue or guard at the start of
// words; size is 0 when there is none.
func longestSpot(words []string) (kind spotKind, size int) {
	for size := min(maxSpotPhrase, len(words)); size > 0; size-- {
		if k, ok := spotLexicon[strings.Join(words[:size], " ")]; ok {
			return k, size
		}
	}
	return spotGuard, 0
}

// negated reports whether the cue at words[i] follows a negation: "not
// reschedule", "don't need to move it", "no need to reschedule".
func negated(words []string, i int) bool {
	if i >= 1 && spotNegators[words[i-1]] {
		return true
	}
	if i >= 3 && words[i-1] == "to" && (words[i-2] == "need" || words[i-2] == "want" || words[i-2] == "have") {
		return spotNegators[words[i-3]] || words[i-3] == "no"
	}
	return false
}
