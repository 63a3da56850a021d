package texts

// defaults holds the shipped texts by kind, then language. It is read-only.
//
// How they are written:
//   - The day is always {day} ("today", "tomorrow" or "on Tuesday, March
//     3", computed from the send time), never a fixed word, so a send that
//     quiet hours moved to the evening before still says the right day. A
//     sentence never starts with {day}, which is lower case.
//   - Every text names the place ({location}) or the clinic ({clinic});
//     HELP, STOP and START answers name the clinic and say STOP.
//   - Fixed words stay in the GSM-7 alphabet so a text costs one part:
//     Spanish and Italian ask for SI (the parser reads "sí" and "si"
//     alike), Portuguese asks for CANCELAR rather than NÃO and opens with
//     the place rather than "Olá", and no language uses ç, á, í, ó, ú, ê,
//     â, ô, û, ã or õ in its fixed words. Only values (a name, a
//     Portuguese or Spanish day such as "amanhã" or "sábado", a French
//     "août") can make a text Unicode.
//   - The keywords asked for are those the reply parser understands: YES,
//     NO, OUI, NON, SI, JA, NEIN, NEE, SIM, CANCELAR, STOP, START.
var defaults = map[string]map[string]string{
	KindReminder: {
		"en": "Hi {first_name}, a reminder of your appointment at {location} {day} at {time}. Reply YES to confirm or NO to cancel.",
		"fr": "Bonjour {first_name}, rappel de votre rendez-vous chez {location} {day} à {time}. Confirmez par OUI ou annulez par NON.",
		"es": "Hola {first_name}, le recordamos su cita en {location} {day} a las {time}. Confirme con SI o cancele con NO.",
		"de": "Hallo {first_name}, Erinnerung an Ihren Termin bei {location} {day} um {time} Uhr. Bestätigen mit JA, absagen mit NEIN.",
		"nl": "Beste {first_name}, herinnering: uw afspraak bij {location} is {day} om {time}. Bevestig met JA, zeg af met NEE.",
		"pt": "{location}: {first_name}, lembramos a sua consulta {day} às {time}. Responda SIM para confirmar ou CANCELAR.",
		"it": "Gentile {first_name}, le ricordiamo l'appuntamento presso {location} {day} alle {time}. Risponda SI per confermare o NO per annullare.",
	},
	KindReminderSoon: {
		"en": "Hi {first_name}, see you {day} at {time} at {location}. Reply YES to confirm or NO to cancel.",
		"fr": "Bonjour {first_name}, nous vous attendons {day} à {time} chez {location}. Confirmez par OUI ou annulez par NON.",
		"es": "Hola {first_name}, le esperamos {day} a las {time} en {location}. Confirme con SI o cancele con NO.",
		"de": "Hallo {first_name}, wir erwarten Sie {day} um {time} Uhr bei {location}. Bestätigen mit JA, absagen mit NEIN.",
		"nl": "Beste {first_name}, we zien u {day} om {time} bij {location}. Bevestig met JA, zeg af met NEE.",
		"pt": "{location}: {first_name}, a sua consulta é {day} às {time}. Responda SIM para confirmar ou CANCELAR.",
		"it": "Gentile {first_name}, l'aspettiamo {day} alle {time} presso {location}. Risponda SI per confermare o NO per annullare.",
	},
	KindBookingConfirmation: {
		"en": "Hi {first_name}, your appointment at {location} is booked {day} at {time}. Reply YES to confirm or NO to cancel.",
		"fr": "Bonjour {first_name}, votre rendez-vous chez {location} est fixé {day} à {time}. Confirmez par OUI ou annulez par NON.",
		"es": "Hola {first_name}, su cita en {location} queda reservada para {day} a las {time}. Confirme con SI o cancele con NO.",
		"de": "Hallo {first_name}, Ihr Termin bei {location} ist gebucht: {day} um {time} Uhr. Bestätigen mit JA, absagen mit NEIN.",
		"nl": "Beste {first_name}, uw afspraak bij {location} staat {day} om {time} gepland. Bevestig met JA, zeg af met NEE.",
		"pt": "{location}: {first_name}, consulta marcada {day} às {time}. Responda SIM para confirmar ou CANCELAR.",
		"it": "Gentile {first_name}, l'appuntamento presso {location} è fissato per {day} alle {time}. Risponda SI per confermare o NO per annullare.",
	},
	KindAckConfirm: {
		"en": "Thank you {first_name}, your appointment at {location} {day} at {time} is confirmed. See you then!",
		"fr": "Merci {first_name}, votre rendez-vous chez {location} {day} à {time} est bien confirmé.",
		"es": "Gracias {first_name}, su cita en {location} {day} a las {time} queda confirmada. Le esperamos.",
		"de": "Danke {first_name}, Ihr Termin bei {location} {day} um {time} Uhr ist bestätigt. Bis bald!",
		"nl": "Bedankt {first_name}, uw afspraak bij {location} {day} om {time} is bevestigd. Tot dan!",
		"pt": "{location}: obrigado {first_name}, a sua consulta {day} às {time} fica confirmada. Até breve!",
		"it": "Grazie {first_name}, il suo appuntamento presso {location} {day} alle {time} è confermato. A presto!",
	},
	KindAckCancel: {
		"en": "Thank you {first_name}, your appointment at {location} {day} at {time} is cancelled. To book again, call {clinic_phone}.",
		"fr": "Merci {first_name}, votre rendez-vous chez {location} {day} à {time} est annulé. Pour en reprendre un, appelez le {clinic_phone}.",
		"es": "Gracias {first_name}, su cita en {location} {day} a las {time} queda cancelada. Para pedir otra, llame al {clinic_phone}.",
		"de": "Danke {first_name}, Ihr Termin bei {location} {day} um {time} Uhr ist abgesagt. Neuer Termin: {clinic_phone}.",
		"nl": "Bedankt {first_name}, uw afspraak bij {location} {day} om {time} is geannuleerd. Nieuwe afspraak? Bel {clinic_phone}.",
		"pt": "{location}: obrigado {first_name}, a sua consulta {day} às {time} foi desmarcada. Para remarcar, ligue {clinic_phone}.",
		"it": "Grazie {first_name}, l'appuntamento presso {location} {day} alle {time} è annullato. Per riprenotare: {clinic_phone}.",
	},
	KindCancellationNotice: {
		"en": "Hi {first_name}, sorry, we had to cancel your appointment at {location} {day} at {time}. To book again, call {clinic_phone}.",
		"fr": "Désolés {first_name}, nous devons annuler votre rendez-vous chez {location} {day} à {time}. Pour en reprendre un : {clinic_phone}.",
		"es": "Lo sentimos {first_name}: su cita en {location} {day} a las {time} ha sido cancelada. Para pedir otra: {clinic_phone}.",
		"de": "Hallo {first_name}, leider müssen wir Ihren Termin bei {location} {day} um {time} Uhr absagen. Neuer Termin: {clinic_phone}.",
		"nl": "Beste {first_name}, helaas is uw afspraak bij {location} {day} om {time} geannuleerd. Nieuwe afspraak? Bel {clinic_phone}.",
		"pt": "{location}: {first_name}, lamentamos: a sua consulta {day} às {time} foi cancelada. Para remarcar, ligue {clinic_phone}.",
		"it": "Gentile {first_name}, purtroppo l'appuntamento presso {location} {day} alle {time} è annullato. Per riprenotare: {clinic_phone}.",
	},
	KindRescheduleNotice: {
		"en": "Hi {first_name}, your appointment at {location} has moved. It is now {day} at {time}. Reply YES to confirm or NO to cancel.",
		"fr": "Bonjour {first_name}, nouvel horaire pour votre rendez-vous chez {location} : {day} à {time}. Confirmez par OUI ou annulez par NON.",
		"es": "Hola {first_name}, su cita en {location} ha cambiado: ahora es {day} a las {time}. Confirme con SI o cancele con NO.",
		"de": "Hallo {first_name}, Ihr Termin bei {location} wurde verschoben: {day} um {time} Uhr. Bestätigen mit JA, absagen mit NEIN.",
		"nl": "Beste {first_name}, uw afspraak bij {location} is verzet en is nu {day} om {time}. Bevestig met JA, zeg af met NEE.",
		"pt": "{location}: {first_name}, a sua consulta mudou e passa a ser {day} às {time}. Responda SIM para confirmar ou CANCELAR.",
		"it": "Gentile {first_name}, l'appuntamento presso {location} è spostato a {day} alle {time}. Risponda SI per confermare o NO per annullare.",
	},
	KindNoShowFollowUp: {
		"en": "Hi {first_name}, we missed you at {location} {day}. To book another time: {link}",
		"fr": "Bonjour {first_name}, nous ne vous avons pas vu chez {location} {day}. Pour reprendre rendez-vous : {link}",
		"es": "Hola {first_name}, no pudo venir a su cita en {location} {day}. Para pedir otra: {link}",
		"de": "Hallo {first_name}, wir haben Sie {day} bei {location} vermisst. Neuen Termin buchen: {link}",
		"nl": "Beste {first_name}, we hebben u {day} gemist bij {location}. Nieuwe afspraak maken: {link}",
		"pt": "{location}: {first_name}, sentimos a sua falta {day}. Para marcar nova consulta: {link}",
		"it": "Gentile {first_name}, non l'abbiamo vista {day} presso {location}. Per un nuovo appuntamento: {link}",
	},
	KindRescheduleAck: {
		"en": "Thanks {first_name}, we got your request for another time. {clinic} will text you some options soon.",
		"fr": "Merci {first_name}, votre demande de changement d'horaire est notée. {clinic} vous proposera d'autres créneaux par SMS.",
		"es": "Gracias {first_name}, en {clinic} hemos recibido su solicitud de cambio de cita. Le enviaremos otras horas por SMS.",
		"de": "Danke {first_name}, wir haben Ihren Wunsch nach einem anderen Termin erhalten. {clinic} schickt Ihnen per SMS freie Zeiten.",
		"nl": "Bedankt {first_name}, we hebben uw verzoek voor een ander tijdstip ontvangen. {clinic} stuurt u per sms een paar opties.",
		"pt": "{clinic}: obrigado {first_name}, recebemos o seu pedido para mudar a consulta. Em breve enviamos outras horas por SMS.",
		"it": "Grazie {first_name}, abbiamo ricevuto la sua richiesta di cambiare orario. {clinic} le invierà via SMS altri orari disponibili.",
	},
	KindRescheduleOffer: {
		"en": "Hi {first_name}, here are other times at {location}. Reply {choices}.",
		"fr": "Bonjour {first_name}, voici d'autres créneaux chez {location}. Répondez {choices}.",
		"es": "Hola {first_name}, tenemos estas horas libres en {location}. Responda {choices}.",
		"de": "Hallo {first_name}, bei {location} sind diese Zeiten frei. Antworten Sie mit der Nummer: {choices}.",
		"nl": "Beste {first_name}, bij {location} zijn deze tijden vrij. Antwoord met het nummer: {choices}.",
		"pt": "{location}: {first_name}, temos estas horas livres. Responda {choices}.",
		"it": "Gentile {first_name}, ecco altri orari liberi presso {location}. Risponda {choices}.",
	},
	KindRescheduled: {
		"en": "Thank you {first_name}, your appointment at {location} is now {day} at {time}. See you then!",
		"fr": "C'est noté {first_name} : votre rendez-vous chez {location} aura lieu {day} à {time}.",
		"es": "Gracias {first_name}, su cita en {location} queda cambiada para {day} a las {time}. Le esperamos.",
		"de": "Danke {first_name}, Ihr Termin bei {location} ist jetzt {day} um {time} Uhr. Bis bald!",
		"nl": "Bedankt {first_name}, uw afspraak bij {location} is nu {day} om {time}. Tot dan!",
		"pt": "{location}: obrigado {first_name}, a sua consulta passa a ser {day} às {time}. Até breve!",
		"it": "Grazie {first_name}, il suo appuntamento presso {location} è ora {day} alle {time}. A presto!",
	},
	KindOfferTaken: {
		"en": "Sorry {first_name}, that time was just taken. Other times at {location}: reply {choices}.",
		"fr": "Désolés {first_name}, ce créneau est déjà pris. Créneaux libres chez {location} : répondez {choices}.",
		"es": "Lo sentimos {first_name}, esa hora ya se ha ocupado. Otras horas libres en {location}: responda {choices}.",
		"de": "Leider ist dieser Termin vergeben, {first_name}. Frei bei {location}, bitte mit Nummer antworten: {choices}.",
		"nl": "Helaas {first_name}, dat tijdstip is al bezet. Vrij bij {location}, antwoord met het nummer: {choices}.",
		"pt": "{location}: lamentamos {first_name}, essa hora foi ocupada. Outras horas livres: responda {choices}.",
		"it": "Ci scusi {first_name}, quell'orario è stato preso. Orari liberi presso {location}: risponda {choices}.",
	},
	KindWaitlistOffer: {
		"en": "{clinic}: a {time} slot {day} with {provider} has opened. Reply YES to take it.",
		"fr": "{clinic} : un créneau {day} à {time} avec {provider} vient de se libérer. Répondez OUI pour le prendre.",
		"es": "{clinic}: se ha liberado una hora {day} a las {time} con {provider}. Responda SI para reservarla.",
		"de": "{clinic}: Ein Termin {day} um {time} Uhr bei {provider} ist frei geworden. Antworten Sie JA, um ihn zu buchen.",
		"nl": "{clinic}: er is een plek vrijgekomen {day} om {time} bij {provider}. Antwoord JA om die te nemen.",
		"pt": "{clinic}: vagou uma hora {day} às {time} com {provider}. Responda SIM para a marcar.",
		"it": "{clinic}: si è liberato un posto {day} alle {time} con {provider}. Risponda SI per prenotarlo.", //nolint:misspell // Italian
	},
	KindWaitlistBooked: {
		"en": "Thank you {first_name}, the slot is yours: {location} {day} at {time} with {provider}. See you then!",
		"fr": "Merci {first_name}, le créneau est à vous : {location} {day} à {time} avec {provider}. Nous vous attendons.",
		"es": "Gracias {first_name}, la hora es suya: {location} {day} a las {time} con {provider}. Le esperamos.",
		"de": "Danke {first_name}, der Termin gehört Ihnen: {location} {day} um {time} Uhr bei {provider}. Bis bald!",
		"nl": "Bedankt {first_name}, de plek is voor u: {location} {day} om {time} bij {provider}. Tot dan!",
		"pt": "{location}: obrigado {first_name}, a hora é sua: {day} às {time} com {provider}. Até breve!",
		"it": "Grazie {first_name}, il posto è suo: {location} {day} alle {time} con {provider}. A presto!",
	},
	KindWaitlistTaken: {
		"en": "Sorry {first_name}, that slot has been taken. You stay on the {clinic} waitlist and we will text you when another opens.",
		"fr": "Désolés {first_name}, ce créneau a déjà trouvé preneur. Vous restez sur la liste d'attente de {clinic} et serez prévenu du prochain.",
		"es": "Lo sentimos {first_name}, esa hora ya se ha ocupado. Sigue en la lista de espera de {clinic}; le avisaremos si se libera otra.",
		"de": "Leider ist dieser Termin schon vergeben, {first_name}. Sie bleiben auf der Warteliste von {clinic} und wir melden uns wieder.",
		"nl": "Helaas {first_name}, die plek is al bezet. U blijft op de wachtlijst van {clinic}; we sturen een bericht als er weer iets vrijkomt.",
		"pt": "{clinic}: lamentamos {first_name}, essa hora foi ocupada. Continua na lista de espera e avisamos quando vagar outra.",
		"it": "Ci scusi {first_name}, quel posto è già stato preso. Resta nella lista d'attesa di {clinic}: la avviseremo appena se ne libera un altro.",
	},
	KindQuestion: {
		"en": "You have several appointments with {clinic}. Reply {choices}, with YES or NO (e.g. 1 YES).",
		"fr": "Vous avez plusieurs rendez-vous chez {clinic}. Répondez {choices}, avec OUI ou NON (ex. : 1 OUI).",
		"es": "Tiene varias citas en {clinic}. Responda {choices}, con SI o NO (por ejemplo 1 SI).",
		"de": "Sie haben mehrere Termine bei {clinic}. Antworten Sie mit Nummer und JA oder NEIN (z. B. 1 JA): {choices}.",
		"nl": "U heeft meerdere afspraken bij {clinic}. Antwoord met het nummer en JA of NEE (bijv. 1 JA): {choices}.",
		"pt": "{clinic}: tem mais de uma consulta marcada. Responda {choices}, com SIM ou CANCELAR (ex.: 1 SIM).",
		"it": "Ha più appuntamenti presso {clinic}. Risponda {choices}, con SI o NO (ad esempio 1 SI).",
	},
	KindHelp: {
		"en": "{clinic} appointment reminders. Reply YES to confirm, NO to cancel, STOP to opt out. Questions? Call {clinic_phone}.",
		"fr": "{clinic}, rappels de rendez-vous. Répondez OUI pour confirmer, NON pour annuler, STOP pour ne plus recevoir de SMS. Questions : {clinic_phone}",
		"es": "{clinic}, recordatorios de citas. Responda SI para confirmar, NO para cancelar, STOP para darse de baja. Dudas: llame al {clinic_phone}",
		"de": "{clinic}, Terminerinnerungen. Antworten Sie JA zum Bestätigen, NEIN zum Absagen, STOP zum Abmelden. Fragen? Tel. {clinic_phone}",
		"nl": "{clinic}, afspraakherinneringen. Antwoord JA om te bevestigen, NEE om af te zeggen, STOP om u af te melden. Vragen? Bel {clinic_phone}",
		"pt": "{clinic}, lembretes de consultas. Responda SIM para confirmar, CANCELAR para desmarcar, STOP para deixar de receber. Telefone: {clinic_phone}",
		"it": "{clinic}, promemoria appuntamenti. Risponda SI per confermare, NO per annullare, STOP per non ricevere più messaggi. Info: {clinic_phone}",
	},
	KindOptOutAck: {
		"en": "{clinic}: you replied STOP and will get no more texts from us. To get appointment reminders again, reply START.",
		"fr": "{clinic} : vous avez répondu STOP et ne recevrez plus de SMS de notre part. Pour recevoir à nouveau nos rappels, répondez START.",
		"es": "{clinic}: ha respondido STOP y ya no le enviaremos mensajes. Para volver a recibir recordatorios, responda START.",
		"de": "{clinic}: Sie haben mit STOP geantwortet und erhalten keine SMS mehr von uns. Für neue Erinnerungen antworten Sie START.",
		"nl": "{clinic}: u heeft STOP geantwoord en krijgt geen berichten meer van ons. Wilt u weer herinneringen? Antwoord dan START.",
		"pt": "{clinic}: respondeu STOP e deixa de receber mensagens nossas. Para voltar a receber lembretes, responda START.",
		"it": "{clinic}: ha risposto STOP e non riceverà più messaggi da noi. Per ricevere di nuovo i promemoria, risponda START.",
	},
	KindOptInAck: {
		"en": "{clinic}: you will get appointment reminders again. Reply STOP to opt out, HELP for help.",
		"fr": "{clinic} : vous recevrez à nouveau nos rappels de rendez-vous. Répondez STOP pour ne plus en recevoir.",
		"es": "{clinic}: le volveremos a enviar recordatorios de sus citas. Responda STOP para darse de baja.",
		"de": "{clinic}: Sie erhalten wieder Terminerinnerungen von uns. Antworten Sie STOP, um sich abzumelden.",
		"nl": "{clinic}: u krijgt weer herinneringen voor uw afspraken. Antwoord STOP om u af te melden.",
		"pt": "{clinic}: vai voltar a receber lembretes das suas consultas. Responda STOP para deixar de receber.",
		"it": "{clinic}: riceverà di nuovo i promemoria dei suoi appuntamenti. Risponda STOP per non riceverli più.",
	},
	KindQuickCallUs: {
		"en": "Hi {first_name}, please call {clinic} at {clinic_phone} so we can help you.",
		"fr": "Bonjour {first_name}, merci d'appeler {clinic} au {clinic_phone}, nous pourrons vous aider.",
		"es": "Hola {first_name}, por favor llame a {clinic} al {clinic_phone} y le ayudaremos.",
		"de": "Hallo {first_name}, bitte rufen Sie {clinic} unter {clinic_phone} an, dann helfen wir Ihnen gern.",
		"nl": "Beste {first_name}, wilt u {clinic} bellen op {clinic_phone}? Dan helpen we u graag verder.",
		"pt": "{clinic}: {first_name}, por favor ligue para {clinic_phone} para podermos ajudar.",
		"it": "Gentile {first_name}, la preghiamo di chiamare {clinic} al {clinic_phone}, così potremo aiutarla.",
	},
	KindQuickWillReply: {
		"en": "Hi {first_name}, thanks for your message. {clinic} will get back to you shortly.",
		"fr": "Bonjour {first_name}, merci pour votre message. {clinic} vous répondra rapidement.",
		"es": "Hola {first_name}, gracias por su mensaje. En {clinic} le responderemos en breve.",
		"de": "Hallo {first_name}, danke für Ihre Nachricht. {clinic} meldet sich in Kürze bei Ihnen.",
		"nl": "Beste {first_name}, bedankt voor uw bericht. {clinic} neemt snel contact met u op.",
		"pt": "{clinic}: obrigado {first_name}, recebemos a sua mensagem e vamos responder em breve.",
		"it": "Gentile {first_name}, grazie per il suo messaggio. {clinic} le risponderà al più presto.",
	},
}
