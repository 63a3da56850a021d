package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		region string
		want   string
	}{
		{"US national with punctuation", "(202) 555-0143", "US", "+12025550143"},
		{"US with country code", "+1 202 555 0143", "US", "+12025550143"},
		{"US dots and lower-case region", "202.555.0143", "us", "+12025550143"},
		{"GB international from US region", "+44 20 7946 0958", "US", "+442079460958"},
		{"GB national", "020 7946 0958", "GB", "+442079460958"},
		{"GB mobile", "07400 123456", "GB", "+447400123456"},
		{"DE national", "030 901820", "DE", "+4930901820"},
		{"DE mobile with 00 prefix", "0049 151 23456789", "DE", "+4915123456789"},
		{"FR national", "06 12 34 56 78", "FR", "+33612345678"},
		{"FR international", "+33 1 42 68 53 00", "DE", "+33142685300"},
		{"NL mobile", "0612345678", "NL", "+31612345678"},
		{"IN mobile", "098765 43210", "IN", "+919876543210"},
		{"AU mobile", "0412 345 678", "AU", "+61412345678"},
		{"AU international without region", "+61 412 345 678", "", "+61412345678"},
		{"surrounding space", "  +31 6 12345678\t", "", "+31612345678"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.raw, tc.region)
			if err != nil {
				t.Fatalf("Normalize(%q, %q) error: %v", tc.raw, tc.region, err)
			}
			if got != tc.want {
				t.Fatalf("Normalize(%q, %q) = %q, want %q", tc.raw, tc.region, got, tc.want)
			}
		})
	}
}

func TestNormalizeRefuses(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		region string
		want   string // the whole error text
	}{
		{"empty", "", "US", "phone: empty"},
		{"blank", "   ", "US", "phone: empty"},
		{"letters", "call me maybe", "US", "phone: not a number"},
		{"too short for US", "555", "US", "phone: too short for US"},
		{"too short for DE", "+49 3", "US", "phone: too short for DE"},
		{"invalid for DE", "+49 1234", "US", "phone: not a valid number for DE"},
		{"US area code 000", "(000) 555-0143", "US", "phone: not a valid number for US"},
		{"too long for FR", "06 12 34 56 78 90 12", "FR", "phone: too long for FR"},
		{"no country code and no region", "0612345678", "", "phone: no country code: start the number with + and the country code"},
		{"unknown country code", "+999 123456789", "US", "phone: unknown country code"},
		{"unknown region", "0612345678", "XX", `phone: unknown country "XX"`},
		{"absurdly long", strings.Repeat("1", 100), "US", "phone: too long to be a phone number"},
		{"invalid utf-8", "+1 202\xff555 0143", "US", "phone: too long to be a phone number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.raw, tc.region)
			if err == nil {
				t.Fatalf("Normalize(%q, %q) = %q, want error %q", tc.raw, tc.region, got, tc.want)
			}
			if err.Error() != tc.want {
				t.Fatalf("Normalize(%q, %q) error %q, want %q", tc.raw, tc.region, err, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("error %v is not a *phone.Error with a reason", err)
			}
		})
	}
}

func TestRegion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+12025550143", "US"},
		{"+442079460958", "GB"},
		{"+4930901820", "DE"},
		{"+33612345678", "FR"},
		{"+31612345678", "NL"},
		{"+919876543210", "IN"},
		{"+61412345678", "AU"},
		{"0612345678", ""},
		{"", ""},
		{"+", ""},
		{"+999123456789", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := Region(tc.in); got != tc.want {
				t.Fatalf("Region(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzNormalize checks that Normalize never panics and that whatever it
// accepts is E.164, accepted again unchanged, and has a region.
func FuzzNormalize(f *testing.F) {
	seeds := []struct{ raw, region string }{
		{"+44 20 7946 0958", "US"},
		{"(202) 555-0143", "US"},
		{"0612345678", "NL"},
		{"0049 151 23456789", "DE"},
		{"", ""},
		{"+", "FR"},
		{"tel:+1-202-555-0143;ext=12", "US"},
		{"1-800-FLOWERS", "US"},
		{"\x00\xff", "IN"},
	}
	for _, s := range seeds {
		f.Add(s.raw, s.region)
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := Normalize(raw, region)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "phone: ") {
				t.Fatalf("error %v is not a *phone.Error", err)
			}
			if got != "" {
				t.Fatalf("error %v with a result %q", err, got)
			}
			return
		}
		if !strings.HasPrefix(got, "+") || len(got) > 16 {
			t.Fatalf("Normalize(%q, %q) = %q: not E.164", raw, region, got)
		}
		for _, c := range got[1:] {
			if c < '0' || c > '9' {
				t.Fatalf("Normalize(%q, %q) = %q: not E.164", raw, region, got)
			}
		}
		again, err := Normalize(got, "")
		if err != nil || again != got {
			t.Fatalf("Normalize(%q) again = %q, %v; want %q", got, again, err, got)
		}
	})
}
