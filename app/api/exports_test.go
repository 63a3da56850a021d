package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"apptconfirm/models"
)

func TestExportRoundTrip(t *testing.T) {
	e := newEnvPlanned(t, true)
	file := "external_id,patient_external_id,first_name,last_name,phone,language,location,starts_at,duration_minutes,notes,status\n" +
		"E-1,P-1,Ana,Lopez,+33612345678,fr,Paris,2026-03-10 09:30,20,\"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",confirmed\n" +
		"E-2,P-2,@Bo,-Li,+33612345679,es,Lyon,2026-03-29 02:30,30,\"line one\nline two\",\n" +
		"E-3,P-1,,,,,Paris,2026-03-12 11:00,15,+1 call first,cancelled\n" +
		"E-4,P-3,Cy,Roux,+33612345670,,Paris,2026-03-29 03:30,45,\"two\r\nlines\",\n"
	res := e.importCSV(t, http.StatusOK, "", file)
	// E-3 is new and cancelled: nothing to create. E-2 is at 02:30 on
	// the night the clocks skip it in Paris.
	if res.Created != 2 || res.Unchanged != 1 || res.Refused != 1 || res.Errors[0].Field != "starts_at" || res.Errors[0].Row != 3 {
		t.Fatalf("import %+v", res)
	}
	if m := res.Errors[0].Message; strings.Contains(m, "csvimport") || !strings.Contains(m, "02:30") {
		t.Errorf("message %q", m)
	}
	// Notes typed in the browser's form end their lines with CRLF.
	if err := e.store.DB(context.Background()).Model(&models.Appointment{}).Where("external_id = ?", "E-4").
		Update("notes", "two\r\nlines").Error; err != nil {
		t.Fatal(err)
	}
	r := e.do(http.MethodGet, "/api/v1/exports/appointments?from=2026-03-01&to=2026-03-31", "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", r.status, r.header.Get("Content-Type"))
	}
	body := string(r.body)
	if !strings.HasPrefix(body, "\ufeffexternal_id,patient_external_id,first_name") {
		t.Errorf("header %.80q", body)
	}
	for _, want := range []string{`"'=HYPERLINK(""http://evil"",""x"")"`, "'+33612345678"} {
		if !strings.Contains(body, want) {
			t.Errorf("export lacks %s:\n%s", want, body)
		}
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+res.Created {
		t.Fatalf("%d records for %d appointments", len(recs)-1, res.Created)
	}
	if recs[1][0] != "E-1" || recs[1][14] != "confirmed" || recs[1][15] == "" || !strings.Contains(recs[1][17], "Reminder") {
		t.Errorf("first record %q", recs[1])
	}

	// Importing the export changes nothing.
	before := e.footprint(t)
	again := e.importCSV(t, http.StatusOK, "", body)
	if again.Unchanged != res.Created || again.Created+again.Updated+again.Cancelled+again.Refused != 0 {
		t.Errorf("re-importing the export: %+v", again)
	}
	if after := e.footprint(t); after != before {
		t.Errorf("re-importing the export wrote:\n before %+v\n after  %+v", before, after)
	}
	for _, bad := range []string{"?from=tomorrow", "?from=2026-03-10&to=2026-03-01"} {
		if r := e.do(http.MethodGet, "/api/v1/exports/appointments"+bad, ""); r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", bad, r.status)
		}
	}
	_ = fmt.Sprint
}
