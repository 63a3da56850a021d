package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"apptconfirm/models"
)

func TestPatientPages(t *testing.T) {
	a := newTestApp(t)
	a.addLocation("Main", "America/New_York", "US")
	b := a.loggedIn("front@example.com", models.RoleStaff)
	ctx := context.Background()

	t.Run("empty list", func(t *testing.T) {
		status, body := b.get("/patients")
		expectPage(t, "list", status, body, http.StatusOK, "No patients yet", `href="/patients/new"`)
	})

	t.Run("new form", func(t *testing.T) {
		status, body := b.get("/patients/new")
		expectPage(t, "new", status, body, http.StatusOK, `name="first_name"`, `name="phone"`, `name="language"`,
			`name="csrf_token"`, "read as a US number")
	})

	t.Run("refused forms keep what was typed and write nothing", func(t *testing.T) {
		audits := a.count(&models.AuditEntry{})
		for _, tc := range []struct {
			name   string
			form   map[string]string
			errMsg string
			kept   []string
		}{
			{
				"phone too short",
				map[string]string{"first_name": "Alice", "last_name": "Martin", "phone": "12"},
				"too short for US",
				[]string{`value="Alice"`, `value="Martin"`, `value="12"`},
			},
			{
				"phone not a number",
				map[string]string{"first_name": "Alice", "phone": "call me"},
				"not a number",
				[]string{`value="call me"`},
			},
			{
				"phone not valid",
				map[string]string{"first_name": "Alice", "phone": "+1 555 000 0000"},
				"not a valid number for US",
				[]string{`value="+1 555 000 0000"`},
			},
			{
				"no first name",
				map[string]string{"first_name": "  ", "last_name": "Martin", "phone": "+33612345678"},
				"required",
				[]string{`value="Martin"`, `value="+33612345678"`},
			},
			{
				"unknown language",
				map[string]string{"first_name": "Alice", "phone": "+33612345678", "language": "xx"},
				"must be one of en, fr",
				[]string{`value="Alice"`},
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := form()
				for k, v := range tc.form {
					f.Set(k, v)
				}
				resp, body := b.post("/patients", f)
				expectPage(t, tc.name, resp.StatusCode, body, http.StatusUnprocessableEntity,
					append([]string{tc.errMsg, `class="field-error"`}, tc.kept...)...)
			})
		}
		if n := a.count(&models.Patient{}); n != 0 {
			t.Fatalf("%d patients after refused forms", n)
		}
		if n := a.count(&models.AuditEntry{}); n != audits {
			t.Fatalf("audit rows %d -> %d after refused forms", audits, n)
		}
	})

	var id uint
	t.Run("create", func(t *testing.T) {
		resp, body := b.post("/patients", form("first_name", "Alice", "last_name", "Martin", "phone", "(212) 555-0147", "language", "fr"))
		expectRedirect(t, "create", resp, body, "/patients/*")
		var p models.Patient
		if err := a.store.DB(ctx).Take(&p).Error; err != nil {
			t.Fatal(err)
		}
		if p.Phone != "+12125550147" || p.Language != "fr" {
			t.Fatalf("stored %+v", p)
		}
		id = p.ID
		status, body := b.get(resp.Header.Get("Location"))
		expectPage(t, "show", status, body, http.StatusOK, "Alice Martin", "+12125550147", "added",
			`href="/appointments/new?patient_id=`, "receiving messages", "No appointments yet")
	})
	show := "/patients/" + itoa(id)

	t.Run("search sort and paging", func(t *testing.T) {
		a.addPatient("Bob", "Zed", "+33612345678")
		for _, tc := range []struct {
			url       string
			want      int
			has, hasn []string
		}{
			{"/patients?q=ali", 200, []string{"Alice Martin", "<td>French</td>", "receiving"}, []string{"Bob Zed", "<td>fr</td>"}},
			{"/patients?q=5550147", 200, []string{"Alice Martin"}, []string{"Bob Zed"}},
			{"/patients?q=%25", 200, []string{"No patient matches"}, nil},
			{"/patients?q=nobody", 200, []string{"No patient matches"}, nil},
			{"/patients?sort=created", 200, []string{"Alice Martin", "Bob Zed"}, nil},
			{"/patients?sort=phone&page=1", 200, []string{"Page 1 of 1"}, nil},
			{"/patients?sort=name%3BDROP+TABLE+patients", 400, []string{"sort: must be one of name, created, phone"}, nil},
			{"/patients?sort=first_name", 400, []string{"sort: must be one of"}, nil},
			{"/patients?page=0", 400, []string{"page: must be a page number"}, nil},
			{"/patients?page=abc", 400, []string{"page: must be a page number"}, nil},
		} {
			t.Run(tc.url, func(t *testing.T) {
				status, body := b.get(tc.url)
				expectPage(t, tc.url, status, body, tc.want, tc.has...)
				for _, s := range tc.hasn {
					if strings.Contains(body, s) {
						t.Fatalf("%s shows %q", tc.url, s)
					}
				}
				if strings.Contains(strings.ToLower(body), "sql") {
					t.Fatalf("%s leaks SQL", tc.url)
				}
			})
		}
	})

	t.Run("edit", func(t *testing.T) {
		status, body := b.get(show + "/edit")
		expectPage(t, "edit form", status, body, http.StatusOK, `value="Alice"`, `value="+12125550147"`, `<option value="fr" selected>`)
		resp, body := b.post(show, form("first_name", "Alicia", "last_name", "Martin", "phone", "+49 123", "language", "fr"))
		expectPage(t, "bad edit", resp.StatusCode, body, http.StatusUnprocessableEntity, "not a valid number for DE", `value="Alicia"`, `value="+49 123"`)
		var p models.Patient
		a.store.DB(ctx).First(&p, id)
		if p.FirstName != "Alice" || p.Phone != "+12125550147" {
			t.Fatalf("a refused edit changed the patient: %+v", p)
		}
		resp, body = b.post(show, form("first_name", "Alicia", "last_name", "Martin", "phone", "+33 6 12 34 56 79", "language", "es"))
		expectRedirect(t, "edit", resp, body, show)
		a.store.DB(ctx).First(&p, id)
		if p.FirstName != "Alicia" || p.Phone != "+33612345679" || p.Language != "es" {
			t.Fatalf("edit not saved: %+v", p)
		}
	})

	t.Run("opt out and back in", func(t *testing.T) {
		// A GET never changes anything.
		status, _ := b.get(show + "/opt-out")
		if status != http.StatusMethodNotAllowed && status != http.StatusNotFound {
			t.Fatalf("GET opt-out: %d", status)
		}
		var p models.Patient
		a.store.DB(ctx).First(&p, id)
		if p.OptedOut() {
			t.Fatal("a GET opted the patient out")
		}
		resp, body := b.post(show+"/opt-out", nil)
		expectRedirect(t, "opt out", resp, body, show)
		a.store.DB(ctx).First(&p, id)
		if !p.OptedOut() || p.OptOutSource != "staff" {
			t.Fatalf("after opt-out: %+v", p)
		}
		status, body = b.get(show)
		expectPage(t, "opted-out page", status, body, http.StatusOK, "opted out", "source: staff", "America/New_York", `action="`+show+`/opt-in"`)
		resp, body = b.post(show+"/opt-in", nil)
		expectRedirect(t, "opt in", resp, body, show)
		var after models.Patient
		a.store.DB(ctx).First(&after, id)
		if after.OptedOut() {
			t.Fatal("still opted out")
		}
	})

	t.Run("unknown ids are 404", func(t *testing.T) {
		for _, path := range []string{"/patients/999", "/patients/999/edit", "/patients/abc", "/patients/0", "/patients/99999999999999999999"} {
			status, body := b.get(path)
			expectPage(t, path, status, body, http.StatusNotFound, "Not found")
		}
		for _, path := range []string{"/patients/999", "/patients/999/opt-out", "/patients/999/opt-in", "/patients/x/opt-out"} {
			resp, body := b.post(path, form("first_name", "X", "phone", "+33612345678"))
			expectPage(t, "POST "+path, resp.StatusCode, body, http.StatusNotFound, "Not found")
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		before := a.count(&models.Patient{})
		resp, _ := b.post("/patients", form("csrf_token", "forged", "first_name", "Eve", "phone", "+33612345678"))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged token: %d, want 403", resp.StatusCode)
		}
		if a.count(&models.Patient{}) != before {
			t.Fatal("a forged post created a patient")
		}
	})
}

func itoa(id uint) string { return strconv.FormatUint(uint64(id), 10) }
