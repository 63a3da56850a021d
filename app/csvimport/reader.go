// Package csvimport reads appointment schedules exported as CSV by
// practice-management and EHR systems, or written by hand in a
// spreadsheet, and turns each row into a Row: normalised values and, for
// whatever is wrong, errors naming the row, the field and the reason.
//
// The file is read as a stream, row by row, in bounded memory, and
// hostile input costs bounded work:
//
//   - Encoding: UTF-8 with or without a byte order mark; UTF-16 by its
//     byte order mark, or without one by the zero bytes of its ASCII
//     header. A cell that is not valid UTF-8 is read as Windows-1252, the
//     encoding of Excel's "CSV" on Western-language Windows; since a
//     Windows-1252 cell is almost never valid UTF-8 by chance, this is
//     decided cell by cell, so a file that mixes both still reads right.
//   - Delimiter: comma, semicolon or tab, whichever the header line holds
//     most of outside quotes; an Excel "sep=;" first line is obeyed.
//   - Quotes: RFC 4180. A quote inside an unquoted cell is a plain
//     character (5'10", O"Brien). A quoted cell may span lines. A quote
//     inside a quoted cell must be doubled; a row that breaks that rule,
//     or whose quoted cell never closes, is refused, and reading goes on
//     at the line after the row's first line, so one stray quote costs one
//     row and never swallows the rows after it.
//   - Limits: MaxColumns columns (a wider header refuses the file),
//     MaxRowBytes per row (a longer row is refused and skipped), each
//     field's own length, MaxBadRows unreadable rows (then the file is
//     refused: it is not CSV). The size of the whole upload is the
//     caller's to cap, with LimitReader or http.MaxBytesReader; reading
//     then stops with that reader's error.
//
// Columns are found by a Mapping: our own header names (external_id,
// first_name, starts_at...) in any order and case, or the names other
// systems use, guessed by Guess and corrected on the mapping screen.
//
// Nothing here looks at the database or a time zone: Rows carry wall-clock
// times (see LocalDateTime.In) and names of locations and providers, for
// the caller to resolve.
package csvimport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"apptconfirm/app/csvout"
	"apptconfirm/app/phone"
)

// The limits on what a file may hold.
const (
	// MaxColumns is the most columns a file may have.
	MaxColumns = 200
	// MaxRowBytes is the longest a row may be, line breaks in quoted
	// cells included.
	MaxRowBytes = 64 << 10
	// MaxBadRows is how many rows that cannot be read as CSV a file may
	// have before it is refused as a whole.
	MaxBadRows = 1000
	// MaxPreviewRows is the most rows Preview returns.
	MaxPreviewRows = 100
)

// maxChars is the longest each field may be, in characters.
var maxChars = map[Field]int{
	FieldExternalID: 100, FieldPatientExternalID: 100, FieldFirstName: 100, FieldLastName: 100,
	FieldName: 201, FieldPhone: 64, FieldLanguage: 40, FieldLocation: 200, FieldProvider: 200, FieldType: 100,
	FieldStartsAt: maxDateTimeLen, FieldDate: maxDateTimeLen, FieldTime: 32, FieldDuration: 20,
	FieldNotes: 2000, FieldStatus: 40,
}

// Options says how to read a file.
type Options struct {
	// Mapping says which column holds which field. Nil means guessing it
	// from the header and the first rows (Guess); our own column names
	// are always recognised.
	Mapping *Mapping
	// Country is the clinic's country (ISO 3166 alpha-2), for the date
	// order when the mapping does not set it.
	Country string
	// PhoneRegion, when set, gives the phone region (a country code) for
	// a row's location name, and each phone is checked with
	// phone.Normalize; Row.PhoneE164 then holds the number in E.164. Nil
	// leaves phones unchecked.
	PhoneRegion func(location string) string
}

