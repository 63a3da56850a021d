package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"apptconfirm/app/csvimport"
	"apptconfirm/app/imports"
	"apptconfirm/models"
)

// importCSV posts a file to /imports with query and decodes the answer,
// which must have status want.
func (e *env) importCSV(t *testing.T, want int, query, csv string) imports.Result {
	t.Helper()
	r := e.do(http.MethodPost, "/api/v1/imports"+query, csv, withHeader("Content-Type", "text/csv"))
	if r.status != want {
		t.Fatalf("POST /imports%s: status %d, want %d: %s", query, r.status, want, r.body)
	}
	var res imports.Result
	if want == http.StatusOK {
		if err := json.Unmarshal(r.body, &res); err != nil {
			t.Fatalf("answer: %v: %s", err, r.body)
		}
	}
	return res
}

// dayCSV is a day sheet in our own column names.
const dayCSV = "external_id,patient_external_id,first_name,last_name,phone,language,location,starts_at,duration_minutes,notes,status\r\n" +
	"A-1,P-1,Ana,Lopez,06 12 34 56 78,fr,Paris,2026-03-10 09:30,20,first visit,\r\n" +
	"A-2,P-2,Bruno,Martin,+33612345679,en,Lyon,2026-03-10T10:00:00+01:00,30,,confirmed\r\n" +
	"A-3,P-1,,,,,Paris,2026-03-10 11:00,15,\"x-rays, \"\"both\"\" knees\",\r\n" +
	"A-4,P-3,Chloé,Petit,not a phone,,Paris,2026-03-10 12:00,20,,\r\n" +
	"A-5,P-4,Dan,Roy,+33612345670,,Nowhere,2026-03-10 12:00,20,,\r\n"

func TestImportPreviewEqualsApplyAndReimportChangesNothing(t *testing.T) {
	e := newEnvPlanned(t, true)
	before := e.footprint(t)
	preview := e.importCSV(t, http.StatusOK, "?dry_run=true", dayCSV)
	if after := e.footprint(t); after != before {
		t.Fatalf("the preview wrote:\n before %+v\n after  %+v", before, after)
	}
	if !preview.DryRun || preview.Rows != 5 || preview.Created != 3 || preview.Refused != 2 {
		t.Errorf("preview %+v", preview)
	}
	wantErrors := map[int]string{5: "phone", 6: "location"}
	for _, fe := range preview.Errors {
		if wantErrors[fe.Row] != string(fe.Field) || fe.Message == "" {
			t.Errorf("refused %+v, want rows and fields %v", fe, wantErrors)
		}
	}
	applied := e.importCSV(t, http.StatusOK, "", dayCSV)
	preview.DryRun = false
	if !reflect.DeepEqual(preview, applied) {
		t.Errorf("the preview said\n %+v\nthe import did\n %+v", preview, applied)
	}
	var a3 models.Appointment
	if err := e.store.DB(context.Background()).Preload("Patient").Where("external_id = ?", "A-3").Take(&a3).Error; err != nil {
		t.Fatal(err)
	}
	if a3.Patient.FirstName != "Ana" || a3.Patient.ExternalID != "P-1" || a3.Notes != `x-rays, "both" knees` || a3.DurationMinutes != 15 {
		t.Errorf("A-3 %+v with %+v", a3, a3.Patient)
	}
	var a2 models.Appointment
	e.store.DB(context.Background()).Where("external_id = ?", "A-2").Take(&a2)
	if a2.Status != models.Confirmed || a2.LocationID != e.lyon.ID {
		t.Errorf("A-2 %+v", a2)
	}
	if n := e.count(&models.Patient{}); n != 2 {
		t.Errorf("%d patients, want 2 (P-1 twice is one patient)", n)
	}

	// The same file again: nothing changes, and the preview says so.
	before = e.footprint(t)
	for _, q := range []string{"?dry_run=true", "?dry_run=false"} {
		again := e.importCSV(t, http.StatusOK, q, dayCSV)
		if again.Unchanged != 3 || again.Created+again.Updated+again.Cancelled != 0 || again.Refused != 2 {
			t.Errorf("%s: re-import %+v", q, again)
		}
	}
	if after := e.footprint(t); after != before {
		t.Errorf("re-importing wrote:\n before %+v\n after  %+v", before, after)
	}

	// A moved start reschedules; a cancelled status cancels.
	changed := strings.Replace(strings.Replace(dayCSV, "2026-03-10 09:30", "2026-03-10 15:30", 1), "30,,confirmed", "30,,cancelled", 1)
	res := e.importCSV(t, http.StatusOK, "", changed)
	if res.Updated != 1 || res.Cancelled != 1 || res.Unchanged != 1 {
		t.Errorf("changes %+v", res)
	}
}

