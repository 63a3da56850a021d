package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

func TestTokenCreate(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "app.db")
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("database:\n  driver: sqlite\n  dsn: "+dbPath+"\n  auto_migrate: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"token", "create", "--name", "PMS sync", "--config", cfgPath}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	plain := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(plain, api.TokenPrefix) || strings.Contains(plain, "\n") {
		t.Fatalf("stdout %q: want the token alone", stdout.String())
	}
	if !strings.Contains(stderr.String(), "shown once") {
		t.Errorf("stderr %q", stderr.String())
	}

	store, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	tok, err := api.NewTokens(store, nil).Authenticate(ctx, plain)
	if err != nil {
		t.Fatalf("the printed token does not authenticate: %v", err)
	}
	if tok.Name != "PMS sync" {
		t.Errorf("name %q", tok.Name)
	}

	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no name", []string{"token", "create", "--config", cfgPath}, 2, "--name is required"},
		{"same name again", []string{"token", "create", "--name", "PMS sync", "--config", cfgPath}, 2, "already used"},
		{"stray argument", []string{"token", "create", "--name", "x", "--config", cfgPath, "extra"}, 2, "unexpected argument"},
		{"unknown flag", []string{"token", "create", "--colour", "red"}, 2, "colour"},
		{"unknown token subcommand", []string{"token", "delete"}, 2, "unknown command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if got := run(ctx, c.args, strings.NewReader(""), &out, &errOut); got != c.code {
				t.Fatalf("exit %d, want %d: %s", got, c.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), c.msg) || out.Len() != 0 {
				t.Errorf("stderr %q stdout %q, want stderr with %q", errOut.String(), out.String(), c.msg)
			}
		})
	}

	var help bytes.Buffer
	run(ctx, []string{"help"}, strings.NewReader(""), &help, &help)
	if !strings.Contains(help.String(), "token create") {
		t.Error("usage does not list token create")
	}
}

// --scope and --expires make a read-only token that stops working at its
// expiry; bad values are refused with the flag named.
func TestTokenCreateScopeAndExpiry(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "app.db")
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("database:\n  driver: sqlite\n  dsn: "+dbPath+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"token", "create", "--name", "reports", "--scope", "read", "--expires", "30d", "--config", cfgPath}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "read only") || !strings.Contains(stderr.String(), "expires 20") {
		t.Errorf("stderr %q", stderr.String())
	}
	store, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	plain := strings.TrimSpace(stdout.String())
	tok, err := api.NewTokens(store, nil).Authenticate(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Scope != models.ScopeRead || tok.ExpiresAt == nil {
		t.Fatalf("token %+v", tok)
	}
	if d := time.Until(*tok.ExpiresAt); d < 29*24*time.Hour || d > 30*24*time.Hour {
		t.Fatalf("expires in %s, want 30 days", d)
	}
	later := func() time.Time { return tok.ExpiresAt.Add(time.Second) }
	if _, err := api.NewTokens(store, later).Authenticate(ctx, plain); !errors.Is(err, api.ErrExpiredToken) {
		t.Fatalf("after its expiry: %v", err)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--scope", "admin"}, "--scope: want read or read_write"},
		{[]string{"--expires", "soon"}, "--expires: want a number of days"},
		{[]string{"--expires", "-3d"}, "--expires: want a positive number of days"},
		{[]string{"--expires", "2001-01-01"}, "--expires: must be in the future"},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"token", "create", "--name", "x", "--config", cfgPath}, c.args...)
		if code := run(ctx, args, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 with %q", c.args, code, errOut.String(), c.msg)
		}
	}
	// A date means the end of that day, in UTC.
	at, err := parseExpiry("2031-05-04", time.Now())
	if err != nil || !at.Equal(time.Date(2031, 5, 5, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("parseExpiry(date) = %v, %v", at, err)
	}
}
