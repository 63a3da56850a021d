package server

import (
	"fmt"
	"log/slog"
	"net/http"

	"apptconfirm/app/config"
	"apptconfirm/app/simulator"
	"apptconfirm/app/smscx"
	"apptconfirm/app/web"
)

// buildSMSCX builds the SMS.CX client (App.SMS) and what the SMS.CX
// settings page shows. In simulate mode the client talks to the simulator's
// fake gateway in-process, and the fake's webhooks (delivery reports,
// inbound SMS, opt-outs) come back through receiver, the app's real
// webhook. The fake is not served on the app's listener: nothing outside
// the process can reach it. In live mode the client talks to
// smscx.base_url with the configured credentials.
func (a *App) buildSMSCX(receiver http.Handler) (*web.SMSCX, error) {
	cfg := a.Config
	page := &web.SMSCX{
		Mode:       cfg.SMSCXMode(),
		Sender:     cfg.SMSCX.Sender,
		WebhookURL: a.WebhookURL(),
	}
	if cfg.SMSCXMode() == config.ModeSimulate {
		sim, err := simulator.New(simulator.Options{
			PublicURL:  cfg.Server.PublicURL,
			Webhook:    receiver,
			WebhookURL: a.WebhookURL(),
			Timeout:    cfg.SMSCX.Timeout.Duration,
			Now:        a.now,
		})
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		a.closers = append(a.closers, sim.Close)
		a.SMS, a.Simulator, a.simulator = sim.Client(), sim.Server(), sim
		page.BaseURL, page.Auth, page.Simulator = sim.BaseURL(), "API key (a random one, made at start)", sim.Server()
		a.Log.Info("smscx simulator mode: nothing reaches a phone", slog.String("base_url", sim.BaseURL()))
	} else {
		client, err := smscx.New(smscx.Config{
			BaseURL:      cfg.SMSCX.BaseURL,
			APIKey:       cfg.SMSCX.APIKey,
			ClientID:     cfg.SMSCX.ClientID,
			ClientSecret: cfg.SMSCX.ClientSecret,
			HTTPClient:   &http.Client{Timeout: cfg.SMSCX.Timeout.Duration},
		})
		if err != nil {
			return nil, fmt.Errorf("server: smscx: %w", err)
		}
		a.SMS = client
		page.BaseURL, page.Auth = cfg.SMSCX.BaseURL, liveAuth(cfg.SMSCX)
	}
	page.Client = a.SMS
	return page, nil
}

// liveAuth says how the live client authenticates, without the secret.
func liveAuth(s config.SMSCX) string {
	if s.APIKey != "" {
		return "API key"
	}
	return "OAuth2 client credentials (client id " + s.ClientID + ")"
}
