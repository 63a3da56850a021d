package reply

import (
	"fmt"
	"strings"
	"testing"
)

// freeTextCases are requests for another time written in free text, in the
// seven languages, and look-alikes that must not count as one. FuzzParse
// uses them as seeds.
var freeTextCases = []struct {
	text string
	want Reply
}{
	// English.
	{"Can I reschedule?", reschedule},
	{"can we reschedule please", reschedule},
	{"can we do Thursday instead", reschedule},
	{"Can we do Thursday instead?", reschedule},
	{"no, can we move it to Friday", reschedule},
	{"yes but can we change the time", reschedule},
	{"Sorry I have to work, could we move it to next week?", reschedule},
	{"Hi, is it possible to change my appointment to the afternoon?", reschedule},
	{"I'm away that week, can we find another day?", reschedule},
	{"Can't make it on Tuesday, another time maybe?", reschedule},
	{"I need to rebook for next month", reschedule},
	{"Could we make it 4pm instead?", reschedule},
	{"could we do 14:30", reschedule},
	{"Thursday instead?", reschedule},
	{"I'll come on Friday instead of Thursday", reschedule},
	{"can we do tomorrow morning", reschedule},
	{"no I have another appointment that day", reschedule},
	{"moving my appointment to Friday would be great", reschedule},
	{"Do you have anything earlier?", reschedule},
	{"what about Friday?", reschedule},
	{"Would Thursday afternoon be possible?", reschedule},
	{"would it be possible to postpone by a week", reschedule},
	{"Hello, this is Maria. I'm so sorry, but something came up at work and I won't be able to come " +
		"on Tuesday. Could we please move it to a different day next week? Thank you", reschedule},
	// English, not a request.
	{"change of address: 12 High Street", unknown},
	{"I moved house last month", unknown},
	{"thanks, no change needed", unknown},
	{"My husband will come instead of me", unknown},
	{"my husband is coming instead", unknown},
	{"Can I bring my son instead?", unknown},
	{"can I pay by card instead", unknown},
	{"Can we do it by phone?", unknown},
	{"What is the new time?", unknown},
	{"I'd like another appointment for my son", unknown},
	{"Can I change doctor?", unknown},
	{"Is it possible to bring my daughter?", unknown},
	{"what about parking?", unknown},
	{"I don't need to reschedule, see you then", confirm},
	{"no need to reschedule", unknown},
	{"please don't move it", unknown},
	{"what can we do about parking?", unknown},
	{"Can't wait!", unknown},
	{"Sorry, I can't make it on Tuesday", reschedule},
	{"can I come at 3?", unknown},
	{"I changed my number, this is the new one", unknown},
	{"I'll change my number soon", unknown},
	// Keywords keep their priority.
	{"STOP texting me, I'll reschedule myself", unknown},
	{"stop", optOut},
	{"can you help me reschedule", unknown},
	// French.
	{"Est-ce qu'on peut reporter à jeudi ?", reschedule},
	{"Bonjour, je ne pourrai pas mardi, serait-il possible de changer pour un autre jour ?", reschedule},
	{"pouvez-vous déplacer le rendez-vous à 15h ?", reschedule},
	{"Je suis empêchée mardi, désolée", reschedule},
	{"je ne peux pas venir mardi", reschedule},
	{"Jeudi, c'est possible ?", reschedule},
	{"j'ai changé d'adresse", unknown},
	{"je dois changer d'adresse", unknown},
	{"je vous ai appelé l'autre jour", unknown},
	{"merci, pas de changement pour moi", unknown},
	// Spanish.
	{"¿Podemos cambiar la cita al jueves?", reschedule},
	{"No puedo el martes, ¿tienen otro día?", reschedule},
	{"Necesito reprogramar, gracias", reschedule},
	{"No puedo ir el martes", reschedule},
	{"me gustaría cambiar de dirección", unknown},
	{"los llamé el otro día", unknown},
	{"sin cambios, gracias", unknown},
	// German.
	{"Können wir den Termin auf Donnerstag verschieben?", reschedule},
	{"Ich hätte gerne einen anderen Termin", reschedule},
	{"Geht auch ein anderer Tag?", reschedule},
	{"Ich kann am Dienstag leider nicht kommen", reschedule},
	{"Ich kann leider nicht, geht es auch am Freitag?", reschedule},
	{"Ich bin umgezogen, neue Adresse folgt", unknown},
	{"keinen anderen Termin bitte, danke", unknown},
	{"Bitte nicht verschieben", unknown},
	// Dutch.
	{"Kan ik de afspraak verzetten naar vrijdag?", reschedule},
	{"Is een andere dag mogelijk?", reschedule},
	{"Ik kan dinsdag niet komen", unknown}, // the words are apart
	{"Ik ben verhuisd naar Utrecht", unknown},
	{"geen andere dag nodig, dank u", unknown},
	// Portuguese.
	{"Posso remarcar para quinta?", reschedule},
	{"Dá para mudar o horário para de tarde?", reschedule},
	{"Tem outro dia disponível?", reschedule},
	{"Não posso ir na terça", reschedule},
	{"mudei de casa, novo endereço em breve", unknown},
	{"vou mudar de casa", unknown},
	// Italian.
	{"Possiamo spostare l'appuntamento a giovedì?", reschedule},
	{"Vorrei un altro giorno se possibile", reschedule}, //nolint:misspell // Italian
	{"si può rimandare?", reschedule},
	{"Non posso venire martedì", reschedule},
	{"Non ce la faccio martedì, possiamo fare giovedì?", reschedule},
	{"devo cambiare indirizzo", unknown},
	{"vi ho chiamato l'altro giorno", unknown},
	{"non spostare, grazie", unknown},
}

