package reply

import (
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones under test, whatever the host has installed
)

// pickOptions are offers as the app would send them, in a clinic's zone.
var pickOptions = func() map[string][]time.Time {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	at := func(loc *time.Location, s string) time.Time {
		t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			panic(err)
		}
		return t
	}
	return map[string][]time.Time{
		// Tue 10:00, Wed 14:30, Thu 09:00.
		"tue-wed-thu": {at(paris, "2026-06-02 10:00"), at(paris, "2026-06-03 14:30"), at(paris, "2026-06-04 09:00")},
		// Two Wednesdays: Wed 10:00, Wed 14:30, Thu 14:30.
		"two-wed": {at(paris, "2026-06-03 10:00"), at(paris, "2026-06-03 14:30"), at(paris, "2026-06-04 14:30")},
		// Mon 10:00, Tue 14:30, Wed 09:00: "segunda" is Monday or the second.
		"mon-tue-wed": {at(paris, "2026-06-01 10:00"), at(paris, "2026-06-02 14:30"), at(paris, "2026-06-03 09:00")},
		// Tue 10:00, Mon 14:30, Thu 09:00: both readings of "segunda" agree.
		"tue-mon-thu": {at(paris, "2026-06-02 10:00"), at(paris, "2026-06-08 14:30"), at(paris, "2026-06-04 09:00")},
		// A New York afternoon and morning, read on New York's clock; and
		// the same instants in UTC, read on UTC's (the caller's mistake).
		"ny":     {at(ny, "2026-06-02 14:00"), at(ny, "2026-06-03 09:30")},
		"ny-utc": {at(ny, "2026-06-02 14:00").UTC(), at(ny, "2026-06-03 09:30").UTC()},
		// Two at 2:30, morning and afternoon.
		"two-thirty": {at(paris, "2026-06-02 02:30"), at(paris, "2026-06-02 14:30")},
		"one":        {at(paris, "2026-06-02 10:00")},
	}
}()

