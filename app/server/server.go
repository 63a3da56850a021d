// Package server wires apptconfirm together: it opens the store, builds every
// service and the HTTP handler, runs the scheduler, and shuts all of it down
// in order. cmd/apptconfirm and the end-to-end tests both start the app here.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/app/auth"
	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/app/dispatch"
	"apptconfirm/app/inbox"
	"apptconfirm/app/jobs"
	"apptconfirm/app/live"
	"apptconfirm/app/metrics"
	"apptconfirm/app/reminders"
	"apptconfirm/app/simulator"
	"apptconfirm/app/smscx"
	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/app/web"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/static"
	"apptconfirm/templates"
)

// App is a running apptconfirm.
type App struct {
	Config config.Config
	Store  *models.Store
	Log    *slog.Logger
	Clinic *clinic.Service
	Web    *web.Server
	Hasher *auth.Hasher
	// Live carries changes (webhooks, dispatch) to the browsers watching
	// (GET /events); give it to whatever publishes.
	Live live.Broadcaster
	// Metrics is the Prometheus registry served at /metrics; pass it to
	// whatever records (dispatch, webhooks). Its methods are nil-safe.
	Metrics *metrics.Metrics
	// API is the REST API under /api/v1 with /healthz, /readyz and /metrics.
	API *api.API
	// Reminders plans every appointment's messages (it is the clinic's
	// planner) and serves the rule editor; Dispatcher sends due messages;
	// Jobs is the cron registry Serve runs (register other jobs on it).
	Reminders  *reminders.Service
	Dispatcher *dispatch.Dispatcher
	Jobs       *jobs.Registry
	// Kicker asks the dispatcher for a run soon; give it to whatever
	// queues an SMS that should go out at once. Usable before the
	// dispatcher is built.
	Kicker *DispatchKicker

	// WebhookSecret is the path secret of the webhook URL in use.
	WebhookSecret string
	// Webhooks applies stored SMS.CX callbacks (Serve runs it); its
	// ProcessPending and Prune are the webhook sweeps for a cron job.
	Webhooks *webhook.Processor
	// Inbox is the staff inbox of replies that need a human.
	Inbox *inbox.Service
	// background loops run while Serve does (webhook processing).
	background []func(context.Context)

	// SMS is the SMS.CX client: the real API in live mode, the in-process
	// simulator in simulate mode. The dispatcher sends through it.
	SMS *smscx.Client
	// Simulator is simulate mode's fake gateway (mounted under
	// /_simulator/smscx); nil in live mode.
	Simulator *smscxtest.Server
	simulator *simulator.Simulator

	handler http.Handler
	now     func() time.Time
	closers []func(context.Context) error
}

// Options adjust Build for tests and for the demo command.
type Options struct {
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// HashCost is the bcrypt cost; 0 is 12.
	HashCost int
}

// Build opens the store, checks (or applies) migrations and builds every
// part of the app. It starts nothing: Run does.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*App, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HashCost == 0 {
		opts.HashCost = 12
	}
	store, err := models.Open(models.Options{
		Driver: cfg.Database.Driver, DSN: cfg.Database.DSN, MaxOpenConns: cfg.DatabaseMaxOpenConns(),
		SQLiteSynchronous: cfg.Database.SQLiteSynchronous,
	})
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Store: store, Log: log, now: opts.Now}
	a.closers = append(a.closers, func(context.Context) error { return store.Close() })
	if err := a.prepareSchema(ctx); err != nil {
		_ = store.Close()
		return nil, err
	}
	if err := a.build(ctx, opts); err != nil {
		_ = a.Close(ctx)
		return nil, err
	}
	return a, nil
}

func (a *App) prepareSchema(ctx context.Context) error {
	if a.Config.Database.AutoMigrate {
		n, err := a.Store.Migrate(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			a.Log.Info("database migrated", slog.Int("applied", n), slog.Int("version", models.LatestVersion()))
		}
		return nil
	}
	return a.Store.CheckSchema(ctx)
}

