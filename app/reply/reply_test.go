package reply

import (
	"fmt"
	"strings"
	"testing"
)

// Shorthands for the expected replies.
var (
	confirm = Reply{Intent: Confirm}
	cancel  = Reply{Intent: Cancel}
	optOut  = Reply{Intent: OptOut}
	optIn   = Reply{Intent: OptIn}
	help    = Reply{Intent: Help}
	unknown = Reply{}
)

func confirmN(n int) Reply { return Reply{Intent: Confirm, Choice: n} }
func cancelN(n int) Reply  { return Reply{Intent: Cancel, Choice: n} }
func bare(n int) Reply {
	r := Reply{Choice: n, Bare: true}
	switch n {
	case 1:
		r.Intent = Confirm
	case 2:
		r.Intent = Cancel
	}
	return r
}

// parseCases are real-world replies; FuzzParse uses them as its seed corpus.
var parseCases = []struct {
	text string
	want Reply
}{
	// English, confirm.
	{"Yes!", confirm},
	{"yes please", confirm},
	{"YES", confirm},
	{"y", confirm},
	{"Y.", confirm},
	{"Yep", confirm},
	{"yeah!!", confirm},
	{"yesss", confirm},
	{"Ok", confirm},
	{"OK!", confirm},
	{"okay", confirm},
	{"o.k.", confirm},
	{"K", confirm},
	{"Confirm", confirm},
	{"CONFIRMED", confirm},
	{"Sure", confirm},
	{"I'll be there", confirm},
	{"I’ll be there", confirm},
	{"I\u02bcll be there!", confirm},
	{"see you", confirm},
	{"See you then!", confirm},
	{"Yes, see you tomorrow", confirm},
	{"Yes I will be there, thank you", confirm},
	{"Hi, yes", confirm},
	{"Yes please confirm", confirm},
	{"ok thanks", confirm},
	{"  yes  \n", confirm},
	{"yes\n\nthanks", confirm},
	{"\"Yes\"", confirm},
	{"“Yes”", confirm},
	{"'yes'", confirm},
	{"Ｙｅｓ", confirm},
	{"YES\u200b", confirm},
	{"Yes 😊", confirm},
	// Emoji.
	{"👍", confirm},
	{"👍🏻", confirm},
	{"👍🏽", confirm},
	{"👍🏿", confirm},
	{"👍👍👍", confirm},
	{"Yes 👍", confirm},
	{"✅", confirm},
	{"✔️", confirm},
	{"👌", confirm},
	{"🆗", confirm},
	{"👎", cancel},
	{"👎🏼", cancel},
	{"❌", cancel},
	{"🙏", unknown},
	{"👍👎", unknown},
	{"yes 👎", unknown},
	// English, cancel.
	{"No", cancel},
	{"NO.", cancel},
	{"n", cancel},
	{"nope", cancel},
	{"Noooo", cancel},
	{"Cancel", cancel},
	{"cancel please", cancel},
	{"Please cancel", cancel},
	{"I can't make it", reschedule}, // an obstacle: another time may do
	{"I can’t make it", reschedule},
	{"cant make it", reschedule},
	{"I cannot make it.", reschedule},
	{"can't come", reschedule},
	{"need to cancel", cancel},
	{"I need to cancel", cancel},
	{"No, I can't make it", reschedule},
	{"no thanks", cancel},
	// Opt-out.
	{"stop", optOut},
	{" STOP ", optOut},
	{"Stop.", optOut},
	{"STOP please", optOut},
	{"STOP!!!", optOut},
	{"please stop", optOut},
	{"Stooop", optOut},
	{"stopall", optOut},
	{"STOP ALL", optOut},
	{"UNSUBSCRIBE", optOut},
	{"unsubscribe.", optOut},
	{"Cancel all", optOut},
	{"END", optOut},
	{"end.", optOut},
	{"End please", optOut},
	{"quit", optOut},
	{"QUIT thanks", optOut},
	{"optout", optOut},
	{"opt out", optOut},
	{"Opt-Out", optOut},
	{"REVOKE", optOut},
	{"ARRET", optOut},
	{"ARRÊT", optOut},
	{"arrêt svp", optOut},
	{"STOPP", optOut},
	{"BAJA", optOut},
	{"parar", optOut},
	{"no stop", optOut},
	{"Stop texting me", optOut},
	{"STOP 2", optOut},
	{"Stop stop stop stop stop stop stop stop stop stop stop stop stop", optOut},
	// Not opt-out.
	{"don't stop", unknown},
	{"Do not stop", unknown},
	{"the end", unknown},
	{"I'll be there at the end of the day", unknown},
	{"can I end my appointment early", unknown},
	{"stop by later?", unknown},
	{"end 2", unknown},
	// Opt-in and help.
	{"START", optIn},
	{"start", optIn},
	{"Unstop", optIn},
	{"subscribe", optIn},
	{"Resume please", optIn},
	{"start 1", unknown},
	{"HELP", help},
	{"help?", help},
	{"Info", help},
	{"aide", help},
	{"AYUDA", help},
	{"Hilfe", help},
	{"hulp", help},
	{"ajuda", help},
	{"aiuto", help},
	{"help 2", unknown},
	{"help yes", unknown},
	// French.
	{"Oui merci", confirm},
	{"oui", confirm},
	{"OUI!", confirm},
	{"Ouais", confirm},
	{"d'accord", confirm},
	{"D’accord", confirm},
	{"je confirme", confirm},
	{"Ok merci", confirm},
	{"Oui, je confirme.", confirm},
	{"oui je serai là", confirm},
	{"Bonjour, je confirme", confirm},
	{"Non", cancel},
	{"non merci", cancel},
	{"annuler", cancel},
	{"Je ne peux pas", cancel},
	{"je ne peux pas venir", reschedule},
	{"J'annule", cancel},
	{"Merci", unknown},
	{"À quelle heure ?", unknown},
	// Spanish.
	{"sí", confirm},
	{"Si", confirm},
	{"SÍ", confirm},
	{"¡Sí!", confirm},
	{"si gracias", confirm},
	{"Sí, claro", confirm},
	{"Confirmo", confirm},
	{"vale", confirm},
	{"no", cancel},
	{"No puedo", cancel},
	{"cancelar", cancel},
	{"No, gracias", cancel},
	{"¿A qué hora?", unknown},
	{"Gracias", unknown},
	// German.
	{"JA", confirm},
	{"ja bitte", confirm},
	{"Jawohl", confirm},
	{"bestätigt", confirm},
	{"bestatigt", confirm},
	{"Bestaetigt", confirm},
	{"ich komme", confirm},
	{"Ja, ich komme!", confirm},
	{"nein", cancel},
	{"Nein danke", cancel},
	{"absagen", cancel},
	{"stornieren", cancel},
	{"kann nicht", cancel},
	{"Ich kann nicht kommen", reschedule},
	{"ich komme nicht", cancel},
	{"Ja, aber später", unknown},
	{"Danke", unknown},
	// Dutch.
	{"ja hoor", confirm},
	{"jazeker", confirm},
	{"Akkoord", confirm},
	{"Bevestigd", confirm},
	{"ik kom", confirm},
	{"nee", cancel},
	{"Nee, bedankt", cancel},
	{"neeee", cancel},
	{"annuleren", cancel},
	{"afzeggen", cancel},
	{"kan niet", cancel},
	{"ik kom niet", cancel},
	{"Ik kan niet komen", reschedule},
	// Portuguese.
	{"sim", confirm},
	{"Sim, obrigado", confirm},
	{"confirmo", confirm},
	{"Confirmado", confirm},
	{"não", cancel},
	{"nao", cancel},
	{"NÃO", cancel},
	{"Não posso", cancel},
	{"cancelar por favor", cancel},
	{"Obrigada", unknown},
	// Italian.
	{"sì", confirm},
	{"Si grazie", confirm},
	{"confermo", confirm},
	{"va bene", confirm},
	{"Certo", confirm},
	{"annulla", cancel},
	{"disdico", cancel},
	{"non posso", cancel},
	{"No grazie", cancel},
	// Numbers.
	{"1", bare(1)},
	{"2", bare(2)},
	{"3", bare(3)},
	{"12", bare(12)},
	{"#2", bare(2)},
	{"2.", bare(2)},
	{"#3", bare(3)},
	{"1️⃣", bare(1)},
	{"2️⃣", bare(2)},
	{"２", bare(2)},
	{"2 please", bare(2)},
	{"option 2", bare(2)},
	{"0", unknown},
	{"100", unknown},
	{"1 2", unknown},
	{"1 yes", confirmN(1)},
	{"yes 1", confirmN(1)},
	{"YES 2", confirmN(2)},
	{"2 no", cancelN(2)},
	{"no 1", cancelN(1)},
	{"#2 yes", confirmN(2)},
	{"2) yes", confirmN(2)},
	{"2. oui", confirmN(2)},
	{"1yes", confirmN(1)},
	{"Yes for 2", confirmN(2)},
	{"yes #2 thanks", confirmN(2)},
	{"2 ja", confirmN(2)},
	{"nee 2", cancelN(2)},
	{"1 sí", confirmN(1)},
	{"3 👍", confirmN(3)},
	{"yes 1 no 2", unknown},
	{"yes 2 yes", unknown},
	{"1 yes 2", unknown},
	// Questions, mixtures, the empty text: a human decides.
	{"what time?", unknown},
	{"What time is it at?", unknown},
	{"can I come at 3?", unknown},
	{"Who is this", unknown},
	{"who is this?", unknown},
	{"yes but can we move it to 4pm?", reschedule}, // a request for another time wins over the yes
	{"yes no", unknown},
	{"Yes. No.", unknown},
	{"oui non", unknown},
	{"ja ich komme nicht", unknown},
	{"", unknown},
	{"   ", unknown},
	{"\n\t", unknown},
	{"...", unknown},
	{"maybe", unknown},
	{"Can I reschedule?", reschedule},
	{"thanks", unknown},
	{"Thank you!", unknown},
	{"can't wait!", unknown},
	{"no problem", unknown},
	{"Yes I'll be there but I might be 10 minutes late", unknown},
	{"Ok I will come at 5", unknown},
	{"yes 2pm", unknown},
	{"yes yes yes yes yes yes yes yes yes yes yes yes yes yes yes yes yes", unknown},
	{"\xffyes\xfe", confirm},
}

