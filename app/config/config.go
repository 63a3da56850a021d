// Package config holds apptconfirm's typed configuration: its defaults, its
// loading (defaults, then config.yaml, then APPTCONFIRM_* environment
// variables) and its validation.
//
// Every key has a default (see Default and the config.yaml at the root of the
// repository). A bad value stops start-up with an error that names the key;
// Validate reports every problem at once. Secrets (smscx.api_key,
// smscx.client_secret, smscx.webhook_secret and a password inside
// database.dsn) never appear in errors, and String, %v and slog output show
// them redacted.
package config

import (
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Config is the whole application configuration. Its YAML keys are the
// public names listed in the product specification (section 3a); each key is
// also settable through the environment variable
// APPTCONFIRM_<SECTION>_<KEY>, for example APPTCONFIRM_SMSCX_API_KEY.
type Config struct {
	Server    Server    `yaml:"server"`
	Database  Database  `yaml:"database"`
	SMSCX     SMSCX     `yaml:"smscx"`
	Dispatch  Dispatch  `yaml:"dispatch"`
	Reminders Reminders `yaml:"reminders"`
	Clinic    Clinic    `yaml:"clinic"`
	Webhook   Webhook   `yaml:"webhook"`
	Log       Log       `yaml:"log"`
	Replies   Replies   `yaml:"replies"`
	Retention Retention `yaml:"retention"`
	Backup    Backup    `yaml:"backup"`
	Import    Import    `yaml:"import"`
	// Reschedule configures patients' requests for another time.
	Reschedule Reschedule `yaml:"reschedule"`
	// NoShow configures what happens after appointments nobody marked.
	NoShow NoShow `yaml:"no_show"`
	// Waitlist configures the offers of freed times to waitlisted patients.
	Waitlist Waitlist `yaml:"waitlist"`
	// OutboundWebhooks configures the webhooks apptconfirm sends to the
	// clinic's other systems.
	OutboundWebhooks OutboundWebhooks `yaml:"outbound_webhooks"`
}

// OutboundWebhooks configures the delivery of outbound webhooks.
type OutboundWebhooks struct {
	// AllowPrivate lets endpoints use plain http and private, loopback and
	// link-local addresses (on-premise integrations, tests). Off, only
	// https URLs whose host resolves to a public address are called.
	AllowPrivate bool `yaml:"allow_private"`
	// Concurrency is how many deliveries run at once per instance (1 to
	// 512).
	Concurrency int `yaml:"concurrency"`
}

// Server configures the HTTP server.
type Server struct {
	// Addr is the listen address, for example ":8080".
	Addr string `yaml:"addr"`
	// PublicURL is the absolute http(s) URL the app is reached at from
	// outside, the base of the webhook URL given to SMS.CX. Validate strips a
	// trailing slash.
	PublicURL string `yaml:"public_url"`
	// TrustedProxies lists the IP addresses and CIDR ranges whose
	// X-Forwarded-For header is believed. Empty trusts none.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a response; server-sent event handlers
	// clear it for their own connection.
	WriteTimeout Duration `yaml:"write_timeout"`
	// IdleTimeout bounds how long a keep-alive connection waits for the next
	// request.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// SessionLifetime is how long a staff login lasts.
	SessionLifetime Duration `yaml:"session_lifetime"`
	// SecureCookies is "auto" (Secure when PublicURL is https), "true" or
	// "false". Use Config.CookieSecure for the effective value.
	SecureCookies string `yaml:"secure_cookies"`
	// AllowInsecurePublicURL lets live mode run with an http:// PublicURL.
	// The webhook secret travels in the path of every callback SMS.CX
	// posts, so over plain HTTP anyone on the way can read it and forge
	// replies and opt-outs; live mode refuses that unless this is set
	// (for a TLS proxy that forwards plain HTTP on a private network the
	// URL itself stays https, so this is for testing only).
	AllowInsecurePublicURL bool `yaml:"allow_insecure_public_url"`
	// LiveStreamsPerUser caps the live-update streams (GET /events, one
	// per open tab) a user may hold at once; more answer 429.
	LiveStreamsPerUser int `yaml:"live_streams_per_user"`
}

// Database configures the store.
type Database struct {
	// Driver is "sqlite" or "postgres".
	Driver string `yaml:"driver"`
	// DSN is the SQLite file path, or a PostgreSQL URL
	// (postgres://user:pass@host/db) or key=value connection string. It may
	// hold a password, so it is redacted in String and Redacted.
	DSN string `yaml:"dsn"`
	// AutoMigrate, when true, migrates the schema at start-up; when false the
	// app refuses to start on an old schema (run "apptconfirm migrate").
	AutoMigrate bool `yaml:"auto_migrate"`
	// MaxOpenConns caps open connections; 0 means the driver's default
	// (see Config.DatabaseMaxOpenConns).
	MaxOpenConns int `yaml:"max_open_conns"`
	// SQLiteSynchronous is "normal" or "full" (models.SyncNormal,
	// models.SyncFull): whether a SQLite commit also survives a power cut.
	SQLiteSynchronous string `yaml:"sqlite_synchronous"`
}

// SMSCX configures the SMS.CX gateway.
type SMSCX struct {
	// Mode is "simulate", "live", or empty: simulate when no credentials are
	// set, live otherwise. Use Config.SMSCXMode for the effective mode.
	Mode string `yaml:"mode"`
	// BaseURL is the API's base URL. Validate strips a trailing slash.
	BaseURL string `yaml:"base_url"`
	// APIKey is a secret: set it through APPTCONFIRM_SMSCX_API_KEY.
	APIKey string `yaml:"api_key"`
	// ClientID is the OAuth2 client id (with ClientSecret, instead of APIKey).
	ClientID string `yaml:"client_id"`
	// ClientSecret is a secret: set it through APPTCONFIRM_SMSCX_CLIENT_SECRET.
	ClientSecret string `yaml:"client_secret"`
	// Sender is the "from" of every SMS, 3 to 15 characters.
	Sender string `yaml:"sender"`
	// WebhookSecret is the unguessable path segment of the webhook URL. Empty
	// means the app generates one and stores it at first start; when set it
	// has at least 16 URL-safe characters.
	WebhookSecret string `yaml:"webhook_secret"`
	// Timeout bounds each HTTP call to SMS.CX.
	Timeout Duration `yaml:"timeout"`
}

// Dispatch configures the job that claims due messages and sends them.
type Dispatch struct {
	// Interval is how often due messages are claimed (at least 1s).
	Interval Duration `yaml:"interval"`
	// Concurrency is how many sends run at once (1 to 256).
	Concurrency int `yaml:"concurrency"`
	// BatchSize is how many due messages one run claims (1 to 1000).
	BatchSize int `yaml:"batch_size"`
	// MaxAttempts bounds the tries of a retryable failure (1 to 20).
	MaxAttempts int `yaml:"max_attempts"`
	// Lease is how long a claim holds before another worker may take the
	// message over; longer than SMSCX.Timeout.
	Lease Duration `yaml:"lease"`
	// BackoffBase is the first retry delay; later ones double, with jitter.
	BackoffBase Duration `yaml:"backoff_base"`
	// BackoffMax caps the retry delay.
	BackoffMax Duration `yaml:"backoff_max"`
}

// Rule is one reminder rule: a reminder this long Before the start.
type Rule struct {
	// Name identifies the rule (unique, for example "48h").
	Name string `yaml:"name" json:"name"`
	// Before is how long before the appointment the reminder goes out
	// (more than 0, at most 30 days).
	Before Duration `yaml:"before" json:"before"`
	// Template is the SMS text in clinic.language, with single-brace
	// placeholders such as {first_name} (checked where it is saved); empty
	// means the texts the app ships, in every language. It is used when
	// the rules are created, at first start; afterwards texts are edited
	// under Admin > Texts and languages.
	Template string `yaml:"template" json:"template"`
	// OnlyIfUnconfirmed skips the reminder once the patient has confirmed.
	OnlyIfUnconfirmed bool `yaml:"only_if_unconfirmed" json:"only_if_unconfirmed"`
}

// QuietHours is a daily window, local to each location, in which no SMS goes
// out. Start and End are "HH:MM" (00:00 to 23:59); the window may wrap past
// midnight ("21:00" to "08:00"). Both empty means no quiet hours.
type QuietHours struct {
	Start string `yaml:"start"`
	End   string `yaml:"end"`
}

// Reminders configures reminder planning.
type Reminders struct {
	// Rules are the reminder rules planned for each appointment.
	Rules []Rule `yaml:"rules"`
	// QuietHours holds messages that would go out at night.
	QuietHours QuietHours `yaml:"quiet_hours"`
	// CapPerDay caps reminders to one patient per day; 0 means no cap.
	CapPerDay int `yaml:"cap_per_day"`
	// CapPerWeek caps reminders to one patient per 7 days; 0 means no cap.
	CapPerWeek int `yaml:"cap_per_week"`
	// BookingConfirmation sends an SMS at once when an appointment is booked.
	BookingConfirmation bool `yaml:"booking_confirmation"`
	// CancellationNotice sends an SMS when an appointment is cancelled.
	CancellationNotice bool `yaml:"cancellation_notice"`
	// RescheduleNotice sends an SMS when staff or the API move an
	// appointment to another time or place.
	RescheduleNotice bool `yaml:"reschedule_notice"`
	// MinLead is the least time a reminder moved to the end of quiet hours
	// must still leave before the appointment; when it would leave less,
	// the reminder goes just before quiet hours begin instead.
	MinLead Duration `yaml:"min_lead"`
}

// Clinic describes the clinic and its default location.
type Clinic struct {
	// Name is the clinic's name.
	Name string `yaml:"name"`
	// Timezone is the default location's IANA time zone, such as
	// "Europe/Paris".
	Timezone string `yaml:"timezone"`
	// Country is the default phone region, ISO 3166 alpha-2 in upper case.
	Country string `yaml:"country"`
	// Phone is the clinic's phone number for the {clinic_phone} placeholder.
	Phone string `yaml:"phone"`
	// Address is the default location's postal address.
	Address string `yaml:"address"`
	// Language is the clinic's language ("en", "fr", "es", "de", "nl",
	// "pt" or "it"): a patient whose language has no text gets this one,
	// and a new patient speaks it until told otherwise.
	Language string `yaml:"language"`
	// Clock is how staff pages write times of day: "24h" ("15:30") or
	// "12h" ("3:30 PM"). Empty follows the language: 12h for "en", 24h
	// for the others.
	Clock string `yaml:"clock"`
}

// Clock formats of clinic.clock.
const (
	Clock24h = "24h"
	Clock12h = "12h"
)

// TwelveHourClock reports whether staff pages write times on a 12-hour
// clock: clinic.clock when set, else 12h for English and 24h otherwise.
func (c Clinic) TwelveHourClock() bool {
	if c.Clock == "" {
		return c.Language == "en"
	}
	return c.Clock == Clock12h
}

// Webhook configures the inbound SMS.CX webhook.
type Webhook struct {
	// MaxBodyBytes caps a webhook body (1 KiB to 64 MiB); larger bodies get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// DedupRetention is how long delivered event keys are kept to drop
	// duplicates (at least 72h; providers retry for up to 3 days).
	DedupRetention Duration `yaml:"dedup_retention"`
	// ApplyWorkers is how many goroutines apply stored events side by side
	// on PostgreSQL (1 to 32, at most half of MaxOpenConns), each taking the
	// events of its own share of phone numbers; SQLite, with its one
	// writer, always applies them with one.
	ApplyWorkers int `yaml:"apply_workers"`
}

// Log configures structured logging.
type Log struct {
	// Level is "debug", "info", "warn" or "error".
	Level string `yaml:"level"`
	// Format is "text" or "json".
	Format string `yaml:"format"`
}

// Replies caps the automatic answers to patients' texts, so that a forged
// or looping sender cannot make the clinic send SMS without end. An answer
// over its cap is recorded as skipped, with the reason, and not sent.
type Replies struct {
	// HelpAnswersPerDay caps the help texts sent to one number in 24 hours
	// (1 to 100).
	HelpAnswersPerDay int `yaml:"help_answers_per_day"`
	// StopStartAnswersPerDay caps the opt-out and opt-in acknowledgements
	// (answers to STOP and START) sent to one number in 24 hours, both
	// counted together (1 to 100).
	StopStartAnswersPerDay int `yaml:"stop_start_answers_per_day"`
}

// Reschedule configures what happens when a patient asks for another time.
type Reschedule struct {
	// AutoOffer sends the patient who asks by SMS the free-slot finder's
	// first three times at once, instead of an acknowledgement and an
	// offer from staff later.
	AutoOffer bool `yaml:"auto_offer"`
	// OfferTTL is how long an offer of new times can be picked (10m to
	// 168h); a later pick goes to the inbox.
	OfferTTL Duration `yaml:"offer_ttl"`
}

// Waitlist configures how a freed time is offered to the waitlist.
type Waitlist struct {
	// MinNotice is how far ahead a freed time must start to be offered
	// (0 to 168h): a time freed closer to its start is left alone.
	MinNotice Duration `yaml:"min_notice"`
	// Batch is how many waitlisted patients are asked at a time (1 to 20).
	Batch int `yaml:"batch"`
	// OfferTTL is how long a batch has to answer YES before the next batch
	// is asked (5m to 24h).
	OfferTTL Duration `yaml:"offer_ttl"`
}

// NoShow configures the end of an appointment's day: past appointments
// staff did not mark attended or no-show, and the patients who missed one.
type NoShow struct {
	// AutoMark marks, once the location's local day has ended, its past
	// appointments still unconfirmed (scheduled) as no-shows; confirmed
	// ones stay on Today's outcomes for staff.
	AutoMark bool `yaml:"auto_mark"`
	// FollowUp sends a patient marked no-show, once per appointment, an
	// SMS with their patient page's link to book again.
	FollowUp bool `yaml:"follow_up"`
}

// Retention says how long personal texts are kept before a nightly job
// blanks them. Zero keeps them for ever.
type Retention struct {
	// MessageText is how long message bodies, patients' reply texts, the
	// timeline lines quoting them and stored webhook payloads are kept
	// (0, or at least 168h).
	MessageText Duration `yaml:"message_text"`
	// Audit is how long the details of audit log entries are kept; who did
	// what and when stays (0, or at least 168h).
	Audit Duration `yaml:"audit"`
}

// Backup configures the nightly copy of a SQLite database (at 03:15 in
// clinic.timezone). PostgreSQL has its own tools (pg_dump); there the job
// does not run.
type Backup struct {
	// Dir is where the copies go; empty turns the nightly backup off. It
	// is created (mode 0700) at start when missing.
	Dir string `yaml:"dir"`
	// Keep is how many copies are kept; older ones are deleted (1 to 1000).
	Keep int `yaml:"keep"`
}

// Import configures the CSV import of schedules.
type Import struct {
	// MaxBytes caps an uploaded file (1 MB to 1 GB). The upload is
	// streamed to a temporary file, never held whole in memory.
	MaxBytes int64 `yaml:"max_bytes"`
}

// SMS.CX modes, as returned by Config.SMSCXMode.
const (
	ModeSimulate = "simulate"
	ModeLive     = "live"
)

// WebhookPath is the path prefix of the SMS.CX webhook; the secret follows it.
const WebhookPath = "/webhooks/smscx/"

// Default returns the built-in configuration: every key at its default.
// It passes Validate.
func Default() Config {
	return Config{
		Server: Server{
			Addr:               ":8080",
			PublicURL:          "http://localhost:8080",
			ReadHeaderTimeout:  Duration{5 * time.Second},
			ReadTimeout:        Duration{15 * time.Second},
			WriteTimeout:       Duration{30 * time.Second},
			IdleTimeout:        Duration{60 * time.Second},
			ShutdownTimeout:    Duration{20 * time.Second},
			SessionLifetime:    Duration{12 * time.Hour},
			SecureCookies:      "auto",
			LiveStreamsPerUser: 8,
		},
		Database: Database{
			Driver:            "sqlite",
			DSN:               "apptconfirm.db",
			AutoMigrate:       true,
			SQLiteSynchronous: "normal",
		},
		SMSCX: SMSCX{
			BaseURL: "https://api.sms.cx",
			Sender:  "Clinic",
			Timeout: Duration{15 * time.Second},
		},
		Dispatch: Dispatch{
			Interval:    Duration{15 * time.Second},
			Concurrency: 4,
			BatchSize:   100,
			MaxAttempts: 6,
			Lease:       Duration{2 * time.Minute},
			BackoffBase: Duration{30 * time.Second},
			BackoffMax:  Duration{30 * time.Minute},
		},
		Reminders: Reminders{
			Rules: []Rule{
				{Name: "48h", Before: Duration{48 * time.Hour}},
				{Name: "2h", Before: Duration{2 * time.Hour}, OnlyIfUnconfirmed: true},
			},
			QuietHours:         QuietHours{Start: "21:00", End: "08:00"},
			CapPerDay:          1,
			CapPerWeek:         3,
			CancellationNotice: true,
			RescheduleNotice:   true,
			MinLead:            Duration{60 * time.Minute},
		},
		Clinic: Clinic{
			Name:     "Demo Clinic",
			Timezone: "UTC",
			Country:  "US",
			Language: "en",
		},
		Webhook: Webhook{
			MaxBodyBytes:   1 << 20,
			DedupRetention: Duration{7 * 24 * time.Hour},
			ApplyWorkers:   4,
		},
		Log:              Log{Level: "info", Format: "text"},
		Replies:          Replies{HelpAnswersPerDay: 3, StopStartAnswersPerDay: 3},
		Retention:        Retention{MessageText: Duration{365 * 24 * time.Hour}, Audit: Duration{730 * 24 * time.Hour}},
		Backup:           Backup{Keep: 7},
		Import:           Import{MaxBytes: 50 << 20},
		OutboundWebhooks: OutboundWebhooks{Concurrency: 64},
		Reschedule:       Reschedule{OfferTTL: Duration{24 * time.Hour}},
		Waitlist:         Waitlist{MinNotice: Duration{3 * time.Hour}, Batch: 3, OfferTTL: Duration{30 * time.Minute}},
	}
}

// Location returns the clinic's time zone. Call it after Validate, once, and
// keep the result: each call loads the zone again. It returns time.UTC if the
// zone does not load.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Clinic.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// SMSCXMode returns the effective SMS.CX mode, ModeSimulate or ModeLive: the
// configured mode, or when it is empty, live if any credential is set and
// simulate otherwise.
func (c Config) SMSCXMode() string {
	if c.SMSCX.Mode != "" {
		return c.SMSCX.Mode
	}
	if c.SMSCX.hasCredentials() {
		return ModeLive
	}
	return ModeSimulate
}

func (s SMSCX) hasCredentials() bool {
	return s.APIKey != "" || s.ClientID != "" || s.ClientSecret != ""
}

// WebhookURL returns the public URL SMS.CX posts webhooks to for the given
// path secret: PublicURL + "/webhooks/smscx/" + secret.
func (c Config) WebhookURL(secret string) string {
	return strings.TrimRight(c.Server.PublicURL, "/") + WebhookPath + url.PathEscape(secret)
}

// CookieSecure reports whether session cookies get the Secure attribute:
// server.secure_cookies "true", or "auto" with an https public_url.
func (c Config) CookieSecure() bool {
	switch c.Server.SecureCookies {
	case "true":
		return true
	case "false":
		return false
	default:
		return strings.HasPrefix(strings.ToLower(c.Server.PublicURL), "https://")
	}
}

// DatabaseMaxOpenConns returns the effective connection cap: MaxOpenConns, or
// when it is 0, 8 for SQLite and 20 for PostgreSQL.
func (c Config) DatabaseMaxOpenConns() int {
	switch {
	case c.Database.MaxOpenConns > 0:
		return c.Database.MaxOpenConns
	case c.Database.Driver == "postgres":
		return 20
	default:
		return 8
	}
}

// Enabled reports whether quiet hours are set.
func (q QuietHours) Enabled() bool {
	return q.Start != "" || q.End != ""
}

// Minutes returns Start and End as minutes after midnight (0 to 1439). It
// returns ok false when quiet hours are not set or not valid (Validate
// rejects the latter).
func (q QuietHours) Minutes() (start, end int, ok bool) {
	start, okStart := parseClock(q.Start)
	end, okEnd := parseClock(q.End)
	if !okStart || !okEnd {
		return 0, 0, false
	}
	return start, end, true
}

// SlogLevel returns Level as a slog.Level (info if Level is not valid).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// parseClock parses "HH:MM" (00:00 to 23:59) into minutes after midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}
