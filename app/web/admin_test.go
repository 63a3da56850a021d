package web

import (
	"context"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"

	"apptconfirm/models"
)

// TestAdminPages runs every admin page on one app, with one admin and one
// staff browser (logging in costs a bcrypt comparison each).
func TestAdminPages(t *testing.T) {
	a := newTestApp(t)
	main := a.addLocation("Main", "America/New_York", "US")
	admin := a.loggedIn("boss@example.com", models.RoleAdmin)
	staff := a.loggedIn("staff@example.com", models.RoleStaff)
	// The order matters: the audit page reads the zone that the locations
	// test changes, and the staff test checks that nothing was written.
	t.Run("staff are refused", func(t *testing.T) { testAdminRefusesStaff(t, a, staff) })
	t.Run("index", func(t *testing.T) { testAdminIndex(t, admin) })
	t.Run("audit", func(t *testing.T) { testAdminAudit(t, a, admin) })
	t.Run("providers", func(t *testing.T) { testAdminProviders(t, a, admin, main) })
	t.Run("users", func(t *testing.T) { testAdminUsers(t, a, admin) })
	t.Run("locations", func(t *testing.T) { testAdminLocations(t, a, admin, main) })
}

// Staff get 403 on every admin route and action. The routes
// come from the engine, so an admin route added later is covered too.
func testAdminRefusesStaff(t *testing.T, a *testApp, b *browser) {
	counts := func() [4]int64 {
		return [4]int64{a.count(&models.User{}), a.count(&models.Location{}), a.count(&models.Provider{}), a.count(&models.AuditEntry{})}
	}
	before := counts()
	var gets, posts int
	for _, r := range a.server.engine.Routes() {
		if r.Path != "/admin" && !strings.HasPrefix(r.Path, "/admin/") && !strings.HasPrefix(r.Path, "/analytics") {
			continue
		}
		path := fillParams(r.Path)
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			// A plausible form with a valid CSRF token: only the role check may stop it.
			f := form("csrf_token", b.csrf, "email", "new@example.com", "name", "New", "role", "admin",
				"password", "password123", "time_zone", "UTC", "country", "US", "active", "1")
			req, err := http.NewRequest(r.Method, a.http.URL+path, strings.NewReader(f.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("staff %s %s: %d, want 403", r.Method, path, resp.StatusCode)
			}
			if r.Method == http.MethodGet && !strings.Contains(string(body), "Admins only") {
				t.Fatalf("staff %s %s: not the 403 page", r.Method, path)
			}
		})
		switch r.Method {
		case http.MethodGet:
			gets++
		case http.MethodPost:
			posts++
		}
	}
	// This file's own admin pages alone are 11 GETs and 6 POSTs.
	if gets < 11 || posts < 6 {
		t.Fatalf("walked %d GET and %d POST admin routes; the route list is incomplete", gets, posts)
	}
	if after := counts(); after != before {
		t.Fatalf("staff requests changed data: users, locations, providers, audit %v -> %v", before, after)
	}
	// The nav hides the admin link from staff.
	if _, body := b.get("/patients"); strings.Contains(body, `href="/admin"`) {
		t.Fatal("staff see the admin link")
	}
}

// fillParams puts a plausible value in each :param and *param of a route.
func fillParams(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "1"
		}
	}
	return strings.Join(parts, "/")
}

func testAdminIndex(t *testing.T, b *browser) {
	status, body := b.get("/admin")
	expectPage(t, "admin index", status, body, http.StatusOK,
		`href="/admin/locations"`, `href="/admin/providers"`, `href="/admin/users"`, `href="/admin/audit"`, "Audit log")
	if strings.Contains(body, `href="/admin/locations/new"`) || strings.Contains(body, ":id") {
		t.Fatal("the index lists form or parameter routes")
	}
}

