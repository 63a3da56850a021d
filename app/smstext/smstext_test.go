package smstext

import (
	"strings"
	"testing"
)

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		length  int
		unicode bool
		parts   int
	}{
		{"empty", "", 0, false, 1},
		{"plain", "Hello", 5, false, 1},
		{"gsm 160 is one part", strings.Repeat("a", 160), 160, false, 1},
		{"gsm 161 is two parts", strings.Repeat("a", 161), 161, false, 2},
		{"gsm 306 is two parts", strings.Repeat("a", 306), 306, false, 2},
		{"gsm 307 is three parts", strings.Repeat("a", 307), 307, false, 3},
		{"extension chars count double", "€[]", 6, false, 1},
		{"extension pushes over 160", strings.Repeat("a", 159) + "€", 161, false, 2},
		{"accented gsm letters stay gsm", "café à Zürich", 13, false, 1},
		{"unicode letter", "ç", 1, true, 1}, // lower-case c-cedilla is not in GSM-7
		{"unicode 70 is one part", strings.Repeat("ж", 70), 70, true, 1},
		{"unicode 71 is two parts", strings.Repeat("ж", 71), 71, true, 2},
		{"unicode 134 is two parts", strings.Repeat("ж", 134), 134, true, 2},
		{"unicode 135 is three parts", strings.Repeat("ж", 135), 135, true, 3},
		{"emoji is two utf-16 units", "👍", 2, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Analyze(tt.text)
			if got.Length != tt.length || got.Unicode != tt.unicode || got.Parts != tt.parts {
				t.Fatalf("Analyze(%q) = %+v, want length %d unicode %v parts %d", tt.text, got, tt.length, tt.unicode, tt.parts)
			}
		})
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add("Hello {first_name}")
	f.Add("€€€ 👍 ж")
	f.Fuzz(func(t *testing.T, s string) {
		a := Analyze(s)
		if a.Parts < 1 || a.Length < 0 {
			t.Fatalf("Analyze(%q) = %+v", s, a)
		}
		if !a.Unicode && a.Length < len([]rune(s)) {
			t.Fatalf("GSM length %d below rune count for %q", a.Length, s)
		}
	})
}
