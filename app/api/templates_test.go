package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"apptconfirm/app/api"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// templateOf returns the text keyed key of a GET or PUT answer.
func templateOf(t *testing.T, ts api.Templates, key string) api.Template {
	t.Helper()
	for _, x := range ts.Templates {
		if x.Key == key {
			return x
		}
	}
	t.Fatalf("no text %q in %+v", key, ts.Templates)
	return api.Template{}
}

func TestListTemplates(t *testing.T) {
	e := newEnv(t)
	var got api.Templates
	e.decode(http.StatusOK, &got, http.MethodGet, "/api/v1/templates", "")
	if got.DefaultLanguage != "en" || !slices.Equal(got.Languages, texts.Languages()) || got.Changed != nil {
		t.Fatalf("languages %q %v, changed %v", got.DefaultLanguage, got.Languages, got.Changed)
	}
	var rules []models.ReminderRule
	if err := e.store.DB(context.Background()).Order("before_seconds DESC").Find(&rules).Error; err != nil {
		t.Fatal(err)
	}
	// Every kind the app sends, then each rule, each in every language.
	want := []string{
		"booking_confirmation", "ack_confirm", "ack_cancel", "cancellation_notice", "reschedule_notice",
		"reschedule_ack", "reschedule_offer", "rescheduled", "offer_taken",
		"waitlist_offer", "waitlist_booked", "waitlist_taken", "no_show_follow_up", "question",
		"help", "optout_ack", "optin_ack", "quick_call_us", "quick_will_reply",
	}
	for _, r := range rules {
		want = append(want, fmt.Sprintf("rule:%d", r.ID))
	}
	var keys []string
	for _, x := range got.Templates {
		keys = append(keys, x.Key)
		if len(x.Texts) != len(texts.Languages()) || len(x.Missing) != 0 || x.Name == "" || x.Description == "" {
			t.Errorf("%s: %d texts, missing %v, name %q", x.Key, len(x.Texts), x.Missing, x.Name)
		}
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	help := templateOf(t, got, "help")
	if !help.Legal || help.Choices || help.RuleID != nil || help.Texts["fr"] == "" {
		t.Fatalf("help %+v", help)
	}
	if q := templateOf(t, got, "question"); !q.Choices || q.Legal {
		t.Fatalf("question %+v", q)
	}
	r48 := templateOf(t, got, fmt.Sprintf("rule:%d", rules[0].ID))
	if r48.RuleID == nil || *r48.RuleID != rules[0].ID || r48.Rule == nil || *r48.Rule != "48h" || r48.Name != "Reminder 48 h before" {
		t.Fatalf("rule text %+v", r48)
	}
	if en, _ := texts.Default(texts.KindReminder, "en"); r48.Texts["en"] != en {
		t.Fatalf("rule text in English %q, want the shipped %q", r48.Texts["en"], en)
	}
	r := e.do(http.MethodGet, "/api/v1/templates", "", withToken(""))
	if code, _, _ := r.errorOf(t); r.status != http.StatusUnauthorized || code != api.CodeUnauthorized {
		t.Fatalf("without a token: %d %s", r.status, r.body)
	}
}

func TestPutTemplates(t *testing.T) {
	e := newEnv(t)
	var before api.Templates
	e.decode(http.StatusOK, &before, http.MethodGet, "/api/v1/templates", "")
	rule := templateOf(t, before, before.Templates[len(before.Templates)-1].Key).Key

	t.Run("saves, all at once, and says how many changed", func(t *testing.T) {
		body := `{"templates": [
			{"key": "help", "texts": {"fr": "{clinic} : appelez le {clinic_phone}. STOP pour ne plus recevoir de SMS.", "en": "` + templateOf(t, before, "help").Texts["en"] + `"}},
			{"key": "` + rule + `", "texts": {"de": "Hallo {first_name}, bis {day} um {time} Uhr!", "nl": ""}}
		]}`
		var got api.Templates
		e.decode(http.StatusOK, &got, http.MethodPut, "/api/v1/templates", body)
		if got.Changed == nil || *got.Changed != 3 {
			t.Fatalf("changed %v, want 3 (the English help text was the same)", got.Changed)
		}
		if h := templateOf(t, got, "help"); h.Texts["fr"] != "{clinic} : appelez le {clinic_phone}. STOP pour ne plus recevoir de SMS." {
			t.Fatalf("help in French %q", h.Texts["fr"])
		}
		r := templateOf(t, got, rule)
		if r.Texts["de"] != "Hallo {first_name}, bis {day} um {time} Uhr!" || r.Texts["nl"] != "" || !slices.Equal(r.Missing, []string{"nl"}) {
			t.Fatalf("rule after the change: texts %v, missing %v", r.Texts, r.Missing)
		}
		var audits int64
		e.store.DB(context.Background()).Model(&models.AuditEntry{}).Where("action = ? AND actor = ?", "message_template.update", "api:test").Count(&audits)
		if audits != 2 {
			t.Fatalf("%d audit rows, want one per text", audits)
		}
	})

	refusals := []struct {
		name, body, field, message string
	}{
		{
			"an unknown placeholder, named with its language", `{"templates": [{"key": "help", "texts": {"de": "{clinic}: Hilfe unter {telefon}. STOP zum Abmelden."}}]}`,
			"help.de", "unknown placeholder {telefon}",
		},
		{
			"a STOP answer that does not say STOP", `{"templates": [{"key": "optout_ack", "texts": {"es": "{clinic}: no le enviaremos más mensajes."}}]}`,
			"optout_ack.es", "with the word STOP",
		},
		{
			"a HELP answer that does not name the clinic", `{"templates": [{"key": "help", "texts": {"it": "Risponda STOP per non ricevere messaggi."}}]}`,
			"help.it", "must name the clinic with {clinic}",
		},
		{
			"the question without its choices", `{"templates": [{"key": "question", "texts": {"fr": "Lequel ?"}}]}`,
			"question.fr", "{choices}",
		},
		{
			"choices outside the question", `{"templates": [{"key": "ack_confirm", "texts": {"fr": "Merci {choices}"}}]}`,
			"ack_confirm.fr", "only for the numbered question",
		},
		{
			"no text in the clinic's language", `{"templates": [{"key": "ack_confirm", "texts": {"en": "  "}}]}`,
			"ack_confirm.en", "is required",
		},
		{"an unknown key", `{"templates": [{"key": "welcome", "texts": {"en": "Hi"}}]}`, "welcome.en", "names no text"},
		{"a rule that does not exist", `{"templates": [{"key": "rule:999", "texts": {"en": "Hi"}}]}`, "rule:999.en", "names no text"},
		{"an unknown language", `{"templates": [{"key": "help", "texts": {"pt-BR": "{clinic} STOP"}}]}`, "help.pt-BR", "not a language"},
		{"a control character", `{"templates": [{"key": "ack_confirm", "texts": {"en": "Hi\u0007"}}]}`, "ack_confirm.en", "control characters"},
		{"too long", `{"templates": [{"key": "ack_confirm", "texts": {"en": "` + strings.Repeat("a", 1601) + `"}}]}`, "ack_confirm.en", "at most 1600"},
		{"nothing to change", `{"templates": []}`, "templates", "at least one"},
		// The valid change the test puts first is templates[0].
		{"a text without a key", `{"templates": [{"texts": {"en": "Hi"}}]}`, "templates[1].key", "required"},
		{"a key without texts", `{"templates": [{"key": "help"}]}`, "templates[1].texts", "at least one"},
		{"an unknown member", `{"templates": [{"key": "help", "text": {"en": "Hi"}}]}`, "text", "not a known field"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			// A valid change in the same request is not saved either.
			body := strings.Replace(tc.body, `{"templates": [`, `{"templates": [{"key": "ack_cancel", "texts": {"fr": "Annulé, {first_name}."}}, `, 1)
			if tc.body == `{"templates": []}` {
				body = tc.body
			}
			r := e.do(http.MethodPut, "/api/v1/templates", body)
			code, field, message := r.errorOf(t)
			if r.status != http.StatusUnprocessableEntity || code != api.CodeInvalid {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if field != tc.field && !strings.Contains(string(r.body), `"`+tc.field+`"`) {
				t.Fatalf("field %q, want %q: %s", field, tc.field, r.body)
			}
			if !strings.Contains(message, tc.message) {
				t.Fatalf("message %q, want it to contain %q", message, tc.message)
			}
			var now api.Templates
			e.decode(http.StatusOK, &now, http.MethodGet, "/api/v1/templates", "")
			if got := templateOf(t, now, "ack_cancel").Texts["fr"]; got == "Annulé, {first_name}." {
				t.Fatal("a refused request saved part of its texts")
			}
		})
	}
}
