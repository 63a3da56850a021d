package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/app/inbox"
	"apptconfirm/app/slots"
	"apptconfirm/models"
)

// patientWords is how a patient of one language writes back, and phrases
// each kind of text the app sends must hold in that language.
type patientWords struct {
	lang, phone, first         string
	yes, no, help, stop, start string
	// another asks for another time.
	another string
	// phrases maps a message kind (and "reminder_soon" for the 2 h
	// reminder) to a phrase of its shipped text in the language.
	phrases map[string]string
}

// A French, a German and a Spanish patient each receive every kind of
// message the app sends, in their language, through the fake SMS.CX
// gateway: the booking confirmation, both reminders, the acknowledgements
// of their replies, the numbered question, the HELP, STOP and START
// answers (their replies come in through the webhook), the reschedule and
// cancellation notices (staff act), and an inbox quick answer. Every text is
// logged as the patient reads it.
func TestEveryMessageInThePatientsLanguage(t *testing.T) {
	patients := []patientWords{
		{
			lang: "fr", phone: "+33612345678", first: "Marie", yes: "Oui", no: "non", help: "AIDE", stop: "STOP", start: "START", another: "je voudrais reporter le rendez-vous",
			phrases: map[string]string{
				models.KindBookingConfirm:   "Bonjour Marie, votre rendez-vous chez Main St est fixé",
				models.KindReminder:         "Bonjour Marie, rappel de votre rendez-vous chez Main St",
				"reminder_soon":             "Bonjour Marie, nous vous attendons",
				models.KindAckConfirm:       "est bien confirmé",
				models.KindAckCancel:        "est annulé. Pour en reprendre un, appelez le +33142685300",
				models.KindQuestion:         "Vous avez plusieurs rendez-vous chez Cabinet Dupont. Répondez 1 pour",
				models.KindRescheduleNotice: "nouvel horaire pour votre rendez-vous",
				models.KindCancellation:     "Désolés Marie, nous devons annuler votre rendez-vous",
				models.KindHelp:             "Cabinet Dupont, rappels de rendez-vous. Répondez OUI pour confirmer",
				models.KindOptOutAck:        "Cabinet Dupont : vous avez répondu STOP",
				models.KindOptInAck:         "Cabinet Dupont : vous recevrez à nouveau nos rappels",
				models.KindManual:           "Bonjour Marie, merci d'appeler Cabinet Dupont au +33142685300",
				models.KindRescheduleAck:    "Merci Marie, votre demande de changement d'horaire est notée. Cabinet Dupont vous proposera",
				models.KindRescheduleOffer:  "Bonjour Marie, voici d'autres créneaux chez Main St. Répondez 1 pour",
				models.KindOfferTaken:       "Désolés Marie, ce créneau est déjà pris. Créneaux libres chez Main St : répondez 1 pour",
				models.KindRescheduled:      "C'est noté Marie : votre rendez-vous chez Main St aura lieu",
			},
		},
		{
			lang: "de", phone: "+4915123456789", first: "Jonas", yes: "Ja", no: "NEIN", help: "Hilfe", stop: "Stop", start: "Start", another: "Ich möchte den Termin verschieben",
			phrases: map[string]string{
				models.KindBookingConfirm:   "Hallo Jonas, Ihr Termin bei Main St ist gebucht",
				models.KindReminder:         "Hallo Jonas, Erinnerung an Ihren Termin bei Main St",
				"reminder_soon":             "Hallo Jonas, wir erwarten Sie",
				models.KindAckConfirm:       "Uhr ist bestätigt",
				models.KindAckCancel:        "Uhr ist abgesagt. Neuer Termin: +33142685300",
				models.KindQuestion:         "Sie haben mehrere Termine bei Cabinet Dupont. Antworten Sie mit Nummer und JA oder NEIN (z. B. 1 JA): 1 für",
				models.KindRescheduleNotice: "Ihr Termin bei Main St wurde verschoben",
				models.KindCancellation:     "leider müssen wir Ihren Termin bei Main St",
				models.KindHelp:             "Cabinet Dupont, Terminerinnerungen. Antworten Sie JA zum Bestätigen",
				models.KindOptOutAck:        "Cabinet Dupont: Sie haben mit STOP geantwortet",
				models.KindOptInAck:         "Cabinet Dupont: Sie erhalten wieder Terminerinnerungen",
				models.KindManual:           "Hallo Jonas, bitte rufen Sie Cabinet Dupont unter +33142685300 an",
				models.KindRescheduleAck:    "Danke Jonas, wir haben Ihren Wunsch nach einem anderen Termin erhalten. Cabinet Dupont schickt",
				models.KindRescheduleOffer:  "Hallo Jonas, bei Main St sind diese Zeiten frei. Antworten Sie mit der Nummer: 1 für",
				models.KindOfferTaken:       "Leider ist dieser Termin vergeben, Jonas. Frei bei Main St, bitte mit Nummer antworten: 1 für",
				models.KindRescheduled:      "Danke Jonas, Ihr Termin bei Main St ist jetzt",
			},
		},
		{
			lang: "es", phone: "+34612345678", first: "Lucía", yes: "Sí", no: "no", help: "ayuda", stop: "STOP", start: "START", another: "Quiero cambiar la cita",
			phrases: map[string]string{
				models.KindBookingConfirm:   "Hola Lucía, su cita en Main St queda reservada para",
				models.KindReminder:         "Hola Lucía, le recordamos su cita en Main St",
				"reminder_soon":             "Hola Lucía, le esperamos",
				models.KindAckConfirm:       "queda confirmada. Le esperamos.",
				models.KindAckCancel:        "queda cancelada. Para pedir otra, llame al +33142685300",
				models.KindQuestion:         "Tiene varias citas en Cabinet Dupont. Responda 1 para",
				models.KindRescheduleNotice: "su cita en Main St ha cambiado: ahora es",
				models.KindCancellation:     "Lo sentimos Lucía: su cita en Main St",
				models.KindHelp:             "Cabinet Dupont, recordatorios de citas. Responda SI para confirmar",
				models.KindOptOutAck:        "Cabinet Dupont: ha respondido STOP",
				models.KindOptInAck:         "Cabinet Dupont: le volveremos a enviar recordatorios",
				models.KindManual:           "Hola Lucía, por favor llame a Cabinet Dupont al +33142685300",
				models.KindRescheduleAck:    "Gracias Lucía, en Cabinet Dupont hemos recibido su solicitud de cambio de cita",
				models.KindRescheduleOffer:  "Hola Lucía, tenemos estas horas libres en Main St. Responda 1 para",
				models.KindOfferTaken:       "Lo sentimos Lucía, esa hora ya se ha ocupado. Otras horas libres en Main St: responda 1 para",
				models.KindRescheduled:      "Gracias Lucía, su cita en Main St queda cambiada para",
			},
		},
	}
	cfg := config.Default()
	cfg.Clinic.Name = "Cabinet Dupont"
	cfg.Clinic.Timezone = "Europe/Paris"
	cfg.Clinic.Country = "FR"
	cfg.Clinic.Phone = "+33142685300"
	cfg.Reminders.BookingConfirmation = true
	cfg.Reminders.QuietHours = config.QuietHours{} // the test may run at night
	cfg.Reminders.CapPerDay, cfg.Reminders.CapPerWeek = 0, 0
	a := serveTestApp(t, cfg)
	ctx := context.Background()
	// The default location carries the clinic's name from the configuration
	// ("Cabinet Dupont"); appointments here are at "Main St".
	loc, err := a.Clinic.CreateLocation(ctx, models.SystemActor(), clinic.LocationInput{
		Name: "Main St", TimeZone: "Europe/Paris", Country: "FR", Phone: "+33142685300",
	})
	if err != nil {
		t.Fatal(err)
	}
	// Main St is open round the clock, so that the finder has fresh times
	// whenever the test runs.
	allDay, err := slots.ParseHours("mon-sun 00:00-24:00", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Availability.SaveSchedule(ctx, models.SystemActor(), availability.LocationOwner(loc.ID), availability.ScheduleInput{Hours: allDay}); err != nil {
		t.Fatal(err)
	}
	staff := models.Actor{Name: "front@example.com"}
	for _, pw := range patients {
		t.Run(pw.lang, func(t *testing.T) {
			c := &patientThread{t: t, a: a, pw: pw, got: map[string]string{}}
			p, err := a.Clinic.CreatePatient(ctx, staff, clinic.PatientInput{FirstName: pw.first, LastName: "Test", Phone: pw.phone, Language: pw.lang}, "FR")
			if err != nil {
				t.Fatal(err)
			}
			book := func(in time.Duration) *models.Appointment {
				start := time.Now().Add(in).Truncate(time.Hour)
				appt, err := a.Clinic.CreateAppointment(ctx, staff, clinic.AppointmentInput{PatientID: p.ID, LocationID: loc.ID, StartsAt: start, DurationMinutes: 30})
				if err != nil {
					t.Fatal(err)
				}
				return appt
			}

			// Booked: the confirmation goes out at once.
			first := book(72 * time.Hour)
			c.expect(models.KindBookingConfirm)
			// Staff send both reminders now ("Send now" on Tomorrow's sends).
			for _, m := range c.planned(first.ID, models.KindReminder) {
				if _, err := a.Dispatcher.SendNow(ctx, m.ID, staff); err != nil {
					t.Fatal(err)
				}
				kind := models.KindReminder
				if m.RuleName == "2h" {
					kind = "reminder_soon"
				}
				c.expectID(kind, m.ID)
			}
			// YES confirms it and is acknowledged.
			c.reply(pw.yes)
			c.expect(models.KindAckConfirm)

			// Two more bookings: a bare NO is ambiguous, so the patient is
			// asked which one; "2 NO" cancels the second of the list.
			book(96 * time.Hour)
			third := book(120 * time.Hour)
			c.expectN(models.KindBookingConfirm, 2)
			c.reply(pw.no)
			c.expect(models.KindQuestion)
			c.reply("2 " + pw.no)
			c.expect(models.KindAckCancel)

			// Staff move the third appointment, then cancel it: notices.
			if _, err := a.Clinic.UpdateAppointment(ctx, staff, third.ID, clinic.AppointmentInput{StartsAt: third.StartsAt.Add(26 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			c.expect(models.KindRescheduleNotice)
			if _, err := a.Clinic.Cancel(ctx, staff, third.ID, "the doctor is away"); err != nil {
				t.Fatal(err)
			}
			c.expect(models.KindCancellation)

			// The patient asks for another time for the first appointment
			// (the first of the two awaiting an answer), staff offer two
			// times, the first is taken before the patient picks it, and
			// the pick from the fresh times moves the appointment.
			c.reply(pw.another + " 1")
			c.expect(models.KindRescheduleAck)
			free, err := a.Reschedule.Suggest(ctx, first.ID)
			if err != nil || len(free) < 2 {
				t.Fatalf("free times %v, %v", free, err)
			}
			t1, t2 := free[0], free[1]
			if _, err := a.Reschedule.Offer(ctx, staff, first.ID, []time.Time{t1, t2}); err != nil {
				t.Fatal(err)
			}
			c.expect(models.KindRescheduleOffer)
			if _, err := a.Clinic.CreateAppointment(ctx, staff, clinic.AppointmentInput{PatientID: p.ID, LocationID: loc.ID, StartsAt: t1, DurationMinutes: 30}); err != nil {
				t.Fatal(err)
			}
			c.reply("1")
			c.expect(models.KindOfferTaken)
			c.reply("2")
			c.expect(models.KindRescheduled)

			// HELP, then a question staff answer from the inbox with a
			// quick answer, then STOP and START.
			c.reply(pw.help)
			c.expect(models.KindHelp)
			c.reply("¿?" + pw.first + " 123 ???")
			var items []inbox.Item
			eventually(t, "the reply to reach the inbox", func() bool {
				items, _, err = a.Inbox.List(ctx, inbox.Query{})
				for _, it := range items {
					if it.Message.From == pw.phone {
						items = []inbox.Item{it}
						return true
					}
				}
				return false
			})
			if len(items[0].QuickAnswers) == 0 || items[0].QuickAnswers[0].Language != pw.lang {
				t.Fatalf("quick answers %+v", items[0].QuickAnswers)
			}
			if err := a.Inbox.Answer(ctx, staff, items[0].Message.ID, items[0].QuickAnswers[0].Text); err != nil {
				t.Fatal(err)
			}
			c.expect(models.KindManual)
			c.reply(pw.stop)
			c.expect(models.KindOptOutAck)
			c.reply(pw.start)
			c.expect(models.KindOptInAck)

			for _, kind := range []string{
				models.KindBookingConfirm, models.KindReminder, "reminder_soon", models.KindAckConfirm, models.KindQuestion,
				models.KindAckCancel, models.KindRescheduleNotice, models.KindCancellation, models.KindRescheduleAck,
				models.KindRescheduleOffer, models.KindOfferTaken, models.KindRescheduled, models.KindHelp, models.KindManual,
				models.KindOptOutAck, models.KindOptInAck,
			} {
				t.Logf("%-20s %s", kind, c.got[kind])
			}
		})
	}
}

// patientThread follows what one patient receives.
type patientThread struct {
	t   *testing.T
	a   *servedApp
	pw  patientWords
	got map[string]string
	// seen counts the messages already checked, by id.
	seen map[uint]bool
}

// reply sends text from the patient through the fake gateway.
func (c *patientThread) reply(text string) {
	c.t.Helper()
	if _, err := c.a.Simulator.EmitReceiveSMS(context.Background(), c.pw.phone, "+33100000000", text); err != nil {
		c.t.Fatal(err)
	}
}

// planned returns an appointment's planned messages of kind.
func (c *patientThread) planned(appointmentID uint, kind string) []models.Message {
	c.t.Helper()
	var ms []models.Message
	if err := c.a.Store.DB(context.Background()).Where("appointment_id = ? AND kind = ? AND status = ?", appointmentID, kind, models.MsgPlanned).
		Order("send_at").Find(&ms).Error; err != nil {
		c.t.Fatal(err)
	}
	return ms
}

// expect waits for the next message of kind to the patient to reach the
// gateway and checks its text and language.
func (c *patientThread) expect(kind string) {
	c.t.Helper()
	c.expectN(kind, 1)
}

// expectN waits until n messages of kind to the patient went out, and
// checks those not checked yet.
func (c *patientThread) expectN(kind string, n int) {
	c.t.Helper()
	dbKind := kind
	if kind == "reminder_soon" {
		dbKind = models.KindReminder
	}
	var ms []models.Message
	eventually(c.t, kind+" to reach the gateway", func() bool {
		ms = nil
		err := c.a.Store.DB(context.Background()).Where(`"to" = ? AND kind = ? AND status IN ?`, c.pw.phone, dbKind,
			[]models.MessageStatus{models.MsgAccepted, models.MsgSent, models.MsgDelivered}).Order("id").Find(&ms).Error
		if err != nil {
			c.t.Fatal(err)
		}
		fresh := 0
		for _, m := range ms {
			if !c.seen[m.ID] {
				fresh++
			}
		}
		return fresh >= n
	})
	for _, m := range ms {
		c.check(kind, m)
	}
}

// expectID checks message id, once it went out.
func (c *patientThread) expectID(kind string, id uint) {
	c.t.Helper()
	var m models.Message
	eventually(c.t, kind+" to go out", func() bool {
		if err := c.a.Store.DB(context.Background()).First(&m, id).Error; err != nil {
			c.t.Fatal(err)
		}
		return m.Status == models.MsgAccepted || m.Status == models.MsgSent || m.Status == models.MsgDelivered
	})
	c.check(kind, m)
}

// check compares what the gateway got for m with the phrase of its kind in
// the patient's language.
func (c *patientThread) check(kind string, m models.Message) {
	c.t.Helper()
	if c.seen == nil {
		c.seen = map[uint]bool{}
	}
	if c.seen[m.ID] {
		return
	}
	c.seen[m.ID] = true
	var sent string
	for _, s := range c.a.Simulator.Sends() {
		if s.IdempotencyID == m.UUID {
			sent = s.Text
		}
	}
	if sent == "" || sent != m.Body {
		c.t.Fatalf("%s: the gateway got %q, the message says %q", kind, sent, m.Body)
	}
	want := c.pw.phrases[kind]
	if !strings.Contains(sent, want) {
		c.t.Fatalf("%s to the %s patient: %q, want it to contain %q", kind, c.pw.lang, sent, want)
	}
	if kind != models.KindManual && (m.Language != c.pw.lang || m.FallbackFrom != "") {
		c.t.Fatalf("%s: recorded in %q (fallback from %q), want %q", kind, m.Language, m.FallbackFrom, c.pw.lang)
	}
	c.got[kind] = sent
}
