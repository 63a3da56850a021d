package render

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPlaceholders(t *testing.T) {
	got := Placeholders()
	want := []string{"first_name", "last_name", "date", "time", "weekday", "day", "location", "location_address", "provider", "clinic", "clinic_phone", "link"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Placeholders() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if Placeholders()[0] != "first_name" {
		t.Fatal("Placeholders returns shared storage")
	}
	for _, p := range want {
		if err := Validate("{" + p + "}"); err != nil {
			t.Errorf("Validate({%s}) = %v", p, err)
		}
	}
}

func TestValidate(t *testing.T) {
	good := []string{
		"",
		"Reply YES or NO",
		"Hi {first_name}, see you {weekday} {date} at {time} at {location}, {location_address}. Reply YES or NO. {{optoutLink}}",
		"{first_name}{last_name}{provider}{clinic_phone}",
		"Directions: {{shortlink:bVc}} Form: {{attachement:a1-B_2}} {{attachment:x9}}",
		"{{optoutLink}}{{optoutLink}}",
		"Olá {first_name} 👍 ça va?",
	}
	for _, tmpl := range good {
		if err := Validate(tmpl); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", tmpl, err)
		}
	}

	bad := []struct {
		tmpl  string
		kind  error
		token string
		pos   int
		text  string // part of the message
	}{
		{"Hi {frist_name}", ErrUnknownPlaceholder, "{frist_name}", 4, "did you mean {first_name}?"},
		{"Hi {First_Name}", ErrUnknownPlaceholder, "{First_Name}", 4, "did you mean {first_name}?"},
		{"Hi {firstname}", ErrUnknownPlaceholder, "{firstname}", 4, "did you mean {first_name}?"},
		{"Note: {notes}", ErrUnknownPlaceholder, "{notes}", 7, "allowed: {first_name}, {last_name}"},
		{"{reason}", ErrUnknownPlaceholder, "{reason}", 1, "render: unknown placeholder {reason} at character 1"},
		{"{}", ErrUnknownPlaceholder, "{}", 1, "unknown placeholder {}"},
		{"café {x}", ErrUnknownPlaceholder, "{x}", 6, "at character 6"},
		{"{a\nb}", ErrUnknownPlaceholder, `"{a\nb}"`, 1, `"{a\nb}"`},
		{"Hi {first_name", ErrUnclosedBrace, "{", 4, "unclosed brace { at character 4"},
		{"{ {first_name}", ErrUnclosedBrace, "{", 1, "unclosed brace"},
		{"Hi first_name}", ErrStrayBrace, "}", 14, "closing brace without an opening one } at character 14"},
		{"{{today}}", ErrUnsupportedSMSCX, "{{today}}", 1, "allowed: {{optoutLink}}"},
		{"x {{first_name}}", ErrUnsupportedSMSCX, "{{first_name}}", 3, "single braces: {first_name}"},
		{"{{optoutlink}}", ErrUnsupportedSMSCX, "{{optoutlink}}", 1, "did you mean {{optoutLink}}?"},
		{"{{shortlink:}}", ErrUnsupportedSMSCX, "{{shortlink:}}", 1, "unsupported SMS.CX placeholder"},
		{"{{shortlink:a b}}", ErrUnsupportedSMSCX, "{{shortlink:a b}}", 1, "unsupported"},
		{"{{numbers:4}}", ErrUnsupportedSMSCX, "{{numbers:4}}", 1, "unsupported"},
		{"{{{first_name}}}", ErrUnsupportedSMSCX, "{{{first_name}}", 1, "unsupported"},
		{"Stop: {{optoutLink}", ErrUnclosedBrace, "{{", 7, "ends with }}"},
		{"{{optoutLink}}}", ErrStrayBrace, "}", 15, "at character 15"},
		{"Hi {" + strings.Repeat("x", 100) + "}", ErrUnknownPlaceholder, "{" + strings.Repeat("x", 38) + "…", 4, "…"},
	}
	for _, tt := range bad {
		t.Run(tt.tmpl, func(t *testing.T) {
			err := Validate(tt.tmpl)
			if err == nil {
				t.Fatalf("Validate(%q) = nil, want an error", tt.tmpl)
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, tt.kind) {
				t.Fatalf("Validate(%q) = %v (%T), want a %v *Error", tt.tmpl, err, err, tt.kind)
			}
			if e.Token != tt.token || e.Pos != tt.pos {
				t.Fatalf("token %q at %d, want %q at %d", e.Token, e.Pos, tt.token, tt.pos)
			}
			if !strings.Contains(err.Error(), tt.text) || !strings.HasPrefix(err.Error(), "render: ") {
				t.Fatalf("message %q does not contain %q", err, tt.text)
			}
			if _, rerr := Render(tt.tmpl, Data{}); rerr == nil {
				t.Fatalf("Render accepted a template Validate refuses")
			}
		})
	}
}

