package reply

// The reschedule lexicon: what a patient writes to ask for another time,
// and the look-alikes that must not count as such a request.
//
// Precedence, when a text mixes a request for another time with other
// words that are all understood:
//
//   - STOP and its family win over everything, as before: "stop, another
//     day" opts out.
//   - A request for another time wins over a bare yes or no beside it:
//     "no, another day please" and "yes, another time" are Reschedule, for
//     they say what the patient wants done. "no" and "cancel" alone stay
//     Cancel, "yes" alone stays Confirm.
//   - Beside HELP, START, END or QUIT, or beside both a yes and a no, it is
//     Unknown: a person reads it.
//   - A number at either end picks the appointment, as for yes and no:
//     "reschedule 2".
//   - "no change", "pas de changement", "sin cambios" and their kind are
//     neutral: they say nothing should move.
//
// A text with words the parser does not understand is read for cues
// instead (see spotReschedule): "Can I reschedule?", "no, can we move it to
// Friday", "yes but can we change the time" and "can we do Thursday
// instead" are Reschedule whatever yes or no they hold, while a STOP or
// HELP keyword anywhere in them leaves them Unknown, as before.
//
// Saying one cannot come ("I can't make it", "je ne peux pas venir", "ich
// kann nicht kommen", "non posso venire") is Reschedule too: the patient
// has an obstacle, not a wish to drop the visit, and another time saves
// the slot. Refusing ("I'm not coming", "je ne viendrai pas", "ich komme
// nicht") and the bare "I can't", "je ne peux pas", "kann nicht" stay
// Cancel.

// reschedulePhrases ask for another time. Every key is in Normalize's form;
// a test checks that. Order: English, French, Spanish, German, Dutch,
// Portuguese, Italian.
var reschedulePhrases = []string{
	"reschedule", "re schedule", "rescheduling", "resched", "reschedule it", "reschedule my appointment",
	"reschedule the appointment", "reschedule appointment", "reschedule appt", "i want to reschedule",
	"i need to reschedule", "i would like to reschedule", "id like to reschedule", "need to reschedule",
	"i need to reschedule my appointment", "i want to reschedule my appointment",
	"id like to reschedule my appointment",
	"want to reschedule", "have to reschedule", "i have to reschedule", "i must reschedule", "rebook",
	"re book", "rebook it", "rebook my appointment", "i need to rebook", "i want to rebook", "postpone",
	"postpone it", "postpone my appointment", "i need to postpone", "move", "move it", "move my appointment",
	"move the appointment", "move appointment", "i need to move it", "i need to move my appointment",
	"i want to move my appointment", "change", "change it", "change my appointment", "change the appointment",
	"change appointment", "change the time", "change the date", "change the day", "change time",
	"change date", "change day", "i need to change my appointment", "i want to change my appointment",
	"i need to change the time", "another day", "another time", "another date", "another slot",
	"a different day", "a different time", "a different date", "different day", "different time",
	"different date", "a later time", "an earlier time", "later time", "earlier time", "a new time",
	"new time", "a new date", "new date", "push it back", "push back", "bring it forward", "move it forward",
	"i cant make it", "cant make it", "cannot make it", "i cannot make it", "can not make it",
	"i can not make it", "cant come", "i cant come", "cannot come", "i cannot come",
	"reporter", "reporter le rendez vous", "reporter le rdv", "reporter mon rendez vous", "reporter mon rdv",
	"je voudrais reporter", "je souhaite reporter", "je dois reporter", "je veux reporter",
	"je voudrais reporter le rendez vous", "deplacer", "deplacer le rendez vous", "deplacer le rdv",
	"deplacer mon rendez vous", "deplacer mon rdv", "je voudrais deplacer", "je dois deplacer", "decaler",
	"decaler le rendez vous", "decaler le rdv", "decaler mon rdv", "je voudrais decaler", "changer",
	"changer le rendez vous", "changer le rdv", "changer mon rendez vous", "changer mon rdv", "changer de date",
	"changer de jour", "changer dheure", "changer lheure", "changer la date", "changer dhoraire",
	"je voudrais changer", "reprogrammer", "un autre jour", "autre jour", "une autre date", "autre date",
	"une autre heure", "autre heure", "un autre horaire", "autre horaire", "un autre creneau", "autre creneau",
	"un autre moment", "empeche", "empechee", "je suis empeche", "je suis empechee", "jai un empechement",
	"un empechement", "empechement", "je ne peux pas venir", "je ne pourrai pas venir",
	"cambiar", "cambiar la cita", "cambiar cita", "cambiar mi cita", "cambiar el dia", "cambiar de dia",
	"cambiar la hora", "cambiar de hora", "cambiar la fecha", "cambiar el horario", "cambio de cita",
	"quiero cambiar", "quiero cambiar la cita", "quisiera cambiar la cita", "necesito cambiar",
	"necesito cambiar la cita", "reprogramar", "reprogramar la cita", "reprogramar mi cita",
	"quiero reprogramar", "necesito reprogramar", "reagendar", "reagendar la cita", "reagendar mi cita",
	"quiero reagendar", "aplazar", "aplazar la cita", "posponer", "posponer la cita", "mover la cita",
	"mover mi cita", "otro dia", "otra hora", "otra fecha", "otro horario", "no puedo ir", "no podre ir",
	"otro momento", //nolint:misspell // Spanish, "another moment"
	"verschieben", "termin verschieben", "den termin verschieben", "meinen termin verschieben",
	"ich mochte verschieben", "ich mochte den termin verschieben", "ich moechte den termin verschieben",
	"ich muss verschieben", "ich muss den termin verschieben", "verlegen", "termin verlegen",
	"den termin verlegen", "umbuchen", "termin umbuchen", "anderer termin", "anderen termin",
	"einen anderen termin", "neuer termin", "neuen termin", "einen neuen termin", "anderer tag", "anderen tag",
	"ein anderer tag", "an einem anderen tag", "andere zeit", "eine andere zeit", "andere uhrzeit",
	"eine andere uhrzeit", "termin andern", "termin aendern", "den termin andern", "den termin aendern",
	"kann nicht kommen", "ich kann nicht kommen",
	"verzetten", "afspraak verzetten", "de afspraak verzetten", "mijn afspraak verzetten", "ik wil verzetten",
	"ik wil de afspraak verzetten", "ik moet de afspraak verzetten", "verplaatsen", "afspraak verplaatsen",
	"de afspraak verplaatsen", "mijn afspraak verplaatsen", "ik wil de afspraak verplaatsen", "omboeken",
	"andere dag", "een andere dag", "ander tijdstip", "een ander tijdstip", "andere tijd", "een andere tijd",
	"andere datum", "een andere datum", "afspraak wijzigen", "de afspraak wijzigen", "afspraak veranderen",
	"kan niet komen", "ik kan niet komen",
	"remarcar", "remarcar a consulta", "remarcar consulta", "quero remarcar", "preciso remarcar",
	"queria remarcar", "gostaria de remarcar", "reagendar a consulta", "adiar", "adiar a consulta", "mudar",
	"mudar a consulta", "mudar o horario", "mudar a data", "mudar o dia", "mudar de dia", "mudar de horario",
	"mudar a hora", "trocar o horario", "trocar a data", "trocar de horario", "trocar o dia", "outro dia",
	"outra data", "outro horario", "outra hora", "nao posso ir",
	"spostare", "spostare lappuntamento", "spostare la visita", "spostarlo", "spostarla", "vorrei spostare",
	"vorrei spostare lappuntamento", "devo spostare", "devo spostare lappuntamento", "rimandare",
	"rimandare lappuntamento", "rimandarlo", "rinviare", "rinviare lappuntamento", "posticipare",
	"anticipare", //nolint:misspell // Italian, "bring forward"
	"cambiare", "cambiare lappuntamento", "cambiare orario", "cambiare lorario", "cambiare giorno",
	"cambiare il giorno", "cambiare data", "cambiare la data", "vorrei cambiare", "vorrei cambiare lappuntamento",
	"un altro giorno", "altro giorno", "unaltra ora", "altra ora", "un altro orario", "altro orario",
	"unaltra data", "altra data", "non posso venire", "non ce la faccio",
}

