// Package server builds apptconfirm, in one place and in dependency order:
// the fan-out of committed domain events, the store, the services, SMS.CX
// in and out, and the HTTP surface; then it runs the scheduler and the
// background loops, and shuts all of it down in order. cmd/apptconfirm and
// the end-to-end tests both start the app here.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"apptconfirm/app/analytics"
	"apptconfirm/app/api"
	"apptconfirm/app/auth"
	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/app/conversation"
	"apptconfirm/app/delivery"
	"apptconfirm/app/dispatch"
	"apptconfirm/app/events"
	"apptconfirm/app/exports"
	"apptconfirm/app/feeds"
	"apptconfirm/app/imports"
	"apptconfirm/app/inbox"
	"apptconfirm/app/jobs"
	"apptconfirm/app/live"
	"apptconfirm/app/metrics"
	"apptconfirm/app/outbound"
	"apptconfirm/app/outbox"
	"apptconfirm/app/patientlink"
	"apptconfirm/app/patientpage"
	"apptconfirm/app/reminders"
	"apptconfirm/app/reschedule"
	"apptconfirm/app/schedule"
	"apptconfirm/app/simulator"
	"apptconfirm/app/smscx"
	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/app/stats"
	"apptconfirm/app/waitlist"
	"apptconfirm/app/web"
	"apptconfirm/app/webhook"
	"apptconfirm/app/wording"
	"apptconfirm/models"
	"apptconfirm/static"
	"apptconfirm/templates"
)

// App is apptconfirm, built and ready to serve.
type App struct {
	Config config.Config
	Store  *models.Store
	Log    *slog.Logger

	// The services, each built on those before it.
	Outbox  *outbox.Outbox
	Clinic  *clinic.Service
	Rules   *reminders.Service
	Wording *wording.Service
	Inbox   *inbox.Service
	// Exports writes appointments out as CSV.
	Exports *exports.Service
	// Feeds serves the calendar feeds.
	Feeds *feeds.Service
	// Imports brings schedules in from CSV files.
	Imports *imports.Service
	// Availability finds free times; Reschedule handles patients' requests
	// for another time, offers of new times and picks.
	Availability *availability.Service
	Reschedule   *reschedule.Service
	// Waitlist offers freed times to waitlisted patients.
	Waitlist *waitlist.Service
	// Analytics computes the analytics; its Refresh is the analytics job.
	Analytics  *analytics.Service
	Dispatcher *dispatch.Dispatcher
	// Webhooks applies stored SMS.CX callbacks (Serve runs it); its
	// Sweep and Prune are the webhook sweeps of the cron jobs.
	Webhooks *webhook.Processor
	// Outbound manages the endpoints of outbound webhooks; OutboundWorker
	// delivers them (Serve runs it).
	Outbound       *outbound.Service
	OutboundWorker *outbound.Worker
	// Live carries changes to the browsers watching (GET /events).
	Live live.Broadcaster
	// Metrics is the Prometheus registry served at /metrics.
	Metrics *metrics.Metrics
	// Web serves the whole HTTP surface: pages, API, webhooks, operations.
	Web *web.Server
	// Jobs is the cron registry Serve runs.
	Jobs *jobs.Registry
	// Logins counts failed logins per account and client address (in
	// this process), and unlocks an account.
	Logins *auth.LoginLimiter
	hasher *auth.Hasher
	// importJobs runs the import page's files in the background.
	importJobs *imports.Jobs

	// WebhookSecret is the path secret of the webhook URL in use.
	WebhookSecret string
	// SMS is the SMS.CX client: the real API in live mode, the in-process
	// simulator in simulate mode. The dispatcher sends through it.
	SMS *smscx.Client
	// Simulator is simulate mode's fake gateway; nil in live mode.
	Simulator *smscxtest.Server
	simulator *simulator.Simulator

	// background loops run while Serve does (webhook processing, the
	// PostgreSQL listener).
	background []func(context.Context)
	now        func() time.Time
	closers    []func(context.Context) error
}

// The login limit: failed logins allowed per account and per client
// address within the window.
const (
	loginWindow      = 15 * time.Minute
	loginsPerAccount = 5
	loginsPerAddress = 50
)