// Row is one row of the file, read and checked. Text is trimmed; a column
// that is not mapped, or an empty cell, leaves its field empty (Has tells
// the two apart). Errors lists everything wrong with the row; a row with
// errors must not be imported, and its other fields may be incomplete.
type Row struct {
	// Number is the row's number as a spreadsheet shows it: the header is
	// row 1, the first data row is row 2.
	Number int
	// ExternalID is the appointment's id in the other system; a row
	// without one has an error.
	ExternalID string
	// PatientExternalID is the patient's id in the other system.
	PatientExternalID string
	// FirstName and LastName, from their columns or split from a full
	// name (see SplitName).
	FirstName, LastName string
	// Phone is the phone number as written.
	Phone string
	// PhoneE164 is Phone in E.164 form when Options.PhoneRegion is set
	// and the number is valid.
	PhoneE164 string
	// Language is en, fr, es, de, nl, pt or it (see ParseLanguage).
	Language string
	// Location, Provider and Type (the appointment type) are names, as
	// written.
	Location, Provider, Type string
	// Start is when the appointment starts (see ParseStart); zero when
	// not given.
	Start Start
	// DurationMinutes is 1 to MaxDurationMinutes, or 0 when not given.
	DurationMinutes int
	// Notes may hold line breaks (as "\n") and tabs.
	Notes string
	// Status is scheduled, confirmed, cancelled, or empty when not given.
	Status Status
	// Errors lists what is wrong with the row.
	Errors []FieldError

	given uint32
}

// Has reports whether the file has a column for f, whether or not this
// row's cell is empty: an update leaves a field alone when its column is
// absent. A full-name column provides first_name and last_name; a date
// and a time provide starts_at.
func (r Row) Has(f Field) bool {
	i := f.index()
	return i >= 0 && r.given&(1<<i) != 0
}

// OK reports whether the row has no errors.
func (r Row) OK() bool { return len(r.Errors) == 0 }

func (r *Row) fail(f Field, msg string) {
	r.Errors = append(r.Errors, FieldError{Row: r.Number, Field: f, Message: msg})
}

// Reader reads the rows of one file.
type Reader struct {
	rr       *recordReader
	header   []string
	mapping  Mapping
	cols     []int // the column of each field of allFields, or -1
	order    DateOrder
	given    uint32
	encoding string
	region   func(string) string
	badRows  int
	err      error // the error that ended reading, returned again
	kept     []byte
	spans    []span
	// phones remembers the last numbers checked (a patient's number is
	// often on many rows); it is emptied when full.
	phones map[phoneKey]phoneResult
}

// maxPhones bounds Reader.phones.
const maxPhones = 1024

type phoneKey struct{ raw, region string }

type phoneResult struct {
	e164 string
	err  error
}

// normalize is phone.Normalize, remembered.
func (r *Reader) normalize(raw, region string) (string, error) {
	k := phoneKey{raw, region}
	if res, ok := r.phones[k]; ok {
		return res.e164, res.err
	}
	e164, err := phone.Normalize(raw, region)
	if r.phones == nil || len(r.phones) >= maxPhones {
		r.phones = make(map[phoneKey]phoneResult, maxPhones)
	}
	r.phones[k] = phoneResult{e164, err}
	return e164, err
}

type span struct{ start, end int }

// NewReader reads the header of the file r and prepares to read its rows.
// A file that cannot be imported at all gives a *FileError (empty, no
// external_id column, too many columns, a mapping that does not fit);
// an input error is returned wrapped.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	in, enc, err := decode(r)
	if err != nil {
		return nil, err
	}
	comma, err := sniff(in)
	if err != nil {
		return nil, err
	}
	rr := newRecordReader(in, comma)
	header, err := readHeader(rr)
	if err != nil {
		return nil, err
	}
	rr.want = len(header)

	var m Mapping
	if opts.Mapping != nil {
		m = *opts.Mapping
	} else {
		m = Guess(header, peekSamples(in, comma, len(header)), opts.Country)
		if err := duplicateColumns(header, m); err != nil {
			return nil, err
		}
	}
	if err := m.Check(header); err != nil {
		return nil, err
	}
	if m.DateOrder == "" {
		m.DateOrder = DefaultDateOrder(opts.Country)
	}

	rd := &Reader{
		rr: rr, header: header, mapping: m, order: m.DateOrder, encoding: enc,
		region: opts.PhoneRegion, cols: make([]int, len(allFields)), spans: make([]span, len(allFields)),
	}
	for i, f := range allFields {
		rd.cols[i] = -1
		if c, ok := m.Columns[f]; ok {
			rd.cols[i] = c.Index
			rd.given |= 1 << i
		}
	}
	for _, pair := range [][2]Field{{FieldName, FieldFirstName}, {FieldName, FieldLastName}, {FieldDate, FieldStartsAt}} {
		if rd.given&(1<<pair[0].index()) != 0 {
			rd.given |= 1 << pair[1].index()
		}
	}
	return rd, nil
}

