package reminders_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/reminders"
	"apptconfirm/models"
)

func TestRuleValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, defaultOptions())
	valid := reminders.RuleInput{Name: "week", Before: "7d", Template: "Hi {first_name}, see you {weekday} at {time}.", Enabled: true}
	tests := []struct {
		name  string
		edit  func(*reminders.RuleInput)
		field string
		want  string
	}{
		{"unknown placeholder is named", func(in *reminders.RuleInput) { in.Template = "Hi {frist_name}" }, "template", "{frist_name}"},
		{"and a fix suggested", func(in *reminders.RuleInput) { in.Template = "Hi {frist_name}" }, "template", "did you mean {first_name}?"},
		{"unsupported SMS.CX placeholder", func(in *reminders.RuleInput) { in.Template = "Stop: {{optout}}" }, "template", "{{optout}}"},
		{"stray brace", func(in *reminders.RuleInput) { in.Template = "Hi }" }, "template", "closing brace"},
		{"empty template", func(in *reminders.RuleInput) { in.Template = "  " }, "template", "required"},
		{"long template", func(in *reminders.RuleInput) { in.Template = strings.Repeat("a", 1601) }, "template", "at most 1600"},
		{"missing name", func(in *reminders.RuleInput) { in.Name = "" }, "name", "required"},
		{"taken name", func(in *reminders.RuleInput) { in.Name = "48h" }, "name", "already used"},
		{"control character in name", func(in *reminders.RuleInput) { in.Name = "a\x00b" }, "name", "control"},
		{"missing before", func(in *reminders.RuleInput) { in.Before = "" }, "before", "required"},
		{"bad before", func(in *reminders.RuleInput) { in.Before = "soon" }, "before", "duration"},
		{"zero before", func(in *reminders.RuleInput) { in.Before = "0m" }, "before", "from 1m to 30d"},
		{"too long before", func(in *reminders.RuleInput) { in.Before = "31d" }, "before", "from 1m to 30d"},
		{"fractional seconds", func(in *reminders.RuleInput) { in.Before = "90.5s" }, "before", "whole number"},
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
		_, err = e.rem.UpdateRule(ctx, e.staff, r.ID, reminders.RuleInput{Name: "week", Before: "7d", Template: "Hi {frist_name}", Enabled: true})
		if _, ok := models.AsFieldErrors(err); !ok {
			t.Fatalf("update with a bad template: %v", err)
		}
		if got, _ := e.rem.GetRule(ctx, r.ID); got.Template != valid.Template {
			t.Fatalf("a refused update changed the template to %q", got.Template)
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
	_, err := e.rem.CreateRule(ctx, e.staff, reminders.RuleInput{Name: "3 days", Before: "3d", Template: "Hi {first_name}", Enabled: true})
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
	_, err := e.rem.UpdateRule(ctx, e.staff, r.ID, reminders.RuleInput{Name: "two days", Before: "48h", Template: r.Template, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.live(t, a.ID)["two days"]; !ok {
		t.Fatalf("planned message kept the old name: %+v", e.live(t, a.ID))
	}
}

func TestPreview(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, defaultOptions())
	p, err := e.clinic.CreatePatient(ctx, e.staff, clinic.PatientInput{FirstName: "Marie", Phone: "+33612345678", Language: "fr"}, "")
	if err != nil {
		t.Fatal(err)
	}
	a := e.book(t, p.ID, "2026-03-05T14:30")
	t.Run("a real appointment in its zone and language", func(t *testing.T) {
		pv, err := e.rem.Preview(ctx, "Bonjour {first_name}, {weekday} {date} à {time}, {location}.", a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := "Bonjour Marie, jeudi 5 mars 2026 à 14:30, Main St."
		if pv.Text != want {
			t.Fatalf("text %q, want %q", pv.Text, want)
		}
		if pv.Parts != 1 || pv.Warning != "" || pv.Length == 0 {
			t.Fatalf("preview %+v", pv)
		}
	})
	t.Run("above one part warns", func(t *testing.T) {
		pv, err := e.rem.Preview(ctx, strings.Repeat("Hello {first_name}. ", 13), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pv.Parts != 2 || !strings.Contains(pv.Warning, "2 parts") {
			t.Fatalf("preview %+v", pv)
		}
	})
	t.Run("sample data without an appointment", func(t *testing.T) {
		pv, err := e.rem.Preview(ctx, "Hi {first_name}", 0)
		if err != nil || pv.Text != "Hi Alex" {
			t.Fatalf("preview %+v, %v", pv, err)
		}
	})
	t.Run("an invalid template", func(t *testing.T) {
		if _, err := e.rem.Preview(ctx, "Hi {frist_name}", a.ID); err == nil || !strings.Contains(err.Error(), "{frist_name}") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("the choices are upcoming active appointments", func(t *testing.T) {
		as, err := e.rem.PreviewAppointments(ctx, 10)
		if err != nil || len(as) != 1 || as[0].ID != a.ID || as[0].Patient == nil {
			t.Fatalf("choices %+v, %v", as, err)
		}
	})
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
