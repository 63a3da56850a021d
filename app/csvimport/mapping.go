package csvimport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Field is one of our columns, by the name our own files use in their
// header. Name, Date and Time exist only in mappings: they stand for a
// single full-name column and for a date and a time in two columns.
type Field string

// The fields a file can provide.
const (
	FieldExternalID        Field = "external_id"
	FieldPatientExternalID Field = "patient_external_id"
	FieldFirstName         Field = "first_name"
	FieldLastName          Field = "last_name"
	FieldName              Field = "name"
	FieldPhone             Field = "phone"
	FieldLanguage          Field = "language"
	FieldLocation          Field = "location"
	FieldProvider          Field = "provider"
	FieldType              Field = "type"
	FieldStartsAt          Field = "starts_at"
	FieldDate              Field = "date"
	FieldTime              Field = "time"
	FieldDuration          Field = "duration_minutes"
	FieldNotes             Field = "notes"
	FieldStatus            Field = "status"
)

// allFields is every field in the order a mapping screen lists them.
var allFields = []Field{
	FieldExternalID, FieldPatientExternalID, FieldFirstName, FieldLastName, FieldName,
	FieldPhone, FieldLanguage, FieldLocation, FieldProvider, FieldType, FieldStartsAt, FieldDate,
	FieldTime, FieldDuration, FieldNotes, FieldStatus,
}

// Fields lists every field, in the order a mapping screen shows them.
func Fields() []Field { return append([]Field(nil), allFields...) }

// index returns f's position in allFields, or -1.
func (f Field) index() int {
	for i, g := range allFields {
		if g == f {
			return i
		}
	}
	return -1
}

// Column is a column of the file: its position (0 is the first) and its
// header text. A saved mapping finds its columns again by name in the
// next file (see Rebind).
type Column struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
}

// Mapping says which column of a file holds which field, and how to read
// its dates. It is what the mapping screen shows and edits, and what is
// saved, as JSON, for the next file.
type Mapping struct {
	// Columns holds the mapped fields; a field left out is not in the
	// file.
	Columns map[Field]Column `json:"columns"`
	// DateOrder says how to read 12/07/2026; empty means the default of
	// the clinic's country.
	DateOrder DateOrder `json:"date_order,omitempty"`
}

// ParseMapping reads a mapping saved as JSON, refusing unknown fields,
// negative positions and an unknown date order.
func ParseMapping(data []byte) (Mapping, error) {
	var m Mapping
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Mapping{}, fmt.Errorf("csvimport: parse mapping: %w", err)
	}
	for f, c := range m.Columns {
		if f.index() < 0 {
			return Mapping{}, fmt.Errorf("csvimport: parse mapping: unknown field %s", quoteShort(string(f)))
		}
		if c.Index < 0 || c.Index >= MaxColumns {
			return Mapping{}, fmt.Errorf("csvimport: parse mapping: %s: position %d out of range", f, c.Index)
		}
	}
	if m.DateOrder != "" && !m.DateOrder.valid() {
		return Mapping{}, fmt.Errorf("csvimport: parse mapping: unknown date order %s", quoteShort(string(m.DateOrder)))
	}
	return m, nil
}