// readHeader reads the first non-blank row as the header.
func readHeader(rr *recordReader) ([]string, error) {
	for {
		rec, err := rr.read()
		switch {
		case err == io.EOF:
			return nil, fileError(ErrEmpty, "", "the file is empty")
		case err != nil:
			return nil, err
		case rec.tooWide:
			return nil, fileError(ErrTooManyColumns, "", "the file has more than %d columns", MaxColumns)
		case rec.problem != "":
			return nil, fileError(ErrBadHeader, "", "the header row cannot be read: %s", rec.problem)
		case allBlank(rec.cells):
			continue
		}
		header := make([]string, len(rec.cells))
		for i, c := range rec.cells {
			b, _ := appendCell(nil, c)
			header[i] = cleanHeader(string(b))
		}
		return header, nil
	}
}

// peekSamples parses the rows in the input's buffer, without consuming
// them, for Guess to look at.
func peekSamples(in *bufio.Reader, comma byte, width int) [][]string {
	window, _ := in.Peek(MaxRowBytes)
	tmp := newRecordReader(bufio.NewReader(bytes.NewReader(window)), comma)
	tmp.want = width
	var rows [][]string
	// Reading stops after a bounded number of rows, readable or not: each
	// unreadable one may cost a rescan of the window.
	for i := 0; i < 4*maxGuessSamples && len(rows) < maxGuessSamples; i++ {
		rec, err := tmp.read()
		if err != nil {
			break
		}
		if rec.problem != "" || allBlank(rec.cells) {
			continue
		}
		rows = append(rows, cellStrings(rec.cells))
	}
	// The window may end in the middle of a row.
	if len(window) == MaxRowBytes && len(rows) > 1 {
		rows = rows[:len(rows)-1]
	}
	return rows
}

// duplicateColumns refuses a guessed mapping that rests on a header name
// found twice: nobody said which of the two columns counts.
func duplicateColumns(header []string, m Mapping) error {
	for _, f := range allFields {
		c, ok := m.Columns[f]
		if !ok {
			continue
		}
		key := headerKey(header[c.Index])
		for i, h := range header {
			if i != c.Index && headerKey(h) == key {
				return fileError(ErrDuplicateColumn, f, "columns %s and %s are both called %s",
					columnName(min(i, c.Index)), columnName(max(i, c.Index)), quoteShort(header[c.Index]))
			}
		}
	}
	return nil
}

// Header returns the file's header row, trimmed.
func (r *Reader) Header() []string { return append([]string(nil), r.header...) }

// Mapping returns the mapping in use, guessed or given, with its date
// order settled.
func (r *Reader) Mapping() Mapping { return r.mapping }

// Delimiter returns the character between cells.
func (r *Reader) Delimiter() rune { return rune(r.rr.comma) }

// Encoding returns the file's encoding: EncodingUTF8, EncodingUTF16LE or
// EncodingUTF16BE, or EncodingWindows1252 once some cell had to be read
// as such.
func (r *Reader) Encoding() string { return r.encoding }

