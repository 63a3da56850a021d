package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written in YAML, JSON and environment
// variables as a Go duration string such as "15s", "90m" or "48h".
type Duration struct{ time.Duration }

// ParseDuration parses a Go duration string such as "15s", "90m" or "48h".
// A bare number without a unit is refused (except "0").
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return Duration{}, fmt.Errorf("invalid duration %q (want a number with a unit, such as \"15s\", \"90m\" or \"48h\")", s)
	}
	return Duration{d}, nil
}

// String formats d compactly, dropping zero trailing units: "48h", "2m",
// "1h30m", "15s".
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// UnmarshalYAML reads a duration string from a YAML scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration such as \"15s\", got %s", describeNode(n))
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes d as its String.
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}

// UnmarshalJSON reads a duration string such as "48h"; null leaves d alone.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`want a duration string such as "48h"`)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes d as its String.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}
