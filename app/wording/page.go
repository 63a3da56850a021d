package wording

import "strings"

// PageText is the wording of the patient page (/a/{token}) in one
// language: short, plain, written for a phone.
type PageText struct {
	Lang  string
	Title string
	// When, Where and With label the appointment's time, place and
	// provider.
	When, Where, With string
	// The state of the appointment, one line.
	Scheduled, Confirmed, Requested, Cancelled, Over string
	// Missed is the status line of a visit the patient did not come to.
	Missed string
	// The buttons.
	Confirm, Cancel, Another, Calendar, Directions, Call string
	// CancelAsk, CancelYes and CancelNo are the second step of Cancel.
	CancelAsk, CancelYes, CancelNo string
	// What an action did.
	DoneConfirmed, DoneCancelled, DoneRequested, DoneMoved, DoneTaken string
	// Offered introduces the times offered; Pick chooses one.
	Offered, Pick string
	// Refused says an action is not possible in the appointment's state.
	Refused string
	// Gone is the page of an unknown or expired link.
	Gone string
}

// pageTexts are the patient page's texts in the seven shipped languages.
var pageTexts = map[string]PageText{
	"en": {
		Lang: "en", Title: "Your appointment", When: "When", Where: "Where", With: "With",
		Scheduled: "Please let us know if you are coming.", Confirmed: "Confirmed. See you then!",
		Requested: "You asked for another time. We will text you some free times.",
		Cancelled: "This appointment is cancelled.", Over: "This appointment is over.", Missed: "We missed you at this appointment. To book another time, please call us.",
		Confirm: "Confirm", Cancel: "Cancel appointment", Another: "Ask for another time",
		Calendar: "Add to calendar", Directions: "Directions", Call: "Call us",
		CancelAsk: "Cancel this appointment?", CancelYes: "Yes, cancel it", CancelNo: "No, keep it",
		DoneConfirmed: "Thank you, your appointment is confirmed.", DoneCancelled: "Your appointment is cancelled.",
		DoneRequested: "Thank you. We will text you some free times shortly.", DoneMoved: "Done: your appointment is moved.",
		DoneTaken: "Sorry, that time was just taken. We have texted you other times.",
		Offered:   "Times we can offer you:", Pick: "Choose",
		Refused: "This can no longer be changed here. Please call us.",
		Gone:    "This link is no longer valid. Please call the clinic.",
	},
	"fr": {
		Lang: "fr", Title: "Votre rendez-vous", When: "Quand", Where: "Où", With: "Avec",
		Scheduled: "Merci de nous dire si vous venez.", Confirmed: "Confirmé. À bientôt !",
		Requested: "Vous avez demandé un autre horaire. Nous vous enverrons des créneaux libres par SMS.",
		Cancelled: "Ce rendez-vous est annulé.", Over: "Ce rendez-vous est passé.", Missed: "Nous ne vous avons pas vu à ce rendez-vous. Pour en prendre un autre, appelez-nous.",
		Confirm: "Confirmer", Cancel: "Annuler le rendez-vous", Another: "Demander un autre horaire",
		Calendar: "Ajouter à l'agenda", Directions: "Itinéraire", Call: "Nous appeler",
		CancelAsk: "Annuler ce rendez-vous ?", CancelYes: "Oui, annuler", CancelNo: "Non, le garder",
		DoneConfirmed: "Merci, votre rendez-vous est confirmé.", DoneCancelled: "Votre rendez-vous est annulé.",
		DoneRequested: "Merci. Nous vous enverrons bientôt des créneaux libres par SMS.", DoneMoved: "C'est fait : votre rendez-vous est déplacé.",
		DoneTaken: "Désolés, ce créneau vient d'être pris. Nous vous avons envoyé d'autres horaires par SMS.",
		Offered:   "Les créneaux que nous vous proposons :", Pick: "Choisir",
		Refused: "Ce n'est plus modifiable ici. Merci de nous appeler.",
		Gone:    "Ce lien n'est plus valable. Merci d'appeler le cabinet.",
	},
	"es": {
		Lang: "es", Title: "Su cita", When: "Cuándo", Where: "Dónde", With: "Con",
		Scheduled: "Por favor, díganos si vendrá.", Confirmed: "Confirmada. ¡Hasta pronto!",
		Requested: "Ha pedido otro horario. Le enviaremos por SMS algunas horas libres.",
		Cancelled: "Esta cita está cancelada.", Over: "Esta cita ya ha pasado.", Missed: "No pudo venir a esta cita. Para pedir otra, llámenos.",
		Confirm: "Confirmar", Cancel: "Cancelar la cita", Another: "Pedir otro horario",
		Calendar: "Añadir al calendario", Directions: "Cómo llegar", Call: "Llámenos",
		CancelAsk: "¿Cancelar esta cita?", CancelYes: "Sí, cancelarla", CancelNo: "No, mantenerla",
		DoneConfirmed: "Gracias, su cita está confirmada.", DoneCancelled: "Su cita está cancelada.",
		DoneRequested: "Gracias. En breve le enviaremos por SMS algunas horas libres.", DoneMoved: "Hecho: su cita ha cambiado de hora.",
		DoneTaken: "Lo sentimos, esa hora acaba de ocuparse. Le hemos enviado otras horas por SMS.",
		Offered:   "Horas que le podemos ofrecer:", Pick: "Elegir",
		Refused: "Esto ya no se puede cambiar aquí. Por favor, llámenos.",
		Gone:    "Este enlace ya no es válido. Por favor, llame a la clínica.",
	},
	"de": {
		Lang: "de", Title: "Ihr Termin", When: "Wann", Where: "Wo", With: "Bei",
		Scheduled: "Bitte sagen Sie uns, ob Sie kommen.", Confirmed: "Bestätigt. Bis bald!",
		Requested: "Sie haben um einen anderen Termin gebeten. Wir schicken Ihnen freie Zeiten per SMS.",
		Cancelled: "Dieser Termin ist abgesagt.", Over: "Dieser Termin ist vorbei.", Missed: "Wir haben Sie bei diesem Termin vermisst. Für einen neuen Termin rufen Sie uns bitte an.",
		Confirm: "Bestätigen", Cancel: "Termin absagen", Another: "Anderen Termin anfragen",
		Calendar: "Zum Kalender hinzufügen", Directions: "Wegbeschreibung", Call: "Anrufen",
		CancelAsk: "Diesen Termin absagen?", CancelYes: "Ja, absagen", CancelNo: "Nein, behalten",
		DoneConfirmed: "Danke, Ihr Termin ist bestätigt.", DoneCancelled: "Ihr Termin ist abgesagt.",
		DoneRequested: "Danke. Wir schicken Ihnen gleich freie Zeiten per SMS.", DoneMoved: "Erledigt: Ihr Termin ist verschoben.",
		DoneTaken: "Leider wurde diese Zeit gerade vergeben. Wir haben Ihnen andere Zeiten per SMS geschickt.",
		Offered:   "Diese Zeiten können wir Ihnen anbieten:", Pick: "Auswählen",
		Refused: "Das lässt sich hier nicht mehr ändern. Bitte rufen Sie uns an.",
		Gone:    "Dieser Link ist nicht mehr gültig. Bitte rufen Sie die Praxis an.",
	},
	"nl": {
		Lang: "nl", Title: "Uw afspraak", When: "Wanneer", Where: "Waar", With: "Bij",
		Scheduled: "Laat u ons weten of u komt?", Confirmed: "Bevestigd. Tot dan!",
		Requested: "U hebt om een ander tijdstip gevraagd. We sturen u per sms een paar vrije tijden.",
		Cancelled: "Deze afspraak is geannuleerd.", Over: "Deze afspraak is voorbij.", Missed: "We hebben u bij deze afspraak gemist. Bel ons voor een nieuwe afspraak.",
		Confirm: "Bevestigen", Cancel: "Afspraak annuleren", Another: "Ander tijdstip vragen",
		Calendar: "Aan agenda toevoegen", Directions: "Routebeschrijving", Call: "Bel ons",
		CancelAsk: "Deze afspraak annuleren?", CancelYes: "Ja, annuleren", CancelNo: "Nee, behouden",
		DoneConfirmed: "Dank u, uw afspraak is bevestigd.", DoneCancelled: "Uw afspraak is geannuleerd.",
		DoneRequested: "Dank u. We sturen u zo per sms een paar vrije tijden.", DoneMoved: "Gelukt: uw afspraak is verzet.",
		DoneTaken: "Helaas is die tijd net bezet. We hebben u per sms andere tijden gestuurd.",
		Offered:   "Deze tijden kunnen we u aanbieden:", Pick: "Kiezen",
		Refused: "Dit kan hier niet meer worden gewijzigd. Bel ons alstublieft.",
		Gone:    "Deze link is niet meer geldig. Bel alstublieft de praktijk.",
	},
	"pt": {
		Lang: "pt", Title: "A sua consulta", When: "Quando", Where: "Onde", With: "Com",
		Scheduled: "Diga-nos, por favor, se vem.", Confirmed: "Confirmada. Até breve!",
		Requested: "Pediu outro horário. Vamos enviar-lhe por SMS alguns horários livres.",
		Cancelled: "Esta consulta foi cancelada.", Over: "Esta consulta já passou.", Missed: "Sentimos a sua falta nesta consulta. Para marcar outra, ligue-nos.",
		Confirm: "Confirmar", Cancel: "Cancelar a consulta", Another: "Pedir outro horário",
		Calendar: "Adicionar ao calendário", Directions: "Como chegar", Call: "Ligue-nos",
		CancelAsk: "Cancelar esta consulta?", CancelYes: "Sim, cancelar", CancelNo: "Não, manter",
		DoneConfirmed: "Obrigado, a sua consulta está confirmada.", DoneCancelled: "A sua consulta foi cancelada.",
		DoneRequested: "Obrigado. Em breve enviamos-lhe por SMS alguns horários livres.", DoneMoved: "Feito: a sua consulta foi mudada.",
		DoneTaken: "Lamentamos, esse horário acabou de ser ocupado. Enviámos-lhe outros horários por SMS.",
		Offered:   "Horários que lhe podemos oferecer:", Pick: "Escolher",
		Refused: "Isto já não pode ser alterado aqui. Por favor, ligue-nos.",
		Gone:    "Este link já não é válido. Por favor, ligue para a clínica.",
	},
	"it": {
		Lang: "it", Title: "Il tuo appuntamento", When: "Quando", Where: "Dove", With: "Con",
		Scheduled: "Per favore, facci sapere se vieni.", Confirmed: "Confermato. A presto!",
		Requested: "Hai chiesto un altro orario. Ti invieremo per SMS alcuni orari liberi.",
		Cancelled: "Questo appuntamento è annullato.", Over: "Questo appuntamento è passato.", Missed: "Non l'abbiamo vista a questo appuntamento. Per fissarne un altro, ci chiami.",
		Confirm: "Conferma", Cancel: "Annulla l'appuntamento", Another: "Chiedi un altro orario",
		Calendar: "Aggiungi al calendario", Directions: "Indicazioni", Call: "Chiamaci",
		CancelAsk: "Annullare questo appuntamento?", CancelYes: "Sì, annulla", CancelNo: "No, mantienilo",
		DoneConfirmed: "Grazie, il tuo appuntamento è confermato.", DoneCancelled: "Il tuo appuntamento è annullato.",
		DoneRequested: "Grazie. A breve ti invieremo per SMS alcuni orari liberi.", DoneMoved: "Fatto: il tuo appuntamento è stato spostato.",
		DoneTaken: "Ci dispiace, quell'orario è appena stato preso. Ti abbiamo inviato altri orari per SMS.",
		Offered:   "Gli orari che possiamo offrirti:", Pick: "Scegli",
		Refused: "Non è più possibile modificarlo qui. Chiamaci, per favore.", //nolint:misspell // Italian, not English
		Gone:    "Questo link non è più valido. Chiama lo studio, per favore.",
	},
}

// Page returns the patient page's texts in lang ("pt-BR" reads as "pt"),
// or in English for a language the app does not ship.
func Page(lang string) PageText {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if base, _, ok := strings.Cut(lang, "-"); ok {
		lang = base
	}
	if t, ok := pageTexts[lang]; ok {
		return t
	}
	return pageTexts["en"]
}
