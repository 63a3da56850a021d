package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	revoked, tok, err := e.api.Tokens().Create(ctx, models.SystemActor(), "old")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.api.Tokens().Revoke(ctx, models.SystemActor(), tok.ID); err != nil {
		t.Fatal(err)
	}
	unknown := api.TokenPrefix + strings.Repeat("A", 43)
	cases := []struct {
		name   string
		header string
		want   int
		msg    string
	}{
		{"no header", "", 401, "missing bearer token"},
		{"basic scheme", "Basic dXNlcjpwYXNz", 401, "missing bearer token"},
		{"bearer without token", "Bearer ", 401, "missing bearer token"},
		{"malformed token", "Bearer hello", 401, "invalid token"},
		{"unknown token", "Bearer " + unknown, 401, "invalid token"},
		{"token with a changed letter", "Bearer " + e.token[:len(e.token)-1] + flip(e.token[len(e.token)-1]), 401, "invalid token"},
		{"revoked token", "Bearer " + revoked, 401, "revoked"},
		{"valid token", "Bearer " + e.token, 200, ""},
		{"scheme in lower case", "bearer " + e.token, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(http.MethodGet, "/api/v1/patients", "", func(r *http.Request) {
				r.Header.Del("Authorization")
				if c.header != "" {
					r.Header.Set("Authorization", c.header)
				}
			})
			if r.status != c.want {
				t.Fatalf("status %d, want %d: %s", r.status, c.want, r.body)
			}
			if r.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id on an API answer")
			}
			if c.want != 401 {
				return
			}
			code, _, msg := r.errorOf(t)
			if code != api.CodeUnauthorized || !strings.Contains(msg, c.msg) {
				t.Errorf("error %q %q, want code %q and a message with %q", code, msg, api.CodeUnauthorized, c.msg)
			}
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestRequestIDIsEchoed(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodGet, "/api/v1/patients", "", withHeader("X-Request-Id", "abc-123"))
	if got := r.header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("X-Request-Id = %q, want the client's", got)
	}
}

