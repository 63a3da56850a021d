package csvimport

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

type rec struct {
	number  int
	cells   []string
	problem string
	wide    bool
}

func readAll(t *testing.T, input string, comma byte, want int) []rec {
	t.Helper()
	rr := newRecordReader(bufio.NewReaderSize(strings.NewReader(input), bufferSize), comma)
	rr.want = want
	var out []rec
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatal("no end")
		}
		r, err := rr.read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var cells []string
		for _, c := range r.cells {
			cells = append(cells, string(c))
		}
		out = append(out, rec{number: r.number, cells: cells, problem: r.problem, wide: r.tooWide})
	}
}

func TestRecordReader(t *testing.T) {
	long := strings.Repeat("x", MaxRowBytes+10)
	const (
		notClosed = "a quoted cell is not closed"
		undoubled = "a quote inside a quoted cell must be doubled"
		tooLong   = "the row is longer than 64 KB (or a quoted cell is not closed)"
	)
	tests := []struct {
		name  string
		input string
		comma byte
		want  int
		out   []rec
	}{
		{"empty", "", ',', 0, nil},
		{"simple", "a,b\nc,d\n", ',', 0, []rec{{1, []string{"a", "b"}, "", false}, {2, []string{"c", "d"}, "", false}}},
		{"no final line end", "a,b\nc,d", ',', 0, []rec{{1, []string{"a", "b"}, "", false}, {2, []string{"c", "d"}, "", false}}},
		{"CRLF", "a,b\r\nc,d\r\n", ',', 0, []rec{{1, []string{"a", "b"}, "", false}, {2, []string{"c", "d"}, "", false}}},
		{"lone CR (old Mac Excel)", "a,b\rc,d\r", ',', 0, []rec{{1, []string{"a", "b"}, "", false}, {2, []string{"c", "d"}, "", false}}},
		{"empty cells", ",,\n", ',', 0, []rec{{1, []string{"", "", ""}, "", false}}},
		{"blank lines count as rows", "\n\na\n", ',', 0, []rec{{1, []string{""}, "", false}, {2, []string{""}, "", false}, {3, []string{"a"}, "", false}}},
		{"quoted comma and quotes", `"a,b","say ""hi""",c` + "\n", ',', 0, []rec{{1, []string{"a,b", `say "hi"`, "c"}, "", false}}},
		{"quoted line breaks become LF", "\"one\r\ntwo\rthree\nfour\",x\ny\n", ',', 0, []rec{{1, []string{"one\ntwo\nthree\nfour", "x"}, "", false}, {2, []string{"y"}, "", false}}},
		{"quote inside unquoted cell is plain", `5'10",O"Brien,x"` + "\n", ',', 0, []rec{{1, []string{`5'10"`, `O"Brien`, `x"`}, "", false}}},
		{"spaces around a quoted cell", ` "a, b" ,c` + "\n", ',', 0, []rec{{1, []string{"a, b", "c"}, "", false}}},
		{"empty quoted cell", `"",""` + "\n", ',', 0, []rec{{1, []string{"", ""}, "", false}}},
		{"semicolons", "a;\"b;c\";d\n", ';', 0, []rec{{1, []string{"a", "b;c", "d"}, "", false}}},
		{"tabs", "a\t b\t\"c\td\"\n", '\t', 0, []rec{{1, []string{"a", " b", "c\td"}, "", false}}},
		{"NUL bytes kept for the row checks", "a\x00b,c\n", ',', 0, []rec{{1, []string{"a\x00b", "c"}, "", false}}},
		{
			"stray quote costs one row", `"Bob" Smith,1` + "\nJane,2\n", ',', 0,
			[]rec{{1, nil, undoubled, false}, {2, []string{"Jane", "2"}, "", false}},
		},
		{
			"unclosed quote at the end", "a,\"open\nb,c\nd,e\n", ',', 0,
			[]rec{{1, nil, notClosed, false}, {2, []string{"b", "c"}, "", false}, {3, []string{"d", "e"}, "", false}},
		},
		{
			"unclosed quote meets the next quoted cell", "1,\"abc\n2,x\n3,\"y\",z\n", ',', 2,
			[]rec{{1, nil, undoubled, false}, {2, []string{"2", "x"}, "", false}, {3, []string{"3", "y", "z"}, "", false}},
		},
		{
			"a multiline row wider than the header is read again", "1,\"a\n2,b\",c,d\n3,e\n", ',', 2,
			[]rec{{1, nil, notClosed, false}, {2, []string{"2", `b"`, "c", "d"}, "", false}, {3, []string{"3", "e"}, "", false}},
		},
		{
			"a multiline row as wide as the header is fine", "1,\"a\nb\"\n3,e\n", ',', 2,
			[]rec{{1, []string{"1", "a\nb"}, "", false}, {2, []string{"3", "e"}, "", false}},
		},
		{
			"a row longer than the limit is skipped", "a,b\n" + long + "\nc,d\n", ',', 0,
			[]rec{{1, []string{"a", "b"}, "", false}, {2, nil, tooLong, false}, {3, []string{"c", "d"}, "", false}},
		},
		{
			"a long row ending exactly at the limit", "a\n" + long[:MaxRowBytes] + "\nb\n", ',', 0,
			[]rec{{1, []string{"a"}, "", false}, {2, nil, tooLong, false}, {3, []string{"b"}, "", false}},
		},
		{
			"an unclosed quote runs into the limit", "a\n\"" + strings.Repeat("y\n", MaxRowBytes) + "b\n", ',', 0,
			func() []rec {
				out := []rec{{1, []string{"a"}, "", false}, {2, nil, tooLong, false}}
				// The lines after the unclosed quote are read again.
				for i := 0; i < MaxRowBytes-1; i++ {
					out = append(out, rec{3 + i, []string{"y"}, "", false})
				}
				return append(out, rec{2 + MaxRowBytes, []string{"b"}, "", false})
			}(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, tc.input, tc.comma, tc.want)
			if !reflect.DeepEqual(got, tc.out) {
				if len(got) > 10 || len(tc.out) > 10 {
					t.Fatalf("got %d records, want %d; first %+v", len(got), len(tc.out), got[:min(3, len(got))])
				}
				t.Fatalf("got  %+v\nwant %+v", got, tc.out)
			}
		})
	}
}