// Check reports what makes m unusable with a file whose header is header,
// as a *FileError: a position outside the header, a column whose name is
// not the one the mapping recorded (a mapping made for another file), a
// column used twice, no external_id, a date without a time (or the
// reverse), starts_at together with a date and time, or a full name
// together with first or last names.
func (m Mapping) Check(header []string) error {
	used := map[int]Field{}
	for _, f := range allFields {
		c, ok := m.Columns[f]
		if !ok {
			continue
		}
		if c.Index < 0 || c.Index >= len(header) {
			return fileError(ErrMissingColumn, f, "the file has no column %s for %s", columnName(max(c.Index, 0)), f)
		}
		if c.Name != "" && !sameHeader(c.Name, header[c.Index]) {
			return fileError(ErrBadMapping, f, "column %s is %s, not %s: the mapping was made for another file",
				columnName(c.Index), quoteShort(header[c.Index]), quoteShort(c.Name))
		}
		if g, dup := used[c.Index]; dup {
			return fileError(ErrBadMapping, f, "column %s cannot be both %s and %s", columnName(c.Index), g, f)
		}
		used[c.Index] = f
	}
	for f := range m.Columns {
		if f.index() < 0 {
			return fileError(ErrBadMapping, f, "unknown field %s", quoteShort(string(f)))
		}
	}
	has := func(f Field) bool { _, ok := m.Columns[f]; return ok }
	switch {
	case !has(FieldExternalID):
		return fileError(ErrMissingColumn, FieldExternalID, "no column for external_id, the appointment's id in your system")
	case has(FieldStartsAt) && (has(FieldDate) || has(FieldTime)):
		return fileError(ErrBadMapping, FieldStartsAt, "map either starts_at or a date and a time, not both")
	case has(FieldDate) && !has(FieldTime):
		return fileError(ErrBadMapping, FieldTime, "the date column needs a time column (or map it to starts_at)")
	case has(FieldTime) && !has(FieldDate):
		return fileError(ErrBadMapping, FieldDate, "the time column needs a date column")
	case has(FieldName) && (has(FieldFirstName) || has(FieldLastName)):
		return fileError(ErrBadMapping, FieldName, "map either a full name or first and last names, not both")
	case m.DateOrder != "" && !m.DateOrder.valid():
		return fileError(ErrBadMapping, "", "unknown date order %s", quoteShort(string(m.DateOrder)))
	}
	return nil
}

// Rebind fits a saved mapping to a new file's header: each field goes to
// the column that has its recorded name (case and spaces aside), or to its
// recorded position when the mapping recorded no name. When several
// columns have the name, the recorded position breaks the tie. It returns
// the fields whose column the file lacks, which the result leaves out.
func (m Mapping) Rebind(header []string) (Mapping, []Field) {
	out := Mapping{Columns: map[Field]Column{}, DateOrder: m.DateOrder}
	var missing []Field
	for _, f := range allFields {
		c, ok := m.Columns[f]
		if !ok {
			continue
		}
		at := -1
		if c.Name == "" {
			if c.Index >= 0 && c.Index < len(header) {
				at = c.Index
			}
		} else {
			for i, h := range header {
				if sameHeader(c.Name, h) && (at < 0 || i == c.Index) {
					at = i
				}
			}
		}
		if at < 0 {
			missing = append(missing, f)
			continue
		}
		out.Columns[f] = Column{Index: at, Name: header[at]}
	}
	return out, missing
}

func sameHeader(a, b string) bool {
	return strings.EqualFold(cleanHeader(a), cleanHeader(b))
}

// cleanHeader trims a header cell, drops a stray byte order mark and
// replaces invalid UTF-8 (which a mapping saved as JSON could not keep).
func cleanHeader(h string) string {
	return strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(h, "\ufffd"), "\ufeff", ""))
}

// The kinds of the columns that say when: Guess tells them apart by their
// contents when it has samples.
const (
	whenNone = iota
	whenDateTime
	whenDate
	whenTime
)

// synonym is a header (normalised by headerKey) other systems use for one
// of our fields, with how sure the guess is.
type synonym struct {
	field Field
	when  int // for headers that say when: the kind the name suggests
	score int
}

