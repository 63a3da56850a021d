package clinic_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestUserValidation(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, e.staff, clinic.UserInput{Email: "taken@example.com", Name: "T", Role: "staff", Password: "password1"}); err != nil {
		t.Fatal(err)
	}
	ok := clinic.UserInput{Email: "bob@example.com", Name: "Bob", Role: "staff", Password: "correct horse"}
	tests := []struct {
		name  string
		edit  func(*clinic.UserInput)
		field string
		msg   string
	}{
		{"email missing", func(in *clinic.UserInput) { in.Email = "" }, "email", "required"},
		{"email without domain", func(in *clinic.UserInput) { in.Email = "bob" }, "email", "email address"},
		{"email with display name", func(in *clinic.UserInput) { in.Email = "Bob <bob@example.com>" }, "email", "email address"},
		{"email without dot", func(in *clinic.UserInput) { in.Email = "bob@localhost" }, "email", "email address"},
		{"email taken, other case", func(in *clinic.UserInput) { in.Email = " TAKEN@example.com " }, "email", "already in use"},
		{"name missing", func(in *clinic.UserInput) { in.Name = "" }, "name", "required"},
		{"role unknown", func(in *clinic.UserInput) { in.Role = "root" }, "role", "admin or staff"},
		{"role missing", func(in *clinic.UserInput) { in.Role = "" }, "role", "admin or staff"},
		{"password missing", func(in *clinic.UserInput) { in.Password = "" }, "password", "required"},
		{"password short", func(in *clinic.UserInput) { in.Password = "1234567" }, "password", "at least 8"},
		{"password 73 bytes", func(in *clinic.UserInput) { in.Password = strings.Repeat("é", 36) + "a" }, "password", "at most 72 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := e.svc.CreateUser(ctx, e.staff, in)
			wantField(t, err, tc.field, tc.msg)
		})
	}
	if n := count(t, s, &models.User{}); n != 1 {
		t.Fatalf("%d users, want 1 (refused input wrote rows)", n)
	}
	u, err := e.svc.CreateUser(ctx, e.staff, clinic.UserInput{Email: " Bob@Example.COM ", Name: "Bob", Role: "STAFF", Password: strings.Repeat("é", 36)})
	if err != nil {
		t.Fatalf("72-byte password refused: %v", err)
	}
	if u.Email != "bob@example.com" || u.Role != models.RoleStaff || u.PasswordHash != "hashed:"+strings.Repeat("é", 36) {
		t.Fatalf("user = %+v", u)
	}
	got, err := e.svc.GetUserByEmail(ctx, "BOB@example.com")
	if err != nil || got.ID != u.ID {
		t.Fatalf("GetUserByEmail = %+v, %v", got, err)
	}
	if _, err := e.svc.GetUserByEmail(ctx, "nobody@example.com"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("GetUserByEmail(missing) = %v, want ErrNotFound", err)
	}
	var audits []models.AuditEntry
	if err := s.DB(ctx).Where("entity = ?", "user").Find(&audits).Error; err != nil {
		t.Fatal(err)
	}
	for _, a := range audits {
		if strings.Contains(a.Detail, "é") || strings.Contains(a.Detail, "password1") || strings.Contains(a.Detail, "hashed") {
			t.Fatalf("audit row leaks the password: %q", a.Detail)
		}
	}
	// Without a hasher nobody can be given a password.
	bare := clinic.New(s, clinic.Options{})
	if _, err := bare.CreateUser(ctx, e.staff, clinic.UserInput{Email: "c@example.com", Name: "C", Role: "staff", Password: "password1"}); !errors.Is(err, clinic.ErrNoHasher) {
		t.Fatalf("CreateUser without a hasher = %v, want ErrNoHasher", err)
	}
}

func TestUpdateUserSessionsAndLastAdmin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) { testUpdateUser(t, s) })
}

