package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		// wantErr is a substring of the error; "" means the change is valid.
		wantErr string
	}{
		// server
		{"addr without a port", func(c *Config) { c.Server.Addr = "8080" }, `config: server.addr: want host:port`},
		{"addr with a named port", func(c *Config) { c.Server.Addr = ":http" }, `server.addr: want a port number`},
		{"addr port out of range", func(c *Config) { c.Server.Addr = ":70000" }, `server.addr: want a port number`},
		{"addr with a host", func(c *Config) { c.Server.Addr = "127.0.0.1:0" }, ""},
		{"addr IPv6", func(c *Config) { c.Server.Addr = "[::1]:8080" }, ""},
		{"public_url relative", func(c *Config) { c.Server.PublicURL = "clinic.example.org" }, `server.public_url: want an absolute http:// or https:// URL`},
		{"public_url ftp", func(c *Config) { c.Server.PublicURL = "ftp://clinic.example.org" }, `server.public_url: want an absolute`},
		{"public_url empty", func(c *Config) { c.Server.PublicURL = "" }, `server.public_url: want an absolute`},
		{"public_url with a query", func(c *Config) { c.Server.PublicURL = "https://x.example?a=1" }, `server.public_url: must not have a query`},
		{"public_url with user info", func(c *Config) { c.Server.PublicURL = "https://u:p@x.example" }, `server.public_url: must not hold a user name or password`},
		{"public_url with a path prefix", func(c *Config) { c.Server.PublicURL = "https://x.example/appt" }, ""},
		{"trusted proxy not an IP", func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.1", "proxy.local"} }, `server.trusted_proxies[1]: want an IP address or CIDR range`},
		{"trusted proxy bad CIDR", func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.0/33"} }, `server.trusted_proxies[0]`},
		{"trusted proxies IPv4 and IPv6", func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8", "2001:db8::/32", "::1"} }, ""},
		{"zero read header timeout", func(c *Config) { c.Server.ReadHeaderTimeout = Duration{} }, `server.read_header_timeout: must be more than 0, got 0s`},
		{"negative write timeout", func(c *Config) { c.Server.WriteTimeout = Duration{-time.Second} }, `server.write_timeout: must be more than 0`},
		{"zero session lifetime", func(c *Config) { c.Server.SessionLifetime = Duration{} }, `server.session_lifetime`},
		{"secure cookies yes", func(c *Config) { c.Server.SecureCookies = "yes" }, `server.secure_cookies: want one of "auto", "true", "false", got "yes"`},

		// database
		{"unknown driver", func(c *Config) { c.Database.Driver = "mysql" }, `database.driver: want one of "sqlite", "postgres", got "mysql"`},
		{"empty dsn", func(c *Config) { c.Database.DSN = " " }, `database.dsn: must not be empty`},
		{"postgres with a file path", func(c *Config) { c.Database.Driver = "postgres" }, `database.dsn: want a PostgreSQL URL`},
		{"postgres with a mysql URL", func(c *Config) { c.Database.Driver, c.Database.DSN = "postgres", "mysql://u@h/db" }, `database.dsn: want a PostgreSQL URL`},
		{"postgres URL", func(c *Config) {
			c.Database.Driver, c.Database.DSN = "postgres", "postgres://u:p@db:5432/appt?sslmode=disable"
		}, ""},
		{"postgresql URL", func(c *Config) {
			c.Database.Driver, c.Database.DSN = "postgres", "postgresql:///appt?host=/var/run/postgresql"
		}, ""},
		{"postgres key=value", func(c *Config) {
			c.Database.Driver, c.Database.DSN = "postgres", "host=db port=5432 user=app password='p a\\'ss' dbname=appt sslmode=disable"
		}, ""},
		{"postgres key = value", func(c *Config) { c.Database.Driver, c.Database.DSN = "postgres", "host = db dbname = appt" }, ""},
		{"postgres key=value unterminated quote", func(c *Config) { c.Database.Driver, c.Database.DSN = "postgres", "host=db password='x" }, `database.dsn`},
		{"postgres key without value", func(c *Config) { c.Database.Driver, c.Database.DSN = "postgres", "host=db dbname" }, `database.dsn`},
		{"negative max_open_conns", func(c *Config) { c.Database.MaxOpenConns = -1 }, `database.max_open_conns: must be 0 (driver default) or more, got -1`},
		{"unknown sqlite_synchronous", func(c *Config) { c.Database.SQLiteSynchronous = "OFF" }, `database.sqlite_synchronous: want one of "normal", "full", got "OFF"`},

		// smscx
		{"unknown mode", func(c *Config) { c.SMSCX.Mode = "test" }, `smscx.mode: want one of "simulate", "live" (or empty), got "test"`},
		{"base_url not http", func(c *Config) { c.SMSCX.BaseURL = "api.sms.cx" }, `smscx.base_url: want an absolute`},
		{"live without credentials", func(c *Config) { c.SMSCX.Mode = ModeLive }, `smscx.api_key: live mode needs credentials`},
		{"live with an api key", func(c *Config) {
			c.SMSCX.Mode, c.SMSCX.APIKey, c.Server.PublicURL = ModeLive, "k", "https://clinic.example.org"
		}, ""},
		{"live with an http public_url", func(c *Config) { c.SMSCX.Mode, c.SMSCX.APIKey = ModeLive, "k" }, `server.public_url: live mode needs an https:// URL`},
		{"live with an HTTPS public_url in capitals", func(c *Config) {
			c.SMSCX.Mode, c.SMSCX.APIKey, c.Server.PublicURL = ModeLive, "k", "HTTPS://clinic.example.org"
		}, ""},
		{"live with an http public_url allowed", func(c *Config) {
			c.SMSCX.Mode, c.SMSCX.APIKey, c.Server.AllowInsecurePublicURL = ModeLive, "k", true
		}, ""},
		{"simulate with an http public_url", func(c *Config) { c.Server.PublicURL = "http://clinic.example.org" }, ""},
		{"client secret without id", func(c *Config) { c.SMSCX.ClientSecret = "s" }, `smscx.client_id: smscx.client_id and smscx.client_secret go together`},
		{"simulate ignores an api key", func(c *Config) { c.SMSCX.Mode, c.SMSCX.APIKey = ModeSimulate, "k" }, ""},
		{"sender too short", func(c *Config) { c.SMSCX.Sender = "Dr" }, `smscx.sender: must be 3 to 15 characters (SMS.CX limit), got "Dr"`},
		{"sender too long", func(c *Config) { c.SMSCX.Sender = "The Smith Family Clinic" }, `smscx.sender: must be 3 to 15 characters`},
		{"sender 15 characters", func(c *Config) { c.SMSCX.Sender = "123456789012345" }, ""},
		{"sender not ASCII", func(c *Config) { c.SMSCX.Sender = "Cliniqué" }, `smscx.sender: must be printable ASCII`},
		{"sender with a trailing space", func(c *Config) { c.SMSCX.Sender = "Clinic " }, `smscx.sender: must be printable ASCII`},
		{"webhook secret too short", func(c *Config) { c.SMSCX.WebhookSecret = "abc" }, `smscx.webhook_secret: must be at least 16 characters`},
		{"webhook secret not URL-safe", func(c *Config) { c.SMSCX.WebhookSecret = "abcdefghijklmnop/q" }, `smscx.webhook_secret: may only hold the URL-safe characters`},
		{"webhook secret good", func(c *Config) { c.SMSCX.WebhookSecret = "Ab3-_.~xxxxxxxxxxxxxx" }, ""},
		{"zero smscx timeout", func(c *Config) { c.SMSCX.Timeout = Duration{} }, `smscx.timeout: must be more than 0`},

		// dispatch
		{"interval below a second", func(c *Config) { c.Dispatch.Interval = Duration{500 * time.Millisecond} }, `dispatch.interval: must be at least 1s, got 500ms`},
		{"interval one second", func(c *Config) { c.Dispatch.Interval = Duration{time.Second} }, ""},
		{"zero concurrency", func(c *Config) { c.Dispatch.Concurrency = 0 }, `dispatch.concurrency: must be between 1 and 256, got 0`},
		{"too much concurrency", func(c *Config) { c.Dispatch.Concurrency = 257 }, `dispatch.concurrency: must be between 1 and 256, got 257`},
		{"batch too big", func(c *Config) { c.Dispatch.BatchSize = 1001 }, `dispatch.batch_size: must be between 1 and 1000`},
		{"batch limits", func(c *Config) { c.Dispatch.BatchSize, c.Dispatch.Concurrency = 1000, 64 }, ""},
		{"zero attempts", func(c *Config) { c.Dispatch.MaxAttempts = 0 }, `dispatch.max_attempts: must be between 1 and 20`},
		{"too many attempts", func(c *Config) { c.Dispatch.MaxAttempts = 21 }, `dispatch.max_attempts`},
		{"lease equal to the smscx timeout", func(c *Config) { c.Dispatch.Lease = Duration{15 * time.Second} }, `dispatch.lease: must be longer than smscx.timeout (15s), got 15s`},
		{"lease just over the smscx timeout", func(c *Config) { c.Dispatch.Lease = Duration{16 * time.Second} }, ""},
		{"zero backoff base", func(c *Config) { c.Dispatch.BackoffBase = Duration{} }, `dispatch.backoff_base: must be more than 0`},
		{"backoff max below base", func(c *Config) { c.Dispatch.BackoffMax = Duration{10 * time.Second} }, `dispatch.backoff_max: must be at least dispatch.backoff_base (30s), got 10s`},

		// reminders
		{"rule without a name", func(c *Config) { c.Reminders.Rules[1].Name = "" }, `reminders.rules[1].name: must not be empty`},
		{"rule name with spaces around", func(c *Config) { c.Reminders.Rules[1].Name = " 2h" }, `reminders.rules[1].name: must be at most 64 characters, without control characters or leading or trailing spaces`},
		{"rule name too long", func(c *Config) { c.Reminders.Rules[0].Name = strings.Repeat("x", 65) }, `reminders.rules[0].name`},
		{"duplicate rule names", func(c *Config) { c.Reminders.Rules[1].Name = "48h" }, `reminders.rules[1].name: "48h" is already the name of reminders.rules[0]; names must be unique`},
		{"rule before zero", func(c *Config) { c.Reminders.Rules[0].Before = Duration{} }, `reminders.rules[0].before: must be more than 0 and at most 720h (30 days), got 0s`},
		{"rule before negative", func(c *Config) { c.Reminders.Rules[0].Before = Duration{-time.Hour} }, `reminders.rules[0].before`},
		{"rule before 31 days", func(c *Config) { c.Reminders.Rules[0].Before = Duration{31 * 24 * time.Hour} }, `reminders.rules[0].before: must be more than 0 and at most 720h`},
		{"rule before 30 days", func(c *Config) { c.Reminders.Rules[0].Before = Duration{30 * 24 * time.Hour} }, ""},
		{"rule without a template: the shipped texts", func(c *Config) { c.Reminders.Rules[0].Template = "" }, ""},
		{"rule template too long", func(c *Config) { c.Reminders.Rules[0].Template = strings.Repeat("a", 1601) }, `reminders.rules[0].template: must be at most 1600 characters`},
		{"min lead zero", func(c *Config) { c.Reminders.MinLead = Duration{} }, `reminders.min_lead: must be from 1m to 24h, got 0s`},
		{"min lead too long", func(c *Config) { c.Reminders.MinLead = Duration{25 * time.Hour} }, `reminders.min_lead: must be from 1m to 24h`},
		{"clinic language unknown", func(c *Config) { c.Clinic.Language = "xx" }, `clinic.language: want one of en, fr, es, de, nl, pt, it, got "xx"`},
		{"clinic language with a region", func(c *Config) { c.Clinic.Language = "pt-BR" }, `clinic.language`},
		{"clinic language French", func(c *Config) { c.Clinic.Language = "fr" }, ""},
		{"clinic clock 12h", func(c *Config) { c.Clinic.Clock = "12h" }, ""},
		{"clinic clock 24h", func(c *Config) { c.Clinic.Clock = "24h" }, ""},
		{"clinic clock unknown", func(c *Config) { c.Clinic.Clock = "12" }, `clinic.clock: want "24h" or "12h" (or empty to follow clinic.language), got "12"`},
		{"no rules", func(c *Config) { c.Reminders.Rules = nil }, ""},
		{"quiet hours end missing", func(c *Config) { c.Reminders.QuietHours.End = "" }, `reminders.quiet_hours: set both start and end, or neither`},
		{"quiet hours start missing", func(c *Config) { c.Reminders.QuietHours.Start = "" }, `reminders.quiet_hours: set both`},
		{"quiet hours no quiet hours", func(c *Config) { c.Reminders.QuietHours = QuietHours{} }, ""},
		{"quiet hours one digit hour", func(c *Config) { c.Reminders.QuietHours.Start = "9:00" }, `reminders.quiet_hours.start: want HH:MM between 00:00 and 23:59, got "9:00"`},
		{"quiet hours 24:00", func(c *Config) { c.Reminders.QuietHours.End = "24:00" }, `reminders.quiet_hours.end: want HH:MM`},
		{"quiet hours minute 60", func(c *Config) { c.Reminders.QuietHours.End = "07:60" }, `reminders.quiet_hours.end`},
		{"quiet hours with seconds", func(c *Config) { c.Reminders.QuietHours.End = "07:00:00" }, `reminders.quiet_hours.end`},
		{"quiet hours equal", func(c *Config) { c.Reminders.QuietHours = QuietHours{"08:00", "08:00"} }, `reminders.quiet_hours: start and end are both 08:00`},
		{"quiet hours within a day", func(c *Config) { c.Reminders.QuietHours = QuietHours{"00:00", "23:59"} }, ""},
		{"negative daily cap", func(c *Config) { c.Reminders.CapPerDay = -1 }, `reminders.cap_per_day: must be 0 (no cap) or more, got -1`},
		{"negative weekly cap", func(c *Config) { c.Reminders.CapPerWeek = -1 }, `reminders.cap_per_week: must be 0 (no cap) or more`},
		{"no caps", func(c *Config) { c.Reminders.CapPerDay, c.Reminders.CapPerWeek = 0, 0 }, ""},

		// clinic
		{"empty clinic name", func(c *Config) { c.Clinic.Name = "" }, `clinic.name: must not be empty`},
		{"clinic name with a control character", func(c *Config) { c.Clinic.Name = "Demo\x00" }, `clinic.name: must not hold control characters`},
		{"unknown time zone", func(c *Config) { c.Clinic.Timezone = "Mars/Base" }, `config: clinic.timezone: unknown time zone "Mars/Base"`},
		{"empty time zone", func(c *Config) { c.Clinic.Timezone = "" }, `clinic.timezone: must not be empty`},
		{"Local time zone", func(c *Config) { c.Clinic.Timezone = "Local" }, `clinic.timezone: want an IANA time zone`},
		{"time zone path", func(c *Config) { c.Clinic.Timezone = "../../etc/passwd" }, `clinic.timezone: unknown time zone`},
		{"IANA time zone", func(c *Config) { c.Clinic.Timezone = "Australia/Lord_Howe" }, ""},
		{"lower-case country", func(c *Config) { c.Clinic.Country = "us" }, `clinic.country: want an ISO 3166 alpha-2 code in upper case, such as "US" or "GB", got "us"`},
		{"three-letter country", func(c *Config) { c.Clinic.Country = "USA" }, `clinic.country: want an ISO 3166 alpha-2 code`},
		{"UK", func(c *Config) { c.Clinic.Country = "UK" }, `clinic.country: unknown country code "UK" (the United Kingdom is "GB")`},
		{"unassigned country", func(c *Config) { c.Clinic.Country = "ZZ" }, `clinic.country: unknown country code "ZZ"`},
		{"GB", func(c *Config) { c.Clinic.Country = "GB" }, ""},
		{"phone not a number", func(c *Config) { c.Clinic.Phone = "call us" }, `clinic.phone: not a phone number for country US: "call us"`},
		{"phone national", func(c *Config) { c.Clinic.Phone = "(202) 555-0143" }, ""},
		{"phone E.164 abroad", func(c *Config) { c.Clinic.Phone = "+44 20 7946 0958" }, ""},
		{"address on two lines", func(c *Config) { c.Clinic.Address = "1 Main St\nSpringfield" }, ""},
		{"address with a control character", func(c *Config) { c.Clinic.Address = "1 Main St\x1b[31m" }, `clinic.address: must not hold control characters`},

		// webhook
		{"body limit too small", func(c *Config) { c.Webhook.MaxBodyBytes = 1023 }, `webhook.max_body_bytes: must be between 1024 (1 KiB) and 67108864 (64 MiB), got 1023`},
		{"body limit too large", func(c *Config) { c.Webhook.MaxBodyBytes = 64<<20 + 1 }, `webhook.max_body_bytes`},
		{"body limit bounds", func(c *Config) { c.Webhook.MaxBodyBytes = 1 << 10 }, ""},
		{"dedup retention under 3 days", func(c *Config) { c.Webhook.DedupRetention = Duration{71 * time.Hour} }, `webhook.dedup_retention: must be at least 72h (SMS.CX retries for up to 3 days), got 71h`},
		{"dedup retention 3 days", func(c *Config) { c.Webhook.DedupRetention = Duration{72 * time.Hour} }, ""},
		{"no apply workers", func(c *Config) { c.Webhook.ApplyWorkers = 0 }, `webhook.apply_workers: must be between 1 and 32, got 0`},
		{"too many apply workers", func(c *Config) { c.Webhook.ApplyWorkers = 33 }, `webhook.apply_workers: must be between 1 and 32, got 33`},
		{"32 apply workers", func(c *Config) { c.Webhook.ApplyWorkers = 32 }, ""},
		{"apply workers beyond the PostgreSQL pool", func(c *Config) {
			c.Database.Driver, c.Database.DSN, c.Database.MaxOpenConns, c.Webhook.ApplyWorkers = "postgres", "postgres://db/x", 10, 6
		}, `webhook.apply_workers: must be at most half of database.max_open_conns (10), so that the receiver keeps connections, got 6`},

		// log
		{"log level verbose", func(c *Config) { c.Log.Level = "verbose" }, `log.level: want one of "debug", "info", "warn", "error", got "verbose"`},
		{"log level upper case", func(c *Config) { c.Log.Level = "INFO" }, `log.level`},
		{"log format yaml", func(c *Config) { c.Log.Format = "yaml" }, `log.format: want one of "text", "json", got "yaml"`},

		// server limits
		{"no live streams", func(c *Config) { c.Server.LiveStreamsPerUser = 0 }, `server.live_streams_per_user: must be between 1 and 100, got 0`},
		{"too many live streams", func(c *Config) { c.Server.LiveStreamsPerUser = 101 }, `server.live_streams_per_user`},

		// replies
		{"no help answers", func(c *Config) { c.Replies.HelpAnswersPerDay = 0 }, `replies.help_answers_per_day: must be between 1 and 100, got 0`},
		{"too many stop answers", func(c *Config) { c.Replies.StopStartAnswersPerDay = 1000 }, `replies.stop_start_answers_per_day: must be between 1 and 100, got 1000`},

		// waitlist
		{"waitlist min notice negative", func(c *Config) { c.Waitlist.MinNotice = Duration{-time.Minute} }, `waitlist.min_notice: must be between 0s and 168h, got -1m`},
		{"waitlist batch zero", func(c *Config) { c.Waitlist.Batch = 0 }, `waitlist.batch: must be between 1 and 20, got 0`},
		{"waitlist batch too big", func(c *Config) { c.Waitlist.Batch = 21 }, `waitlist.batch: must be between 1 and 20, got 21`},
		{"waitlist offer ttl too short", func(c *Config) { c.Waitlist.OfferTTL = Duration{time.Minute} }, `waitlist.offer_ttl: must be between 5m and 24h, got 1m`},
		// reschedule
		{"offer ttl too short", func(c *Config) { c.Reschedule.OfferTTL = Duration{time.Minute} }, `reschedule.offer_ttl: must be between 10m and 168h, got 1m`},
		{"offer ttl too long", func(c *Config) { c.Reschedule.OfferTTL = Duration{8 * 24 * time.Hour} }, `reschedule.offer_ttl: must be between 10m and 168h`},

		// retention
		{"message text kept for ever", func(c *Config) { c.Retention.MessageText = Duration{} }, ""},
		{"message text kept one day", func(c *Config) { c.Retention.MessageText = Duration{24 * time.Hour} }, `retention.message_text: must be 0 (keep for ever) or at least 168h (7 days), got 24h`},
		{"negative audit retention", func(c *Config) { c.Retention.Audit = Duration{-time.Hour} }, `retention.audit: must be 0 (keep for ever) or at least 168h`},
		{"audit kept 7 days", func(c *Config) { c.Retention.Audit = Duration{168 * time.Hour} }, ""},

		// backup
		{"backup dir with a newline", func(c *Config) { c.Backup.Dir = "/var/backups\n" }, `backup.dir: must be a directory path`},
		{"backup dir with spaces around", func(c *Config) { c.Backup.Dir = " /var/backups" }, `backup.dir`},
		{"backup dir", func(c *Config) { c.Backup.Dir = "/var/backups/apptconfirm #1" }, ""},
		{"keep no backup", func(c *Config) { c.Backup.Keep = 0 }, `backup.keep: must be between 1 and 1000, got 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			tt.change(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %v\nwant it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.Server.Addr = "nope"
	cfg.Database.Driver = "oracle"
	cfg.Dispatch.Concurrency = 0
	cfg.Reminders.Rules[0].Before = Duration{}
	cfg.Clinic.Timezone = "Mars/Base"
	cfg.Log.Format = "xml"
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	wantKeys := []string{"server.addr", "database.driver", "dispatch.concurrency", "reminders.rules[0].before", "clinic.timezone", "log.format"}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(wantKeys) {
		t.Fatalf("Validate() reported %d problems, want %d:\n%v", len(lines), len(wantKeys), err)
	}
	for i, key := range wantKeys {
		if !strings.HasPrefix(lines[i], "config: "+key+": ") {
			t.Errorf("problem %d = %q, want it to name %s", i, lines[i], key)
		}
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Key != "server.addr" {
		t.Errorf("errors.As(*FieldError) = %+v, want the server.addr problem", fe)
	}
}

func TestValidateNormalisesURLs(t *testing.T) {
	cfg := Default()
	cfg.Server.PublicURL = "https://clinic.example.org/appt//"
	cfg.SMSCX.BaseURL = "https://api.sms.cx/"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Server.PublicURL != "https://clinic.example.org/appt" {
		t.Errorf("public_url = %q", cfg.Server.PublicURL)
	}
	if cfg.SMSCX.BaseURL != "https://api.sms.cx" {
		t.Errorf("base_url = %q", cfg.SMSCX.BaseURL)
	}
	if got := cfg.WebhookURL("s"); got != "https://clinic.example.org/appt/webhooks/smscx/s" {
		t.Errorf("WebhookURL = %q", got)
	}
}

func TestClinicClockFollowsTheLanguage(t *testing.T) {
	for _, tc := range []struct {
		lang, clock string
		twelve      bool
	}{
		{"en", "", true},
		{"fr", "", false},
		{"de", "", false},
		{"en", "24h", false},
		{"fr", "12h", true},
	} {
		if got := (Clinic{Language: tc.lang, Clock: tc.clock}).TwelveHourClock(); got != tc.twelve {
			t.Errorf("language %q, clock %q: 12h = %v, want %v", tc.lang, tc.clock, got, tc.twelve)
		}
	}
}
