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
	},
	"fr": {
		months:       [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		weekdays:     [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
		weekdayAbbrs: [7]string{"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d", d, m, y) },
		clock:        clock24,
	},
	"es": {
		months:       [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		weekdays:     [7]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
		weekdayAbbrs: [7]string{"dom", "lun", "mar", "mié", "jue", "vie", "sáb"},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d de %s de %d", d, m, y) },
		clock:        clock24,
	},
	"de": {
		months:       [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
		weekdays:     [7]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
		weekdayAbbrs: [7]string{"So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d. %s %d", d, m, y) },
		clock:        clock24,
	},
	"nl": {
		months:       [12]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
		weekdays:     [7]string{"zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"},
		weekdayAbbrs: [7]string{"zo", "ma", "di", "wo", "do", "vr", "za"},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d", d, m, y) },
		clock:        clock24,
	},
	"pt": {
		months:       [12]string{"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
		weekdays:     [7]string{"domingo", "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado"},
		weekdayAbbrs: [7]string{"dom.", "seg.", "ter.", "qua.", "qui.", "sex.", "sáb."},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d de %s de %d", d, m, y) },
		clock:        clock24,
	},
	"it": {
		months:       [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		weekdays:     [7]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"},
		weekdayAbbrs: [7]string{"dom", "lun", "mar", "mer", "gio", "ven", "sab"},
		date:         func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d", d, m, y) },
		clock:        clock24,
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
