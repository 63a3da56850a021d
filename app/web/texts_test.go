package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

func TestTextEditor(t *testing.T) {
	f := newRemindersFixture(t)
	a := f.a
	ctx := context.Background()
	admin := a.loggedIn("boss@example.com", models.RoleAdmin)
	staff := a.loggedIn("front@example.com", models.RoleStaff)
	var rule models.ReminderRule
	a.store.DB(ctx).Where("name = ?", "48h").Take(&rule)
	ruleURL := "/admin/texts/" + outbox.RuleKey(&rule).String()
	apptID := strconv.FormatUint(uint64(f.appt.ID), 10)

	t.Run("staff are refused", func(t *testing.T) {
		for _, path := range []string{"/admin/texts", ruleURL} {
			status, body := staff.get(path)
			expectPage(t, path, status, body, http.StatusForbidden, "Admins only")
		}
		resp, _ := staff.post("/admin/texts/help", form("text_en", "x", "action", "save"))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("staff save: %d", resp.StatusCode)
		}
	})

	t.Run("the list, and unknown texts are 404", func(t *testing.T) {
		status, body := admin.get("/admin/texts")
		expectPage(t, "list", status, body, http.StatusOK, "Help answer (HELP)", "Reminder 48 h before", `href="`+ruleURL+`"`, `value="fr" checked`)
		for _, path := range []string{"/admin/texts/nope", "/admin/texts/rule:999", "/admin/texts/reminder", "/admin/texts/rule:x"} {
			status, body := admin.get(path)
			expectPage(t, path, status, body, http.StatusNotFound)
		}
	})

	t.Run("preview shows every language on the chosen appointment and saves nothing", func(t *testing.T) {
		before, _ := a.store.RuleTexts(ctx, rule.ID)
		resp, body := admin.post(ruleURL, form("text_en", "Hi {first_name}, {day} at {time}.", "text_fr", "Salut {prenom}", "preview_appointment", apptID, "action", "preview"))
		expectPage(t, "preview", resp.StatusCode, body, http.StatusOK,
			"Hi Ada, on Tuesday, March 3 at 10:00 AM.", "unknown placeholder {prenom}", "Ada Lovelace (English)", "Sun 1 Mar 10:00 CET", "already past")
		if after, _ := a.store.RuleTexts(ctx, rule.ID); after["en"] != before["en"] {
			t.Fatal("a preview saved")
		}
	})

	t.Run("a refused save names the language and keeps what was typed", func(t *testing.T) {
		resp, body := admin.post("/admin/texts/help", form("text_en", "Call us: {clinic_phone}. Reply STOP to opt out.", "text_de", "{clinic}: Hilfe unter {clinic_phone}.", "action", "save"))
		expectPage(t, "refused", resp.StatusCode, body, http.StatusUnprocessableEntity,
			"must name the clinic with {clinic}", "with the word STOP", "Call us: {clinic_phone}. Reply STOP to opt out.")
		if !strings.Contains(body, `data-lang="en"`) || strings.Count(body, "data-error") != 2 {
			t.Fatalf("want one error under English and one under German:\n%s", excerpt(body))
		}
	})

	t.Run("a save stores every language at once and goes back to the editor", func(t *testing.T) {
		resp, body := admin.post(ruleURL, form(
			"text_en", "Hi {first_name}, see you {day} at {time}.", "text_fr", "Bonjour {first_name}, à {day} à {time}.", "text_nl", "",
			"preview_appointment", apptID, "action", "save"))
		expectRedirect(t, "save", resp, body, ruleURL+"?appointment="+apptID)
		got, _ := a.store.RuleTexts(ctx, rule.ID)
		if got["en"] != "Hi {first_name}, see you {day} at {time}." || got["fr"] != "Bonjour {first_name}, à {day} à {time}." || got["nl"] != "" || got["de"] == "" {
			t.Fatalf("stored %v", got)
		}
		status, body := admin.get(ruleURL + "?appointment=" + apptID)
		expectPage(t, "after save", status, body, http.StatusOK, "3 texts saved", "No Dutch text: Dutch patients get the English text.")
	})

	t.Run("languages", func(t *testing.T) {
		resp, body := admin.post("/admin/texts/languages", form("languages", "xx"))
		expectRedirect(t, "unknown language", resp, body, "/admin/texts")
		_, body = admin.get("/admin/texts")
		expectPage(t, "after an unknown language", http.StatusOK, body, http.StatusOK, "Languages not saved", `&#34;xx&#34; is not a language`)
		resp, body = admin.post("/admin/texts/languages", form("languages", "de"))
		expectRedirect(t, "languages", resp, body, "/admin/texts")
		_, body = admin.get("/admin/texts")
		expectPage(t, "after German only", http.StatusOK, body, http.StatusOK, "Patients get their messages in English, German")
		status, body := admin.get(ruleURL)
		expectPage(t, "editor with two languages", status, body, http.StatusOK, `name="text_en"`, `name="text_de"`)
		if strings.Contains(body, `name="text_fr"`) {
			t.Fatal("a language turned off is still edited")
		}
	})
}
