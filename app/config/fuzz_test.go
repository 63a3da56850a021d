package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// checkLoaded fails unless a successful Load's result passes Validate again
// unchanged, and a failed Load returned the zero Config.
func checkLoaded(t *testing.T, cfg Config, err error) {
	t.Helper()
	if err != nil {
		if !reflect.DeepEqual(cfg, Config{}) {
			t.Fatal("Load returned a non-zero Config with an error")
		}
		return
	}
	again := cfg
	if err := again.Validate(); err != nil {
		t.Fatalf("Load succeeded but Validate fails: %v", err)
	}
	if !reflect.DeepEqual(again, cfg) {
		t.Fatalf("Validate is not idempotent:\n%v\n%v", cfg, again)
	}
}

func FuzzLoadYAML(f *testing.F) {
	if seed, err := os.ReadFile("../../config.yaml"); err == nil {
		f.Add(seed)
	}
	for _, s := range []string{
		"",
		"---\n",
		"server:\n  addr: ':1'\n  public_url: https://x.example/\n",
		"reminders:\n  rules:\n    - {name: a, before: 1h, template: t}\n    - &r {name: b, before: 2h, template: t}\n  quiet_hours: {start: '22:00', end: '06:00'}\n",
		"a: &x [*x]\n",
		"server: &s {addr: *s}\n",
		"base: &b {addr: ':1'}\nserver:\n  <<: *b\n",
		"dispatch:\n  interval: 1s\n  lease: 16s\n  concurrency: 0x10\n",
		"clinic: {timezone: Europe/Paris, country: FR, phone: '01 42 68 53 00'}\n",
		"smscx: {mode: live, api_key: k, webhook_secret: abcdefghijklmnopq}\n",
		"database: {driver: postgres, dsn: \"host=db password='x y'\"}\n",
		"? [a]\n: b\n",
		"server:\n  trusted_proxies: [10.0.0.0/8, ~, '::1']\n",
		"log: !!map {level: !!str debug}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, nil)
		checkLoaded(t, cfg, err)
	})
}

func FuzzLoadEnv(f *testing.F) {
	f.Add("DISPATCH_INTERVAL", "15s")
	f.Add("REMINDERS_RULES", `[{"name":"a","before":"1h","template":"t"}]`)
	f.Add("REMINDERS_QUIET_HOURS", "21:00-08:00")
	f.Add("REMINDERS_QUIET_HOURS", `{"start":"","end":""}`)
	f.Add("SERVER_TRUSTED_PROXIES", `["10.0.0.1"]`)
	f.Add("SERVER_TRUSTED_PROXIES", "10.0.0.1, ::1")
	f.Add("DATABASE_DSN", "host=db")
	f.Add("WEBHOOK_MAX_BODY_BYTES", "2048")
	f.Add("SMSCX_APIKEY", "x")
	f.Fuzz(func(t *testing.T, name, value string) {
		cfg, err := Load("", []string{EnvPrefix + name + "=" + value})
		checkLoaded(t, cfg, err)
	})
}
