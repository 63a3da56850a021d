package csvimport

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// cols builds the Columns of a mapping from field, header pairs, with the
// positions taken from header.
func cols(t *testing.T, header []string, pairs ...string) map[Field]Column {
	t.Helper()
	out := map[Field]Column{}
	for i := 0; i < len(pairs); i += 2 {
		at := -1
		for j, h := range header {
			if h == pairs[i+1] {
				at = j
			}
		}
		if at < 0 {
			t.Fatalf("no column %q", pairs[i+1])
		}
		out[Field(pairs[i])] = Column{Index: at, Name: pairs[i+1]}
	}
	return out
}

func TestGuess(t *testing.T) {
	tests := []struct {
		name    string
		header  string // comma separated
		samples []string
		country string
		want    []string // field, header pairs
		order   DateOrder
	}{
		{
			name:   "our own names in any order and case",
			header: "Status,NOTES,duration_minutes, Starts_At ,provider,location,language,phone,last_name,first_name,patient_external_id,external_id",
			want: []string{
				"external_id", "external_id", "patient_external_id", "patient_external_id",
				"first_name", "first_name", "last_name", "last_name", "phone", "phone", "language", "language",
				"location", "location", "provider", "provider", "starts_at", "Starts_At", "duration_minutes", "duration_minutes",
				"notes", "NOTES", "status", "Status",
			},
			country: "FR", order: DayFirst,
		},
		{
			name:    "a US practice-management export",
			header:  "Appt ID,Patient ID,Patient Name,Mobile,Home Phone,Appt Date,Start Time,Length,Provider Name,Location Name,Status,Comments",
			samples: []string{"A1,P1,\"Doe, Jane\",555,556,12/07/2026,2:30 PM,30,Dr Who,Main,Booked,x"},
			want: []string{
				"external_id", "Appt ID", "patient_external_id", "Patient ID", "name", "Patient Name", "phone", "Mobile",
				"date", "Appt Date", "time", "Start Time", "duration_minutes", "Length", "provider", "Provider Name",
				"location", "Location Name", "status", "Status", "notes", "Comments",
			},
			country: "US", order: MonthFirst,
		},
		{
			name:   "a German export: Name beside Vorname is the last name",
			header: "Termin-ID,Name,Vorname,Handy,Datum,Uhrzeit,Dauer,Arzt,Praxis,Bemerkung,Sprache",
			want: []string{
				"external_id", "Termin-ID", "last_name", "Name", "first_name", "Vorname", "phone", "Handy",
				"date", "Datum", "time", "Uhrzeit", "duration_minutes", "Dauer", "provider", "Arzt",
				"location", "Praxis", "notes", "Bemerkung", "language", "Sprache",
			},
			country: "DE", order: DayFirst,
		},
		{
			name:    "a time column holding dates and times is starts_at",
			header:  "Appointment ID,Appointment Time,Cell,Doctor,Clinic",
			samples: []string{"1,12/07/2026 2:30 PM,555,Who,Main", "2,,555,Who,Main", "3,12/08/2026 9:00 AM,555,Who,Main"},
			want: []string{
				"external_id", "Appointment ID", "starts_at", "Appointment Time", "phone", "Cell",
				"provider", "Doctor", "location", "Clinic",
			},
			country: "US", order: MonthFirst,
		},
		{
			name:    "a date column holding dates and times is starts_at",
			header:  "Appt ID,Appointment Date,Phone Number",
			samples: []string{"1,2026-12-07 14:30,555"},
			want:    []string{"external_id", "Appt ID", "starts_at", "Appointment Date", "phone", "Phone Number"},
			country: "GB", order: DayFirst,
		},
		{
			name:    "a column named Appointment holding text is left alone",
			header:  "Appt ID,Appointment,Date,Time",
			samples: []string{"1,Cleaning,2026-12-07,14:30"},
			want:    []string{"external_id", "Appt ID", "date", "Date", "time", "Time"},
			country: "GB", order: DayFirst,
		},
		{
			name:    "a day above 12 settles the order against the country",
			header:  "external_id,date,time",
			samples: []string{"1,12/01/2026,10:00", "2,25/12/2026,10:00"},
			want:    []string{"external_id", "external_id", "date", "date", "time", "time"},
			country: "US", order: DayFirst,
		},
		{
			name:    "a month above 12 in second place settles it the other way",
			header:  "external_id,starts_at",
			samples: []string{"1,12/17/2026 10:00"},
			want:    []string{"external_id", "external_id", "starts_at", "starts_at"},
			country: "FR", order: MonthFirst,
		},
		{
			name:   "camel case headers",
			header: "AppointmentID,PatientID,FirstName,LastName,CellPhone,ApptDate,StartTime,ProviderName",
			want: []string{
				"external_id", "AppointmentID", "patient_external_id", "PatientID", "first_name", "FirstName",
				"last_name", "LastName", "phone", "CellPhone", "date", "ApptDate", "time", "StartTime",
				"provider", "ProviderName",
			},
			country: "US", order: MonthFirst,
		},
		{
			name:    "a bare ID is the appointment id when nothing better is there",
			header:  "ID,MRN,Name,Start",
			want:    []string{"external_id", "ID", "patient_external_id", "MRN", "name", "Name", "starts_at", "Start"},
			country: "US", order: MonthFirst,
		},
		{
			name:    "the specific id wins over a bare one",
			header:  "ID,Appt #,Tel",
			want:    []string{"external_id", "Appt #", "phone", "Tel"},
			country: "US", order: MonthFirst,
		},
		{
			name:   "French headers with accents",
			header: "N° RDV,Prénom,Nom,Téléphone portable,Date,Heure,Durée,Praticien,Lieu,Remarques,Statut",
			want: []string{
				"external_id", "N° RDV", "first_name", "Prénom", "last_name", "Nom", "phone", "Téléphone portable", "date", "Date", "time", "Heure",
				"duration_minutes", "Durée", "provider", "Praticien", "location", "Lieu", "notes", "Remarques", "status", "Statut",
			},
			country: "FR", order: DayFirst,
		},
		{
			name:    "nothing known",
			header:  "foo,bar,,baz",
			want:    nil,
			country: "", order: DayFirst,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := strings.Split(tc.header, ",")
			var samples [][]string
			for _, s := range tc.samples {
				rows := readAll(t, s+"\n", ',', 0)
				samples = append(samples, rows[0].cells)
			}
			m := Guess(header, samples, tc.country)
			clean := make([]string, len(header))
			for i, h := range header {
				clean[i] = strings.TrimSpace(h)
			}
			want := cols(t, clean, tc.want...)
			if !reflect.DeepEqual(m.Columns, want) {
				t.Errorf("columns:\n got %v\nwant %v", m.Columns, want)
			}
			if m.DateOrder != tc.order {
				t.Errorf("date order %q, want %q", m.DateOrder, tc.order)
			}
		})
	}
}