// synonyms is built from the lists below; higher scores win.
var synonyms = func() map[string]synonym {
	m := map[string]synonym{}
	add := func(f Field, when, score int, names ...string) {
		for _, n := range names {
			if _, dup := m[n]; !dup {
				m[n] = synonym{field: f, when: when, score: score}
			}
		}
	}
	for _, f := range allFields {
		add(f, 0, 100, headerKey(string(f)))
	}
	m[headerKey(string(FieldStartsAt))] = synonym{field: FieldStartsAt, when: whenDateTime, score: 100}
	m[headerKey(string(FieldDate))] = synonym{field: FieldDate, when: whenDate, score: 100}
	m[headerKey(string(FieldTime))] = synonym{field: FieldTime, when: whenTime, score: 100}

	add(FieldExternalID, 0, 90, "appointment id", "appt id", "appointment number", "appt number",
		"appointment no", "appt no", "appointment ref", "appointment reference", "booking id",
		"booking number", "booking reference", "booking ref", "visit id", "visit number",
		"encounter id", "encounter number", "event id", "schedule id", "appointment external id",
		"rdv id", "n rdv", "numero rdv", "numero de rendez vous", "termin id", "termin nr", "cita id",
		"afspraak id")
	add(FieldExternalID, 0, 40, "id", "ref", "reference", "number", "no")
	add(FieldPatientExternalID, 0, 90, "patient id", "mrn", "medical record number",
		"medical record no", "patient number", "patient no", "chart number", "chart no", "chart id",
		"account number", "account no", "patient account", "client id", "client number",
		"patient ref", "patient reference", "person id", "nhs number", "patient nr",
		"patientennummer", "patienten id", "numero patient", "dossier", "id patient")
	add(FieldFirstName, 0, 90, "firstname", "given name", "given names", "forename", "forenames",
		"patient first name", "first", "fname", "prenom", "vorname", "voornaam", "nombre", "nome",
		"primer nombre")
	add(FieldLastName, 0, 90, "lastname", "surname", "family name", "patient last name",
		"last", "lname", "nom", "nom de famille", "nachname", "familienname", "achternaam",
		"apellido", "apellidos", "cognome", "sobrenome", "apelido")
	add(FieldName, 0, 85, "patient name", "patient", "full name", "fullname", "patient full name",
		"client name", "client", "naam", "nom complet", "nombre completo", "nome completo",
		"patientenname", "patient naam")
	add(FieldPhone, 0, 95, "mobile", "cell", "mobile phone", "cell phone", "mobile number",
		"cell number", "mobile no", "cellphone", "sms", "sms number", "patient mobile",
		"patient cell", "portable", "telephone portable", "handy", "mobil", "mobiel", "movil",
		"celular", "cellulare", "telemovel", "gsm", "mobile telephone", "mobilnummer", "handynummer")
	add(FieldPhone, 0, 80, "phone number", "phone no", "telephone", "telephone number", "tel",
		"tel no", "patient phone", "contact number", "contact phone", "primary phone", "telefon",
		"telefoon", "telefono", "telefone", "telefonnummer", "numero de telephone")
	add(FieldPhone, 0, 50, "home phone", "home telephone", "phone 1")
	add(FieldLanguage, 0, 90, "lang", "preferred language", "patient language", "locale",
		"langue", "sprache", "taal", "idioma", "lingua")
	add(FieldLocation, 0, 90, "location name", "clinic", "clinic name", "site", "site name",
		"office", "office name", "practice", "practice name", "branch", "facility",
		"facility name", "lieu", "cabinet", "standort", "praxis", "locatie", "vestiging",
		"ubicacion", "sede", "clinica", "consultorio", "centre", "center")
	add(FieldProvider, 0, 90, "provider name", "doctor", "doctor name", "practitioner",
		"practitioner name", "clinician", "physician", "dentist", "hygienist", "therapist",
		"staff", "staff name", "resource", "dr", "seen by", "appointment with", "praticien",
		"medecin", "arzt", "arztin", "behandler", "arts", "behandelaar", "medico", "doctora",
		"profesional")
	add(FieldType, 0, 90, "appointment type", "appt type", "visit type", "type of visit",
		"type of appointment", "service", "treatment", "type de rendez vous", "terminart",
		"afspraaktype", "tipo de cita", "tipo di appuntamento", "tipo de consulta")
	add(FieldDuration, 0, 90, "duration", "duration mins", "duration min", "length",
		"length minutes", "length mins", "appt length", "appointment length", "appointment duration",
		"minutes", "mins", "duree", "dauer", "duur", "duracion", "durata", "duracao")
	add(FieldNotes, 0, 90, "note", "comments", "comment", "remarks", "memo", "appointment notes",
		"appt notes", "reason", "reason for visit", "visit reason", "description", "remarques",
		"commentaire", "commentaires", "notizen", "notiz", "bemerkung", "bemerkungen",
		"opmerkingen", "opmerking", "notas", "comentarios", "observacoes")
	add(FieldStatus, 0, 90, "appointment status", "appt status", "state", "statut", "estado",
		"stato", "confirmation status", "booking status")
	add(FieldStartsAt, whenDateTime, 90, "start", "starts", "start date time", "start datetime",
		"appointment date time", "appointment datetime", "appt date time", "appt datetime",
		"date time", "datetime", "date and time", "scheduled", "scheduled at", "scheduled for",
		"appointment start", "appt start", "begin", "start at", "when", "appointment", "appt",
		"start date and time")
	add(FieldDate, whenDate, 90, "appt date", "appointment date", "visit date", "start date",
		"service date", "date of service", "dos", "datum", "fecha", "data", "date rdv",
		"date du rendez vous", "termin datum", "afspraak datum")
	add(FieldTime, whenTime, 90, "start time", "appt time", "appointment time", "visit time",
		"heure", "hora", "uhrzeit", "zeit", "tijd", "ora", "heure rdv", "begin time",
		"scheduled time", "termin zeit")
	return m
}()

