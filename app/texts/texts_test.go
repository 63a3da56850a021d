package texts

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones under test, whatever the host has installed

	"apptconfirm/app/render"
	"apptconfirm/app/reply"
	"apptconfirm/app/schedule"
	"apptconfirm/app/smstext"
	"apptconfirm/models"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustUTC(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func TestEveryKindInEveryLanguage(t *testing.T) {
	if !slices.Equal(Languages(), []string{"en", "fr", "es", "de", "nl", "pt", "it"}) {
		t.Fatalf("Languages() = %v", Languages())
	}
	if len(defaults) != len(kinds) {
		t.Fatalf("%d kinds have defaults, %d are listed", len(defaults), len(kinds))
	}
	for _, kind := range Kinds() {
		if len(defaults[kind]) != len(Languages()) {
			t.Errorf("%s has %d languages", kind, len(defaults[kind]))
		}
		if name := KindName(kind); name == "" || strings.Contains(name, "_") {
			t.Errorf("%s has no readable name: %q", kind, name)
		}
		for _, lang := range Languages() {
			body, ok := Default(kind, lang)
			if !ok || strings.TrimSpace(body) == "" {
				t.Errorf("no %s text in %s", kind, lang)
				continue
			}
			if err := Check(kind, body); err != nil {
				t.Errorf("%s/%s does not pass Check: %v", kind, lang, err)
			}
			if sentenceStartsWithDay.MatchString(body) {
				t.Errorf("%s/%s starts a sentence with the lower-case {day}: %q", kind, lang, body)
			}
			validate := render.Validate
			if UsesChoices(kind) {
				validate = render.ValidateQuestion
			}
			if err := validate(body); err != nil {
				t.Errorf("%s/%s: %v", kind, lang, err)
			}
		}
	}
}

var sentenceStartsWithDay = regexp.MustCompile(`(^|[.!?]\s+)\{day\}`)

// TestKindsMatchModels keeps the kind names the same strings as the
// message kinds the app stores.
func TestKindsMatchModels(t *testing.T) {
	same := map[string]string{
		KindReminder: models.KindReminder, KindBookingConfirmation: models.KindBookingConfirm,
		KindCancellationNotice: models.KindCancellation, KindAckConfirm: models.KindAckConfirm,
		KindAckCancel: models.KindAckCancel, KindOptOutAck: models.KindOptOutAck, KindOptInAck: models.KindOptInAck,
		KindHelp: models.KindHelp, KindQuestion: models.KindQuestion,
	}
	for ours, theirs := range same {
		if ours != theirs {
			t.Errorf("texts kind %q, models kind %q", ours, theirs)
		}
	}
	for _, k := range []string{models.KindManual, models.KindTest} {
		if KindName(k) == k {
			t.Errorf("models kind %q has no readable name", k)
		}
	}
}

func TestDefault(t *testing.T) {
	en, _ := Default(KindHelp, "en")
	pt, _ := Default(KindHelp, "pt")
	tests := []struct {
		kind, lang string
		want       string
		ok         bool
	}{
		{KindHelp, "en", en, true},
		{KindHelp, "PT-br", pt, true},
		{KindHelp, " pt_PT ", pt, true},
		{KindHelp, "xx", "", false},
		{KindHelp, "", "", false},
		{"nope", "en", "", false},
		{"manual", "en", "", false},
	}
	for _, tt := range tests {
		got, ok := Default(tt.kind, tt.lang)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Default(%q, %q) = %q, %v; want %q, %v", tt.kind, tt.lang, got, ok, tt.want, tt.ok)
		}
	}
	k := Kinds()
	k[0] = "changed"
	if Kinds()[0] != KindReminder {
		t.Fatal("Kinds returns shared storage")
	}
}

