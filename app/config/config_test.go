package config

import (
	"encoding/json"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// custom returns a valid configuration in which every key differs from its
// default.
func custom() Config {
	return Config{
		Server: Server{
			Addr:                   "127.0.0.1:9090",
			PublicURL:              "https://clinic.example.org",
			TrustedProxies:         []string{"10.0.0.0/8", "192.0.2.7"},
			ReadHeaderTimeout:      Duration{3 * time.Second},
			ReadTimeout:            Duration{20 * time.Second},
			WriteTimeout:           Duration{45 * time.Second},
			IdleTimeout:            Duration{2 * time.Minute},
			ShutdownTimeout:        Duration{25 * time.Second},
			SessionLifetime:        Duration{8 * time.Hour},
			SecureCookies:          "true",
			AllowInsecurePublicURL: true,
			LiveStreamsPerUser:     3,
		},
		Database: Database{
			Driver:            "postgres",
			DSN:               "postgres://app:pw@db.example.org:5432/appt?sslmode=require",
			AutoMigrate:       false,
			MaxOpenConns:      12,
			SQLiteSynchronous: "full",
		},
		SMSCX: SMSCX{
			Mode:          ModeLive,
			BaseURL:       "https://sandbox.sms.cx",
			APIKey:        "key-123",
			ClientID:      "cid",
			ClientSecret:  "csecret",
			Sender:        "MyClinic",
			WebhookSecret: "abcdefghijklmnop-_.~",
			Timeout:       Duration{10 * time.Second},
		},
		Dispatch: Dispatch{
			Interval:    Duration{30 * time.Second},
			Concurrency: 8,
			BatchSize:   50,
			MaxAttempts: 3,
			Lease:       Duration{5 * time.Minute},
			BackoffBase: Duration{time.Minute},
			BackoffMax:  Duration{time.Hour},
		},
		Reminders: Reminders{
			Rules: []Rule{
				{Name: "24h", Before: Duration{24 * time.Hour}, Template: "See you {date}, {first_name}", OnlyIfUnconfirmed: true},
				{Name: "90m", Before: Duration{90 * time.Minute}, Template: "Soon: {time}"},
			},
			QuietHours:          QuietHours{Start: "22:00", End: "07:30"},
			CapPerDay:           2,
			CapPerWeek:          5,
			BookingConfirmation: true,
			CancellationNotice:  false,
			RescheduleNotice:    false,
			MinLead:             Duration{90 * time.Minute},
		},
		Clinic: Clinic{
			Name:     "Cabinet Dupont",
			Timezone: "Europe/Paris",
			Country:  "FR",
			Phone:    "+33 1 42 68 53 00",
			Address:  "1 rue de Rivoli, Paris",
			Language: "fr",
			Clock:    "12h",
		},
		Webhook:          Webhook{MaxBodyBytes: 2 << 20, DedupRetention: Duration{240 * time.Hour}, ApplyWorkers: 6},
		Log:              Log{Level: "debug", Format: "json"},
		Replies:          Replies{HelpAnswersPerDay: 1, StopStartAnswersPerDay: 5},
		Retention:        Retention{MessageText: Duration{90 * 24 * time.Hour}, Audit: Duration{0}},
		Backup:           Backup{Dir: "/var/backups/apptconfirm", Keep: 30},
		Import:           Import{MaxBytes: 10 << 20},
		OutboundWebhooks: OutboundWebhooks{AllowPrivate: true, Concurrency: 9},
		Reschedule:       Reschedule{AutoOffer: true, OfferTTL: Duration{6 * time.Hour}},
		NoShow:           NoShow{AutoMark: true, FollowUp: true},
		Waitlist:         Waitlist{MinNotice: Duration{90 * time.Minute}, Batch: 5, OfferTTL: Duration{45 * time.Minute}},
	}
}

// field returns the value of one setting in cfg.
func field(cfg *Config, s setting) reflect.Value {
	return reflect.ValueOf(cfg).Elem().FieldByIndex(s.index)
}

func TestDefaultIsValid(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Error("Validate changed the defaults")
	}
}

