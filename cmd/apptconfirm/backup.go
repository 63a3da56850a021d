package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"apptconfirm/app/config"
	"apptconfirm/models"
)

// pgDumpHelp says how to back up and restore a PostgreSQL database, which
// its own tools do better than apptconfirm could.
const pgDumpHelp = `The database is PostgreSQL: back it up with its own tools, which take a
consistent copy while apptconfirm keeps running:

  pg_dump --format=custom --file=apptconfirm.dump "$APPTCONFIRM_DATABASE_DSN"

and put a copy back (with every apptconfirm instance stopped) with:

  pg_restore --clean --if-exists --no-owner --dbname="$APPTCONFIRM_DATABASE_DSN" apptconfirm.dump

See the README, section Backups.
`

// cmdBackup writes a consistent copy of the SQLite database to --to while
// the server may be running.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags, cfgPath := newFlags("backup", stderr)
	to := flags.String("to", "", "the file to write the copy to (it must not exist, unless --force)")
	force := flags.Bool("force", false, "replace an existing file at --to")
	if err := flags.Parse(args); err != nil {
		return usageError{err}
	}
	if flags.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", flags.Arg(0))}
	}
	if *to == "" {
		return usageError{errors.New("--to is required")}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if cfg.Database.Driver == models.DriverPostgres {
		fmt.Fprint(stderr, pgDumpHelp)
		return errors.New("no copy made: use pg_dump")
	}
	path, err := sqlitePath(cfg)
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("database.dsn: %w", err)
	}
	store, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: cfg.Database.DSN, SQLiteSynchronous: cfg.Database.SQLiteSynchronous})
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	version, err := store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if err := store.Backup(ctx, *to, models.BackupOptions{Overwrite: *force}); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageError{fmt.Errorf("--to: %s already exists; choose another file or add --force", *to)}
		}
		return err
	}
	info, err := os.Stat(*to)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes, schema version %d)\n", path, *to, info.Size(), version)
	return nil
}

// cmdRestore puts a copy made by backup in place of the SQLite database,
// refusing while a server runs on it and refusing a file that is not an
// apptconfirm database of a schema version this build knows.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags, cfgPath := newFlags("restore", stderr)
	from := flags.String("from", "", "the copy to restore (a file written by apptconfirm backup)")
	if err := flags.Parse(args); err != nil {
		return usageError{err}
	}
	if flags.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", flags.Arg(0))}
	}
	if *from == "" {
		return usageError{errors.New("--from is required")}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if cfg.Database.Driver == models.DriverPostgres {
		fmt.Fprint(stderr, pgDumpHelp)
		return errors.New("nothing restored: use pg_restore")
	}
	path, err := sqlitePath(cfg)
	if err != nil {
		return err
	}
	if err := models.Restore(ctx, *from, path); err != nil {
		switch {
		case errors.Is(err, models.ErrDatabaseInUse):
			return fmt.Errorf("%s is in use by a running server: stop every apptconfirm process on it, then restore", path)
		case errors.Is(err, models.ErrNotApptconfirm), errors.Is(err, models.ErrUnknownSchema), errors.Is(err, fs.ErrNotExist):
			return usageError{fmt.Errorf("--from: %w", err)}
		}
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s; start the server (it migrates the copy when auto_migrate is on, else run apptconfirm migrate first)\n", path, *from)
	return nil
}

// sqlitePath is the file of the SQLite database database.dsn names (a path,
// or a file: URI).
func sqlitePath(cfg config.Config) (string, error) {
	dsn := cfg.Database.DSN
	if !strings.HasPrefix(dsn, "file:") {
		return dsn, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("database.dsn: %w", err)
	}
	p := u.Opaque
	if p == "" {
		p = u.Path
	}
	if p == "" || p == ":memory:" || u.Query().Get("mode") == "memory" {
		return "", errors.New("database.dsn names no database file")
	}
	return url.PathUnescape(p)
}
