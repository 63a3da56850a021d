package reply

import (
	"fmt"
	"strings"
	"testing"
)

var reschedule = Reply{Intent: Reschedule}

// rescheduleCases are requests for another time in the seven languages,
// and look-alikes that must not count as one. FuzzParse uses them as seeds.
var rescheduleCases = []struct {
	text string
	want Reply
}{
	// English.
	{"Reschedule", reschedule},
	{"RESCHEDULE", reschedule},
	{"reschedule please", reschedule},
	{"Reschedule?", reschedule},
	{"re-schedule", reschedule},
	{"Rescheduling", reschedule},
	{"I need to reschedule", reschedule},
	{"I'd like to reschedule my appointment", reschedule},
	{"I want to reschedule my appointment, thanks", reschedule},
	{"rebook please", reschedule},
	{"Postpone", reschedule},
	{"Move it", reschedule},
	{"move my appointment please", reschedule},
	{"Change the time please", reschedule},
	{"another day please", reschedule},
	{"Another time 🙏", reschedule},
	{"a different day", reschedule},
	{"Hi, a later time please", reschedule},
	{"push it back", reschedule},
	// English, with a yes or no beside it: the request wins.
	{"No, another day please", reschedule},
	{"no - another time", reschedule},
	{"Yes, another time", reschedule},
	{"cancel, another day", reschedule},
	{"reschedule 2", Reply{Intent: Reschedule, Choice: 2}},
	{"2 reschedule", Reply{Intent: Reschedule, Choice: 2}},
	{"#1 another day", Reply{Intent: Reschedule, Choice: 1}},
	{"no 2 another day", unknown},
	// French.
	{"Reporter", reschedule},
	{"reporter svp", reschedule},
	{"Je voudrais reporter le rendez-vous", reschedule},
	{"déplacer le rdv", reschedule},
	{"Décaler", reschedule},
	{"changer de date", reschedule},
	{"Un autre jour ?", reschedule},
	{"une autre heure svp", reschedule},
	{"je suis empêché", reschedule},
	{"Empêchée", reschedule},
	{"j'ai un empêchement", reschedule},
	{"Non, un autre jour svp", reschedule},
	{"Bonjour, je voudrais changer", reschedule},
	// Spanish.
	{"Cambiar", reschedule},
	{"cambiar la cita por favor", reschedule},
	{"¿Otro día?", reschedule},
	{"otra hora", reschedule},
	{"Reprogramar", reschedule},
	{"Quiero reagendar", reschedule},
	{"No, otro día por favor", reschedule},
	{"Sí, otra fecha", reschedule},
	// German.
	{"Verschieben", reschedule},
	{"Termin verschieben bitte", reschedule},
	{"Ich möchte den Termin verschieben", reschedule},
	{"anderen Tag", reschedule},
	{"Einen anderen Termin bitte", reschedule},
	{"Termin ändern", reschedule},
	{"Nein, anderer Termin", reschedule},
	// Dutch.
	{"Verzetten", reschedule},
	{"afspraak verzetten", reschedule},
	{"Ik wil de afspraak verplaatsen", reschedule},
	{"een andere dag graag", reschedule},
	{"andere tijd", reschedule},
	{"Nee, een andere dag", reschedule},
	// Portuguese.
	{"Remarcar", reschedule},
	{"quero remarcar", reschedule},
	{"Mudar", reschedule},
	{"mudar o horário", reschedule},
	{"outro dia", reschedule},
	{"Outra data por favor", reschedule},
	{"Não, outro dia", reschedule},
	// Italian.
	{"Spostare", reschedule},
	{"vorrei spostare l'appuntamento", reschedule},
	{"Rimandare", reschedule},
	{"cambiare", reschedule},
	{"un altro giorno", reschedule},
	{"un'altra ora", reschedule},
	{"No, un altro giorno grazie", reschedule},

	// Not a request for another time. English.
	{"change of address", unknown},
	{"I moved house", unknown},
	{"thanks, no change", unknown},
	{"No change", unknown},
	{"no changes thanks", unknown},
	{"yes, no change", confirm},
	{"Ok no change", confirm},
	{"don't reschedule", unknown},
	{"no need to reschedule", unknown},
	{"Thanks, I don't need to reschedule", unknown},
	{"keep the change", unknown},
	{"I changed my number", unknown},
	{"change number", unknown},
	{"the other day", unknown},
	{"move on", unknown},
	{"Can't wait!", unknown},
	{"I can't make it", reschedule},
	{"I cannot come, sorry", reschedule},
	{"I can't", cancel},
	{"not coming", cancel},
	{"cancel", cancel},
	{"no", cancel},
	{"yes", confirm},
	// Keywords keep their place.
	{"STOP", optOut},
	{"stop, another day", optOut},
	{"another day STOP", optOut},
	{"help another day", unknown},
	{"reschedule help", unknown},
	{"start another time", unknown},
	{"end reschedule", unknown},
	{"yes no another day", unknown},
	// French.
	{"changement d'adresse", unknown},
	{"pas de changement", unknown},
	{"oui, pas de changement", confirm},
	{"j'ai déménagé", unknown},
	{"l'autre jour", unknown},
	{"je ne peux pas venir", reschedule},
	{"je ne peux pas", cancel},
	{"je ne viendrai pas", cancel},
	// Spanish.
	{"cambio de dirección", unknown},
	{"sin cambios", unknown},
	{"Sí, sin cambios", confirm},
	{"me mudé", unknown},
	{"el otro día", unknown},
	{"no puedo ir", reschedule},
	{"no puedo", cancel},
	// German.
	{"Adressänderung", unknown}, //nolint:misspell // German, "change of address"
	{"keine Änderung", unknown},
	{"ich bin umgezogen", unknown},
	{"ich bin verlegen", unknown},
	{"kann nicht kommen", reschedule},
	{"ich komme nicht", cancel},
	// Dutch.
	{"adreswijziging", unknown},
	{"geen wijziging", unknown},
	{"ik ben verhuisd", unknown},
	{"Ik kan niet komen", reschedule},
	{"kan niet komen", reschedule},
	{"ik kom niet", cancel},
	// Portuguese.
	{"mudança de endereço", unknown},
	{"mudei de casa", unknown},
	{"sem alterações", unknown},
	{"não posso ir", reschedule},
	{"não posso", cancel},
	// Italian.
	{"cambio di indirizzo", unknown},
	{"nessun cambiamento", unknown},
	{"mi sono trasferito", unknown},
	{"l'altro giorno", unknown},
	{"non posso venire", reschedule},
	{"non vengo", cancel},
}

