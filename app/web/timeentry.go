package web

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"apptconfirm/app/slots"
)

// Times are entered the way they are shown: a date field (the browser's
// date picker) and a time-of-day field in the clinic's format ("2:30 PM"
// on a 12-hour clock, "14:30" on a 24-hour one), parsed here. The browser's
// own datetime-local field is not used: it follows the browser's locale,
// not the clinic's clock. The services still take "2006-01-02T15:04" on
// the location's wall clock (clinic.LocalTimeLayout), as the API does.

// localLayout and localLayoutSeconds are the services' wall-clock layouts.
const (
	localLayout        = "2006-01-02T15:04"
	localLayoutSeconds = "2006-01-02T15:04:05"
)

// whenInput is one date-and-time entry as the form shows it.
type whenInput struct {
	Date, Time string
}

// timeOfDay formats a wall-clock time for the time field (seconds only
// when it has any, so an unchanged form never moves it).
func (c clockFormat) timeOfDay(t time.Time) string {
	if t.Second() != 0 {
		return c.format(t, "15:04:05")
	}
	return c.format(t, "15:04")
}

// splitLocal turns a services' wall-clock value ("2026-03-02T14:30") into
// the form's date and time; a value that does not parse is kept as typed.
func (c clockFormat) splitLocal(v string) whenInput {
	v = strings.TrimSpace(v)
	for _, layout := range []string{localLayout, localLayoutSeconds} {
		if t, err := time.Parse(layout, v); err == nil {
			return whenInput{Date: t.Format(dateLayout), Time: c.timeOfDay(t)}
		}
	}
	return whenInput{Time: v}
}

// example is a time written on the clinic's clock, for hints and errors.
func (c clockFormat) example() string {
	if c.twelve {
		return "2:30 PM"
	}
	return "14:30"
}

// joinLocal reads a date field and a time field into the services'
// wall-clock value. Both empty is "" with no problem (the caller decides
// whether the field is required); otherwise problem is a sentence naming
// the field (label: "Start", "Time 2").
func (c clockFormat) joinLocal(label string, w whenInput) (local, problem string) {
	date, tod := strings.TrimSpace(w.Date), strings.TrimSpace(w.Time)
	if date == "" && tod == "" {
		return "", ""
	}
	var day time.Time
	if date == "" {
		return "", fmt.Sprintf("%s has a time but no date.", label)
	}
	day, err := time.Parse(dateLayout, date)
	if err != nil || day.Year() < 1970 || day.Year() > 2199 {
		return "", fmt.Sprintf("%s: “%s” is not a date; pick one in the calendar or write it as YYYY-MM-DD.", label, clip(date, 20))
	}
	if tod == "" {
		return "", fmt.Sprintf("%s has a date but no time: write it like %s.", label, c.example())
	}
	h, m, sec, problem := c.parseTimeOfDay(tod)
	if problem != "" {
		return "", fmt.Sprintf("%s: “%s” %s.", label, clip(tod, 20), problem)
	}
	t := time.Date(day.Year(), day.Month(), day.Day(), h, m, sec, 0, time.UTC)
	if sec != 0 {
		return t.Format(localLayoutSeconds), ""
	}
	return t.Format(localLayout), ""
}

