package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"apptconfirm/app/auth"
	"apptconfirm/app/jobs"
	"apptconfirm/app/live"
	"apptconfirm/models"
)

// JobSessionCleanup deletes expired web sessions.
const JobSessionCleanup = "session_cleanup"

// buildLive picks the broadcaster: in-process on SQLite (one instance), and
// PostgreSQL LISTEN/NOTIFY on PostgreSQL, so that a browser connected to one
// instance sees what another instance processed.
func (a *App) buildLive() error {
	if a.Store.Driver() != models.DriverPostgres {
		a.Live = live.NewHub()
		return nil
	}
	db, err := a.Store.DB(context.Background()).DB()
	if err != nil {
		return fmt.Errorf("server: live: %w", err)
	}
	pg := live.NewPG(db, a.Config.Database.DSN, live.DefaultChannel, a.Log)
	a.Live = pg
	a.background = append(a.background, func(ctx context.Context) { _ = pg.Run(ctx) })
	return nil
}

// exclusive wraps a job that must run on one instance at a time (sweeps,
// retention): on PostgreSQL the others skip it while one holds its lock.
func (a *App) exclusive(name string, fn func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		ran, err := a.Store.RunExclusive(ctx, name, fn)
		if !ran && err == nil {
			a.Log.Debug("job skipped: another instance runs it", slog.String("job", name))
		}
		return err
	}
}

// registerSessionCleanup removes expired sessions every hour, on one instance.
func (a *App) registerSessionCleanup() error {
	sessions := auth.NewGormStore(a.Store)
	err := a.Jobs.Register(JobSessionCleanup, jobs.Every(time.Hour), a.exclusive(JobSessionCleanup, func(ctx context.Context) error {
		_, err := sessions.DeleteExpired(ctx)
		return err
	}))
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}