func testAdminLocations(t *testing.T, a *testApp, b *browser, main *models.Location) {
	ctx := context.Background()

	status, body := b.get("/admin/locations")
	expectPage(t, "list", status, body, http.StatusOK, "Main", "America/New_York", "default")
	status, body = b.get("/admin/locations/new")
	expectPage(t, "new", status, body, http.StatusOK, `<option value="America/New_York" selected>`, `name="time_zone_other"`, `value="21:00"`)

	base := map[string]string{"name": "Lyon", "time_zone": "Europe/Paris", "country": "FR", "phone": "04 72 00 00 00", "quiet_start": "21:00", "quiet_end": "08:00"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	post := func(path string, m map[string]string) (*http.Response, string) {
		f := form()
		for k, v := range m {
			f.Set(k, v)
		}
		return b.post(path, f)
	}

	t.Run("refused forms", func(t *testing.T) {
		n := a.count(&models.Location{})
		for _, tc := range []struct {
			name string
			form map[string]string
			has  []string
		}{
			{"unknown typed zone", with("time_zone", "", "time_zone_other", "Mars/Olympus"), []string{`Unknown time zone "Mars/Olympus"`, `value="Mars/Olympus"`, `value="Lyon"`}},
			{"no zone", with("time_zone", ""), []string{"required"}},
			{"UK is not a country code", with("country", "UK"), []string{`the United Kingdom is "GB"`, `value="UK"`}},
			{"invalid phone", with("phone", "12"), []string{"too short for FR", `value="12"`}},
			{"quiet hours half set", with("quiet_end", ""), []string{"required when quiet hours start is set"}},
			{"quiet hours unreadable", with("quiet_start", "25:00"), []string{"Quiet hours start: “25:00” is not a time of day: write it like 14:30."}},
			{"quiet hours end unreadable", with("quiet_end", "8 o'clock"), []string{"Quiet hours end: “8 o&#39;clock” is not a time of day"}},
			{"duplicate name", with("name", "main"), []string{"already in use"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := post("/admin/locations", tc.form)
				expectPage(t, tc.name, resp.StatusCode, body, http.StatusUnprocessableEntity, append(tc.has, `class="field-error"`)...)
			})
		}
		if a.count(&models.Location{}) != n {
			t.Fatal("a refused form created a location")
		}
	})

	t.Run("create from the list and typed", func(t *testing.T) {
		resp, body := post("/admin/locations", with())
		expectRedirect(t, "create", resp, body, "/admin/locations")
		resp, body = post("/admin/locations", with("name", "Abidjan", "time_zone", "", "time_zone_other", "Africa/Abidjan", "country", "CI", "phone", ""))
		expectRedirect(t, "create typed zone", resp, body, "/admin/locations")
		var l models.Location
		if err := a.store.DB(ctx).Where("name = ?", "Abidjan").Take(&l).Error; err != nil || l.TimeZone != "Africa/Abidjan" || l.IsDefault {
			t.Fatalf("typed zone: %+v %v", l, err)
		}
		status, body := b.get("/admin/locations/" + itoa(l.ID) + "/edit")
		expectPage(t, "edit typed zone", status, body, http.StatusOK, `name="time_zone_other" type="text" value="Africa/Abidjan"`)
		var lyon models.Location
		a.store.DB(ctx).Where("name = ?", "Lyon").Take(&lyon)
		if lyon.Phone != "+33472000000" || lyon.QuietStart != "21:00" {
			t.Fatalf("Lyon: %+v", lyon)
		}
	})

	t.Run("edit", func(t *testing.T) {
		path := "/admin/locations/" + itoa(main.ID)
		status, body := b.get(path + "/edit")
		expectPage(t, "edit form", status, body, http.StatusOK, `value="Main"`, `<option value="America/New_York" selected>`, `name="is_default" value="1" checked`)
		resp, body := post(path, map[string]string{"name": "Main", "time_zone": "America/Chicago", "country": "US"})
		expectPage(t, "un-default the default", resp.StatusCode, body, http.StatusUnprocessableEntity, "A default location is required")
		resp, body = post(path, map[string]string{"name": "Main St", "time_zone": "America/Chicago", "country": "US", "is_default": "1"})
		expectRedirect(t, "edit", resp, body, "/admin/locations")
		var l models.Location
		a.store.DB(ctx).First(&l, main.ID)
		if l.Name != "Main St" || l.TimeZone != "America/Chicago" || !l.IsDefault || l.QuietStart != "" {
			t.Fatalf("after edit: %+v", l)
		}
	})

	t.Run("unknown ids", func(t *testing.T) {
		for _, p := range []string{"/admin/locations/999/edit", "/admin/locations/x/edit"} {
			status, body := b.get(p)
			expectPage(t, p, status, body, http.StatusNotFound, "Not found")
		}
		resp, body := post("/admin/locations/999", with())
		expectPage(t, "POST unknown", resp.StatusCode, body, http.StatusNotFound, "Not found")
	})

	t.Run("CSRF", func(t *testing.T) {
		n := a.count(&models.Location{})
		resp, _ := b.post("/admin/locations", form("csrf_token", "forged", "name", "Evil", "time_zone", "UTC", "country", "US"))
		if resp.StatusCode != http.StatusForbidden || a.count(&models.Location{}) != n {
			t.Fatalf("forged token: %d", resp.StatusCode)
		}
	})
}

func testAdminProviders(t *testing.T, a *testApp, b *browser, loc *models.Location) {
	ctx := context.Background()

	status, body := b.get("/admin/providers")
	expectPage(t, "empty list", status, body, http.StatusOK, "No providers yet")
	status, body = b.get("/admin/providers/new")
	expectPage(t, "new", status, body, http.StatusOK, `name="active" value="1" checked`, "Main")

	for _, tc := range []struct {
		name string
		form []string
		has  []string
	}{
		{"no name", []string{"name", " ", "location_id", itoa(loc.ID)}, []string{"required"}},
		{"unknown location", []string{"name", "Dr Who", "location_id", "999"}, []string{"The chosen location no longer exists.", `value="Dr Who"`}},
		{"unreadable location", []string{"name", "Dr Who", "location_id", "main"}, []string{"is not a valid choice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := b.post("/admin/providers", form(tc.form...))
			expectPage(t, tc.name, resp.StatusCode, body, http.StatusUnprocessableEntity, tc.has...)
		})
	}
	if a.count(&models.Provider{}) != 0 {
		t.Fatal("a refused form created a provider")
	}

	resp, body := b.post("/admin/providers", form("name", "Dr Smith", "location_id", itoa(loc.ID), "active", "1"))
	expectRedirect(t, "create", resp, body, "/admin/providers")
	var p models.Provider
	if err := a.store.DB(ctx).Take(&p).Error; err != nil || !p.Active || p.LocationID == nil || *p.LocationID != loc.ID {
		t.Fatalf("created %+v %v", p, err)
	}
	status, body = b.get("/admin/providers")
	expectPage(t, "list", status, body, http.StatusOK, "Dr Smith", "Main", "active")

	path := "/admin/providers/" + itoa(p.ID)
	status, body = b.get(path + "/edit")
	expectPage(t, "edit form", status, body, http.StatusOK, `value="Dr Smith"`, `<option value="`+itoa(loc.ID)+`" selected>`)
	resp, body = b.post(path, form("name", "Dr Smith-Jones", "location_id", ""))
	expectRedirect(t, "edit", resp, body, "/admin/providers")
	var after models.Provider
	a.store.DB(ctx).First(&after, p.ID)
	if after.Name != "Dr Smith-Jones" || after.Active || after.LocationID != nil {
		t.Fatalf("after edit: %+v", after)
	}
	for _, u := range []string{"/admin/providers/999/edit", "/admin/providers/0/edit"} {
		status, body = b.get(u)
		expectPage(t, u, status, body, http.StatusNotFound, "Not found")
	}
	resp, body = b.post("/admin/providers/999", form("name", "X"))
	expectPage(t, "POST unknown", resp.StatusCode, body, http.StatusNotFound, "Not found")
}

func testAdminUsers(t *testing.T, a *testApp, b *browser) {
	ctx := context.Background()
	users := a.count(&models.User{})
	var boss models.User
	a.store.DB(ctx).Where("email = ?", "boss@example.com").Take(&boss)

	status, body := b.get("/admin/users")
	expectPage(t, "list", status, body, http.StatusOK, "boss@example.com", "(you)")
	status, body = b.get("/admin/users/new")
	expectPage(t, "new", status, body, http.StatusOK, `<option value="staff" selected>`, `type="password"`)

	for _, tc := range []struct {
		name string
		form []string
		has  []string
	}{
		{"bad email", []string{"email", "not-an-email", "name", "Sam", "role", "staff", "password", "password123"}, []string{"must be an email address", `value="not-an-email"`, `value="Sam"`}},
		{"short password", []string{"email", "sam@example.com", "name", "Sam", "role", "staff", "password", "short"}, []string{"must be at least 8 characters", `value="sam@example.com"`}},
		{"too long for bcrypt", []string{"email", "sam@example.com", "name", "Sam", "role", "staff", "password", strings.Repeat("é", 40)}, []string{"must be at most 72 bytes"}},
		{"unknown role", []string{"email", "sam@example.com", "name", "Sam", "role", "root", "password", "password123"}, []string{"must be admin or staff"}},
		{"email taken", []string{"email", "BOSS@example.com", "name", "Sam", "role", "staff", "password", "password123"}, []string{"already in use"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := b.post("/admin/users", form(tc.form...))
			expectPage(t, tc.name, resp.StatusCode, body, http.StatusUnprocessableEntity, tc.has...)
			if pw := form(tc.form...).Get("password"); strings.Contains(html.UnescapeString(body), `value="`+pw+`"`) {
				t.Fatal("the password was sent back to the browser")
			}
		})
	}
	if a.count(&models.User{}) != users {
		t.Fatal("a refused form created a user")
	}

	resp, body := b.post("/admin/users", form("email", "Sam@Example.com", "name", "Sam", "role", "staff", "password", "password123"))
	expectRedirect(t, "create", resp, body, "/admin/users")
	var sam models.User
	if err := a.store.DB(ctx).Where("email = ?", "sam@example.com").Take(&sam).Error; err != nil || sam.Role != models.RoleStaff {
		t.Fatalf("created %+v %v", sam, err)
	}

	t.Run("the last admin is protected", func(t *testing.T) {
		path := "/admin/users/" + itoa(boss.ID)
		resp, body := b.post(path, form("email", "boss@example.com", "name", "Boss", "role", "staff"))
		expectPage(t, "demote", resp.StatusCode, body, http.StatusUnprocessableEntity, "The last admin cannot be demoted")
		resp, body = b.post(path, form("email", "boss@example.com", "name", "Boss", "role", "admin", "disabled", "1"))
		expectPage(t, "disable", resp.StatusCode, body, http.StatusUnprocessableEntity, "The last admin cannot be disabled")
		var u models.User
		a.store.DB(ctx).First(&u, boss.ID)
		if u.Role != models.RoleAdmin || u.Disabled {
			t.Fatalf("last admin changed: %+v", u)
		}
	})

	t.Run("reset password and disable", func(t *testing.T) {
		path := "/admin/users/" + itoa(sam.ID)
		status, body := b.get(path + "/edit")
		expectPage(t, "edit form", status, body, http.StatusOK, `value="sam@example.com"`, "Leave empty to keep the current password")
		resp, body := b.post(path, form("email", "sam@example.com", "name", "Sam", "role", "staff", "password", "a-new-password"))
		expectRedirect(t, "reset password", resp, body, "/admin/users")
		var u models.User
		a.store.DB(ctx).First(&u, sam.ID)
		if u.PasswordHash == sam.PasswordHash || u.SessionEpoch != sam.SessionEpoch+1 {
			t.Fatal("the password reset did not take or did not end the sessions")
		}
		resp, body = b.post(path, form("email", "sam@example.com", "name", "Sam", "role", "staff", "disabled", "1"))
		expectRedirect(t, "disable", resp, body, "/admin/users")
		var d models.User
		a.store.DB(ctx).First(&d, sam.ID)
		if !d.Disabled || d.PasswordHash != u.PasswordHash {
			t.Fatalf("after disabling: %+v", d)
		}
		status, body = b.get("/admin/users")
		expectPage(t, "list", status, body, http.StatusOK, "disabled")
	})

	for _, u := range []string{"/admin/users/999/edit", "/admin/users/abc/edit"} {
		status, body = b.get(u)
		expectPage(t, u, status, body, http.StatusNotFound, "Not found")
	}
	resp, body = b.post("/admin/users/999", form("email", "x@example.com", "name", "X", "role", "staff"))
	expectPage(t, "POST unknown", resp.StatusCode, body, http.StatusNotFound, "Not found")
}

func testAdminAudit(t *testing.T, a *testApp, b *browser) {
	p := a.addPatient("Alice", "", "+12125550147")
	b.post("/patients/"+itoa(p.ID)+"/opt-out", nil)

	for _, tc := range []struct {
		url       string
		want      int
		has, hasn []string
	}{
		{"/admin/audit", 200, []string{"Patient opted out", "boss@example.com", "Location created", "When (America/New_York)", "Mon 2 Mar 2026 04:00:00", `href="/patients/` + itoa(p.ID) + `"`}, nil},
		{"/admin/audit?entity=patient", 200, []string{"Patient created", "Patient opted out"}, []string{"Location created", "patient.create"}},
		{"/admin/audit?entity=patient&entity_id=" + itoa(p.ID), 200, []string{"Patient opted out"}, []string{"patient.opt_out"}},
		{"/admin/audit?entity=location&page=2", 200, []string{"Nothing recorded", "Page 2 of 1"}, nil},
		{"/admin/audit?entity=patients", 400, []string{"entity: must be one of appointment, patient"}, nil},
		{"/admin/audit?entity=patient%27%20OR%201=1--", 400, []string{"entity: must be one of"}, nil},
		{"/admin/audit?entity=patient&entity_id=x", 400, []string{"entity id: must be a record number"}, nil},
		{"/admin/audit?entity_id=1", 400, []string{"entity id: needs an entity type"}, nil},
		{"/admin/audit?page=0", 400, []string{"page: must be a page number"}, nil},
	} {
		t.Run(tc.url, func(t *testing.T) {
			status, body := b.get(tc.url)
			expectPage(t, tc.url, status, body, tc.want, tc.has...)
			for _, s := range tc.hasn {
				if strings.Contains(body, s) {
					t.Fatalf("%s shows %q", tc.url, s)
				}
			}
		})
	}
}
