package imports_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/imports"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// BenchmarkImport previews, imports and re-imports a file of new
// appointments (2,000 rows; 100,000 with APPTCONFIRM_BENCH_LARGE=1) into a
// fresh SQLite database with the outbox planning every appointment's
// messages, as in the server (APPTCONFIRM_BENCH_ROWS sets another size).
// Run it once: -benchtime 1x.
func BenchmarkImport(b *testing.B) {
	rows := 2000
	if os.Getenv("APPTCONFIRM_BENCH_LARGE") != "" {
		rows = 100000
	}
	if n, err := strconv.Atoi(os.Getenv("APPTCONFIRM_BENCH_ROWS")); err == nil && n > 0 {
		rows = n
	}
	path := filepath.Join(b.TempDir(), "schedule.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintln(f, "external_id,patient_external_id,first_name,last_name,phone,language,starts_at,duration_minutes,notes")
	start := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	for i := 0; i < rows; i++ {
		at := start.Add(time.Duration(i) * 15 * time.Minute)
		fmt.Fprintf(f, "A-%d,P-%d,Ann%d,Lee,+3361%07d,fr,%s,15,check-up\n", i, i/3, i/3, i/3, at.Format(time.RFC3339))
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
		// A store of its own rather than storetest's, whose event sink
		// keeps every event for the tests to read: here they are dropped
		// once stored, as the server's fan-out drops them once published,
		// so that the peak RSS is the import's.
		store, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: filepath.Join(b.TempDir(), "bench.db")})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = store.Close() })
		if _, err := store.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		ob := outbox.New(store, outbox.Options{Now: now, ClinicName: "Cabinet Dupont"})
		cl := clinic.New(store, clinic.Options{Now: now, Planner: ob})
		if err := cl.EnsureDefaults(ctx, clinic.Defaults{ClinicName: "Paris", Timezone: "Europe/Paris", Country: "FR"}); err != nil {
			b.Fatal(err)
		}
		// As the server does on SQLite: the preview runs on a copy.
		svc := imports.New(store, cl).WithSandbox(func(ctx context.Context) (imports.Store, imports.Clinic, func() error, error) {
			cp, closeCopy, err := store.PrivateCopy(ctx, "")
			if err != nil {
				return nil, nil, nil, err
			}
			return cp, cl.On(cp, ob.On(cp)), closeCopy, nil
		})
		for _, step := range []struct {
			name string
			dry  bool
			want func(*imports.Result) bool
		}{
			{"preview", true, func(r *imports.Result) bool { return r.Created == rows }},
			{"apply", false, func(r *imports.Result) bool { return r.Created == rows }},
			{"reimport", false, func(r *imports.Result) bool { return r.Unchanged == rows }},
		} {
			file, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			res, err := svc.Import(ctx, models.SystemActor(), file, imports.Options{DryRun: step.dry})
			elapsed := time.Since(t0)
			_ = file.Close()
			if err != nil || !step.want(res) {
				b.Fatalf("%s: %+v %v", step.name, res, err)
			}
			b.ReportMetric(elapsed.Seconds(), step.name+"-s")
			// The memory the Go runtime holds (SQLite's own is not in it).
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.Sys)/(1<<20), step.name+"-go-sys-MB")
		}
	}
}
