package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/app/outbox"
	"apptconfirm/app/server"
	"apptconfirm/models"
)

// startFrozenApp is startBrowserApp with the app's clock stopped at now,
// so that what it plans and previews does not depend on when the test runs.
func startFrozenApp(t *testing.T, zone string, now time.Time) (*server.App, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := config.Default()
	cfg.Server.PublicURL = base
	cfg.Database.DSN = filepath.Join(t.TempDir(), "app.db")
	cfg.Clinic.Timezone = zone
	cfg.Clinic.Country = "FR"
	cfg.Clinic.Name = "Cabinet Dupont"
	cfg.Reminders.CapPerDay = 0
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := server.Build(ctx, cfg, slog.New(slog.DiscardHandler), server.Options{HashCost: 10, Now: func() time.Time { return now }})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return app, base
}

// TestBrowserTextEditor drives the text editor in headless Chromium as an
// admin would: turn a language off, open the 2 h reminder's texts, type a
// text that says "today" and one with an unknown placeholder, preview them
// on a real appointment (the day warning, the error, the length, encoding
// and parts per language), save (refused, naming the language), fix and
// save, and see a STOP answer without STOP refused. Then Tomorrow's sends
// flags the fallback and the wrong day, and the appointment's page says
// when and why quiet hours moved the send. Each page is captured at 390
// and 1366 px wide (kept in $APPTCONFIRM_SCREENSHOTS when set).
func TestBrowserTextEditor(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	// Monday 2 March 2026, 10:00 in Paris.
	app, base := startFrozenApp(t, "Europe/Paris", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	actor := models.SystemActor()
	if _, err := app.Clinic.CreateUser(ctx, actor, clinic.UserInput{Email: "boss@example.com", Name: "Boss", Role: "admin", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	// A German patient at 08:30 tomorrow: the 2 h reminder goes at 20:59
	// tonight. A French one at 09:00: it goes at 08:00 tomorrow.
	book := func(first, phone, lang, start string) *models.Appointment {
		p, err := app.Clinic.CreatePatient(ctx, actor, clinic.PatientInput{FirstName: first, LastName: "Muster", Phone: phone, Language: lang}, "FR")
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.Clinic.CreateAppointment(ctx, actor, clinic.AppointmentInput{PatientID: p.ID, StartsLocal: start, DurationMinutes: 30})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	early := book("Jonas", "+33612345601", "de", "2026-03-03T08:30")
	book("Marie", "+33612345602", "fr", "2026-03-03T09:00")
	var rule models.ReminderRule
	if err := app.Store.DB(ctx).Where("name = ?", "2h").Take(&rule).Error; err != nil {
		t.Fatal(err)
	}
	editor := base + "/admin/texts/" + outbox.RuleKey(&rule).String()

	bctx := newChromium(t, exe, 1366, 1000)
	var mu sync.Mutex
	var jsErrors []string
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				jsErrors = append(jsErrors, m.String())
				mu.Unlock()
			}
		}
	}()
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	step("log in",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, "boss@example.com"),
		chromedp.SendKeys(`input[name="password"]`, "correct horse battery"),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#rates-chart`),
	)

	// The list, and German turned off: its patients get English.
	step("open the texts", chromedp.Navigate(base+"/admin/texts"), chromedp.WaitVisible(`#texts`))
	if list := text(`#texts`); !strings.Contains(list, "Reminder 2 h before") || !strings.Contains(list, "Help answer (HELP)") || !strings.Contains(list, "Reschedule notice") {
		t.Fatalf("the list lacks texts:\n%s", list)
	}
	step("turn German off",
		chromedp.Click(`#languages input[value="de"]`),
		chromedp.Click(`#languages button[type="submit"]`),
	)
	poll(t, bctx, "the languages to be saved", `document.querySelector(".flash") !== null && document.querySelector(".flash").textContent.indexOf("any other language gets English") >= 0`)

	// The 2 h reminder's editor: one column per enabled language.
	step("open the 2 h reminder's texts", chromedp.Navigate(editor), chromedp.WaitVisible(`.text-columns`))
	cols, err := chromedp.Run(bctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".text-column")).map(function(c){return c.dataset.lang}).join(",")`))
	if err != nil || cols != "en,fr,es,nl,pt,it" {
		t.Fatalf("columns %q (%v)", cols, err)
	}
	step("type, choose the appointment and preview",
		chromedp.SetValue(`#f-text_en`, "Hi {first_name}, see you today at {time}."),
		chromedp.SetValue(`#f-text_fr`, "Bonjour {prenom}, à {day} à {time}."),
		clear(`#f-text_nl`),
		chromedp.SetValue(`#f-preview_appointment`, fmt.Sprint(early.ID)),
		chromedp.Click(`.preview-for button[value="preview"]`),
	)
	poll(t, bctx, "the preview with its warnings",
		`document.querySelector('[data-lang="en"] [data-day-warning]') !== null && document.querySelector('[data-lang="fr"] [data-preview-error]') !== null`)
	if w := text(`[data-lang="en"] [data-day-warning]`); !strings.Contains(w, `the text says "today"`) || !strings.Contains(w, "Monday, March 2 at 8:59 PM") {
		t.Fatalf("day warning %q", w)
	}
	if pv := text(`[data-lang="en"] [data-preview]`); pv != "Hi Jonas, see you today at 8:30 AM." {
		t.Fatalf("English preview %q", pv)
	}
	if m := text(`[data-lang="en"] [data-measure]`); m != "35 characters · GSM-7 · 1 SMS part" {
		t.Fatalf("English measure %q", m)
	}
	if e := text(`[data-lang="fr"] [data-preview-error]`); !strings.Contains(e, "unknown placeholder {prenom}") {
		t.Fatalf("French error %q", e)
	}
	if m := text(`[data-lang="pt"] [data-measure]`); !strings.Contains(m, "Unicode (UCS-2)") {
		t.Fatalf("Portuguese measure %q (the shipped text says amanhã)", m)
	}
	if f := text(`[data-lang="nl"] [data-fallback]`); !strings.Contains(f, "No Dutch text") {
		t.Fatalf("Dutch fallback %q", f)
	}
	if w := text(`#preview-when`); !strings.Contains(w, "Mon 2 Mar 8:59 PM CET") {
		t.Fatalf("preview when %q", w)
	}

	// Saving is refused, naming the language; what was typed stays.
	step("save", chromedp.Click(`.actions button[value="save"]`))
	poll(t, bctx, "the refusal", `document.querySelector('[data-lang="fr"] [data-error]') !== null`)
	if e := text(`[data-lang="fr"] [data-error]`); !strings.Contains(e, "unknown placeholder {prenom}") {
		t.Fatalf("French refusal %q", e)
	}
	if v, _ := chromedp.Run(bctx, chromedp.Value(`#f-text_en`)); v != "Hi {first_name}, see you today at {time}." {
		t.Fatalf("the English text typed was lost: %q", v)
	}
	step("fix and save",
		chromedp.SetValue(`#f-text_en`, "Hi {first_name}, see you {day} at {time}."),
		chromedp.SetValue(`#f-text_fr`, "Bonjour {first_name}, à {day} à {time}."),
		chromedp.Click(`.actions button[value="save"]`),
	)
	poll(t, bctx, "the save", `document.querySelector(".flash") !== null && document.querySelector(".flash").textContent.indexOf("texts saved") >= 0`)
	if pv := text(`[data-lang="en"] [data-preview]`); pv != "Hi Jonas, see you tomorrow at 8:30 AM." {
		t.Fatalf("English preview after the save %q", pv)
	}
	texts, err := app.Store.RuleTexts(ctx, rule.ID)
	if err != nil || texts["fr"] != "Bonjour {first_name}, à {day} à {time}." || texts["nl"] != "" {
		t.Fatalf("stored %v, %v", texts, err)
	}
	shoot(t, bctx, "text-editor", editor)

	// A STOP answer that does not say STOP is refused.
	step("open the STOP answer", chromedp.Navigate(base+"/admin/texts/optout_ack"), chromedp.WaitVisible(`#f-text_fr`))
	step("remove STOP from the French answer",
		chromedp.SetValue(`#f-text_fr`, "{clinic} : vous ne recevrez plus de SMS."),
		chromedp.Click(`.actions button[value="save"]`),
	)
	poll(t, bctx, "the STOP refusal", `document.querySelector('[data-lang="fr"] [data-error]') !== null`)
	if e := text(`[data-lang="fr"] [data-error]`); !strings.Contains(e, "word STOP") {
		t.Fatalf("STOP refusal %q", e)
	}

	// Tomorrow's sends: the German patient's reminder falls back to
	// English; "today" is flagged where the send falls the evening before
	// (Jonas), not where it falls on the day (Marie, at 08:00).
	for lang, body := range map[string]string{
		"en": "Hi {first_name}, see you today at {time}.",
		"fr": "Bonjour {first_name}, nous vous attendons aujourd'hui à {time}.",
	} {
		if err := app.Store.PutRuleTemplate(ctx, rule.ID, lang, body, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	step("open Tomorrow's sends", chromedp.Navigate(base+"/upcoming"), chromedp.WaitVisible(`#upcoming`))
	if up := text(`#upcoming`); !strings.Contains(up, "English (no German text)") || !strings.Contains(up, "Falls back to the clinic's language") ||
		!strings.Contains(up, "Reminder 2 h before") || !strings.Contains(up, "moved to 20:59, before quiet hours") {
		t.Fatalf("Tomorrow's sends:\n%s", up)
	}
	if n := text(`#fallback-count`); !strings.Contains(n, "1 message goes out in the clinic's language") {
		t.Fatalf("fallback count %q", n)
	}
	flagged, err := chromedp.Run(bctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#upcoming [data-day-warning]")).map(function(w){return w.closest("tr").textContent}).join("|")`))
	if err != nil || strings.Count(flagged, "|") != 0 || !strings.Contains(flagged, "Jonas") || !strings.Contains(flagged, `the text says "today"`) {
		t.Fatalf("day warnings on Tomorrow's sends: %q (%v)", flagged, err)
	}
	shoot(t, bctx, "tomorrows-sends", base+"/upcoming")

	// The appointment's page: the text as it will be sent, in which
	// language, and when and why quiet hours moved it.
	step("open the appointment", chromedp.Navigate(fmt.Sprintf("%s/appointments/%d", base, early.ID)), chromedp.WaitVisible(`#appointment-messages`))
	page := text(`#appointment-messages`)
	for _, want := range []string{
		"Reminder 2 h before", "Hi Jonas, see you today at 8:30 AM.", "English (no German text)", `the text says "today"`,
		"Moved by quiet hours: due Tue 3 Mar 06:30 CET; moved to 20:59, before quiet hours", "As it will be sent",
	} {
		if !strings.Contains(page, want) {
			t.Fatalf("appointment page lacks %q:\n%s", want, page)
		}
	}
	shoot(t, bctx, "appointment", fmt.Sprintf("%s/appointments/%d", base, early.ID))
	shoot(t, bctx, "patient", fmt.Sprintf("%s/patients/%d", base, early.PatientID))
	shoot(t, bctx, "texts", base+"/admin/texts")
	shoot(t, bctx, "rules", base+"/admin/rules")

	// A reply the app cannot act on lands in the inbox with the quick
	// answers, written for the patient; one click fills the answer box.
	postWebhook(t, app.WebhookURL(), "receive_sms", map[string]any{
		"msgId": "11111111-2222-4333-8444-555555555555", "from": "+33612345601", "to": "+33100000000", "countryIso": "FR",
		"text": "Kann ich etwas später kommen?", "cost": 0, "receivedAt": "2026-03-02 09:00:00",
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		step("open the inbox", chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(`main`))
		if ok, _ := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.querySelector("[data-quick-answers] button") !== null`)); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reply never reached the inbox with its quick answers")
		}
		time.Sleep(100 * time.Millisecond)
	}
	step("pick a quick answer", chromedp.Click(`[data-quick-answers] button`))
	answer, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("textarea[name=text]").value`))
	if err != nil || !strings.HasPrefix(answer, "Hi Jonas, please call Cabinet Dupont at ") {
		t.Fatalf("the answer box holds %q (%v)", answer, err)
	}
	shoot(t, bctx, "inbox", base+"/inbox")

	mu.Lock()
	defer mu.Unlock()
	if len(jsErrors) > 0 {
		t.Fatalf("script errors in the browser: %q", jsErrors)
	}
}

// clear empties a text box (chromedp's SetValue cannot set "").
func clear(sel string) chromedp.Action[chromedp.Void] {
	eval := chromedp.Evaluate[bool](fmt.Sprintf(`(function(){var e=document.querySelector(%q);e.value="";return true;})()`, sel))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := eval(ctx, t)
		return chromedp.Void{}, err
	}
}

// shoot captures url at 1366 and 390 px wide, whole pages, checks they are
// not blank, and keeps them in $APPTCONFIRM_SCREENSHOTS when set.
func shoot(t *testing.T, ctx context.Context, name, url string) {
	t.Helper()
	for _, width := range []int64{1366, 390} {
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		if err := chromedp.Do(tctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatalf("%s at %d px: viewport: %v", name, width, err)
		}
		if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
			t.Fatalf("%s at %d px: navigate: %v", name, width, err)
		}
		cancel()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", name, err)
		}
		if n := distinctColours(img); n < 20 {
			t.Fatalf("%s at %d px has %d distinct colours: blank?", name, width, n)
		}
		if dir := os.Getenv("APPTCONFIRM_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, width)), shot, 0o644)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 1000)); err != nil {
		t.Fatal(err)
	}
}
