package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"apptconfirm/app/inbox"
	"apptconfirm/app/jobs"
	"apptconfirm/app/webhook"
)

// buildWebhooks wires the SMS.CX webhook: the receiver on POST
// /webhooks/smscx/{secret}, the processor that applies what it stored (run
// by Serve), and the staff inbox for the replies that need a human.
func (a *App) buildWebhooks() error {
	cfg := a.Config
	// Processing gives way to requests being stored (webhook.Traffic).
	traffic := webhook.NewTraffic()
	proc, err := webhook.NewProcessor(webhook.ProcessorOptions{
		Store: a.Store, Clinic: a.Clinic, Publisher: a.Live, Kicker: a.Kicker, Log: a.Log, Now: a.now,
		Retention: cfg.Webhook.DedupRetention.Duration, Traffic: traffic,
	})
	if err != nil {
		return fmt.Errorf("server: webhooks: %w", err)
	}
	recv, err := webhook.NewReceiver(webhook.ReceiverOptions{
		Store: a.Store, Secret: a.WebhookSecret, MaxBodyBytes: cfg.Webhook.MaxBodyBytes,
		Notifier: proc, Traffic: traffic, Metrics: a.Metrics, Log: a.Log, Now: a.now,
	})
	if err != nil {
		return fmt.Errorf("server: webhooks: %w", err)
	}
	recv.Register(a.Web.Engine())
	a.Webhooks = proc
	a.Inbox = inbox.New(a.Store, a.Clinic, a.Kicker, a.Live, a.now)
	a.Web.EnableInbox(a.Inbox)
	a.background = append(a.background, proc.Run)
	return nil
}

// Names of the webhook cron jobs.
const (
	// JobWebhookSweep applies stored webhook events left behind (after a
	// crash, or while the database was unavailable).
	JobWebhookSweep = "webhook_sweep"
	// JobWebhookPrune deletes processed webhook events older than
	// webhook.dedup_retention.
	JobWebhookPrune = "webhook_prune"
)

// registerWebhookJobs adds the webhook sweep (every minute) and prune
// (hourly) to the cron registry; call it after the registry exists.
func (a *App) registerWebhookJobs() error {
	err := a.Jobs.Register(JobWebhookSweep, jobs.Every(time.Minute), a.exclusive(JobWebhookSweep, func(ctx context.Context) error {
		_, err := a.Webhooks.ProcessPending(ctx)
		return err
	}))
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	err = a.Jobs.Register(JobWebhookPrune, jobs.Every(time.Hour), a.exclusive(JobWebhookPrune, func(ctx context.Context) error {
		n, err := a.Webhooks.Prune(ctx)
		if n > 0 {
			a.Log.Info("webhook events pruned", slog.Int64("deleted", n))
		}
		return err
	}))
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// startBackground runs every background loop until the returned stop
// function is called; stop cancels them and waits for them to return.
func (a *App) startBackground(ctx context.Context) (stop func()) {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, run := range a.background {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(bg)
		}()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
}
