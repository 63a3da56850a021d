package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

// cmdTokenCreate makes a REST API token and prints it on stdout, alone on
// its line, so scripts can capture it; what it is goes to stderr. Only the
// token's hash is stored: it cannot be shown again.
func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("token create", stderr)
	name := fs.String("name", "", "what the token is for, like \"PMS sync\" (the audit log shows api:NAME)")
	scope := fs.String("scope", models.ScopeReadWrite, "read (GET only) or read_write")
	expires := fs.String("expires", "", "when the token stops working: a duration such as 90d or 720h, or a date such as 2027-01-31 (UTC, end of day); empty = never")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *name == "" {
		return usageError{errors.New("--name is required")}
	}
	if !models.ValidScope(*scope) {
		return usageError{fmt.Errorf("--scope: want %s or %s, got %q", models.ScopeRead, models.ScopeReadWrite, *scope)}
	}
	now := time.Now()
	var expiresAt *time.Time
	if *expires != "" {
		at, err := parseExpiry(*expires, now)
		if err != nil {
			return usageError{fmt.Errorf("--expires: %w", err)}
		}
		expiresAt = &at
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	store, err := models.Open(models.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN, SQLiteSynchronous: cfg.Database.SQLiteSynchronous})
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	if cfg.Database.AutoMigrate {
		if _, err := store.Migrate(ctx); err != nil {
			return err
		}
	} else if err := store.CheckSchema(ctx); err != nil {
		return err
	}
	plain, tok, err := api.NewTokens(store, func() time.Time { return now }).CreateWith(ctx, models.Actor{Name: "cli"},
		api.TokenInput{Name: *name, Scope: *scope, ExpiresAt: expiresAt})
	if fe, ok := models.AsFieldErrors(err); ok {
		flags := map[string]string{"name": "--name", "scope": "--scope", "expires_at": "--expires"}
		for _, k := range []string{"name", "scope", "expires_at"} {
			if m, ok := fe[k]; ok {
				return usageError{fmt.Errorf("%s: %s", flags[k], m)}
			}
		}
		return usageError{fe}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, plain)
	what := "read and write"
	if tok.Scope == models.ScopeRead {
		what = "read only"
	}
	until := "never expires"
	if tok.ExpiresAt != nil {
		until = "expires " + tok.ExpiresAt.UTC().Format("2006-01-02 15:04 MST")
	}
	fmt.Fprintf(stderr, "created API token %q (id %d, %s…, %s, %s); it is shown once: store it now\n", tok.Name, tok.ID, tok.Prefix, what, until)
	return nil
}

// parseExpiry reads --expires: a number of days ("90d"), a Go duration
// ("720h") or a date ("2027-01-31", the end of that day in UTC).
func parseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return time.Time{}, fmt.Errorf("want a positive number of days such as 90d, got %q", s)
		}
		return now.Add(time.Duration(n) * 24 * time.Hour), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("want a positive duration, got %q", s)
		}
		return now.Add(d), nil
	}
	if day, err := time.Parse(time.DateOnly, s); err == nil {
		return day.Add(24 * time.Hour), nil
	}
	return time.Time{}, fmt.Errorf("want a number of days (90d), a duration (720h) or a date (2027-01-31), got %q", s)
}
