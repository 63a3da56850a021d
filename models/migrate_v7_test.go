package models_test

import (
	"context"
	"testing"
	"time"

	"apptconfirm/models"
)

// Migration 7 keeps every text a clinic wrote: the message templates and
// each rule's text become their "en" variants, and messages gain their
// language and quiet-hours columns, empty for those sent before.
func TestMigrationKeepsTextsAsEnglish(t *testing.T) {
	atVersion(t, 6, func(t *testing.T, ctx context.Context, s *models.Store) {
		at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		raw := s.DB(ctx)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{
				`INSERT INTO message_templates (key, body, updated_at) VALUES (?, ?, ?), (?, ?, ?)`,
				[]any{"help", "Call us on {clinic_phone}.", at, "ack_confirm", "Confirmed, {first_name}!", at},
			},
			{
				`INSERT INTO reminder_rules (name, before_seconds, template, only_if_unconfirmed, enabled, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?)`,
				[]any{
					"48h", 172800, "See you {weekday}, {first_name}.", false, true, at, at,
					"2h", 7200, "", true, true, at, at,
				},
			},
			{
				`INSERT INTO messages (uuid, kind, "to", body, status, send_at, reason, attempts, campaign_id, parts, cost, provider_state, rule_name, created_at, updated_at)
				VALUES (?, 'reminder', '+33612345678', 'Hi', 'delivered', ?, '', 1, '', 1, 0, '', '48h', ?, ?)`,
				[]any{"00000000-0000-4000-8000-000000000001", at, at, at},
			},
		} {
			if err := raw.Exec(q.sql, q.args...).Error; err != nil {
				t.Fatal(err)
			}
		}

		if n, err := s.MigrateTo(ctx, 7); err != nil || n != 1 {
			t.Fatalf("MigrateTo(7) = %d, %v; want 1, nil", n, err)
		}
		texts, err := s.Texts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(texts.Kinds) != 2 || texts.Kinds["help"]["en"] != "Call us on {clinic_phone}." || texts.Kinds["ack_confirm"]["en"] != "Confirmed, {first_name}!" {
			t.Fatalf("message templates after the migration: %v", texts.Kinds)
		}
		rules, err := s.RulesByTiming(ctx)
		if err != nil || len(rules) != 2 {
			t.Fatalf("rules %+v, %v", rules, err)
		}
		if got := texts.Rules[rules[0].ID]; len(got) != 1 || got["en"] != "See you {weekday}, {first_name}." {
			t.Fatalf("texts of rule 48h: %v", got)
		}
		if got := texts.Rules[rules[1].ID]; len(got) != 0 {
			t.Fatalf("rule 2h had an empty text, which must not become one: %v", got)
		}
		if raw.Migrator().HasColumn("reminder_rules", "template") {
			t.Fatal("reminder_rules.template is still there")
		}
		var m models.Message
		if err := raw.Take(&m).Error; err != nil {
			t.Fatal(err)
		}
		if m.Body != "Hi" || m.Language != "" || m.FallbackFrom != "" || m.MovedFrom != nil || m.MoveReason != "" {
			t.Fatalf("message after the migration: %+v", m)
		}

		// The new keys hold: one text per kind and language, and a
		// rule's texts go with the rule.
		if added, err := s.AddMessageTemplate(ctx, "help", "en", "again", at); err != nil || added {
			t.Fatalf("a second help/en: %v, %v", added, err)
		}
		if added, err := s.AddMessageTemplate(ctx, "help", "fr", "Appelez le {clinic_phone}.", at); err != nil || !added {
			t.Fatalf("help/fr: %v, %v", added, err)
		}
		if err := raw.Exec("DELETE FROM reminder_rules WHERE id = ?", rules[0].ID).Error; err != nil {
			t.Fatal(err)
		}
		if got, err := s.RuleTexts(ctx, rules[0].ID); err != nil || len(got) != 0 {
			t.Fatalf("texts of a deleted rule: %v, %v", got, err)
		}
	})
}
