package render

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones under test, whatever the host has installed
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

func TestNormalizeLanguage(t *testing.T) {
	tests := map[string]string{
		"en": "en", "fr": "fr", "es": "es", "de": "de", "nl": "nl", "pt": "pt", "it": "it",
		"PT-br": "pt", "fr_CA": "fr", " de ": "de", "": "en", "xx": "en", "english": "en", "-": "en",
	}
	for in, want := range tests {
		if got := NormalizeLanguage(in); got != want {
			t.Errorf("NormalizeLanguage(%q) = %q, want %q", in, got, want)
		}
	}
	for _, l := range Languages() {
		if NormalizeLanguage(l) != l {
			t.Errorf("listed language %q is not supported", l)
		}
	}
}

func TestFormatTimeEnglish(t *testing.T) {
	tests := []struct{ at, want string }{
		{"2026-03-03T00:00:00Z", "12:00 AM"},
		{"2026-03-03T00:30:00Z", "12:30 AM"},
		{"2026-03-03T09:05:00Z", "9:05 AM"},
		{"2026-03-03T12:00:00Z", "12:00 PM"},
		{"2026-03-03T14:30:00Z", "2:30 PM"},
		{"2026-03-03T23:59:00Z", "11:59 PM"},
	}
	for _, tt := range tests {
		if got := FormatTime(mustUTC(t, tt.at), time.UTC, "en"); got != tt.want {
			t.Errorf("FormatTime(%s) = %q, want %q", tt.at, got, tt.want)
		}
	}
	if got := FormatTime(mustUTC(t, "2026-03-03T09:05:00Z"), nil, "de"); got != "09:05" {
		t.Errorf("FormatTime in German, nil location = %q, want 09:05", got)
	}
}

func TestFormatSlot(t *testing.T) {
	at := mustUTC(t, "2026-03-03T13:30:00Z") // Tuesday 14:30 in Berlin
	berlin := mustLoc(t, "Europe/Berlin")
	tests := map[string]string{
		"en": "Tue 2:30 PM", "fr": "mar. 14:30", "es": "mar 14:30", "de": "Di. 14:30",
		"nl": "di 14:30", "pt": "ter. 14:30", "it": "mar 14:30", "zz": "Tue 2:30 PM",
	}
	for lang, want := range tests {
		if got := FormatSlot(at, berlin, lang); got != want {
			t.Errorf("FormatSlot(%s) = %q, want %q", lang, got, want)
		}
	}
	// The weekday follows the location, not UTC: 23:30Z on Tuesday is
	// Wednesday 00:30 in Berlin.
	if got := FormatSlot(mustUTC(t, "2026-03-03T23:30:00Z"), berlin, "en"); got != "Wed 12:30 AM" {
		t.Errorf("FormatSlot after local midnight = %q, want Wed 12:30 AM", got)
	}
}
