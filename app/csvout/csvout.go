// Package csvout writes the CSV files apptconfirm hands out (exports, lists
// of refused import rows) so that opening them in a spreadsheet never runs
// a formula smuggled into a cell.
//
// A spreadsheet reads a cell that starts with "=", "+", "-" or "@" as a
// formula, and a leading tab or carriage return can hide such a start.
// Neutralize puts a single quote before those cells, as OWASP advises:
// spreadsheets then show the text as typed. Restore undoes it, so that a
// file we exported imports back to exactly what was exported.
//
// One exception keeps numbers numbers: a plain negative number such as
// "-5" or "-12.50" cannot be a formula, so it is written as is. "+5" is
// quoted: a leading plus is how phone numbers start, and quoting keeps a
// spreadsheet from turning "+12025550143" into 12025550143.
package csvout

import (
	"encoding/csv"
	"fmt"
	"io"
)

// ContentType is the media type to serve a CSV file with.
const ContentType = "text/csv; charset=utf-8"

// isTrigger reports whether a cell starting with b can start a formula.
func isTrigger(b byte) bool {
	switch b {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// isPlainNegative reports whether s is "-" followed by digits, with at most
// one decimal point between digits: a number, never a formula.
func isPlainNegative(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	digits, point := 0, false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point && digits > 0 && i < len(s)-1:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

// quotedTrigger reports whether s is one or more single quotes followed by
// a trigger character: what Restore takes for a neutralised cell.
func quotedTrigger(s string) bool {
	i := 0
	for i < len(s) && s[i] == '\'' {
		i++
	}
	return i > 0 && i < len(s) && isTrigger(s[i])
}

// Neutralize returns cell as it is safe to write to a CSV file: with a
// single quote in front when a spreadsheet could read it as a formula
// ("=HYPERLINK(...)" becomes "'=HYPERLINK(...)"), and unchanged otherwise.
// A cell that already looks neutralised ("'=x") gets one more quote, so
// that Restore always gives back the original.
func Neutralize(cell string) string {
	if cell == "" {
		return cell
	}
	if (isTrigger(cell[0]) && !isPlainNegative(cell)) || quotedTrigger(cell) {
		return "'" + cell
	}
	return cell
}

// Restore undoes Neutralize: a cell made of single quotes followed by a
// formula character loses its first quote. Importers call it on every
// cell, so that importing an export changes nothing. Spreadsheets never
// write such a cell themselves (a leading quote typed in Excel is not part
// of the value it saves).
func Restore(cell string) string {
	if quotedTrigger(cell) {
		return cell[1:]
	}
	return cell
}

// Options says how a Writer writes.
type Options struct {
	// BOM starts the output with a UTF-8 byte order mark, which Excel
	// needs to read accented letters in a double-clicked file.
	BOM bool
}

// Writer writes CSV records (comma separated, CRLF line ends, quoted as
// RFC 4180 requires) with every cell neutralised. It streams: records go
// to the underlying writer as its buffer fills, and Flush sends the rest.
type Writer struct {
	csv     *csv.Writer
	w       io.Writer
	bom     bool
	started bool
	cells   []string
	err     error
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer, opts Options) *Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &Writer{csv: cw, w: w, bom: opts.BOM}
}

// Write writes one record, neutralising each cell. The record itself is
// not modified.
func (w *Writer) Write(record []string) error {
	if w.err != nil {
		return w.err
	}
	if !w.started {
		w.started = true
		if w.bom {
			if _, err := io.WriteString(w.w, "\ufeff"); err != nil {
				w.err = fmt.Errorf("csvout: write: %w", err)
				return w.err
			}
		}
	}
	w.cells = w.cells[:0]
	for _, c := range record {
		w.cells = append(w.cells, Neutralize(c))
	}
	if err := w.csv.Write(w.cells); err != nil {
		w.err = fmt.Errorf("csvout: write: %w", err)
		return w.err
	}
	return nil
}

// Flush writes any buffered records to the underlying writer and returns
// the first error met while writing, if any.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		w.err = fmt.Errorf("csvout: write: %w", err)
	}
	return w.err
}