// A row that changes nothing is counted from the appointments read for
// its batch; a patient an earlier row of the file has just changed is
// not taken as read.
func TestImportUnchangedRowsAfterAPatientChange(t *testing.T) {
	e := newEnvPlanned(t, true)
	head := "external_id,patient_external_id,first_name,phone,location,starts_at\n"
	sheet := head +
		"U-1,Q-1,Ana,+33612345678,Paris,2026-03-10 09:00\n" +
		"U-2,Q-1,Ana,+33612345678,Paris,2026-03-10 10:00\n" +
		"U-3,Q-2,Bo,+33612345679,Paris,2026-03-10 11:00\n"
	if res := e.importCSV(t, http.StatusOK, "", sheet); res.Created != 3 {
		t.Fatalf("first import %+v", res)
	}
	// U-1 gives Ana a new number, U-2 the old one again: U-2 changes her
	// back, as it would alone, rather than being taken as unchanged.
	flip := head +
		"U-1,Q-1,Ana,+33699999999,Paris,2026-03-10 09:00\n" +
		"U-2,Q-1,Ana,+33612345678,Paris,2026-03-10 10:00\n" +
		"U-3,Q-2,Bo,+33612345679,Paris,2026-03-10 11:00\n"
	res := e.importCSV(t, http.StatusOK, "", flip)
	if res.Updated != 2 || res.Unchanged != 1 {
		t.Errorf("flip %+v, want 2 updated (U-1, U-2) and U-3 unchanged", res)
	}
	var ana models.Patient
	if err := e.store.DB(context.Background()).Where("external_id = ?", "Q-1").Take(&ana).Error; err != nil {
		t.Fatal(err)
	}
	if ana.Phone != "+33612345678" {
		t.Errorf("Ana's phone %q, want the last row's", ana.Phone)
	}
	// Each field a row can change is seen as a change, the same file again as none.
	e.importCSV(t, http.StatusOK, "", sheet)
	changed := sheet
	for _, c := range []struct {
		from, to string
		updated  int
	}{
		{"10:00", "10:30", 1}, {"Ana,", "Anna,", 1}, {"Paris,2026-03-10 11", "Lyon,2026-03-10 11", 1},
	} {
		changed = strings.ReplaceAll(changed, c.from, c.to)
		if res := e.importCSV(t, http.StatusOK, "", changed); res.Updated != c.updated {
			t.Errorf("%s -> %s: %+v, want %d updated", c.from, c.to, res, c.updated)
		}
		if res := e.importCSV(t, http.StatusOK, "", changed); res.Unchanged != 3 {
			t.Errorf("%s -> %s again: %+v, want all unchanged", c.from, c.to, res)
		}
	}
}