func TestLastUsedWrittenAtMostOncePerMinute(t *testing.T) {
	e := newEnv(t)
	lastUsed := func() *time.Time {
		t.Helper()
		var tok models.APIToken
		if err := e.store.DB(context.Background()).Where("name = ?", "test").Take(&tok).Error; err != nil {
			t.Fatal(err)
		}
		return tok.LastUsedAt
	}
	if lastUsed() != nil {
		t.Fatal("a new token has a last use")
	}
	e.decode(200, nil, http.MethodGet, "/api/v1/patients", "")
	first := lastUsed()
	if first == nil || !first.Equal(t0) {
		t.Fatalf("last used = %v, want %v", first, t0)
	}
	e.clock.Add(30 * time.Second)
	e.decode(200, nil, http.MethodGet, "/api/v1/patients", "")
	if got := lastUsed(); !got.Equal(t0) {
		t.Fatalf("last used moved to %v within a minute", got)
	}
	e.clock.Add(31 * time.Second)
	e.decode(200, nil, http.MethodGet, "/api/v1/patients", "")
	if got := lastUsed(); !got.Equal(t0.Add(61 * time.Second)) {
		t.Fatalf("last used = %v after a minute, want %v", got, t0.Add(61*time.Second))
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.api.Tokens()
	creator := models.User{Email: "admin@example.com", Name: "Admin", PasswordHash: "x", Role: models.RoleAdmin}
	if err := e.store.DB(ctx).Create(&creator).Error; err != nil {
		t.Fatal(err)
	}
	uid := creator.ID
	admin := models.Actor{UserID: &uid, Name: "admin@example.com"}

	t.Run("format and storage", func(t *testing.T) {
		plain, tok, err := tokens.Create(ctx, admin, "  PMS sync  ")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(plain, api.TokenPrefix) || len(plain) != len(api.TokenPrefix)+43 {
			t.Errorf("token %q: want %s and 43 base64url characters", plain, api.TokenPrefix)
		}
		if tok.Name != "PMS sync" || tok.Prefix != plain[:api.VisiblePrefixLen] || tok.Hash != api.HashToken(plain) {
			t.Errorf("stored %+v", tok)
		}
		if tok.CreatedByID == nil || *tok.CreatedByID != uid {
			t.Errorf("created by %v, want %d", tok.CreatedByID, uid)
		}
		var n int64
		e.store.DB(ctx).Model(&models.APIToken{}).Where("hash = ? OR prefix = ? OR name = ?", plain, plain, plain).Count(&n)
		if n != 0 {
			t.Error("the token itself is stored")
		}
		var audit models.AuditEntry
		if err := e.store.DB(ctx).Where("action = ? AND entity_id = ?", "api_token.create", tok.ID).Take(&audit).Error; err != nil {
			t.Fatalf("no audit row: %v", err)
		}
		if strings.Contains(audit.Detail, plain) {
			t.Error("the audit log holds the token")
		}
		got, err := tokens.Authenticate(ctx, plain)
		if err != nil || got.ID != tok.ID {
			t.Fatalf("authenticate: %v, %v", got, err)
		}
	})

	t.Run("two tokens differ", func(t *testing.T) {
		a, _, err := tokens.Create(ctx, admin, "a")
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := tokens.Create(ctx, admin, "b")
		if err != nil {
			t.Fatal(err)
		}
		if a == b {
			t.Fatal("two tokens are equal")
		}
	})

	for _, c := range []struct{ name, in, msg string }{
		{"empty", "  ", "required"},
		{"too long", strings.Repeat("x", api.MaxTokenName+1), "at most"},
		{"control character", "a\x00b", "control"},
		{"duplicate of an active token", "test", "already used"},
	} {
		t.Run("refuses "+c.name, func(t *testing.T) {
			_, _, err := tokens.Create(ctx, admin, c.in)
			fe, ok := models.AsFieldErrors(err)
			if !ok || !strings.Contains(fe["name"], c.msg) {
				t.Fatalf("err = %v, want a name error with %q", err, c.msg)
			}
		})
	}

	t.Run("revoke", func(t *testing.T) {
		plain, tok, err := tokens.Create(ctx, admin, "to revoke")
		if err != nil {
			t.Fatal(err)
		}
		r1, err := tokens.Revoke(ctx, admin, tok.ID)
		if err != nil || r1.RevokedAt == nil {
			t.Fatalf("revoke: %+v %v", r1, err)
		}
		e.clock.Add(time.Minute)
		r2, err := tokens.Revoke(ctx, admin, tok.ID)
		if err != nil || !r2.RevokedAt.Equal(*r1.RevokedAt) {
			t.Fatalf("revoking twice changed the time: %v %v", r2.RevokedAt, err)
		}
		if _, err := tokens.Authenticate(ctx, plain); !errors.Is(err, api.ErrRevokedToken) {
			t.Fatalf("authenticate a revoked token: %v", err)
		}
		// The name is free again once its token is revoked.
		if _, _, err := tokens.Create(ctx, admin, "to revoke"); err != nil {
			t.Fatalf("reuse the name of a revoked token: %v", err)
		}
		var n int64
		e.store.DB(ctx).Model(&models.AuditEntry{}).Where("action = ? AND entity_id = ?", "api_token.revoke", tok.ID).Count(&n)
		if n != 1 {
			t.Errorf("%d revoke audit rows, want 1", n)
		}
		if _, err := tokens.Revoke(ctx, admin, 9999); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("revoke unknown: %v", err)
		}
	})

	t.Run("list newest first", func(t *testing.T) {
		ts, err := tokens.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) < 2 || ts[0].ID < ts[len(ts)-1].ID {
			t.Fatalf("list order: %+v", ts)
		}
	})
}