func TestNames(t *testing.T) {
	tests := map[string]string{
		KindAckConfirm: "Confirmation acknowledgement", KindHelp: "Help answer (HELP)", "manual": "Staff message",
		"loyalty_offer": "Loyalty offer", "": "Message", "_": "Message", "é_x": "É x",
	}
	for kind, want := range tests {
		if got := KindName(kind); got != want {
			t.Errorf("KindName(%q) = %q, want %q", kind, got, want)
		}
	}
	reminders := map[time.Duration]string{
		48 * time.Hour: "Reminder 48 h before", 2 * time.Hour: "Reminder 2 h before", 24 * time.Hour: "Reminder 24 h before",
		90 * time.Minute: "Reminder 90 min before", 30 * time.Minute: "Reminder 30 min before",
		150 * time.Minute: "Reminder 2 h 30 min before", 7 * 24 * time.Hour: "Reminder 7 days before",
		0: "Reminder 0 min before",
	}
	for before, want := range reminders {
		if got := ReminderName(before); got != want {
			t.Errorf("ReminderName(%s) = %q, want %q", before, got, want)
		}
	}
	rules := DefaultRules()
	if len(rules) != 2 || ReminderName(rules[0].Before) != "Reminder 48 h before" || rules[0].Kind != KindReminder ||
		rules[1].Before != 2*time.Hour || !rules[1].OnlyIfUnconfirmed || rules[1].Kind != KindReminderSoon {
		t.Fatalf("DefaultRules() = %+v", rules)
	}
}

func TestLegalCheck(t *testing.T) {
	tests := []struct {
		kind, body string
		want       error // nil means accepted
	}{
		{KindHelp, "{clinic}: reply STOP to opt out.", nil},
		{KindOptOutAck, "{clinic}: you replied stop. Reply START to come back.", nil},
		{KindOptInAck, "Welcome back to {clinic}! Text STOP to leave.", nil},
		{KindHelp, "Reply STOP to opt out.", ErrNoClinicName},
		{KindHelp, "Smile Dental: reply STOP to opt out.", ErrNoClinicName},
		{KindHelp, "{location}: reply STOP to opt out.", ErrNoClinicName},
		{KindOptOutAck, "{clinic}: you are unsubscribed.", ErrNoStopInstruction},
		{KindOptOutAck, "{clinic}: reply STOPP or STOPPED.", ErrNoStopInstruction},
		{KindOptInAck, "{clinic}: welcome back.", ErrNoStopInstruction},
		{KindHelp, "{clinic}: reply STOP {oops}", render.ErrUnknownPlaceholder},
		// Other kinds need neither.
		{KindAckConfirm, "Thanks!", nil},
		{KindQuestion, "Reply {choices}", nil},
	}
	for _, tt := range tests {
		err := LegalCheck(tt.kind, tt.body)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("LegalCheck(%s, %q) = %v, want %v", tt.kind, tt.body, err, tt.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "texts: ") {
			t.Errorf("error %q has no package prefix", err)
		}
	}
	// Check adds the template check that fits the kind.
	if err := Check(KindQuestion, "Which one?"); !errors.Is(err, render.ErrUnknownPlaceholder) {
		t.Errorf("a question without {choices} passed: %v", err)
	}
	if err := Check(KindAckConfirm, "Reply {choices}"); !errors.Is(err, render.ErrUnknownPlaceholder) {
		t.Errorf("{choices} outside a choices text passed: %v", err)
	}
	if err := Check(KindHelp, "HELP"); !errors.Is(err, ErrNoClinicName) {
		t.Errorf("Check skipped LegalCheck: %v", err)
	}
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// TestFixedWordsAreGSM keeps every default's own words in the GSM-7
// alphabet, so that only a value can make a text Unicode.
func TestFixedWordsAreGSM(t *testing.T) {
	for _, kind := range kinds {
		for _, lang := range Languages() {
			body, _ := Default(kind, lang)
			fixed := placeholder.ReplaceAllString(body, "")
			for _, r := range fixed {
				if !smstext.IsGSM(string(r)) {
					t.Errorf("%s/%s: %q is not GSM-7 in %q", kind, lang, string(r), body)
				}
			}
		}
	}
}

// TestKeywordsAreUnderstood parses, for each language, the words its texts
// ask patients to reply, as a patient would type them.
func TestKeywordsAreUnderstood(t *testing.T) {
	asks := map[string][2]string{ // language: confirm, cancel
		"en": {"YES", "NO"}, "fr": {"OUI", "NON"}, "es": {"SI", "NO"}, "de": {"JA", "NEIN"},
		"nl": {"JA", "NEE"}, "pt": {"SIM", "CANCELAR"}, "it": {"SI", "NO"},
	}
	for lang, words := range asks {
		for i, kind := range []string{KindReminder, KindReminderSoon, KindBookingConfirmation, KindRescheduleNotice, KindHelp} {
			body, _ := Default(kind, lang)
			for _, w := range words {
				if !strings.Contains(body, w) {
					t.Errorf("%s/%s (%d) does not ask for %s: %q", kind, lang, i, w, body)
				}
			}
		}
		for i, want := range []reply.Intent{reply.Confirm, reply.Cancel} {
			for _, typed := range []string{words[i], strings.ToLower(words[i]), "1 " + words[i]} {
				if got := reply.Parse(typed); got.Intent != want {
					t.Errorf("%s: %q parses as %v, want %v", lang, typed, got.Intent, want)
				}
			}
		}
	}
	for _, w := range []string{"STOP", "START", "HELP"} {
		if got := reply.Parse(w); got.Intent == reply.Unknown {
			t.Errorf("%s is not understood", w)
		}
	}
}

// sample is realistic long-ish data: a 12-character first name, a
// 20-character place and clinic name, a 16-character phone number.
func sample(lang string, sendAt, startsAt time.Time, loc *time.Location) render.Data {
	slots := []time.Time{startsAt.AddDate(0, 0, 1), startsAt.AddDate(0, 0, 2), startsAt.AddDate(0, 0, 3)}
	labels := make([]string, len(slots))
	for i, s := range slots {
		labels[i] = render.FormatSlot(s, loc, lang)
	}
	return render.Data{
		FirstName: "Marie-Louise", LastName: "Vandenberghe", Language: lang,
		StartsAt: startsAt, SendAt: sendAt, Location: loc,
		LocationName: "Riverside Dental Ctr", ClinicName: "Northgate Family Med", ClinicPhone: "+44 20 7946 0958",
		LocationAddress: "12 Harbour Road", Provider: "Dr Okonkwo",
		Choices: render.FormatChoices(lang, labels),
	}
}

// longestDays returns the appointment instants (10:30 UTC) of 2026 whose
// {day} phrase in lang, seen from a week before, is the longest GSM-7 one
// and the longest Unicode one (the GSM-7 one again when there is none).
func longestDays(lang string) (gsm, unicode time.Time) {
	var gsmLen, uniLen int
	for d := time.Date(2026, 1, 1, 10, 30, 0, 0, time.UTC); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		a := smstext.Analyze(render.FormatDay(d.AddDate(0, 0, -7), d, time.UTC, lang))
		switch {
		case !a.Unicode && a.Length > gsmLen:
			gsm, gsmLen = d, a.Length
		case a.Unicode && a.Length > uniLen:
			unicode, uniLen = d, a.Length
		}
	}
	if uniLen == 0 {
		unicode = gsm
	}
	return gsm, unicode
}