func TestHeaderKey(t *testing.T) {
	for in, want := range map[string]string{
		"Appt Date": "appt date", "appt_date": "appt date", "ApptDate": "appt date", " APPT-DATE ": "appt date",
		"Appt #": "appt number", "Téléphone": "telephone", "\ufeffexternal_id": "external id", "E-mail": "e mail",
		"PatientID": "patient id", "MRN": "mrn", "Date/Time": "date time", "": "",
	} {
		if got := headerKey(in); got != want {
			t.Errorf("headerKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	header := []string{"Appt ID", "Date", "Time", "Start", "Name", "First", "Phone"}
	c := func(i int) Column { return Column{Index: i, Name: header[i]} }
	tests := []struct {
		name  string
		m     Mapping
		kind  error
		field Field
	}{
		{"fine", Mapping{Columns: map[Field]Column{FieldExternalID: c(0), FieldDate: c(1), FieldTime: c(2)}}, nil, ""},
		{"fine without names", Mapping{Columns: map[Field]Column{FieldExternalID: {Index: 0}}}, nil, ""},
		{"no external_id", Mapping{Columns: map[Field]Column{FieldPhone: c(6)}}, ErrMissingColumn, FieldExternalID},
		{"past the last column", Mapping{Columns: map[Field]Column{FieldExternalID: c(0), FieldPhone: {Index: 9}}}, ErrMissingColumn, FieldPhone},
		{"negative position", Mapping{Columns: map[Field]Column{FieldExternalID: {Index: -1}}}, ErrMissingColumn, FieldExternalID},
		{"another file's mapping", Mapping{Columns: map[Field]Column{FieldExternalID: c(0), FieldPhone: {Index: 6, Name: "Mobile"}}}, ErrBadMapping, FieldPhone},
		{"a column twice", Mapping{Columns: map[Field]Column{FieldExternalID: c(0), FieldPatientExternalID: c(0)}}, ErrBadMapping, FieldPatientExternalID},
		{"starts_at and a date", Mapping{Columns: map[Field]Column{FieldExternalID: c(0), FieldStartsAt: c(3), FieldDate: c(1), FieldTime: c(2)}}, ErrBadMapping, FieldStartsAt},
		{"a date alone", Mapping{Columns: map[Field]Column{FieldExternalID: c(0), FieldDate: c(1)}}, ErrBadMapping, FieldTime},
		{"a time alone", Mapping{Columns: map[Field]Column{FieldExternalID: c(0), FieldTime: c(2)}}, ErrBadMapping, FieldDate},
		{"full name and first name", Mapping{Columns: map[Field]Column{FieldExternalID: c(0), FieldName: c(4), FieldFirstName: c(5)}}, ErrBadMapping, FieldName},
		{"unknown field", Mapping{Columns: map[Field]Column{FieldExternalID: c(0), "email": c(6)}}, ErrBadMapping, "email"},
		{"unknown date order", Mapping{Columns: map[Field]Column{FieldExternalID: c(0)}, DateOrder: "ymd"}, ErrBadMapping, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Check(header)
			if tc.kind == nil {
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, tc.kind) || fe.Field != tc.field {
				t.Fatalf("Check = %#v, want a %v about %q", err, tc.kind, tc.field)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	saved := Mapping{
		Columns: map[Field]Column{
			FieldExternalID: {Index: 0, Name: "Appt ID"},
			FieldPhone:      {Index: 3, Name: "Mobile"},
			FieldNotes:      {Index: 4, Name: "Comments"},
			FieldStatus:     {Index: 2},
			FieldProvider:   {Index: 1, Name: "Doctor"},
		},
		DateOrder: MonthFirst,
	}
	header := []string{"doctor", "Doctor", "Status", " APPT ID ", "mobile"}
	got, missing := saved.Rebind(header)
	want := Mapping{
		Columns: map[Field]Column{
			FieldExternalID: {Index: 3, Name: " APPT ID "},
			FieldPhone:      {Index: 4, Name: "mobile"},
			FieldStatus:     {Index: 2, Name: "Status"},
			FieldProvider:   {Index: 1, Name: "Doctor"}, // the recorded position breaks the tie
		},
		DateOrder: MonthFirst,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Rebind =\n%v\nwant\n%v", got, want)
	}
	if !reflect.DeepEqual(missing, []Field{FieldNotes}) {
		t.Fatalf("missing = %v", missing)
	}
	if err := got.Check(header); err != nil {
		t.Fatalf("the rebound mapping does not fit: %v", err)
	}
}

func TestMappingJSON(t *testing.T) {
	m := Mapping{
		Columns: map[Field]Column{
			FieldExternalID: {Index: 0, Name: "Appt ID"},
			FieldDate:       {Index: 4, Name: "Appt Date"},
			FieldTime:       {Index: 5, Name: "Start Time"},
		},
		DateOrder: MonthFirst,
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"columns":{"date":{"index":4,"name":"Appt Date"},"external_id":{"index":0,"name":"Appt ID"},` +
		`"time":{"index":5,"name":"Start Time"}},"date_order":"mdy"}`
	if string(data) != want {
		t.Fatalf("JSON = %s\nwant   %s", data, want)
	}
	back, err := ParseMapping(data)
	if err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("ParseMapping = %v, %v", back, err)
	}
	for _, bad := range []string{
		``, `[]`, `{"columns":{"email":{"index":1}}}`, `{"columns":{"phone":{"index":-1}}}`,
		`{"columns":{"phone":{"index":200}}}`, `{"date_order":"ymd"}`, `{"columns":{},"extra":1}`,
		`{"columns":{"phone":{"index":"1"}}}`,
	} {
		if _, err := ParseMapping([]byte(bad)); err == nil {
			t.Errorf("ParseMapping(%s) succeeded", bad)
		}
	}
}

func TestColumnName(t *testing.T) {
	for i, want := range map[int]string{0: "A", 1: "B", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA"} {
		if got := columnName(i); got != want {
			t.Errorf("columnName(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestGuessTrustsMostSamples(t *testing.T) {
	header := []string{"Appt ID", "Appt Date", "Appt Time", "starts_at"}
	samples := [][]string{
		{"1", "2026-12-07", "14:30", "soon"},
		{"2", "tomorrow", "9:00", "later"},
		{"3", "2026-12-08", "10:00", ""},
	}
	m := Guess(header, samples, "GB")
	// Most of the dates read as dates; starts_at is our own name, kept
	// whatever its cells hold, which leaves the date and time out.
	if _, ok := m.Columns[FieldStartsAt]; !ok {
		t.Fatalf("starts_at dropped: %+v", m.Columns)
	}
	m = Guess(header[:3], samples, "GB")
	if m.Columns[FieldDate].Index != 1 || m.Columns[FieldTime].Index != 2 {
		t.Fatalf("date and time: %+v", m.Columns)
	}
	// Mostly not dates: not a date column.
	m = Guess([]string{"id", "Appointment"}, [][]string{{"1", "Cleaning"}, {"2", "2026-12-07 10:00"}, {"3", "Filling"}}, "GB")
	if _, ok := m.Columns[FieldStartsAt]; ok {
		t.Fatalf("a column of words taken for dates: %+v", m.Columns)
	}
}

func TestGuessInvalidUTF8Header(t *testing.T) {
	m := Guess([]string{"external_id", "\x80Datum"}, [][]string{{"1", "0"}}, "US")
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseMapping(data)
	if err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("JSON round trip of %+v: %+v, %v", m, back, err)
	}
}
