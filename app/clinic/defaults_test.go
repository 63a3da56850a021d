package clinic_test

import (
	"context"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestEnsureDefaults(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		svc := clinic.New(s, clinic.Options{Now: (&clock{t: t0}).Now})
		d := clinic.Defaults{
			ClinicName: "Demo Clinic", Timezone: "Europe/Paris", Country: "fr", Phone: "01 42 68 53 00",
			QuietStart: "21:00", QuietEnd: "08:00", Language: "fr",
			Rules: []clinic.RuleDefault{
				{Name: "48h", Before: 48 * time.Hour, Template: "Bonjour {first_name}, rendez-vous {day} à {time}."},
				{Name: "2h", Before: 2 * time.Hour, OnlyIfUnconfirmed: true},
			},
		}
		if err := svc.EnsureDefaults(ctx, d); err != nil {
			t.Fatal(err)
		}
		loc, err := svc.DefaultLocation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if loc.Name != "Demo Clinic" || loc.TimeZone != "Europe/Paris" || loc.Country != "FR" || loc.Phone != "+33142685300" || loc.QuietStart != "21:00" {
			t.Fatalf("default location = %+v", loc)
		}
		var rules []models.ReminderRule
		if err := s.DB(ctx).Order("before_seconds DESC").Find(&rules).Error; err != nil {
			t.Fatal(err)
		}
		if len(rules) != 2 || rules[0].Name != "48h" || rules[0].Before() != 48*time.Hour || rules[1].Before() != 2*time.Hour ||
			!rules[1].OnlyIfUnconfirmed || !rules[0].Enabled {
			t.Fatalf("rules = %+v", rules)
		}
		// The configured text is the rule's French text; the other rule has
		// none yet (app/wording adds the shipped ones).
		if got, err := s.RuleTexts(ctx, rules[0].ID); err != nil || len(got) != 1 || got["fr"] != "Bonjour {first_name}, rendez-vous {day} à {time}." {
			t.Fatalf("texts of the 48h rule = %v, %v", got, err)
		}
		if got, err := s.RuleTexts(ctx, rules[1].ID); err != nil || len(got) != 0 {
			t.Fatalf("texts of the 2h rule = %v, %v", got, err)
		}
		counts := func() [4]int64 {
			return [4]int64{
				count(t, s, &models.Location{}), count(t, s, &models.ReminderRule{}),
				count(t, s, &models.RuleTemplate{}), count(t, s, &models.AuditEntry{}),
			}
		}
		first := counts()
		if first[0] != 1 || first[1] != 2 || first[2] != 1 {
			t.Fatalf("counts = %v", first)
		}

		// Idempotent: nothing changes on a second start, whatever the
		// configuration says now.
		d.ClinicName, d.Timezone = "Other Name", "Asia/Tokyo"
		d.Rules = []clinic.RuleDefault{{Name: "24h", Before: 24 * time.Hour}}
		if err := svc.EnsureDefaults(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := svc.EnsureDefaults(ctx, d); err != nil {
			t.Fatal(err)
		}
		if second := counts(); second != first {
			t.Fatalf("counts after rerun = %v, first run %v", second, first)
		}
		if loc2, _ := svc.DefaultLocation(ctx); loc2.Name != "Demo Clinic" {
			t.Fatalf("rerun changed the location: %+v", loc2)
		}
	})
}

// Without rules in the configuration, the shipped ones are created.
func TestEnsureDefaultsShippedRules(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	if err := clinic.New(s, clinic.Options{}).EnsureDefaults(context.Background(), clinic.Defaults{}); err != nil {
		t.Fatal(err)
	}
	var rules []models.ReminderRule
	if err := s.DB(context.Background()).Order("before_seconds DESC").Find(&rules).Error; err != nil {
		t.Fatal(err)
	}
	want := clinic.DefaultRules()
	if len(rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(rules), len(want))
	}
	for i, r := range rules {
		if r.Name != want[i].Name || r.Before() != want[i].Before || r.OnlyIfUnconfirmed != want[i].OnlyIfUnconfirmed {
			t.Errorf("rule %d = %+v, want %+v", i, r, want[i])
		}
	}
}

func TestEnsureDefaultsRefusesBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		d     clinic.Defaults
		field string
	}{
		{"bad zone", clinic.Defaults{Timezone: "Mars/Base"}, "time_zone"},
		{"bad country", clinic.Defaults{Country: "UK"}, "country"},
		{"half quiet hours", clinic.Defaults{QuietStart: "21:00"}, "quiet_end"},
		{"rule without name", clinic.Defaults{Rules: []clinic.RuleDefault{{Before: time.Hour}}}, "rules[0].name"},
		{"rule without time", clinic.Defaults{Rules: []clinic.RuleDefault{{Name: "x"}}}, "rules[0].before"},
		{"duplicate rules", clinic.Defaults{Rules: []clinic.RuleDefault{{Name: "x", Before: time.Hour}, {Name: "x", Before: 2 * time.Hour}}}, "rules[1].name"},
		{"unknown placeholder", clinic.Defaults{Rules: []clinic.RuleDefault{{Name: "x", Before: time.Hour, Template: "Hi {frist_name}"}}}, "rules[0].template"},
		{"unknown language", clinic.Defaults{Language: "xx"}, "language"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := storetest.SQLite(t)
			svc := clinic.New(s, clinic.Options{})
			wantField(t, svc.EnsureDefaults(context.Background(), tc.d), tc.field, "")
			for name, model := range map[string]any{"locations": &models.Location{}, "rules": &models.ReminderRule{}, "texts": &models.RuleTemplate{}} {
				if n := count(t, s, model); n != 0 {
					t.Errorf("%d %s written", n, name)
				}
			}
		})
	}
}

func TestWebhookSecret(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		svc := clinic.New(s, clinic.Options{})
		if got, err := svc.WebhookSecret(ctx, "from-config"); err != nil || got != "from-config" {
			t.Fatalf("configured = %q, %v", got, err)
		}
		if n := count(t, s, &models.Setting{}); n != 0 {
			t.Fatal("a configured secret was stored")
		}
		// Concurrent first calls agree on one value.
		const n = 8
		got := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = clinic.New(s, clinic.Options{}).WebhookSecret(ctx, "")
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if got[i] != got[0] {
				t.Fatalf("secrets differ: %q vs %q", got[i], got[0])
			}
		}
		raw, err := base64.RawURLEncoding.DecodeString(got[0])
		if err != nil || len(raw) != 32 {
			t.Fatalf("secret %q is not 32 bytes of base64url: %v", got[0], err)
		}
		again, err := svc.WebhookSecret(ctx, "")
		if err != nil || again != got[0] {
			t.Fatalf("second call = %q, %v; want %q", again, err, got[0])
		}
	})
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	ctx := context.Background()
	p := e.patient(t, "Ann", "Lee", "0612345678")
	for i := range 3 {
		e.clk.Set(t0.Add(time.Duration(i) * time.Minute))
		e.appointment(t, p.ID, "2026-03-10T10:00")
	}
	es, total, err := e.svc.Audit(ctx, clinic.AuditQuery{Entity: "appointment", PerPage: 2})
	if err != nil {
		t.Fatal(err)
	}
	if total != 3 || len(es) != 2 || es[0].EntityID <= es[1].EntityID || es[0].Actor != "alice@example.com" {
		t.Fatalf("audit page = %+v (total %d)", es, total)
	}
	es, total, err = e.svc.Audit(ctx, clinic.AuditQuery{Entity: "patient", EntityID: p.ID})
	if err != nil || total != 1 || es[0].Action != "patient.create" {
		t.Fatalf("patient audit = %+v (total %d), %v", es, total, err)
	}
	_, all, err := e.svc.Audit(ctx, clinic.AuditQuery{})
	if err != nil || all != 5 { // location, patient, 3 appointments
		t.Fatalf("all audit rows = %d, %v", all, err)
	}
	_, _, err = e.svc.Audit(ctx, clinic.AuditQuery{Entity: "user' OR 1=1 --"})
	wantField(t, err, "entity", "")
	_, _, err = e.svc.Audit(ctx, clinic.AuditQuery{PerPage: 1000})
	wantField(t, err, "per_page", "")
}
