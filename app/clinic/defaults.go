package clinic

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"apptconfirm/app/render"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// RuleDefault is a reminder rule to create on first start.
type RuleDefault struct {
	Name   string
	Before time.Duration
	// Template is the rule's text in Defaults.Language; empty means the
	// texts the app ships, in every language (app/wording adds them).
	Template          string
	OnlyIfUnconfirmed bool
}

// DefaultRules returns the rules used when Defaults.Rules is empty: those
// the app ships (texts.DefaultRules), 48 h before, and 2 h before unless
// already confirmed, with the shipped texts.
func DefaultRules() []RuleDefault {
	var out []RuleDefault
	for _, r := range texts.DefaultRules() {
		out = append(out, RuleDefault{Name: r.Name, Before: r.Before, OnlyIfUnconfirmed: r.OnlyIfUnconfirmed})
	}
	return out
}

// Defaults is what the configuration provides for a fresh database.
type Defaults struct {
	// ClinicName names the default location ("Clinic" if empty).
	ClinicName string
	// Timezone ("UTC" if empty) and Country ("US" if empty) of the default location.
	Timezone, Country string
	Address, Phone    string
	// QuietStart and QuietEnd are "HH:MM"; both empty means no quiet hours.
	QuietStart, QuietEnd string
	// Rules are created when there are no rules at all; empty means DefaultRules().
	Rules []RuleDefault
	// Language is the clinic's language, that of the rules' Template ("en"
	// if empty).
	Language string
}

