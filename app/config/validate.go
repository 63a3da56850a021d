package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"apptconfirm/app/render"
)

// Limits enforced by Validate.
const (
	maxRuleBefore      = 30 * 24 * time.Hour
	minDedupRetention  = 72 * time.Hour
	maxApplyWorkers    = 32
	minWebhookBody     = 1 << 10
	maxWebhookBody     = 64 << 20
	minWebhookSecret   = 16
	minSenderLen       = 3
	maxSenderLen       = 15
	maxRuleNameLen     = 64
	maxRuleTemplateLen = 1600
	maxMinLead         = 24 * time.Hour
	minDispatchEvery   = time.Second
	maxDispatchWorkers = 256
	maxDispatchBatch   = 1000
	maxDispatchTries   = 20
	maxStreamsPerUser  = 100
	maxAnswersPerDay   = 100
	minRetention       = 7 * 24 * time.Hour
	maxBackupsKept     = 1000
)

// problems collects Validate's findings.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, &FieldError{Key: key, Problem: fmt.Sprintf(format, args...)})
}

// Validate checks every key and returns all problems at once, joined with
// errors.Join, each a *FieldError naming its key, for example
// `config: clinic.timezone: unknown time zone "Mars/Base"`. Secrets are never
// quoted. Validate also normalises: it strips a trailing slash from
// server.public_url and smscx.base_url.
func (c *Config) Validate() error {
	var p problems
	c.Server.PublicURL = strings.TrimRight(c.Server.PublicURL, "/")
	c.SMSCX.BaseURL = strings.TrimRight(c.SMSCX.BaseURL, "/")
	c.validateServer(&p)
	c.validateDatabase(&p)
	c.validateSMSCX(&p)
	c.validateDispatch(&p)
	c.validateReminders(&p)
	c.validateClinic(&p)
	c.validateWebhook(&p)
	c.validateLog(&p)
	c.validateReplies(&p)
	c.validateRetention(&p)
	c.validateBackup(&p)
	c.validateImport(&p)
	between(&p, "outbound_webhooks.concurrency", c.OutboundWebhooks.Concurrency, 1, 512)
	c.validateReschedule(&p)
	c.validateWaitlist(&p)
	return errors.Join(p...)
}

func (c *Config) validateServer(p *problems) {
	s := c.Server
	if problem := checkListenAddr(s.Addr); problem != "" {
		p.add("server.addr", "%s", problem)
	}
	if problem := checkHTTPURL(s.PublicURL); problem != "" {
		p.add("server.public_url", "%s", problem)
	} else if c.SMSCXMode() == ModeLive && !s.AllowInsecurePublicURL && !strings.HasPrefix(strings.ToLower(s.PublicURL), "https://") {
		p.add("server.public_url", "live mode needs an https:// URL: the webhook secret travels in the URL SMS.CX posts to, so over plain HTTP anyone on the way could read it and forge replies and opt-outs; got %q (set server.allow_insecure_public_url to true only for a test setup)", s.PublicURL)
	}
	for i, proxy := range s.TrustedProxies {
		if _, err := netip.ParseAddr(proxy); err == nil {
			continue
		}
		if _, err := netip.ParsePrefix(proxy); err == nil {
			continue
		}
		p.add(fmt.Sprintf("server.trusted_proxies[%d]", i), "want an IP address or CIDR range such as \"10.0.0.0/8\", got %q", proxy)
	}
	positive(p, "server.read_header_timeout", s.ReadHeaderTimeout)
	positive(p, "server.read_timeout", s.ReadTimeout)
	positive(p, "server.write_timeout", s.WriteTimeout)
	positive(p, "server.idle_timeout", s.IdleTimeout)
	positive(p, "server.shutdown_timeout", s.ShutdownTimeout)
	positive(p, "server.session_lifetime", s.SessionLifetime)
	oneOf(p, "server.secure_cookies", s.SecureCookies, "auto", "true", "false")
	between(p, "server.live_streams_per_user", s.LiveStreamsPerUser, 1, maxStreamsPerUser)
}