// Options adjust Build for tests and for the demo command.
type Options struct {
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// HashCost is the bcrypt cost; 0 is 12.
	HashCost int
}

// Build opens the store, checks (or applies) migrations and builds every
// part of the app, each after what it depends on. It starts nothing: Serve
// does.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*App, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HashCost == 0 {
		opts.HashCost = 12
	}
	a := &App{Config: cfg, Log: log, now: opts.Now}
	if err := a.build(ctx, opts); err != nil {
		_ = a.Close(ctx)
		return nil, err
	}
	return a, nil
}

func (a *App) build(ctx context.Context, opts Options) error {
	cfg := a.Config
	// What acts on committed changes comes first: the store hands every
	// committed transaction's domain events to it.
	if err := a.buildLive(); err != nil {
		return err
	}
	trigger := dispatch.NewTrigger()
	// Outbound webhooks are queued inside each transaction, and their
	// worker woken after it commits.
	outboundWake := outbound.NewWake()
	fanout := events.New(events.Options{
		Live: a.Live, Kick: trigger, Now: a.now,
		Stagers:   []events.Stager{outbound.NewStager(a.now)},
		Notifiers: []events.Notifier{outboundWake},
	})
	store, err := models.Open(models.Options{
		Driver: cfg.Database.Driver, DSN: cfg.Database.DSN, MaxOpenConns: cfg.DatabaseMaxOpenConns(),
		SQLiteSynchronous: cfg.Database.SQLiteSynchronous, Events: fanout,
	})
	if err != nil {
		return err
	}
	a.Store = store
	a.closers = append(a.closers, func(context.Context) error { return store.Close() })
	if err := a.prepareSchema(ctx); err != nil {
		return err
	}

	// The services.
	hasher := auth.NewHasher(opts.HashCost)
	a.hasher = hasher
	a.Logins = auth.NewLoginLimiter(loginWindow, loginsPerAccount, loginsPerAddress, a.now)
	// The patient page's links: texts carry them ({link}), the page reads
	// them back.
	linkKey, err := clinic.SigningKey(ctx, store, "patient_link")
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	links, err := patientlink.New(linkKey, cfg.Server.PublicURL)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	a.Outbox = outbox.New(store, outbox.Options{
		Links:               links,
		Caps:                schedule.Caps{PerDay: cfg.Reminders.CapPerDay, PerWeek: cfg.Reminders.CapPerWeek},
		BookingConfirmation: cfg.Reminders.BookingConfirmation,
		CancellationNotice:  cfg.Reminders.CancellationNotice,
		RescheduleNotice:    cfg.Reminders.RescheduleNotice,
		NoShowFollowUp:      cfg.NoShow.FollowUp,
		MinLead:             cfg.Reminders.MinLead.Duration,
		DefaultLanguage:     cfg.Clinic.Language,
		ClinicName:          cfg.Clinic.Name,
		AnswerCaps:          outbox.AnswerCaps{Help: cfg.Replies.HelpAnswersPerDay, StopStart: cfg.Replies.StopStartAnswersPerDay},
		Now:                 a.now,
		Logger:              a.Log,
	})
	a.Availability = availability.New(store, availability.Options{Now: a.now})
	a.Clinic = clinic.New(store, clinic.Options{Planner: a.Outbox, Hasher: hasher, Slots: a.Availability, Now: a.now, Language: cfg.Clinic.Language})
	if err := a.Clinic.EnsureDefaults(ctx, Defaults(cfg)); err != nil {
		return fmt.Errorf("server: defaults: %w", err)
	}
	a.Wording = wording.New(store, a.Outbox, a.now)
	if err := a.Wording.EnsureTexts(ctx); err != nil {
		return fmt.Errorf("server: texts: %w", err)
	}
	if a.WebhookSecret, err = a.Clinic.WebhookSecret(ctx, cfg.SMSCX.WebhookSecret); err != nil {
		return fmt.Errorf("server: webhook secret: %w", err)
	}
	a.Rules = reminders.New(store, reminders.Options{Planner: a.Outbox, Texts: a.Wording, Now: a.now})
	a.Metrics = metrics.New(metrics.Options{
		Inbox: metrics.InboxSize(store), Logger: a.Log,
		OutboundQueueAge: metrics.OutboundQueueAge(store, a.now),
	})
	allowPrivate := cfg.OutboundWebhooks.AllowPrivate
	a.Outbound = outbound.New(store, outbound.Options{AllowPrivate: allowPrivate, Wake: outboundWake, Now: a.now})
	a.OutboundWorker = outbound.NewWorker(store, outbound.WorkerOptions{
		Client:      outbound.NewClient(allowPrivate, outbound.Timeout),
		Concurrency: cfg.OutboundWebhooks.Concurrency,
		Wake:        outboundWake,
		Metrics:     a.Metrics,
		Logger:      a.Log,
		Now:         a.now,
	})
	a.background = append(a.background, a.OutboundWorker.Run)
	a.Reschedule = reschedule.New(store, a.Clinic, a.Outbox, a.Availability, reschedule.Options{
		AutoOffer: cfg.Reschedule.AutoOffer, OfferTTL: cfg.Reschedule.OfferTTL.Duration, Now: a.now,
	})
	a.Inbox = inbox.New(store, a.Clinic, a.Outbox, a.Reschedule, a.now)
	patients := patientpage.New(store, links, a.Clinic, a.Reschedule, patientpage.Options{ClinicName: cfg.Clinic.Name, Now: a.now})
	a.Waitlist = waitlist.New(store, a.Clinic, a.Outbox, waitlist.Options{
		MinNotice: cfg.Waitlist.MinNotice.Duration, Batch: cfg.Waitlist.Batch, OfferTTL: cfg.Waitlist.OfferTTL.Duration,
		Now: a.now, Logger: a.Log,
	})
	replies := conversation.New(store, a.Clinic, a.Outbox, a.Reschedule, a.Waitlist, a.now)
	reports := delivery.New(store, a.Outbox, a.Clinic, a.now)

	// SMS.CX in: the receiver stores each callback, the processor hands it
	// to the service that applies it.
	traffic := webhook.NewTraffic()
	a.Webhooks, err = webhook.NewProcessor(webhook.ProcessorOptions{
		Store: store, Log: a.Log, Now: a.now, Traffic: traffic,
		Retention: cfg.Webhook.DedupRetention.Duration, Workers: cfg.Webhook.ApplyWorkers,
		Appliers: map[string]webhook.Applier{
			smscx.EventReceiveSMS:          replies,
			smscx.EventDLRUpdate:           reports,
			smscx.EventNewOptout:           reports,
			smscx.EventShortlinkHit:        reports,
			smscx.EventShortlinkHitUpdate:  reports,
			smscx.EventAttachmentHit:       reports,
			smscx.EventAttachmentHitUpdate: reports,
		},
	})
	if err != nil {
		return fmt.Errorf("server: webhooks: %w", err)
	}
	a.background = append(a.background, a.Webhooks.Run)
	receiver, err := webhook.NewReceiver(webhook.ReceiverOptions{
		Store: store, Secret: a.WebhookSecret, MaxBodyBytes: cfg.Webhook.MaxBodyBytes,
		Notifier: a.Webhooks, Traffic: traffic, Metrics: a.Metrics, Log: a.Log, Now: a.now,
	})
	if err != nil {
		return fmt.Errorf("server: webhooks: %w", err)
	}

	// SMS.CX out: the client (or the simulator), and the dispatcher.
	page, err := a.buildSMSCX(receiver)
	if err != nil {
		return err
	}
	a.Dispatcher, err = dispatch.New(store, a.Outbox, dispatch.Options{
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
		Trigger:     trigger,
		Metrics:     a.Metrics,
		Logger:      a.Log,
		Now:         a.now,
	})
	if err != nil {
		return fmt.Errorf("server: dispatch: %w", err)
	}

	// The HTTP surface.
	loginKey, err := a.Clinic.SigningKey(ctx, "login_csrf")
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	a.Imports = imports.New(store, a.Clinic)
	if store.Driver() == models.DriverSQLite {
		a.Imports = a.Imports.WithSandbox(a.importSandbox)
	}
	a.Exports = exports.New(store, outbox.Label)
	a.Feeds = feeds.New(store, cfg.Server.PublicURL, a.now)
	figures := analytics.New(store, analytics.Options{Now: a.now, TwelveHour: cfg.Clinic.TwelveHourClock()})
	a.Analytics = figures
	apiSrv := api.New(api.Deps{
		Store: store, Clinic: a.Clinic, Availability: a.Availability, Stats: stats.New(store), Texts: a.Wording, Outbound: a.Outbound, Offers: a.Reschedule, Metrics: a.Metrics, Logger: a.Log, Now: a.now,
		Imports: a.Imports, MaxImportBytes: cfg.Import.MaxBytes, Exports: a.Exports, Feeds: a.Feeds, Waitlist: a.Waitlist,
		Analytics: figures,
	})
	a.importJobs = imports.NewJobs(context.WithoutCancel(ctx), a.Imports, a.Store, a.now)
	a.closers = append(a.closers, func(context.Context) error { a.importJobs.Close(); return nil })
	a.Web, err = web.New(web.Options{
		ClinicName:         cfg.Clinic.Name,
		Clock12h:           cfg.Clinic.TwelveHourClock(),
		TrustedProxies:     cfg.Server.TrustedProxies,
		Simulating:         cfg.SMSCXMode() == config.ModeSimulate,
		TLS:                strings.HasPrefix(cfg.Server.PublicURL, "https://"),
		SecureCookies:      cfg.CookieSecure(),
		LiveStreamsPerUser: cfg.Server.LiveStreamsPerUser,
	}, web.Deps{
		Sessions:       auth.NewSessions(store, auth.SessionOptions{Lifetime: cfg.Server.SessionLifetime.Duration, Secure: cfg.CookieSecure()}),
		Hasher:         hasher,
		Limiter:        a.Logins,
		LoginKey:       loginKey,
		Templates:      templates.FS,
		Static:         static.FS,
		Logger:         a.Log,
		Now:            a.now,
		Clinic:         a.Clinic,
		Availability:   a.Availability,
		Patient:        patients,
		Stats:          stats.New(store),
		Analytics:      figures,
		Tokens:         apiSrv.Tokens(),
		Rules:          a.Rules,
		Sends:          a.Outbox,
		Sender:         a.Dispatcher,
		Texts:          a.Wording,
		Inbox:          a.Inbox,
		Offers:         a.Reschedule,
		Waitlist:       a.Waitlist,
		Outbound:       a.Outbound,
		SMSCX:          page,
		Live:           a.Live,
		API:            apiSrv,
		Imports:        a.importJobs,
		Exports:        a.Exports,
		Feeds:          a.Feeds,
		MaxImportBytes: cfg.Import.MaxBytes,
		Webhook:        receiver,
	})
	if err != nil {
		return err
	}
	return a.registerJobs()
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
		Language:   cfg.Clinic.Language,
	}
	for _, r := range cfg.Reminders.Rules {
		d.Rules = append(d.Rules, clinic.RuleDefault{Name: r.Name, Before: r.Before.Duration, Template: r.Template, OnlyIfUnconfirmed: r.OnlyIfUnconfirmed})
	}
	return d
}