func TestParse(t *testing.T) {
	if len(parseCases) < 120 {
		t.Fatalf("only %d parse cases; the brief asks for at least 120", len(parseCases))
	}
	for i, tc := range parseCases {
		t.Run(fmt.Sprintf("%03d_%s", i, tc.text), func(t *testing.T) {
			if got := Parse(tc.text); got != tc.want {
				t.Errorf("Parse(%q) = %+v, want %+v (normalised %q)", tc.text, got, tc.want, Normalize(tc.text))
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"  YES  ", "yes"},
		{"Yes!!!", "yes"},
		{"I can’t make it.", "i cant make it"},
		{"D’accord", "daccord"},
		{"ARRÊT", "arret"},
		{"bestätigt", "bestatigt"},
		{"Ｙｅｓ", "yes"},
		{"ﬁne", "fine"},
		{"yes\n\n\tthanks", "yes thanks"},
		{"“Yes”", "yes"},
		{"«oui»", "oui"},
		{"👍🏽", "👍"},
		{"✔️", "✔"},
		{"👍👍", "👍 👍"},
		{"yes👍", "yes 👍"},
		{"1️⃣", "1"},
		{"#2", "2"},
		{"2) yes", "2 yes"},
		{"1yes", "1 yes"},
		{"yes2", "yes 2"},
		{"no-show", "no show"},
		{"ye\u200bs", "yes"},
		{"\ufeffSTOP", "stop"},
		{"a\xffb", "a b"},
		{"ΝΑΙ", "ναι"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := Normalize(tc.in)
			if got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := Normalize(got); again != got {
				t.Errorf("Normalize is not idempotent: %q -> %q -> %q", tc.in, got, again)
			}
		})
	}
}

// TestLexicon checks the phrase lists themselves: each phrase is written in
// Normalize's form (or it could never match), appears once, fits the
// segmenter's window and cannot be mistaken for a number.
func TestLexicon(t *testing.T) {
	lists := map[string][]string{
		"confirm":    confirmPhrases,
		"cancel":     cancelPhrases,
		"strongStop": strongStopPhrases,
		"weakStop":   weakStopPhrases,
		"optIn":      optInPhrases,
		"help":       helpPhrases,
		"neutral":    neutralPhrases,
		"connector":  connectorWords,
	}
	seen := make(map[string]string)
	for name, list := range lists {
		for _, p := range list {
			if got := Normalize(p); got != p {
				t.Errorf("%s phrase %q is not normalised (Normalize gives %q)", name, p, got)
			}
			if prev, dup := seen[p]; dup {
				t.Errorf("phrase %q is in both %s and %s", p, prev, name)
			}
			seen[p] = name
			if n := len(strings.Fields(p)); n > maxPhraseWords {
				t.Errorf("%s phrase %q has %d words, more than maxPhraseWords=%d", name, p, n, maxPhraseWords)
			}
			for _, w := range strings.Fields(p) {
				if _, isNumber := choiceNumber(w); isNumber {
					t.Errorf("%s phrase %q holds a number", name, p)
				}
			}
		}
	}
	if len(seen) != len(lexicon) {
		t.Errorf("lexicon has %d phrases, the lists %d", len(lexicon), len(seen))
	}
	// Every intent phrase must parse to its intent on its own.
	want := map[string]Intent{
		"confirm": Confirm, "cancel": Cancel, "strongStop": OptOut, "weakStop": OptOut,
		"optIn": OptIn, "help": Help,
	}
	for name, intent := range want {
		for _, p := range lists[name] {
			if got := Parse(p); got.Intent != intent {
				t.Errorf("Parse(%q) = %v, want %v", p, got.Intent, intent)
			}
		}
	}
}

func TestIntentString(t *testing.T) {
	tests := []struct {
		intent Intent
		want   string
	}{
		{Unknown, "unknown"},
		{Confirm, "confirm"},
		{Cancel, "cancel"},
		{OptOut, "opt_out"},
		{OptIn, "opt_in"},
		{Help, "help"},
		{Intent(42), "Intent(42)"},
		{Intent(-1), "Intent(-1)"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.intent.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if tc.intent < Unknown || tc.intent > Help {
				if _, err := ParseIntent(tc.want); err == nil {
					t.Errorf("ParseIntent(%q) succeeded", tc.want)
				}
				return
			}
			back, err := ParseIntent(tc.want)
			if err != nil || back != tc.intent {
				t.Errorf("ParseIntent(%q) = %v, %v; want %v", tc.want, back, err, tc.intent)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	type want struct {
		intent Intent
		index  int
		ask    bool
	}
	tests := []struct {
		name       string
		reply      Reply
		candidates int
		pending    Intent
		want       want
	}{
		// Keywords are never tied to an appointment.
		{"stop, none waiting", optOut, 0, Unknown, want{OptOut, 0, false}},
		{"stop, one waiting", optOut, 1, Unknown, want{OptOut, 0, false}},
		{"stop, several waiting", optOut, 3, Confirm, want{OptOut, 0, false}},
		{"start, several", optIn, 2, Unknown, want{OptIn, 0, false}},
		{"help, one", help, 1, Unknown, want{Help, 0, false}},
		// Nothing waiting: the intent as parsed, for the inbox.
		{"yes, none waiting", confirm, 0, Unknown, want{Confirm, 0, false}},
		{"no, none waiting", cancel, 0, Unknown, want{Cancel, 0, false}},
		{"unknown, none waiting", unknown, 0, Unknown, want{Unknown, 0, false}},
		{"bare 1, none waiting", bare(1), 0, Unknown, want{Confirm, 0, false}},
		{"negative count as none", confirm, -2, Unknown, want{Confirm, 0, false}},
		// One waiting.
		{"yes, one", confirm, 1, Unknown, want{Confirm, 1, false}},
		{"no, one", cancel, 1, Unknown, want{Cancel, 1, false}},
		{"1 yes, one", confirmN(1), 1, Unknown, want{Confirm, 1, false}},
		{"no 1, one", cancelN(1), 1, Unknown, want{Cancel, 1, false}},
		{"yes 2, one", confirmN(2), 1, Unknown, want{Unknown, 0, false}},
		{"bare 1, one", bare(1), 1, Unknown, want{Confirm, 1, false}},
		{"bare 2, one", bare(2), 1, Unknown, want{Cancel, 1, false}},
		{"bare 3, one", bare(3), 1, Unknown, want{Unknown, 0, false}},
		{"unknown, one", unknown, 1, Unknown, want{Unknown, 0, false}},
		{"bare 1 answering question, one left", bare(1), 1, Cancel, want{Cancel, 1, false}},
		{"bare 2 answering question, one left", bare(2), 1, Confirm, want{Unknown, 0, false}},
		// Several waiting.
		{"yes, several: ask", confirm, 2, Unknown, want{Confirm, 0, true}},
		{"no, several: ask", cancel, 3, Unknown, want{Cancel, 0, true}},
		{"yes again while pending: ask again", confirm, 2, Confirm, want{Confirm, 0, true}},
		{"yes 2, two", confirmN(2), 2, Unknown, want{Confirm, 2, false}},
		{"1 yes, two", confirmN(1), 2, Unknown, want{Confirm, 1, false}},
		{"no 3, three", cancelN(3), 3, Unknown, want{Cancel, 3, false}},
		{"yes 4, three", confirmN(4), 3, Unknown, want{Unknown, 0, false}},
		{"yes 2 overrides pending no", confirmN(2), 2, Cancel, want{Confirm, 2, false}},
		{"bare 2 after yes", bare(2), 2, Confirm, want{Confirm, 2, false}},
		{"bare 1 after no", bare(1), 2, Cancel, want{Cancel, 1, false}},
		{"bare 3 after no, three", bare(3), 3, Cancel, want{Cancel, 3, false}},
		{"bare 3 after yes, two", bare(3), 2, Confirm, want{Unknown, 0, false}},
		{"bare 1, nothing pending", bare(1), 2, Unknown, want{Unknown, 0, false}},
		{"bare 2, nothing pending", bare(2), 2, Unknown, want{Unknown, 0, false}},
		{"bare 2, pending is not yes/no", bare(2), 2, OptOut, want{Unknown, 0, false}},
		{"unknown, several", unknown, 2, Confirm, want{Unknown, 0, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			intent, index, ask := Resolve(tc.reply, tc.candidates, tc.pending)
			if got := (want{intent, index, ask}); got != tc.want {
				t.Errorf("Resolve(%+v, %d, %v) = %+v, want %+v", tc.reply, tc.candidates, tc.pending, got, tc.want)
			}
		})
	}
}

// TestConversation plays, through Parse and Resolve together, the
// numbered-question exchange of several appointments awaiting an answer
// from one number.
func TestConversation(t *testing.T) {
	const candidates = 2

	intent, index, ask := Resolve(Parse("Yes"), candidates, Unknown)
	if !ask || intent != Confirm || index != 0 {
		t.Fatalf("bare YES with two waiting = %v, %d, %v; want the question asked with Confirm pending", intent, index, ask)
	}
	pending := intent

	intent, index, ask = Resolve(Parse("2"), candidates, pending)
	if ask || intent != Confirm || index != 2 {
		t.Fatalf("answer 2 = %v, %d, %v; want Confirm for the second", intent, index, ask)
	}

	intent, index, ask = Resolve(Parse("1 NO"), candidates, Unknown)
	if ask || intent != Cancel || index != 1 {
		t.Fatalf("1 NO = %v, %d, %v; want Cancel for the first", intent, index, ask)
	}
}