// TestDefaultsFitOneSMS renders every default with long values and the
// longest day phrase of its language. Every text is one GSM-7 part (at
// most 160 characters) whenever its values are GSM-7, which holds for every
// day phrase in English, German, Dutch and Italian.
//
// The values that force Unicode, where a text then allows only 70
// characters a part, are Portuguese "amanhã" and the days and months with ç
// or á ("terça-feira", "sábado", "março"), Spanish "sábado" (and "sáb" in a
// numbered choice) and French "août". No wording of a text that names the
// day, the place and the name fits 70 characters (the values alone take
// about 60), so such a text goes as two or three Unicode parts; the test
// holds them to three.
func TestDefaultsFitOneSMS(t *testing.T) {
	utc := time.UTC
	longest, longestUnicode := map[string]string{}, map[string]string{}
	for _, lang := range Languages() {
		gsmDay, unicodeDay := longestDays(lang)
		cases := []struct {
			name             string
			sendAt, startsAt time.Time
		}{
			{"today", gsmDay.Add(-2 * time.Hour), gsmDay},
			{"tomorrow", gsmDay.Add(-14 * time.Hour), gsmDay},
			{"longest date", gsmDay.AddDate(0, 0, -2), gsmDay},
			{"longest Unicode date", unicodeDay.AddDate(0, 0, -2), unicodeDay},
		}
		for _, kind := range kinds {
			body, _ := Default(kind, lang)
			for _, c := range cases {
				p, err := render.PreviewText(body, sample(lang, c.sendAt, c.startsAt, utc))
				if err != nil {
					t.Fatalf("%s/%s: %v", kind, lang, err)
				}
				switch {
				case !p.Unicode && p.Parts != 1:
					t.Errorf("%s/%s %s: %d characters: %q", kind, lang, c.name, p.Length, p.Text)
				case p.Unicode && p.Parts > 3:
					t.Errorf("%s/%s %s: %d Unicode characters, %d parts: %q", kind, lang, c.name, p.Length, p.Parts, p.Text)
				}
				m := longest
				if p.Unicode {
					m = longestUnicode
				}
				if smstext.Analyze(p.Text).Length > smstext.Analyze(m[lang]).Length {
					m[lang] = p.Text
				}
			}
		}
	}
	for _, lang := range Languages() {
		t.Logf("%s: longest GSM-7 text %d characters: %s", lang, smstext.Analyze(longest[lang]).Length, longest[lang])
		if u := longestUnicode[lang]; u != "" {
			t.Logf("%s: longest Unicode text %d characters: %s", lang, smstext.Analyze(u).Length, u)
		}
	}
}