func testUpdateUser(t *testing.T, s *models.Store) {
	e := newEnv(t, s)
	ctx := context.Background()
	admin, err := e.svc.CreateUser(ctx, e.staff, clinic.UserInput{Email: "admin@example.com", Name: "Admin", Role: "admin", Password: "password1"})
	if err != nil {
		t.Fatal(err)
	}
	staff, err := e.svc.CreateUser(ctx, e.staff, clinic.UserInput{Email: "staff@example.com", Name: "Staff", Role: "staff", Password: "password1"})
	if err != nil {
		t.Fatal(err)
	}
	in := func(u *models.User) clinic.UserInput {
		return clinic.UserInput{Email: u.Email, Name: u.Name, Role: string(u.Role), Disabled: u.Disabled}
	}

	// The last enabled admin can be neither demoted nor disabled.
	demote := in(admin)
	demote.Role = "staff"
	_, err = e.svc.UpdateUser(ctx, e.staff, admin.ID, demote)
	wantField(t, err, "role", "last admin")
	disable := in(admin)
	disable.Disabled = true
	_, err = e.svc.UpdateUser(ctx, e.staff, admin.ID, disable)
	wantField(t, err, "disabled", "last admin")

	// A name change keeps sessions; an empty password keeps the hash.
	rename := in(staff)
	rename.Name = "Staff Member"
	got, err := e.svc.UpdateUser(ctx, e.staff, staff.ID, rename)
	if err != nil || got.SessionEpoch != 0 || got.PasswordHash != "hashed:password1" || got.Name != "Staff Member" {
		t.Fatalf("rename = %+v, %v", got, err)
	}
	// A new password and disabling each end the sessions.
	pw := in(got)
	pw.Password = "new password"
	got, err = e.svc.UpdateUser(ctx, e.staff, staff.ID, pw)
	if err != nil || got.SessionEpoch != 1 || got.PasswordHash != "hashed:new password" {
		t.Fatalf("password change = %+v, %v", got, err)
	}
	off := in(got)
	off.Disabled = true
	got, err = e.svc.UpdateUser(ctx, e.staff, staff.ID, off)
	if err != nil || !got.Disabled || got.SessionEpoch != 2 {
		t.Fatalf("disable = %+v, %v", got, err)
	}
	back := in(got)
	back.Disabled = false
	if got, err = e.svc.UpdateUser(ctx, e.staff, staff.ID, back); err != nil || got.Disabled || got.SessionEpoch != 2 {
		t.Fatalf("enable = %+v, %v", got, err)
	}
	bad := in(got)
	bad.Password = "short"
	_, err = e.svc.UpdateUser(ctx, e.staff, staff.ID, bad)
	wantField(t, err, "password", "at least 8")

	// With a second admin, the first may step down; then the second is the last.
	promote := in(got)
	promote.Role = "admin"
	if _, err := e.svc.UpdateUser(ctx, e.staff, staff.ID, promote); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateUser(ctx, e.staff, admin.ID, demote); err != nil {
		t.Fatalf("demoting one of two admins: %v", err)
	}
	last := promote
	last.Disabled = true
	_, err = e.svc.UpdateUser(ctx, e.staff, staff.ID, last)
	wantField(t, err, "disabled", "last admin")

	// Email changes are checked for uniqueness too.
	clash := in(admin)
	clash.Role = "staff"
	clash.Email = "STAFF@example.com"
	_, err = e.svc.UpdateUser(ctx, e.staff, admin.ID, clash)
	wantField(t, err, "email", "already in use")
	if _, err := e.svc.UpdateUser(ctx, e.staff, 9999, clash); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("update missing = %v, want ErrNotFound", err)
	}
	us, err := e.svc.ListUsers(ctx)
	if err != nil || len(us) != 2 || us[0].Email != "admin@example.com" {
		t.Fatalf("ListUsers = %+v, %v", us, err)
	}
}

func TestCreateFirstAdmin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		svc := clinic.New(s, clinic.Options{Hasher: fakeHasher{}, Now: (&clock{t: t0}).Now})
		_, err := svc.CreateFirstAdmin(ctx, "root", "Root", "password1")
		wantField(t, err, "email", "")
		created, err := svc.CreateFirstAdmin(ctx, "Root@Example.com", "Root", "password1")
		if err != nil || !created {
			t.Fatalf("first call = %v, %v; want true, nil", created, err)
		}
		created, err = svc.CreateFirstAdmin(ctx, "other@example.com", "Other", "password2")
		if err != nil || created {
			t.Fatalf("second call = %v, %v; want false, nil", created, err)
		}
		u, err := svc.GetUserByEmail(ctx, "root@example.com")
		if err != nil || u.Role != models.RoleAdmin || u.Disabled {
			t.Fatalf("admin = %+v, %v", u, err)
		}
		if n := count(t, s, &models.User{}); n != 1 {
			t.Fatalf("%d users, want 1", n)
		}
		if n := count(t, s, &models.AuditEntry{}, "action = ? AND actor = ?", "user.create", "system"); n != 1 {
			t.Fatalf("audit rows = %d, want 1", n)
		}
	})
}