func (c *Config) validateDatabase(p *problems) {
	d := c.Database
	driverOK := oneOf(p, "database.driver", d.Driver, "sqlite", "postgres")
	switch {
	case strings.TrimSpace(d.DSN) == "":
		p.add("database.dsn", "must not be empty (a SQLite file path or a PostgreSQL URL)")
	case driverOK && d.Driver == "postgres" && !isPostgresDSN(d.DSN):
		// The DSN may hold a password: describe it, never quote it.
		p.add("database.dsn", "want a PostgreSQL URL (postgres://user:password@host:5432/dbname) or a key=value connection string (host=... dbname=...)")
	}
	if d.MaxOpenConns < 0 {
		p.add("database.max_open_conns", "must be 0 (driver default) or more, got %d", d.MaxOpenConns)
	}
	oneOf(p, "database.sqlite_synchronous", d.SQLiteSynchronous, "normal", "full")
}

func (c *Config) validateSMSCX(p *problems) {
	s := c.SMSCX
	oneOf(p, "smscx.mode", s.Mode, "", ModeSimulate, ModeLive)
	if problem := checkHTTPURL(s.BaseURL); problem != "" {
		p.add("smscx.base_url", "%s", problem)
	}
	if (s.ClientID == "") != (s.ClientSecret == "") {
		missing := "smscx.client_secret"
		if s.ClientID == "" {
			missing = "smscx.client_id"
		}
		p.add(missing, "smscx.client_id and smscx.client_secret go together: set both (OAuth2) or neither")
	} else if c.SMSCXMode() == ModeLive && s.APIKey == "" && s.ClientID == "" {
		p.add("smscx.api_key", "live mode needs credentials: set smscx.api_key (APPTCONFIRM_SMSCX_API_KEY), or both smscx.client_id and smscx.client_secret (APPTCONFIRM_SMSCX_CLIENT_ID, APPTCONFIRM_SMSCX_CLIENT_SECRET); or use smscx.mode \"simulate\"")
	}
	if n := utf8.RuneCountInString(s.Sender); n < minSenderLen || n > maxSenderLen {
		p.add("smscx.sender", "must be %d to %d characters (SMS.CX limit), got %q", minSenderLen, maxSenderLen, s.Sender)
	} else if !isPrintableASCII(s.Sender) || strings.TrimSpace(s.Sender) != s.Sender {
		p.add("smscx.sender", "must be printable ASCII (letters, digits, punctuation) without leading or trailing spaces, got %q", s.Sender)
	}
	if s.WebhookSecret != "" {
		if len(s.WebhookSecret) < minWebhookSecret {
			p.add("smscx.webhook_secret", "must be at least %d characters, or empty to have one generated", minWebhookSecret)
		}
		if !isURLSafe(s.WebhookSecret) {
			p.add("smscx.webhook_secret", "may only hold the URL-safe characters A-Z a-z 0-9 - _ . ~")
		}
	}
	positive(p, "smscx.timeout", s.Timeout)
}

func (c *Config) validateDispatch(p *problems) {
	d := c.Dispatch
	if d.Interval.Duration < minDispatchEvery {
		p.add("dispatch.interval", "must be at least %s, got %s", Duration{minDispatchEvery}, d.Interval)
	}
	between(p, "dispatch.concurrency", d.Concurrency, 1, maxDispatchWorkers)
	between(p, "dispatch.batch_size", d.BatchSize, 1, maxDispatchBatch)
	between(p, "dispatch.max_attempts", d.MaxAttempts, 1, maxDispatchTries)
	if d.Lease.Duration <= c.SMSCX.Timeout.Duration {
		p.add("dispatch.lease", "must be longer than smscx.timeout (%s), got %s", c.SMSCX.Timeout, d.Lease)
	}
	if positive(p, "dispatch.backoff_base", d.BackoffBase) && d.BackoffMax.Duration < d.BackoffBase.Duration {
		p.add("dispatch.backoff_max", "must be at least dispatch.backoff_base (%s), got %s", d.BackoffBase, d.BackoffMax)
	}
}