func TestCustomDiffersInEveryKey(t *testing.T) {
	def, cus := Default(), custom()
	if err := cus.Validate(); err != nil {
		t.Fatalf("custom().Validate() = %v", err)
	}
	for _, s := range settings() {
		if reflect.DeepEqual(field(&def, s).Interface(), field(&cus, s).Interface()) {
			t.Errorf("custom() leaves %s at its default; the round-trip tests would not cover it", s.key)
		}
	}
}

func TestRepoConfigYAMLEqualsDefault(t *testing.T) {
	cfg, err := Load("../../config.yaml", nil)
	if err != nil {
		t.Fatalf("Load(config.yaml) = %v", err)
	}
	if want := Default(); !reflect.DeepEqual(cfg, want) {
		t.Errorf("config.yaml differs from Default():\n got %v\nwant %v", cfg, want)
	}
}

func TestRepoConfigYAMLListsEveryKeyWithAComment(t *testing.T) {
	data, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		section, body := root.Content[i], root.Content[i+1]
		for j := 0; j+1 < len(body.Content); j += 2 {
			key := body.Content[j]
			name := section.Value + "." + key.Value
			found[name] = true
			if strings.Trim(key.HeadComment, "# \t\n") == "" {
				t.Errorf("config.yaml: %s (line %d) has no comment above it", name, key.Line)
			}
		}
	}
	for _, s := range settings() {
		if !found[s.key] {
			t.Errorf("config.yaml does not list %s", s.key)
		}
	}
}

func TestRepoConfigYAMLHoldsNoSecrets(t *testing.T) {
	cfg, err := Load("../../config.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]string{
		"smscx.api_key":        cfg.SMSCX.APIKey,
		"smscx.client_secret":  cfg.SMSCX.ClientSecret,
		"smscx.webhook_secret": cfg.SMSCX.WebhookSecret,
	} {
		if v != "" {
			t.Errorf("config.yaml sets the secret %s", key)
		}
	}
}

