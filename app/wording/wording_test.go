package wording_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/app/texts"
	"apptconfirm/app/wording"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// t0 is the tests' "now": Monday 2 March 2026, 09:00 UTC (10:00 in Paris).
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is a clinic in Paris (quiet hours 21:00-08:00) with the shipped
// rules, the outbox as its planner and the wording service.
type env struct {
	store  *models.Store
	clinic *clinic.Service
	ob     *outbox.Outbox
	words  *wording.Service
	staff  models.Actor
}

// newEnv builds the env; setup runs on the store before the texts are
// ensured (to start from an older database, say).
func newEnv(t *testing.T, def string, setup func(s *models.Store)) *env {
	t.Helper()
	return newEnvOn(t, storetest.SQLite(t), def, setup)
}

// newEnvOn is newEnv on the store s.
func newEnvOn(t *testing.T, s *models.Store, def string, setup func(s *models.Store)) *env {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return t0 }
	e := &env{store: s}
	e.ob = outbox.New(s, outbox.Options{Now: now, DefaultLanguage: def, ClinicName: "Cabinet Dupont"})
	e.clinic = clinic.New(s, clinic.Options{Planner: e.ob, Now: now, Language: def})
	err := e.clinic.EnsureDefaults(ctx, clinic.Defaults{
		ClinicName: "Main St", Timezone: "Europe/Paris", Country: "FR", Phone: "+33142685300",
		QuietStart: "21:00", QuietEnd: "08:00", Language: def,
	})
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(s)
	}
	e.words = wording.New(s, e.ob, now)
	if err := e.words.EnsureTexts(ctx); err != nil {
		t.Fatal(err)
	}
	uid := uint(1)
	e.staff = models.Actor{UserID: &uid, Name: "boss@example.com"}
	return e
}