// headerKey normalises a header for lookup: camel case split ("ApptDate"
// gives "appt date"), lower case, accents dropped, "#" read as "number",
// every other run of punctuation or space a single space.
func headerKey(h string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range cleanHeader(h) {
		if unicode.IsUpper(r) && unicode.IsLower(prev) {
			b.WriteByte(' ')
		}
		if r == '#' {
			b.WriteString(" number ")
		} else {
			b.WriteRune(r)
		}
		prev = r
	}
	f := fold(b.String())
	out := make([]byte, 0, len(f))
	space := false
	for _, r := range f {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && len(out) > 0 {
				out = append(out, ' ')
			}
			space = false
			out = append(out, string(r)...)
			continue
		}
		space = true
	}
	return string(out)
}

// maxGuessSamples bounds the sample values Guess looks at per column.
const maxGuessSamples = 50

// Guess proposes a mapping for a file from its header and a few of its
// rows (samples; nil is fine): our own column names first, then the names
// other systems use ("Appt Date", "Start Time", "Mobile", "Patient Name",
// "MRN", "Doctor"...). The samples tell a date column from a date-and-time
// column, and 07/12/2026 from 12/07/2026 when a day above 12 shows the
// order; otherwise the date order is the country's (DefaultDateOrder).
// Guess never fails; the mapping screen shows what it found and what it
// did not (Check says what is still missing).
func Guess(header []string, samples [][]string, country string) Mapping {
	if len(header) > MaxColumns {
		header = header[:MaxColumns]
	}
	type candidate struct {
		field Field
		col   int
		score int
	}
	var cands []candidate
	for i, h := range header {
		syn, ok := synonyms[headerKey(h)]
		if !ok {
			continue
		}
		f := syn.field
		if syn.when != whenNone {
			switch whenKind(columnSamples(samples, i), syn.when, syn.score == 100) {
			case whenDateTime:
				f = FieldStartsAt
			case whenDate:
				f = FieldDate
			case whenTime:
				f = FieldTime
			default:
				continue
			}
		}
		cands = append(cands, candidate{field: f, col: i, score: syn.score})
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].score > cands[b].score })

	cols := map[Field]Column{}
	taken := map[int]bool{}
	exact := map[Field]bool{}
	for _, c := range cands {
		if _, done := cols[c.field]; done || taken[c.col] {
			continue
		}
		cols[c.field] = Column{Index: c.col, Name: cleanHeader(header[c.col])}
		taken[c.col] = true
		exact[c.field] = c.score == 100
	}
	settleConflicts(cols, exact)

	m := Mapping{Columns: cols, DateOrder: DefaultDateOrder(country)}
	for _, f := range []Field{FieldDate, FieldStartsAt} {
		if c, ok := cols[f]; ok {
			if o, sure := sampleDateOrder(columnSamples(samples, c.Index)); sure {
				m.DateOrder = o
			}
		}
	}
	return m
}

