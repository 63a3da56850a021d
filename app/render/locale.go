package render

import (
	"fmt"
	"strings"
	"time"
)

// locale holds the names and formats of one language.
type locale struct {
	months       [12]string // January first
	weekdays     [7]string  // Sunday first, as time.Weekday counts
	weekdayAbbrs [7]string
	// date formats a day, a month name and a year (the CLDR "long" date
	// pattern, without the weekday, which has its own placeholder).
	date func(day int, month string, year int) string
	// clock formats hours (0-23) and minutes.
	clock func(hour, minute int) string
	// today and tomorrow are what {day} says for those days; on names any
	// other day as it reads inside a sentence ("see you on Tuesday, March
	// 3 at ..."), from the weekday (its number and its name), the day of
	// the month and the month's name.
	today, tomorrow string
	on              func(w time.Weekday, weekday string, day int, month string) string
	// choiceFor joins a choice's number to its label in a numbered list
	// ("1 for Tue 10:00 AM", "1 pour mar. 10:00").
	choiceFor string
}

func clock24(hour, minute int) string { return fmt.Sprintf("%02d:%02d", hour, minute) }

func clock12(hour, minute int) string {
	suffix := "AM"
	if hour >= 12 {
		suffix = "PM"
	}
	h := hour % 12
	if h == 0 {
		h = 12
	}
	return fmt.Sprintf("%d:%02d %s", h, minute, suffix)
}

// dayFR writes "le mardi 3 mars", and "le dimanche 1er mars" for the first
// of the month, as French does.
func dayFR(_ time.Weekday, w string, d int, m string) string {
	if d == 1 {
		return fmt.Sprintf("le %s 1er %s", w, m)
	}
	return fmt.Sprintf("le %s %d %s", w, d, m)
}

// dayPT writes "na terça-feira, 3 de março" but "no sábado, 7 de março":
// the preposition agrees with the weekday's gender.
func dayPT(w time.Weekday, name string, d int, m string) string {
	prep := "na"
	if w == time.Saturday || w == time.Sunday {
		prep = "no"
	}
	return fmt.Sprintf("%s %s, %d de %s", prep, name, d, m)
}

// defaultLanguage is used for an empty or unknown language.
const defaultLanguage = "en"

// languages lists the supported languages in the order Languages reports.
var languages = []string{"en", "fr", "es", "de", "nl", "pt", "it"}