// keepPhrases say that nothing should move. They are neutral, so that "no
// change" is not read as a no beside a change, nor "thanks, no change" as a
// request.
var keepPhrases = []string{
	"no change", "no changes", "nothing to change", "no need to change", "dont change", "do not change",
	"dont move", "do not move", "dont move it", "dont reschedule", "do not reschedule",
	"no need to reschedule", "dont need to reschedule", "i dont need to reschedule", "no need to move it",
	"pas de changement", "aucun changement", "rien a changer", "ne pas changer", "ne pas deplacer",
	"sin cambios", "ningun cambio", "no cambiar", "nada que cambiar", "no hay cambios",
	"keine anderung", "keine aenderung", "keine anderungen", "keine aenderungen", "nicht verschieben",
	"nichts andern",
	"geen wijziging", "geen wijzigingen", "niet verzetten", "niets veranderen",
	"sem alteracao", "sem alteracoes", "sem mudanca", "sem mudancas", "nao mudar", "nao remarcar",
	"nessun cambiamento", "nessuna modifica", "non spostare", "non cambiare", "niente da cambiare",
}

// rescheduleLexicon maps the phrases above to their meaning. It is kept
// apart from lexicon, which holds the keywords of the original yes/no/STOP
// protocol; longestPhrase reads both. Built once, never written afterwards.
var rescheduleLexicon = buildRescheduleLexicon()

func buildRescheduleLexicon() map[string]entry {
	m := make(map[string]entry, len(reschedulePhrases)+len(keepPhrases))
	for _, p := range keepPhrases {
		m[p] = entry{kind: kindNeutral}
	}
	for _, p := range reschedulePhrases {
		m[p] = entry{kind: kindIntent, intent: Reschedule}
	}
	return m
}