func (c *Config) validateReminders(p *problems) {
	r := c.Reminders
	firstIndex := make(map[string]int, len(r.Rules))
	for i, rule := range r.Rules {
		key := fmt.Sprintf("reminders.rules[%d]", i)
		switch {
		case strings.TrimSpace(rule.Name) == "":
			p.add(key+".name", "must not be empty")
		case rule.Name != strings.TrimSpace(rule.Name) || utf8.RuneCountInString(rule.Name) > maxRuleNameLen || hasControl(rule.Name):
			p.add(key+".name", "must be at most %d characters, without control characters or leading or trailing spaces, got %q", maxRuleNameLen, rule.Name)
		default:
			if j, dup := firstIndex[rule.Name]; dup {
				p.add(key+".name", "%q is already the name of reminders.rules[%d]; names must be unique", rule.Name, j)
			} else {
				firstIndex[rule.Name] = i
			}
		}
		if rule.Before.Duration <= 0 || rule.Before.Duration > maxRuleBefore {
			p.add(key+".before", "must be more than 0 and at most %s (30 days), got %s", Duration{maxRuleBefore}, rule.Before)
		}
		if utf8.RuneCountInString(rule.Template) > maxRuleTemplateLen {
			p.add(key+".template", "must be at most %d characters", maxRuleTemplateLen)
		}
	}
	q := r.QuietHours
	switch {
	case q.Start == "" && q.End == "":
		// No quiet hours.
	case q.Start == "" || q.End == "":
		p.add("reminders.quiet_hours", "set both start and end, or neither (no quiet hours)")
	default:
		start, okStart := parseClock(q.Start)
		end, okEnd := parseClock(q.End)
		if !okStart {
			p.add("reminders.quiet_hours.start", "want HH:MM between 00:00 and 23:59, got %q", q.Start)
		}
		if !okEnd {
			p.add("reminders.quiet_hours.end", "want HH:MM between 00:00 and 23:59, got %q", q.End)
		}
		if okStart && okEnd && start == end {
			p.add("reminders.quiet_hours", "start and end are both %s; set a window, or leave both empty for none", q.Start)
		}
	}
	if r.CapPerDay < 0 {
		p.add("reminders.cap_per_day", "must be 0 (no cap) or more, got %d", r.CapPerDay)
	}
	if r.CapPerWeek < 0 {
		p.add("reminders.cap_per_week", "must be 0 (no cap) or more, got %d", r.CapPerWeek)
	}
	if r.MinLead.Duration < time.Minute || r.MinLead.Duration > maxMinLead {
		p.add("reminders.min_lead", "must be from 1m to %s, got %s", Duration{maxMinLead}, r.MinLead)
	}
}

func (c *Config) validateClinic(p *problems) {
	cl := c.Clinic
	if strings.TrimSpace(cl.Name) == "" {
		p.add("clinic.name", "must not be empty")
	}
	if !slices.Contains(render.Languages(), cl.Language) {
		p.add("clinic.language", "want one of %s, got %q", strings.Join(render.Languages(), ", "), cl.Language)
	}
	if cl.Clock != "" && cl.Clock != Clock24h && cl.Clock != Clock12h {
		p.add("clinic.clock", "want %q or %q (or empty to follow clinic.language), got %q", Clock24h, Clock12h, cl.Clock)
	}
	switch cl.Timezone {
	case "":
		p.add("clinic.timezone", "must not be empty (an IANA time zone such as \"Europe/Paris\" or \"UTC\")")
	case "Local":
		p.add("clinic.timezone", "want an IANA time zone such as \"Europe/Paris\", not \"Local\" (the server's zone)")
	default:
		if _, err := time.LoadLocation(cl.Timezone); err != nil {
			p.add("clinic.timezone", "unknown time zone %q", cl.Timezone)
		}
	}
	countryOK := false
	switch {
	case !isUpperAlpha2(cl.Country):
		p.add("clinic.country", "want an ISO 3166 alpha-2 code in upper case, such as \"US\" or \"GB\", got %q", cl.Country)
	case cl.Country == "UK":
		p.add("clinic.country", "unknown country code \"UK\" (the United Kingdom is \"GB\")")
	case !phonenumbers.GetSupportedRegions()[cl.Country]:
		p.add("clinic.country", "unknown country code %q", cl.Country)
	default:
		countryOK = true
	}
	if cl.Phone != "" && countryOK {
		num, err := phonenumbers.Parse(cl.Phone, cl.Country)
		if err != nil || !phonenumbers.IsPossibleNumber(num) {
			p.add("clinic.phone", "not a phone number for country %s: %q", cl.Country, cl.Phone)
		}
	}
	if hasControl(cl.Name) {
		p.add("clinic.name", "must not hold control characters")
	}
	if hasControl(cl.Address) {
		p.add("clinic.address", "must not hold control characters other than line breaks")
	}
}

