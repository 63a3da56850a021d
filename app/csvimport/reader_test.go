package csvimport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"apptconfirm/app/csvout"
)

const ourHeader = "external_id,patient_external_id,first_name,last_name,phone,language,location,provider,starts_at,duration_minutes,notes,status\n"

// exportHeader is the import columns of an export, the type included.
const exportHeader = "external_id,patient_external_id,first_name,last_name,phone,language,location,provider,type,starts_at,duration_minutes,notes,status\n"

// readRows reads every row of input; it fails the test on a file error.
func readRows(t *testing.T, input string, opts Options) (*Reader, []Row) {
	t.Helper()
	r, err := NewReader(strings.NewReader(input), opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var rows []Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			return r, rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
}

func TestReadOurFormat(t *testing.T) {
	input := exportHeader +
		"A-1,P-1,Ada,Lovelace,+44 20 7946 0958,EN,Main St,Dr Who,Check-up,2026-12-07 14:30,30,\"Bring the letter,\nplease\",Booked\n" +
		"A-2,,Blaise,Pascal,06 12 34 56 78,français,Paris,,,2026-12-07T14:30:00+01:00,45,,cancelled\n" +
		",,,,,,,,,,,,\n" + // a blank row is skipped
		"A-3,P-3,,,,,,,,,,,\n"
	r, rows := readRows(t, input, Options{Country: "GB"})
	if r.Delimiter() != ',' || r.Encoding() != EncodingUTF8 {
		t.Errorf("delimiter %q, encoding %q", r.Delimiter(), r.Encoding())
	}
	want := []Row{
		{
			Number: 2, ExternalID: "A-1", PatientExternalID: "P-1", FirstName: "Ada", LastName: "Lovelace",
			Phone: "+44 20 7946 0958", Language: "en", Location: "Main St", Provider: "Dr Who", Type: "Check-up",
			Start:           Start{Local: LocalDateTime{2026, 12, 7, 14, 30}},
			DurationMinutes: 30, Notes: "Bring the letter,\nplease", Status: StatusScheduled,
		},
		{
			Number: 3, ExternalID: "A-2", FirstName: "Blaise", LastName: "Pascal", Phone: "06 12 34 56 78",
			Language: "fr", Location: "Paris", Start: Start{Instant: time.Date(2026, 12, 7, 14, 30, 0, 0, time.FixedZone("", 3600))},
			DurationMinutes: 45, Status: StatusCancelled,
		},
		{Number: 5, ExternalID: "A-3", PatientExternalID: "P-3"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i := range want {
		got := rows[i]
		if !got.Start.Instant.Equal(want[i].Start.Instant) {
			t.Errorf("row %d start %v, want %v", i, got.Start.Instant, want[i].Start.Instant)
		}
		got.Start.Instant, want[i].Start.Instant = time.Time{}, time.Time{}
		got.given, want[i].given = 0, 0
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	for _, f := range allFields {
		wantHas := f != FieldName && f != FieldDate && f != FieldTime
		if rows[0].Has(f) != wantHas {
			t.Errorf("Has(%s) = %v", f, !wantHas)
		}
	}
}

func TestHasWithNameAndSplitDateTime(t *testing.T) {
	_, rows := readRows(t, "Appt ID,Patient Name,Date,Time\n1,\"Lovelace, Ada\",07/12/2026,2:30 PM\n", Options{Country: "FR"})
	row := rows[0]
	if !row.OK() || row.FirstName != "Ada" || row.LastName != "Lovelace" || row.Start.Local != (LocalDateTime{2026, 12, 7, 14, 30}) {
		t.Fatalf("row = %+v", row)
	}
	for f, want := range map[Field]bool{
		FieldFirstName: true, FieldLastName: true, FieldName: true, FieldStartsAt: true, FieldDate: true,
		FieldTime: true, FieldPhone: false, FieldNotes: false,
	} {
		if row.Has(f) != want {
			t.Errorf("Has(%s) = %v, want %v", f, row.Has(f), want)
		}
	}
	if row.Has("nonsense") {
		t.Error("Has of an unknown field")
	}
}

func utf16Bytes(s string, order binary.AppendByteOrder, bom bool) []byte {
	var out []byte
	if bom {
		out = order.AppendUint16(out, 0xfeff)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = order.AppendUint16(out, u)
	}
	return out
}

func TestEncodings(t *testing.T) {
	const text = "external_id;first_name;last_name;notes\r\nA-1;Zoë;Müller;café – 5 €\r\n"
	cp1252 := []byte("external_id;first_name;last_name;notes\r\nA-1;Zo\xeb;M\xfcller;caf\xe9 \x96 5 \x80\r\n")
	tests := []struct {
		name string
		data []byte
		enc  string
	}{
		{"UTF-8", []byte(text), EncodingUTF8},
		{"UTF-8 with BOM", append([]byte("\ufeff"), text...), EncodingUTF8},
		{"UTF-16LE with BOM", utf16Bytes(text, binary.LittleEndian, true), EncodingUTF16LE},
		{"UTF-16BE with BOM", utf16Bytes(text, binary.BigEndian, true), EncodingUTF16BE},
		{"UTF-16LE without BOM", utf16Bytes(text, binary.LittleEndian, false), EncodingUTF16LE},
		{"UTF-16BE without BOM", utf16Bytes(text, binary.BigEndian, false), EncodingUTF16BE},
		{"Windows-1252", cp1252, EncodingWindows1252},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, rows := readRows(t, string(tc.data), Options{})
			if len(rows) != 1 {
				t.Fatalf("%d rows", len(rows))
			}
			row := rows[0]
			if !row.OK() || row.FirstName != "Zoë" || row.LastName != "Müller" || row.Notes != "café – 5 €" {
				t.Fatalf("row = %+v", row)
			}
			if r.Encoding() != tc.enc || r.Delimiter() != ';' {
				t.Fatalf("encoding %q delimiter %q, want %q ';'", r.Encoding(), r.Delimiter(), tc.enc)
			}
			if got := r.Header(); got[0] != "external_id" {
				t.Fatalf("header %q", got)
			}
		})
	}
}

func TestMixedEncodings(t *testing.T) {
	// A UTF-8 file with one row pasted from a Windows-1252 file.
	input := "external_id,last_name\n1,Müller\n2,M\xfcller\n3,Ω\n"
	r, rows := readRows(t, input, Options{})
	for i, want := range []string{"Müller", "Müller", "Ω"} {
		if rows[i].LastName != want {
			t.Errorf("row %d: %q, want %q", i, rows[i].LastName, want)
		}
	}
	if r.Encoding() != EncodingWindows1252 {
		t.Errorf("encoding %q", r.Encoding())
	}
}

func TestDelimiters(t *testing.T) {
	tests := []struct {
		name, input string
		comma       rune
	}{
		{"comma", "external_id,phone\n1,\"5;5\"\n", ','},
		{"semicolon", "external_id;phone\n1;5,5\n", ';'},
		{"tab", "external_id\tphone\n1\t5,5\n", '\t'},
		{"semicolons beat a comma in a quoted header", "\"external_id, the id\";external_id;phone\n;1;5,5\n", ';'},
		{"one column", "external_id\n1\n", ','},
		{"excel sep line", "sep=|\nexternal_id|phone\n1|5,5\n", '|'},
		{"excel sep line for semicolons", "SEP=;\r\nexternal_id;phone\r\n1;5,5\r\n", ';'},
		{"leading blank lines", "\n\nexternal_id;phone\n1;5,5\n", ';'},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, rows := readRows(t, tc.input, Options{})
			if r.Delimiter() != tc.comma {
				t.Fatalf("delimiter %q, want %q", r.Delimiter(), tc.comma)
			}
			if len(rows) != 1 || rows[0].ExternalID != "1" {
				t.Fatalf("rows %+v", rows)
			}
		})
	}
	// Row numbers follow the spreadsheet: the sep line is not shown, blank
	// lines are.
	_, rows := readRows(t, "sep=;\nexternal_id\n1\n", Options{})
	if rows[0].Number != 2 {
		t.Errorf("after a sep line, first row is %d", rows[0].Number)
	}
	_, rows = readRows(t, "\nexternal_id\n\n1\n", Options{})
	if rows[0].Number != 4 {
		t.Errorf("after blank lines, first row is %d", rows[0].Number)
	}
}

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opts  Options
		kind  error
		field Field
		msg   string
	}{
		{"empty", "", Options{}, ErrEmpty, "", "csvimport: the file is empty"},
		{"only a BOM", "\ufeff", Options{}, ErrEmpty, "", "csvimport: the file is empty"},
		{"only blank lines", "\r\n\n  \n,,,\n", Options{}, ErrEmpty, "", "csvimport: the file is empty"},
		{
			"no external_id", "first_name,phone\nAda,555\n",
			Options{},
			ErrMissingColumn, FieldExternalID,
			"csvimport: no column for external_id, the appointment's id in your system",
		},
		{
			"10,000 columns", strings.Repeat("c,", 9999) + "c\n1\n",
			Options{},
			ErrTooManyColumns, "",
			"csvimport: the file has more than 200 columns",
		},
		{
			"10,000 long columns", strings.Repeat("column,", 9999) + "c\n1\n",
			Options{},
			ErrTooManyColumns, "",
			"csvimport: the file has more than 200 columns",
		},
		{
			"duplicate column", "external_id,phone,Phone\n1,2,3\n",
			Options{},
			ErrDuplicateColumn, FieldPhone,
			`csvimport: columns B and C are both called "phone"`,
		},
		{
			"unreadable header", "\"external_id\"x,phone\n1,2\n",
			Options{},
			ErrBadHeader, "",
			"csvimport: the header row cannot be read: a quote inside a quoted cell must be doubled",
		},
		{"mapping for another file", "Appt,Cell\n1,2\n", Options{Mapping: &Mapping{Columns: map[Field]Column{
			FieldExternalID: {Index: 0, Name: "Appt ID"},
		}}}, ErrBadMapping, FieldExternalID, `csvimport: column A is "Appt", not "Appt ID": the mapping was made for another file`},
		{"mapping without a time", "id,day\n1,2\n", Options{Mapping: &Mapping{Columns: map[Field]Column{
			FieldExternalID: {Index: 0}, FieldDate: {Index: 1},
		}}}, ErrBadMapping, FieldTime, "csvimport: the date column needs a time column (or map it to starts_at)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tc.input), tc.opts)
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, tc.kind) || fe.Field != tc.field || err.Error() != tc.msg {
				t.Fatalf("NewReader = %v (%#v)\nwant %q (%v, field %q)", err, err, tc.msg, tc.kind, tc.field)
			}
			if tc.opts.Mapping == nil {
				_, perr := Preview(strings.NewReader(tc.input), 5)
				if (tc.kind == ErrEmpty || tc.kind == ErrTooManyColumns || tc.kind == ErrBadHeader) != (perr != nil) {
					t.Fatalf("Preview = %v", perr)
				}
			}
		})
	}
}