func (e *env) texts(t *testing.T) models.Texts {
	t.Helper()
	ts, err := e.store.Texts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func (e *env) rules(t *testing.T) []models.ReminderRule {
	t.Helper()
	rs, err := e.store.RulesByTiming(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func (e *env) count(t *testing.T, model any, where ...any) int64 {
	t.Helper()
	var n int64
	db := e.store.DB(context.Background()).Model(model)
	if len(where) > 0 {
		db = db.Where(where[0], where[1:]...)
	}
	if err := db.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnsureTexts(t *testing.T) {
	ctx := context.Background()
	t.Run("first start: every kind and rule in every language, the shipped texts", func(t *testing.T) {
		e := newEnv(t, "en", nil)
		ts := e.texts(t)
		for _, kind := range outbox.TemplateKinds() {
			for _, l := range texts.Languages() {
				if want, _ := texts.Default(kind, l); ts.Kinds[kind][l] != want {
					t.Errorf("%s/%s = %q, want the shipped %q", kind, l, ts.Kinds[kind][l], want)
				}
			}
		}
		for _, r := range e.rules(t) {
			kind := texts.ReminderKind(r.Before())
			for _, l := range texts.Languages() {
				if want, _ := texts.Default(kind, l); ts.Rules[r.ID][l] != want {
					t.Errorf("rule %s/%s = %q, want %q", r.Name, l, ts.Rules[r.ID][l], want)
				}
			}
		}
		if v, err := e.store.Setting(ctx, models.SettingLanguages); err != nil || v != "en,fr,es,de,nl,pt,it" {
			t.Fatalf("languages setting %q, %v", v, err)
		}
		audits := e.count(t, &models.AuditEntry{}, "action = ?", "message_template.create")
		if audits != 1 {
			t.Fatalf("%d audit rows", audits)
		}

		// Edits and clearings survive a restart; nothing is added again.
		if _, err := e.words.Save(ctx, e.staff, []wording.Change{
			{Key: "ack_confirm", Language: "fr", Body: "Merci {first_name} !"},
			{Key: "ack_confirm", Language: "nl", Body: ""},
		}); err != nil {
			t.Fatal(err)
		}
		if err := e.words.EnsureTexts(ctx); err != nil {
			t.Fatal(err)
		}
		ts = e.texts(t)
		if ts.Kinds["ack_confirm"]["fr"] != "Merci {first_name} !" || ts.Kinds["ack_confirm"]["nl"] != "" {
			t.Fatalf("after a restart: fr %q, nl %q", ts.Kinds["ack_confirm"]["fr"], ts.Kinds["ack_confirm"]["nl"])
		}
		if n := e.count(t, &models.AuditEntry{}, "action = ?", "message_template.create"); n != audits {
			t.Fatalf("a restart with nothing to add wrote %d audit rows", n-audits)
		}
	})

	t.Run("an upgraded clinic: untouched old texts are replaced, its own are kept and not translated", func(t *testing.T) {
		var custom uint
		e := newEnv(t, "en", func(s *models.Store) {
			// As migration 7 leaves a database of an earlier version.
			rules, _ := s.RulesByTiming(ctx)
			old := map[uint]string{
				rules[0].ID: "Hi {first_name}, reminder: your appointment at {location} on {weekday} {date} at {time}. Reply YES to confirm or NO to cancel.",
				rules[1].ID: "Hi {first_name}, see you at {time} today at {location}. Reply YES to confirm, NO to cancel.",
			}
			for id, body := range old {
				if err := s.PutRuleTemplate(ctx, id, "en", body, t0); err != nil {
					t.Fatal(err)
				}
			}
			r := models.ReminderRule{Name: "week", BeforeSeconds: 7 * 24 * 3600, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
			if err := s.CreateRule(ctx, &r); err != nil {
				t.Fatal(err)
			}
			custom = r.ID
			if err := s.PutRuleTemplate(ctx, r.ID, "en", "See you next week, {first_name}.", t0); err != nil {
				t.Fatal(err)
			}
			for kind, body := range map[string]string{
				"help":        "Appointment reminders: reply YES to confirm, NO to cancel, STOP to opt out. Questions? Call {clinic_phone}.",
				"ack_confirm": "Great, {first_name}!",
			} {
				if err := s.PutMessageTemplate(ctx, kind, "en", body, t0); err != nil {
					t.Fatal(err)
				}
			}
		})
		ts := e.texts(t)
		if want, _ := texts.Default(texts.KindHelp, "en"); ts.Kinds["help"]["en"] != want {
			t.Fatalf("old help text kept: %q", ts.Kinds["help"]["en"])
		}
		if ts.Kinds["ack_confirm"]["en"] != "Great, {first_name}!" {
			t.Fatalf("the clinic's own text replaced: %q", ts.Kinds["ack_confirm"]["en"])
		}
		if fr, _ := texts.Default(texts.KindAckConfirm, "fr"); ts.Kinds["ack_confirm"]["fr"] != fr {
			t.Fatalf("ack_confirm/fr %q", ts.Kinds["ack_confirm"]["fr"])
		}
		rules := e.rules(t)
		for _, r := range rules[1:] {
			if want, _ := texts.Default(texts.ReminderKind(r.Before()), "en"); ts.Rules[r.ID]["en"] != want {
				t.Errorf("rule %s kept the old text %q", r.Name, ts.Rules[r.ID]["en"])
			}
			if len(ts.Rules[r.ID]) != len(texts.Languages()) {
				t.Errorf("rule %s has %d languages", r.Name, len(ts.Rules[r.ID]))
			}
		}
		if got := ts.Rules[custom]; len(got) != 1 || got["en"] != "See you next week, {first_name}." {
			t.Fatalf("the clinic's own rule text: %v", got)
		}
		list, err := e.words.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range list {
			if en.Rule != nil && en.Rule.ID == custom && len(en.Missing) != len(texts.Languages())-1 {
				t.Fatalf("the custom rule's missing languages: %v", en.Missing)
			}
		}
	})
}

func TestSetLanguages(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "fr", func(s *models.Store) {
		if err := s.PutSetting(ctx, models.SettingLanguages, "fr"); err != nil {
			t.Fatal(err)
		}
	})
	if ts := e.texts(t); len(ts.Kinds["help"]) != 1 || ts.Kinds["help"]["fr"] == "" {
		t.Fatalf("a French-only clinic got %v", ts.Kinds["help"])
	}
	if _, err := e.words.SetLanguages(ctx, e.staff, []string{"fr", "klingon"}); err == nil {
		t.Fatal("an unknown language was accepted")
	} else if fe, ok := models.AsFieldErrors(err); !ok || !strings.Contains(fe["languages"], `"klingon"`) {
		t.Fatalf("err = %v", err)
	}
	got, err := e.words.SetLanguages(ctx, e.staff, []string{"de", "en"})
	if err != nil {
		t.Fatal(err)
	}
	// The default is always kept, in the shipped order.
	if strings.Join(got.Enabled, ",") != "en,fr,de" || got.Default != "fr" {
		t.Fatalf("languages %+v", got)
	}
	ts := e.texts(t)
	for _, l := range []string{"en", "de"} {
		if want, _ := texts.Default(texts.KindHelp, l); ts.Kinds["help"][l] != want {
			t.Errorf("help/%s = %q after enabling it", l, ts.Kinds["help"][l])
		}
		for _, r := range e.rules(t) {
			if ts.Rules[r.ID][l] == "" {
				t.Errorf("rule %s has no %s text after enabling it", r.Name, l)
			}
		}
	}
	if n := e.count(t, &models.Event{}, "type = ?", models.EventTextsChanged); n != 1 {
		t.Fatalf("%d texts.changed events", n)
	}
	// Turned off, the texts stay; the same list again writes nothing.
	if _, err := e.words.SetLanguages(ctx, e.staff, []string{"fr"}); err != nil {
		t.Fatal(err)
	}
	if ts := e.texts(t); ts.Kinds["help"]["de"] == "" {
		t.Fatal("turning German off deleted its texts")
	}
	if _, err := e.words.SetLanguages(ctx, e.staff, []string{"fr"}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, &models.AuditEntry{}, "action = ?", "languages.update"); n != 2 {
		t.Fatalf("%d language audit rows, want 2", n)
	}
}

func TestSave(t *testing.T) {
	storetest.Each(t, testSave)
}

func testSave(t *testing.T, s *models.Store) {
	ctx := context.Background()
	e := newEnvOn(t, s, "en", nil)
	rule := e.rules(t)[1] // 2h
	ruleKey := outbox.RuleKey(&rule).String()
	refused := []struct {
		name    string
		change  wording.Change
		field   string
		message string
	}{
		{"an unknown placeholder", wording.Change{Key: "ack_confirm", Language: "de", Body: "Danke {vorname}"}, "ack_confirm.de", "unknown placeholder {vorname}"},
		{"a STOP answer without STOP", wording.Change{Key: "optout_ack", Language: "fr", Body: "{clinic} : c'est noté."}, "optout_ack.fr", "word STOP"},
		{"a START answer without the clinic", wording.Change{Key: "optin_ack", Language: "es", Body: "Responda STOP para darse de baja."}, "optin_ack.es", "{clinic}"},
		{"the question without choices", wording.Change{Key: "question", Language: "en", Body: "Which one?"}, "question.en", "{choices}"},
		{"a rule text with choices", wording.Change{Key: ruleKey, Language: "en", Body: "Reply {choices}"}, ruleKey + ".en", "only for the numbered question"},
		{"the default language cleared", wording.Change{Key: ruleKey, Language: "en", Body: " "}, ruleKey + ".en", "is required"},
		{"a stray brace", wording.Change{Key: "help", Language: "en", Body: "{clinic} STOP }"}, "help.en", "closing brace"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := e.texts(t)
			_, err := e.words.Save(ctx, e.staff, []wording.Change{{Key: "ack_cancel", Language: "fr", Body: "Annulé."}, tc.change})
			fe, ok := models.AsFieldErrors(err)
			if !ok || !strings.Contains(fe[tc.field], tc.message) {
				t.Fatalf("err = %v, want %s: ...%s...", err, tc.field, tc.message)
			}
			if after := e.texts(t); after.Kinds["ack_cancel"]["fr"] != before.Kinds["ack_cancel"]["fr"] {
				t.Fatal("a refused save stored part of its changes")
			}
		})
	}
	n, err := e.words.Save(ctx, e.staff, []wording.Change{
		{Key: ruleKey, Language: "de", Body: "Hallo {first_name}, bis {day} um {time} Uhr.\r\nIhre Praxis {clinic}"},
		{Key: ruleKey, Language: "it", Body: ""},
		{Key: "help", Language: "en", Body: e.texts(t).Kinds["help"]["en"]},
	})
	if err != nil || n != 2 {
		t.Fatalf("saved %d, %v; want 2 (help unchanged)", n, err)
	}
	got := e.texts(t).Rules[rule.ID]
	if got["de"] != "Hallo {first_name}, bis {day} um {time} Uhr.\nIhre Praxis {clinic}" || got["it"] != "" {
		t.Fatalf("rule texts %v", got)
	}
	en, err := e.words.Get(ctx, ruleKey)
	if err != nil || len(en.Missing) != 1 || en.Missing[0] != "it" || en.Name != "Reminder 2 h before" {
		t.Fatalf("entry %+v, %v", en, err)
	}
	if _, err := e.words.Get(ctx, "rule:999"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown rule: %v", err)
	}
	if _, err := e.words.Get(ctx, "reminder"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a kind that is not a text: %v", err)
	}
	if n := e.count(t, &models.AuditEntry{}, "action = ? AND actor = ?", "message_template.update", "boss@example.com"); n != 1 {
		t.Fatalf("%d audit rows", n)
	}
}

func TestPreview(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "en", nil)
	p, err := e.clinic.CreatePatient(ctx, e.staff, clinic.PatientInput{FirstName: "Marie", LastName: "Dupont", Phone: "+33612345678", Language: "fr"}, "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.clinic.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{PatientID: p.ID, StartsLocal: "2026-03-05T08:30", DurationMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	rule := e.rules(t)[1] // 2h: for 08:30 it goes at 20:59 the evening before
	key := outbox.RuleKey(&rule).String()
	bodies := map[string]string{
		"en": "Hi {first_name}, see you today at {time}.",
		"fr": "Bonjour {first_name}, à {day} à {time}.",
		"de": "Hallo {frist_name}",
		"es": strings.Repeat("Hola {first_name}. ", 14),
		"nl": "",
		"pt": "Olá {first_name}, até {day}!",
		"it": "Ciao {first_name}, {day} alle {time}.",
	}
	pv, err := e.words.Preview(ctx, key, bodies, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if pv.AppointmentID != a.ID || !strings.Contains(pv.For, "Marie Dupont (French)") || pv.When != "Wed 4 Mar 20:59 CET" {
		t.Fatalf("preview for %q (%d) at %q", pv.For, pv.AppointmentID, pv.When)
	}
	by := map[string]wording.LanguagePreview{}
	var order []string
	for _, l := range pv.Languages {
		by[l.Language] = l
		order = append(order, l.Language)
	}
	if strings.Join(order, ",") != "en,fr,es,de,nl,pt,it" {
		t.Fatalf("languages %v", order)
	}
	if en := by["en"]; en.Text != "Hi Marie, see you today at 8:30 AM." || !strings.Contains(en.DayWarning, `says "today"`) || en.Unicode || en.Parts != 1 {
		t.Fatalf("en %+v", en)
	}
	if fr := by["fr"]; fr.Text != "Bonjour Marie, à demain à 08:30." || fr.DayWarning != "" {
		t.Fatalf("fr %+v", fr)
	}
	if de := by["de"]; !strings.Contains(de.Error, "{frist_name}") || de.Text != "" {
		t.Fatalf("de %+v", de)
	}
	if es := by["es"]; es.Parts != 2 || !strings.Contains(es.Warning, "2 parts") {
		t.Fatalf("es %+v", es)
	}
	if nl := by["nl"]; nl.Fallback == "" || nl.Text != "Hi Marie, see you today at 8:30 AM." {
		t.Fatalf("nl falls back: %+v", nl)
	}
	if pt := by["pt"]; !pt.Unicode || pt.Text != "Olá Marie, até amanhã!" {
		t.Fatalf("pt %+v", pt)
	}

	// The question lists choices in each language; without an upcoming
	// appointment a sample one is used.
	q, err := e.words.Preview(ctx, "question", map[string]string{"en": "Reply {choices}, {clinic}.", "fr": "Répondez {choices}."}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Languages[0].Text; !strings.HasPrefix(got, "Reply 1 for Thu 8:30 AM, 2 for Fri 10:30 AM, Cabinet Dupont.") {
		t.Fatalf("question in English %q", got)
	}
	if got := q.Languages[1].Text; got != "Répondez 1 pour jeu. 08:30, 2 pour ven. 10:30." {
		t.Fatalf("question in French %q", got)
	}
	if _, err := e.clinic.Cancel(ctx, e.staff, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	s, err := e.words.Preview(ctx, "ack_confirm", map[string]string{"en": "Thanks {first_name}, {day}."}, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.AppointmentID != 0 || !strings.Contains(s.For, "sample") || !strings.HasPrefix(s.Languages[0].Text, "Thanks Alex, ") {
		t.Fatalf("sample preview %+v", s)
	}
	if _, err := e.words.Preview(ctx, "nope", nil, 0); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
}

// The list flags a text whose fixed words name a day that is wrong for some
// of its sends, per language.
func TestListFlagsFixedDays(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "en", nil)
	rule := e.rules(t)[1]
	key := outbox.RuleKey(&rule).String()
	if _, err := e.words.Save(ctx, e.staff, []wording.Change{
		{Key: key, Language: "en", Body: "Hi {first_name}, see you today at {time}."},
		{Key: key, Language: "de", Body: "Hallo {first_name}, bis heute um {time}."},
	}); err != nil {
		t.Fatal(err)
	}
	list, err := e.words.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range list {
		switch {
		case en.Key.String() == key:
			if en.DayWarnings["en"] == "" || en.DayWarnings["de"] == "" || en.DayWarnings["fr"] != "" {
				t.Fatalf("day warnings %v", en.DayWarnings)
			}
		case len(en.DayWarnings) > 0:
			t.Errorf("a shipped text is flagged: %s %v", en.Key, en.DayWarnings)
		}
	}
}
