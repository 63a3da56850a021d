// Package phone validates phone numbers typed by staff, sent by the API or
// received from SMS.CX, and turns them into E.164 ("+442079460958") with
// github.com/nyaruka/phonenumbers.
package phone

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// maxInput bounds what is handed to the parser: no real phone number, even
// with spaces, punctuation and an extension, comes near it.
const maxInput = 64

// Error says in plain words why a number was refused. Reason is meant for
// people ("too short for US"); Error prefixes it with the package name.
type Error struct {
	Reason string
}

// Error returns the reason prefixed with the package name.
func (e *Error) Error() string { return "phone: " + e.Reason }

func fail(reason string) error { return &Error{Reason: reason} }

// Normalize parses raw as a phone number, reading it as a national number of
// defaultRegion (an ISO 3166 alpha-2 code such as "US", usually the
// location's country) unless it starts with "+" or an international prefix.
// It returns the number in E.164 form when phonenumbers considers it valid,
// and otherwise an *Error that says why ("phone: empty", "phone: not a
// number", "phone: too short for US", "phone: not a valid number for DE").
func Normalize(raw, defaultRegion string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fail("empty")
	}
	if len(s) > maxInput || !utf8.ValidString(s) {
		return "", fail("too long to be a phone number")
	}
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if region != "" && !phonenumbers.GetSupportedRegions()[region] {
		return "", fail("unknown country " + quoteRegion(region))
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", parseError(err, s, region)
	}
	numRegion := regionOf(num)
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.TOO_SHORT:
		return "", fail("too short for " + numRegion)
	case phonenumbers.TOO_LONG:
		return "", fail("too long for " + numRegion)
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "", fail("unknown country code")
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fail("not a valid number for " + numRegion)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// parseError turns the parser's errors into plain words.
func parseError(err error, s, region string) error {
	where := region
	if r := regionOfPrefix(s); r != "" {
		where = r
	}
	if where == "" {
		where = "a phone number"
	}
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		if region == "" {
			return fail("no country code: start the number with + and the country code")
		}
		return fail("unknown country code")
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return fail("too short for " + where)
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return fail("too long to be a phone number")
	default:
		return fail("not a number")
	}
}

// regionOfPrefix guesses the region of a number written with "+" and a
// country code, for messages about numbers too short to parse.
func regionOfPrefix(s string) string {
	if !strings.HasPrefix(s, "+") {
		return ""
	}
	digits := make([]byte, 0, 3)
	for i := 1; i < len(s) && len(digits) < 3; i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			digits = append(digits, c)
			continue
		}
		if !strings.ContainsRune(" -.()", rune(c)) {
			break
		}
	}
	for n := 1; n <= len(digits); n++ {
		cc, _ := strconv.Atoi(string(digits[:n]))
		if r := phonenumbers.GetRegionCodeForCountryCode(cc); r != "" && r != "ZZ" && r != "001" {
			return r
		}
	}
	return ""
}

// regionOf names the country a parsed number belongs to, for messages: its
// region when the number is valid, else the main region of its country code.
func regionOf(num *phonenumbers.PhoneNumber) string {
	if r := phonenumbers.GetRegionCodeForNumber(num); r != "" && r != "ZZ" {
		return r
	}
	r := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))
	if r == "" || r == "ZZ" {
		return "+" + strconv.Itoa(int(num.GetCountryCode()))
	}
	return r
}

// Region returns the ISO 3166 alpha-2 region of an E.164 number ("+33..."
// gives "FR"), or "" when the number cannot be parsed or belongs to no
// single region.
func Region(e164 string) string {
	s := strings.TrimSpace(e164)
	if !strings.HasPrefix(s, "+") || len(s) > maxInput {
		return ""
	}
	num, err := phonenumbers.Parse(s, "")
	if err != nil {
		return ""
	}
	r := phonenumbers.GetRegionCodeForNumber(num)
	if r == "ZZ" || r == "001" {
		return ""
	}
	return r
}

// quoteRegion quotes a region code for a message, keeping odd input short.
func quoteRegion(r string) string {
	if len(r) > 8 {
		r = r[:8] + "..."
	}
	return strconv.Quote(r)
}

// maxLoose bounds what Loose keeps of a number it cannot read.
const maxLoose = 32

// Loose brings a number from outside (SMS.CX's callbacks, which send E.164
// already) to E.164 when it can, reading it in region, or as international
// when it lacks its "+"; a number it cannot read is kept as it came, cut to
// 32 bytes, so that it can still be shown and matched as text.
func Loose(raw, region string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if n, err := Normalize(raw, region); err == nil {
		return n
	}
	if !strings.HasPrefix(raw, "+") {
		if n, err := Normalize("+"+raw, ""); err == nil {
			return n
		}
	}
	for len(raw) > maxLoose {
		raw = raw[:maxLoose]
		for len(raw) > 0 && !utf8.ValidString(raw) {
			raw = raw[:len(raw)-1]
		}
	}
	return raw
}