// TestEveryKeyRoundTrips sets every key to a non-default value, once through
// the environment and once through a YAML file, and checks Load reads it back.
func TestEveryKeyRoundTrips(t *testing.T) {
	want := custom()

	t.Run("env", func(t *testing.T) {
		var env []string
		for _, s := range settings() {
			env = append(env, s.env+"="+envValue(t, field(&want, s)))
		}
		got, err := Load("", env)
		if err != nil {
			t.Fatalf("Load = %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %#v\nwant %#v", got, want)
		}
	})

	t.Run("yaml", func(t *testing.T) {
		data, err := yaml.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		path := writeFile(t, string(data))
		got, err := Load(path, nil)
		if err != nil {
			t.Fatalf("Load = %v\n%s", err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %#v\nwant %#v", got, want)
		}
	})
}

// envValue formats v as an environment variable's value.
func envValue(t *testing.T, v reflect.Value) string {
	t.Helper()
	switch x := v.Interface().(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case Duration:
		return x.String()
	case QuietHours:
		return x.Start + "-" + x.End
	default:
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

func TestSMSCXMode(t *testing.T) {
	tests := []struct {
		name  string
		smscx SMSCX
		want  string
	}{
		{"empty without credentials", SMSCX{}, ModeSimulate},
		{"empty with api key", SMSCX{APIKey: "k"}, ModeLive},
		{"empty with oauth", SMSCX{ClientID: "i", ClientSecret: "s"}, ModeLive},
		{"explicit simulate with key", SMSCX{Mode: ModeSimulate, APIKey: "k"}, ModeSimulate},
		{"explicit live", SMSCX{Mode: ModeLive}, ModeLive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Config{SMSCX: tt.smscx}).SMSCXMode(); got != tt.want {
				t.Errorf("SMSCXMode() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWebhookURL(t *testing.T) {
	tests := []struct{ publicURL, secret, want string }{
		{"http://localhost:8080", "abc", "http://localhost:8080/webhooks/smscx/abc"},
		{"https://clinic.example.org/", "s3cr3t-_.~", "https://clinic.example.org/webhooks/smscx/s3cr3t-_.~"},
		{"https://example.org/appt", "x/y", "https://example.org/appt/webhooks/smscx/x%2Fy"},
	}
	for _, tt := range tests {
		t.Run(tt.publicURL, func(t *testing.T) {
			cfg := Default()
			cfg.Server.PublicURL = tt.publicURL
			if got := cfg.WebhookURL(tt.secret); got != tt.want {
				t.Errorf("WebhookURL(%q) = %q, want %q", tt.secret, got, tt.want)
			}
		})
	}
}

func TestLocation(t *testing.T) {
	cfg := Default()
	cfg.Clinic.Timezone = "America/New_York"
	if got := cfg.Location().String(); got != "America/New_York" {
		t.Errorf("Location() = %s", got)
	}
	cfg.Clinic.Timezone = "Mars/Base"
	if got := cfg.Location(); got != time.UTC {
		t.Errorf("Location() for a bad zone = %v, want UTC", got)
	}
}

func TestCookieSecure(t *testing.T) {
	tests := []struct {
		setting, publicURL string
		want               bool
	}{
		{"auto", "http://localhost:8080", false},
		{"auto", "https://clinic.example.org", true},
		{"true", "http://localhost:8080", true},
		{"false", "https://clinic.example.org", false},
	}
	for _, tt := range tests {
		t.Run(tt.setting+" "+tt.publicURL, func(t *testing.T) {
			cfg := Default()
			cfg.Server.SecureCookies, cfg.Server.PublicURL = tt.setting, tt.publicURL
			if got := cfg.CookieSecure(); got != tt.want {
				t.Errorf("CookieSecure() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDatabaseMaxOpenConns(t *testing.T) {
	tests := []struct {
		driver string
		set    int
		want   int
	}{
		{"sqlite", 0, 8},
		{"postgres", 0, 20},
		{"postgres", 5, 5},
		{"sqlite", 1, 1},
	}
	for _, tt := range tests {
		cfg := Default()
		cfg.Database.Driver, cfg.Database.MaxOpenConns = tt.driver, tt.set
		if got := cfg.DatabaseMaxOpenConns(); got != tt.want {
			t.Errorf("%s with %d: DatabaseMaxOpenConns() = %d, want %d", tt.driver, tt.set, got, tt.want)
		}
	}
}

func TestQuietHoursMinutes(t *testing.T) {
	tests := []struct {
		q                QuietHours
		start, end       int
		ok, wantsEnabled bool
	}{
		{QuietHours{"21:00", "08:00"}, 21 * 60, 8 * 60, true, true},
		{QuietHours{"00:00", "23:59"}, 0, 23*60 + 59, true, true},
		{QuietHours{}, 0, 0, false, false},
		{QuietHours{"24:00", "08:00"}, 0, 0, false, true},
		{QuietHours{"9:00", "08:00"}, 0, 0, false, true},
	}
	for _, tt := range tests {
		start, end, ok := tt.q.Minutes()
		if start != tt.start || end != tt.end || ok != tt.ok {
			t.Errorf("%+v.Minutes() = %d, %d, %v; want %d, %d, %v", tt.q, start, end, ok, tt.start, tt.end, tt.ok)
		}
		if got := tt.q.Enabled(); got != tt.wantsEnabled {
			t.Errorf("%+v.Enabled() = %v", tt.q, got)
		}
	}
}

func TestSlogLevel(t *testing.T) {
	for level, want := range map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		if got := (Log{Level: level}).SlogLevel(); got != want {
			t.Errorf("SlogLevel(%q) = %v, want %v", level, got, want)
		}
	}
}
