package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

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

// The nightly backup runs at 03:15 on the clinic's wall clock, once a
// night, from the one scheduler, also across both daylight-saving changes;
// run on each of those nights by a clock set to its time, it names each
// copy by that time and keeps the last backup.keep.
func TestNightlyBackupAt0315KeepsTheLastCopies(t *testing.T) {
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 3, 6, 12, 0, 0, 0, ny)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	dir := filepath.Join(t.TempDir(), "nightly")
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "app.db")
	cfg.Clinic.Timezone = "America/New_York"
	cfg.Backup.Dir, cfg.Backup.Keep = dir, 3
	a, err := Build(ctx, cfg, slog.New(slog.DiscardHandler), Options{HashCost: 10, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)

	// From noon on 6 March, over the spring change (8 March), then from
	// the evening before the autumn one (1 November).
	want := []time.Time{
		time.Date(2026, 3, 7, 3, 15, 0, 0, ny),
		time.Date(2026, 3, 8, 3, 15, 0, 0, ny),
		time.Date(2026, 3, 9, 3, 15, 0, 0, ny),
		time.Date(2026, 11, 1, 3, 15, 0, 0, ny),
		time.Date(2026, 11, 2, 3, 15, 0, 0, ny),
	}
	for i, w := range want {
		if i == 3 {
			mu.Lock()
			now = time.Date(2026, 10, 31, 23, 0, 0, 0, ny)
			mu.Unlock()
		}
		next, err := a.Jobs.Next(JobBackup, clock())
		if err != nil {
			t.Fatal(err)
		}
		if !next.Equal(w) {
			t.Fatalf("night %d: next backup at %v, want %v", i+1, next.In(ny), w)
		}
		mu.Lock()
		now = next
		mu.Unlock()
		if err := a.Jobs.RunOnce(ctx, JobBackup); err != nil {
			t.Fatal(err)
		}
	}
	copies, err := backup.Copies(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range copies {
		names = append(names, filepath.Base(c))
	}
	wantNames := []string{"apptconfirm-20260309T071500Z.db", "apptconfirm-20261101T081500Z.db", "apptconfirm-20261102T081500Z.db"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("copies %v, want %v", names, wantNames)
	}
}
