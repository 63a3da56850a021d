package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeFile writes a config file into a fresh temporary directory.
func writeFile(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		// want edits Default() into the expected configuration; nil when
		// an error is expected.
		want func(*Config)
		// wantErr lists substrings that must all appear in the error.
		wantErr []string
	}{
		// Files.
		{name: "empty file", yaml: "", want: func(*Config) {}},
		{name: "comments only", yaml: "# nothing here\n", want: func(*Config) {}},
		{name: "empty document", yaml: "---\n", want: func(*Config) {}},
		{
			name: "file overrides keep the rest of each section",
			yaml: `
server:
  addr: "127.0.0.1:9000"
  public_url: https://clinic.example.org/
  trusted_proxies: ["10.0.0.0/8", "::1"]
dispatch:
  concurrency: 8
  interval: 1m
database:
  auto_migrate: false
webhook:
  max_body_bytes: 2048
`,
			want: func(c *Config) {
				c.Server.Addr = "127.0.0.1:9000"
				c.Server.PublicURL = "https://clinic.example.org" // trailing slash dropped
				c.Server.TrustedProxies = []string{"10.0.0.0/8", "::1"}
				c.Dispatch.Concurrency = 8
				c.Dispatch.Interval = Duration{time.Minute}
				c.Database.AutoMigrate = false
				c.Webhook.MaxBodyBytes = 2048
			},
		},
		{
			name: "rules and quiet hours from the file",
			yaml: `
reminders:
  rules:
    - name: day-before
      before: 24h
      template: "Hi {first_name}, tomorrow at {time}."
  quiet_hours: {start: "22:30", end: "07:00"}
`,
			want: func(c *Config) {
				c.Reminders.Rules = []Rule{{Name: "day-before", Before: Duration{24 * time.Hour}, Template: "Hi {first_name}, tomorrow at {time}."}}
				c.Reminders.QuietHours = QuietHours{Start: "22:30", End: "07:00"}
			},
		},
		{
			name: "empty quiet hours and no rules",
			yaml: "reminders:\n  rules: []\n  quiet_hours: {start: \"\", end: \"\"}\n",
			want: func(c *Config) {
				c.Reminders.Rules = nil
				c.Reminders.QuietHours = QuietHours{}
			},
		},
		{
			name: "an empty value keeps the default",
			yaml: "server:\n  addr:\n  read_timeout: ~\nclinic:\n",
			want: func(*Config) {},
		},
		{
			name: "quoted numbers and yes/no booleans",
			yaml: "dispatch:\n  concurrency: \"8\"\nreminders:\n  booking_confirmation: yes\n  cancellation_notice: \"false\"\n",
			want: func(c *Config) {
				c.Dispatch.Concurrency = 8
				c.Reminders.BookingConfirmation = true
				c.Reminders.CancellationNotice = false
			},
		},
		{
			name: "anchors and aliases",
			yaml: "server:\n  read_timeout: &t 40s\n  write_timeout: *t\n",
			want: func(c *Config) {
				c.Server.ReadTimeout = Duration{40 * time.Second}
				c.Server.WriteTimeout = Duration{40 * time.Second}
			},
		},

		// Environment variables, one of each type.
		{
			name: "env string",
			env:  []string{"APPTCONFIRM_SERVER_PUBLIC_URL=https://clinic.example.org/", "APPTCONFIRM_SMSCX_SENDER=DrSmith"},
			want: func(c *Config) {
				c.Server.PublicURL = "https://clinic.example.org"
				c.SMSCX.Sender = "DrSmith"
			},
		},
		{
			name: "env secrets switch to live",
			env:  []string{"APPTCONFIRM_SMSCX_API_KEY=sk_test_123", "APPTCONFIRM_SERVER_PUBLIC_URL=https://clinic.example.org"},
			want: func(c *Config) { c.SMSCX.APIKey, c.Server.PublicURL = "sk_test_123", "https://clinic.example.org" },
		},
		{
			name:    "live mode refuses an http public_url",
			env:     []string{"APPTCONFIRM_SMSCX_API_KEY=sk_test_123"},
			wantErr: []string{`config: server.public_url: live mode needs an https:// URL`, `"http://localhost:8080"`, "server.allow_insecure_public_url"},
		},
		{
			name: "live mode with an http public_url allowed",
			env:  []string{"APPTCONFIRM_SMSCX_API_KEY=sk_test_123", "APPTCONFIRM_SERVER_ALLOW_INSECURE_PUBLIC_URL=true"},
			want: func(c *Config) { c.SMSCX.APIKey, c.Server.AllowInsecurePublicURL = "sk_test_123", true },
		},
		{
			name: "env bool",
			env:  []string{"APPTCONFIRM_DATABASE_AUTO_MIGRATE=false", "APPTCONFIRM_REMINDERS_BOOKING_CONFIRMATION=1"},
			want: func(c *Config) {
				c.Database.AutoMigrate = false
				c.Reminders.BookingConfirmation = true
			},
		},
		{
			name: "env int and int64",
			env:  []string{"APPTCONFIRM_DISPATCH_CONCURRENCY=8", "APPTCONFIRM_WEBHOOK_MAX_BODY_BYTES=2048"},
			want: func(c *Config) {
				c.Dispatch.Concurrency = 8
				c.Webhook.MaxBodyBytes = 2048
			},
		},
		{
			name: "env duration",
			env:  []string{"APPTCONFIRM_DISPATCH_INTERVAL=1m30s", "APPTCONFIRM_WEBHOOK_DEDUP_RETENTION=240h"},
			want: func(c *Config) {
				c.Dispatch.Interval = Duration{90 * time.Second}
				c.Webhook.DedupRetention = Duration{240 * time.Hour}
			},
		},
		{
			name: "env comma-separated list",
			env:  []string{"APPTCONFIRM_SERVER_TRUSTED_PROXIES= 10.0.0.0/8, 192.168.1.1 ,"},
			want: func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.1"} },
		},
		{
			name: "env JSON list",
			env:  []string{`APPTCONFIRM_SERVER_TRUSTED_PROXIES=["::1", "fd00::/8"]`},
			want: func(c *Config) { c.Server.TrustedProxies = []string{"::1", "fd00::/8"} },
		},
		{
			name: "env empty list clears the file's",
			yaml: "server:\n  trusted_proxies: [10.0.0.1]\n",
			env:  []string{"APPTCONFIRM_SERVER_TRUSTED_PROXIES="},
			want: func(c *Config) { c.Server.TrustedProxies = nil },
		},
		{
			name: "env quiet hours",
			env:  []string{"APPTCONFIRM_REMINDERS_QUIET_HOURS=22:30-07:00"},
			want: func(c *Config) { c.Reminders.QuietHours = QuietHours{Start: "22:30", End: "07:00"} },
		},
		{
			name: "env quiet hours as JSON",
			env:  []string{`APPTCONFIRM_REMINDERS_QUIET_HOURS={"start": "20:00", "end": "09:00"}`},
			want: func(c *Config) { c.Reminders.QuietHours = QuietHours{Start: "20:00", End: "09:00"} },
		},
		{
			name: "env empty quiet hours means none",
			env:  []string{"APPTCONFIRM_REMINDERS_QUIET_HOURS="},
			want: func(c *Config) { c.Reminders.QuietHours = QuietHours{} },
		},
		{
			name: "env rules as JSON",
			env: []string{`APPTCONFIRM_REMINDERS_RULES=[{"name":"24h","before":"24h","template":"Hi {first_name}","only_if_unconfirmed":true},` +
				`{"name":"1h","before":"1h","template":"Soon"}]`},
			want: func(c *Config) {
				c.Reminders.Rules = []Rule{
					{Name: "24h", Before: Duration{24 * time.Hour}, Template: "Hi {first_name}", OnlyIfUnconfirmed: true},
					{Name: "1h", Before: Duration{time.Hour}, Template: "Soon"},
				}
			},
		},
		{
			name: "env overrides the file",
			yaml: "clinic:\n  timezone: Europe/Paris\n  country: FR\n",
			env:  []string{"APPTCONFIRM_CLINIC_TIMEZONE=America/Chicago"},
			want: func(c *Config) {
				c.Clinic.Timezone = "America/Chicago"
				c.Clinic.Country = "FR"
			},
		},
		{
			name: "the last of a repeated variable wins",
			env:  []string{"APPTCONFIRM_LOG_LEVEL=debug", "APPTCONFIRM_LOG_LEVEL=warn"},
			want: func(c *Config) { c.Log.Level = "warn" },
		},
		{
			name: "other variables are ignored",
			env:  []string{"PATH=/usr/bin", "APPTCONFIRMX=1", "apptconfirm_log_level=nonsense", "HOME"},
			want: func(*Config) {},
		},
		{
			name: "the first-admin variables are not configuration keys",
			env:  []string{EnvAdminEmail + "=admin@clinic.example", EnvAdminPassword + "=hunter2hunter2"},
			want: func(*Config) {},
		},

		// Errors in the file.
		{
			name:    "unknown section",
			yaml:    "servr:\n  addr: ':1'\n",
			wantErr: []string{"config.yaml:1: servr: unknown key", `did you mean "server"`},
		},
		{
			name:    "unknown key",
			yaml:    "server:\n  addr: ':1'\n  listen: ':2'\n",
			wantErr: []string{"config.yaml:3: server.listen: unknown key"},
		},
		{
			name:    "unknown key in a rule",
			yaml:    "reminders:\n  rules:\n    - name: a\n      befor: 1h\n      before: 1h\n      template: t\n",
			wantErr: []string{"config.yaml:4: reminders.rules[0].befor: unknown key", `did you mean "reminders.rules[0].before"`},
		},
		{
			name:    "unknown key in quiet hours",
			yaml:    "reminders:\n  quiet_hours: {from: '21:00'}\n",
			wantErr: []string{"reminders.quiet_hours.from: unknown key"},
		},
		{
			name:    "every unknown key is reported",
			yaml:    "server:\n  a: 1\n  b: 2\nlog:\n  c: 3\n",
			wantErr: []string{"server.a: unknown key", "server.b: unknown key", "log.c: unknown key"},
		},
		{
			name:    "key set twice",
			yaml:    "log:\n  level: info\n  level: debug\n",
			wantErr: []string{"config.yaml:3: log.level: set twice (first at line 2)"},
		},
		{
			name:    "not an integer",
			yaml:    "dispatch:\n  concurrency: many\n",
			wantErr: []string{"config.yaml:2: dispatch.concurrency: want an integer, got \"many\""},
		},
		{
			name:    "not a bool",
			yaml:    "database:\n  auto_migrate: maybe\n",
			wantErr: []string{"database.auto_migrate: want true or false, got \"maybe\""},
		},
		{
			name:    "no_show.auto_mark not a bool",
			yaml:    "no_show:\n  auto_mark: sometimes\n",
			wantErr: []string{"config.yaml:2: no_show.auto_mark: want true or false, got \"sometimes\""},
		},
		{
			name:    "a scalar for a list",
			yaml:    "server:\n  trusted_proxies: 10.0.0.1\n",
			wantErr: []string{"server.trusted_proxies: want a list, got a single value"},
		},
		{
			name:    "a list for a section",
			yaml:    "server: [1, 2]\n",
			wantErr: []string{"config.yaml:1: server: want a mapping of keys, got a list"},
		},
		{
			name:    "a list for a string",
			yaml:    "clinic:\n  name: [a]\n",
			wantErr: []string{"clinic.name: want a string, got a list"},
		},
		{
			name:    "a mapping for rules",
			yaml:    "reminders:\n  rules: {name: a}\n",
			wantErr: []string{"reminders.rules: want a list, got a mapping"},
		},
		{
			name:    "the document is not a mapping",
			yaml:    "- server\n",
			wantErr: []string{"want a mapping of sections"},
		},
		{
			name:    "YAML syntax error",
			yaml:    "server:\n  addr: [\n",
			wantErr: []string{"config.yaml: yaml:"},
		},
		{
			name:    "two documents",
			yaml:    "log: {level: info}\n---\nlog: {level: debug}\n",
			wantErr: []string{"one YAML document"},
		},
		{
			name:    "merge keys",
			yaml:    "base: &b {addr: ':1'}\nserver:\n  <<: *b\n",
			wantErr: []string{"merge keys"},
		},
		{
			name:    "bad duration in the file",
			yaml:    "dispatch:\n  interval: 15\n",
			wantErr: []string{"config.yaml:2: dispatch.interval: invalid duration \"15\""},
		},
		{
			name:    "a list for a duration",
			yaml:    "dispatch:\n  interval: [15s]\n",
			wantErr: []string{"dispatch.interval: want a duration"},
		},

		// Errors in the environment.
		{
			name:    "unknown env var",
			env:     []string{"APPTCONFIRM_SMSCX_APIKEY=x"},
			wantErr: []string{"env APPTCONFIRM_SMSCX_APIKEY: no such configuration key", `did you mean "APPTCONFIRM_SMSCX_API_KEY"`},
		},
		{
			name:    "env var for a part of a key",
			env:     []string{"APPTCONFIRM_REMINDERS_QUIET_HOURS_START=21:00"},
			wantErr: []string{`did you mean "APPTCONFIRM_REMINDERS_QUIET_HOURS"`},
		},
		{
			name:    "unknown env var, nothing close",
			env:     []string{"APPTCONFIRM_CONFIG=/etc/apptconfirm.yaml"},
			wantErr: []string{"env APPTCONFIRM_CONFIG: no such configuration key"},
		},
		{
			name:    "bad duration in the environment",
			env:     []string{"APPTCONFIRM_DISPATCH_INTERVAL=soon"},
			wantErr: []string{"env APPTCONFIRM_DISPATCH_INTERVAL: dispatch.interval: invalid duration \"soon\""},
		},
		{
			name:    "bad bool in the environment",
			env:     []string{"APPTCONFIRM_DATABASE_AUTO_MIGRATE=yes please"},
			wantErr: []string{"env APPTCONFIRM_DATABASE_AUTO_MIGRATE: database.auto_migrate: want true or false"},
		},
		{
			name:    "bad no_show.follow_up in the environment",
			env:     []string{"APPTCONFIRM_NO_SHOW_FOLLOW_UP=often"},
			wantErr: []string{"env APPTCONFIRM_NO_SHOW_FOLLOW_UP: no_show.follow_up: want true or false"},
		},
		{
			name:    "empty int in the environment",
			env:     []string{"APPTCONFIRM_DISPATCH_BATCH_SIZE="},
			wantErr: []string{"dispatch.batch_size: want an integer, got \"\""},
		},
		{
			name:    "rules env not JSON",
			env:     []string{"APPTCONFIRM_REMINDERS_RULES=48h,2h"},
			wantErr: []string{"env APPTCONFIRM_REMINDERS_RULES: reminders.rules: want a JSON list"},
		},
		{
			name:    "rules env with an unknown field",
			env:     []string{`APPTCONFIRM_REMINDERS_RULES=[{"name":"a","before":"1h","template":"t","when":"now"}]`},
			wantErr: []string{"reminders.rules: want a JSON list", `unknown field "when"`},
		},
		{
			name:    "rules env with a bad duration",
			env:     []string{`APPTCONFIRM_REMINDERS_RULES=[{"name":"a","before":"one day","template":"t"}]`},
			wantErr: []string{`invalid duration "one day"`},
		},
		{
			name:    "rules env with trailing data",
			env:     []string{`APPTCONFIRM_REMINDERS_RULES=[] []`},
			wantErr: []string{"unexpected data after the JSON value"},
		},
		{
			name:    "bad JSON list of strings",
			env:     []string{`APPTCONFIRM_SERVER_TRUSTED_PROXIES=["10.0.0.1"`},
			wantErr: []string{"server.trusted_proxies: want a JSON list of strings"},
		},

		// Validation through Load.
		{
			name:    "bad time zone",
			yaml:    "clinic:\n  timezone: Mars/Base\n",
			wantErr: []string{`config: clinic.timezone: unknown time zone "Mars/Base"`},
		},
		{
			name:    "unknown driver",
			env:     []string{"APPTCONFIRM_DATABASE_DRIVER=mysql"},
			wantErr: []string{`config: database.driver: want one of "sqlite", "postgres", got "mysql"`},
		},
		{
			name:    "bad quiet hours in the file",
			yaml:    "reminders:\n  quiet_hours: {start: '24:00', end: '8am'}\n",
			wantErr: []string{`reminders.quiet_hours.start: want HH:MM between 00:00 and 23:59, got "24:00"`, `reminders.quiet_hours.end: want HH:MM between 00:00 and 23:59, got "8am"`},
		},
		{
			name:    "quiet hours with only a start",
			yaml:    "reminders:\n  quiet_hours: {start: '21:00', end: ''}\n",
			wantErr: []string{"reminders.quiet_hours: set both start and end, or neither"},
		},
		{
			name:    "bad quiet hours in the environment",
			env:     []string{"APPTCONFIRM_REMINDERS_QUIET_HOURS=21:00"},
			wantErr: []string{`env APPTCONFIRM_REMINDERS_QUIET_HOURS: reminders.quiet_hours: want "HH:MM-HH:MM"`},
		},
		{
			name:    "bad quiet hours times in the environment",
			env:     []string{"APPTCONFIRM_REMINDERS_QUIET_HOURS=21:00-8:00"},
			wantErr: []string{`reminders.quiet_hours.end: want HH:MM between 00:00 and 23:59, got "8:00"`},
		},
		{
			name:    "live without credentials",
			env:     []string{"APPTCONFIRM_SMSCX_MODE=live"},
			wantErr: []string{"config: smscx.api_key: live mode needs credentials", "smscx.client_id", "smscx.client_secret"},
		},
		{
			name:    "half of the OAuth2 pair",
			env:     []string{"APPTCONFIRM_SMSCX_CLIENT_ID=clinic-42"},
			wantErr: []string{"config: smscx.client_secret: smscx.client_id and smscx.client_secret go together"},
		},
		{
			name: "live with OAuth2 credentials",
			env:  []string{"APPTCONFIRM_SMSCX_MODE=live", "APPTCONFIRM_SMSCX_CLIENT_ID=id", "APPTCONFIRM_SMSCX_CLIENT_SECRET=secret", "APPTCONFIRM_SERVER_PUBLIC_URL=https://x.example"},
			want: func(c *Config) {
				c.Server.PublicURL = "https://x.example"
				c.SMSCX.Mode = ModeLive
				c.SMSCX.ClientID = "id"
				c.SMSCX.ClientSecret = "secret"
			},
		},
		{
			name: "file, environment and validation problems are reported together",
			yaml: "server:\n  port: 80\nclinic:\n  timezone: Mars/Base\n",
			env:  []string{"APPTCONFIRM_LOG_LEVELS=debug", "APPTCONFIRM_DISPATCH_CONCURRENCY=0"},
			wantErr: []string{
				"server.port: unknown key",
				"env APPTCONFIRM_LOG_LEVELS: no such configuration key",
				"clinic.timezone: unknown time zone",
				"dispatch.concurrency: must be between 1 and 256, got 0",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.yaml)
			got, err := Load(path, tt.env)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("Load succeeded, want an error containing %q", tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error does not contain %q:\n%v", want, err)
					}
				}
				if !reflect.DeepEqual(got, Config{}) {
					t.Error("Load returned a non-zero Config with its error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Load = %v", err)
			}
			want := Default()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

func TestLoadWithoutFile(t *testing.T) {
	got, err := Load("", nil)
	if err != nil {
		t.Fatalf("Load(\"\", nil) = %v", err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("Load(\"\", nil) = %v, want the defaults", got)
	}
}

func TestLoadMissingFileIsAnError(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestLoadErrorsAreFieldErrors(t *testing.T) {
	path := writeFile(t, "server:\n  nope: 1\n")
	_, err := Load(path, []string{"APPTCONFIRM_NOPE=1", "APPTCONFIRM_CLINIC_TIMEZONE=Mars/Base"})
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Load error %T does not unwrap to a list", err)
	}
	var keys []string
	var collect func(error)
	collect = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				collect(e)
			}
			return
		}
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%v is a %T, not a *FieldError", err, err)
			return
		}
		keys = append(keys, fe.Source+"|"+fe.Key)
	}
	collect(joined.(error))
	want := []string{path + ":2|server.nope", "env APPTCONFIRM_NOPE|", "|clinic.timezone"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("sources and keys = %q, want %q", keys, want)
	}
}

func TestLoadIgnoresTestAndBenchVariables(t *testing.T) {
	env := []string{"APPTCONFIRM_TEST_REQUIRE_POSTGRES=1", "APPTCONFIRM_BENCH_LARGE=1", "APPTCONFIRM_SERVER_ADDR=:9090"}
	cfg, err := Load("", env)
	if err != nil {
		t.Fatalf("Load with test knobs set: %v", err)
	}
	if cfg.Server.Addr != ":9090" {
		t.Fatalf("server.addr = %q", cfg.Server.Addr)
	}
	if _, err := Load("", []string{"APPTCONFIRM_TESTS=1"}); err == nil {
		t.Fatal("APPTCONFIRM_TESTS (no underscore after TEST) was accepted as a knob")
	}
}
