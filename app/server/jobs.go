package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"apptconfirm/app/auth"
	"apptconfirm/app/backup"
	"apptconfirm/app/jobs"
	"apptconfirm/app/retention"
	"apptconfirm/models"
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
	// JobRetention blanks texts past retention.message_text and audit
	// details past retention.audit, nightly.
	JobRetention = "retention"
	// JobOutboundPrune deletes outbound webhook deliveries finished more
	// than outboundRetention ago.
	JobOutboundPrune = "outbound_webhook_prune"
	// JobNoShowAutoMark marks the unconfirmed appointments of local days
	// that have ended as no-shows (only when no_show.auto_mark is on).
	JobNoShowAutoMark = "no_show_auto_mark"
	// JobWaitlist offers freed times to the waitlist: the first batch of
	// a time just freed, the next batch when an offer's time ran out.
	JobWaitlist = "waitlist"
	// JobAnalytics brings the analytics' per-day summary up to date: the
	// days touched by the changes recorded since its last run are counted
	// again (all of them on its first run).
	JobAnalytics = "analytics"
	// JobBackup copies a SQLite database into backup.dir, nightly (only
	// when backup.dir is set).
	JobBackup = "backup"
)

// Nightly jobs run at these times in clinic.timezone (cron specs). Both
// fall after 03:00, so a daylight-saving change (which skips or repeats an
// hour between 01:00 and 03:00 in the zones that have one) neither skips
// nor repeats them.
const (
	backupSpec    = "15 3 * * *"
	retentionSpec = "30 3 * * *"
)

// eventRetention is how long domain events are kept: long enough to debug
// what happened last week.
const eventRetention = 7 * 24 * time.Hour

// waitlistInterval is how often the waitlist job looks for freed times to
// offer: a freed time goes out to its first batch within this delay.
const waitlistInterval = 15 * time.Second

// outboundRetention is how long finished outbound webhook deliveries stay
// visible to the admin (pending ones stay until they finish).
const outboundRetention = 30 * 24 * time.Hour

// registerJobs builds the cron registry (App.Jobs) with every job: the
// dispatcher every dispatch.interval, the webhook sweep every minute, the
// hourly clean-ups, and the nightly retention and backup (at fixed times in
// clinic.timezone), all but the dispatcher on one instance at a time. Serve starts them;
// Close stops them, waiting for running jobs (in-flight sends finish and
// are recorded) before the store closes.
func (a *App) registerJobs() error {
	a.Jobs = jobs.New(jobs.Options{Logger: a.Log, Location: a.Config.Location(), Now: a.now})
	sessions := auth.NewSessionStore(a.Store)
	kept := retention.New(a.Store, retention.Options{
		MessageText: a.Config.Retention.MessageText.Duration, Audit: a.Config.Retention.Audit.Duration, Now: a.now,
	})
	type job struct {
		name string
		spec string
		run  func(context.Context) error
	}
	every := func(name string, d time.Duration, run func(context.Context) error) job {
		return job{name, jobs.Every(d), run}
	}
	list := []job{
		every(JobDispatch, a.Config.Dispatch.Interval.Duration, func(ctx context.Context) error {
			_, err := a.Dispatcher.RunOnce(ctx)
			return err
		}),
		every(JobWaitlist, waitlistInterval, a.exclusive(JobWaitlist, func(ctx context.Context) error {
			_, err := a.Waitlist.RunDue(ctx)
			return err
		})),
		every(JobAnalytics, time.Minute, a.exclusive(JobAnalytics, func(ctx context.Context) error {
			n, err := a.Analytics.RefreshDefault(ctx)
			if n > 0 {
				a.Log.Debug("analytics days counted again", slog.Int("days", n))
			}
			return err
		})),
		every(JobWebhookSweep, time.Minute, a.exclusive(JobWebhookSweep, func(ctx context.Context) error {
			_, err := a.Webhooks.Sweep(ctx)
			return err
		})),
		every(JobWebhookPrune, time.Hour, a.exclusive(JobWebhookPrune, func(ctx context.Context) error {
			n, err := a.Webhooks.Prune(ctx)
			if n > 0 {
				a.Log.Info("webhook events pruned", slog.Int64("deleted", n))
			}
			return err
		})),
		every(JobSessionCleanup, time.Hour, a.exclusive(JobSessionCleanup, func(ctx context.Context) error {
			_, err := sessions.DeleteExpired(ctx)
			return err
		})),
		every(JobEventsPrune, time.Hour, a.exclusive(JobEventsPrune, func(ctx context.Context) error {
			_, err := a.Store.PruneEvents(ctx, a.now().Add(-eventRetention))
			return err
		})),
		every(JobOutboundPrune, time.Hour, a.exclusive(JobOutboundPrune, func(ctx context.Context) error {
			_, err := a.Store.PruneWebhookDeliveries(ctx, a.now().Add(-outboundRetention))
			return err
		})),
		{JobRetention, retentionSpec, a.exclusive(JobRetention, func(ctx context.Context) error {
			r, err := kept.Run(ctx)
			if n := r.Total() + r.Audit; n > 0 {
				a.Log.Info("texts past their retention blanked", slog.Int64("messages", r.Messages), slog.Int64("replies", r.Replies),
					slog.Int64("timeline", r.Timeline), slog.Int64("webhooks", r.Webhooks), slog.Int64("audit", r.Audit))
			}
			return err
		})},
	}
	if a.Config.NoShow.AutoMark {
		// Every ten minutes, so a location's day is marked soon after its
		// own midnight, whatever its zone.
		list = append(list, every(JobNoShowAutoMark, 10*time.Minute, a.exclusive(JobNoShowAutoMark, func(ctx context.Context) error {
			n, err := a.Clinic.AutoMarkNoShows(ctx)
			if n > 0 {
				a.Log.Info("unconfirmed past appointments marked no-show", slog.Int("marked", n))
			}
			return err
		})))
	}
	nightly, err := a.nightlyBackup()
	if err != nil {
		return err
	}
	if nightly != nil {
		list = append(list, job{JobBackup, backupSpec, a.exclusive(JobBackup, func(ctx context.Context) error {
			path, err := nightly.Run(ctx)
			if err == nil {
				a.Log.Info("database backed up", slog.String("to", path))
			}
			return err
		})})
	}
	for _, j := range list {
		if err := a.Jobs.Register(j.name, j.spec, j.run); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	a.closers = append(a.closers, a.stopJobs)
	return nil
}

// nightlyBackup builds the nightly backup when backup.dir is set; on
// PostgreSQL it warns that pg_dump is the way and returns nil.
func (a *App) nightlyBackup() (*backup.Nightly, error) {
	cfg := a.Config.Backup
	if cfg.Dir == "" {
		return nil, nil
	}
	if a.Store.Driver() != models.DriverSQLite {
		a.Log.Warn("backup.dir is set, but the database is PostgreSQL: no nightly copy is taken; back it up with pg_dump (see README, Backups)",
			slog.String("key", "backup.dir"))
		return nil, nil
	}
	n, err := backup.New(a.Store, backup.Options{Dir: cfg.Dir, Keep: cfg.Keep, Now: a.now})
	if err != nil {
		return nil, fmt.Errorf("server: backup.dir: %w", err)
	}
	return n, nil
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