// The preview runs the rows of the file one after the other, as applying
// does: a row sees the patient an earlier row created or changed, also
// across batches, and the preview's counts and refused rows are the
// import's exactly.
func TestImportPreviewSeesEarlierRows(t *testing.T) {
	e := newEnvPlanned(t, true)
	head := "external_id,patient_external_id,first_name,last_name,phone,location,starts_at\n"
	// D-1's patient has no external id; D-2 and D-4 are Gus's.
	setup := head +
		"D-1,,Fay,Roux,+33612345673,Paris,2026-03-10 09:00\n" +
		"D-2,Q-2,Gus,Blanc,+33612345674,Paris,2026-03-10 10:00\n" +
		"D-4,Q-2,,,,Paris,2026-03-10 11:00\n"
	if res := e.importCSV(t, http.StatusOK, "", setup); res.Created != 3 {
		t.Fatalf("setup %+v", res)
	}
	var filler strings.Builder
	for i := range imports.Batch + 50 {
		fmt.Fprintf(&filler, "F-%d,,Ivo%d,Lenoir,+336200%05d,Lyon,2026-03-12 09:00\n", i, i, i)
	}
	file := head +
		// Row 2 creates Hana, row 3 gives Gus a new number.
		"D-5,Q-9,Hana,Vidal,+33612345675,Paris,2026-03-11 09:00\n" +
		"D-2,Q-2,Gus,Blanc,+33699999999,Paris,2026-03-10 10:00\n" +
		// Rows 4 to 253: the rows below are in the next batch.
		filler.String() +
		// Hana again, by her external id alone: the patient row 2 made.
		"D-6,Q-9,,,,Paris,2026-03-11 10:00\n" +
		// Fay's appointment given Hana's external id: another patient's.
		"D-1,Q-9,,,,Paris,2026-03-10 09:00\n" +
		// Gus's new number, which row 3 already gave him: nothing to change.
		"D-4,Q-2,Gus,Blanc,+33699999999,Paris,2026-03-10 11:00\n" +
		// A row repeated.
		"D-5,Q-9,Hana,Vidal,+33612345675,Paris,2026-03-11 09:00\n"
	before := e.footprint(t)
	preview := e.importCSV(t, http.StatusOK, "?dry_run=true", file)
	if after := e.footprint(t); after != before {
		t.Fatalf("the preview wrote:\n before %+v\n after  %+v", before, after)
	}
	applied := e.importCSV(t, http.StatusOK, "", file)
	want := imports.Result{
		Rows: 256, Created: 2 + imports.Batch + 50, Updated: 1, Unchanged: 1, Refused: 2,
		Errors: []csvimport.FieldError{
			{Row: 255, Field: csvimport.FieldPatientExternalID, Message: "is another patient's; the patient of an appointment cannot be changed"},
			{Row: 257, Field: csvimport.FieldExternalID, Message: "appears already in row 2"},
		},
	}
	if !reflect.DeepEqual(applied, want) {
		t.Errorf("the import did\n %+v\nwant\n %+v", applied, want)
	}
	preview.DryRun = false
	if !reflect.DeepEqual(preview, applied) {
		t.Errorf("the preview said\n %+v\nthe import did\n %+v", preview, applied)
	}
	var hana models.Patient
	if err := e.store.DB(context.Background()).Where("external_id = ?", "Q-9").Take(&hana).Error; err != nil {
		t.Fatal(err)
	}
	var d6 models.Appointment
	if err := e.store.DB(context.Background()).Where("external_id = ?", "D-6").Take(&d6).Error; err != nil {
		t.Fatal(err)
	}
	if d6.PatientID != hana.ID {
		t.Errorf("D-6 is patient %d's, want Hana's (%d)", d6.PatientID, hana.ID)
	}
	// The timeline and the audit log, which a batch stores at its commit.
	var timeline []models.TimelineEntry
	e.store.DB(context.Background()).Where("appointment_id = ?", d6.ID).Order("id").Find(&timeline)
	if len(timeline) < 2 || !strings.HasPrefix(timeline[0].Detail, "Booked for ") || !strings.Contains(timeline[1].Detail, "planned for") {
		t.Errorf("D-6's timeline %+v, want the booking, then its reminders", timeline)
	}
	var audits int64
	e.store.DB(context.Background()).Model(&models.AuditEntry{}).Where("action = ? AND entity_id = ?", "patient.create", hana.ID).Count(&audits)
	if audits != 1 {
		t.Errorf("%d audit rows of Hana's creation, want 1", audits)
	}
	// Now that it is applied, the preview of the same file says nothing changes.
	again := e.importCSV(t, http.StatusOK, "?dry_run=true", file)
	if again.Unchanged != 254 || again.Refused != 2 || again.Created+again.Updated+again.Cancelled != 0 {
		t.Errorf("preview after the import %+v", again)
	}
}

func TestImportSyncCancelsWhatTheFileNoLongerLists(t *testing.T) {
	e := newEnvPlanned(t, true)
	sheet := "external_id,first_name,phone,location,starts_at\n" +
		"S-1,Ana,+33612345678,Paris,2026-03-10 09:00\n" +
		"S-2,Bo,+33612345679,Paris,2026-03-10 10:00\n" +
		"S-3,Cy,+33612345670,Paris,2026-03-10 11:00\n" +
		"S-4,Di,+33612345671,Paris,2026-03-11 11:00\n" +
		"S-5,Ed,+33612345672,Lyon,2026-03-10 11:00\n"
	e.importCSV(t, http.StatusOK, "", sheet)
	// An appointment booked by hand has no external id: a sync leaves it.
	p := e.patient("Fay", "Roux", "+33612345673")
	e.decode(http.StatusCreated, nil, http.MethodPost, "/api/v1/appointments",
		fmt.Sprintf(`{"patient_id": %d, "starts_at": "2026-03-10T14:00:00+01:00", "duration_minutes": 20}`, p.ID))

	// The morning's sheet of Paris on the 10th no longer lists S-2.
	today := "external_id,first_name,phone,location,starts_at\n" +
		"S-1,Ana,+33612345678,Paris,2026-03-10 09:00\n" +
		"S-3,Cy,+33612345670,Paris,2026-03-10 11:00\n"
	q := "?mode=sync&from=2026-03-10&to=2026-03-10"
	before := e.footprint(t)
	preview := e.importCSV(t, http.StatusOK, q+"&dry_run=true", today)
	if e.footprint(t) != before {
		t.Fatal("the sync preview wrote")
	}
	applied := e.importCSV(t, http.StatusOK, q, today)
	if preview.Cancelled != 1 || applied.Cancelled != 1 || applied.Unchanged != 2 {
		t.Errorf("preview %+v, applied %+v", preview, applied)
	}
	status := map[string]models.AppointmentStatus{}
	var all []models.Appointment
	e.store.DB(context.Background()).Find(&all)
	for _, a := range all {
		status[a.ExternalID] = a.Status
	}
	want := map[string]models.AppointmentStatus{
		"S-1": models.Scheduled, "S-2": models.Cancelled, "S-3": models.Scheduled,
		"S-4": models.Scheduled, "S-5": models.Scheduled, "": models.Scheduled,
	}
	if !reflect.DeepEqual(status, want) {
		t.Errorf("after the sync %v, want %v", status, want)
	}
	// Syncing again changes nothing.
	if again := e.importCSV(t, http.StatusOK, q, today); again.Cancelled != 0 {
		t.Errorf("second sync %+v", again)
	}
	for _, bad := range []string{"?mode=sync", "?mode=sync&from=2026-03-10&to=10/03/2026", "?from=2026-03-10", "?mode=merge", "?dry_run=maybe", "?mode=sync&from=2026-03-11&to=2026-03-10"} {
		r := e.do(http.MethodPost, "/api/v1/imports"+bad, today, withHeader("Content-Type", "text/csv"))
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d: %s", bad, r.status, r.body)
		}
	}
}