func (a *App) build(ctx context.Context, opts Options) error {
	cfg := a.Config
	a.Hasher = auth.NewHasher(opts.HashCost)
	if err := a.buildLive(); err != nil {
		return err
	}
	a.Clinic = clinic.New(a.Store, nil, a.now)
	a.Clinic.SetPasswordHasher(a.Hasher)
	a.buildReminders()
	a.Metrics = metrics.New(metrics.Options{Inbox: metrics.InboxSize(a.Store), Logger: a.Log})
	if err := a.Clinic.EnsureDefaults(ctx, Defaults(cfg)); err != nil {
		return fmt.Errorf("server: defaults: %w", err)
	}
	secret, err := a.Clinic.WebhookSecret(ctx, cfg.SMSCX.WebhookSecret)
	if err != nil {
		return fmt.Errorf("server: webhook secret: %w", err)
	}
	a.WebhookSecret = secret

	sessions := auth.NewSessions(a.Store, auth.SessionOptions{Lifetime: cfg.Server.SessionLifetime.Duration, Secure: cfg.CookieSecure()})
	w, err := web.New(web.Options{
		ClinicName:     cfg.Clinic.Name,
		TrustedProxies: cfg.Server.TrustedProxies,
		Simulating:     cfg.SMSCXMode() == config.ModeSimulate,
		TLS:            strings.HasPrefix(cfg.Server.PublicURL, "https://"),
	}, web.Deps{
		Store:     a.Store,
		Sessions:  sessions,
		Hasher:    a.Hasher,
		Limiter:   auth.NewLoginLimiter(15*time.Minute, 5, 50, a.now),
		Templates: templates.FS,
		Static:    static.FS,
		Logger:    a.Log,
		Now:       a.now,
		Clinic:    a.Clinic,
		Live:      a.Live,
		Reminders: a.Reminders,
	})
	if err != nil {
		return err
	}
	a.Web = w
	a.API = api.New(api.Deps{Store: a.Store, Clinic: a.Clinic, Metrics: a.Metrics, Logger: a.Log, Now: a.now})
	a.API.Register(w.Engine())
	a.API.RegisterOperations(w.Engine())
	if err := a.buildWebhooks(); err != nil {
		return err
	}
	if err := a.buildSMSCX(); err != nil {
		return err
	}
	if err := a.buildDispatch(); err != nil {
		return err
	}
	if err := a.registerWebhookJobs(); err != nil {
		return err
	}
	if err := a.registerSessionCleanup(); err != nil {
		return err
	}
	a.handler = w.Handler()
	return nil
}

// Defaults turns the configuration into the clinic's first-start defaults.
func Defaults(cfg config.Config) clinic.Defaults {
	d := clinic.Defaults{
		ClinicName: cfg.Clinic.Name,
		Timezone:   cfg.Clinic.Timezone,
		Country:    cfg.Clinic.Country,
		Address:    cfg.Clinic.Address,
		Phone:      cfg.Clinic.Phone,
		QuietStart: cfg.Reminders.QuietHours.Start,
		QuietEnd:   cfg.Reminders.QuietHours.End,
	}
	for _, r := range cfg.Reminders.Rules {
		d.Rules = append(d.Rules, clinic.RuleDefault{Name: r.Name, Before: r.Before.Duration, Template: r.Template, OnlyIfUnconfirmed: r.OnlyIfUnconfirmed})
	}
	return d
}

// Handler is the app's complete HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// WebhookURL is the URL SMS.CX posts to.
func (a *App) WebhookURL() string { return a.Config.WebhookURL(a.WebhookSecret) }

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully: the
// listener closes, in-flight requests finish (bounded by
// server.shutdown_timeout), background work stops, the store closes.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	cfg := a.Config.Server
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout.Duration,
		ReadTimeout:       cfg.ReadTimeout.Duration,
		WriteTimeout:      cfg.WriteTimeout.Duration,
		IdleTimeout:       cfg.IdleTimeout.Duration,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Event streams never go idle by themselves: end them when shutdown starts.
	srv.RegisterOnShutdown(a.Web.StopStreams)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.startJobs()
	stopBackground := a.startBackground(ctx)
	a.Log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("public_url", a.Config.Server.PublicURL))
	select {
	case err := <-errc:
		stopBackground()
		_ = a.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout.Duration)
	defer cancel()
	err := srv.Shutdown(sctx)
	stopBackground() // after in-flight webhook writes, before the store closes
	if cerr := a.Close(sctx); err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close stops background work and closes the store, last started first.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}
