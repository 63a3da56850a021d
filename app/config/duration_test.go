package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDurationString(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{48 * time.Hour, "48h"},
		{2 * time.Minute, "2m"},
		{90 * time.Minute, "1h30m"},
		{15 * time.Second, "15s"},
		{time.Hour + 30*time.Second, "1h0m30s"},
		{1500 * time.Millisecond, "1.5s"},
		{0, "0s"},
		{-2 * time.Hour, "-2h"},
	}
	for _, tt := range tests {
		got := Duration{tt.d}.String()
		if got != tt.want {
			t.Errorf("Duration{%v}.String() = %q, want %q", tt.d, got, tt.want)
		}
		back, err := time.ParseDuration(got)
		if err != nil || back != tt.d {
			t.Errorf("%q does not parse back to %v: %v, %v", got, tt.d, back, err)
		}
	}
}

func TestDurationYAML(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"d: 48h", 48 * time.Hour, ""},
		{"d: 90m", 90 * time.Minute, ""},
		{`d: "15s"`, 15 * time.Second, ""},
		{"d: 0", 0, ""},
		{"d: 15", 0, `invalid duration "15"`},
		{"d: soon", 0, `invalid duration "soon"`},
		{"d: [1s]", 0, "want a duration"},
		{"d: {a: 1}", 0, "want a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var v struct{ D Duration }
			err := yaml.Unmarshal([]byte(tt.in), &v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || v.D.Duration != tt.want {
				t.Fatalf("got %v, %v; want %v", v.D, err, tt.want)
			}
			out, err := yaml.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if want := "d: " + (Duration{tt.want}).String() + "\n"; string(out) != want {
				t.Errorf("Marshal = %q, want %q", out, want)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{`{"before":"48h"}`, 48 * time.Hour, ""},
		{`{"before":"1h30m"}`, 90 * time.Minute, ""},
		{`{"before":null}`, 0, ""},
		{`{"before":3600}`, 0, "want a duration string"},
		{`{"before":"3600"}`, 0, `invalid duration "3600"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var r Rule
			err := json.Unmarshal([]byte(tt.in), &r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || r.Before.Duration != tt.want {
				t.Fatalf("got %v, %v; want %v", r.Before, err, tt.want)
			}
		})
	}
	out, err := json.Marshal(Rule{Name: "2h", Before: Duration{2 * time.Hour}, Template: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"2h","before":"2h","template":"t","only_if_unconfirmed":false}`; string(out) != want {
		t.Errorf("Marshal(Rule) = %s, want %s", out, want)
	}
}
