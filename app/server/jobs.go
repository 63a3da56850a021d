package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"apptconfirm/app/auth"
	"apptconfirm/app/jobs"
)

// Names of the cron jobs.
const (
	// JobDispatch sends due messages.
	JobDispatch = "dispatch"
	// JobWebhookSweep applies stored webhook events left behind (after a
	// crash, or while the database was unavailable).
	JobWebhookSweep = "webhook_sweep"
	// JobWebhookPrune deletes processed webhook events older than
	// webhook.dedup_retention.
	JobWebhookPrune = "webhook_prune"
	// JobSessionCleanup deletes expired web sessions.
	JobSessionCleanup = "session_cleanup"
	// JobEventsPrune deletes domain events older than eventRetention.
	JobEventsPrune = "events_prune"
)

// eventRetention is how long domain events are kept: long enough to debug
// what happened last week.
const eventRetention = 7 * 24 * time.Hour

// registerJobs builds the cron registry (App.Jobs) with every job: the
// dispatcher every dispatch.interval, the webhook sweep every minute, and
// the hourly clean-ups, those on one instance at a time. Serve starts them;
// Close stops them, waiting for running jobs (in-flight sends finish and
// are recorded) before the store closes.
func (a *App) registerJobs() error {
	a.Jobs = jobs.New(jobs.Options{Logger: a.Log})
	sessions := auth.NewSessionStore(a.Store)
	for _, j := range []struct {
		name  string
		every time.Duration
		run   func(context.Context) error
	}{
		{JobDispatch, a.Config.Dispatch.Interval.Duration, func(ctx context.Context) error {
			_, err := a.Dispatcher.RunOnce(ctx)
			return err
		}},
		{JobWebhookSweep, time.Minute, a.exclusive(JobWebhookSweep, func(ctx context.Context) error {
			_, err := a.Webhooks.ProcessPending(ctx)
			return err
		})},
		{JobWebhookPrune, time.Hour, a.exclusive(JobWebhookPrune, func(ctx context.Context) error {
			n, err := a.Webhooks.Prune(ctx)
			if n > 0 {
				a.Log.Info("webhook events pruned", slog.Int64("deleted", n))
			}
			return err
		})},
		{JobSessionCleanup, time.Hour, a.exclusive(JobSessionCleanup, func(ctx context.Context) error {
			_, err := sessions.DeleteExpired(ctx)
			return err
		})},
		{JobEventsPrune, time.Hour, a.exclusive(JobEventsPrune, func(ctx context.Context) error {
			_, err := a.Store.PruneEvents(ctx, a.now().Add(-eventRetention))
			return err
		})},
	} {
		if err := a.Jobs.Register(j.name, jobs.Every(j.every), j.run); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	a.closers = append(a.closers, a.stopJobs)
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

// startJobs starts the scheduler and the dispatcher's kick loop; Serve
// calls it once the listener is up.
func (a *App) startJobs() {
	a.Jobs.Start()
	a.Dispatcher.Start()
	a.Log.Info("jobs started", slog.Any("jobs", a.Jobs.Names()))
}

// stopJobs stops the scheduler, waiting for running jobs, and the
// dispatcher's kick loop. It is safe to call more than once.
func (a *App) stopJobs(ctx context.Context) error {
	if err := a.Jobs.Stop(ctx); err != nil {
		return err
	}
	return a.Dispatcher.Stop(ctx)
}