// TestDefaultRemindersSayTheRightDay plans the default rules with the
// planner's clock injected, renders each reminder as it will be sent, and
// checks that {day} is right and that nothing in the text contradicts the
// send time: across midnight, quiet hours and daylight-saving changes in
// several zones. The old English 2-hour text, which said "today", is
// flagged wherever a move put it on the evening before.
func TestDefaultRemindersSayTheRightDay(t *testing.T) {
	const oldSameDay = "Hi {first_name}, see you at {time} today at {location}. Reply YES to confirm, NO to cancel."
	tests := []struct {
		name  string
		zone  string
		quiet [2]string
		start string // UTC
		// days is, per default rule, the calendar days from send to visit.
		days [2]int
	}{
		{"utc, visit at 09:00", "UTC", [2]string{"21:00", "08:00"}, "2026-03-10T09:00:00Z", [2]int{2, 0}},
		// 08:30: after quiet hours would leave 30 minutes, so the 2-hour
		// reminder goes at 20:59 the evening before and says "tomorrow".
		{"utc, visit at 08:30", "UTC", [2]string{"21:00", "08:00"}, "2026-03-10T08:30:00Z", [2]int{2, 1}},
		{"new york spring forward, 09:00 EDT", "America/New_York", [2]string{"21:00", "08:00"}, "2026-03-08T13:00:00Z", [2]int{2, 0}},
		{"new york spring forward, 08:30 EDT", "America/New_York", [2]string{"21:00", "08:00"}, "2026-03-08T12:30:00Z", [2]int{2, 1}},
		{"new york fall back, 08:30 EST", "America/New_York", [2]string{"21:00", "08:00"}, "2026-11-01T13:30:00Z", [2]int{2, 1}},
		{"paris spring forward, 08:45 CEST", "Europe/Paris", [2]string{"21:00", "08:00"}, "2026-03-29T06:45:00Z", [2]int{2, 1}},
		{"paris fall back, 09:00 CET", "Europe/Paris", [2]string{"21:00", "08:00"}, "2026-10-25T08:00:00Z", [2]int{2, 0}},
		// Lord Howe moves by 30 minutes on 2026-10-04 (02:00 -> 02:30).
		{"lord howe, 08:15 after the change", "Australia/Lord_Howe", [2]string{"21:00", "08:00"}, "2026-10-03T21:15:00Z", [2]int{2, 1}},
		// Quiet hours across midnight, 23:00-07:00 in Tokyo: a visit at
		// 00:30 gets its 2-hour reminder at 22:30 the day before.
		{"tokyo, visit just after midnight", "Asia/Tokyo", [2]string{"23:00", "07:00"}, "2026-03-09T15:30:00Z", [2]int{2, 1}},
		// A visit at 01:30 in quiet hours: 23:30 is quiet too, so 22:59.
		{"tokyo, visit inside quiet hours", "Asia/Tokyo", [2]string{"23:00", "07:00"}, "2026-03-09T16:30:00Z", [2]int{2, 1}},
		{"santiago, midnight change", "America/Santiago", [2]string{"21:00", "08:00"}, "2026-09-06T12:00:00Z", [2]int{2, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			startsAt := mustUTC(t, tt.start)
			q, err := schedule.ParseQuietHours(tt.quiet[0], tt.quiet[1])
			if err != nil {
				t.Fatal(err)
			}
			plan := planDefaults(t, startsAt, loc, q)
			for i, p := range plan {
				if got := render.CalendarDays(p.sendAt, startsAt, loc); got != tt.days[i] {
					t.Fatalf("rule %s goes out %s local, %d days before; want %d", p.rule.Name, p.sendAt.In(loc), got, tt.days[i])
				}
				for _, lang := range Languages() {
					body, _ := Default(p.rule.Kind, lang)
					d := sample(lang, p.sendAt, startsAt, loc)
					text, err := render.Render(body, d)
					if err != nil {
						t.Fatal(err)
					}
					if w := render.DayContradiction(body, d); w != "" {
						t.Errorf("%s/%s: %s", p.rule.Name, lang, w)
					}
					if day := render.FormatDay(p.sendAt, startsAt, loc, lang); !strings.Contains(text, day) {
						t.Errorf("%s/%s: %q does not say %q", p.rule.Name, lang, text, day)
					}
				}
				if p.rule.Kind != KindReminderSoon {
					continue
				}
				en := sample("en", p.sendAt, startsAt, loc)
				text, _ := render.Render(body(KindReminderSoon, "en"), en)
				w := render.DayContradiction(oldSameDay, en)
				switch tt.days[i] {
				case 0:
					if !strings.Contains(text, " today at ") || w != "" {
						t.Errorf("same day: %q, warning %q", text, w)
					}
				case 1:
					if !strings.Contains(text, " tomorrow at ") || !strings.Contains(w, `says "today"`) {
						t.Errorf("evening before: %q, old text's warning %q", text, w)
					}
				}
			}
		})
	}
}