var pickCases = []struct {
	text    string
	options string
	lang    string
	want    int
}{
	// Numbers.
	{"2", "tue-wed-thu", "en", 2},
	{"2 please", "tue-wed-thu", "en", 2},
	{"#2", "tue-wed-thu", "en", 2},
	{"2.", "tue-wed-thu", "en", 2},
	{"2️⃣", "tue-wed-thu", "en", 2},
	{"２", "tue-wed-thu", "en", 2},
	{"option 2", "tue-wed-thu", "en", 2},
	{"Option 3 thanks", "tue-wed-thu", "en", 3},
	{"yes 2", "tue-wed-thu", "en", 2},
	{"Yes, 1 please 👍", "tue-wed-thu", "en", 1},
	{"number 1", "tue-wed-thu", "en", 1},
	{"I'll take 3", "tue-wed-thu", "en", 3},
	{"2 works for me", "tue-wed-thu", "en", 2},
	{"2, 2", "tue-wed-thu", "en", 2},
	{"4", "tue-wed-thu", "en", 0},
	{"0", "tue-wed-thu", "en", 0},
	{"100", "tue-wed-thu", "en", 0},
	{"1 or 2", "tue-wed-thu", "en", 0},
	{"1 2", "tue-wed-thu", "en", 0},
	{"2 no", "tue-wed-thu", "en", 0},
	{"not 2", "tue-wed-thu", "en", 0},
	{"2 is too early", "tue-wed-thu", "en", 0},
	// Ordinals, seven languages.
	{"the second", "tue-wed-thu", "en", 2},
	{"second one", "tue-wed-thu", "en", 2},
	{"The second one please", "tue-wed-thu", "en", 2},
	{"2nd", "tue-wed-thu", "en", 2},
	{"the 3rd", "tue-wed-thu", "en", 3},
	{"first", "tue-wed-thu", "en", 1},
	{"the last one", "tue-wed-thu", "en", 3},
	{"two", "tue-wed-thu", "en", 2},
	{"one", "tue-wed-thu", "en", 1},
	{"one please", "tue-wed-thu", "en", 1},
	{"le 2", "tue-wed-thu", "fr", 2},
	{"Le deuxième", "tue-wed-thu", "fr", 2},
	{"la deuxième svp", "tue-wed-thu", "fr", 2},
	{"2e", "tue-wed-thu", "fr", 2},
	{"2ème", "tue-wed-thu", "fr", 2},
	{"je prends le 3", "tue-wed-thu", "fr", 3},
	{"la dernière", "tue-wed-thu", "fr", 3},
	{"le premier, merci", "tue-wed-thu", "fr", 1},
	{"segundo", "tue-wed-thu", "es", 2},
	{"la segunda", "tue-wed-thu", "es", 2},
	{"La segunda por favor", "tue-wed-thu", "es", 2},
	{"2º", "tue-wed-thu", "es", 2},
	{"la 2ª", "tue-wed-thu", "es", 2},
	{"el primero", "tue-wed-thu", "es", 1},
	{"me quedo con la tercera", "tue-wed-thu", "es", 3},
	{"zweite", "tue-wed-thu", "de", 2},
	{"den zweiten", "tue-wed-thu", "de", 2},
	{"Den zweiten bitte", "tue-wed-thu", "de", 2},
	{"2.", "tue-wed-thu", "de", 2},
	{"ich nehme den dritten", "tue-wed-thu", "de", 3},
	{"tweede", "tue-wed-thu", "nl", 2},
	{"de tweede graag", "tue-wed-thu", "nl", 2},
	{"2e", "tue-wed-thu", "nl", 2},
	{"de laatste", "tue-wed-thu", "nl", 3},
	{"a segunda", "tue-wed-thu", "pt", 2},
	{"segundo", "tue-wed-thu", "pt", 2},
	{"o primeiro", "tue-wed-thu", "pt", 1},
	{"a terceira, obrigado", "tue-wed-thu", "pt", 3},
	{"secondo", "tue-wed-thu", "it", 2},
	{"la seconda", "tue-wed-thu", "it", 2},
	{"La seconda grazie", "tue-wed-thu", "it", 2},
	{"la prima", "tue-wed-thu", "it", 1},
	{"prima", "tue-wed-thu", "nl", 0}, // Dutch "prima" is "fine": not a pick
	{"l'ultima", "tue-wed-thu", "it", 3},
	// Weekdays, seven languages.
	{"Wednesday", "tue-wed-thu", "en", 2},
	{"wednesday please", "tue-wed-thu", "en", 2},
	{"Wed", "tue-wed-thu", "en", 2},
	{"Thursday works", "tue-wed-thu", "en", 3},
	{"on Thursday", "tue-wed-thu", "en", 3},
	{"mercredi", "tue-wed-thu", "fr", 2},
	{"Mercredi svp", "tue-wed-thu", "fr", 2},
	{"mer.", "tue-wed-thu", "fr", 2},
	{"miércoles", "tue-wed-thu", "es", 2},
	{"el miércoles", "tue-wed-thu", "es", 2},
	{"Mittwoch", "tue-wed-thu", "de", 2},
	{"am Mittwoch", "tue-wed-thu", "de", 2},
	{"Mi.", "tue-wed-thu", "de", 2},
	{"Do", "tue-wed-thu", "de", 3},
	{"woensdag", "tue-wed-thu", "nl", 2},
	{"wo", "tue-wed-thu", "nl", 2},
	{"quarta", "tue-wed-thu", "pt", 2},
	{"quarta-feira", "tue-wed-thu", "pt", 2},
	{"na quarta-feira", "tue-wed-thu", "pt", 2},
	{"Quarta feira por favor", "tue-wed-thu", "pt", 2},
	{"no sábado", "tue-wed-thu", "pt", 0}, // Saturday is not offered
	{"mercoledì", "tue-wed-thu", "it", 2},
	{"Mercoledi", "tue-wed-thu", "it", 2},
	{"mercoledì grazie", "tue-wed-thu", "it", 2},
	{"quarta", "tue-wed-thu", "it", 0}, // Italian "quarta" is the fourth
	{"Wednesday", "two-wed", "en", 0},
	{"Thursday", "two-wed", "en", 3},
	{"Monday", "tue-wed-thu", "en", 0},
	{"Wednesday next week", "tue-wed-thu", "en", 0},
	// Portuguese weekdays that are ordinals too.
	{"segunda", "mon-tue-wed", "pt", 0},
	{"segunda-feira", "mon-tue-wed", "pt", 1},
	{"segunda", "mon-tue-wed", "es", 2},
	{"segunda", "tue-mon-thu", "pt", 2},
	{"segunda", "tue-wed-thu", "pt", 2},
	{"segunda", "mon-tue-wed", "en", 0},
	{"quinta", "tue-wed-thu", "pt", 3},
	{"quinta", "tue-wed-thu", "es", 0},
	// Language-bound abbreviations.
	{"do", "tue-wed-thu", "en", 0},
	{"ma", "mon-tue-wed", "nl", 1},
	{"ma", "mon-tue-wed", "it", 0},
	// Times.
	{"14:30", "tue-wed-thu", "en", 2},
	{"14h30", "tue-wed-thu", "fr", 2},
	{"14 h 30", "tue-wed-thu", "fr", 2},
	{"à 14h30", "tue-wed-thu", "fr", 2},
	{"2:30pm", "tue-wed-thu", "en", 2},
	{"2:30 PM", "tue-wed-thu", "en", 2},
	{"2.30 p.m.", "tue-wed-thu", "en", 2},
	{"2:30", "tue-wed-thu", "en", 2},
	{"14.30 Uhr", "tue-wed-thu", "de", 2},
	{"um 14:30", "tue-wed-thu", "de", 2},
	{"14u30", "tue-wed-thu", "nl", 2},
	{"om 14.30 uur", "tue-wed-thu", "nl", 2},
	{"às 14h30", "tue-wed-thu", "pt", 2},
	{"alle 14:30", "tue-wed-thu", "it", 2},
	{"9am", "tue-wed-thu", "en", 3},
	{"9h", "tue-wed-thu", "fr", 3},
	{"10 o'clock", "tue-wed-thu", "en", 1},
	{"at 10", "tue-wed-thu", "en", 1},
	{"a las 9", "tue-wed-thu", "es", 3},
	{"um 9 Uhr", "tue-wed-thu", "de", 3},
	{"１４：３０", "tue-wed-thu", "en", 2},
	{"14:30", "two-wed", "en", 0},
	{"Wednesday 14:30", "two-wed", "en", 2},
	{"mercredi 14h30", "two-wed", "fr", 2},
	{"Thursday 14:30", "two-wed", "en", 3},
	{"Wednesday 9:00", "two-wed", "en", 0},
	{"2 at 14:30", "tue-wed-thu", "en", 2},
	{"1 at 14:30", "tue-wed-thu", "en", 0},
	{"2:30", "two-thirty", "en", 0},
	{"2:30am", "two-thirty", "en", 1},
	{"14:30", "two-thirty", "fr", 2},
	{"14:30", "ny", "en", 0},
	{"2pm", "ny", "en", 1},
	{"9:30", "ny", "en", 2},
	{"2pm", "ny-utc", "en", 0},
	{"18:00", "ny-utc", "en", 1},
	{"13:00pm", "tue-wed-thu", "en", 0},
	{"25:00", "tue-wed-thu", "en", 0},
	{"14:75", "tue-wed-thu", "en", 0},
	{"10-11", "tue-wed-thu", "en", 0},
	{"at 2", "tue-wed-thu", "en", 0},
	// Not a pick.
	{"", "tue-wed-thu", "en", 0},
	{"yes", "tue-wed-thu", "en", 0},
	{"ok", "one", "en", 0},
	{"1", "one", "en", 1},
	{"2", "one", "en", 0},
	{"no", "tue-wed-thu", "en", 0},
	{"STOP", "tue-wed-thu", "en", 0},
	{"2 stop", "tue-wed-thu", "en", 0},
	{"none of these work", "tue-wed-thu", "en", 0},
	{"can we do next week instead", "tue-wed-thu", "en", 0},
	{"neither", "tue-wed-thu", "en", 0},
	{"help", "tue-wed-thu", "en", 0},
	{"2 " + strings.Repeat("please ", 30), "tue-wed-thu", "en", 0},
}

