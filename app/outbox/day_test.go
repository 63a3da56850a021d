package outbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// The day a reminder names, end to end: the planner places each rule's send
// (moving it out of quiet hours, after them when that leaves min_lead before
// the appointment, else before them), the clock is set to that send, and
// the outbox writes the text as the dispatcher claims it. {day} must say the
// right day across midnight, quiet hours and daylight-saving changes, in
// several zones and languages, with the shipped texts.
func TestDayIsRightWhenTheReminderGoesOut(t *testing.T) {
	tests := []struct {
		name string
		// zone and quiet hours of the location ("" for none).
		zone, quietStart, quietEnd string
		// minLead is reminders.min_lead (0 for the default, 60 min).
		minLead time.Duration
		lang    string
		// start is the appointment's local start; rule the rule that sends.
		start string
		rule  string
		// wantSend is the local time the reminder goes out; wantDay the
		// words the text must hold; wantMove the move reason ("" for none).
		wantSend string
		wantDay  string
		wantMove string
	}{
		{
			name: "2 h before a 09:00 visit falls in quiet hours: it goes when they end, the same day",
			zone: "Europe/Paris", quietStart: "21:00", quietEnd: "08:00", lang: "en",
			start: "2026-03-05T09:00", rule: "2h",
			wantSend: "2026-03-05 08:00", wantDay: "see you today at 9:00 AM", wantMove: "moved to 08:00, after quiet hours",
		},
		{
			name: "the same in French",
			zone: "Europe/Paris", quietStart: "21:00", quietEnd: "08:00", lang: "fr",
			start: "2026-03-05T09:00", rule: "2h",
			wantSend: "2026-03-05 08:00", wantDay: "nous vous attendons aujourd'hui à 09:00", wantMove: "moved to 08:00, after quiet hours",
		},
		{
			name: "an 08:30 visit would leave 30 min after quiet hours: it goes the evening before, saying tomorrow",
			zone: "Europe/Paris", quietStart: "21:00", quietEnd: "08:00", lang: "de",
			start: "2026-03-05T08:30", rule: "2h",
			wantSend: "2026-03-04 20:59", wantDay: "wir erwarten Sie morgen um 08:30 Uhr",
			wantMove: "moved to 20:59, before quiet hours: after them there would be less than 60 min before the appointment",
		},
		{
			name: "with min_lead at 15 min the 08:30 visit gets it at 08:00, today",
			zone: "Europe/Paris", quietStart: "21:00", quietEnd: "08:00", minLead: 15 * time.Minute, lang: "es",
			start: "2026-03-05T08:30", rule: "2h",
			wantSend: "2026-03-05 08:00", wantDay: "le esperamos hoy a las 08:30", wantMove: "moved to 08:00, after quiet hours",
		},
		{
			name: "a visit just after midnight: the evening before, tomorrow",
			zone: "Europe/Paris", quietStart: "21:00", quietEnd: "08:00", lang: "en",
			start: "2026-03-05T00:30", rule: "2h",
			wantSend: "2026-03-04 20:59", wantDay: "see you tomorrow at 12:30 AM",
			wantMove: "moved to 20:59, before quiet hours: the appointment starts before they end",
		},
		{
			name: "no quiet hours: 2 h before 00:30 is 22:30 the day before, tomorrow",
			zone: "Europe/Paris", lang: "nl",
			start: "2026-03-05T00:30", rule: "2h",
			wantSend: "2026-03-04 22:30", wantDay: "we zien u morgen om 00:30",
		},
		{
			name: "48 h before names the weekday and date",
			zone: "Europe/Paris", quietStart: "21:00", quietEnd: "08:00", lang: "es",
			start: "2026-03-05T10:00", rule: "48h",
			wantSend: "2026-03-03 10:00", wantDay: "el jueves 5 de marzo a las 10:00",
		},
		{
			name: "New York springs forward that night: quiet hours end at 08:00 EDT, today",
			zone: "America/New_York", quietStart: "21:00", quietEnd: "08:00", lang: "en",
			start: "2026-03-08T09:00", rule: "2h",
			wantSend: "2026-03-08 08:00", wantDay: "see you today at 9:00 AM", wantMove: "moved to 08:00, after quiet hours",
		},
		{
			name: "Paris springs forward that night: 2 h before 03:30 CEST is 00:30 CET, in quiet hours, so 20:59 the day before",
			zone: "Europe/Paris", quietStart: "21:00", quietEnd: "08:00", lang: "fr",
			start: "2026-03-29T03:30", rule: "2h",
			wantSend: "2026-03-28 20:59", wantDay: "nous vous attendons demain à 03:30",
			wantMove: "moved to 20:59, before quiet hours: the appointment starts before they end",
		},
		{
			name: "Sydney falls back that night: the reminder goes at 08:00 AEST, today",
			zone: "Australia/Sydney", quietStart: "21:00", quietEnd: "08:00", lang: "it",
			start: "2026-04-05T09:15", rule: "2h",
			wantSend: "2026-04-05 08:00", wantDay: "l'aspettiamo oggi alle 09:15", wantMove: "moved to 08:00, after quiet hours",
		},
		{
			name: "Kolkata (half-hour offset) just after midnight: the evening before",
			zone: "Asia/Kolkata", quietStart: "21:00", quietEnd: "08:00", lang: "pt",
			start: "2026-03-06T00:15", rule: "2h",
			wantSend: "2026-03-05 20:59", wantDay: "a sua consulta é amanhã às 00:15",
			wantMove: "moved to 20:59, before quiet hours: the appointment starts before they end",
		},
		{
			name: "quiet hours that do not cross midnight (12:00-14:00): moved to 14:00, today",
			zone: "Europe/Paris", quietStart: "12:00", quietEnd: "14:00", lang: "en",
			start: "2026-03-05T15:30", rule: "2h",
			wantSend: "2026-03-05 14:00", wantDay: "see you today at 3:30 PM", wantMove: "moved to 14:00, after quiet hours",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			opts := defaultOptions()
			opts.Caps = schedule.Caps{} // both reminders may fall on one local day
			opts.MinLead = tc.minLead
			e := newEnv(t, opts)
			zone := mustZone(tc.zone)
			loc, err := e.clinic.CreateLocation(ctx, e.staff, clinic.LocationInput{
				Name: "Site " + tc.zone, TimeZone: tc.zone, Country: "FR", Phone: "+33142685300",
				QuietStart: tc.quietStart, QuietEnd: tc.quietEnd,
			})
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.clinic.CreatePatient(ctx, e.staff, clinic.PatientInput{FirstName: "Ada", LastName: "Test", Phone: "+33612345678", Language: tc.lang}, "")
			if err != nil {
				t.Fatal(err)
			}
			a, err := e.clinic.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{
				PatientID: p.ID, LocationID: loc.ID, StartsLocal: tc.start, DurationMinutes: 30,
			})
			if err != nil {
				t.Fatal(err)
			}
			m, ok := e.live(t, a.ID)[tc.rule]
			if !ok {
				t.Fatalf("no live %s reminder: %+v", tc.rule, e.live(t, a.ID))
			}
			if got := m.SendAt.In(zone).Format("2006-01-02 15:04"); got != tc.wantSend {
				t.Fatalf("goes out %s, want %s (%s)", got, tc.wantSend, m.MoveReason)
			}
			if m.MoveReason != tc.wantMove || (m.MovedFrom != nil) != (tc.wantMove != "") {
				t.Fatalf("move %q from %v, want %q", m.MoveReason, m.MovedFrom, tc.wantMove)
			}
			if tc.wantMove != "" {
				start, _ := time.ParseInLocation("2006-01-02T15:04", tc.start, zone)
				if before := e.rule(t, tc.rule).Before(); !m.MovedFrom.Equal(start.Add(-before)) {
					t.Fatalf("moved from %s, want %s", m.MovedFrom, start.Add(-before))
				}
			}

			// The dispatcher's clock reaches the send time; the text is
			// written as it is claimed.
			e.clk.Set(m.SendAt)
			claimed, ended, err := e.ob.Claim(ctx, outbox.Claim{Limit: 10, Lease: time.Minute, MaxAttempts: 3})
			if err != nil {
				t.Fatal(err)
			}
			var body, lang string
			for _, c := range claimed {
				if c.Message.ID == m.ID {
					body, lang = c.Message.Body, c.Message.Language
				}
			}
			if body == "" {
				t.Fatalf("the reminder was not claimed; ended: %+v", ended)
			}
			if !strings.Contains(body, tc.wantDay) || lang != tc.lang {
				t.Fatalf("sent %q in %q, want it to contain %q in %q", body, lang, tc.wantDay, tc.lang)
			}
		})
	}
}

