package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"apptconfirm/app/backup"
	"apptconfirm/app/config"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// The nightly jobs are registered: retention always, the backup when
// backup.dir is set on SQLite (and run once here, it writes a copy); on
// PostgreSQL backup.dir takes no copy.
func TestNightlyJobsRegistered(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "nightly")
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "app.db")
	cfg.Backup.Dir, cfg.Backup.Keep = dir, 2
	a, err := Build(ctx, cfg, slog.New(slog.DiscardHandler), Options{HashCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	names := a.Jobs.Names()
	if !slices.Contains(names, JobRetention) || !slices.Contains(names, JobBackup) {
		t.Fatalf("jobs %v", names)
	}
	if err := a.Jobs.RunOnce(ctx, JobBackup); err != nil {
		t.Fatal(err)
	}
	if copies, err := backup.Copies(dir); err != nil || len(copies) != 1 {
		t.Fatalf("copies %v, %v", copies, err)
	}
	if err := a.Jobs.RunOnce(ctx, JobRetention); err != nil {
		t.Fatal(err)
	}

	pg := config.Default()
	pg.Database.Driver, pg.Database.DSN = models.DriverPostgres, storetest.PostgresDSN(t)
	pg.Backup.Dir = dir
	b, err := Build(ctx, pg, slog.New(slog.DiscardHandler), Options{HashCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	if slices.Contains(b.Jobs.Names(), JobBackup) || !slices.Contains(b.Jobs.Names(), JobRetention) {
		t.Fatalf("jobs on PostgreSQL %v", b.Jobs.Names())
	}
}