func body(kind, lang string) string {
	b, _ := Default(kind, lang)
	return b
}

// planned is one default rule's send time.
type planned struct {
	rule   Rule
	sendAt time.Time
}

// planDefaults plans the default rules for one appointment with the
// planner, its clock set a month before the visit.
func planDefaults(t *testing.T, startsAt time.Time, loc *time.Location, q schedule.QuietHours) []planned {
	t.Helper()
	rules := DefaultRules()
	in := schedule.Input{
		StartsAt: startsAt, Location: loc, Quiet: q, Active: true,
		Now: startsAt.AddDate(0, -1, 0), Caps: schedule.DefaultCaps(),
	}
	for i, r := range rules {
		in.Rules = append(in.Rules, schedule.Rule{ID: uint(i + 1), Name: r.Name, Before: r.Before, OnlyIfUnconfirmed: r.OnlyIfUnconfirmed, Enabled: true})
	}
	out := make([]planned, len(rules))
	for _, p := range schedule.Plan(in) {
		if p.Outcome != schedule.OutcomePlanned {
			t.Fatalf("rule %s skipped: %s", p.RuleName, p.Reason)
		}
		out[p.RuleID-1] = planned{rule: rules[p.RuleID-1], sendAt: p.SendAt}
	}
	return out
}

// FuzzCheck feeds editor input to Check: it never panics, a text it accepts
// renders, and a legal text it accepts names the clinic and says STOP.
func FuzzCheck(f *testing.F) {
	for _, kind := range kinds {
		b, _ := Default(kind, "fr")
		f.Add(kind, b)
	}
	f.Add(KindHelp, "{clinic} stop{")
	f.Add(KindOptOutAck, "{clinic}STOP")
	f.Fuzz(func(t *testing.T, kind, body string) {
		err := Check(kind, body)
		lerr := LegalCheck(kind, body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "texts: ") {
				t.Fatalf("Check(%q, %q) = %v, without the package prefix", kind, body, err)
			}
			return
		}
		if lerr != nil {
			t.Fatalf("Check accepted what LegalCheck refuses: %v", lerr)
		}
		if _, rerr := render.Render(body, render.Data{ClinicName: "C"}); rerr != nil {
			t.Fatalf("Check accepted %q but Render failed: %v", body, rerr)
		}
		if legalKinds[kind] && (!strings.Contains(body, "{clinic}") || !strings.Contains(strings.ToLower(body), "stop")) {
			t.Fatalf("Check accepted the %s text %q", kind, body)
		}
	})
}

func TestLanguageNames(t *testing.T) {
	for _, l := range Languages() {
		if !IsLanguage(l) || LanguageName(l) == l {
			t.Errorf("language %q has no name", l)
		}
	}
	if IsLanguage("EN") || IsLanguage("pt-BR") || IsLanguage("") || LanguageName("xx") != "xx" {
		t.Error("IsLanguage or LanguageName accept what is not a code")
	}
}

func TestReminderKindMatchesDefaultRules(t *testing.T) {
	for _, r := range DefaultRules() {
		if got := ReminderKind(r.Before); got != r.Kind {
			t.Errorf("ReminderKind(%s) = %s, the shipped rule %s uses %s", r.Before, got, r.Name, r.Kind)
		}
	}
}
