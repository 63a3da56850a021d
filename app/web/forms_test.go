package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// Helpers shared by the patient, appointment and admin page tests.

// password123Hash is the hash of "password123", made once per test binary:
// bcrypt at cost 10 takes seconds under the race detector.
var password123Hash = sync.OnceValues(func() (string, error) { return testHasher.Hash("password123") })

// loggedIn adds a user with role and password "password123" and returns a
// browser logged in as them, holding a fresh CSRF token.
func (a *testApp) loggedIn(email string, role models.Role) *browser {
	a.t.Helper()
	h, err := password123Hash()
	if err != nil {
		a.t.Fatal(err)
	}
	u := &models.User{Email: email, Name: strings.Split(email, "@")[0], PasswordHash: h, Role: role}
	if err := a.store.DB(context.Background()).Create(u).Error; err != nil {
		a.t.Fatal(err)
	}
	b := a.browser()
	b.login(email)
	b.refreshCSRF()
	return b
}

// refreshCSRF loads a page that carries the session's CSRF token.
func (b *browser) refreshCSRF() {
	b.t.Helper()
	b.csrf = ""
	b.get("/this-page-does-not-exist")
	if b.csrf == "" {
		b.t.Fatal("no CSRF token on the logged-in 404 page")
	}
}

// addLocation creates a location through the clinic service (the first one
// becomes the default).
func (a *testApp) addLocation(name, zone, country string) *models.Location {
	a.t.Helper()
	l, err := a.clinic.CreateLocation(context.Background(), models.SystemActor(),
		clinic.LocationInput{Name: name, TimeZone: zone, Country: country})
	if err != nil {
		a.t.Fatal(err)
	}
	return l
}

// addPatient creates a patient through the clinic service.
func (a *testApp) addPatient(first, last, phone string) *models.Patient {
	a.t.Helper()
	p, err := a.clinic.CreatePatient(context.Background(), models.SystemActor(),
		clinic.PatientInput{FirstName: first, LastName: last, Phone: phone}, "")
	if err != nil {
		a.t.Fatal(err)
	}
	return p
}

// count counts the rows of model's table.
func (a *testApp) count(model any) int64 {
	a.t.Helper()
	var n int64
	if err := a.store.DB(context.Background()).Model(model).Count(&n).Error; err != nil {
		a.t.Fatal(err)
	}
	return n
}

// expectPage fails unless status is want and body contains every string
// (compared after HTML unescaping, so apostrophes and quotes read naturally).
func expectPage(t *testing.T, what string, status int, body string, want int, contains ...string) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, status, want, excerpt(body))
	}
	plain := html.UnescapeString(body)
	for _, s := range contains {
		if !strings.Contains(plain, s) && !strings.Contains(body, s) {
			t.Fatalf("%s: page lacks %q\n%s", what, s, excerpt(body))
		}
	}
}

// expectRedirect fails unless resp is a 303 to location (a prefix match
// when location ends with "*").
func expectRedirect(t *testing.T, what string, resp *http.Response, body, location string) {
	t.Helper()
	got := resp.Header.Get("Location")
	ok := got == location
	if p, wild := strings.CutSuffix(location, "*"); wild {
		ok = strings.HasPrefix(got, p)
	}
	if resp.StatusCode != http.StatusSeeOther || !ok {
		t.Fatalf("%s: %d to %q, want 303 to %q\n%s", what, resp.StatusCode, got, location, excerpt(body))
	}
}

// excerpt keeps failure output readable: the page's main part.
func excerpt(body string) string {
	if i := strings.Index(body, "<main>"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000] + "…"
	}
	return body
}