func TestRenderLanguagesAcrossDST(t *testing.T) {
	newYork := mustLoc(t, "America/New_York")
	berlin := mustLoc(t, "Europe/Berlin")
	const tmpl = "{weekday}|{date}|{time}"
	type instant struct {
		name string
		at   time.Time
		loc  *time.Location
	}
	instants := []instant{
		{"new york, day before spring forward (EST)", mustUTC(t, "2026-03-07T19:30:00Z"), newYork},
		{"new york, spring forward day (EDT)", mustUTC(t, "2026-03-08T18:30:00Z"), newYork},
		{"berlin, day before fall back (CEST)", mustUTC(t, "2026-10-24T12:30:00Z"), berlin},
		{"berlin, fall back day (CET)", mustUTC(t, "2026-10-25T13:30:00Z"), berlin},
	}
	// Every instant is 14:30 local.
	want := map[string][4]string{
		"en": {"Saturday|March 7, 2026|2:30 PM", "Sunday|March 8, 2026|2:30 PM", "Saturday|October 24, 2026|2:30 PM", "Sunday|October 25, 2026|2:30 PM"},
		"fr": {"samedi|7 mars 2026|14:30", "dimanche|8 mars 2026|14:30", "samedi|24 octobre 2026|14:30", "dimanche|25 octobre 2026|14:30"},
		"es": {"sábado|7 de marzo de 2026|14:30", "domingo|8 de marzo de 2026|14:30", "sábado|24 de octubre de 2026|14:30", "domingo|25 de octubre de 2026|14:30"},
		"de": {"Samstag|7. März 2026|14:30", "Sonntag|8. März 2026|14:30", "Samstag|24. Oktober 2026|14:30", "Sonntag|25. Oktober 2026|14:30"},
		"nl": {"zaterdag|7 maart 2026|14:30", "zondag|8 maart 2026|14:30", "zaterdag|24 oktober 2026|14:30", "zondag|25 oktober 2026|14:30"},
		"pt": {"sábado|7 de março de 2026|14:30", "domingo|8 de março de 2026|14:30", "sábado|24 de outubro de 2026|14:30", "domingo|25 de outubro de 2026|14:30"},
		"it": {"sabato|7 marzo 2026|14:30", "domenica|8 marzo 2026|14:30", "sabato|24 ottobre 2026|14:30", "domenica|25 ottobre 2026|14:30"},
	}
	for _, lang := range Languages() {
		for i, in := range instants {
			t.Run(lang+"/"+in.name, func(t *testing.T) {
				got, err := Render(tmpl, Data{StartsAt: in.at, Location: in.loc, Language: lang})
				if err != nil || got != want[lang][i] {
					t.Fatalf("Render = %q, %v; want %q", got, err, want[lang][i])
				}
			})
		}
	}
}