// locales is read-only after package initialisation.
var locales = map[string]locale{
	"en": {
		months:       [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		weekdays:     [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		weekdayAbbrs: [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%s %d, %d", m, d, y) },
		clock:        clock12,
		today:        "today",
		tomorrow:     "tomorrow",
		on:           func(_ time.Weekday, w string, d int, m string) string { return fmt.Sprintf("on %s, %s %d", w, m, d) },
		choiceFor:    "for",
	},
	"fr": {
		months:       [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		weekdays:     [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
		weekdayAbbrs: [7]string{"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d", d, m, y) },
		clock:        clock24,
		today:        "aujourd'hui",
		tomorrow:     "demain",
		on:           dayFR,
		choiceFor:    "pour",
	},
	"es": {
		months:       [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		weekdays:     [7]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
		weekdayAbbrs: [7]string{"dom", "lun", "mar", "mié", "jue", "vie", "sáb"},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d de %s de %d", d, m, y) },
		clock:        clock24,
		today:        "hoy",
		tomorrow:     "mañana",
		on:           func(_ time.Weekday, w string, d int, m string) string { return fmt.Sprintf("el %s %d de %s", w, d, m) },
		choiceFor:    "para",
	},
	"de": {
		months:       [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
		weekdays:     [7]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
		weekdayAbbrs: [7]string{"So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d. %s %d", d, m, y) },
		clock:        clock24,
		today:        "heute",
		tomorrow:     "morgen",
		on:           func(_ time.Weekday, w string, d int, m string) string { return fmt.Sprintf("am %s, %d. %s", w, d, m) },
		choiceFor:    "für",
	},
	"nl": {
		months:       [12]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
		weekdays:     [7]string{"zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"},
		weekdayAbbrs: [7]string{"zo", "ma", "di", "wo", "do", "vr", "za"},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d", d, m, y) },
		clock:        clock24,
		today:        "vandaag",
		tomorrow:     "morgen",
		on:           func(_ time.Weekday, w string, d int, m string) string { return fmt.Sprintf("op %s %d %s", w, d, m) },
		choiceFor:    "voor",
	},
	"pt": {
		months:       [12]string{"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
		weekdays:     [7]string{"domingo", "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado"},
		weekdayAbbrs: [7]string{"dom.", "seg.", "ter.", "qua.", "qui.", "sex.", "sáb."},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d de %s de %d", d, m, y) },
		clock:        clock24,
		today:        "hoje",
		tomorrow:     "amanhã",
		on:           dayPT,
		choiceFor:    "para",
	},
	"it": {
		months:       [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		weekdays:     [7]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"},
		weekdayAbbrs: [7]string{"dom", "lun", "mar", "mer", "gio", "ven", "sab"},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d", d, m, y) },
		clock:        clock24,
		today:        "oggi",
		tomorrow:     "domani",
		on:           func(_ time.Weekday, w string, d int, m string) string { return fmt.Sprintf("%s %d %s", w, d, m) },
		choiceFor:    "per",
	},
}

// Languages returns the supported language codes, "en" first.
func Languages() []string {
	return append([]string(nil), languages...)
}

// NormalizeLanguage maps a language tag to a supported code: it is case-
// insensitive and ignores a region ("pt-BR" and "fr_CA" give "pt" and "fr");
// an empty or unsupported tag gives "en".
func NormalizeLanguage(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	base, _, _ = strings.Cut(base, "_")
	if _, ok := locales[base]; ok {
		return base
	}
	return defaultLanguage
}

func localeFor(lang string) locale {
	return locales[NormalizeLanguage(lang)]
}

// localTime returns t on the wall clock of loc (nil means UTC).
func localTime(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc)
}

// FormatDate formats t's date in loc and the language lang, with the month
// written out: "March 3, 2026", "3 mars 2026", "3 de marzo de 2026",
// "3. März 2026", "3 maart 2026", "3 de março de 2026", "3 marzo 2026".
// This is what {date} renders.
func FormatDate(t time.Time, loc *time.Location, lang string) string {
	l, lt := localeFor(lang), localTime(t, loc)
	return l.date(lt.Day(), l.months[lt.Month()-1], lt.Year())
}

// FormatTime formats t's time of day in loc: "2:30 PM" in English, "14:30"
// in the other languages. This is what {time} renders.
func FormatTime(t time.Time, loc *time.Location, lang string) string {
	lt := localTime(t, loc)
	return localeFor(lang).clock(lt.Hour(), lt.Minute())
}

// FormatWeekday returns t's full weekday name in loc and lang ("Tuesday",
// "mardi", "martes", "Dienstag", "dinsdag", "terça-feira", "martedì"). This
// is what {weekday} renders.
func FormatWeekday(t time.Time, loc *time.Location, lang string) string {
	return localeFor(lang).weekdays[localTime(t, loc).Weekday()]
}

// FormatSlot formats an appointment time compactly for a numbered choice
// ("Reply 1 for Tue 10:00 AM, 2 for Thu 2:30 PM"): the abbreviated weekday
// and the time, in loc and lang, such as "Tue 2:30 PM", "mar. 14:30",
// "Di. 14:30". It names no date, so two slots a week apart look alike;
// a caller listing such slots should add FormatDate.
func FormatSlot(t time.Time, loc *time.Location, lang string) string {
	l, lt := localeFor(lang), localTime(t, loc)
	return l.weekdayAbbrs[lt.Weekday()] + " " + l.clock(lt.Hour(), lt.Minute())
}

// CalendarDays returns how many calendar days, on the wall clock of loc
// (nil means UTC), separate from's date and to's date: 0 on the same day, 1
// when to is the next day, -1 when it is the day before. It counts dates,
// not 24-hour spans, so 23:59 to 00:01 is one day and a daylight-saving
// day counts as one day whatever its length.
func CalendarDays(from, to time.Time, loc *time.Location) int {
	return dayNumber(localTime(to, loc)) - dayNumber(localTime(from, loc))
}

// dayNumber counts the days from 1 March of year 0 to t's date in the
// proleptic Gregorian calendar (any fixed origin would do), exactly for
// any year time.Time holds, where a time.Duration would overflow.
func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	if m <= time.February {
		y--
		m += 12
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era-- // floor division
	}
	yoe := y - era*400                     // [0, 399]
	doy := (153*(int(m)-3)+2)/5 + d - 1    // [0, 365], from 1 March
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe
}

// FormatDay says when startsAt is, seen from sendAt (the moment the message
// goes out), both on the wall clock of loc, in the language lang, as it
// reads inside a sentence: "today", "tomorrow", or the weekday and date
// ("on Tuesday, March 3"; "le mardi 3 mars", "el martes 3 de marzo", "am
// Dienstag, 3. März", "op dinsdag 3 maart", "na terça-feira, 3 de março",
// "martedì 3 marzo"). A zero sendAt, or an appointment earlier than the
// send's day, gets the weekday and date. This is what {day} renders; a
// template writes "see you {day} at {time}".
func FormatDay(sendAt, startsAt time.Time, loc *time.Location, lang string) string {
	l := localeFor(lang)
	if !sendAt.IsZero() {
		switch CalendarDays(sendAt, startsAt, loc) {
		case 0:
			return l.today
		case 1:
			return l.tomorrow
		}
	}
	return formatOn(startsAt, loc, lang)
}

// formatOn names t's day by its weekday and date, as {day} does for a day
// other than today and tomorrow.
func formatOn(t time.Time, loc *time.Location, lang string) string {
	l, lt := localeFor(lang), localTime(t, loc)
	return l.on(lt.Weekday(), l.weekdays[lt.Weekday()], lt.Day(), l.months[lt.Month()-1])
}

// FormatChoices numbers labels from 1 for a numbered list in the language
// lang, which a template shows with {choices}: "1 for Tue 10:00 AM, 2 for
// Thu 2:30 PM" ("1 pour mar. 10:00, 2 pour jeu. 14:30" in French). The
// labels are typically FormatSlot values.
func FormatChoices(lang string, labels []string) string {
	l := localeFor(lang)
	parts := make([]string, len(labels))
	for i, label := range labels {
		parts[i] = fmt.Sprintf("%d %s %s", i+1, l.choiceFor, label)
	}
	return strings.Join(parts, ", ")
}
