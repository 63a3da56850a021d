package smscx

import "strings"

// MaskPhone hides the middle of a phone number so it can be logged.
// Formatting characters are dropped first, then:
//   - E.164 ("+…") with at least three digits left to hide: "+", the country
//     code and the next three digits, stars, the last three digits
//     ("+4915123456789" becomes "+49151*****789");
//   - a national number of 10 or more digits: first three, stars, last three;
//   - otherwise 8 or more digits: first two and last two; 5 to 7 digits: the
//     last two only; fewer: stars only.
func MaskPhone(phone string) string {
	plus := strings.HasPrefix(strings.TrimSpace(phone), "+")
	digits := make([]byte, 0, len(phone))
	for i := 0; i < len(phone); i++ {
		if c := phone[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	n := len(digits)
	if n == 0 {
		if phone == "" {
			return ""
		}
		return "***"
	}
	head, tail := 0, 0
	switch {
	case plus && n >= countryCodeLen(digits)+3+3+3:
		head, tail = countryCodeLen(digits)+3, 3
	case !plus && n >= 10:
		head, tail = 3, 3
	case n >= 8:
		head, tail = 2, 2
	case n >= 5:
		tail = 2
	}
	var b strings.Builder
	b.Grow(n + 1)
	if plus {
		b.WriteByte('+')
	}
	b.Write(digits[:head])
	b.WriteString(strings.Repeat("*", n-head-tail))
	b.Write(digits[n-tail:])
	return b.String()
}

// countryCodeLen is the length of the E.164 country code that digits start
// with (ITU assignments: 1 and 7 are one digit; a fixed set of two-digit
// codes; everything else three).
func countryCodeLen(digits []byte) int {
	if len(digits) == 0 {
		return 0
	}
	switch digits[0] {
	case '1', '7':
		return 1
	}
	if len(digits) < 2 {
		return len(digits)
	}
	switch string(digits[:2]) {
	case "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
		"46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
		"62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94",
		"95", "98":
		return 2
	}
	return min(3, len(digits))
}
