package reply

import (
	"strings"
	"time"
)

// pickKind is what a word means in an answer to an offer of times.
type pickKind uint8

const (
	// pickFiller words carry no choice ("the", "option", "je prends").
	pickFiller pickKind = iota
	// pickMarker words are fillers after which a bare number is an hour
	// ("at 2", "um 14", "a las 3").
	pickMarker
	// pickOrdinal words name the n-th option ("second", "deux", "tweede").
	pickOrdinal
	// pickLast names the last option.
	pickLast
	// pickWeekday words name the options on a weekday.
	pickWeekday
	// pickWeakOne is "one": option 1 alone ("one please"), a filler beside
	// another clue ("the second one").
	pickWeakOne
)

// pickReading is one meaning of a word, in some languages.
type pickReading struct {
	kind pickKind
	n    int // the ordinal, or the time.Weekday
	// langs lists the languages of this meaning, "" meaning all.
	langs string
	// strict meanings hold only in their languages: the Dutch "ma"
	// (Monday) is not read for a Spanish speaker. Other meanings are also
	// read when no meaning of the word belongs to the patient's language,
	// so a Portuguese word from a patient filed as English still counts.
	strict bool
}

// pickMeaning is what a word means for one patient.
type pickMeaning struct {
	weakOne bool
	// set returns the options the word names; nil for a filler.
	set func(options []time.Time) []bool
}

// maxPickPhrase is the length in words of the longest pick phrase.
const maxPickPhrase = 3

// ordinalSuffixes may follow a number: "2nd", "2e", "2ème", "2º", "2te".
var ordinalSuffixes = map[string]bool{
	"st": true, "nd": true, "rd": true, "th": true, "e": true, "er": true, "re": true, "eme": true,
	"ieme": true, "o": true, "a": true, "te": true, "ten": true, "ter": true, "tes": true, "ste": true,
	"sten": true, "de": true,
}

// pickLexicon maps a normalised word or phrase to its meanings. It is built
// once and never written afterwards.
var pickLexicon = buildPickLexicon()

