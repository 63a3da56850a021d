package reminders_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/reminders"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

func TestRuleValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, defaultOptions())
	valid := reminders.RuleInput{Name: "week", Before: "7d", Enabled: true}
	tests := []struct {
		name  string
		edit  func(*reminders.RuleInput)
		field string
		want  string
	}{
		{"missing name", func(in *reminders.RuleInput) { in.Name = "" }, "name", "required"},
		{"taken name", func(in *reminders.RuleInput) { in.Name = "48h" }, "name", "already used"},
		{"control character in name", func(in *reminders.RuleInput) { in.Name = "a\x00b" }, "name", "control"},
		{"missing before", func(in *reminders.RuleInput) { in.Before = "" }, "before", "required"},
		{"bad before", func(in *reminders.RuleInput) { in.Before = "soon" }, "before", "duration"},
		{"zero before", func(in *reminders.RuleInput) { in.Before = "0m" }, "before", "from 1m to 30d"},
		{"too long before", func(in *reminders.RuleInput) { in.Before = "31d" }, "before", "from 1m to 30d"},
		{"fractional seconds", func(in *reminders.RuleInput) { in.Before = "90.5s" }, "before", "whole number"},
		{"unknown timing", func(in *reminders.RuleInput) { in.Timing = "sometimes" }, "timing", "must be"},
		{"missing days", func(in *reminders.RuleInput) { in.Timing, in.LocalTime = models.RuleDayBefore, "10:00" }, "days_before", "required"},
		{"too many days", func(in *reminders.RuleInput) {
			in.Timing, in.DaysBefore, in.LocalTime = models.RuleDayBefore, "31", "10:00"
		}, "days_before", "from 0 to 30"},
		{"missing local time", func(in *reminders.RuleInput) { in.Timing, in.DaysBefore = models.RuleDayBefore, "1" }, "local_time", "required"},
		{"bad local time", func(in *reminders.RuleInput) {
			in.Timing, in.DaysBefore, in.LocalTime = models.RuleDayBefore, "1", "24:00"
		}, "local_time", "such as 10:00"},
		{"nudge without a reminder", func(in *reminders.RuleInput) {
			in.Timing, in.After, in.Signal = models.RuleNudge, "2h", models.SignalNotConfirmed
		}, "after_rule_id", "required"},
		{"nudge after an unknown rule", func(in *reminders.RuleInput) {
			in.Timing, in.AfterRuleID, in.After, in.Signal = models.RuleNudge, 999, "2h", models.SignalNotConfirmed
		}, "after_rule_id", "existing reminder rule"},
		{"nudge too late", func(in *reminders.RuleInput) {
			in.Timing, in.AfterRuleID, in.After, in.Signal = models.RuleNudge, 1, "8d", models.SignalNotConfirmed
		}, "after", "from 1m to 7d"},
		{"nudge without a signal", func(in *reminders.RuleInput) {
			in.Timing, in.AfterRuleID, in.After = models.RuleNudge, 1, "2h"
		}, "signal", "required"},
		{"unknown signal", func(in *reminders.RuleInput) {
			in.Timing, in.AfterRuleID, in.After, in.Signal = models.RuleNudge, 1, "2h", "opened"
		}, "signal", "must be"},
		{"unknown type", func(in *reminders.RuleInput) { in.TypeIDs = []uint{42} }, "type_ids", "existing appointment types"},
		{"unknown location", func(in *reminders.RuleInput) { in.LocationIDs = []uint{42} }, "location_ids", "existing locations"},
		{"unknown provider", func(in *reminders.RuleInput) { in.ProviderIDs = []uint{42} }, "provider_ids", "existing providers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := valid
			tc.edit(&in)
			_, err := e.rem.CreateRule(ctx, e.staff, in)
			fe, ok := models.AsFieldErrors(err)
			if !ok {
				t.Fatalf("err = %v, want FieldErrors", err)
			}
			if !strings.Contains(fe[tc.field], tc.want) {
				t.Fatalf("%s: %q, want it to contain %q (all: %v)", tc.field, fe[tc.field], tc.want, fe)
			}
		})
	}
	var n int64
	e.store.DB(ctx).Model(&models.ReminderRule{}).Count(&n)
	if n != 2 {
		t.Fatalf("%d rules after refused saves, want the 2 defaults", n)
	}
	t.Run("a valid rule is saved and audited", func(t *testing.T) {
		r, err := e.rem.CreateRule(ctx, e.staff, valid)
		if err != nil {
			t.Fatal(err)
		}
		if r.Before() != 7*24*time.Hour || !r.Enabled {
			t.Fatalf("saved %+v", r)
		}
		var audits int64
		e.store.DB(ctx).Model(&models.AuditEntry{}).Where("action = ? AND entity_id = ?", "reminder_rule.create", r.ID).Count(&audits)
		if audits != 1 {
			t.Fatalf("%d audit rows", audits)
		}
		_, err = e.rem.UpdateRule(ctx, e.staff, r.ID, reminders.RuleInput{Name: "week", Before: "31d", Enabled: true})
		if _, ok := models.AsFieldErrors(err); !ok {
			t.Fatalf("update with a bad timing: %v", err)
		}
		if got, _ := e.rem.GetRule(ctx, r.ID); got.Before() != 7*24*time.Hour {
			t.Fatalf("a refused update changed the timing to %s", got.Before())
		}
	})
	t.Run("unknown rule", func(t *testing.T) {
		_, err := e.rem.UpdateRule(ctx, e.staff, 9999, valid)
		if !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestNewRulePlansFutureAppointments(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, defaultOptions())
	p := e.patient(t, "Ada", "+33612345678")
	a := e.book(t, p.ID, "2026-03-06T10:00")
	past := e.book(t, p.ID, "2026-03-06T10:00")
	if _, err := e.clinic.Cancel(ctx, e.staff, past.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, err := e.rem.CreateRule(ctx, e.staff, reminders.RuleInput{Name: "3 days", Before: "3d", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	live := e.live(t, a.ID)
	if m, ok := live["3 days"]; !ok || !m.SendAt.Equal(local(2026, 3, 3, 10, 0)) {
		t.Fatalf("new rule not planned: %+v", live)
	}
	if _, ok := e.live(t, past.ID)["3 days"]; ok {
		t.Fatal("new rule planned for a cancelled appointment")
	}
	e.checkNoStale(t)
}

func TestRenamingARuleRenamesItsPlannedMessages(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, defaultOptions())
	p := e.patient(t, "Ada", "+33612345678")
	a := e.book(t, p.ID, "2026-03-05T10:00")
	r := e.rule(t, "48h")
	_, err := e.rem.UpdateRule(ctx, e.staff, r.ID, reminders.RuleInput{Name: "two days", Before: "48h", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.live(t, a.ID)["two days"]; !ok {
		t.Fatalf("planned message kept the old name: %+v", e.live(t, a.ID))
	}
}

// A new rule starts with the shipped texts for its timing in every
// language the clinic writes in, written in the rule's own transaction.
func TestNewRuleGetsItsTexts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, defaultOptions())
	soon, err := e.rem.CreateRule(ctx, e.staff, reminders.RuleInput{Name: "1h", Before: "1h", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	week, err := e.rem.CreateRule(ctx, e.staff, reminders.RuleInput{Name: "week", Before: "7d", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rule *models.ReminderRule
		kind string
	}{{soon, texts.KindReminderSoon}, {week, texts.KindReminder}} {
		got, err := e.store.RuleTexts(ctx, tc.rule.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(texts.Languages()) {
			t.Fatalf("rule %s has texts in %d languages, want %d", tc.rule.Name, len(got), len(texts.Languages()))
		}
		for _, l := range texts.Languages() {
			if want, _ := texts.Default(tc.kind, l); got[l] != want {
				t.Errorf("rule %s in %s: %q, want the shipped %q", tc.rule.Name, l, got[l], want)
			}
		}
	}
}

func TestBeforeRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{time.Minute, 90 * time.Minute, 2 * time.Hour, 48 * time.Hour, 49*time.Hour + 30*time.Minute, 45 * time.Second, 7 * 24 * time.Hour} {
		s := reminders.FormatBefore(d)
		got, err := reminders.ParseBefore(s)
		if err != nil || got != d {
			t.Errorf("FormatBefore(%s) = %q, parsed back as %s, %v", d, s, got, err)
		}
	}
}

// A nudge follows a reminder, never another nudge; saving a rule
// unchanged through InputOf changes nothing, whatever its timing.
func TestNudgeFollowsAReminder(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, defaultOptions())
	var first models.ReminderRule
	e.store.DB(ctx).Order("id").Take(&first)
	nudge, err := e.rem.CreateRule(ctx, e.staff, reminders.RuleInput{
		Name: "nudge", Timing: models.RuleNudge, AfterRuleID: first.ID, After: "2h", Signal: models.SignalClickedNotConfirmed, Enabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.rem.CreateRule(ctx, e.staff, reminders.RuleInput{
		Name: "nudge of a nudge", Timing: models.RuleNudge, AfterRuleID: nudge.ID, After: "2h", Signal: models.SignalNotConfirmed, Enabled: true,
	})
	if fe, ok := models.AsFieldErrors(err); !ok || !strings.Contains(fe["after_rule_id"], "not another nudge") {
		t.Fatalf("nudge of a nudge: %v", err)
	}
	in := reminders.InputOf(&first)
	in.Timing, in.AfterRuleID, in.After, in.Signal = models.RuleNudge, nudge.ID, "1h", models.SignalNotConfirmed
	_, err = e.rem.UpdateRule(ctx, e.staff, first.ID, in)
	if fe, ok := models.AsFieldErrors(err); !ok || !strings.Contains(fe["timing"], `the nudge "nudge" follows this reminder`) {
		t.Fatalf("a followed reminder turned into a nudge: %v", err)
	}
	fixed, err := e.rem.CreateRule(ctx, e.staff, reminders.RuleInput{
		Name: "day before", Timing: models.RuleDayBefore, DaysBefore: "1", LocalTime: "10:00", TypeIDs: nil, Enabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint{nudge.ID, fixed.ID, first.ID} {
		r, err := e.rem.GetRule(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var audits int64
		e.store.DB(ctx).Model(&models.AuditEntry{}).Count(&audits)
		again, err := e.rem.UpdateRule(ctx, e.staff, r.ID, reminders.InputOf(r))
		var after int64
		e.store.DB(ctx).Model(&models.AuditEntry{}).Count(&after)
		if err != nil || !again.UpdatedAt.Equal(r.UpdatedAt) || after != audits {
			t.Fatalf("%s saved unchanged: %+v %v (%d audit rows added)", r.Name, again, err, after-audits)
		}
	}
}