// EnsureDefaults prepares a database for use, in one transaction, and is
// safe to call at every start: it creates the default location when there
// is no location (or marks the oldest one default when none is), and the
// reminder rules when the table is empty, each with its text in
// d.Language when the configuration gives one. Existing rows are never
// changed. The texts the app ships are added by app/wording.
func (s *Service) EnsureDefaults(ctx context.Context, d Defaults) error {
	rules, bodies, err := d.rules()
	if err != nil {
		return err
	}
	lang := d.Language
	if lang == "" {
		lang = "en"
	}
	if !texts.IsLanguage(lang) {
		return models.FieldErrors{"language": "must be one of " + strings.Join(texts.Languages(), ", ")}
	}
	now := s.clock()
	actor := models.SystemActor()
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		// Two instances starting together run this one after the other.
		if err := s.store.LockTxExclusive(ctx, "defaults"); err != nil {
			return err
		}
		if err := s.ensureLocation(ctx, d, now); err != nil {
			return err
		}
		n, err := s.store.CountRules(ctx)
		if err != nil || n > 0 {
			return err
		}
		for i := range rules {
			rules[i].CreatedAt, rules[i].UpdatedAt = now, now
			if err := s.store.CreateRule(ctx, &rules[i]); err != nil {
				return fmt.Errorf("rule %q: %w", rules[i].Name, err)
			}
			if bodies[i] != "" {
				if _, err := s.store.AddRuleTemplate(ctx, rules[i].ID, lang, bodies[i], now); err != nil {
					return err
				}
			}
			detail := fmt.Sprintf("%s: %s before", rules[i].Name, rules[i].Before())
			if err := s.store.Audit(ctx, now, actor, "reminder_rule.create", EntityRule, rules[i].ID, detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrapUnlessInput("clinic: ensure defaults", err)
	}
	return nil
}

// ensureLocation creates the default location from d when there is no
// location, and repairs a database with locations but no default.
func (s *Service) ensureLocation(ctx context.Context, d Defaults, now time.Time) error {
	first, err := s.store.FirstLocationID(ctx)
	if err != nil {
		return err
	}
	if first != 0 {
		_, err := s.store.DefaultLocation(ctx)
		if !errors.Is(err, models.ErrNotFound) {
			return err
		}
		if err := s.store.MakeDefaultLocation(ctx, first); err != nil {
			return err
		}
		return s.store.Audit(ctx, now, models.SystemActor(), "location.update", EntityLocation, first, "made the default location (there was none)")
	}
	in := LocationInput{
		Name: d.ClinicName, TimeZone: d.Timezone, Country: d.Country, Address: d.Address,
		Phone: d.Phone, QuietStart: d.QuietStart, QuietEnd: d.QuietEnd, IsDefault: true,
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = "Clinic"
	}
	if strings.TrimSpace(in.TimeZone) == "" {
		in.TimeZone = fallbackZone
	}
	if strings.TrimSpace(in.Country) == "" {
		in.Country = fallbackCountry
	}
	loc, fe := in.validate()
	if err := fe.Err(); err != nil {
		return fmt.Errorf("default location: %w", err)
	}
	loc.CreatedAt, loc.UpdatedAt = now, now
	if err := s.store.CreateLocation(ctx, &loc); err != nil {
		return err
	}
	return s.store.Audit(ctx, now, models.SystemActor(), "location.create", EntityLocation, loc.ID, describeLocation(&loc))
}

// rules checks and converts the configured rules, and returns each one's
// text ("" for the shipped texts).
func (d Defaults) rules() ([]models.ReminderRule, []string, error) {
	in := d.Rules
	if len(in) == 0 {
		in = DefaultRules()
	}
	fe := models.FieldErrors{}
	seen := map[string]bool{}
	out := make([]models.ReminderRule, 0, len(in))
	bodies := make([]string, 0, len(in))
	for i, r := range in {
		key := fmt.Sprintf("rules[%d]", i)
		name := strings.TrimSpace(r.Name)
		if m := checkName(name, 100); m != "" {
			fe.Add(key+".name", m)
		} else if seen[name] {
			fe.Add(key+".name", "duplicate rule name")
		}
		seen[name] = true
		if r.Before < time.Minute || r.Before%time.Second != 0 {
			fe.Add(key+".before", "must be a whole number of seconds, at least 1m")
		}
		tpl := strings.TrimSpace(r.Template)
		if tpl != "" {
			if m := checkText(tpl, 1600, true); m != "" {
				fe.Add(key+".template", m)
			} else if err := render.Validate(tpl); err != nil {
				fe.Add(key+".template", strings.TrimPrefix(err.Error(), "render: "))
			}
		}
		out = append(out, models.ReminderRule{
			Name: name, BeforeSeconds: int64(r.Before / time.Second),
			OnlyIfUnconfirmed: r.OnlyIfUnconfirmed, Enabled: true,
		})
		bodies = append(bodies, tpl)
	}
	if err := fe.Err(); err != nil {
		return nil, nil, fmt.Errorf("clinic: ensure defaults: %w", err)
	}
	return out, bodies, nil
}

// SettingWebhookSecret is the settings key of the generated webhook secret.
const SettingWebhookSecret = "webhook_secret"

// WebhookSecret returns the webhook path secret: configured when it is not
// empty, else the one stored in the settings table, generated (32 random
// bytes, base64url) on first use. Instances starting together agree on one
// value: each inserts only if absent, then reads what is stored.
func (s *Service) WebhookSecret(ctx context.Context, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	secret, err := s.store.Setting(ctx, SettingWebhookSecret)
	if err == nil && secret != "" {
		return secret, nil
	}
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return "", fmt.Errorf("clinic: webhook secret: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("clinic: webhook secret: %w", err)
	}
	if _, err := s.store.AddSetting(ctx, SettingWebhookSecret, base64.RawURLEncoding.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("clinic: webhook secret: %w", err)
	}
	secret, err = s.store.Setting(ctx, SettingWebhookSecret)
	if err != nil {
		return "", fmt.Errorf("clinic: webhook secret: %w", err)
	}
	if secret == "" {
		return "", fmt.Errorf("clinic: webhook secret: the stored %q setting is empty", SettingWebhookSecret)
	}
	return secret, nil
}