func TestRenderWeekdays(t *testing.T) {
	// 2026-03-02 is a Monday; Tuesday 2026-03-03 is the example of the brief.
	want := map[string][7]string{
		"en": {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"},
		"fr": {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"},
		"es": {"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"},
		"de": {"Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"},
		"nl": {"maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"},
		"pt": {"segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"},
		"it": {"lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"},
	}
	monday := mustUTC(t, "2026-03-02T12:00:00Z")
	for lang, days := range want {
		for i, day := range days {
			got, err := Render("{weekday}", Data{StartsAt: monday.AddDate(0, 0, i), Language: lang})
			if err != nil || got != day {
				t.Errorf("%s day %d: %q, %v; want %q", lang, i, got, err, day)
			}
		}
	}
}

func TestRenderMonths(t *testing.T) {
	want := map[string]string{
		"en": "January February March April May June July August September October November December",
		"fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
		"es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
		"de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
		"nl": "januari februari maart april mei juni juli augustus september oktober november december",
		"pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
		"it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
	}
	for lang, months := range want {
		for i, month := range strings.Fields(months) {
			at := time.Date(2026, time.Month(i+1), 15, 12, 0, 0, 0, time.UTC)
			if got := FormatDate(at, time.UTC, lang); !slices.Contains(strings.Fields(strings.ReplaceAll(got, ",", "")), month) {
				t.Errorf("%s month %d: %q does not name %q", lang, i+1, got, month)
			}
		}
	}
}

func TestRender(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	base := Data{
		FirstName: "Ana", LastName: "Silva",
		StartsAt: mustUTC(t, "2026-03-03T13:30:00Z"), Location: berlin, Language: "en",
		LocationName: "Main St Clinic", LocationAddress: "1 Main St", Provider: "Dr Who", ClinicPhone: "+4930123456",
	}
	with := func(f func(*Data)) Data {
		d := base
		f(&d)
		return d
	}
	tests := []struct {
		name string
		tmpl string
		data Data
		want string
	}{
		{
			name: "every placeholder",
			tmpl: "{first_name} {last_name}: {weekday} {date} {time}, {location} ({location_address}) with {provider}. Call {clinic_phone}",
			data: base,
			want: "Ana Silva: Tuesday March 3, 2026 2:30 PM, Main St Clinic (1 Main St) with Dr Who. Call +4930123456",
		},
		{
			name: "sms.cx placeholders pass through",
			tmpl: "Hi {first_name}: map {{shortlink:bVc}} form {{attachement:f1}} {{attachment:f2}} stop {{optoutLink}}",
			data: base,
			want: "Hi Ana: map {{shortlink:bVc}} form {{attachement:f1}} {{attachment:f2}} stop {{optoutLink}}",
		},
		{name: "no placeholders", tmpl: "Reply YES", data: base, want: "Reply YES"},
		{name: "empty template", tmpl: "", data: base, want: ""},
		{name: "values are trimmed", tmpl: "[{first_name}]", data: with(func(d *Data) { d.FirstName = "  Ana \n" }), want: "[Ana]"},
		{name: "empty value", tmpl: "with {provider}.", data: with(func(d *Data) { d.Provider = "" }), want: "with ."},
		{name: "unknown language is English", tmpl: "{time}", data: with(func(d *Data) { d.Language = "klingon" }), want: "2:30 PM"},
		{name: "nil location is UTC", tmpl: "{time}", data: with(func(d *Data) { d.Location = nil; d.Language = "de" }), want: "13:30"},
		{name: "zone decides the day", tmpl: "{weekday} {date}", data: with(func(d *Data) { d.StartsAt = mustUTC(t, "2026-03-03T23:30:00Z") }), want: "Wednesday March 4, 2026"},
		{name: "other zone", tmpl: "{weekday} {time}", data: with(func(d *Data) { d.Location = mustLoc(t, "Asia/Kolkata") }), want: "Tuesday 7:00 PM"},
		// Injection: values are text, never placeholders.
		{name: "name that looks like a placeholder", tmpl: "Hi {first_name}", data: with(func(d *Data) { d.FirstName = "{time}" }), want: "Hi {time}"},
		{name: "braces inside a name stay", tmpl: "Hi {first_name}", data: with(func(d *Data) { d.FirstName = "a{b}c" }), want: "Hi a{b}c"},
		{name: "name that looks like an sms.cx placeholder", tmpl: "Hi {first_name}", data: with(func(d *Data) { d.FirstName = "{{optoutLink}}" }), want: "Hi ((optoutLink))"},
		{
			name: "two values that would join into an sms.cx placeholder",
			tmpl: "{first_name}{last_name}",
			data: with(func(d *Data) { d.FirstName, d.LastName = "{", "{shortlink:abc}}" }),
			want: "((shortlink:abc))",
		},
		{
			name: "a value brace next to a template placeholder",
			tmpl: "{first_name}{{optoutLink}}{last_name}",
			data: with(func(d *Data) { d.FirstName, d.LastName = "Bob{", "}x" }),
			want: "Bob({{optoutLink}})x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.tmpl, tt.data)
			if err != nil || got != tt.want {
				t.Fatalf("Render(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
			}
		})
	}
}

func TestRenderRefusesBadTemplate(t *testing.T) {
	got, err := Render("Hi {nom}", Data{FirstName: "Ana"})
	if got != "" || !errors.Is(err, ErrUnknownPlaceholder) {
		t.Fatalf("Render = %q, %v; want an unknown placeholder error", got, err)
	}
}

func TestPreviewText(t *testing.T) {
	d := Data{FirstName: "Ana", StartsAt: mustUTC(t, "2026-03-03T13:30:00Z"), Language: "en"}
	tests := []struct {
		name    string
		tmpl    string
		data    Data
		length  int
		unicode bool
		parts   int
		warning []string // all must appear; none means no warning
	}{
		{name: "short", tmpl: "Hi {first_name}", data: d, length: 6, parts: 1},
		{name: "gsm 160 is one part", tmpl: "Hi {first_name}" + strings.Repeat("a", 154), data: d, length: 160, parts: 1},
		{
			name: "gsm 161 is two parts", tmpl: "Hi {first_name}" + strings.Repeat("a", 155), data: d, length: 161, parts: 2,
			warning: []string{"161 characters", "1 over the 160 of one SMS part", "2 parts"},
		},
		{
			name: "gsm extension characters count double", tmpl: strings.Repeat("€", 81), data: d, length: 162, parts: 2,
			warning: []string{"2 over the 160"},
		},
		{name: "unicode 70 is one part", tmpl: "Hi {first_name} ç" + strings.Repeat("a", 62), data: d, length: 70, unicode: true, parts: 1},
		{
			name: "unicode 71 is two parts", tmpl: "Hi {first_name} ç" + strings.Repeat("a", 63), data: d, length: 71, unicode: true, parts: 2,
			warning: []string{"71 characters", `Unicode because of "ç"`, "1 over the 70 of one SMS part", "2 parts"},
		},
		{
			name: "a portuguese month makes the text unicode", tmpl: "{date}", data: Data{StartsAt: d.StartsAt, Language: "pt"},
			length: 18, unicode: true, parts: 1,
		},
		{
			name: "a name makes the text unicode", tmpl: "{first_name}" + strings.Repeat("a", 70), data: Data{FirstName: "Zoë"},
			length: 73, unicode: true, parts: 2,
			warning: []string{`Unicode because of "ë"`, "3 over the 70"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PreviewText(tt.tmpl, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if p.Length != tt.length || p.Unicode != tt.unicode || p.Parts != tt.parts {
				t.Fatalf("PreviewText = length %d unicode %v parts %d, want %d %v %d (text %q)",
					p.Length, p.Unicode, p.Parts, tt.length, tt.unicode, tt.parts, p.Text)
			}
			if len(tt.warning) == 0 && p.Warning != "" {
				t.Fatalf("unexpected warning %q", p.Warning)
			}
			for _, w := range tt.warning {
				if !strings.Contains(p.Warning, w) {
					t.Fatalf("warning %q does not contain %q", p.Warning, w)
				}
			}
		})
	}
	if _, err := PreviewText("{oops}", d); !errors.Is(err, ErrUnknownPlaceholder) {
		t.Fatalf("PreviewText of a bad template: %v", err)
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"Hi {first_name}, {weekday} {date} {time}. {{optoutLink}}", "{", "}", "{{", "}}", "{{}}", "{{{x}}}",
		"{{shortlink:a}}", "{frist_name}", "café {x}", "\xff{", "{a\nb}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		err := Validate(tmpl)
		if err == nil {
			if _, rerr := Render(tmpl, Data{FirstName: "Ana"}); rerr != nil {
				t.Fatalf("Validate accepted %q but Render failed: %v", tmpl, rerr)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Token == "" || !strings.HasPrefix(err.Error(), "render: ") {
			t.Fatalf("Validate(%q) = %v, want a described *Error", tmpl, err)
		}
		if e.Pos < 1 || e.Pos > utf8.RuneCountInString(tmpl) {
			t.Fatalf("Validate(%q): position %d out of range", tmpl, e.Pos)
		}
	})
}

func FuzzRender(f *testing.F) {
	f.Add("Hi {first_name} {last_name} {{optoutLink}}", "Ana", "Silva", "en", int64(1772544600))
	f.Add("{first_name}{last_name}", "{", "{optoutLink}}", "pt-BR", int64(0))
	f.Add("{first_name}{{shortlink:x}}{last_name}", "}", "{", "de", int64(-1))
	f.Fuzz(func(t *testing.T, tmpl, first, last, lang string, unix int64) {
		d := Data{
			FirstName: first, LastName: last, Language: lang, StartsAt: time.Unix(unix%(1<<40), 0),
			Location: mustLoc(t, "America/New_York"), LocationName: last, Provider: first,
		}
		out, err := Render(tmpl, d)
		if verr := Validate(tmpl); (verr == nil) != (err == nil) {
			t.Fatalf("Validate and Render disagree on %q: %v / %v", tmpl, verr, err)
		}
		if err != nil {
			return
		}
		// In a valid template every "{{" or "}}" belongs to an SMS.CX
		// placeholder; values must not add any.
		for _, pair := range []string{"{{", "}}"} {
			if strings.Count(out, pair) != strings.Count(tmpl, pair) {
				t.Fatalf("Render(%q) with %q/%q = %q: %q count changed", tmpl, first, last, out, pair)
			}
		}
		if !strings.ContainsAny(tmpl, "{}") && out != tmpl {
			t.Fatalf("Render(%q) changed a template without placeholders: %q", tmpl, out)
		}
		if _, err := PreviewText(tmpl, d); err != nil {
			t.Fatalf("PreviewText failed where Render worked: %v", err)
		}
	})
}

func TestChoicesOnlyInQuestion(t *testing.T) {
	const q = "Which one? Reply {choices}."
	if err := Validate(q); !errors.Is(err, ErrUnknownPlaceholder) {
		t.Fatalf("Validate(%q) = %v, want ErrUnknownPlaceholder", q, err)
	}
	if err := ValidateQuestion(q); err != nil {
		t.Fatalf("ValidateQuestion(%q) = %v", q, err)
	}
	if err := ValidateQuestion("Which one?"); !errors.Is(err, ErrUnknownPlaceholder) {
		t.Fatalf("a question without {choices} was accepted: %v", err)
	}
	got, err := Render(q, Data{Choices: "1 for Tue 10:00, 2 for Thu 14:30"})
	if err != nil || got != "Which one? Reply 1 for Tue 10:00, 2 for Thu 14:30." {
		t.Fatalf("Render = %q, %v", got, err)
	}
}

// {link} shows the patient page's address as given, and nothing when
// there is none.
func TestLinkPlaceholder(t *testing.T) {
	d := Data{FirstName: "Ana", StartsAt: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC), Link: "https://clinic.example/a/AAAAAAAAAAAAAAAAAAAAAA"}
	got, err := Render("{first_name}, change or confirm: {link}", d)
	if err != nil || got != "Ana, change or confirm: https://clinic.example/a/AAAAAAAAAAAAAAAAAAAAAA" {
		t.Fatalf("Render = %q, %v", got, err)
	}
	d.Link = ""
	if got, _ := Render("See {link}", d); got != "See " {
		t.Fatalf("without a link: %q", got)
	}
}