// Handler is the app's complete HTTP handler.
func (a *App) Handler() http.Handler { return a.Web.Handler() }

// WebhookURL is the URL SMS.CX posts to.
func (a *App) WebhookURL() string { return a.Config.WebhookURL(a.WebhookSecret) }

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully: the
// listener closes, in-flight requests finish (bounded by
// server.shutdown_timeout), background work stops, the store closes.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	cfg := a.Config.Server
	srv := &http.Server{
		Handler:           a.Web.Handler(),
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
	// The login check of an unknown account compares against a stand-in
	// hash; make it now, not at the first such login.
	go a.hasher.Warm()
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

// startBackground runs every background loop until the returned stop
// function is called; stop cancels them and waits for them to return.
func (a *App) startBackground(ctx context.Context) (stop func()) {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, run := range a.background {
		wg.Go(func() { run(bg) })
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
}

// importSandbox opens a private copy of the SQLite database, with the
// clinic and the outbox working on it, for an import's preview.
func (a *App) importSandbox(ctx context.Context) (imports.Store, imports.Clinic, func() error, error) {
	cp, closeCopy, err := a.Store.PrivateCopy(ctx, "")
	if err != nil {
		return nil, nil, nil, err
	}
	return cp, a.Clinic.On(cp, a.Outbox.On(cp)), closeCopy, nil
}