func TestParsePick(t *testing.T) {
	for i, tc := range pickCases {
		t.Run(fmt.Sprintf("%03d_%s_%s", i, tc.lang, tc.text), func(t *testing.T) {
			options, ok := pickOptions[tc.options]
			if !ok {
				t.Fatalf("no options %q", tc.options)
			}
			if got := ParsePick(tc.text, options, tc.lang); got != tc.want {
				t.Errorf("ParsePick(%q, %s, %q) = %d, want %d", tc.text, tc.options, tc.lang, got, tc.want)
			}
		})
	}
}

func TestParsePickNoOptions(t *testing.T) {
	if got := ParsePick("1", nil, "en"); got != 0 {
		t.Errorf("ParsePick with no options = %d", got)
	}
	if got := ParsePick(strings.Repeat("1 ", 300), pickOptions["one"], "en"); got != 0 {
		t.Errorf("ParsePick of a long text = %d", got)
	}
}

func TestPickLexicon(t *testing.T) {
	for phrase, readings := range pickLexicon {
		if got := Normalize(phrase); got != phrase {
			t.Errorf("pick phrase %q is not normalised (Normalize gives %q)", phrase, got)
		}
		if n := len(strings.Fields(phrase)); n > maxPickPhrase {
			t.Errorf("pick phrase %q has %d words, more than %d", phrase, n, maxPickPhrase)
		}
		for _, r := range readings {
			for _, l := range strings.Fields(r.langs) {
				if !strings.Contains(" en fr es de nl pt it ", " "+l+" ") {
					t.Errorf("pick phrase %q names language %q", phrase, l)
				}
			}
		}
		if isDigits(phrase) {
			t.Errorf("pick phrase %q is a number", phrase)
		}
	}
	for s := range ordinalSuffixes {
		if Normalize(s) != s {
			t.Errorf("suffix %q is not normalised", s)
		}
	}
}

