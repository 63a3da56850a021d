package outbox_test

import (
	"context"
	"testing"

	"apptconfirm/app/outbox"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// Pick: the patient's language when the clinic writes in it and has a
// text, else the default language (flagged), else the shipped text.
func TestPick(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, outbox.Options{DefaultLanguage: "fr"})
	rule := e.rule(t, "2h")
	for _, w := range []struct{ key, lang, body string }{
		{"help", "fr", "FR help {clinic} STOP"},
		{"help", "de", "DE help {clinic} STOP"},
		{"help", "es", "  "}, // cleared: Spanish patients get the default
		{"help", "it", "IT help {clinic} STOP"},
	} {
		if err := e.store.PutMessageTemplate(ctx, w.key, w.lang, w.body, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.PutRuleTemplate(ctx, rule.ID, "de", "DE 2h", t0); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutSetting(ctx, models.SettingLanguages, "de,es,en"); err != nil {
		t.Fatal(err)
	}
	ts, err := e.ob.Texts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ts.Default != "fr" || len(ts.Enabled) != 4 || !ts.IsEnabled("fr") || ts.IsEnabled("it") {
		t.Fatalf("languages: default %s, enabled %v", ts.Default, ts.Enabled)
	}
	shippedSoon := func(lang string) string { s, _ := texts.Default(texts.KindReminderSoon, lang); return s }
	tests := []struct {
		name             string
		key              outbox.Key
		lang             string
		want, wantLang   string
		fallback         string
		shipped, missing bool
	}{
		{"the patient's language", outbox.KindKey("help"), "de", "DE help {clinic} STOP", "de", "", false, false},
		{"a region is ignored", outbox.KindKey("help"), "de-AT", "DE help {clinic} STOP", "de", "", false, false},
		{"no language is the default, no fallback", outbox.KindKey("help"), "", "FR help {clinic} STOP", "fr", "", false, false},
		{"a cleared text falls back", outbox.KindKey("help"), "es", "FR help {clinic} STOP", "fr", "es", false, false},
		{"a language the clinic does not write in falls back, though it has a text", outbox.KindKey("help"), "it", "FR help {clinic} STOP", "fr", "it", false, false},
		{"an unknown language falls back", outbox.KindKey("help"), "xx", "FR help {clinic} STOP", "fr", "xx", false, false},
		{"no stored text at all in an enabled language: the shipped one", outbox.KindKey("ack_confirm"), "en", "", "en", "", true, false},
		{"a rule's own text", outbox.RuleKey(rule), "de", "DE 2h", "de", "", false, false},
		{"a rule without that language nor the default: the shipped text for its timing", outbox.RuleKey(rule), "es", shippedSoon("es"), "es", "", true, false},
		{"a kind with no text at all", outbox.KindKey("loyalty_offer"), "en", "", "", "", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := ts.Pick(tc.key, tc.lang)
			if ok == tc.missing {
				t.Fatalf("ok = %v", ok)
			}
			if tc.missing {
				return
			}
			want := tc.want
			if want == "" {
				want, _ = texts.Default(tc.key.Kind, tc.wantLang)
			}
			if c.Template != want || c.Language != tc.wantLang || c.FallbackFrom != tc.fallback || c.Shipped != tc.shipped {
				t.Fatalf("picked %+v, want %q in %s (fallback %q, shipped %v)", c, want, tc.wantLang, tc.fallback, tc.shipped)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		rule uint
	}{
		{"help", true, 0},
		{"ack_confirm", true, 0},
		{"rule:3", true, 3},
		{"rule:03", false, 0},
		{"rule:0", false, 0},
		{"rule:", false, 0},
		{"rule:x", false, 0},
		{"rule:99999999999", false, 0},
		{"", false, 0},
		{"Help", false, 0},
		{"help.fr", false, 0},
		{"a-b", false, 0},
	} {
		k, ok := outbox.ParseKey(tc.in)
		if ok != tc.ok || (ok && (k.RuleID != tc.rule || k.String() != tc.in)) {
			t.Errorf("ParseKey(%q) = %+v, %v", tc.in, k, ok)
		}
	}
}
