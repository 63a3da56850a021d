package csvimport

import (
	"bufio"
	"fmt"
	"io"
)

// source is the decoded input with room to push bytes back: after a row
// that cannot be read, reading resumes at the line after the row's first.
type source struct {
	r       *bufio.Reader
	pending []byte
	pos     int
}

func (s *source) readByte() (byte, error) {
	if s.pos < len(s.pending) {
		b := s.pending[s.pos]
		s.pos++
		return b, nil
	}
	return s.r.ReadByte()
}

// peekByte returns the next byte without consuming it.
func (s *source) peekByte() (byte, error) {
	if s.pos < len(s.pending) {
		return s.pending[s.pos], nil
	}
	b, err := s.r.Peek(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// unread puts b in front of the input not yet read.
func (s *source) unread(b []byte) {
	rest := s.pending[s.pos:]
	next := make([]byte, 0, len(b)+len(rest))
	s.pending = append(append(next, b...), rest...)
	s.pos = 0
}

// record is one row of the file as cells, before any meaning is given to
// them. cells point into the recordReader's buffer and are valid until the
// next read.
type record struct {
	// number is the row's number as a spreadsheet shows it.
	number int
	cells  [][]byte
	// problem says why the row could not be read as CSV; cells is then
	// empty.
	problem string
	// tooWide reports that the row had more than MaxColumns cells; cells
	// holds the first MaxColumns+1.
	tooWide bool
}

// The states of the cell parser.
const (
	atCellStart = iota
	inPlain
	inQuoted
	afterQuote // a quote inside a quoted cell: its end, or half of ""
)

// recordReader splits the input into records: RFC 4180 with a few
// tolerances (a quote inside an unquoted cell is a plain character; spaces
// around a quoted cell are ignored; CRLF, LF or a lone CR end a line), and
// hard limits so that a hostile file costs bounded memory and time.
type recordReader struct {
	src   source
	comma byte
	// want is the header's width once known: a row that spans several
	// lines and comes out wider than the header is taken for an unclosed
	// quote.
	want int
	row  int

	raw   []byte // the record's bytes as read, for pushing back
	buf   []byte // the cells' contents
	ends  []int  // where each cell ends in buf
	cells [][]byte
}

func newRecordReader(r *bufio.Reader, comma byte) *recordReader {
	return &recordReader{
		src:   source{r: r},
		comma: comma,
		raw:   make([]byte, 0, 1024),
		buf:   make([]byte, 0, 1024),
	}
}

// read returns the next record, io.EOF after the last, or the input's
// error. A row that cannot be read comes back with its problem, not as an
// error: the rest of the file is still read.
func (rr *recordReader) read() (record, error) {
	rr.row++
	rr.raw, rr.buf, rr.ends = rr.raw[:0], rr.buf[:0], rr.ends[:0]
	firstLineEnd := -1 // offset in raw just after the record's first line
	state := atCellStart
	spaces := 0 // spaces at the start of the cell, kept in buf until a quote
	endCell := func() {
		if len(rr.ends) <= MaxColumns {
			rr.ends = append(rr.ends, len(rr.buf))
		}
	}
	put := func(b byte) {
		if len(rr.ends) <= MaxColumns {
			rr.buf = append(rr.buf, b)
		}
	}

	for {
		b, err := rr.src.readByte()
		if err == io.EOF {
			if len(rr.raw) == 0 {
				return record{}, io.EOF
			}
			if state == inQuoted {
				return rr.abandon(firstLineEnd, "a quoted cell is not closed")
			}
			endCell()
			return rr.finish(firstLineEnd >= 0)
		}
		if err != nil {
			return record{}, fmt.Errorf("csvimport: read: %w", err)
		}
		rr.raw = append(rr.raw, b)
		if len(rr.raw) > MaxRowBytes {
			return rr.overflow(b, firstLineEnd)
		}

		switch state {
		case atCellStart, inPlain:
			switch {
			case b == rr.comma:
				endCell()
				state, spaces = atCellStart, 0
			case b == '\n' || b == '\r':
				if b == '\r' {
					if err := rr.skipLF(); err != nil {
						return record{}, err
					}
				}
				endCell()
				return rr.finish(firstLineEnd >= 0)
			case b == '"' && state == atCellStart:
				// Spaces before an opening quote are not part of the cell.
				if len(rr.ends) <= MaxColumns {
					rr.buf = rr.buf[:len(rr.buf)-spaces]
				}
				state = inQuoted
			case b == ' ' && state == atCellStart:
				spaces++
				put(b)
			default:
				state = inPlain
				put(b)
			}
		case inQuoted:
			switch b {
			case '"':
				state = afterQuote
			case '\r', '\n':
				if b == '\r' {
					if err := rr.skipLF(); err != nil {
						return record{}, err
					}
				}
				if firstLineEnd < 0 {
					firstLineEnd = len(rr.raw)
				}
				put('\n')
			default:
				put(b)
			}
		case afterQuote:
			switch {
			case b == '"':
				put('"')
				state = inQuoted
			case b == rr.comma:
				endCell()
				state, spaces = atCellStart, 0
			case b == '\n' || b == '\r':
				if b == '\r' {
					if err := rr.skipLF(); err != nil {
						return record{}, err
					}
				}
				endCell()
				return rr.finish(firstLineEnd >= 0)
			case b == ' ' || (b == '\t' && rr.comma != '\t'):
				// Spaces after a closing quote are ignored.
			default:
				return rr.abandon(firstLineEnd, "a quote inside a quoted cell must be doubled")
			}
		}
	}
}

// skipLF consumes the LF of a CRLF pair, keeping it in raw.
func (rr *recordReader) skipLF() error {
	b, err := rr.src.peekByte()
	if err == io.EOF || (err == nil && b != '\n') {
		return nil
	}
	if err != nil {
		return fmt.Errorf("csvimport: read: %w", err)
	}
	_, _ = rr.src.readByte()
	rr.raw = append(rr.raw, '\n')
	return nil
}

// finish cuts the record's cells out of buf. A record that spans lines
// and is wider than the header most likely swallowed the rows after an
// unclosed quote: it is abandoned so that those rows are read again.
func (rr *recordReader) finish(multiline bool) (record, error) {
	rr.cells = rr.cells[:0]
	start := 0
	for _, end := range rr.ends {
		rr.cells = append(rr.cells, rr.buf[start:end])
		start = end
	}
	if multiline && rr.want > 0 && (rr.tooWide() || wideRow(rr.cells, rr.want)) {
		return rr.abandon(firstLineEndOf(rr.raw), "a quoted cell is not closed")
	}
	return record{number: rr.row, cells: rr.cells, tooWide: rr.tooWide()}, nil
}

// tooWide reports whether the record read so far has more than MaxColumns
// cells (only the first MaxColumns+1 are kept).
func (rr *recordReader) tooWide() bool {
	return len(rr.ends) > MaxColumns
}

// wideRow reports whether cells has a non-blank cell beyond the first n.
func wideRow(cells [][]byte, n int) bool {
	for i := n; i < len(cells); i++ {
		if !blank(cells[i]) {
			return true
		}
	}
	return false
}

// firstLineEndOf returns the offset just after raw's first line end.
func firstLineEndOf(raw []byte) int {
	for i, b := range raw {
		switch b {
		case '\n':
			return i + 1
		case '\r':
			if i+1 < len(raw) && raw[i+1] == '\n' {
				return i + 2
			}
			return i + 1
		}
	}
	return -1
}

// abandon gives up on the current record: when it spans lines, the bytes
// after its first line are read again as the next rows; otherwise the rest
// of its line is skipped.
func (rr *recordReader) abandon(firstLineEnd int, problem string) (record, error) {
	if firstLineEnd >= 0 {
		rr.src.unread(rr.raw[firstLineEnd:])
	} else if err := rr.skipLine(); err != nil {
		return record{}, err
	}
	return record{number: rr.row, problem: problem, tooWide: rr.tooWide()}, nil
}

// overflow handles a record that grew past MaxRowBytes; b is its last byte.
func (rr *recordReader) overflow(b byte, firstLineEnd int) (record, error) {
	const problem = "the row is longer than 64 KB (or a quoted cell is not closed)"
	if firstLineEnd >= 0 {
		return rr.abandon(firstLineEnd, problem)
	}
	switch b {
	case '\n':
		return record{number: rr.row, problem: problem, tooWide: rr.tooWide()}, nil
	case '\r':
		if err := rr.skipLF(); err != nil {
			return record{}, err
		}
		return record{number: rr.row, problem: problem, tooWide: rr.tooWide()}, nil
	}
	return rr.abandon(-1, problem)
}

// skipLine discards input up to and including the next line end.
func (rr *recordReader) skipLine() error {
	for {
		b, err := rr.src.readByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("csvimport: read: %w", err)
		}
		switch b {
		case '\n':
			return nil
		case '\r':
			return rr.skipLF()
		}
	}
}

// blank reports whether a cell holds nothing but spaces and tabs.
func blank(cell []byte) bool {
	for _, b := range cell {
		if b != ' ' && b != '\t' {
			return false
		}
	}
	return true
}