func TestExtractClocks(t *testing.T) {
	tests := []struct {
		in    string
		clues []clue
		rest  string
	}{
		{"14:30", []clue{{14, 30, true}}, " "},
		{"at 2:30pm please", []clue{{14, 30, false}}, "at   please"},
		{"12am", []clue{{0, 0, false}}, " "},
		{"12 p.m.", []clue{{12, 0, false}}, " "},
		{"14h", []clue{{14, 0, false}}, " "},
		{"14 h", nil, "14 h"},
		{"2nd", nil, "2nd"},
		{"a2:30", nil, "a2:30"},
		{"2:305", nil, "2:305"},
		{"123:30", nil, "123:30"},
		{"2 oclock", []clue{{2, 0, true}}, " "},
		{"9h,10h", []clue{{9, 0, false}, {10, 0, false}}, " , "},
		{"2.", nil, "2."},
		{"13pm", nil, "13pm"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			clues, rest := extractClocks(tt.in)
			if fmt.Sprint(clues) != fmt.Sprint(tt.clues) || rest != tt.rest {
				t.Errorf("extractClocks(%q) = %v, %q; want %v, %q", tt.in, clues, rest, tt.clues, tt.rest)
			}
		})
	}
}

func FuzzParsePick(f *testing.F) {
	keys := []string{"tue-wed-thu", "two-wed", "mon-tue-wed", "tue-mon-thu", "ny", "two-thirty", "one"}
	for _, tc := range pickCases {
		for i, k := range keys {
			if k == tc.options {
				f.Add(tc.text, uint8(i), tc.lang)
			}
		}
	}
	f.Fuzz(func(t *testing.T, text string, which uint8, lang string) {
		options := pickOptions[keys[int(which)%len(keys)]]
		got := ParsePick(text, options, lang)
		if got < 0 || got > len(options) {
			t.Fatalf("ParsePick(%q) = %d, out of range for %d options", text, got, len(options))
		}
		if again := ParsePick(text, options, lang); again != got {
			t.Fatalf("ParsePick(%q) is not deterministic: %d then %d", text, got, again)
		}
		if ParsePick(text, nil, lang) != 0 {
			t.Fatalf("ParsePick(%q) picked among no options", text)
		}
		// A polite word at the end changes nothing.
		if len(text)+7 <= maxPickBytes && len(strings.Fields(Normalize(text))) < maxPickWords-2 {
			if polite := ParsePick(text+" please", options, lang); polite != got {
				t.Fatalf("ParsePick(%q) = %d but with \" please\" %d", text, got, polite)
			}
		}
		// Case does not matter.
		if isASCII(text) {
			if upper := ParsePick(strings.ToUpper(text), options, lang); upper != got {
				t.Fatalf("ParsePick(%q) = %d but in capitals %d", text, got, upper)
			}
		}
	})
}
