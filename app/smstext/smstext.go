// Package smstext measures SMS text the way carriers bill it: GSM-7 when every
// character fits the GSM 03.38 alphabet (with its extension table counting
// double), UCS-2 otherwise, and the number of parts a message is split into.
package smstext

import "unicode/utf16"

// gsmBasic is the GSM 03.38 default alphabet.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table; each of these costs two septets.
const gsmExtension = "^{}\\[~]|€\f"

var (
	basicSet     = runeSet(gsmBasic)
	extensionSet = runeSet(gsmExtension)
)

func runeSet(s string) map[rune]bool {
	m := make(map[rune]bool, len(s))
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Single-part and per-part (concatenated, with the user data header) limits.
const (
	GSMSingle      = 160
	GSMPerPart     = 153
	UnicodeSingle  = 70
	UnicodePerPart = 67
)

// Analysis is what Analyze reports about a text.
type Analysis struct {
	// Length is counted in GSM-7 septets for GSM texts and in UTF-16 code
	// units for Unicode texts, as the carriers count them.
	Length  int
	Unicode bool
	Parts   int
}

// IsGSM reports whether every character of text is in the GSM-7 alphabet
// or its extension table.
func IsGSM(text string) bool {
	for _, r := range text {
		if !basicSet[r] && !extensionSet[r] {
			return false
		}
	}
	return true
}

// Analyze returns the encoding, length and part count of text. An empty text
// is one (empty) part.
func Analyze(text string) Analysis {
	if IsGSM(text) {
		n := 0
		for _, r := range text {
			if extensionSet[r] {
				n += 2
			} else {
				n++
			}
		}
		return Analysis{Length: n, Parts: parts(n, GSMSingle, GSMPerPart)}
	}
	n := len(utf16.Encode([]rune(text)))
	return Analysis{Length: n, Unicode: true, Parts: parts(n, UnicodeSingle, UnicodePerPart)}
}

func parts(n, single, perPart int) int {
	if n <= single {
		return 1
	}
	return (n + perPart - 1) / perPart
}