func (c *Config) validateWebhook(p *problems) {
	w := c.Webhook
	if w.MaxBodyBytes < minWebhookBody || w.MaxBodyBytes > maxWebhookBody {
		p.add("webhook.max_body_bytes", "must be between %d (1 KiB) and %d (64 MiB), got %d", minWebhookBody, maxWebhookBody, w.MaxBodyBytes)
	}
	if w.DedupRetention.Duration < minDedupRetention {
		p.add("webhook.dedup_retention", "must be at least %s (SMS.CX retries for up to 3 days), got %s", Duration{minDedupRetention}, w.DedupRetention)
	}
	between(p, "webhook.apply_workers", w.ApplyWorkers, 1, maxApplyWorkers)
	if conns := c.DatabaseMaxOpenConns(); c.Database.Driver == "postgres" && w.ApplyWorkers > conns/2 {
		p.add("webhook.apply_workers", "must be at most half of database.max_open_conns (%d), so that the receiver keeps connections, got %d", conns, w.ApplyWorkers)
	}
}

func (c *Config) validateLog(p *problems) {
	oneOf(p, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf(p, "log.format", c.Log.Format, "text", "json")
}

func (c *Config) validateReplies(p *problems) {
	between(p, "replies.help_answers_per_day", c.Replies.HelpAnswersPerDay, 1, maxAnswersPerDay)
	between(p, "replies.stop_start_answers_per_day", c.Replies.StopStartAnswersPerDay, 1, maxAnswersPerDay)
}

func (c *Config) validateWaitlist(p *problems) {
	w := c.Waitlist
	if w.MinNotice.Duration < 0 || w.MinNotice.Duration > 7*24*time.Hour {
		p.add("waitlist.min_notice", "must be between 0s and 168h, got %s", w.MinNotice)
	}
	if w.Batch < 1 || w.Batch > 20 {
		p.add("waitlist.batch", "must be between 1 and 20, got %d", w.Batch)
	}
	if w.OfferTTL.Duration < 5*time.Minute || w.OfferTTL.Duration > 24*time.Hour {
		p.add("waitlist.offer_ttl", "must be between 5m and 24h, got %s", w.OfferTTL)
	}
}

func (c *Config) validateReschedule(p *problems) {
	if d := c.Reschedule.OfferTTL; d.Duration < 10*time.Minute || d.Duration > 7*24*time.Hour {
		p.add("reschedule.offer_ttl", "must be between 10m and 168h, got %s", d)
	}
}

func (c *Config) validateRetention(p *problems) {
	for _, r := range []struct {
		key string
		d   Duration
	}{{"retention.message_text", c.Retention.MessageText}, {"retention.audit", c.Retention.Audit}} {
		if r.d.Duration != 0 && r.d.Duration < minRetention {
			p.add(r.key, "must be 0 (keep for ever) or at least %s (7 days), got %s", Duration{minRetention}, r.d)
		}
	}
}

func (c *Config) validateBackup(p *problems) {
	b := c.Backup
	if b.Dir != "" && (strings.TrimSpace(b.Dir) != b.Dir || hasControl(b.Dir) || strings.ContainsAny(b.Dir, "\n\r\t")) {
		p.add("backup.dir", "must be a directory path without control characters or leading or trailing spaces, got %q", b.Dir)
	}
	between(p, "backup.keep", b.Keep, 1, maxBackupsKept)
}

// positive reports a problem unless d > 0, and returns whether d > 0.
func positive(p *problems, key string, d Duration) bool {
	if d.Duration <= 0 {
		p.add(key, "must be more than 0, got %s", d)
		return false
	}
	return true
}

func between(p *problems, key string, v, lo, hi int) {
	if v < lo || v > hi {
		p.add(key, "must be between %d and %d, got %d", lo, hi, v)
	}
}

// oneOf reports a problem unless v is one of allowed, and returns whether it
// is.
func oneOf(p *problems, key, v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	quoted := make([]string, 0, len(allowed))
	for _, a := range allowed {
		if a != "" {
			quoted = append(quoted, strconv.Quote(a))
		}
	}
	empty := ""
	if len(quoted) < len(allowed) {
		empty = " (or empty)"
	}
	p.add(key, "want one of %s%s, got %q", strings.Join(quoted, ", "), empty, v)
	return false
}

// checkListenAddr returns a problem with a listen address, or "".
func checkListenAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("want host:port such as \":8080\" or \"127.0.0.1:8080\", got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("want a port number between 0 and 65535, got %q", port)
	}
	return ""
}

