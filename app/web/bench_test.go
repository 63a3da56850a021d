package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/app/auth"
	"apptconfirm/app/clinic"
	"apptconfirm/app/seed"
	"apptconfirm/app/stats"
	"apptconfirm/models"
	"apptconfirm/static"
	"apptconfirm/templates"
)

// Server time per request for the dashboard, the appointment
// list (first and last page) and the API list, at 10,000, 100,000 and
// 1,000,000 appointments. Each size is seeded once into a SQLite file
// cached under os.TempDir()/apptconfirm-bench (reruns start at once);
// sizes above 10,000 run only with APPTCONFIRM_BENCH_LARGE=1. The commands
// and the figures are in BENCHMARKS.md.

// benchNow is the clock of the seeded data and of the requests.
var benchNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// benchSeedVersion changes whenever seeding changes, so stale caches are not reused.
const benchSeedVersion = 2

// benchSizes are the table sizes measured.
var benchSizes = []int{10_000, 100_000, 1_000_000}

// benchWeek is the range the list benchmarks page through: a week around benchNow.
const benchWeek = "from=2026-03-02&to=2026-03-08"

// benchEnv is a web UI with the API over one seeded database, and the
// credentials to call it.
type benchEnv struct {
	handler http.Handler
	cookie  string
	token   string
	// weekTotal is the number of appointments of benchWeek.
	weekTotal int64
}

// benchDB returns the path of a database seeded with n appointments,
// seeding it first when it is not cached.
func benchDB(b *testing.B, n int) string {
	b.Helper()
	if n > 10_000 && os.Getenv("APPTCONFIRM_BENCH_LARGE") != "1" {
		b.Skipf("%d rows: set APPTCONFIRM_BENCH_LARGE=1 to run it (seeding takes minutes the first time)", n)
	}
	dir := filepath.Join(os.TempDir(), "apptconfirm-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("appointments-%d-v%d.db", n, benchSeedVersion))
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
	b.Logf("seeding %d appointments into %s", n, path)
	if _, err := seed.Run(ctx, st, seed.Options{Count: n, Now: benchNow, Seed: 1, Progress: os.Stderr}); err != nil {
		b.Fatal(err)
	}
	// Fold the WAL into the file so the cache is one self-contained file.
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

// newBenchEnv opens the database of n appointments and logs a staff user in.
func newBenchEnv(b *testing.B, n int) *benchEnv {
	b.Helper()
	path := benchDB(b, n)
	st, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: path})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	// A cached file may predate newer migrations (indexes): bring it up to date.
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := func() time.Time { return benchNow }
	cs := clinic.New(st, clinic.Options{Hasher: testHasher, Now: now})
	figures := stats.New(st)
	a := api.New(api.Deps{Store: st, Clinic: cs, Stats: figures, Now: now})
	srv, err := New(Options{ClinicName: "Bench Clinic"}, Deps{
		Sessions: auth.NewSessions(st, auth.SessionOptions{Lifetime: time.Hour}),
		Hasher:   testHasher, Limiter: auth.NewLoginLimiter(15*time.Minute, 5, 20, nil),
		Templates: templates.FS, Static: static.FS, Now: now, Clinic: cs, Stats: figures,
		API: a,
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
	if err := st.DB(ctx).Create(&models.User{Email: email, Name: "Bench", PasswordHash: hash, Role: models.RoleStaff}).Error; err != nil {
		b.Fatal(err)
	}
	env.cookie = benchLogin(b, env.handler, email)
	if env.token, _, err = a.Tokens().Create(ctx, models.SystemActor(), "bench "+email); err != nil {
		b.Fatal(err)
	}
	err = st.DB(ctx).Model(&models.Appointment{}).
		Where("starts_at >= ? AND starts_at < ?", benchNow.Truncate(24*time.Hour), benchNow.Truncate(24*time.Hour).AddDate(0, 0, 7)).
		Count(&env.weekTotal).Error
	if err != nil {
		b.Fatal(err)
	}
	return env
}

// benchLogin logs email in through the real login form and returns the
// session cookie ("name=value").
func benchLogin(b *testing.B, h http.Handler, email string) string {
	b.Helper()
	ts := httptest.NewServer(h)
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(ts.URL + "/login")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		b.Fatal("no CSRF token on the login page")
	}
	resp, err = c.PostForm(ts.URL+"/login", url.Values{"email": {email}, "password": {"password123"}, "csrf_token": {string(m[1])}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("login: status %d", resp.StatusCode)
	}
	u, _ := url.Parse(ts.URL)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// run measures GET path, checking every answer is 200 and contains want.
func (e *benchEnv) run(b *testing.B, path, want string, bearer bool) {
	b.Helper()
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if bearer {
			req.Header.Set("Authorization", "Bearer "+e.token)
		} else {
			req.Header.Set("Cookie", e.cookie)
		}
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		return rec
	}
	rec := get()
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
		b.Fatalf("GET %s: status %d, want 200 with %q: %s", path, rec.Code, want, excerpt(rec.Body.String()))
	}
	b.SetBytes(int64(rec.Body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if rec := get(); rec.Code != http.StatusOK {
			b.Fatalf("GET %s: status %d", path, rec.Code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/req")
}

// lastPage is the number of the last page of total rows, per at a time.
func lastPage(total int64, per int) string {
	return fmt.Sprint(max(1, (total+int64(per)-1)/int64(per)))
}

func sizeName(n int) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("rows=%dM", n/1_000_000)
	case n >= 1000:
		return fmt.Sprintf("rows=%dk", n/1000)
	}
	return fmt.Sprintf("rows=%d", n)
}

// BenchmarkDashboard is the home page for its default range (today and the
// next 7 days, every location).
func BenchmarkDashboard(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			e := newBenchEnv(b, n)
			e.run(b, "/", `id="rates-chart"`, false)
		})
	}
}

// BenchmarkDashboardOneDay is the dashboard for one weekday (Tuesday 3
// March): at 1M rows that day holds about as many appointments as the
// default 8-day range does at 100k, which separates the cost of the range's
// rows from the size of the table.
func BenchmarkDashboardOneDay(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			e := newBenchEnv(b, n)
			e.run(b, "/?from=2026-03-03&to=2026-03-03", `id="rates-chart"`, false)
		})
	}
}

// BenchmarkAppointmentList pages through a week of appointments, 100 a page.
func BenchmarkAppointmentList(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			e := newBenchEnv(b, n)
			b.Run("first", func(b *testing.B) {
				e.run(b, "/appointments?"+benchWeek, "data-appointment-id", false)
			})
			b.Run("last", func(b *testing.B) {
				e.run(b, "/appointments?"+benchWeek+"&page="+lastPage(e.weekTotal, appointmentsPerPage), "data-appointment-id", false)
			})
		})
	}
}

// BenchmarkAPIList is GET /api/v1/appointments for the same week, 100 a
// page, and without a range (the API's default: every appointment).
func BenchmarkAPIList(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			e := newBenchEnv(b, n)
			week := "/api/v1/appointments?from=2026-03-02&to=2026-03-09&per_page=100"
			b.Run("first", func(b *testing.B) { e.run(b, week, `"total"`, true) })
			b.Run("last", func(b *testing.B) { e.run(b, week+"&page="+lastPage(e.weekTotal, 100), `"total"`, true) })
			b.Run("unbounded-first", func(b *testing.B) { e.run(b, "/api/v1/appointments?per_page=100", `"total"`, true) })
		})
	}
}