func TestImportHostileFiles(t *testing.T) {
	e := newEnvPlanned(t, true)
	t.Run("BOM and Windows-1252", func(t *testing.T) {
		// "Chloé" and "Müller" as Excel writes them on Windows.
		file := []byte("\xef\xbb\xbfexternal_id;first_name;last_name;phone;starts_at\r\nW-1;Chlo\xe9;M\xfcller;+33612345678;2026-03-10 09:00\r\n")
		res := e.importCSV(t, http.StatusOK, "", string(file))
		if res.Created != 1 {
			t.Fatalf("%+v", res)
		}
		var p models.Patient
		e.store.DB(context.Background()).Where("last_name = ?", "Müller").Take(&p)
		if p.FirstName != "Chloé" {
			t.Errorf("patient %+v", p)
		}
	})
	t.Run("an unclosed quote costs its row only", func(t *testing.T) {
		file := "external_id,first_name,phone,starts_at\n" +
			"Q-1,\"Ana,+33612345678,2026-03-10 09:00\n" +
			"Q-2,Bo,+33612345679,2026-03-10 10:00\n"
		res := e.importCSV(t, http.StatusOK, "", file)
		if res.Created != 1 || res.Refused != 1 || res.Errors[0].Row != 2 {
			t.Errorf("%+v", res)
		}
	})
	t.Run("10,000 columns", func(t *testing.T) {
		header := "external_id" + strings.Repeat(",x", 9999)
		before := e.footprint(t)
		r := e.do(http.MethodPost, "/api/v1/imports", header+"\n", withHeader("Content-Type", "text/csv"))
		if r.status != http.StatusUnprocessableEntity || e.footprint(t) != before {
			t.Errorf("status %d: %s", r.status, r.body)
		}
	})
	t.Run("no external_id column", func(t *testing.T) {
		r := e.do(http.MethodPost, "/api/v1/imports", "name,phone\nAna,+33612345678\n", withHeader("Content-Type", "text/csv"))
		if _, field, _ := r.errorOf(t); r.status != http.StatusUnprocessableEntity || field != "external_id" {
			t.Errorf("status %d: %s", r.status, r.body)
		}
	})
	t.Run("a 60 MB upload, streamed", func(t *testing.T) {
		before := e.footprint(t)
		row := "B-%07d,Ana,+33612345678,2026-03-10 09:00\n"
		body := io.MultiReader(strings.NewReader("external_id,first_name,phone,starts_at\n"), &repeatReader{line: row, size: 60 << 20})
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/imports", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "text/csv")
		r := e.send(req)
		if r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d: %.200s", r.status, r.body)
		}
		if e.footprint(t) != before {
			t.Error("a refused upload wrote")
		}
	})
	t.Run("not CSV", func(t *testing.T) {
		r := e.do(http.MethodPost, "/api/v1/imports", `{"a": 1}`)
		if r.status != http.StatusUnsupportedMediaType {
			t.Errorf("status %d", r.status)
		}
	})
}

// repeatReader yields numbered lines until size bytes, without a length
// the server could see in advance.
type repeatReader struct {
	line string
	size int
	n    int
	buf  bytes.Buffer
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && r.size > 0 {
		l := fmt.Sprintf(r.line, r.n)
		r.n++
		r.size -= len(l)
		r.buf.WriteString(l)
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}
