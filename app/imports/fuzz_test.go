package imports_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/csvimport"
	"apptconfirm/app/imports"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// FuzzImport feeds arbitrary files to the import: it must never panic,
// and a preview must say exactly what the import then does, even for a
// file that is not CSV at all.
func FuzzImport(f *testing.F) {
	f.Add([]byte("external_id,first_name,phone,starts_at\nA-1,Ana,+33612345678,2026-03-10 09:00\n"))
	f.Add([]byte("external_id;patient_external_id;name;phone;starts_at;status\nA;P;\"Lee, Ann\";+33612345678;2026-03-10 09:00;cancelled\nB;P;;;2026-03-11 09:00;confirmed\nA;P;x;y;z;w\n"))
	f.Add([]byte("\xef\xbb\xbfexternal_id\tstarts_at\tduration_minutes\nX\t2026-03-29 02:30\t0\n"))
	f.Add([]byte("Appt ID,Appt Date,Start Time,Patient Name,Mobile\n1,03/10/2026,2:30 PM,Ann Lee,0612345678\n"))
	f.Add([]byte("\"unclosed\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		if len(file) > 1<<16 {
			return
		}
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
		store := storetest.SQLite(t)
		cl := clinic.New(store, clinic.Options{Now: now})
		if err := cl.EnsureDefaults(ctx, clinic.Defaults{ClinicName: "Paris", Timezone: "Europe/Paris", Country: "FR"}); err != nil {
			t.Fatal(err)
		}
		svc := imports.New(store, cl)
		run := func(dry bool) (*imports.Result, error) {
			return svc.Import(ctx, models.SystemActor(), bytes.NewReader(file), imports.Options{DryRun: dry})
		}
		preview, perr := run(true)
		applied, aerr := run(false)
		var fe *csvimport.FileError
		if perr != nil || aerr != nil {
			if !errors.As(perr, &fe) || !errors.As(aerr, &fe) {
				t.Fatalf("preview error %v, import error %v", perr, aerr)
			}
			return
		}
		preview.DryRun = false
		if !reflect.DeepEqual(preview, applied) {
			t.Fatalf("preview %+v\nimport  %+v", preview, applied)
		}
		again, err := run(false)
		if err != nil || again.Created+again.Updated+again.Cancelled != 0 {
			t.Fatalf("importing again: %+v (%v)", again, err)
		}
	})
}
