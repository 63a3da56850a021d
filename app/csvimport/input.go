package csvimport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// The encodings a file may be read in, as Reader.Encoding and
// Sample.Encoding name them.
const (
	EncodingUTF8        = "utf-8"
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
	EncodingWindows1252 = "windows-1252"
)

// bufferSize holds a whole row of the largest size allowed, so that the
// header line can be inspected before it is read.
const bufferSize = MaxRowBytes + 4096

// TooLargeError is what a reader made by LimitReader returns once the
// input goes past its limit. Reader.Next returns it wrapped: the file must
// then be refused as a whole, since its end was never read.
type TooLargeError struct {
	// Limit is the most bytes the reader would read.
	Limit int64
}

// Error says how large a file may be.
func (e *TooLargeError) Error() string {
	return "csvimport: the file is larger than " + byteSize(e.Limit)
}

// byteSize writes n bytes the way people say it.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// LimitReader returns a reader that reads r but fails with a
// *TooLargeError, instead of stopping quietly as io.LimitReader does, when
// r holds more than n bytes. (http.MaxBytesReader works as well: its
// *http.MaxBytesError comes back from Reader.Next the same way.)
func LimitReader(r io.Reader, n int64) io.Reader {
	return &limitReader{r: r, left: n, limit: n}
}

type limitReader struct {
	r     io.Reader
	left  int64
	limit int64
	err   error
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Read one byte more than allowed, to tell "exactly n" from "more".
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) <= l.left {
		l.left -= int64(n)
		if err != nil {
			l.err = err
		}
		return n, err
	}
	n = int(l.left)
	l.left = 0
	l.err = &TooLargeError{Limit: l.limit}
	return n, l.err
}

// decode returns r as UTF-8 text (or, for a file in a single-byte
// encoding, as its bytes: cells that are not valid UTF-8 are decoded one
// by one later) and the encoding it was found in. A UTF-8 byte order mark
// is dropped; UTF-16 is recognised by its byte order mark, or without one
// by the zero bytes of ASCII text, which a header line always is.
func decode(r io.Reader) (*bufio.Reader, string, error) {
	in := bufio.NewReaderSize(r, bufferSize)
	head, err := in.Peek(4)
	if err != nil && err != io.EOF {
		return nil, "", fmt.Errorf("csvimport: read: %w", err)
	}
	var dec transform.Transformer
	enc := EncodingUTF8
	switch {
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		_, _ = in.Discard(3)
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		dec, enc = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder(), EncodingUTF16LE
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		dec, enc = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder(), EncodingUTF16BE
	case len(head) >= 4 && head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0:
		dec, enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder(), EncodingUTF16LE
	case len(head) >= 4 && head[0] == 0 && head[1] != 0 && head[2] == 0 && head[3] != 0:
		dec, enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder(), EncodingUTF16BE
	}
	if dec == nil {
		return in, enc, nil
	}
	return bufio.NewReaderSize(transform.NewReader(in, dec), bufferSize), enc, nil
}

// appendCell appends cell to dst as UTF-8: as it is when it is valid
// UTF-8, else read as Windows-1252, the encoding of Excel's "CSV" on
// Western-language Windows. It reports whether it had to decode.
func appendCell(dst, cell []byte) ([]byte, bool) {
	if utf8.Valid(cell) {
		return append(dst, cell...), false
	}
	for _, b := range cell {
		if b < utf8.RuneSelf {
			dst = append(dst, b)
			continue
		}
		dst = utf8.AppendRune(dst, charmap.Windows1252.DecodeByte(b))
	}
	return dst, true
}

// sniff inspects the start of the input: an Excel "sep=;" line, which it
// consumes and obeys, or else the first non-blank line, whose most
// frequent candidate (comma, semicolon, tab, outside quotes) is the
// delimiter; comma when there is none.
func sniff(in *bufio.Reader) (byte, error) {
	window, err := in.Peek(MaxRowBytes)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return 0, fmt.Errorf("csvimport: read: %w", err)
	}
	if line, n := firstLine(window); len(line) == 5 && bytes.EqualFold(line[:4], []byte("sep=")) && validComma(line[4]) {
		_, _ = in.Discard(n)
		return line[4], nil
	}
	// Skip blank lines.
	for len(window) > 0 && (window[0] == '\n' || window[0] == '\r') {
		window = window[1:]
	}
	counts := map[byte]int{',': 0, ';': 0, '\t': 0}
	quoted := false
scan:
	for _, b := range window {
		switch {
		case b == '"':
			quoted = !quoted
		case quoted:
		case b == '\n' || b == '\r':
			break scan
		default:
			if _, ok := counts[b]; ok {
				counts[b]++
			}
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best, nil
}

// firstLine returns the first line of b without its line end, and the
// length with it.
func firstLine(b []byte) ([]byte, int) {
	end := firstLineEndOf(b)
	if end < 0 {
		return b, len(b)
	}
	line := b[:end]
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line, end
}

// validComma reports whether b may separate cells.
func validComma(b byte) bool {
	switch b {
	case ',', ';', '\t', '|':
		return true
	}
	return false
}
