package reply

// kind is what a phrase of the lexicon means to the parser.
type kind uint8

const (
	// kindNumber is not a phrase but a choice number in a text ("2").
	kindNumber kind = iota
	// kindIntent phrases carry an intent (yes, nein, ✅, "je ne peux pas").
	kindIntent
	// kindStrongStop phrases opt out even beside other known phrases
	// ("no stop", "STOP please", "stop stop").
	kindStrongStop
	// kindWeakStop phrases are ordinary words (end, quit) that opt out only
	// when they are the whole message, give or take polite words.
	kindWeakStop
	// kindNeutral phrases are greetings and politeness: ignored anywhere.
	kindNeutral
	// kindConnector words may stand just before a choice number
	// ("yes for 2", "option 1").
	kindConnector
)

// entry is one lexicon phrase's meaning.
type entry struct {
	kind   kind
	intent Intent
}

// maxPhraseWords is the length in words of the longest lexicon phrase
// (of lexicon and rescheduleLexicon).
const maxPhraseWords = 6

// maxChoice is the largest number read as a pick from a numbered list.
const maxChoice = 99

// maxNormalizedLen is the longest normalised text (in runes) that the parser
// classifies; longer texts need a human unless they are only opt-out words.
const maxNormalizedLen = 60

// maxWords bounds the work done on texts far beyond maxNormalizedLen.
const maxWords = 40

// Every key is already in Normalize's form (lower case, no accents, no
// apostrophes, single spaces); a test checks that. Order inside each group:
// English, French, Spanish, German, Dutch, Portuguese, Italian.
var confirmPhrases = []string{
	"yes", "y", "ye", "yep", "yup", "yeah", "yea", "ya", "yah", "ok", "okay", "okey", "okie", "oki",
	"o k", "k", "kk", "confirm", "confirmed", "confirming", "i confirm", "sure", "sure thing",
	"of course", "absolutely", "definitely", "certainly", "will do", "i will", "ill be there",
	"i will be there", "will be there", "be there", "ill be there on time", "im coming",
	"i am coming", "coming", "see you", "see ya", "see you then", "see you there", "see you soon",
	"see you tomorrow", "sounds good", "perfect", "great", "good",
	"👍", "✅", "✔", "☑", "✓", "👌", "🆗",
	"oui", "ouais", "ouai", "daccord", "dac", "je confirme", "confirme", "cest bon", "cest ok",
	"cest note", "bien sur", "parfait", "entendu", "je serai la", "je viens", "a demain", "ok merci",
	"si", "claro", "claro que si", "confirmo", "confirmado", "confirmada", "vale", "de acuerdo",
	"por supuesto", "perfecto", "correcto", "alli estare", "ahi estare", "hasta manana",
	"ja", "jawohl", "jap", "jep", "jo", "bestatigt", "bestaetigt", "ich bestatige",
	"ich bestaetige", "ich komme", "komme", "in ordnung", "geht klar", "alles klar", "klar",
	"gerne", "passt", "bis morgen", "bis dann",
	"jazeker", "jawel", "akkoord", "bevestigd", "ik bevestig", "ik kom", "ik kom zeker", "prima",
	"goed", "is goed", "oke", "tot morgen", "tot dan",
	"sim", "certo", "combinado", "com certeza", "estarei la", "vou",
	"vou sim", "ate amanha", "pode ser", "ta bom", "ta bem", "esta bem",
	"confermo", "confermato", "confermata", "va bene", "certamente", "daccordo", "ci saro",
	"ci saro sicuramente", "vengo", "perfetto", "a domani",
}