// form builds url.Values from pairs.
func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint
		ok   bool
	}{
		{"1", 1, true},
		{" 42 ", 42, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775808", 0, false}, // beyond what the databases store
		{"99999999999999999999", 0, false},
		{"0", 0, false},
		{"-1", 0, false},
		{"1e3", 0, false},
		{"", 0, false},
		{"abc", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseID(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("parseID(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestAppointmentFormInput(t *testing.T) {
	for _, tc := range []struct {
		name      string
		f         appointmentForm
		errFields []string
	}{
		{"complete", appointmentForm{PatientID: "3", LocationID: "1", ProviderID: "2", StartsAt: "2026-03-04T09:00", Duration: "30"}, nil},
		{"no provider or location", appointmentForm{PatientID: "3", StartsAt: "2026-03-04T09:00", Duration: "30"}, nil},
		{"duration zero", appointmentForm{PatientID: "3", StartsAt: "2026-03-04T09:00", Duration: "0"}, []string{"duration_minutes"}},
		{"duration negative", appointmentForm{PatientID: "3", StartsAt: "2026-03-04T09:00", Duration: "-15"}, []string{"duration_minutes"}},
		{"duration too long", appointmentForm{PatientID: "3", StartsAt: "2026-03-04T09:00", Duration: "721"}, []string{"duration_minutes"}},
		{"duration words", appointmentForm{PatientID: "3", StartsAt: "2026-03-04T09:00", Duration: "half an hour"}, []string{"duration_minutes"}},
		{"duration empty", appointmentForm{PatientID: "3", StartsAt: "2026-03-04T09:00"}, []string{"duration_minutes"}},
		{"no start", appointmentForm{PatientID: "3", Duration: "30"}, []string{"starts_at"}},
		{"bad ids", appointmentForm{PatientID: "x", LocationID: "-1", ProviderID: "1.5", StartsAt: "2026-03-04T09:00", Duration: "30"}, []string{"location_id", "patient_id", "provider_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, fe := tc.f.input()
			var got []string
			for k := range fe {
				got = append(got, k)
			}
			if len(got) != len(tc.errFields) {
				t.Fatalf("errors %v, want fields %v", fe, tc.errFields)
			}
			for _, f := range tc.errFields {
				if fe[f] == "" {
					t.Fatalf("errors %v, want one on %s", fe, f)
				}
			}
			if len(fe) == 0 && (in.DurationMinutes != 30 || in.PatientID != 3 || in.StartsLocal != tc.f.StartsAt) {
				t.Fatalf("input %+v", in)
			}
			if tc.f.ProviderID == "" && in.ProviderID != nil {
				t.Fatal("an empty provider must mean none")
			}
		})
	}
}

func TestLocationFormZone(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		f                     locationForm
		zone, select_, other_ string
	}{
		{"from the list", locationForm{TimeZone: "Europe/Paris"}, "Europe/Paris", "Europe/Paris", ""},
		{"typed wins", locationForm{TimeZone: "Europe/Paris", TimeZoneOther: " Africa/Abidjan "}, "Africa/Abidjan", "", "Africa/Abidjan"},
		{"typed common zone moves to the list", locationForm{TimeZoneOther: "UTC"}, "UTC", "UTC", ""},
		{"typed garbage stays typed", locationForm{TimeZoneOther: "Mars/Base"}, "Mars/Base", "", "Mars/Base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.input().TimeZone; got != tc.zone {
				t.Fatalf("zone %q, want %q", got, tc.zone)
			}
			n := tc.f.normalized()
			if n.TimeZone != tc.select_ || n.TimeZoneOther != tc.other_ {
				t.Fatalf("normalized to select %q other %q", n.TimeZone, n.TimeZoneOther)
			}
		})
	}
}

// FuzzAppointmentForm: any typed form converts without panicking, and a
// form that passes has a duration the service accepts.
func FuzzAppointmentForm(f *testing.F) {
	f.Add("1", "1", "", "2026-03-04T09:00", "30", "notes")
	f.Add("x", "-1", "99999999999999999999", "", "0", "")
	f.Add(" 7 ", "", "3", "2026-02-30T25:61", "720", "\x00")
	f.Fuzz(func(t *testing.T, patient, location, provider, start, duration, notes string) {
		in, fe := appointmentForm{
			PatientID: patient, LocationID: location, ProviderID: provider,
			StartsAt: start, Duration: duration, Notes: notes,
		}.input()
		if len(fe) > 0 {
			return
		}
		if in.DurationMinutes < 1 || in.DurationMinutes > clinic.MaxDurationMinutes {
			t.Fatalf("duration %d passed the form", in.DurationMinutes)
		}
		if in.StartsLocal == "" {
			t.Fatal("an empty start passed the form")
		}
		if in.ProviderID != nil && *in.ProviderID == 0 {
			t.Fatal("provider id 0 passed the form")
		}
	})
}

// FuzzQueryParams: list filters (page, day, id) never panic and refuse what
// they cannot read.
func FuzzQueryParams(f *testing.F) {
	f.Add("1", "2026-03-02", "5")
	f.Add("-3", "2026-13-45", "abc")
	f.Add("1000001", "0000-01-01", "18446744073709551616")
	f.Fuzz(func(t *testing.T, page, day, id string) {
		fe := models.FieldErrors{}
		if p := queryPage(fe, page); p < 1 {
			t.Fatalf("page %d", p)
		}
		d, ok := parseDay(fe, "date", day, time.UTC)
		if ok && (d.Year() < 1970 || d.Year() > 2199) {
			t.Fatalf("day %v accepted", d)
		}
		if !ok && fe["date"] == "" {
			t.Fatal("a refused day has no message")
		}
		if n, ok := parseID(id); ok && (n == 0 || n > 1<<63-1) {
			t.Fatalf("id %d accepted", n)
		}
	})
}
