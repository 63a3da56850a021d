// Package simulator runs SMS.CX simulator mode (smscx.mode: simulate): the
// fake gateway of app/smscx/smscxtest, mounted inside the app under Prefix,
// and a real smscx.Client pointed at it, so every message crosses the client
// and SMS.CX's wire format over HTTP while nothing reaches a phone.
//
// The client's base URL is server.public_url + Prefix, and the fake posts its
// webhooks to the app's public webhook URL, exactly as in live mode. Those
// calls do not depend on public_url pointing at this process, though: the
// client and the fake share a loopback transport that sends every request
// for a URL under public_url through an in-memory connection straight to
// the fake (under Prefix) or to the app's webhook receiver (over real
// HTTP/1.1, so the wire format is the same). A public_url behind a reverse proxy, an https public_url, a test
// server on a random port, or a server.addr that differs from public_url's
// port all work, before and after the app starts listening. The fake is
// not served on the app's listener: nothing outside the process reaches
// it, so anonymous requests cannot make it hold anything.
package simulator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"apptconfirm/app/smscx"
	"apptconfirm/app/smscx/smscxtest"
)

// Prefix is the fake gateway's path under server.public_url: the
// simulator's client calls it there, and the loopback answers in-process.
const Prefix = "/_simulator/smscx"

// Defaults for zero Options fields.
const (
	// DefaultDLRDelay is the time from a send to its SENT report, and from
	// SENT to DELIVERED: long enough for staff to watch the states move.
	DefaultDLRDelay = 1500 * time.Millisecond
	// DefaultMaxRecorded bounds the fake's request and webhook logs, so a
	// long-running simulator does not grow without end.
	DefaultMaxRecorded = 500
	// DefaultTimeout bounds one call of the client to the fake.
	DefaultTimeout = 15 * time.Second
	// callbackTimeout bounds one webhook POST of the fake to the app.
	callbackTimeout = 10 * time.Second
)

// Options configure a Simulator.
type Options struct {
	// PublicURL is server.public_url. The client's base URL is
	// PublicURL + Prefix.
	PublicURL string
	// Webhook is the app's SMS.CX webhook receiver. The fake's callbacks
	// (requests for URLs under PublicURL other than the fake's own) are
	// served by it in-process. Required.
	Webhook http.Handler
	// WebhookURL is the app's SMS.CX webhook URL. It becomes the fake's
	// dashboard callback URL: inbound SMS, opt-outs, link hits, and the
	// delivery reports of sends that carry no dlrCallbackUrl.
	WebhookURL string
	// Timeout bounds each call of the client (config smscx.timeout). Zero
	// means DefaultTimeout.
	Timeout time.Duration
	// DLRDelay is passed to the fake (see smscxtest.Options.DLRDelay). Zero
	// means DefaultDLRDelay; negative means none.
	DLRDelay time.Duration
	// MaxRecorded bounds the fake's logs. Zero means DefaultMaxRecorded;
	// negative means nothing is recorded.
	MaxRecorded int
	// Now is the clock of the fake's datetimes; nil means time.Now.
	Now func() time.Time
}

// Simulator is simulator mode: the fake gateway, a client pointed at it, and
// the loopback that carries their traffic to the app.
type Simulator struct {
	fake    *smscxtest.Server
	client  *smscx.Client
	baseURL string
	apiKey  string
	loop    *loopback
}

// New builds a simulator. It starts nothing: the in-memory server that
// carries the loopback traffic starts on the first request.
func New(opts Options) (*Simulator, error) {
	if opts.Webhook == nil {
		return nil, errors.New("simulator: no webhook handler")
	}
	public, err := url.Parse(strings.TrimRight(opts.PublicURL, "/"))
	if err != nil || (public.Scheme != "http" && public.Scheme != "https") || public.Host == "" {
		return nil, fmt.Errorf("simulator: public URL %q is not an absolute http(s) URL", opts.PublicURL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.DLRDelay == 0 {
		opts.DLRDelay = DefaultDLRDelay
	}
	if opts.MaxRecorded == 0 {
		opts.MaxRecorded = DefaultMaxRecorded
	}
	key, err := randomKey()
	if err != nil {
		return nil, fmt.Errorf("simulator: api key: %w", err)
	}
	// The in-process hop serves what the app serves at those paths: the
	// fake gateway under Prefix, the webhook everywhere else.
	var fake *smscxtest.Server
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Prefix || strings.HasPrefix(r.URL.Path, Prefix+"/") {
			http.StripPrefix(Prefix, fake).ServeHTTP(w, r)
			return
		}
		opts.Webhook.ServeHTTP(w, r)
	})
	loop := newLoopback(public, app)
	fake = smscxtest.NewServer(smscxtest.Options{
		APIKeys:        []string{key},
		DLRCallbackURL: opts.WebhookURL,
		CallbackURL:    opts.WebhookURL,
		DLRDelay:       opts.DLRDelay,
		MaxRecorded:    opts.MaxRecorded,
		Now:            opts.Now,
		CallbackClient: &http.Client{Transport: loop, Timeout: callbackTimeout},
	})
	base := public.String() + Prefix
	client, err := smscx.New(smscx.Config{
		BaseURL:    base,
		APIKey:     key,
		HTTPClient: &http.Client{Transport: loop, Timeout: opts.Timeout},
	})
	if err != nil {
		fake.Close()
		return nil, fmt.Errorf("simulator: client: %w", err)
	}
	return &Simulator{fake: fake, client: client, baseURL: base, apiKey: key, loop: loop}, nil
}

// Server returns the fake gateway (for EmitReceiveSMS, and for tests).
func (s *Simulator) Server() *smscxtest.Server { return s.fake }

// Client returns the SMS.CX client pointed at the fake.
func (s *Simulator) Client() *smscx.Client { return s.client }

// BaseURL is the client's API root: public URL + Prefix.
func (s *Simulator) BaseURL() string { return s.baseURL }

// APIKey is the random per-process key the fake accepts. Only tests and
// the client need it; it is never shown or logged.
func (s *Simulator) APIKey() string { return s.apiKey }

// Handler serves the fake gateway under Prefix, for tests that want to
// reach it over their own listener; the app does not mount it.
func (s *Simulator) Handler() http.Handler { return http.StripPrefix(Prefix, s.fake) }

// Close stops the fake's background webhooks (waiting for the ones in
// flight), then the in-memory server, and drops idle connections.
func (s *Simulator) Close(ctx context.Context) error {
	s.fake.Close()
	if err := s.loop.close(ctx); err != nil {
		return fmt.Errorf("simulator: close: %w", err)
	}
	return nil
}

func randomKey() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "sim_" + base64.RawURLEncoding.EncodeToString(b), nil
}