// The appointment page (and Tomorrow's sends) say when and why quiet hours
// moved a send, and a text whose fixed words name the wrong day is flagged.
func TestMovedAndWrongDayAreShown(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, defaultOptions())
	p := e.patient(t, "Ada", "+33612345678")
	early := e.book(t, p.ID, "2026-03-03T08:30") // 2 h before falls in quiet hours, moved to 20:59 today
	rule := e.rule(t, "2h")
	if err := e.store.PutRuleTemplate(ctx, rule.ID, "en", "Hi {first_name}, see you today at {time}.", t0); err != nil {
		t.Fatal(err)
	}
	shown, err := e.ob.AppointmentMessages(ctx, early.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got *outbox.Shown
	for i := range shown {
		if shown[i].Message.RuleName == "2h" {
			got = &shown[i]
		}
	}
	if got == nil {
		t.Fatalf("no 2h reminder among %+v", shown)
	}
	wantMoved := "due Tue 3 Mar 06:30 CET; moved to 20:59, before quiet hours: after them there would be less than 60 min before the appointment"
	if got.Moved != wantMoved {
		t.Fatalf("moved %q, want %q", got.Moved, wantMoved)
	}
	if got.Name != "Reminder 2 h before" || !got.Upcoming || got.Preview.Text != "Hi Ada, see you today at 8:30 AM." {
		t.Fatalf("shown %+v", got)
	}
	if !strings.Contains(got.DayWarning, `the text says "today"`) || !strings.Contains(got.DayWarning, "the day before the appointment") {
		t.Fatalf("day warning %q", got.DayWarning)
	}
	up, err := e.ob.Upcoming(ctx, 24*time.Hour, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(up) != 1 || up[0].DayWarning == "" || up[0].Moved != wantMoved {
		t.Fatalf("upcoming %+v", up)
	}
}

// A patient whose language the clinic does not write in, or has no text
// in, gets the default language, and the message says so.
func TestLanguageFallbackIsRecorded(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, defaultOptions())
	if err := e.store.PutSetting(ctx, models.SettingLanguages, "en,fr"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang, phone, want, fallback, text string
	}{
		{"fr", "+33612345671", "fr", "", "Bonjour Ada"},
		{"de", "+33612345672", "en", "de", "Hi Ada"},
	} {
		p, err := e.clinic.CreatePatient(ctx, e.staff, clinic.PatientInput{FirstName: "Ada", Phone: tc.phone, Language: tc.lang}, "")
		if err != nil {
			t.Fatal(err)
		}
		a := e.book(t, p.ID, "2026-03-05T10:00")
		m := e.live(t, a.ID)["48h"]
		e.clk.Set(m.SendAt)
		claimed, _, err := e.ob.Claim(ctx, outbox.Claim{Limit: 10, Lease: time.Minute, MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range claimed {
			if c.Message.ID != m.ID {
				continue
			}
			if c.Message.Language != tc.want || c.Message.FallbackFrom != tc.fallback || !strings.HasPrefix(c.Message.Body, tc.text) {
				t.Fatalf("%s patient: %q in %q (fallback from %q)", tc.lang, c.Message.Body, c.Message.Language, c.Message.FallbackFrom)
			}
		}
		e.clk.Set(t0)
	}
}
