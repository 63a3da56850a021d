package render

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCalendarDays(t *testing.T) {
	newYork := mustLoc(t, "America/New_York")
	tests := []struct {
		name     string
		from, to string
		loc      *time.Location
		want     int
	}{
		{"same instant", "2026-03-03T12:00:00Z", "2026-03-03T12:00:00Z", time.UTC, 0},
		{"across midnight by two minutes", "2026-03-03T23:59:00Z", "2026-03-04T00:01:00Z", time.UTC, 1},
		{"almost two days, one date apart", "2026-03-03T00:00:00Z", "2026-03-04T23:59:00Z", time.UTC, 1},
		{"backwards", "2026-03-04T00:01:00Z", "2026-03-03T23:59:00Z", time.UTC, -1},
		// 23:30Z and 00:30Z are 18:30 and 19:30 in New York: one evening.
		{"the zone decides, not UTC", "2026-03-03T23:30:00Z", "2026-03-04T00:30:00Z", newYork, 0},
		{"nil location is UTC", "2026-03-03T23:30:00Z", "2026-03-04T00:30:00Z", nil, 1},
		// 2026-03-08 is 23 hours long in New York, 2026-11-01 is 25.
		{"spring forward day: 23 hours, one date apart", "2026-03-08T04:59:00Z", "2026-03-09T03:59:00Z", newYork, 1},
		{"fall back day: 25 hours, one date", "2026-11-01T04:00:00Z", "2026-11-02T04:59:00Z", newYork, 0},
		{"fall back day: the next midnight", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", newYork, 1},
		{"a year", "2026-03-03T12:00:00Z", "2027-03-03T12:00:00Z", time.UTC, 365},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CalendarDays(mustUTC(t, tt.from), mustUTC(t, tt.to), tt.loc); got != tt.want {
				t.Fatalf("CalendarDays = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestFormatDayLanguages(t *testing.T) {
	// Tuesday 3 March 2026, 14:30 in Berlin; sent the same morning, the
	// evening before, and a week before.
	berlin := mustLoc(t, "Europe/Berlin")
	startsAt := mustUTC(t, "2026-03-03T13:30:00Z")
	sameDay, dayBefore, weekBefore := mustUTC(t, "2026-03-03T07:00:00Z"), mustUTC(t, "2026-03-02T19:59:00Z"), mustUTC(t, "2026-02-24T13:30:00Z")
	want := map[string][3]string{
		"en": {"today", "tomorrow", "on Tuesday, March 3"},
		"fr": {"aujourd'hui", "demain", "le mardi 3 mars"},
		"es": {"hoy", "mañana", "el martes 3 de marzo"},
		"de": {"heute", "morgen", "am Dienstag, 3. März"},
		"nl": {"vandaag", "morgen", "op dinsdag 3 maart"},
		"pt": {"hoje", "amanhã", "na terça-feira, 3 de março"},
		"it": {"oggi", "domani", "martedì 3 marzo"},
		"xx": {"today", "tomorrow", "on Tuesday, March 3"},
	}
	for lang, w := range want {
		for i, sendAt := range []time.Time{sameDay, dayBefore, weekBefore} {
			if got := FormatDay(sendAt, startsAt, berlin, lang); got != w[i] {
				t.Errorf("FormatDay(%s, send %s) = %q, want %q", lang, sendAt.In(berlin), got, w[i])
			}
		}
		if got := FormatDay(time.Time{}, startsAt, berlin, lang); got != w[2] {
			t.Errorf("FormatDay(%s, zero send time) = %q, want %q", lang, got, w[2])
		}
	}
}

func TestFormatDayGrammar(t *testing.T) {
	far := mustUTC(t, "2026-01-01T00:00:00Z")
	tests := []struct {
		lang, at, want string
	}{
		// French writes the first of the month "1er".
		{"fr", "2026-03-01T12:00:00Z", "le dimanche 1er mars"},
		{"fr", "2026-03-02T12:00:00Z", "le lundi 2 mars"},
		// Portuguese: "no" before the masculine sábado and domingo.
		{"pt", "2026-03-07T12:00:00Z", "no sábado, 7 de março"},
		{"pt", "2026-03-08T12:00:00Z", "no domingo, 8 de março"},
		{"pt", "2026-03-09T12:00:00Z", "na segunda-feira, 9 de março"},
		{"en", "2026-09-30T12:00:00Z", "on Wednesday, September 30"},
		{"de", "2026-10-01T12:00:00Z", "am Donnerstag, 1. Oktober"},
		{"es", "2026-03-07T12:00:00Z", "el sábado 7 de marzo"},
	}
	for _, tt := range tests {
		if got := FormatDay(far, mustUTC(t, tt.at), time.UTC, tt.lang); got != tt.want {
			t.Errorf("FormatDay(%s, %s) = %q, want %q", tt.lang, tt.at, got, tt.want)
		}
	}
}

// TestRenderDayAcrossZones renders {day} where the send and the
// appointment straddle midnight, a daylight-saving change or the date line.
func TestRenderDayAcrossZones(t *testing.T) {
	tests := []struct {
		name, zone     string
		sendAt, starts string
		want           string // English
	}{
		{"utc, a minute before midnight", "UTC", "2026-03-03T23:59:00Z", "2026-03-04T00:01:00Z", "tomorrow"},
		{"utc, just after midnight", "UTC", "2026-03-04T00:00:00Z", "2026-03-04T09:00:00Z", "today"},
		// 20:59 EST on Saturday for 09:00 EDT on Sunday, the spring-forward day.
		{"new york, evening before spring forward", "America/New_York", "2026-03-08T01:59:00Z", "2026-03-08T13:00:00Z", "tomorrow"},
		// 08:00 EDT on the spring-forward day itself.
		{"new york, morning of spring forward", "America/New_York", "2026-03-08T12:00:00Z", "2026-03-08T13:00:00Z", "today"},
		// 20:59 EDT on Saturday for 09:00 EST on Sunday, the fall-back day.
		{"new york, evening before fall back", "America/New_York", "2026-11-01T00:59:00Z", "2026-11-01T14:00:00Z", "tomorrow"},
		// 01:30 EST (the second 01:30) for 09:00 the same day.
		{"new york, in the repeated hour", "America/New_York", "2026-11-01T06:30:00Z", "2026-11-01T14:00:00Z", "today"},
		// 22:00 New York on the 3rd is 03:00Z on the 4th: still the 3rd there.
		{"new york, utc is already tomorrow", "America/New_York", "2026-03-04T03:00:00Z", "2026-03-04T14:00:00Z", "tomorrow"},
		{"paris, spring forward night", "Europe/Paris", "2026-03-28T19:59:00Z", "2026-03-29T07:00:00Z", "tomorrow"},
		{"paris, fall back morning", "Europe/Paris", "2026-10-25T07:00:00Z", "2026-10-25T08:00:00Z", "today"},
		// Lord Howe moves by 30 minutes: 02:00 -> 02:30 on 2026-10-04.
		{"lord howe, half-hour change", "Australia/Lord_Howe", "2026-10-03T09:59:00Z", "2026-10-03T22:00:00Z", "tomorrow"},
		{"lord howe, after the change", "Australia/Lord_Howe", "2026-10-03T21:00:00Z", "2026-10-03T22:00:00Z", "today"},
		// Kiritimati is UTC+14: the same UTC date is two local dates.
		{"kiritimati", "Pacific/Kiritimati", "2026-03-03T09:00:00Z", "2026-03-03T11:00:00Z", "tomorrow"},
		{"two days ahead", "Europe/Paris", "2026-03-01T08:00:00Z", "2026-03-03T08:00:00Z", "on Tuesday, March 3"},
		{"appointment already past", "Europe/Paris", "2026-03-04T08:00:00Z", "2026-03-03T08:00:00Z", "on Tuesday, March 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Data{SendAt: mustUTC(t, tt.sendAt), StartsAt: mustUTC(t, tt.starts), Location: mustLoc(t, tt.zone), Language: "en"}
			got, err := Render("{day}", d)
			if err != nil || got != tt.want {
				t.Fatalf("{day} = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRenderClinic(t *testing.T) {
	d := Data{ClinicName: " Smile Dental ", LocationName: "Main St"}
	if got, err := Render("{clinic}: {location}", d); err != nil || got != "Smile Dental: Main St" {
		t.Fatalf("Render = %q, %v", got, err)
	}
	d.ClinicName = ""
	if got, err := Render("{clinic}", d); err != nil || got != "Main St" {
		t.Fatalf("{clinic} without a clinic name = %q, %v; want the location's name", got, err)
	}
	if got, err := Render("{clnic}", d); !errors.Is(err, ErrUnknownPlaceholder) || !strings.Contains(err.Error(), "did you mean {clinic}?") {
		t.Fatalf("Render({clnic}) = %q, %v", got, err)
	}
}

func TestFormatChoices(t *testing.T) {
	labels := []string{"A", "B"}
	want := map[string]string{
		"en": "1 for A, 2 for B", "fr": "1 pour A, 2 pour B", "es": "1 para A, 2 para B", "de": "1 für A, 2 für B",
		"nl": "1 voor A, 2 voor B", "pt": "1 para A, 2 para B", "it": "1 per A, 2 per B", "": "1 for A, 2 for B",
	}
	for lang, w := range want {
		if got := FormatChoices(lang, labels); got != w {
			t.Errorf("FormatChoices(%q) = %q, want %q", lang, got, w)
		}
	}
	if got := FormatChoices("en", nil); got != "" {
		t.Errorf("FormatChoices of nothing = %q", got)
	}
}

func TestDayContradiction(t *testing.T) {
	paris := mustLoc(t, "Europe/Paris")
	appt := mustUTC(t, "2026-03-03T08:00:00Z")    // Tuesday 09:00 in Paris
	sameDay := mustUTC(t, "2026-03-03T07:00:00Z") // 08:00
	dayBefore := mustUTC(t, "2026-03-02T19:59:00Z")
	twoBefore := mustUTC(t, "2026-03-01T08:00:00Z")
	tests := []struct {
		name   string
		tmpl   string
		sendAt time.Time
		want   string // a part of the warning; "" means none
	}{
		// The bug this catches: a "today" text moved to the evening before.
		{"en today, sent the evening before", "Hi {first_name}, see you at {time} today.", dayBefore, `says "today", but it goes out on Monday, March 2 at 8:59 PM, the day before the appointment (on Tuesday, March 3 at 9:00 AM)`},
		{"en today, sent the same day", "See you at {time} today.", sameDay, ""},
		{"en tonight", "See you tonight", dayBefore, `"tonight"`},
		{"en this morning", "See you This Morning", twoBefore, `"This Morning"`},
		{"en today's", "Today's visit", dayBefore, `"Today's"`},
		{"en tomorrow, sent the day before", "See you tomorrow at {time}", dayBefore, ""},
		{"en tomorrow, sent the same day", "See you tomorrow at {time}", sameDay, `says "tomorrow"`},
		{"en tomorrow, two days ahead", "TOMORROW!", twoBefore, "2 days before the appointment"},
		{"word boundary: todays is a word, today-ish is not", "todayish", dayBefore, ""},
		{"word boundary: inside a word", "Stoday", dayBefore, ""},
		{"the {day} placeholder is always right", "See you {day} at {time}.", dayBefore, ""},
		{"fr aujourd'hui", "RDV aujourd'hui à {time}", dayBefore, `"aujourd'hui"`},
		{"fr typographic apostrophe, capitals", "AUJOURD’HUI", dayBefore, `"AUJOURD’HUI"`},
		{"fr ce soir", "à ce soir", dayBefore, `"ce soir"`},
		{"fr demain right", "à demain", dayBefore, ""},
		{"fr demain wrong", "à demain", sameDay, `"demain"`},
		{"fr après-demain is not tomorrow", "après-demain", sameDay, ""},
		{"es hoy", "Su cita es hoy", dayBefore, `"hoy"`},
		{"es mañana wrong", "Su cita es mañana a las {time}", sameDay, `"mañana"`},
		{"es mañana without the tilde", "Su cita es MANANA", sameDay, `"MANANA"`},
		{"es por la mañana is the morning", "Su cita es el martes por la mañana", sameDay, ""},
		{"es de la mañana is the morning", "a las 9 de la mañana", twoBefore, ""},
		{"es esta mañana is this morning", "Su cita es esta mañana", sameDay, ""},
		{"es esta mañana, sent the day before", "Su cita es esta mañana", dayBefore, `"esta mañana"`},
		{"es mañana por la mañana is tomorrow", "mañana por la mañana", sameDay, `"mañana"`},
		{"es pasado mañana is not tomorrow", "pasado mañana", sameDay, ""},
		{"es esta tarde", "esta tarde", dayBefore, `"esta tarde"`},
		{"de heute", "Ihr Termin ist heute", dayBefore, `"heute"`},
		{"de heute Abend", "heute Abend", dayBefore, `"heute"`},
		{"de heute Morgen is this morning", "heute Morgen", sameDay, ""},
		{"de heute Morgen, sent the day before", "heute Morgen", dayBefore, `"heute"`},
		{"de morgen wrong", "Ihr Termin ist morgen", sameDay, `"morgen"`},
		{"de morgen right", "Ihr Termin ist morgen", dayBefore, ""},
		{"de Guten Morgen is a greeting", "Guten Morgen {first_name}", sameDay, ""},
		{"de am Morgen is the morning", "am Morgen", twoBefore, ""},
		{"de morgigen", "Ihr morgigen Termin", sameDay, `"morgigen"`},
		{"de übermorgen is not tomorrow", "übermorgen", sameDay, ""},
		{"nl vandaag", "vandaag om {time}", dayBefore, `"vandaag"`},
		{"nl vanavond", "tot vanavond", dayBefore, `"vanavond"`},
		{"nl tot morgen wrong", "tot morgen", twoBefore, `"morgen"`},
		{"nl goedemorgen is a greeting", "Goedemorgen {first_name}", sameDay, ""},
		{"nl goede morgen is a greeting", "Goede morgen", sameDay, ""},
		{"nl morgenochtend", "morgenochtend", sameDay, `"morgenochtend"`},
		{"pt hoje", "a sua consulta é hoje", dayBefore, `"hoje"`},
		{"pt amanhã", "até amanhã", sameDay, `"amanhã"`},
		{"pt de manhã is the morning", "às 9 da manhã, de manhã", dayBefore, ""},
		{"pt depois de amanhã is not tomorrow", "depois de amanhã", sameDay, ""},
		{"it oggi", "oggi alle {time}", dayBefore, `"oggi"`},
		{"it stasera", "a stasera", dayBefore, `"stasera"`},
		{"it domani wrong", "a domani", sameDay, `"domani"`},
		{"it domenica is not domani", "domenica", sameDay, ""},
		{"it dopo domani is not tomorrow", "dopo domani", sameDay, ""},
		{"words split by a placeholder", "to{first_name}day", dayBefore, ""},
		{"a placeholder value is not read", "Hi {first_name}", dayBefore, ""},
		{"sent after the appointment", "today", mustUTC(t, "2026-03-04T08:00:00Z"), "the day after the appointment"},
		{"a template that does not parse", "today {oops}", dayBefore, ""},
		{"the question template parses", "Reply {choices} today", dayBefore, `"today"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Data{FirstName: "today", StartsAt: appt, SendAt: tt.sendAt, Location: paris, Language: "fr"}
			got := DayContradiction(tt.tmpl, d)
			if tt.want == "" {
				if got != "" {
					t.Fatalf("DayContradiction(%q) = %q, want none", tt.tmpl, got)
				}
				return
			}
			if !strings.Contains(got, tt.want) || !strings.Contains(got, "{day}") {
				t.Fatalf("DayContradiction(%q) = %q, want it to contain %q", tt.tmpl, got, tt.want)
			}
		})
	}
	if got := DayContradiction("today", Data{StartsAt: appt}); got != "" {
		t.Fatalf("unknown send time: %q", got)
	}
	if got := DayContradiction("today", Data{SendAt: dayBefore}); got != "" {
		t.Fatalf("unknown appointment time: %q", got)
	}
}

// FuzzTemplate feeds arbitrary templates and data to every entry point:
// none may panic, and what Validate (or ValidateQuestion) accepts, Render
// and PreviewText render whatever the data.
func FuzzTemplate(f *testing.F) {
	f.Add("Hi {first_name}, see you {day} at {time} at {location}. {clinic}", "Ana", "Main", "fr", int64(1772544600), int64(-86400), "1 for Tue")
	f.Add("Reply {choices}, today or mañana por la mañana", "{", "}", "es", int64(0), int64(0), "{choices}")
	f.Add("{day}{clinic}{{optoutLink}}{", "x", "", "pt-BR", int64(1793520000), int64(3600), "")
	f.Add("heute Morgen, Guten Morgen, morgen, aujourd’hui", "", "", "de", int64(1772544600), int64(7200), "")
	f.Fuzz(func(t *testing.T, tmpl, name, place, lang string, startUnix, sendOffset int64, choices string) {
		startsAt := time.Unix(startUnix%(1<<40), 0)
		d := Data{
			FirstName: name, LastName: place, Language: lang, StartsAt: startsAt,
			SendAt:   startsAt.Add(time.Duration(sendOffset%(1<<31)) * time.Second),
			Location: mustLoc(t, "Australia/Lord_Howe"), LocationName: place, ClinicName: name, Choices: choices,
		}
		verr, qerr := Validate(tmpl), ValidateQuestion(tmpl)
		out, rerr := Render(tmpl, d)
		if verr == nil && rerr != nil {
			t.Fatalf("Validate accepted %q but Render failed: %v", tmpl, rerr)
		}
		if qerr == nil && rerr != nil {
			t.Fatalf("ValidateQuestion accepted %q but Render failed: %v", tmpl, rerr)
		}
		if verr == nil && qerr == nil {
			t.Fatalf("%q passes both Validate and ValidateQuestion; {choices} belongs to exactly one", tmpl)
		}
		if rerr == nil {
			if _, err := PreviewText(tmpl, d); err != nil {
				t.Fatalf("PreviewText failed where Render worked: %v", err)
			}
			if utf8.ValidString(tmpl) && utf8.ValidString(name) && utf8.ValidString(place) && utf8.ValidString(choices) && !utf8.ValidString(out) {
				t.Fatalf("Render(%q) made invalid UTF-8 from valid input: %q", tmpl, out)
			}
		}
		w := DayContradiction(tmpl, d)
		if w != "" && rerr != nil {
			t.Fatalf("DayContradiction warned about a template that does not parse: %q", w)
		}
		if w != "" && !strings.Contains(w, "{day}") {
			t.Fatalf("warning %q does not point to {day}", w)
		}
	})
}

func TestCalendarDaysMatchesAddDate(t *testing.T) {
	// Against the standard library, over centuries and across the
	// Gregorian leap-year rules (1900 and 2100 are not leap years, 2000 is).
	starts := []time.Time{
		time.Date(-401, 2, 28, 12, 0, 0, 0, time.UTC), time.Date(1899, 12, 31, 12, 0, 0, 0, time.UTC),
		time.Date(1999, 2, 27, 12, 0, 0, 0, time.UTC), time.Date(2099, 3, 1, 12, 0, 0, 0, time.UTC),
	}
	for _, start := range starts {
		for _, n := range []int{0, 1, 2, 27, 59, 365, 366, 1461, 36524, 146097, 200000} {
			for _, sign := range []int{1, -1} {
				end := start.AddDate(0, 0, sign*n)
				if got := CalendarDays(start, end, time.UTC); got != sign*n {
					t.Fatalf("CalendarDays(%s, %s) = %d, want %d", start, end, got, sign*n)
				}
			}
		}
	}
	far := time.Unix(1<<40, 0)
	if got := CalendarDays(time.Unix(0, 0), far, time.UTC); got != int((1<<40)/86400) {
		t.Fatalf("CalendarDays to year %d = %d", far.Year(), got)
	}
}