var cancelPhrases = []string{
	"no", "n", "nope", "nah", "cancel", "cancel it", "cancel please", "please cancel",
	"cancel appointment", "cancel my appointment", "cancel the appointment", "need to cancel",
	"i need to cancel", "have to cancel", "i have to cancel", "i want to cancel", "not coming", "im not coming",
	"i am not coming", "wont make it", "i wont make it", "wont be there", "i wont be there",
	"i will not be there", "cant attend", "i cant attend", "unable to attend", "i cant", "cant",
	"👎", "❌", "✖", "✗", "✘", "❎",
	"non", "annuler", "annule", "annulez", "jannule", "je ne peux pas", "je peux pas",
	"je ne viendrai pas", "je ne pourrai pas", "pas possible", "impossible",
	"cancelar", "cancelo", "cancela", "no puedo", "no podre", "no voy", "no asistire",
	"nein", "absagen", "stornieren", "ich sage ab", "sage ab", "kann nicht", "ich kann nicht",
	"ich komme nicht", "komme nicht", "leider nicht",
	"nee", "neen", "annuleren", "afzeggen", "ik zeg af", "kan niet", "ik kan niet", "ik kom niet",
	"helaas niet",
	"nao", "desmarcar", "cancelar consulta", "quero cancelar", "nao posso", "nao vou", "nao vou poder",
	"annulla", "annullo", "annullare", "disdico", "disdire", "disdetta", "non posso", "non vengo",
	"non ci saro",
}

var strongStopPhrases = []string{
	"stop", "stopall", "stop all", "stop it", "stop texting", "stop texting me", "stop messaging me",
	"stop sending", "stop sending me messages", "unsubscribe", "unsub", "cancel all", "optout",
	"opt out", "revoke", "remove me",
	"arret", "arreter", "stopp", "baja", "dar de baja", "darme de baja", "parar", "abmelden",
}

var weakStopPhrases = []string{"end", "quit"}

var optInPhrases = []string{"start", "unstop", "subscribe", "resume"}

var helpPhrases = []string{"help", "info", "aide", "ayuda", "hilfe", "hulp", "ajuda", "aiuto"}

// neutralPhrases are the polite words and greetings that a reply may carry
// around its meaning.
var neutralPhrases = []string{
	"please", "pls", "plz", "thanks", "thank you", "thank you very much", "thank you so much",
	"thanks a lot", "many thanks", "thx", "ty", "cheers", "hi", "hello", "hey", "dear", "x", "xx",
	"xxx", "have a nice day", "have a good day",
	"merci", "merci beaucoup", "svp", "sil vous plait", "sil te plait", "bonjour", "salut",
	"bonne journee",
	"gracias", "muchas gracias", "por favor", "hola", "buenos dias", "buen dia",
	"danke", "danke schon", "danke sehr", "vielen dank", "bitte", "hallo", "guten tag",
	"schonen tag",
	"bedankt", "dank je", "dank u", "dankjewel", "dankuwel", "alstublieft", "aub", "graag",
	"hoor", "goedemorgen", "goedemiddag", "fijne dag",
	"obrigado", "obrigada", "muito obrigado", "muito obrigada", "ola", "bom dia", "boa tarde",
	"grazie", "grazie mille", "per favore", "ciao", "buongiorno", "salve", "buona giornata",
}

var connectorWords = []string{"for", "to", "number", "nr", "num", "option", "appointment", "appt"}

// lexicon maps each phrase to its meaning. It is built once from the lists
// above and never written afterwards.
var lexicon = buildLexicon()

func buildLexicon() map[string]entry {
	m := make(map[string]entry, 512)
	add := func(phrases []string, e entry) {
		for _, p := range phrases {
			m[p] = e
		}
	}
	add(neutralPhrases, entry{kind: kindNeutral})
	add(connectorWords, entry{kind: kindConnector})
	add(confirmPhrases, entry{kind: kindIntent, intent: Confirm})
	add(cancelPhrases, entry{kind: kindIntent, intent: Cancel})
	add(optInPhrases, entry{kind: kindIntent, intent: OptIn})
	add(helpPhrases, entry{kind: kindIntent, intent: Help})
	add(weakStopPhrases, entry{kind: kindWeakStop, intent: OptOut})
	add(strongStopPhrases, entry{kind: kindStrongStop, intent: OptOut})
	return m
}
