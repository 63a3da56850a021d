package clinic_test

import (
	"fmt"
	"strings"
	"testing"

	"apptconfirm/app/clinic"
)

// Whatever the colour of a type, the text chosen for it contrasts with it
// by at least 4.5:1 (every 16th step of each channel, the extremes
// included).
func TestTypeTextColourIsReadable(t *testing.T) {
	steps := []int{0, 15, 31, 47, 63, 79, 95, 111, 127, 143, 159, 175, 191, 207, 223, 239, 255}
	worst := 100.0
	for _, r := range steps {
		for _, g := range steps {
			for _, b := range steps {
				c := fmt.Sprintf("#%02x%02x%02x", r, g, b)
				ratio := clinic.Contrast(c, clinic.TypeTextColour(c))
				worst = min(worst, ratio)
				if ratio < 4.5 {
					t.Fatalf("%s with %s: contrast %.2f", c, clinic.TypeTextColour(c), ratio)
				}
			}
		}
	}
	// The WCAG figures: black on white is 21:1, and the ratio is symmetric.
	if got := clinic.Contrast("#000000", "#ffffff"); got < 20.99 || got > 21.01 {
		t.Fatalf("black on white %.3f", got)
	}
	t.Logf("worst contrast %.2f", worst)
}

// FuzzParseColour: a colour as an admin or the API gives it never panics;
// what it accepts is a canonical "#rrggbb" that reads back as itself.
func FuzzParseColour(f *testing.F) {
	for _, s := range []string{"#2563eb", "#FFF", " #abc ", "red", "#12345g", "#1234567", "", "#", "#-12345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := clinic.ParseColour(s)
		if !ok {
			return
		}
		if len(c) != 7 || c[0] != '#' || strings.Trim(c[1:], "0123456789abcdef") != "" {
			t.Fatalf("ParseColour(%q) = %q", s, c)
		}
		if again, ok := clinic.ParseColour(c); !ok || again != c {
			t.Fatalf("ParseColour(%q) = %q, read back %q", s, c, again)
		}
		if r := clinic.Contrast(c, clinic.TypeTextColour(c)); r < 4.5 {
			t.Fatalf("%s: contrast %.2f", c, r)
		}
	})
}