// settleConflicts leaves a guessed mapping free of the contradictions
// Check refuses, keeping the likelier reading; exact marks the fields found
// under our own names.
func settleConflicts(cols map[Field]Column, exact map[Field]bool) {
	has := func(f Field) bool { _, ok := cols[f]; return ok }
	switch {
	case has(FieldDate) && has(FieldTime) && !exact[FieldStartsAt]:
		delete(cols, FieldStartsAt)
	case has(FieldStartsAt):
		delete(cols, FieldDate)
		delete(cols, FieldTime)
	}
	if has(FieldName) {
		// "Name" beside "First name" is the last name, as in the German
		// "Name, Vorname" and the French "Nom, Prénom" exports.
		switch {
		case has(FieldFirstName) && !has(FieldLastName):
			cols[FieldLastName] = cols[FieldName]
			delete(cols, FieldName)
		case has(FieldLastName) && !has(FieldFirstName):
			cols[FieldFirstName] = cols[FieldName]
			delete(cols, FieldName)
		case has(FieldFirstName) && has(FieldLastName):
			delete(cols, FieldName)
		}
	}
}

// columnSamples returns the non-blank values of column i.
func columnSamples(samples [][]string, i int) []string {
	var out []string
	for _, row := range samples {
		if i < len(row) {
			if v := strings.TrimSpace(row[i]); v != "" {
				out = append(out, v)
				if len(out) == maxGuessSamples {
					break
				}
			}
		}
	}
	return out
}

// whenKind decides what a column that says when holds: the kind most of
// its samples read as (a date and time, a date, or a time), the kind its
// name suggests when there are no samples or when exact says the name is
// one of ours, and none when the samples are mostly not dates or times.
func whenKind(values []string, hint int, exact bool) int {
	if len(values) == 0 {
		return hint
	}
	var counts [whenTime + 1]int
	for _, v := range values {
		counts[valueKind(v)]++
	}
	best := whenDateTime
	for k := whenDate; k <= whenTime; k++ {
		if counts[k] > counts[best] {
			best = k
		}
	}
	if 2*counts[best] > len(values) {
		return best
	}
	if exact {
		return hint
	}
	return whenNone
}

// valueKind says whether v reads as a date and time, a date or a time,
// in either date order.
func valueKind(v string) int {
	for _, o := range []DateOrder{DayFirst, MonthFirst} {
		if _, err := ParseStart(v, o); err == nil {
			return whenDateTime
		}
	}
	for _, o := range []DateOrder{DayFirst, MonthFirst} {
		if _, err := ParseDate(v, o); err == nil {
			return whenDate
		}
	}
	if _, _, err := ParseTime(v); err == nil {
		return whenTime
	}
	return whenNone
}

var numericDate = regexp.MustCompile(`^\s*(\d{1,2})[/-](\d{1,2})[/-]\d{2,4}\b`)

// sampleDateOrder finds the date order when some sample settles it: a
// first number above 12 is a day, a second number above 12 too.
func sampleDateOrder(values []string) (DateOrder, bool) {
	dayFirst, monthFirst := false, false
	for _, v := range values {
		m := numericDate.FindStringSubmatch(v)
		if m == nil {
			continue
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		if a > 12 {
			dayFirst = true
		}
		if b > 12 {
			monthFirst = true
		}
	}
	switch {
	case dayFirst && !monthFirst:
		return DayFirst, true
	case monthFirst && !dayFirst:
		return MonthFirst, true
	}
	return "", false
}