func TestParseFreeText(t *testing.T) {
	for i, tc := range freeTextCases {
		t.Run(fmt.Sprintf("%03d_%s", i, tc.text), func(t *testing.T) {
			if got := Parse(tc.text); got != tc.want {
				t.Errorf("Parse(%q) = %+v, want %+v (normalised %q)", tc.text, got, tc.want, Normalize(tc.text))
			}
		})
	}
}

func TestSpotLexicon(t *testing.T) {
	seen := make(map[string]bool)
	for _, list := range [][]string{rescheduleCues, weakCues, rescheduleGuards} {
		for _, p := range list {
			if got := Normalize(p); got != p {
				t.Errorf("phrase %q is not normalised (Normalize gives %q)", p, got)
			}
			if seen[p] {
				t.Errorf("phrase %q is listed twice", p)
			}
			seen[p] = true
			if n := len(strings.Fields(p)); n > maxSpotPhrase {
				t.Errorf("phrase %q has %d words, more than maxSpotPhrase=%d", p, n, maxSpotPhrase)
			}
		}
	}
	for _, p := range keepPhrases {
		if n := len(strings.Fields(p)); n > maxSpotPhrase {
			t.Errorf("keep phrase %q has %d words, more than maxSpotPhrase=%d", p, n, maxSpotPhrase)
		}
		if seen[p] {
			t.Errorf("keep phrase %q is also a cue or guard", p)
		}
	}
	// A cue asks for another time in any sentence; a guard never does.
	for _, p := range rescheduleCues {
		if got := Parse("hello xyzzy " + p + " xyzzy"); got != reschedule {
			t.Errorf("cue %q in free text = %+v, want reschedule", p, got)
		}
	}
	// A weak cue needs a time beside it.
	for _, p := range weakCues {
		if got := Parse("hello xyzzy " + p + " xyzzy"); got != unknown {
			t.Errorf("weak cue %q alone in free text = %+v, want unknown", p, got)
		}
		if got := Parse("hello xyzzy " + p + " tomorrow"); got != reschedule {
			t.Errorf("weak cue %q beside a time = %+v, want reschedule", p, got)
		}
	}
	for _, p := range append(append([]string(nil), rescheduleGuards...), keepPhrases...) {
		if got := Parse("hello xyzzy " + p + " xyzzy"); got != unknown {
			t.Errorf("guard %q in free text = %+v, want unknown", p, got)
		}
	}
}
