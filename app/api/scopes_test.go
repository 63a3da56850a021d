package api_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// A read-only token reads every GET route and is refused every other
// method with 403 insufficient_scope, before anything changes; a
// read-write token may write.
func TestReadOnlyTokenOnlyReads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ro, _, err := e.api.Tokens().CreateWith(ctx, models.SystemActor(), api.TokenInput{Name: "reports", Scope: models.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Ana", Phone: "+33612345678"}, "FR")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path, body string
	}{
		{http.MethodGet, "/api/v1/patients", ""},
		{http.MethodGet, "/api/v1/patients/" + strconv.FormatUint(uint64(p.ID), 10), ""},
		{http.MethodGet, "/api/v1/appointments", ""},
		{http.MethodGet, "/api/v1/stats", ""},
	} {
		if r := e.do(c.method, c.path, c.body, withToken(ro)); r.status != http.StatusOK {
			t.Errorf("read-only %s %s: %d %s", c.method, c.path, r.status, r.body)
		}
	}
	before := e.count(&models.Patient{})
	for _, c := range []struct {
		method, path, body string
	}{
		{http.MethodPost, "/api/v1/patients", `{"name": "Bo", "phone": "+33612345679"}`},
		{http.MethodPost, "/api/v1/appointments", `{}`},
		{http.MethodPatch, "/api/v1/appointments/1", `{}`},
		{http.MethodPost, "/api/v1/appointments/1/cancel", `{}`},
		{http.MethodDelete, "/api/v1/patients/" + strconv.FormatUint(uint64(p.ID), 10), ""},
	} {
		r := e.do(c.method, c.path, c.body, withToken(ro))
		code, _, msg := r.errorOf(t)
		if r.status != http.StatusForbidden || code != api.CodeInsufficientScope || !strings.Contains(msg, "read-only") {
			t.Errorf("read-only %s %s: %d %s %q", c.method, c.path, r.status, code, msg)
		}
		if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="insufficient_scope"`) {
			t.Errorf("challenge %q", ch)
		}
	}
	if after := e.count(&models.Patient{}); after != before {
		t.Fatalf("a read-only token changed the patients: %d -> %d", before, after)
	}
	if _, err := e.clinic.GetPatient(ctx, p.ID); err != nil {
		t.Fatalf("the patient is gone after a read-only DELETE: %v", err)
	}
	// The read-write test token writes.
	if r := e.do(http.MethodPost, "/api/v1/patients", `{"name": "Bo", "phone": "+33612345679"}`); r.status != http.StatusCreated {
		t.Fatalf("read-write POST: %d %s", r.status, r.body)
	}
}

// A token past its expiry is refused; before it, it works.
func TestExpiredToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	at := t0.Add(time.Hour)
	plain, _, err := e.api.Tokens().CreateWith(ctx, models.SystemActor(), api.TokenInput{Name: "short", Scope: models.ScopeReadWrite, ExpiresAt: &at})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(http.MethodGet, "/api/v1/patients", "", withToken(plain)); r.status != http.StatusOK {
		t.Fatalf("before expiry: %d", r.status)
	}
	e.clock.Add(time.Hour)
	r := e.do(http.MethodGet, "/api/v1/patients", "", withToken(plain))
	if _, _, msg := r.errorOf(t); r.status != http.StatusUnauthorized || !strings.Contains(msg, "expired") {
		t.Fatalf("at expiry: %d %q", r.status, msg)
	}
	for _, c := range []struct {
		name string
		in   api.TokenInput
		key  string
	}{
		{"expiry in the past", api.TokenInput{Name: "x", Scope: models.ScopeRead, ExpiresAt: &t0}, "expires_at"},
		{"expiry too far", api.TokenInput{Name: "x", Scope: models.ScopeRead, ExpiresAt: timePtr(t0.Add(6 * 366 * 24 * time.Hour))}, "expires_at"},
		{"no scope", api.TokenInput{Name: "x"}, "scope"},
		{"unknown scope", api.TokenInput{Name: "x", Scope: "admin"}, "scope"},
	} {
		_, _, err := e.api.Tokens().CreateWith(ctx, models.SystemActor(), c.in)
		if fe, ok := models.AsFieldErrors(err); !ok || fe[c.key] == "" {
			t.Errorf("%s: %v, want an error on %s", c.name, err, c.key)
		}
	}
}

// Disabling a user revokes the tokens they made (audited), and a token
// whose creator is disabled is refused even if it escaped the revocation.
func TestTokenRevokedWithItsCreator(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.clinic = clinic.New(e.store, clinic.Options{Now: e.clock.Now, Hasher: fakeHasher{}})
	for _, email := range []string{"boss@example.com", "other@example.com"} {
		if _, err := e.clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{Email: email, Name: "Admin", Role: "admin", Password: "password123"}); err != nil {
			t.Fatal(err)
		}
	}
	boss, err := e.clinic.GetUserByEmail(ctx, "boss@example.com")
	if err != nil {
		t.Fatal(err)
	}
	actor := models.Actor{UserID: &boss.ID, Name: boss.Email}
	plain, tok, err := e.api.Tokens().Create(ctx, actor, "boss's sync")
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(http.MethodGet, "/api/v1/patients", "", withToken(plain)); r.status != http.StatusOK {
		t.Fatalf("before: %d", r.status)
	}
	if _, err := e.clinic.UpdateUser(ctx, models.SystemActor(), boss.ID, clinic.UserInput{Email: boss.Email, Name: boss.Name, Role: "admin", Disabled: true}); err != nil {
		t.Fatal(err)
	}
	r := e.do(http.MethodGet, "/api/v1/patients", "", withToken(plain))
	if _, _, msg := r.errorOf(t); r.status != http.StatusUnauthorized || !strings.Contains(msg, "revoked") {
		t.Fatalf("after disabling its creator: %d %q", r.status, msg)
	}
	var audit models.AuditEntry
	if err := e.store.DB(ctx).Where("action = ? AND entity_id = ?", "api_token.revoke", tok.ID).Take(&audit).Error; err != nil ||
		!strings.Contains(audit.Detail, "creator boss@example.com was disabled") {
		t.Fatalf("revocation audit %+v %v", audit, err)
	}

	// A token the revocation missed (its creator disabled behind the
	// service's back) is refused at authentication.
	other, err := e.clinic.GetUserByEmail(ctx, "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	plain2, _, err := e.api.Tokens().Create(ctx, models.Actor{UserID: &other.ID, Name: other.Email}, "other's sync")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.DB(ctx).Model(&models.User{}).Where("id = ?", other.ID).Update("disabled", true).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := e.api.Tokens().Authenticate(ctx, plain2); !errors.Is(err, api.ErrCreatorDisabled) {
		t.Fatalf("authenticate: %v, want ErrCreatorDisabled", err)
	}
	r = e.do(http.MethodGet, "/api/v1/patients", "", withToken(plain2))
	if _, _, msg := r.errorOf(t); r.status != http.StatusUnauthorized || !strings.Contains(msg, "disabled") {
		t.Fatalf("creator disabled: %d %q", r.status, msg)
	}
}

// fakeHasher stands in for bcrypt where no password is checked.
type fakeHasher struct{}

func (fakeHasher) Hash(pw string) (string, error) { return "hashed:" + pw, nil }

func timePtr(t time.Time) *time.Time { return &t }

// Taking the admin role away revokes the tokens the user made, as
// disabling does (audited); a token that escaped the revocation is refused
// once its creator is no longer an admin.
func TestTokenRevokedWhenItsCreatorIsDemoted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.clinic = clinic.New(e.store, clinic.Options{Now: e.clock.Now, Hasher: fakeHasher{}})
	for _, email := range []string{"boss@example.com", "other@example.com", "third@example.com"} {
		if _, err := e.clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{Email: email, Name: "Admin", Role: "admin", Password: "password123"}); err != nil {
			t.Fatal(err)
		}
	}
	boss, err := e.clinic.GetUserByEmail(ctx, "boss@example.com")
	if err != nil {
		t.Fatal(err)
	}
	plain, tok, err := e.api.Tokens().Create(ctx, models.Actor{UserID: &boss.ID, Name: boss.Email}, "boss's sync")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.clinic.UpdateUser(ctx, models.SystemActor(), boss.ID, clinic.UserInput{Email: boss.Email, Name: boss.Name, Role: "staff"}); err != nil {
		t.Fatal(err)
	}
	r := e.do(http.MethodGet, "/api/v1/patients", "", withToken(plain))
	if _, _, msg := r.errorOf(t); r.status != http.StatusUnauthorized || !strings.Contains(msg, "revoked") {
		t.Fatalf("after demoting its creator: %d %q", r.status, msg)
	}
	var audit models.AuditEntry
	if err := e.store.DB(ctx).Where("action = ? AND entity_id = ?", "api_token.revoke", tok.ID).Take(&audit).Error; err != nil ||
		!strings.Contains(audit.Detail, "creator boss@example.com is no longer an admin") {
		t.Fatalf("revocation audit %+v %v", audit, err)
	}

	other, err := e.clinic.GetUserByEmail(ctx, "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	plain2, _, err := e.api.Tokens().Create(ctx, models.Actor{UserID: &other.ID, Name: other.Email}, "other's sync")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.DB(ctx).Model(&models.User{}).Where("id = ?", other.ID).Update("role", models.RoleStaff).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := e.api.Tokens().Authenticate(ctx, plain2); !errors.Is(err, api.ErrCreatorDisabled) {
		t.Fatalf("authenticate: %v, want ErrCreatorDisabled", err)
	}
	r = e.do(http.MethodGet, "/api/v1/patients", "", withToken(plain2))
	if _, _, msg := r.errorOf(t); r.status != http.StatusUnauthorized || !strings.Contains(msg, "no longer an admin") {
		t.Fatalf("creator demoted: %d %q", r.status, msg)
	}
}