func buildPickLexicon() map[string][]pickReading {
	m := make(map[string][]pickReading, 512)
	add := func(r pickReading, words string) {
		for _, w := range strings.Split(words, ",") {
			w = strings.TrimSpace(w)
			m[w] = append(m[w], r)
		}
	}
	ordinal := func(n int, langs, words string) { add(pickReading{kind: pickOrdinal, n: n, langs: langs}, words) }
	weekday := func(d time.Weekday, langs, words string) {
		add(pickReading{kind: pickWeekday, n: int(d), langs: langs}, words)
	}
	strictWeekday := func(d time.Weekday, langs, words string) {
		add(pickReading{kind: pickWeekday, n: int(d), langs: langs, strict: true}, words)
	}
	filler := func(langs, words string) { add(pickReading{kind: pickFiller, langs: langs}, words) }
	marker := func(langs, words string) { add(pickReading{kind: pickMarker, langs: langs}, words) }

	ordinal(1, "en", "first")
	ordinal(2, "en", "second, two")
	ordinal(3, "en", "third, three")
	ordinal(4, "en", "fourth, four")
	ordinal(5, "en", "fifth, five")
	add(pickReading{kind: pickLast, langs: "en"}, "last")
	add(pickReading{kind: pickWeakOne, langs: "en"}, "one")
	ordinal(1, "fr", "premier, premiere")
	ordinal(2, "fr", "deuxieme, second, seconde, deux")
	ordinal(3, "fr", "troisieme, trois")
	ordinal(4, "fr", "quatrieme, quatre")
	ordinal(5, "fr", "cinquieme, cinq")
	add(pickReading{kind: pickLast, langs: "fr"}, "dernier, derniere")
	ordinal(1, "es", "primero, primera, primer")
	ordinal(2, "es pt", "segundo, segunda")
	ordinal(2, "es", "dos")
	ordinal(3, "es", "tercero, tercera, tercer")
	ordinal(3, "es pt", "tres")
	ordinal(4, "es", "cuarto, cuarta, cuatro")
	ordinal(5, "es pt it", "quinto, quinta")
	ordinal(5, "es pt", "cinco")
	ordinal(6, "es pt", "sexto, sexta")
	add(pickReading{kind: pickLast, langs: "es pt it"}, "ultimo, ultima")
	add(pickReading{kind: pickLast, langs: "it"}, "lultimo, lultima")
	add(pickReading{kind: pickWeakOne, langs: "es it"}, "uno")
	ordinal(1, "de", "erste, ersten, erster, erstes")
	ordinal(2, "de", "zweite, zweiten, zweiter, zweites, zwei")
	ordinal(3, "de", "dritte, dritten, dritter, drittes, drei")
	ordinal(4, "de", "vierte, vierten, vierter, viertes")
	ordinal(4, "de nl", "vier")
	ordinal(5, "de", "funfte, funften, funfter, fuenfte, fuenften, funf, fuenf")
	add(pickReading{kind: pickLast, langs: "de"}, "letzte, letzten, letzter, letztes")
	add(pickReading{kind: pickWeakOne, langs: "de"}, "eins")
	ordinal(1, "nl", "eerste")
	ordinal(2, "nl", "tweede, twee")
	ordinal(3, "nl", "derde, drie")
	ordinal(4, "nl", "vierde")
	ordinal(5, "nl", "vijfde, vijf")
	add(pickReading{kind: pickLast, langs: "nl"}, "laatste")
	ordinal(1, "pt", "primeiro, primeira")
	ordinal(2, "pt", "dois, duas")
	ordinal(3, "pt", "terceiro, terceira")
	ordinal(4, "pt it", "quarto, quarta")
	ordinal(4, "pt", "quatro")
	ordinal(1, "it", "primo")
	add(pickReading{kind: pickOrdinal, n: 1, langs: "it", strict: true}, "prima") // Dutch "prima" is "fine"
	ordinal(2, "it", "secondo, seconda, due")
	ordinal(3, "it", "terzo, terza, tre")
	ordinal(4, "it", "quattro")
	ordinal(5, "it", "cinque")

	weekday(time.Sunday, "en", "sunday, sun")
	weekday(time.Monday, "en", "monday, mon")
	weekday(time.Tuesday, "en", "tuesday, tue, tues")
	weekday(time.Wednesday, "en", "wednesday, wed, weds")
	weekday(time.Thursday, "en", "thursday, thu, thur, thurs")
	weekday(time.Friday, "en", "friday, fri")
	weekday(time.Saturday, "en", "saturday, sat")
	weekday(time.Sunday, "fr", "dimanche, dim")
	weekday(time.Monday, "fr es it", "lun")
	weekday(time.Monday, "fr", "lundi")
	weekday(time.Tuesday, "fr es it", "mar")
	weekday(time.Tuesday, "fr", "mardi")
	weekday(time.Wednesday, "fr it", "mer")
	weekday(time.Wednesday, "fr", "mercredi")
	weekday(time.Thursday, "fr", "jeudi, jeu")
	weekday(time.Friday, "fr it", "ven")
	weekday(time.Friday, "fr", "vendredi")
	weekday(time.Saturday, "fr", "samedi, sam")
	weekday(time.Sunday, "es pt it", "dom")
	weekday(time.Sunday, "es pt", "domingo")
	weekday(time.Monday, "es", "lunes")
	weekday(time.Tuesday, "es", "martes")
	weekday(time.Wednesday, "es", "miercoles, mie")
	weekday(time.Thursday, "es", "jueves, jue")
	weekday(time.Friday, "es", "viernes, vie")
	weekday(time.Saturday, "es pt it", "sab")
	weekday(time.Saturday, "es pt", "sabado")
	weekday(time.Sunday, "de", "sonntag")
	weekday(time.Monday, "de", "montag")
	weekday(time.Tuesday, "de", "dienstag")
	weekday(time.Wednesday, "de", "mittwoch")
	weekday(time.Thursday, "de", "donnerstag")
	weekday(time.Friday, "de", "freitag")
	weekday(time.Saturday, "de", "samstag, sonnabend")
	strictWeekday(time.Sunday, "de", "so")
	strictWeekday(time.Monday, "de", "mo")
	strictWeekday(time.Tuesday, "de nl", "di")
	strictWeekday(time.Wednesday, "de", "mi")
	strictWeekday(time.Thursday, "de nl", "do")
	strictWeekday(time.Friday, "de", "fr")
	strictWeekday(time.Saturday, "de", "sa")
	weekday(time.Sunday, "nl", "zondag")
	weekday(time.Monday, "nl", "maandag")
	weekday(time.Tuesday, "nl", "dinsdag")
	weekday(time.Wednesday, "nl", "woensdag")
	weekday(time.Thursday, "nl", "donderdag")
	weekday(time.Friday, "nl", "vrijdag")
	weekday(time.Saturday, "nl", "zaterdag")
	strictWeekday(time.Sunday, "nl", "zo")
	strictWeekday(time.Monday, "nl", "ma")
	strictWeekday(time.Wednesday, "nl", "wo")
	strictWeekday(time.Friday, "nl", "vr")
	strictWeekday(time.Saturday, "nl", "za")
	// Portuguese weekdays are ordinals ("segunda-feira", the second day);
	// alone, "segunda" is Monday or "the second", and the options decide.
	weekday(time.Monday, "pt", "segunda feira, segunda")
	weekday(time.Tuesday, "pt", "terca feira, terca")
	weekday(time.Wednesday, "pt", "quarta feira, quarta")
	weekday(time.Thursday, "pt", "quinta feira, quinta")
	weekday(time.Friday, "pt", "sexta feira, sexta")
	strictWeekday(time.Monday, "pt", "seg")
	strictWeekday(time.Tuesday, "pt", "ter")
	strictWeekday(time.Wednesday, "pt", "qua")
	strictWeekday(time.Thursday, "pt", "qui")
	strictWeekday(time.Friday, "pt", "sex")
	weekday(time.Sunday, "it", "domenica")
	weekday(time.Monday, "it", "lunedi")
	weekday(time.Tuesday, "it", "martedi")
	weekday(time.Wednesday, "it", "mercoledi")
	weekday(time.Thursday, "it", "giovedi, gio")
	weekday(time.Friday, "it", "venerdi")
	weekday(time.Saturday, "it", "sabato")

	filler("en", "the, a, an, opt, choice, slot, time, i, ill, i will, id, i would, like, id like, take, i take, ill take, "+
		"choose, i choose, pick, i pick, lets, lets do, go, go with, go for, with, do, works, that works, it works, "+
		"works for me, is, is fine, fine, is good, is best, best, for me, me, would be, be, then, that, on, in, "+
		"book, book me, book it, it, just, will")
	marker("en", "at, around")
	filler("fr", "le, la, l, les, un, une, du, de, des, loption, numero, creneau, je, prends, je prends, choisis, "+
		"je choisis, pour, moi, pour moi, ca, me, va, ca me va, ca marche, marche, cest, celui, celle, ci, heure")
	marker("fr", "vers")
	filler("es", "el, lo, los, opcion, numero, me quedo con, quedo, con, quiero, elijo, prefiero, para, mi, para mi, "+
		"me va bien, bien, esta bien, dia, el dia, del, mejor, hora")
	marker("es", "las")
	filler("de", "der, die, das, den, dem, am, nummer, termin, ich, nehme, ich nehme, nehmen, wir, passt, mir, "+
		"passt mir, geht, uhr, ist, gut, ist gut")
	marker("de", "um, gegen")
	filler("nl", "het, een, optie, ik, neem, ik neem, doe, maar, doe maar, past, mij, past mij, op, uur, dan")
	marker("nl", "om, rond")
	filler("pt", "o, os, opcao, quero, prefiro, escolho, fico, fico com, pode, ser, pode ser, mim, para mim, bom, "+
		"esta, otimo, perfeito, na, da, o dia, horario")
	add(pickReading{kind: pickFiller, langs: "pt", strict: true}, "no") // "no sábado"; elsewhere "no" is no
	marker("pt", "as")
	filler("it", "il, i, gli, le, opzione, lopzione, prendo, scelgo, preferisco, per, per me, di, della, quello, "+
		"quella, giorno")
	marker("it", "alle, ore")
	return m
}

