package config

import (
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// RedactedMark replaces a secret in Redacted, String and log output. An
// empty secret stays empty, so a reader can tell "not set" from "set".
const RedactedMark = "[redacted]"

// dsnPassword finds a password in a key=value DSN or a URL query
// (password=..., sslpassword=..., _auth_pass=...).
var dsnPassword = regexp.MustCompile(`(?i)(\b[a-z_]*pass[a-z_]*\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&;]*)`)

// Redacted returns a copy of c fit for logging and display: smscx.api_key,
// smscx.client_secret and smscx.webhook_secret replaced by RedactedMark when
// set, and any password in database.dsn masked.
func (c Config) Redacted() Config {
	r := c
	r.Server.TrustedProxies = slices.Clone(c.Server.TrustedProxies)
	r.Reminders.Rules = slices.Clone(c.Reminders.Rules)
	r.Database = c.Database.Redacted()
	r.SMSCX = c.SMSCX.Redacted()
	return r
}

// Redacted returns a copy of s with its secrets replaced by RedactedMark.
func (s SMSCX) Redacted() SMSCX {
	s.APIKey = redact(s.APIKey)
	s.ClientSecret = redact(s.ClientSecret)
	s.WebhookSecret = redact(s.WebhookSecret)
	return s
}

// Redacted returns a copy of d with any password in the DSN masked.
func (d Database) Redacted() Database {
	d.DSN = redactDSN(d.DSN)
	return d
}

func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return RedactedMark
}

// redactDSN masks the password of a URL's user information and any
// password=... pair. It errs on the side of masking too much.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		// The last "@" ends the user information even when an unescaped
		// password holds "@", "/" or "#".
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if user, _, hasPassword := strings.Cut(rest[:at], ":"); hasPassword {
				dsn = dsn[:i+3] + user + ":" + RedactedMark + rest[at:]
			}
		}
	}
	return dsnPassword.ReplaceAllString(dsn, "${1}"+RedactedMark)
}

// String formats c with its secrets redacted, so %v and %s are safe to log.
func (c Config) String() string {
	type plain Config // no methods: no recursion into String
	return fmt.Sprintf("%+v", plain(c.Redacted()))
}

// GoString makes %#v as safe as %v.
func (c Config) GoString() string { return "config.Config" + c.String() }

// LogValue logs c redacted, as groups named by section and key
// (config.server.addr=:8080 with slog's text handler).
func (c Config) LogValue() slog.Value {
	v := reflect.ValueOf(c.Redacted())
	sections := yamlFields(v.Type())
	attrs := make([]slog.Attr, 0, len(sections.names))
	for _, name := range sections.names {
		attrs = append(attrs, slog.Attr{Key: name, Value: sectionLogValue(v.Field(sections.byName[name]))})
	}
	return slog.GroupValue(attrs...)
}

// String formats s with its secrets redacted.
func (s SMSCX) String() string {
	type plain SMSCX
	return fmt.Sprintf("%+v", plain(s.Redacted()))
}

// GoString makes %#v as safe as %v.
func (s SMSCX) GoString() string { return "config.SMSCX" + s.String() }

// LogValue logs s redacted, by key.
func (s SMSCX) LogValue() slog.Value { return sectionLogValue(reflect.ValueOf(s.Redacted())) }

// String formats d with any DSN password masked.
func (d Database) String() string {
	type plain Database
	return fmt.Sprintf("%+v", plain(d.Redacted()))
}

// GoString makes %#v as safe as %v.
func (d Database) GoString() string { return "config.Database" + d.String() }

// LogValue logs d with any DSN password masked, by key.
func (d Database) LogValue() slog.Value { return sectionLogValue(reflect.ValueOf(d.Redacted())) }

// sectionLogValue turns one (already redacted) section into a group of its
// keys.
func sectionLogValue(v reflect.Value) slog.Value {
	keys := yamlFields(v.Type())
	attrs := make([]slog.Attr, 0, len(keys.names))
	for _, k := range keys.names {
		f := v.Field(keys.byName[k])
		var val slog.Value
		switch x := f.Interface().(type) {
		case Duration:
			val = slog.StringValue(x.String())
		case QuietHours:
			if x.Enabled() {
				val = slog.StringValue(x.Start + "-" + x.End)
			} else {
				val = slog.StringValue("")
			}
		default:
			val = slog.AnyValue(x)
		}
		attrs = append(attrs, slog.Attr{Key: k, Value: val})
	}
	return slog.GroupValue(attrs...)
}
