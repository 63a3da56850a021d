package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"apptconfirm/app/analytics"
	"apptconfirm/app/analytics/analyticstest"
	"apptconfirm/app/api"
	"apptconfirm/app/auth"
	"apptconfirm/app/clinic"
	"apptconfirm/app/stats"
	"apptconfirm/models"
	"apptconfirm/static"
	"apptconfirm/templates"
)

// The analytics page and GET /api/v1/analytics over 90 days, at 1,000,000
// appointments on SQLite. The history is generated once (app/analytics/
// analyticstest, fixed seed) into a file cached under
// os.TempDir()/apptconfirm-bench; it runs only with
// APPTCONFIRM_BENCH_LARGE=1. Commands and figures: BENCHMARKS.md.

// analyticsBenchVersion changes whenever the generated history changes.
const analyticsBenchVersion = 1

// analyticsBenchDays is how many days the million appointments span: four
// years, two on each side of benchNow, as in the dashboard benchmarks.
const analyticsBenchDays = 4 * 365

// analyticsBenchRange is the 90 days before benchNow's day.
const analyticsBenchRange = "from=2025-12-02&to=2026-03-01"

func analyticsBenchDB(b *testing.B, n int) string {
	b.Helper()
	if os.Getenv("APPTCONFIRM_BENCH_LARGE") != "1" {
		b.Skipf("%d appointments: set APPTCONFIRM_BENCH_LARGE=1 to run it (generating takes minutes the first time)", n)
	}
	dir := filepath.Join(os.TempDir(), "apptconfirm-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("analytics-%d-v%d.db", n, analyticsBenchVersion))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".seeding"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(tmp + suffix)
	}
	st, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: tmp})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	analyticstest.Generate(b, st, analyticstest.Options{
		Seed: 1, Patients: n / 10, Appts: n, From: benchNow.AddDate(0, 0, -analyticsBenchDays/2), Days: analyticsBenchDays,
		Now: benchNow, Discard: true,
	})
	b.Logf("generated %d appointments in %s", n, time.Since(start).Round(time.Second))
	if err := st.Analyze(ctx); err != nil {
		b.Fatal(err)
	}
	if err := st.DB(ctx).Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkAnalytics90Days1M is the analytics of 90 days (about 61,000
// appointments and 250,000 messages of a table of 1,000,000 and
// 4,600,000): the admin page and the API's JSON, through the whole HTTP
// handler.
func BenchmarkAnalytics90Days1M(b *testing.B) {
	const n = 1_000_000
	path := analyticsBenchDB(b, n)
	st, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: path})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := func() time.Time { return benchNow }
	cs := clinic.New(st, clinic.Options{Hasher: testHasher, Now: now})
	figures := analytics.New(st, analytics.Options{Now: now})
	a := api.New(api.Deps{Store: st, Clinic: cs, Stats: stats.New(st), Analytics: figures, Now: now})
	srv, err := New(Options{ClinicName: "Bench Clinic"}, Deps{
		Sessions: auth.NewSessions(st, auth.SessionOptions{Lifetime: time.Hour}),
		Hasher:   testHasher, Limiter: auth.NewLoginLimiter(15*time.Minute, 5, 20, nil),
		Templates: templates.FS, Static: static.FS, Now: now, Clinic: cs, Stats: stats.New(st),
		Analytics: figures, API: a,
	})
	if err != nil {
		b.Fatal(err)
	}
	env := &benchEnv{handler: srv.Handler()}
	email := fmt.Sprintf("bench-%d@example.com", time.Now().UnixNano())
	hash, err := testHasher.Hash("password123")
	if err != nil {
		b.Fatal(err)
	}
	if err := st.DB(ctx).Create(&models.User{Email: email, Name: "Bench", PasswordHash: hash, Role: models.RoleAdmin}).Error; err != nil {
		b.Fatal(err)
	}
	env.cookie = benchLogin(b, env.handler, email)
	if env.token, _, err = a.Tokens().Create(ctx, models.SystemActor(), "bench "+email); err != nil {
		b.Fatal(err)
	}
	// The per-day summary, as the analytics job keeps it: counted whole the
	// first time (kept in the file afterwards), then brought up to date.
	start, cpu0 := time.Now(), cpuTime()
	days, err := figures.RefreshDefault(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("summary refresh: %d days counted in %v (%v CPU)", days, time.Since(start).Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond))
	// The range's size, for the record.
	req := httptest.NewRequest(http.MethodGet, "/api/v1/analytics?"+analyticsBenchRange, nil)
	req.Header.Set("Authorization", "Bearer "+env.token)
	rec := httptest.NewRecorder()
	env.handler.ServeHTTP(rec, req)
	if i := strings.Index(rec.Body.String(), `"appointments_in_range":`); i >= 0 {
		b.Logf("range: %s", rec.Body.String()[i:min(len(rec.Body.String()), i+40)])
	}
	b.Run("api", func(b *testing.B) {
		defer reportCPU(b)()
		env.run(b, "/api/v1/analytics?"+analyticsBenchRange, `"breakdowns"`, true)
	})
	b.Run("page", func(b *testing.B) {
		defer reportCPU(b)()
		env.run(b, "/analytics?"+analyticsBenchRange, "Which reminder works best", false)
	})
	// A confirmation before each request: the report counts the touched
	// day again itself before answering.
	var ids []uint
	if err := st.DB(ctx).Raw("SELECT id FROM appointments WHERE starts_at >= ? AND starts_at < ? AND confirmed_at IS NULL ORDER BY id LIMIT 1000",
		time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)).Scan(&ids).Error; err != nil {
		b.Fatal(err)
	}
	b.Run("api-after-a-change", func(b *testing.B) {
		defer reportCPU(b)()
		i := 0
		for b.Loop() {
			id := ids[i%len(ids)]
			i++
			err := st.Tx(ctx, func(ctx context.Context) error {
				if err := st.DB(ctx).Exec("UPDATE appointments SET confirmed_at = ? WHERE id = ?", benchNow.UTC(), id).Error; err != nil {
					return err
				}
				return st.Record(ctx, models.Event{At: benchNow, Type: models.EventAppointmentConfirmed, AppointmentID: id})
			})
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/api/v1/analytics?"+analyticsBenchRange, nil)
			req.Header.Set("Authorization", "Bearer "+env.token)
			rec := httptest.NewRecorder()
			env.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"as_of"`) {
				b.Fatalf("status %d: %s", rec.Code, excerpt(rec.Body.String()))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/req")
	})
}

// reportCPU reports the process's CPU time (user and system) per
// operation, beside the wall time: on a machine shared with other work the
// wall time also counts the waits for a core.
func reportCPU(b *testing.B) func() {
	before := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime()-before).Microseconds())/float64(b.N)/1000, "cpu-ms/req")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