func TestParseReschedule(t *testing.T) {
	for i, tc := range rescheduleCases {
		t.Run(fmt.Sprintf("%03d_%s", i, tc.text), func(t *testing.T) {
			if got := Parse(tc.text); got != tc.want {
				t.Errorf("Parse(%q) = %+v, want %+v (normalised %q)", tc.text, got, tc.want, Normalize(tc.text))
			}
		})
	}
}

// TestRescheduleLexicon checks the reschedule and keep phrases as
// TestLexicon checks the others, and that none shadows or is shadowed by a
// phrase of lexicon.
func TestRescheduleLexicon(t *testing.T) {
	seen := make(map[string]bool)
	for _, list := range [][]string{reschedulePhrases, keepPhrases} {
		for _, p := range list {
			if got := Normalize(p); got != p {
				t.Errorf("phrase %q is not normalised (Normalize gives %q)", p, got)
			}
			if seen[p] {
				t.Errorf("phrase %q is listed twice", p)
			}
			seen[p] = true
			if _, dup := lexicon[p]; dup {
				t.Errorf("phrase %q is also in lexicon", p)
			}
			if n := len(strings.Fields(p)); n > maxPhraseWords {
				t.Errorf("phrase %q has %d words, more than maxPhraseWords=%d", p, n, maxPhraseWords)
			}
			for _, w := range strings.Fields(p) {
				if _, isNumber := choiceNumber(w); isNumber {
					t.Errorf("phrase %q holds a number", p)
				}
			}
		}
	}
	if len(seen) != len(rescheduleLexicon) {
		t.Errorf("rescheduleLexicon has %d phrases, the lists %d", len(rescheduleLexicon), len(seen))
	}
	for _, p := range reschedulePhrases {
		if got := Parse(p); got != reschedule {
			t.Errorf("Parse(%q) = %+v, want reschedule", p, got)
		}
	}
	for _, p := range keepPhrases {
		if got := Parse(p); got != unknown {
			t.Errorf("Parse(%q) = %+v, want unknown", p, got)
		}
	}
}

func TestResolveReschedule(t *testing.T) {
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
		{"none waiting", reschedule, 0, Unknown, want{Reschedule, 0, false}},
		{"one waiting", reschedule, 1, Unknown, want{Reschedule, 1, false}},
		{"one waiting, number 1", Reply{Intent: Reschedule, Choice: 1}, 1, Unknown, want{Reschedule, 1, false}},
		{"one waiting, number 2", Reply{Intent: Reschedule, Choice: 2}, 1, Unknown, want{Unknown, 0, false}},
		{"several: ask", reschedule, 2, Unknown, want{Reschedule, 0, true}},
		{"several, number in range", Reply{Intent: Reschedule, Choice: 2}, 3, Unknown, want{Reschedule, 2, false}},
		{"bare 2 answering the question", bare(2), 2, Reschedule, want{Reschedule, 2, false}},
		{"bare 3 answering the question, two", bare(3), 2, Reschedule, want{Unknown, 0, false}},
		{"overrides a pending yes", Reply{Intent: Reschedule, Choice: 1}, 2, Confirm, want{Reschedule, 1, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			intent, index, ask := Resolve(tc.reply, tc.candidates, tc.pending)
			if got := (want{intent, index, ask}); got != tc.want {
				t.Errorf("Resolve(%+v, %d, %v) = %+v, want %+v", tc.reply, tc.candidates, tc.pending, got, tc.want)
			}
		})
	}
	if got, err := ParseIntent("reschedule"); err != nil || got != Reschedule || Reschedule.String() != "reschedule" {
		t.Errorf("ParseIntent(reschedule) = %v, %v", got, err)
	}
}
