package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const (
	testAPIKey        = "sk_live_APIKEY_0123456789"
	testClientSecret  = "cs_CLIENTSECRET_987654"
	testWebhookSecret = "whsec_WEBHOOKSECRET_abcdef"
	testDBPassword    = "DBPASSWORD_hunter2"
)

func withSecrets() Config {
	cfg := Default()
	cfg.SMSCX.APIKey = testAPIKey
	cfg.SMSCX.ClientID = "client-id"
	cfg.SMSCX.ClientSecret = testClientSecret
	cfg.SMSCX.WebhookSecret = testWebhookSecret
	cfg.Database.Driver = "postgres"
	cfg.Database.DSN = "postgres://app:" + testDBPassword + "@db.internal:5432/appt"
	return cfg
}

func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testAPIKey, testClientSecret, testWebhookSecret, testDBPassword} {
		if strings.Contains(s, secret) {
			t.Errorf("%s reveals %q:\n%s", what, secret, s)
		}
	}
}

func TestSecretsNotInFormattedOutput(t *testing.T) {
	cfg := withSecrets()
	formats := map[string]string{
		"%v":                fmt.Sprintf("%v", cfg),
		"%+v":               fmt.Sprintf("%+v", cfg),
		"%#v":               fmt.Sprintf("%#v", cfg),
		"%s":                fmt.Sprintf("%s", cfg), //nolint:staticcheck // the %s verb itself is under test
		"%v of a pointer":   fmt.Sprintf("%v", &cfg),
		"String":            cfg.String(),
		"%v of smscx":       fmt.Sprintf("%v", cfg.SMSCX),
		"%+v of smscx":      fmt.Sprintf("%+v", cfg.SMSCX),
		"%#v of smscx":      fmt.Sprintf("%#v", cfg.SMSCX),
		"%v of database":    fmt.Sprintf("%v", cfg.Database),
		"%#v of database":   fmt.Sprintf("%#v", cfg.Database),
		"%v of Redacted":    fmt.Sprintf("%+v", cfg.Redacted().SMSCX.APIKey+cfg.Redacted().SMSCX.ClientSecret+cfg.Redacted().Database.DSN),
		"%v in a struct":    fmt.Sprintf("%+v", struct{ C Config }{cfg}),
		"%v in a slice":     fmt.Sprintf("%v", []Config{cfg}),
		"%v of a sub-field": fmt.Sprintf("%+v", struct{ S SMSCX }{cfg.SMSCX}),
	}
	for name, out := range formats {
		assertNoSecrets(t, name, out)
	}
	if !strings.Contains(cfg.String(), "APIKey:"+RedactedMark) {
		t.Errorf("String() does not show that the API key is set:\n%s", cfg.String())
	}
	if !strings.Contains(cfg.String(), "Addr::8080") {
		t.Errorf("String() lost the non-secret values:\n%s", cfg.String())
	}
}

