package csvimport

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzReader(f *testing.F) {
	f.Add([]byte(ourHeader + "A-1,P-1,Ada,Lovelace,+44 20 7946 0958,EN,Main,Dr,2026-12-07 14:30,30,\"a\nb\",booked\n"))
	f.Add([]byte("Appt ID;Patient Name;Appt Date;Start Time\n1;\"Doe, J\";12/07/2026;2:30 PM\n"))
	f.Add([]byte("\ufeffexternal_id\tnotes\r\n1\t\"x\"\"y\"\r\n2\t\"open\r\n"))
	f.Add([]byte("sep=;\nexternal_id;x\n1;\"a\"b\n"))
	f.Add(utf16Bytes("external_id,last_name\n1,Zoë\n", binary.LittleEndian, true))
	f.Add([]byte("external_id,last_name\n1,M\xfcller\n\x00,\x00\n"))
	f.Add([]byte(strings.Repeat("a,", 300) + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []Options{
			{Country: "US"},
			{Mapping: &Mapping{Columns: map[Field]Column{
				FieldExternalID: {Index: 0}, FieldName: {Index: 1}, FieldDate: {Index: 2}, FieldTime: {Index: 3},
			}}},
		} {
			checkReader(t, data, opts)
		}
		s, err := Preview(bytes.NewReader(data), 10)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Preview error %v is not a FileError", err)
			}
			return
		}
		for _, row := range append([][]string{s.Header}, s.Rows...) {
			for _, c := range row {
				if !utf8.ValidString(c) {
					t.Fatalf("Preview cell %q is not UTF-8", c)
				}
			}
		}
	})
}

func checkReader(t *testing.T, data []byte, opts Options) {
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) || fe.Kind == nil || fe.Message == "" {
			t.Fatalf("NewReader error %#v is not a FileError", err)
		}
		return
	}
	if err := r.Mapping().Check(r.Header()); err != nil {
		t.Fatalf("the mapping in use does not fit: %v", err)
	}
	last := 1
	for {
		row, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			if !errors.Is(err, ErrTooManyBadRows) {
				t.Fatalf("Next: %v", err)
			}
			return
		}
		if row.Number <= last {
			t.Fatalf("row %d after row %d", row.Number, last)
		}
		last = row.Number
		checkRow(t, row)
	}
}

func checkRow(t *testing.T, row Row) {
	v := reflect.ValueOf(row)
	for i := 0; i < v.NumField(); i++ {
		if fv := v.Field(i); fv.Kind() == reflect.String && !utf8.ValidString(fv.String()) {
			t.Fatalf("row %d: %s %q is not UTF-8", row.Number, v.Type().Field(i).Name, fv.String())
		}
	}
	for _, e := range row.Errors {
		if e.Row != row.Number || (e.Field != "" && e.Field.index() < 0) || e.Message == "" || !utf8.ValidString(e.Message) {
			t.Fatalf("row %d: bad error %+v", row.Number, e)
		}
	}
	if !row.OK() {
		return
	}
	switch {
	case row.ExternalID == "" || utf8.RuneCountInString(row.ExternalID) > 100:
		t.Fatalf("row %d: external id %q", row.Number, row.ExternalID)
	case row.Status != "" && row.Status != StatusScheduled && row.Status != StatusConfirmed && row.Status != StatusCancelled:
		t.Fatalf("row %d: status %q", row.Number, row.Status)
	case row.DurationMinutes < 0 || row.DurationMinutes > MaxDurationMinutes:
		t.Fatalf("row %d: duration %d", row.Number, row.DurationMinutes)
	case row.Language != "" && !strings.Contains(" en fr es de nl pt it ", " "+row.Language+" "):
		t.Fatalf("row %d: language %q", row.Number, row.Language)
	case utf8.RuneCountInString(row.Notes) > 2000 || strings.Contains(row.Notes, "\r"):
		t.Fatalf("row %d: notes %q", row.Number, row.Notes)
	case !row.Start.Local.IsZero() && !row.Start.Instant.IsZero():
		t.Fatalf("row %d: both a local time and an instant", row.Number)
	}
	for _, s := range []string{row.ExternalID, row.FirstName, row.LastName, row.Phone, row.Location, row.Provider} {
		if msg := checkText(s, 200, false); msg != "" || s != strings.TrimSpace(s) {
			t.Fatalf("row %d: %q: %s", row.Number, s, msg)
		}
	}
}

func FuzzGuess(f *testing.F) {
	f.Add("Appt ID,Patient Name,Mobile,Appt Date,Start Time,Doctor", "1,Doe,555,12/07/2026,2:30 PM,Who")
	f.Add("external_id,starts_at,name,first_name", "1,2026-12-07 14:30,a b,c")
	f.Add("Name,Vorname,Datum,Uhrzeit,Name", "a,b,25.12.2026,14h30,c")
	f.Add("date,date,time,Start", "2026-12-07,x,14:30,2026-12-07 14:30")
	f.Fuzz(func(t *testing.T, headerLine, sampleLines string) {
		header := strings.Split(headerLine, ",")
		var samples [][]string
		for _, line := range strings.Split(sampleLines, "\n") {
			samples = append(samples, strings.Split(line, ","))
		}
		m := Guess(header, samples, "US")
		if !m.DateOrder.valid() {
			t.Fatalf("date order %q", m.DateOrder)
		}
		used := map[int]bool{}
		for f, c := range m.Columns {
			if c.Index < 0 || c.Index >= len(header) || c.Index >= MaxColumns || c.Name != cleanHeader(header[c.Index]) {
				t.Fatalf("%s: column %+v of %q", f, c, header)
			}
			if used[c.Index] {
				t.Fatalf("column %d used twice: %+v", c.Index, m.Columns)
			}
			used[c.Index] = true
		}
		if err := m.Check(header); err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || (fe.Field != FieldExternalID && fe.Field != FieldDate && fe.Field != FieldTime) {
				t.Fatalf("Guess made a contradictory mapping %+v: %v", m.Columns, err)
			}
		}
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseMapping(data)
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("JSON round trip: %v\n%+v\n%+v", err, m, back)
		}
		if again, missing := m.Rebind(header); len(missing) != 0 || len(again.Columns) != len(m.Columns) {
			t.Fatalf("Rebind onto its own header lost %v", missing)
		}
	})
}

func FuzzParseStart(f *testing.F) {
	for _, s := range []string{
		"2026-12-07 14:30", "12/07/2026 2:30 PM", "07.12.2026 14h30", "Dec 7, 2026 9:00 am",
		"2026-12-07T14:30:00+01:00", "2026-12-07 14:30 UTC", "7-Dec-26 2pm",
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, monthFirst bool) {
		order := DayFirst
		if monthFirst {
			order = MonthFirst
		}
		st, err := ParseStart(s, order)
		if err != nil {
			if !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("message %q", err)
			}
			return
		}
		if st.IsZero() || (!st.Local.IsZero() && !st.Instant.IsZero()) {
			t.Fatalf("ParseStart(%q) = %+v", s, st)
		}
		if st.Instant.IsZero() {
			back, err := ParseStart(st.Local.String(), order)
			if err != nil || back != st {
				t.Fatalf("ParseStart(%q) = %+v, but its String %q reads as %+v, %v", s, st, st.Local.String(), back, err)
			}
			if _, err := st.Local.In(nil); err != nil {
				t.Fatalf("%v in UTC: %v", st.Local, err)
			}
		}
	})
}