// pickWord finds the longest pick phrase at the start of words and what it
// means for a patient speaking lang.
func pickWord(words []string, lang string) (pickMeaning, int, bool) {
	for size := min(maxPickPhrase, len(words)); size > 0; size-- {
		readings := selectReadings(pickLexicon[strings.Join(words[:size], " ")], lang)
		if len(readings) == 0 {
			continue
		}
		return meaningOf(readings), size, true
	}
	return pickMeaning{}, 0, false
}

// selectReadings keeps the readings that hold in lang: those of lang (or
// of every language), or, when there are none, every reading that is not
// strict.
func selectReadings(all []pickReading, lang string) []pickReading {
	var own, foreign []pickReading
	for _, r := range all {
		switch {
		case r.langs == "" || containsWord(r.langs, lang):
			own = append(own, r)
		case !r.strict:
			foreign = append(foreign, r)
		}
	}
	if len(own) > 0 {
		return own
	}
	return foreign
}

func containsWord(list, w string) bool {
	for _, x := range strings.Fields(list) {
		if x == w {
			return true
		}
	}
	return false
}

// meaningOf merges a word's readings: the options any of its naming
// readings names, or "one", or nothing (a filler).
func meaningOf(readings []pickReading) pickMeaning {
	var naming []pickReading
	weakOne := false
	for _, r := range readings {
		switch r.kind {
		case pickOrdinal, pickLast, pickWeekday:
			naming = append(naming, r)
		case pickWeakOne:
			weakOne = true
		}
	}
	if len(naming) == 0 {
		return pickMeaning{weakOne: weakOne}
	}
	return pickMeaning{set: func(options []time.Time) []bool {
		set := make([]bool, len(options))
		for _, r := range naming {
			for i, o := range options {
				switch r.kind {
				case pickOrdinal:
					set[i] = set[i] || i+1 == r.n
				case pickLast:
					set[i] = set[i] || i == len(options)-1
				case pickWeekday:
					set[i] = set[i] || o.Weekday() == time.Weekday(r.n)
				}
			}
		}
		return set
	}}
}

// isMarker reports whether word, for a patient speaking lang, makes the
// number after it an hour.
func isMarker(word, lang string) bool {
	for _, r := range selectReadings(pickLexicon[word], lang) {
		if r.kind == pickMarker {
			return true
		}
	}
	return false
}