func TestHeaderOnly(t *testing.T) {
	for _, input := range []string{"external_id", "external_id\n", "external_id\r\n\r\n\r\n", "external_id,phone\n,\n  ,\t\n"} {
		r, rows := readRows(t, input, Options{})
		if len(rows) != 0 {
			t.Errorf("%q: %d rows", input, len(rows))
		}
		if _, err := r.Next(); err != io.EOF {
			t.Errorf("%q: Next after the end = %v", input, err)
		}
	}
}

// rowErrors reads input and returns each row's errors as "field: message".
func rowErrors(t *testing.T, input string, opts Options) map[int][]string {
	t.Helper()
	_, rows := readRows(t, input, opts)
	out := map[int][]string{}
	for _, r := range rows {
		for _, e := range r.Errors {
			if e.Row != r.Number {
				t.Fatalf("error %v on row %d", e, r.Number)
			}
			out[r.Number] = append(out[r.Number], string(e.Field)+": "+e.Message)
		}
		if r.OK() != (len(r.Errors) == 0) {
			t.Fatal("OK disagrees with Errors")
		}
	}
	return out
}

func TestRowErrors(t *testing.T) {
	input := ourHeader +
		",,Ada,,,,,,,,,\n" + // 2
		strings.Repeat("x", 101) + ",,,,,,,,,,,\n" + // 3
		"3,,Ada\x00,,,klingon,,,2026-02-30 10:00,0,,done\n" + // 4
		"4,,\"Ada\nLovelace\",,,,,,tomorrow,1:75,,\n" + // 5
		"5,,,,,,,,2026-03-08 02:30,30,\"" + strings.Repeat("n", 2001) + "\",\n" + // 6
		"6,,,,,,,,2026-12-07,30,ok\tfine,\n" + // 7
		"7,,,\"evil\u202egnp.exe\",,,,,12/07/2026 10:00,,,\n" // 8
	got := rowErrors(t, input, Options{Country: "FR"})
	want := map[int][]string{
		2: {"external_id: empty: every row needs the appointment's id"},
		3: {"external_id: longer than 100 characters"},
		4: {
			"first_name: contains a control character",
			`language: unsupported language "klingon": use en, fr, es, de, nl, pt, it`,
			"starts_at: February 2026 has no day 30",
			"duration_minutes: must be 1 to 720 minutes",
			`status: unknown status "done": use scheduled, confirmed or cancelled`,
		},
		5: {
			"first_name: contains a line break",
			"starts_at: not a date and time: write it as 2026-12-07 14:30 (dates like 07/12/2026 are read day first)",
			"duration_minutes: not a duration: give the minutes, as in 30",
		},
		6: {"notes: longer than 2000 characters"},
		7: {"starts_at: a date without a time: add the time, as in 2026-12-07 14:30"},
		8: {"last_name: contains a character that reorders text"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("errors:\n got %v\nwant %v", got, want)
	}
	// A time the clocks skip is the caller's to refuse: the row only holds
	// the wall-clock time.
	_, rows := readRows(t, ourHeader+"5,,,,,,,,2026-03-08 02:30,30,,\n", Options{})
	if _, err := rows[0].Start.In(mustZone(t, "America/New_York")); !errors.Is(err, ErrNonexistentTime) {
		t.Fatalf("skipped time: %v", err)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestSplitDateTimeErrors(t *testing.T) {
	input := "id,date,time\n1,2026-12-07,\n2,,10:00\n3,31/02/2026,25:00\n4,,\n5,12/07/2026,10:00\n"
	got := rowErrors(t, input, Options{Mapping: &Mapping{Columns: map[Field]Column{
		FieldExternalID: {Index: 0}, FieldDate: {Index: 1}, FieldTime: {Index: 2},
	}, DateOrder: MonthFirst}})
	want := map[int][]string{
		2: {"time: empty: the date needs a time"},
		3: {"date: empty: the time needs a date"},
		4: {"date: not a date in month/day/year order", "time: not a time: write it as 14:30 or 2:30 PM"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("errors:\n got %v\nwant %v", got, want)
	}
}

func TestHostileRows(t *testing.T) {
	input := "external_id,last_name,notes\n" +
		"1,\"Bob\" Smith,x\n" + // 2: stray quote
		"2,O\"Brien,5'10\"\n" + // 3: quotes in unquoted cells are text
		"3,Müller," + strings.Repeat("x", 70<<10) + "\n" + // 4: a row over 64 KB
		"4,Ng,\"multi\nline\"\n" + // 5
		"5,a,b,c,d\n" + // 6: wider than the header
		"6,a,b,,,\n" + // 7: trailing empty cells are fine
		"7," + strings.Repeat("a,", 300) + "\n" + // 8: far too wide
		"8,\"unclosed,x\n" + // 9: an unclosed quote
		"9,Last,row\n" + // 10: read again after the unclosed quote
		",,\n\n\n" // trailing empty rows
	_, rows := readRows(t, input, Options{})
	type brief struct {
		n      int
		id     string
		errors string
	}
	var got []brief
	for _, r := range rows {
		var msgs []string
		for _, e := range r.Errors {
			msgs = append(msgs, e.Message)
		}
		got = append(got, brief{r.Number, r.ExternalID, strings.Join(msgs, "; ")})
	}
	want := []brief{
		{2, "", "a quote inside a quoted cell must be doubled"},
		{3, "2", ""},
		{4, "", "the row is longer than 64 KB (or a quoted cell is not closed)"},
		{5, "4", ""},
		{6, "", "the row has 5 cells but the header has 3: is a cell holding the delimiter not quoted?"},
		{7, "6", ""},
		{8, "", "the row has more than 200 cells"},
		{9, "", "a quoted cell is not closed"},
		{10, "9", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n got %+v\nwant %+v", got, want)
	}
	if rows[1].LastName != `O"Brien` || rows[1].Notes != `5'10"` || rows[3].Notes != "multi\nline" {
		t.Fatalf("quotes as text: %+v %+v", rows[1], rows[3])
	}
}

func TestTooManyBadRows(t *testing.T) {
	input := "external_id,notes\n" + strings.Repeat("1,\"a\"b\n", MaxBadRows+5)
	r, err := NewReader(strings.NewReader(input), Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for {
		row, err := r.Next()
		if err != nil {
			if !errors.Is(err, ErrTooManyBadRows) || bad != MaxBadRows {
				t.Fatalf("after %d bad rows: %v", bad, err)
			}
			return
		}
		if row.OK() {
			t.Fatalf("row %d read", row.Number)
		}
		bad++
	}
}

// endless is an upload that never ends: rows forever.
type endless struct{ pos int }

func (e *endless) Read(p []byte) (int, error) {
	const header = "external_id,first_name,phone,starts_at,duration_minutes\n"
	const row = "A-12345,Ada,+442079460958,2026-12-07 14:30,30\n"
	for i := range p {
		if e.pos < len(header) {
			p[i] = header[e.pos]
		} else {
			p[i] = row[(e.pos-len(header))%len(row)]
		}
		e.pos++
	}
	return len(p), nil
}

func TestUploadLimit(t *testing.T) {
	const limit = 2 << 20
	readUntilError := func(t *testing.T, in io.Reader) (int, error) {
		r, err := NewReader(in, Options{})
		if err != nil {
			return 0, err
		}
		rows := 0
		for {
			row, err := r.Next()
			if err != nil {
				return rows, err
			}
			if !row.OK() {
				t.Fatalf("row %d: %v (a cut row must not come back)", row.Number, row.Errors)
			}
			rows++
		}
	}
	t.Run("LimitReader", func(t *testing.T) {
		rows, err := readUntilError(t, LimitReader(&endless{}, limit))
		var tl *TooLargeError
		if !errors.As(err, &tl) || tl.Limit != limit || err.Error() != "csvimport: read: csvimport: the file is larger than 2 MB" {
			t.Fatalf("after %d rows: %v", rows, err)
		}
		if rows < limit/50 || rows > limit/40 {
			t.Fatalf("%d rows before the limit", rows)
		}
		r, err := NewReader(LimitReader(&endless{}, limit), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			_, err = r.Next()
		}
		if _, again := r.Next(); again != err {
			t.Fatalf("Next after the error = %v, want %v again", again, err)
		}
	})
	t.Run("http.MaxBytesReader", func(t *testing.T) {
		body := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(&endless{}), limit)
		_, err := readUntilError(t, body)
		var mb *http.MaxBytesError
		if !errors.As(err, &mb) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("UTF-16", func(t *testing.T) {
		data := utf16Bytes("external_id\n"+strings.Repeat("A-1\n", limit/4), binary.LittleEndian, true)
		_, err := readUntilError(t, LimitReader(bytes.NewReader(data), limit))
		var tl *TooLargeError
		if !errors.As(err, &tl) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a limit inside the header", func(t *testing.T) {
		_, err := NewReader(LimitReader(&endless{}, 10), Options{})
		var tl *TooLargeError
		if !errors.As(err, &tl) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("exactly at the limit is fine", func(t *testing.T) {
		data := "external_id\n1\n2\n"
		rows, err := readUntilError(t, LimitReader(strings.NewReader(data), int64(len(data))))
		if err != io.EOF || rows != 2 {
			t.Fatalf("%d rows, %v", rows, err)
		}
	})
}

func TestLimitReaderByteSize(t *testing.T) {
	for n, want := range map[int64]string{50 << 20: "50 MB", 64 << 10: "64 KB", 1000: "1000 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := (&TooLargeError{Limit: n}).Error(); got != "csvimport: the file is larger than "+want {
			t.Errorf("%d: %q", n, got)
		}
	}
}

func TestPhoneRegion(t *testing.T) {
	input := "external_id,phone,location\n1,(202) 555-0143,Boston\n2,06 12 34 56 78,Paris\n3,555,Boston\n4,,Paris\n"
	var asked []string
	_, rows := readRows(t, input, Options{PhoneRegion: func(loc string) string {
		asked = append(asked, loc)
		if loc == "Paris" {
			return "FR"
		}
		return "US"
	}})
	if rows[0].PhoneE164 != "+12025550143" || rows[1].PhoneE164 != "+33612345678" || !rows[0].OK() || !rows[1].OK() {
		t.Fatalf("rows %+v %+v", rows[0], rows[1])
	}
	if rows[2].OK() || rows[2].Errors[0] != (FieldError{Row: 4, Field: FieldPhone, Message: "too short for US"}) {
		t.Fatalf("row 4: %+v", rows[2].Errors)
	}
	if !rows[3].OK() || rows[3].PhoneE164 != "" {
		t.Fatalf("an empty phone: %+v", rows[3])
	}
	if !reflect.DeepEqual(asked, []string{"Boston", "Paris", "Boston"}) {
		t.Fatalf("regions asked for %q", asked)
	}
}

func TestMappingOption(t *testing.T) {
	input := "Cell;Ref;Who;When\n555;A-1;Lovelace, Ada;12/07/2026 14:30\n"
	m := Mapping{Columns: map[Field]Column{
		FieldPhone: {Index: 0, Name: "cell"}, FieldExternalID: {Index: 1, Name: "Ref"},
		FieldName: {Index: 2}, FieldStartsAt: {Index: 3, Name: "When"},
	}, DateOrder: MonthFirst}
	r, rows := readRows(t, input, Options{Mapping: &m, Country: "FR"})
	row := rows[0]
	if !row.OK() || row.ExternalID != "A-1" || row.Phone != "555" || row.FirstName != "Ada" ||
		row.Start.Local != (LocalDateTime{2026, 12, 7, 14, 30}) {
		t.Fatalf("row %+v", row)
	}
	if !reflect.DeepEqual(r.Mapping(), m) {
		t.Fatalf("Mapping() = %+v", r.Mapping())
	}
	// Without a date order, the country's.
	m.DateOrder = ""
	r, rows = readRows(t, input, Options{Mapping: &m, Country: "FR"})
	if r.Mapping().DateOrder != DayFirst || rows[0].Start.Local.Month != time.July {
		t.Fatalf("order %q, row %+v", r.Mapping().DateOrder, rows[0])
	}
}

func TestGuessWithoutMappingUsesTheFirstRows(t *testing.T) {
	input := "Appt ID,Start Time,Mobile\n1,25/12/2026 14:30,555\n2,26/12/2026 09:00,556\n"
	r, rows := readRows(t, input, Options{Country: "US"})
	m := r.Mapping()
	if _, ok := m.Columns[FieldStartsAt]; !ok || m.DateOrder != DayFirst {
		t.Fatalf("mapping %+v", m)
	}
	if !rows[0].OK() || rows[0].Start.Local != (LocalDateTime{2026, 12, 25, 14, 30}) {
		t.Fatalf("row %+v", rows[0])
	}
}

func TestExportRoundTrip(t *testing.T) {
	// What we export, we import back unchanged: formula cells included.
	records := [][]string{
		{"external_id", "first_name", "last_name", "phone", "notes", "status", "starts_at", "duration_minutes"},
		{"A-1", "=HYPERLINK(\"http://evil.example\",\"x\")", "@SUM(1)", "+33612345678", "-2+3+cmd|' /C calc'!A0\nline 2", "confirmed", "2026-12-07 14:30", "30"},
		{"'=already", "-5", "'plain", "+1 202 555 0143", "tab\tinside", "cancelled", "2026-12-07 09:00", "45"},
	}
	var buf bytes.Buffer
	w := csvout.NewWriter(&buf, csvout.Options{BOM: true})
	for _, rec := range records {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), ",=") || strings.Contains(buf.String(), ",@") {
		t.Fatalf("a formula cell was written as is:\n%s", buf.String())
	}
	_, rows := readRows(t, buf.String(), Options{})
	for i, row := range rows {
		rec := records[i+1]
		got := []string{row.ExternalID, row.FirstName, row.LastName, row.Phone, row.Notes, string(row.Status), row.Start.Local.String(), "30"}
		if i == 1 {
			got[7] = "45"
		}
		if row.DurationMinutes != map[int]int{0: 30, 1: 45}[i] {
			t.Errorf("duration %d", row.DurationMinutes)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Errorf("row %d read back as\n%q\nwant\n%q", row.Number, got, rec)
		}
	}
}

func TestPreview(t *testing.T) {
	var b strings.Builder
	b.WriteString("\ufeffAppt ID;Patient Name;Notes\r\n")
	b.WriteString("1;Ada;\"a;b\"\r\n")
	b.WriteString(";;\r\n")            // blank: left out
	b.WriteString("2;\"Bob\" x;c\r\n") // unreadable: left out
	b.WriteString("3;Zo\xeb;d;extra\r\n")
	for i := 0; i < 200; i++ {
		b.WriteString("9;n;m\r\n")
	}
	s, err := Preview(strings.NewReader(b.String()), 3)
	if err != nil {
		t.Fatal(err)
	}
	want := &Sample{
		Header:    []string{"Appt ID", "Patient Name", "Notes"},
		Rows:      [][]string{{"1", "Ada", "a;b"}, {"3", "Zoë", "d", "extra"}, {"9", "n", "m"}},
		Delimiter: ';',
		Encoding:  EncodingWindows1252,
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("Preview =\n%+v\nwant\n%+v", s, want)
	}
	if s, err := Preview(strings.NewReader(b.String()), 1000); err != nil || len(s.Rows) != MaxPreviewRows {
		t.Fatalf("Preview of 1000: %d rows, %v", len(s.Rows), err)
	}
	if s, err := Preview(strings.NewReader("a,b\n"), 5); err != nil || len(s.Rows) != 0 || s.Rows == nil {
		t.Fatalf("header only: %+v, %v", s, err)
	}
	// Guess takes the preview as it comes.
	m := Guess(s.Header, s.Rows, "US")
	if m.Columns[FieldExternalID].Name != "Appt ID" || m.Columns[FieldName].Index != 1 {
		t.Fatalf("guess %+v", m)
	}
}

func TestFieldErrorText(t *testing.T) {
	if got := (FieldError{Row: 5, Field: FieldPhone, Message: "too short for US"}).Error(); got != "row 5: phone: too short for US" {
		t.Error(got)
	}
	if got := (FieldError{Row: 7, Message: "a quoted cell is not closed"}).Error(); got != "row 7: a quoted cell is not closed" {
		t.Error(got)
	}
}

func TestMemoryPerRowIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(ourHeader)
	for i := 0; i < 2000; i++ {
		b.WriteString("A-1,P-1,Ada,Lovelace,+44 20 7946 0958,en,Main,Dr Who,2026-12-07 14:30,30,\"Bring, please\",confirmed\n")
	}
	r, err := NewReader(strings.NewReader(b.String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if row, err := r.Next(); err != nil || !row.OK() {
			t.Fatalf("%+v %v", row, err)
		}
	})
	// One string holds a row's values; nothing else is allocated.
	if allocs > 1 {
		t.Fatalf("%.1f allocations per row", allocs)
	}
}
