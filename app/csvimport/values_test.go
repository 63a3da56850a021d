package csvimport

import (
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	tests := map[string]Status{
		"scheduled": StatusScheduled, "Booked": StatusScheduled, " PENDING ": StatusScheduled,
		"Unconfirmed": StatusScheduled, "not  confirmed": StatusScheduled, "prévu": StatusScheduled,
		"confirmed": StatusConfirmed, "Confirmé": StatusConfirmed, "bestätigt": StatusConfirmed,
		"cancelled": StatusCancelled, "Canceled": StatusCancelled, "CANCEL": StatusCancelled,
		"Cancelled by patient": StatusCancelled, "annulée": StatusCancelled, "storniert": StatusCancelled,
	}
	for in, want := range tests {
		if got, err := ParseStatus(in); err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"completed", "no show", "arrived", "confirmed by patient", "x", ""} {
		if got, err := ParseStatus(bad); err == nil {
			t.Errorf("ParseStatus(%q) = %q, want an error", bad, got)
		}
	}
	_, err := ParseStatus("done")
	if err == nil || err.Error() != `unknown status "done": use scheduled, confirmed or cancelled` {
		t.Errorf("message: %v", err)
	}
}

func TestParseLanguage(t *testing.T) {
	tests := map[string]string{
		"en": "en", "EN": "en", "en-US": "en", "en_GB": "en", "eng": "en", "English": "en", "English (US)": "en",
		"fr": "fr", "fr-CA": "fr", "Français": "fr", "french": "fr",
		"es": "es", "Español": "es", "Spanish": "es", "castellano": "es",
		"de": "de", "Deutsch": "de", "German": "de",
		"nl": "nl", "nl-BE": "nl", "Nederlands": "nl", "Dutch": "nl", "Vlaams": "nl",
		"pt": "pt", "pt-BR": "pt", "Português": "pt", "Portuguese": "pt",
		"it": "it", "Italiano": "it", "ITALIAN": "it",
	}
	for in, want := range tests {
		if got, err := ParseLanguage(in); err != nil || got != want {
			t.Errorf("ParseLanguage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ja", "Klingon", "e", "zz-en", ""} {
		if got, err := ParseLanguage(bad); err == nil {
			t.Errorf("ParseLanguage(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := map[string]int{
		"30": 30, " 30 ": 30, "30 min": 30, "30min": 30, "30 mins": 30, "45 minutes": 45, "30m": 30,
		"1h": 60, "1h30": 90, "1 h 30": 90, "1h30m": 90, "2H": 120, "1:30": 90, "0:45": 45, "01:30:00": 90,
		"30.0": 30, "720": 720, "1": 1,
	}
	for in, want := range tests {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "721", "-5", "30.5", "half an hour", "1:75", "1h75", "12:01", "99999999999", "1:3"} {
		if got, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %d, want an error", bad, got)
		}
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct{ in, first, last string }{
		{"Ada Lovelace", "Ada", "Lovelace"},
		{"Lovelace, Ada", "Ada", "Lovelace"},
		{"Lovelace,Ada", "Ada", "Lovelace"},
		{"Lovelace, Ada King", "Ada King", "Lovelace"},
		{"Ada King Lovelace", "Ada King", "Lovelace"},
		{"  Ada   Lovelace  ", "Ada", "Lovelace"},
		{"Cher", "Cher", ""},
		{"", "", ""},
		{"Dr. John Watson", "John", "Watson"},
		{"Mme Marie Curie", "Marie", "Curie"},
		{"Mr Smith", "Smith", ""},
		{"Dr", "Dr", ""},
		{"Ludwig van Beethoven", "Ludwig", "van Beethoven"},
		{"Maria de la Cruz", "Maria", "de la Cruz"},
		{"Vincent Willem van Gogh", "Vincent Willem", "van Gogh"},
		{"John Smith Jr.", "John", "Smith Jr."},
		{"Martin Luther King III", "Martin Luther", "King III"},
		{"Smith, Dr. John", "John", "Smith"},
		{"Smith,", "Smith", ""},
		{", John", "John", ""},
		{"John Smith, Jr.", "John", "Smith Jr."},
		{"José María García", "José María", "García"},
		{"李 小龍", "李", "小龍"},
	}
	for _, tc := range tests {
		first, last := SplitName(tc.in)
		if first != tc.first || last != tc.last {
			t.Errorf("SplitName(%q) = %q, %q; want %q, %q", tc.in, first, last, tc.first, tc.last)
		}
	}
}

func TestCheckText(t *testing.T) {
	tests := []struct {
		s         string
		max       int
		multiline bool
		want      string
	}{
		{"fine", 10, false, ""},
		{"éééé", 4, false, ""},
		{"ééééé", 4, false, "longer than 4 characters"},
		{"a\nb", 10, false, "contains a line break"},
		{"a\nb\tc", 10, true, ""},
		{"a\tb", 10, false, "contains a control character"},
		{"a\x00b", 10, true, "contains a control character"},
		{"a\x1bb", 10, false, "contains a control character"},
		{"a\u0085b", 10, false, "contains a control character"},
		{"evil\u202egnp.exe", 20, false, "contains a character that reorders text"},
		{"a\u2067b", 20, false, "contains a character that reorders text"},
	}
	for _, tc := range tests {
		if got := checkText(tc.s, tc.max, tc.multiline); got != tc.want {
			t.Errorf("checkText(%q, %d, %v) = %q, want %q", tc.s, tc.max, tc.multiline, got, tc.want)
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		" Téléphone  Portable ": "telephone portable", "Straße": "strasse", "ÄRZTIN": "arztin", "plain": "plain",
	} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
	if got := quoteShort(strings.Repeat("é", 50)); !strings.HasSuffix(got, `…"`) || len([]rune(got)) != 43 {
		t.Errorf("quoteShort = %q", got)
	}
}
