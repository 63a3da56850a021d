package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/auth"
	"apptconfirm/models"
)

// BenchmarkLoginRefused measures a refused login through the whole handler
// (form, limiter, lookup, one bcrypt at cost 10, audit row), for each way a
// login fails (an unknown account, a wrong password, a disabled account, a
// password over 72 bytes): the times must not tell an unknown account from
// a real one. The limiter is given room for every iteration.
func BenchmarkLoginRefused(b *testing.B) {
	a := newTestApp(b)
	a.server.limiter = auth.NewLoginLimiter(time.Minute, 1<<30, 1<<30, nil)
	ctx := context.Background()
	h, _ := password123Hash()
	for _, u := range []*models.User{
		{Email: "real@example.com", Name: "Real", PasswordHash: h, Role: models.RoleStaff},
		{Email: "off@example.com", Name: "Off", PasswordHash: h, Role: models.RoleStaff, Disabled: true},
	} {
		if err := a.store.DB(ctx).Create(u).Error; err != nil {
			b.Fatal(err)
		}
	}
	// One login page for its cookie and token.
	rec := httptest.NewRecorder()
	a.server.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	cookie := rec.Result().Cookies()[0]
	token := csrfRE.FindStringSubmatch(rec.Body.String())[1]
	cases := []struct{ name, email, password string }{
		{"unknown", "nobody@example.com", "password124"},
		{"wrong", "real@example.com", "password124"},
		{"disabled", "off@example.com", "password123"},
		{"over72", "real@example.com", strings.Repeat("p", 100)},
	}
	bodies := make([]string, len(cases))
	for i, c := range cases {
		bodies[i] = url.Values{"email": {c.email}, "password": {c.password}, "csrf_token": {token}}.Encode()
	}
	// The cases take turns within each iteration, so that a machine whose
	// load changes during the run slows them all alike; each case's mean is
	// reported as its own metric.
	spent := make([]time.Duration, len(cases))
	for b.Loop() {
		for i := range cases {
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(bodies[i]))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(cookie)
			rec := httptest.NewRecorder()
			start := time.Now()
			a.server.Handler().ServeHTTP(rec, req)
			spent[i] += time.Since(start)
			if rec.Code != http.StatusUnauthorized {
				b.Fatalf("%s: status %d", cases[i].name, rec.Code)
			}
		}
	}
	for i, c := range cases {
		b.ReportMetric(float64(spent[i].Microseconds())/1000/float64(b.N), "ms/"+c.name)
	}
}
