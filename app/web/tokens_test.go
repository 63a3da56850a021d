package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

var newTokenRE = regexp.MustCompile(`<pre class="sms" id="new-token">(ac_[A-Za-z0-9_-]+)</pre>`)

func TestTokenPages(t *testing.T) {
	a := newTestApp(t)
	a.addUser("admin@example.com", models.RoleAdmin)
	b := a.browser()
	b.login("admin@example.com")
	ctx := context.Background()
	tokens := api.NewTokens(a.store, func() time.Time { return a.now })

	status, body := b.get("/admin/tokens")
	if status != 200 || !strings.Contains(body, "No tokens yet") {
		t.Fatalf("empty list: status %d", status)
	}

	// Create: the token is shown once, in this answer only.
	resp, body := b.post("/admin/tokens", url.Values{"name": {"PMS sync"}, "scope": {"read_write"}})
	if resp.StatusCode != 200 {
		t.Fatalf("create: status %d", resp.StatusCode)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on the page with the token", cc)
	}
	m := newTokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no token on the page:\n%s", body)
	}
	plain := m[1]
	tok, err := tokens.Authenticate(ctx, plain)
	if err != nil {
		t.Fatalf("the shown token does not authenticate: %v", err)
	}
	if tok.Name != "PMS sync" || tok.CreatedByID == nil {
		t.Errorf("token %+v", tok)
	}
	var audit models.AuditEntry
	if err := a.store.DB(ctx).Where("action = ?", "api_token.create").Take(&audit).Error; err != nil || audit.Actor != "admin@example.com" {
		t.Errorf("audit %+v %v", audit, err)
	}

	// The list shows the prefix, never the token again.
	_, body = b.get("/admin/tokens")
	if strings.Contains(body, plain) {
		t.Fatal("the list shows the whole token")
	}
	if !strings.Contains(body, tok.Prefix+"…") || !strings.Contains(body, "PMS sync") || !strings.Contains(body, "never") {
		t.Errorf("list lacks the token's row:\n%s", body)
	}

	// Bad input is refused with the field named, by its label.
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {"  "}, "scope": {"read"}}, "Name is required."},
		{url.Values{"name": {"PMS sync"}, "scope": {"read_write"}}, "Name is already used by another active token."},
		{url.Values{"name": {"no scope"}}, "Access must be read"},
		{url.Values{"name": {"odd scope"}, "scope": {"admin"}}, "Access must be read"},
		{url.Values{"name": {"odd expiry"}, "scope": {"read"}, "expires_in_days": {"9999"}}, "Choose one of the offered expiries."},
	} {
		resp, body := b.post("/admin/tokens", tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Please correct the fields marked below.") || !strings.Contains(body, tc.want) {
			t.Errorf("%v: status %d, want the error %q in:\n%s", tc.form, resp.StatusCode, tc.want, body)
		}
	}

	// A read-only token expiring in 30 days.
	resp, body = b.post("/admin/tokens", url.Values{"name": {"Reports"}, "scope": {"read"}, "expires_in_days": {"30"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "It may only read") {
		t.Fatalf("read-only token: status %d", resp.StatusCode)
	}
	ro, err := tokens.Authenticate(ctx, newTokenRE.FindStringSubmatch(body)[1])
	if err != nil || ro.Scope != models.ScopeRead || ro.ExpiresAt == nil || !ro.ExpiresAt.Equal(a.now.Add(30*24*time.Hour)) {
		t.Fatalf("read-only token: %+v %v", ro, err)
	}
	_, body = b.get("/admin/tokens")
	if !strings.Contains(body, "read only") || !strings.Contains(body, "1 Apr 2026 09:00 UTC") {
		t.Errorf("list lacks the read-only token's access and expiry:\n%s", body)
	}

	// Revoke.
	resp, _ = b.post(revokePath(tok.ID), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/tokens" {
		t.Fatalf("revoke: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := tokens.Authenticate(ctx, plain); !errors.Is(err, api.ErrRevokedToken) {
		t.Errorf("after revoke: %v", err)
	}
	_, body = b.get("/admin/tokens")
	if !strings.Contains(body, "revoked") || !strings.Contains(body, "Token PMS sync revoked") {
		t.Errorf("list after revoke:\n%s", body)
	}
	for _, p := range []string{"/admin/tokens/9999/revoke", "/admin/tokens/abc/revoke"} {
		if resp, _ := b.post(p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d", p, resp.StatusCode)
		}
	}
}

func TestTokenPagesRefuseStaffAndForgery(t *testing.T) {
	a := newTestApp(t)
	a.addUser("staff@example.com", models.RoleStaff)
	a.addUser("admin@example.com", models.RoleAdmin)
	tokens := api.NewTokens(a.store, nil)
	_, tok, err := tokens.Create(context.Background(), models.SystemActor(), "existing")
	if err != nil {
		t.Fatal(err)
	}

	staff := a.browser()
	staff.login("staff@example.com")
	for _, c := range []struct {
		method, path string
	}{
		{http.MethodGet, "/admin/tokens"},
		{http.MethodPost, "/admin/tokens"},
		{http.MethodPost, revokePath(tok.ID)},
	} {
		t.Run("staff "+c.method+" "+c.path, func(t *testing.T) {
			var code int
			if c.method == http.MethodGet {
				code, _ = staff.get(c.path)
			} else {
				resp, _ := staff.post(c.path, url.Values{"name": {"sneaky"}})
				code = resp.StatusCode
			}
			if code != http.StatusForbidden {
				t.Errorf("status %d, want 403", code)
			}
		})
	}

	admin := a.browser()
	admin.login("admin@example.com")
	admin.get("/admin/tokens")
	resp, _ := admin.post("/admin/tokens", url.Values{"name": {"forged"}, "csrf_token": {"wrong"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("create without the CSRF token: status %d", resp.StatusCode)
	}
	resp, _ = admin.post(revokePath(tok.ID), url.Values{"csrf_token": {"wrong"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("revoke without the CSRF token: status %d", resp.StatusCode)
	}
	ts, err := tokens.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || ts[0].RevokedAt != nil {
		t.Errorf("refused requests changed the tokens: %+v", ts)
	}

	anon := a.browser()
	if code, _ := anon.get("/admin/tokens"); code != http.StatusSeeOther {
		t.Errorf("logged out: status %d, want a redirect to the login", code)
	}
}

func revokePath(id uint) string {
	return "/admin/tokens/" + strconv.FormatUint(uint64(id), 10) + "/revoke"
}