// parseTimeOfDay reads a time of day: "14:30", "14.30", "1430", "2:30 PM",
// "2:30pm", "2 pm", "2:30 p.m.", with optional seconds ("14:30:15").
// AM/PM is understood on either clock. On a 12-hour clock an hour from 1
// to 12 without AM or PM is ambiguous and refused; hours 0 and 13 to 23
// can only mean one thing and are taken. problem says what is wrong, to
// follow the typed value in a sentence.
func (c clockFormat) parseTimeOfDay(s string) (h, m, sec int, problem string) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\u00a0", ""), " ", "")
	suffix := ""
	for _, sfx := range []string{"a.m.", "p.m.", "a.m", "p.m", "am", "pm", "a", "p"} {
		if strings.HasSuffix(s, sfx) {
			suffix, s = sfx[:1], strings.TrimSuffix(s, sfx)
			break
		}
	}
	// A dot left after AM/PM is gone separates like a colon ("14.30"), so
	// that "10.5" is refused rather than read as 01:05.
	s = strings.ReplaceAll(s, ".", ":")
	bad := func() (int, int, int, string) {
		return 0, 0, 0, "is not a time of day: write it like " + c.example()
	}
	if s == "" || len(s) > 8 {
		return bad()
	}
	var parts []string
	switch {
	case strings.Contains(s, ":"):
		parts = strings.Split(s, ":")
	case strings.Contains(s, "h"):
		parts = strings.Split(s, "h") // "14h30", as French writes it
		if parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
	case len(s) <= 2:
		parts = []string{s}
	case len(s) == 3 || len(s) == 4:
		parts = []string{s[:len(s)-2], s[len(s)-2:]} // "230", "1430"
	default:
		return bad()
	}
	if len(parts) > 3 {
		return bad()
	}
	nums := make([]int, 3)
	for i, p := range parts {
		if p == "" || len(p) > 2 || (i > 0 && len(p) != 2) {
			return bad()
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return bad()
		}
		nums[i] = n
	}
	h, m, sec = nums[0], nums[1], nums[2]
	if m > 59 || sec > 59 {
		return bad()
	}
	switch suffix {
	case "a", "p":
		if h < 1 || h > 12 {
			return 0, 0, 0, "is not a time of day: with AM or PM the hour runs from 1 to 12"
		}
		h %= 12
		if suffix == "p" {
			h += 12
		}
	default:
		if h > 23 {
			return bad()
		}
		// "09:00" is written the 24-hour way; "9:00" could be either.
		if c.twelve && h >= 1 && h <= 12 && !strings.HasPrefix(parts[0], "0") {
			return 0, 0, 0, "needs AM or PM, such as " + c.example()
		}
	}
	return h, m, sec, ""
}

// clockTimes are the quarter hours from 07:00 to 20:00 on the clinic's
// clock: the suggestions of every time field.
func (c clockFormat) clockTimes() []string {
	var out []string
	for m := 7 * 60; m <= 20*60; m += 15 {
		out = append(out, c.minutes(m))
	}
	return out
}

// spansText writes one day's working hours on the clinic's clock
// ("9:00 AM-12:00 PM, 1:00 PM-5:00 PM"); the end of the day reads
// "12:00 AM" on a 12-hour clock and "24:00" on a 24-hour one.
func (c clockFormat) spansText(ivs slots.Intervals) string {
	if len(ivs) == 0 {
		return ""
	}
	parts := make([]string, len(ivs))
	for i, iv := range ivs {
		end := iv.End.String()
		if iv.End < 24*60 || c.twelve {
			end = c.minutes(int(iv.End) % (24 * 60))
		}
		parts[i] = c.minutes(int(iv.Start)) + "-" + end
	}
	return strings.Join(parts, ", ")
}

// exceptionsText writes dated exceptions one per line, their hours on the
// clinic's clock.
func (c clockFormat) exceptionsText(list []slots.Exception) string {
	lines := make([]string, len(list))
	for i, e := range list {
		line := e.From.String()
		if last := e.Last(); last != e.From {
			line += ".." + last.String()
		}
		if len(e.Hours) == 0 {
			line += " closed"
		} else {
			line += " " + c.spansText(e.Hours)
		}
		if e.Note != "" {
			line += " # " + e.Note
		}
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

// spanSeparators split a span's start from its end.
var spanSeparators = strings.NewReplacer("–", "-", "—", "-", " to ", "-")

// normaliseSpans rewrites one day's hours typed on the clinic's clock
// ("9 AM-12 PM, 1:00 PM-5:00 PM", "09:00-12:00") into the 24-hour form
// app/slots reads ("09:00-12:00,13:00-17:00"). An end of midnight
// ("12:00 AM", "00:00", "24:00") is the end of the day. Empty and
// "closed" stay as they are. problem, when set, follows the day's name in
// a sentence.
func (c clockFormat) normaliseSpans(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "closed") {
		return s, ""
	}
	parts := strings.Split(s, ",")
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		p = spanSeparators.Replace(strings.TrimSpace(p))
		a, b, ok := strings.Cut(p, "-")
		if !ok || strings.TrimSpace(a) == "" || strings.TrimSpace(b) == "" {
			return "", fmt.Sprintf("needs a start and an end in span %d (“%s”), such as %s-%s", i+1, clip(p, 30), c.example(), c.minutes(17*60))
		}
		start, problem := c.spanEnd(a, false)
		if problem != "" {
			return "", fmt.Sprintf("has a start that cannot be read in span %d: “%s” %s", i+1, clip(strings.TrimSpace(a), 20), problem)
		}
		end, problem := c.spanEnd(b, true)
		if problem != "" {
			return "", fmt.Sprintf("has an end that cannot be read in span %d: “%s” %s", i+1, clip(strings.TrimSpace(b), 20), problem)
		}
		out = append(out, start+"-"+end)
	}
	return strings.Join(out, ","), ""
}

