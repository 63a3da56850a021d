package imports_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/imports"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// A preview of a file larger than one batch runs on a private copy of the
// SQLite database: another writer succeeds while it runs (in the live
// database's one transaction, it would wait for the write lock and give
// up), the live database keeps nothing of it, the copy is deleted, and the
// preview still says exactly what applying the file does, rows seeing the
// rows before them across batches. A file of one batch previews in the
// live database, without a copy.
func TestPreviewOnACopyLetsOtherWritersIn(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
	store, dbPath := storetest.SQLitePath(t)
	ob := outbox.New(store, outbox.Options{Now: now, ClinicName: "Cabinet Dupont"})
	cl := clinic.New(store, clinic.Options{Now: now, Planner: ob})
	if err := cl.EnsureDefaults(ctx, clinic.Defaults{ClinicName: "Paris", Timezone: "Europe/Paris", Country: "FR"}); err != nil {
		t.Fatal(err)
	}
	copies := 0
	svc := imports.New(store, cl).WithSandbox(func(ctx context.Context) (imports.Store, imports.Clinic, func() error, error) {
		copies++
		cp, closeCopy, err := store.PrivateCopy(ctx, "")
		if err != nil {
			return nil, nil, nil, err
		}
		return cp, cl.On(cp, ob.On(cp)), closeCopy, nil
	})

	// Three rows per patient, so that patients span batches; the second
	// and third rows of a patient give only its external id (they take
	// what the first row created); a row of the last batch repeats an
	// external id of the first; one row is in the past.
	var b strings.Builder
	b.WriteString("external_id,patient_external_id,first_name,last_name,phone,starts_at\n")
	start := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	const rows = 2*imports.Batch + 100
	for i := range rows {
		at := start.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		switch {
		case i == rows-1:
			fmt.Fprintf(&b, "A-5,P-%d,,,,%s\n", i/3, at)
		case i == imports.Batch+8:
			fmt.Fprintf(&b, "A-%d,P-%d,,,,2026-01-01T10:00:00Z\n", i, i/3)
		case i%3 == 0:
			fmt.Fprintf(&b, "A-%d,P-%d,Ann%d,Lee,+3361%07d,%s\n", i, i/3, i, i, at)
		default:
			fmt.Fprintf(&b, "A-%d,P-%d,,,,%s\n", i, i/3, at)
		}
	}
	file := b.String()

	var booked error
	bookedOnce := false
	preview, err := svc.Import(ctx, models.SystemActor(), strings.NewReader(file), imports.Options{
		DryRun: true,
		Progress: func(done, total int) {
			if done != imports.Batch+10 || bookedOnce {
				return
			}
			bookedOnce = true
			// Staff book while the preview runs.
			_, _, booked = cl.UpsertAppointment(ctx, models.SystemActor(), clinic.UpsertInput{
				ExternalID: "DESK-1", StartsAt: start.Add(48 * time.Hour), DefaultDurationMinutes: 30,
				Patient: &clinic.PatientInput{FirstName: "Desk", LastName: "Booking", Phone: "+33612345678"},
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bookedOnce || booked != nil {
		t.Fatalf("a booking during the preview (made: %v): %v", bookedOnce, booked)
	}
	if copies != 1 {
		t.Errorf("the preview opened %d copies, want 1", copies)
	}
	var appts, patients int64
	store.DB(ctx).Model(&models.Appointment{}).Count(&appts)
	store.DB(ctx).Model(&models.Patient{}).Count(&patients)
	if appts != 1 || patients != 1 {
		t.Errorf("after the preview the live database has %d appointments and %d patients, want the booking's 1 and 1", appts, patients)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dbPath), ".apptconfirm-copy-*"))
	if len(left) != 0 {
		t.Errorf("copies left behind: %v", left)
	}

	apply, err := svc.Import(ctx, models.SystemActor(), strings.NewReader(file), imports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if preview.Created != rows-2 || preview.Refused != 2 || preview.Created+preview.Unchanged+preview.Refused != rows {
		t.Errorf("preview %+v", preview)
	}
	preview.DryRun = false
	if !reflect.DeepEqual(preview, apply) {
		t.Errorf("the preview said\n%+v\nthe import did\n%+v", preview, apply)
	}

	// One batch: the live database's transaction, no copy.
	small := sheet("S", imports.Batch)
	res, err := svc.Import(ctx, models.SystemActor(), strings.NewReader(small), imports.Options{DryRun: true})
	if err != nil || res.Created != imports.Batch {
		t.Fatalf("small preview %+v %v", res, err)
	}
	if copies != 1 {
		t.Errorf("a one-batch preview made a copy")
	}
}

// PrivateCopy copies a database next to it (or where it is told), and its
// function deletes the copy.
func TestPrivateCopyIsDeleted(t *testing.T) {
	ctx := context.Background()
	store := storetest.SQLite(t)
	dir := t.TempDir()
	cp, closeCopy, err := store.PrivateCopy(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := closeCopy(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left in %s: %v", dir, entries)
	}
}

// A copy a stopped process left behind is deleted by the next preview's
// copy; a recent one (another preview's) is not.
func TestPrivateCopyRemovesStaleCopies(t *testing.T) {
	ctx := context.Background()
	store := storetest.SQLite(t)
	dir := t.TempDir()
	stale := filepath.Join(dir, ".apptconfirm-copy-123.db")
	recent := filepath.Join(dir, ".apptconfirm-copy-456.db")
	for _, f := range []string{stale, stale + "-wal", recent} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-7 * time.Hour)
	for _, f := range []string{stale, stale + "-wal"} {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	_, closeCopy, err := store.PrivateCopy(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = closeCopy() }()
	for _, f := range []string{stale, stale + "-wal"} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want deleted", f, err)
		}
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("a recent copy was deleted: %v", err)
	}
}
