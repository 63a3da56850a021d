package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"apptconfirm/app/dispatch"
	"apptconfirm/app/jobs"
	"apptconfirm/app/reminders"
	"apptconfirm/app/schedule"
)

// JobDispatch is the name of the cron job that sends due messages.
const JobDispatch = "dispatch"

// DispatchKicker passes kicks on to the dispatcher once it is built: the
// webhook processor and the inbox are built before the SMS.CX client the
// dispatcher needs. Kicks before that are dropped (the first run sends
// everything due anyway).
type DispatchKicker struct {
	d atomic.Pointer[dispatch.Dispatcher]
}

// Kick asks the dispatcher for a run soon; it never blocks.
func (k *DispatchKicker) Kick() {
	if d := k.d.Load(); d != nil {
		d.Kick()
	}
}

// buildReminders builds the planner (App.Reminders) and makes it the
// clinic's: every appointment, patient and location change replans inside
// its transaction. Call it before the web UI is built.
func (a *App) buildReminders() {
	cfg := a.Config.Reminders
	a.Kicker = &DispatchKicker{}
	a.Reminders = reminders.New(a.Store, reminders.Options{
		Caps:                schedule.Caps{PerDay: cfg.CapPerDay, PerWeek: cfg.CapPerWeek},
		BookingConfirmation: cfg.BookingConfirmation,
		CancellationNotice:  cfg.CancellationNotice,
		Publisher:           a.Live,
		Now:                 a.now,
		Logger:              a.Log,
	})
	a.Reminders.SetKicker(a.Kicker.Kick)
	a.Clinic.SetPlanner(a.Reminders)
}

// buildDispatch builds the dispatcher on the SMS.CX client (App.SMS, so
// after buildSMSCX), gives "Tomorrow's sends" its buttons, creates the
// cron registry (App.Jobs) and registers the dispatch job every
// dispatch.interval. Serve starts the jobs and the dispatcher's kick loop
// (startJobs); Close stops them, waiting for running jobs (in-flight sends
// finish and are recorded) before the store closes.
func (a *App) buildDispatch() error {
	cfg := a.Config
	d, err := dispatch.New(a.Store, dispatch.Options{
		Sender:      a.SMS,
		From:        cfg.SMSCX.Sender,
		CallbackURL: a.WebhookURL(),
		Concurrency: cfg.Dispatch.Concurrency,
		BatchSize:   cfg.Dispatch.BatchSize,
		MaxAttempts: cfg.Dispatch.MaxAttempts,
		Lease:       cfg.Dispatch.Lease.Duration,
		BackoffBase: cfg.Dispatch.BackoffBase.Duration,
		BackoffMax:  cfg.Dispatch.BackoffMax.Duration,
		SendTimeout: cfg.SMSCX.Timeout.Duration,
		OptOut:      a.Clinic,
		Publisher:   a.Live,
		Metrics:     a.Metrics,
		Logger:      a.Log,
		Now:         a.now,
	})
	if err != nil {
		return fmt.Errorf("server: dispatch: %w", err)
	}
	a.Dispatcher = d
	a.Kicker.d.Store(d)
	a.Web.EnableSends(d)
	a.Jobs = jobs.New(jobs.Options{Logger: a.Log})
	err = a.Jobs.Register(JobDispatch, jobs.Every(cfg.Dispatch.Interval.Duration), func(ctx context.Context) error {
		_, err := d.RunOnce(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	a.closers = append(a.closers, a.stopJobs)
	return nil
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