func TestRecordReaderTooWide(t *testing.T) {
	line := strings.Repeat("a,", 249) + "a\nb\n"
	got := readAll(t, line, ',', 0)
	if len(got) != 2 || !got[0].wide || len(got[0].cells) != MaxColumns+1 || got[1].cells[0] != "b" {
		t.Fatalf("got %d records, first wide=%v with %d cells", len(got), got[0].wide, len(got[0].cells))
	}
	exact := strings.Repeat("a,", MaxColumns-1) + "a\n"
	if got := readAll(t, exact, ',', 0); got[0].wide || len(got[0].cells) != MaxColumns {
		t.Fatalf("%d cells: wide=%v, %d kept", MaxColumns, got[0].wide, len(got[0].cells))
	}
}

type errAfter struct {
	data string
	err  error
}

func (e *errAfter) Read(p []byte) (int, error) {
	if e.data == "" {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

func TestRecordReaderInputError(t *testing.T) {
	boom := errors.New("connection reset")
	rr := newRecordReader(bufio.NewReader(&errAfter{data: "a,b\nc,d", err: boom}), ',')
	if r, err := rr.read(); err != nil || len(r.cells) != 2 {
		t.Fatalf("first record: %v %v", r, err)
	}
	// The last row was cut by the error: it must not come back as a row.
	if r, err := rr.read(); !errors.Is(err, boom) {
		t.Fatalf("second read = %+v, %v; want the input's error", r, err)
	}
}
