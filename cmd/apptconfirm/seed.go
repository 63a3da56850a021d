package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"apptconfirm/app/seed"
	"apptconfirm/app/server"
)

// cmdSeed fills the configured database with synthetic appointments for
// benchmarks and load tests (never for a clinic's real database: the rows
// are fiction).
func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("seed", stderr)
	count := fs.Int("count", 10000, "how many appointments to insert")
	batch := fs.Int("batch", seed.DefaultBatch, "appointments per transaction")
	locations := fs.Int("locations", 3, "how many locations to spread them over (missing ones are created)")
	rngSeed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (the same seed gives the same data)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *count < 1 || *batch < 1 || *locations < 1 {
		return usageError{fmt.Errorf("--count, --batch and --locations must be positive")}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	// Build migrates (when database.auto_migrate is set) or checks the
	// schema, and creates the default location and rules on first start.
	app, err := server.Build(ctx, cfg, newLogger(cfg, stderr), server.Options{})
	if err != nil {
		return err
	}
	defer func() { _ = app.Close(ctx) }()
	res, err := seed.Run(ctx, app.Store, seed.Options{
		Count: *count, Batch: *batch, Seed: *rngSeed, Locations: *locations, Progress: stderr,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "inserted %d appointments, %d patients, %d messages and %d replies in %s\n",
		res.Appointments, res.Patients, res.Messages, res.Replies, res.Took.Round(time.Millisecond))
	return nil
}
