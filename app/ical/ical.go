// Package ical writes iCalendar (RFC 5545) data: the calendar feeds that
// Google Calendar, Outlook and Apple Calendar subscribe to, and the
// single-event files behind an "Add to calendar" link.
//
// Output is strict so that every client reads it: CRLF line ends, lines
// folded at 75 octets without splitting a UTF-8 sequence or an escape,
// TEXT values escaped, control characters dropped, all times in UTC. The
// Writer streams, so a feed of thousands of events is never built whole
// in memory.
package ical

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// ContentType is the media type to serve a calendar with.
const ContentType = "text/calendar; charset=utf-8"

// DefaultProdID names the program that made the calendar when
// Calendar.ProdID is empty.
const DefaultProdID = "-//apptconfirm//apptconfirm//EN"

// maxLine is the longest a content line may be, in octets, not counting
// its CRLF.
const maxLine = 75

// Status is an event's STATUS.
type Status string

// The statuses an event may have; the zero Status writes no STATUS line.
const (
	StatusConfirmed Status = "CONFIRMED"
	StatusTentative Status = "TENTATIVE"
	StatusCancelled Status = "CANCELLED"
)

// ErrInvalid is wrapped by the errors Write and WriteEvent return for a
// calendar or event that cannot be written (no UID, no start, an end
// before the start...). Nothing is written for such an event.
var ErrInvalid = errors.New("invalid")

// Calendar is what a VCALENDAR says about itself.
type Calendar struct {
	// ProdID identifies the program; empty means DefaultProdID.
	ProdID string
	// Name is the calendar's name as clients show it (X-WR-CALNAME and
	// NAME); empty writes neither.
	Name string
	// Refresh is how often subscribers should fetch the feed again
	// (REFRESH-INTERVAL and X-PUBLISHED-TTL), rounded down to a second;
	// zero or less writes neither.
	Refresh time.Duration
	// Stamp is when this calendar was made; it is every event's DTSTAMP,
	// as RFC 5545 asks of a calendar with a METHOD. Required.
	Stamp time.Time
}

// Event is one VEVENT.
type Event struct {
	// UID identifies the event for good: the same appointment must get
	// the same UID in every feed, or clients show it twice. Required.
	UID string
	// Start is required. End, when set, must be after Start.
	Start, End time.Time
	// Summary, Description and Location are free text; empty ones are
	// left out.
	Summary, Description, Location string
	// Status is CONFIRMED, TENTATIVE, CANCELLED or empty (no STATUS).
	Status Status
	// Sequence counts the event's significant changes (never negative).
	Sequence int
	// LastModified is when the event last changed; zero leaves it out.
	LastModified time.Time
}

// Writer writes one VCALENDAR to an io.Writer, event by event. The
// calendar's header goes out with the first event (or at Close for an
// empty calendar); Close ends the calendar. A write error is sticky: every
// later call returns it.
type Writer struct {
	bw      *bufio.Writer
	cal     Calendar
	started bool
	closed  bool
	err     error
	line    []byte
}

// NewWriter returns a Writer that writes cal and its events to w.
func NewWriter(w io.Writer, cal Calendar) *Writer {
	return &Writer{bw: bufio.NewWriter(w), cal: cal, line: make([]byte, 0, 256)}
}

// WriteEvent writes a whole calendar holding the single event e: the
// "Add to calendar" file.
func WriteEvent(w io.Writer, cal Calendar, e Event) error {
	cw := NewWriter(w, cal)
	if err := cw.Write(e); err != nil {
		return err
	}
	return cw.Close()
}

// Write writes one event. An invalid event returns an error wrapping
// ErrInvalid and writes nothing; the Writer stays usable.
func (w *Writer) Write(e Event) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("ical: write after close")
	}
	if err := checkEvent(e); err != nil {
		return err
	}
	if err := w.start(); err != nil {
		return err
	}
	w.prop("BEGIN", "VEVENT")
	w.text("UID", e.UID)
	w.time("DTSTAMP", w.cal.Stamp)
	w.time("DTSTART", e.Start)
	if !e.End.IsZero() {
		w.time("DTEND", e.End)
	}
	if e.Summary != "" {
		w.text("SUMMARY", e.Summary)
	}
	if e.Description != "" {
		w.text("DESCRIPTION", e.Description)
	}
	if e.Location != "" {
		w.text("LOCATION", e.Location)
	}
	if e.Status != "" {
		w.prop("STATUS", string(e.Status))
	}
	w.line = strconv.AppendInt(append(w.line[:0], "SEQUENCE:"...), int64(e.Sequence), 10)
	w.writeLine()
	if !e.LastModified.IsZero() {
		w.time("LAST-MODIFIED", e.LastModified)
	}
	w.prop("END", "VEVENT")
	return w.err
}

// Close ends the calendar and flushes it to the underlying writer, which
// it does not close. Closing twice does nothing more.
func (w *Writer) Close() error {
	if w.err != nil || w.closed {
		return w.err
	}
	if err := w.start(); err != nil {
		return err
	}
	w.prop("END", "VCALENDAR")
	w.closed = true
	if w.err == nil {
		if err := w.bw.Flush(); err != nil {
			w.err = fmt.Errorf("ical: write: %w", err)
		}
	}
	return w.err
}

