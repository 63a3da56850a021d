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

// buildSMSCX builds the SMS.CX client (App.SMS) and the SMS.CX settings
// page. In simulate mode the client talks to the simulator's fake gateway,
// mounted under /_simulator/smscx, whose webhooks (delivery reports,
// inbound SMS, opt-outs) come back through the app's real webhook route; in
// live mode it talks to smscx.base_url with the configured credentials.
func (a *App) buildSMSCX() error {
	cfg := a.Config
	page := web.SMSCX{
		Mode:       cfg.SMSCXMode(),
		Sender:     cfg.SMSCX.Sender,
		WebhookURL: a.WebhookURL(),
	}
	if cfg.SMSCXMode() == config.ModeSimulate {
		sim, err := simulator.New(simulator.Options{
			PublicURL: cfg.Server.PublicURL,
			// Read at request time: the handler is complete only at the end of build.
			App:        http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }),
			WebhookURL: a.WebhookURL(),
			Timeout:    cfg.SMSCX.Timeout.Duration,
			Now:        a.now,
		})
		if err != nil {
			return fmt.Errorf("server: %w", err)
		}
		a.closers = append(a.closers, sim.Close)
		a.Web.Mount(simulator.Prefix, sim.Handler())
		a.simulator, a.SMS, a.Simulator = sim, sim.Client(), sim.Server()
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
			return fmt.Errorf("server: smscx: %w", err)
		}
		a.SMS = client
		page.BaseURL, page.Auth = cfg.SMSCX.BaseURL, liveAuth(cfg.SMSCX)
	}
	page.Client = a.SMS
	a.Web.EnableSMSCX(page)
	return nil
}

// liveAuth says how the live client authenticates, without the secret.
func liveAuth(s config.SMSCX) string {
	if s.APIKey != "" {
		return "API key"
	}
	return "OAuth2 client credentials (client id " + s.ClientID + ")"
}