// spanEnd reads one end of a span into "HH:MM"; as the end, midnight is
// "24:00".
func (c clockFormat) spanEnd(s string, end bool) (string, string) {
	s = strings.TrimSpace(s)
	if s == "24:00" || s == "24" {
		if end {
			return "24:00", ""
		}
		return "", "is the end of the day, not a start"
	}
	h, m, sec, problem := c.parseTimeOfDay(s)
	switch {
	case problem != "":
		return "", problem
	case sec != 0:
		return "", "has seconds: working hours are whole minutes"
	case end && h == 0 && m == 0:
		return "24:00", ""
	}
	return fmt.Sprintf("%02d:%02d", h, m), ""
}

// normaliseExceptions rewrites the hours of dated exceptions (one per line
// or separated by ";": dates, then "closed" or hours, then "# note") into
// the 24-hour form app/slots reads; lines it cannot split are left for
// slots.ParseExceptions to name.
func (c clockFormat) normaliseExceptions(s string) (string, string) {
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), ";", "\n"), "\n")
	for i, line := range lines {
		body, note, hasNote := strings.Cut(line, "#")
		dates, rest, ok := strings.Cut(strings.TrimSpace(body), " ")
		if !ok {
			continue
		}
		spans, problem := c.normaliseSpans(rest)
		if problem != "" {
			return "", fmt.Sprintf("Line %d %s.", i+1, problem)
		}
		lines[i] = dates + " " + spans
		if hasNote {
			lines[i] += " #" + note
		}
	}
	return strings.Join(lines, "\n"), ""
}

// shownHHMM writes a stored "HH:MM" on the clinic's clock; anything else
// is shown as it is.
func (c clockFormat) shownHHMM(v string) string {
	t, err := time.Parse("15:04", strings.TrimSpace(v))
	if err != nil {
		return v
	}
	return c.format(t, "15:04")
}

// readHHMM reads a time of day typed on the clinic's clock into the
// stored "HH:MM"; empty stays empty. problem is a sentence naming the
// field (label).
func (c clockFormat) readHHMM(label, typed string) (string, string) {
	typed = strings.TrimSpace(typed)
	if typed == "" {
		return "", ""
	}
	h, m, sec, problem := c.parseTimeOfDay(typed)
	switch {
	case problem != "":
		return "", fmt.Sprintf("%s: “%s” %s.", label, clip(typed, 20), problem)
	case sec != 0:
		return "", fmt.Sprintf("%s: “%s” has seconds; write hours and minutes, like %s.", label, clip(typed, 20), c.example())
	}
	return fmt.Sprintf("%02d:%02d", h, m), ""
}

// hhmm finds 24-hour times of day in a text.
var hhmm = regexp.MustCompile(`\b([01]\d|2[0-3]):[0-5]\d\b`)

// rewriteHHMM writes the 24-hour times of a service's sentence ("Mon from
// 09:00 until 12:00") on the clinic's clock.
func (c clockFormat) rewriteHHMM(text string) string {
	if !c.twelve {
		return text
	}
	return hhmm.ReplaceAllStringFunc(text, c.shownHHMM)
}