// start writes the calendar's header once.
func (w *Writer) start() error {
	if w.started {
		return w.err
	}
	if w.cal.Stamp.IsZero() {
		return fmt.Errorf("ical: calendar: no stamp: %w", ErrInvalid)
	}
	w.started = true
	prodID := w.cal.ProdID
	if prodID == "" {
		prodID = DefaultProdID
	}
	w.prop("BEGIN", "VCALENDAR")
	w.prop("VERSION", "2.0")
	w.text("PRODID", prodID)
	w.prop("CALSCALE", "GREGORIAN")
	w.prop("METHOD", "PUBLISH")
	if w.cal.Name != "" {
		w.text("X-WR-CALNAME", w.cal.Name)
		w.text("NAME", w.cal.Name)
	}
	if d := duration(w.cal.Refresh); d != "" {
		w.prop("REFRESH-INTERVAL;VALUE=DURATION", d)
		w.prop("X-PUBLISHED-TTL", d)
	}
	return w.err
}

// checkEvent refuses an event that would make an invalid VEVENT.
func checkEvent(e Event) error {
	var problem string
	switch {
	case !hasText(e.UID):
		problem = "no UID"
	case e.Start.IsZero():
		problem = "no start"
	case !e.End.IsZero() && !e.End.After(e.Start):
		problem = "end is not after start"
	case e.Sequence < 0:
		problem = "negative sequence"
	case e.Status != "" && e.Status != StatusConfirmed && e.Status != StatusTentative && e.Status != StatusCancelled:
		problem = "unknown status " + strconv.Quote(string(e.Status))
	default:
		return nil
	}
	return fmt.Errorf("ical: event %q: %s: %w", e.UID, problem, ErrInvalid)
}

// prop writes a content line whose value needs no escaping.
func (w *Writer) prop(name, value string) {
	w.line = append(append(append(w.line[:0], name...), ':'), value...)
	w.writeLine()
}

// time writes a content line with t as an RFC 5545 UTC date-time
// ("20261207T143000Z").
func (w *Writer) time(name string, t time.Time) {
	w.line = t.UTC().AppendFormat(append(append(w.line[:0], name...), ':'), "20060102T150405Z")
	w.writeLine()
}

// text writes a content line with a TEXT value, escaped.
func (w *Writer) text(name, value string) {
	w.line = appendText(append(append(w.line[:0], name...), ':'), value)
	w.writeLine()
}

// writeLine writes w.line folded at 75 octets, each piece ending in CRLF.
func (w *Writer) writeLine() {
	if w.err != nil {
		return
	}
	rest := w.line
	limit := maxLine
	for {
		n := foldPoint(rest, limit)
		if _, err := w.bw.Write(rest[:n]); err != nil {
			w.err = fmt.Errorf("ical: write: %w", err)
			return
		}
		rest = rest[n:]
		if len(rest) == 0 {
			break
		}
		// The continuation's leading space counts towards its 75 octets.
		if _, err := w.bw.WriteString("\r\n "); err != nil {
			w.err = fmt.Errorf("ical: write: %w", err)
			return
		}
		limit = maxLine - 1
	}
	if _, err := w.bw.WriteString("\r\n"); err != nil {
		w.err = fmt.Errorf("ical: write: %w", err)
	}
}

// foldPoint returns how many octets of b go on a line of at most limit
// octets: all of b if it fits, else as many as fit without cutting a UTF-8
// sequence or a backslash escape in two. It is always at least one
// character, so folding progresses.
func foldPoint(b []byte, limit int) int {
	if len(b) <= limit {
		return len(b)
	}
	n := limit
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	if n > 0 && escapeEndsAt(b[:n]) {
		n--
	}
	if n == 0 {
		_, n = utf8.DecodeRune(b)
	}
	return n
}

// escapeEndsAt reports whether b ends in the backslash of an unfinished
// escape: an odd run of trailing backslashes.
func escapeEndsAt(b []byte) bool {
	run := 0
	for i := len(b) - 1; i >= 0 && b[i] == '\\'; i-- {
		run++
	}
	return run%2 == 1
}

// appendText appends s as an RFC 5545 TEXT value: backslash, semicolon,
// comma and line breaks escaped; invalid UTF-8 replaced by U+FFFD; control
// characters other than tab dropped, since TEXT cannot hold them.
func appendText(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\\':
				dst = append(dst, '\\', '\\')
			case c == ';':
				dst = append(dst, '\\', ';')
			case c == ',':
				dst = append(dst, '\\', ',')
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				if i < len(s) && s[i] == '\n' {
					i++
				}
				dst = append(dst, '\\', 'n')
			case c == '\t' || (c >= 0x20 && c != 0x7f):
				dst = append(dst, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x80 && r <= 0x9f {
			continue
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// hasText reports whether appendText keeps anything of s.
func hasText(s string) bool {
	for _, r := range s {
		if r == '\t' || r == '\n' || r == '\r' || !unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// duration formats d as an RFC 5545 DURATION ("PT1H", "P1DT30M"), whole
// seconds only; it returns "" for less than a second.
func duration(d time.Duration) string {
	s := int64(d / time.Second)
	if s <= 0 {
		return ""
	}
	out := []byte{'P'}
	if days := s / 86400; days > 0 {
		out = strconv.AppendInt(out, days, 10)
		out = append(out, 'D')
	}
	s %= 86400
	if s == 0 {
		return string(out)
	}
	out = append(out, 'T')
	for _, u := range []struct {
		secs   int64
		letter byte
	}{{3600, 'H'}, {60, 'M'}, {1, 'S'}} {
		if n := s / u.secs; n > 0 {
			out = strconv.AppendInt(out, n, 10)
			out = append(out, u.letter)
			s %= u.secs
		}
	}
	return string(out)
}
