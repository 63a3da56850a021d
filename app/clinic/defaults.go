package clinic

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"apptconfirm/models"
)

// Default message texts, one per models.MessageTemplate key. They use the
// single-brace placeholders {first_name} {date} {time} {weekday} {location}
// {clinic_phone}, stay within one GSM-7 SMS part before expansion, and hold
// nothing but the first name, the time and the place.
const (
	// TemplateBookingConfirmation goes out at once when an appointment is booked.
	TemplateBookingConfirmation = "Hi {first_name}, your appointment at {location} is booked for {weekday} {date} at {time}. Reply YES to confirm or NO to cancel."
	// TemplateAckConfirm answers a YES.
	TemplateAckConfirm = "Thank you {first_name}, your appointment on {weekday} {date} at {time} is confirmed. See you then!"
	// TemplateAckCancel answers a NO.
	TemplateAckCancel = "Thank you {first_name}, your appointment on {weekday} {date} at {time} is cancelled. To book again, call {clinic_phone}."
	// TemplateCancellationNotice tells the patient the clinic cancelled.
	TemplateCancellationNotice = "Hi {first_name}, your appointment at {location} on {weekday} {date} at {time} has been cancelled. To book again, call {clinic_phone}."
	// TemplateOptOutAck is the one message after STOP: no more messages, and
	// how to opt back in.
	TemplateOptOutAck = "You are unsubscribed and will get no more messages from us. To receive appointment reminders again, reply START."
	// TemplateOptInAck answers START.
	TemplateOptInAck = "You are subscribed again and will receive appointment reminders from us. Reply STOP to opt out."
	// TemplateHelp answers HELP.
	TemplateHelp = "Appointment reminders: reply YES to confirm, NO to cancel, STOP to opt out. Questions? Call {clinic_phone}."
	// TemplateQuestion asks which appointment a bare YES or NO is about when
	// several await an answer. It alone may use {choices}, which the renderer
	// fills with a numbered list such as "1 for Tue 10:00, 2 for Thu 14:30".
	TemplateQuestion = "You have more than one appointment. Reply {choices}, with YES or NO (for example 1 YES)."

	// TemplateReminder is the default text of the 48 h reminder rule.
	TemplateReminder = "Hi {first_name}, reminder: your appointment at {location} on {weekday} {date} at {time}. Reply YES to confirm or NO to cancel."
	// TemplateReminderSameDay is the default text of the 2 h reminder rule.
	TemplateReminderSameDay = "Hi {first_name}, see you at {time} today at {location}. Reply YES to confirm, NO to cancel."

	// ChoicesPlaceholder is allowed only in the "question" template.
	ChoicesPlaceholder = "{choices}"
)

// DefaultTemplates returns the default text for every message template key.
func DefaultTemplates() map[string]string {
	return map[string]string{
		models.KindBookingConfirm: TemplateBookingConfirmation,
		models.KindAckConfirm:     TemplateAckConfirm,
		models.KindAckCancel:      TemplateAckCancel,
		models.KindCancellation:   TemplateCancellationNotice,
		models.KindOptOutAck:      TemplateOptOutAck,
		models.KindOptInAck:       TemplateOptInAck,
		models.KindHelp:           TemplateHelp,
		models.KindQuestion:       TemplateQuestion,
	}
}

// RuleDefault is a reminder rule to create on first start.
type RuleDefault struct {
	Name   string
	Before time.Duration
	// Template empty means TemplateReminder.
	Template          string
	OnlyIfUnconfirmed bool
}

// DefaultRules returns the rules used when Defaults.Rules is empty: 48 h
// before, and 2 h before unless already confirmed.
func DefaultRules() []RuleDefault {
	return []RuleDefault{
		{Name: "48h", Before: 48 * time.Hour, Template: TemplateReminder},
		{Name: "2h", Before: 2 * time.Hour, Template: TemplateReminderSameDay, OnlyIfUnconfirmed: true},
	}
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
	// Templates override DefaultTemplates() texts for keys that are missing.
	Templates map[string]string
}

// EnsureDefaults prepares a database for use, in one transaction, and is
// safe to call at every start: it creates the default location when there
// is no location (or marks the oldest one default when none is), the
// reminder rules when the table is empty, and a message template for every
// key that is missing. Existing rows are never changed.
func (s *Service) EnsureDefaults(ctx context.Context, d Defaults) error {
	rules, err := d.rules()
	if err != nil {
		return err
	}
	templates, err := d.templates()
	if err != nil {
		return err
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
		if err != nil {
			return err
		}
		if n == 0 {
			for i := range rules {
				rules[i].CreatedAt, rules[i].UpdatedAt = now, now
				if err := s.store.CreateRule(ctx, &rules[i]); err != nil {
					return fmt.Errorf("rule %q: %w", rules[i].Name, err)
				}
				detail := fmt.Sprintf("%s: %s before", rules[i].Name, rules[i].Before())
				if err := s.store.Audit(ctx, now, actor, "reminder_rule.create", EntityRule, rules[i].ID, detail); err != nil {
					return err
				}
			}
		}
		keys := make([]string, 0, len(templates))
		for k := range templates {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var created []string
		for _, k := range keys {
			added, err := s.store.AddMessageTemplate(ctx, k, templates[k], now)
			if err != nil {
				return err
			}
			if added {
				created = append(created, k)
			}
		}
		if len(created) > 0 {
			return s.store.Audit(ctx, now, actor, "message_template.create", EntityTemplate, 0, "defaults: "+strings.Join(created, ", "))
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

// rules checks and converts the configured rules.
func (d Defaults) rules() ([]models.ReminderRule, error) {
	in := d.Rules
	if len(in) == 0 {
		in = DefaultRules()
	}
	fe := models.FieldErrors{}
	seen := map[string]bool{}
	out := make([]models.ReminderRule, 0, len(in))
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
		if tpl == "" {
			tpl = TemplateReminder
		}
		if m := checkText(tpl, 1600, true); m != "" {
			fe.Add(key+".template", m)
		}
		out = append(out, models.ReminderRule{
			Name: name, BeforeSeconds: int64(r.Before / time.Second), Template: tpl,
			OnlyIfUnconfirmed: r.OnlyIfUnconfirmed, Enabled: true,
		})
	}
	if err := fe.Err(); err != nil {
		return nil, fmt.Errorf("clinic: ensure defaults: %w", err)
	}
	return out, nil
}

// templates merges the configured texts over the defaults.
func (d Defaults) templates() (map[string]string, error) {
	out := DefaultTemplates()
	fe := models.FieldErrors{}
	for k, v := range d.Templates {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if _, known := out[k]; !known {
			fe.Add("templates."+models.Clip(k, 40), "unknown template key")
			continue
		}
		if m := checkText(v, 1600, true); m != "" {
			fe.Add("templates."+k, m)
			continue
		}
		out[k] = v
	}
	if err := fe.Err(); err != nil {
		return nil, fmt.Errorf("clinic: ensure defaults: %w", err)
	}
	return out, nil
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