// checkHTTPURL returns a problem with an absolute http(s) URL, or "". It
// quotes the value only when it cannot hold credentials.
func checkHTTPURL(raw string) string {
	shown := strconv.Quote(raw)
	if strings.Contains(raw, "@") {
		shown = "a URL with user information"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "want an absolute http:// or https:// URL such as \"https://clinic.example.org\", got " + shown
	}
	if u.User != nil {
		return "must not hold a user name or password"
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not have a query (?...) or fragment (#...), got " + shown
	}
	if u.Port() != "" {
		if n, err := strconv.Atoi(u.Port()); err != nil || n < 1 || n > 65535 {
			return "want a port between 1 and 65535, got " + shown
		}
	}
	return ""
}

// isPostgresDSN reports whether dsn is a postgres:// or postgresql:// URL or
// a libpq key=value connection string.
func isPostgresDSN(dsn string) bool {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql")
	}
	return isKeyValueDSN(dsn)
}

// isKeyValueDSN reports whether s is a libpq key=value connection string:
// one or more keyword=value pairs separated by spaces, a value single-quoted
// when it is empty or holds spaces (\' and \\ escape inside quotes).
func isKeyValueDSN(s string) bool {
	const spaces = " \t\r\n"
	s = strings.TrimLeft(s, spaces)
	pairs := 0
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return false
		}
		keyword := strings.TrimRight(s[:eq], spaces)
		if keyword == "" || strings.TrimLeft(keyword, "abcdefghijklmnopqrstuvwxyz_") != "" {
			return false
		}
		s = strings.TrimLeft(s[eq+1:], spaces)
		if strings.HasPrefix(s, "'") {
			i, closed := 1, false
			for i < len(s) && !closed {
				switch s[i] {
				case '\\':
					i += 2
				case '\'':
					closed = true
					i++
				default:
					i++
				}
			}
			if !closed {
				return false
			}
			s = s[i:]
			if s != "" && !strings.ContainsRune(spaces, rune(s[0])) {
				return false
			}
		} else {
			end := strings.IndexAny(s, spaces)
			if end < 0 {
				end = len(s)
			}
			if end == 0 {
				return false // an empty value must be quoted
			}
			s = s[end:]
		}
		s = strings.TrimLeft(s, spaces)
		pairs++
	}
	return pairs > 0
}

func isPrintableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func isURLSafe(s string) bool {
	for i := range len(s) {
		c := s[i]
		ok := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}

func isUpperAlpha2(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// hasControl reports whether s holds a control character other than a line
// break or tab, or is not valid UTF-8.
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return true
		}
	}
	return false
}

// The bounds of import.max_bytes.
const (
	minImportBytes = 1 << 20
	maxImportBytes = 1 << 30
)

func (c *Config) validateImport(p *problems) {
	if n := c.Import.MaxBytes; n < minImportBytes || n > maxImportBytes {
		p.add("import.max_bytes", "must be between %d (1 MB) and %d (1 GB) bytes, got %d", minImportBytes, maxImportBytes, n)
	}
}