func TestSecretsNotInLogs(t *testing.T) {
	cfg := withSecrets()
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(h(&buf)).Info("config loaded", "config", cfg, "smscx", cfg.SMSCX, "database", cfg.Database)
			out := buf.String()
			assertNoSecrets(t, "log line", out)
			for _, want := range []string{"server", "addr", ":8080", "client-id", "db.internal", "48h"} {
				if !strings.Contains(out, want) {
					t.Errorf("log line lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestRedactedLeavesTheOriginalAlone(t *testing.T) {
	cfg := withSecrets()
	r := cfg.Redacted()
	if cfg.SMSCX.APIKey != testAPIKey || !strings.Contains(cfg.Database.DSN, testDBPassword) {
		t.Error("Redacted changed its receiver")
	}
	if r.SMSCX.APIKey != RedactedMark || r.SMSCX.ClientSecret != RedactedMark || r.SMSCX.WebhookSecret != RedactedMark {
		t.Errorf("Redacted SMSCX = %+v", r.SMSCX)
	}
	if r.SMSCX.ClientID != "client-id" {
		t.Errorf("Redacted hid the client id, which is not a secret")
	}
	r.Reminders.Rules[0].Name = "changed"
	if cfg.Reminders.Rules[0].Name == "changed" {
		t.Error("Redacted shares the rules slice with its receiver")
	}
	if empty := Default().Redacted(); empty.SMSCX.APIKey != "" {
		t.Errorf("an unset secret shows as %q, want empty", empty.SMSCX.APIKey)
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"apptconfirm.db", "apptconfirm.db"},
		{"file:apptconfirm.db?_pragma=busy_timeout(5000)", "file:apptconfirm.db?_pragma=busy_timeout(5000)"},
		{"postgres://app:secret@db:5432/appt", "postgres://app:[redacted]@db:5432/appt"},
		{"postgres://app@db/appt", "postgres://app@db/appt"},
		{"postgres://app:se@c/r#et@db/appt?sslmode=require", "postgres://app:[redacted]@db/appt?sslmode=require"},
		{"postgres://db/appt?user=app&password=secret&sslmode=require", "postgres://db/appt?user=app&password=[redacted]&sslmode=require"},
		{"host=db user=app password=secret dbname=appt", "host=db user=app password=[redacted] dbname=appt"},
		{"host=db password = 'se cr\\'et' dbname=appt", "host=db password = [redacted] dbname=appt"},
		{"host=db sslpassword=secret", "host=db sslpassword=[redacted]"},
		{"file:x.db?_auth_user=a&_auth_pass=secret", "file:x.db?_auth_user=a&_auth_pass=[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			if got := redactDSN(tt.dsn); got != tt.want {
				t.Errorf("redactDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
		})
	}
}

// TestSecretsNotInErrors breaks every secret and much else, and checks that
// no error quotes a secret.
func TestSecretsNotInErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
	}{
		{
			name: "invalid secrets and other problems",
			env: []string{
				"APPTCONFIRM_SMSCX_API_KEY=" + testAPIKey,
				"APPTCONFIRM_SMSCX_CLIENT_SECRET=" + testClientSecret, // without a client id
				"APPTCONFIRM_SMSCX_WEBHOOK_SECRET=" + testWebhookSecret + "/!",
				"APPTCONFIRM_SMSCX_MODE=production",
				"APPTCONFIRM_DATABASE_DRIVER=postgres",
				"APPTCONFIRM_DATABASE_DSN=postgres:/app:" + testDBPassword + "@db/appt",
				"APPTCONFIRM_CLINIC_TIMEZONE=Mars/Base",
			},
		},
		{
			name: "a short webhook secret",
			env:  []string{"APPTCONFIRM_SMSCX_WEBHOOK_SECRET=" + testWebhookSecret[:10], "APPTCONFIRM_SMSCX_API_KEY=" + testAPIKey, "APPTCONFIRM_LOG_LEVEL=loud"},
		},
		{
			name: "a DSN that does not parse",
			env:  []string{"APPTCONFIRM_DATABASE_DRIVER=postgres", "APPTCONFIRM_DATABASE_DSN=host=db password='" + testDBPassword},
		},
		{
			name: "secrets of the wrong YAML type",
			yaml: "smscx:\n  api_key: [" + testAPIKey + "]\n  client_secret: {" + testClientSecret + ": 1}\n",
		},
		{
			name: "a secret in a URL",
			env:  []string{"APPTCONFIRM_SERVER_PUBLIC_URL=https://admin:" + testDBPassword + "@clinic.example.org", "APPTCONFIRM_SMSCX_BASE_URL=ftp://u:" + testAPIKey + "@x"},
		},
		{
			name: "a secret in an unparsable URL",
			env:  []string{"APPTCONFIRM_SMSCX_BASE_URL=http://u:" + testAPIKey + "@x:port"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.yaml), tt.env)
			if err == nil {
				t.Fatal("Load succeeded; the test needs an error")
			}
			assertNoSecrets(t, "error", err.Error())
		})
	}
}