// Next returns the next row with content (blank rows are skipped), or
// io.EOF after the last. A row that cannot be read as CSV comes back with
// a single error and no values; reading goes on after it. Any other error
// ends the file: a *FileError with ErrTooManyBadRows, or the input's
// error wrapped (a *TooLargeError from LimitReader, say), and the rows
// already returned must then not be imported on their own.
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	for {
		rec, err := r.rr.read()
		if err != nil {
			r.err = err
			return Row{}, err
		}
		if rec.problem != "" {
			r.badRows++
			if r.badRows > MaxBadRows {
				r.err = fileError(ErrTooManyBadRows, "", "more than %d rows cannot be read as CSV", MaxBadRows)
				return Row{}, r.err
			}
			row := Row{Number: rec.number}
			row.fail("", rec.problem)
			return row, nil
		}
		if allBlank(rec.cells) {
			continue
		}
		return r.row(rec), nil
	}
}

// row reads the mapped cells of rec.
func (r *Reader) row(rec record) Row {
	row := Row{Number: rec.number, given: r.given}
	switch {
	case rec.tooWide:
		row.fail("", fmt.Sprintf("the row has more than %d cells", MaxColumns))
		return row
	case len(rec.cells) > len(r.header) && wideRow(rec.cells, len(r.header)):
		row.fail("", fmt.Sprintf("the row has %d cells but the header has %d: is a cell holding the delimiter not quoted?",
			len(rec.cells), len(r.header)))
		return row
	}

	// Copy the mapped cells, decoded, into one string: one allocation per
	// row, and the row keeps nothing of the cells it does not use.
	r.kept = r.kept[:0]
	for i, col := range r.cols {
		r.spans[i] = span{}
		if col < 0 || col >= len(rec.cells) {
			continue
		}
		start := len(r.kept)
		var decoded bool
		r.kept, decoded = appendCell(r.kept, rec.cells[col])
		if decoded {
			r.encoding = EncodingWindows1252
		}
		r.spans[i] = span{start, len(r.kept)}
	}
	all := string(r.kept)
	cell := func(f Field) string {
		s := r.spans[f.index()]
		return csvout.Restore(strings.TrimSpace(all[s.start:s.end]))
	}
	text := func(f Field) string {
		v := cell(f)
		if msg := checkText(v, maxChars[f], f == FieldNotes); msg != "" {
			row.fail(f, msg)
			return ""
		}
		return v
	}

	row.ExternalID = text(FieldExternalID)
	if row.ExternalID == "" && !hasError(row, FieldExternalID) {
		row.fail(FieldExternalID, "empty: every row needs the appointment's id")
	}
	row.PatientExternalID = text(FieldPatientExternalID)
	if r.cols[FieldName.index()] >= 0 {
		row.FirstName, row.LastName = SplitName(text(FieldName))
		if len([]rune(row.FirstName)) > maxChars[FieldFirstName] || len([]rune(row.LastName)) > maxChars[FieldLastName] {
			row.fail(FieldName, fmt.Sprintf("first and last names must each be at most %d characters", maxChars[FieldFirstName]))
			row.FirstName, row.LastName = "", ""
		}
	} else {
		row.FirstName, row.LastName = text(FieldFirstName), text(FieldLastName)
	}
	row.Phone = text(FieldPhone)
	row.Location = text(FieldLocation)
	row.Provider = text(FieldProvider)
	row.Type = text(FieldType)
	if v := text(FieldLanguage); v != "" {
		if l, err := ParseLanguage(v); err != nil {
			row.fail(FieldLanguage, err.Error())
		} else {
			row.Language = l
		}
	}
	if row.Phone != "" && r.region != nil {
		if e164, err := r.normalize(row.Phone, r.region(row.Location)); err != nil {
			var pe *phone.Error
			msg := err.Error()
			if errors.As(err, &pe) {
				msg = pe.Reason
			}
			row.fail(FieldPhone, msg)
		} else {
			row.PhoneE164 = e164
		}
	}
	r.readStart(&row, text)
	if v := text(FieldDuration); v != "" {
		if d, err := ParseDuration(v); err != nil {
			row.fail(FieldDuration, err.Error())
		} else {
			row.DurationMinutes = d
		}
	}
	row.Notes = text(FieldNotes)
	if strings.Contains(row.Notes, "\r") {
		row.Notes = strings.ReplaceAll(strings.ReplaceAll(row.Notes, "\r\n", "\n"), "\r", "\n")
	}
	if v := text(FieldStatus); v != "" {
		if st, err := ParseStatus(v); err != nil {
			row.fail(FieldStatus, err.Error())
		} else {
			row.Status = st
		}
	}
	return row
}

