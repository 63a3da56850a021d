package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

// cmdTokenCreate makes a REST API token and prints it on stdout, alone on
// its line, so scripts can capture it; what it is goes to stderr. Only the
// token's hash is stored: it cannot be shown again.
func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("token create", stderr)
	name := fs.String("name", "", "what the token is for, like \"PMS sync\" (the audit log shows api:NAME)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *name == "" {
		return usageError{errors.New("--name is required")}
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
	plain, tok, err := api.NewTokens(store, nil).Create(ctx, models.Actor{Name: "cli"}, *name)
	if fe, ok := models.AsFieldErrors(err); ok {
		return usageError{fmt.Errorf("--name: %s", fe["name"])}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, plain)
	fmt.Fprintf(stderr, "created API token %q (id %d, %s…); it is shown once: store it now\n", tok.Name, tok.ID, tok.Prefix)
	return nil
}