// readStart reads starts_at, or a date and a time from two columns.
func (r *Reader) readStart(row *Row, text func(Field) string) {
	if r.cols[FieldStartsAt.index()] >= 0 {
		if v := text(FieldStartsAt); v != "" {
			s, err := ParseStart(v, r.order)
			if err != nil {
				row.fail(FieldStartsAt, err.Error())
				return
			}
			row.Start = s
		}
		return
	}
	if r.cols[FieldDate.index()] < 0 {
		return
	}
	date, clock := text(FieldDate), text(FieldTime)
	switch {
	case date == "" && clock == "":
		return
	case date == "":
		if !hasError(*row, FieldDate) {
			row.fail(FieldDate, "empty: the time needs a date")
		}
		return
	case clock == "":
		if !hasError(*row, FieldTime) {
			row.fail(FieldTime, "empty: the date needs a time")
		}
		return
	}
	d, derr := ParseDate(date, r.order)
	if derr != nil {
		row.fail(FieldDate, derr.Error())
	}
	hour, minute, terr := ParseTime(clock)
	if terr != nil {
		row.fail(FieldTime, terr.Error())
	}
	if derr == nil && terr == nil {
		row.Start = Start{Local: LocalDateTime{Year: d.Year, Month: d.Month, Day: d.Day, Hour: hour, Minute: minute}}
	}
}

func hasError(row Row, f Field) bool {
	for _, e := range row.Errors {
		if e.Field == f {
			return true
		}
	}
	return false
}

// allBlank reports whether every cell is blank.
func allBlank(cells [][]byte) bool {
	for _, c := range cells {
		if !blank(c) {
			return false
		}
	}
	return true
}

// cellStrings decodes cells to strings.
func cellStrings(cells [][]byte) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		b, _ := appendCell(nil, c)
		out[i] = string(b)
	}
	return out
}

// Sample is the start of a file, for the mapping screen.
type Sample struct {
	// Header is the header row, trimmed.
	Header []string
	// Rows are the first rows with content, as written (rows that cannot
	// be read as CSV are left out).
	Rows [][]string
	// Delimiter is the character between cells.
	Delimiter rune
	// Encoding is as Reader.Encoding says.
	Encoding string
}

// Preview reads the header and the first n rows (at most MaxPreviewRows)
// of a file, for the mapping screen. It refuses what NewReader refuses
// before any mapping: an empty file, a header that cannot be read or is
// too wide.
func Preview(r io.Reader, n int) (*Sample, error) {
	n = min(max(n, 0), MaxPreviewRows)
	in, enc, err := decode(r)
	if err != nil {
		return nil, err
	}
	comma, err := sniff(in)
	if err != nil {
		return nil, err
	}
	rr := newRecordReader(in, comma)
	header, err := readHeader(rr)
	if err != nil {
		return nil, err
	}
	rr.want = len(header)
	s := &Sample{Header: header, Rows: [][]string{}, Delimiter: rune(comma), Encoding: enc}
	for bad := 0; len(s.Rows) < n && bad <= MaxBadRows; {
		rec, err := rr.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if rec.problem != "" {
			bad++
			continue
		}
		if allBlank(rec.cells) {
			continue
		}
		row := make([]string, len(rec.cells))
		for i, c := range rec.cells {
			b, decoded := appendCell(nil, c)
			if decoded {
				s.Encoding = EncodingWindows1252
			}
			row[i] = string(b)
		}
		s.Rows = append(s.Rows, row)
	}
	return s, nil
}
