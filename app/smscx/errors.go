package smscx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Error types (error.type) the SMS.CX API documents; see smscx-api.md §5.1.
const (
	TypeAccessDenied         = "access_denied"
	TypeInsufficientCredit   = "insufficient_credit"
	TypeInsufficientScope    = "insufficient_scope"
	TypeInvalidAPIKey        = "invalid_api_key"
	TypeInvalidBody          = "invalid_body"
	TypeInvalidClient        = "invalid_client"
	TypeInvalidMethod        = "invalid_method"
	TypeInvalidParam         = "invalid_param"
	TypeInvalidRequest       = "invalid_request"
	TypeNoCoverage           = "no_coverage"
	TypeNotFound             = "not_found"
	TypeRateLimit            = "rate_limit"
	TypeServerError          = "server_error"
	TypeUnsupportedGrantType = "unsupported_grant_type"
)

// Error codes (error.code) the client interprets; see smscx-api.md §5.3.
const (
	CodeInvalidNumber      = 1207 // the phone number is not valid
	CodeInvalidNumbers     = 1210 // the phone numbers are invalid
	CodeInsufficientCredit = 1113
	CodeCreditLimitReached = 1114
	CodeNoCoverage         = 1119
	CodeOAuth              = 1600
)

// APIError is a non-2xx answer from SMS.CX. Bodies that are not the
// documented JSON error envelope still give an APIError with HTTPStatus set.
type APIError struct {
	HTTPStatus int
	Type       string
	Code       int
	Message    string
	URI        string
	// Invalid lists the rejected phone numbers of a 1207/1210 error, read
	// from error.invalid or a top-level invalid (the docs disagree).
	Invalid []string
	// RetryAfter is when a 429 (or 503) may be retried, from the
	// X-Rate-Limit-Reset header (Unix seconds) or Retry-After. Zero if absent.
	RetryAfter time.Time
}

// Error describes the error; phone numbers in it are masked.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if len(e.Invalid) > 0 {
		masked := make([]string, 0, min(len(e.Invalid), 5))
		for i, n := range e.Invalid {
			if i == 5 {
				break
			}
			masked = append(masked, MaskPhone(n))
		}
		b.WriteString("; invalid: " + strings.Join(masked, ", "))
		if len(e.Invalid) > 5 {
			fmt.Fprintf(&b, " and %d more", len(e.Invalid)-5)
		}
	}
	if !e.RetryAfter.IsZero() {
		b.WriteString("; retry at " + e.RetryAfter.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// Retryable reports whether the same request may succeed later: true for
// 408, 429 and 5xx; false for every other status (invalid numbers, no
// coverage, insufficient credit, bad credentials and other 4xx).
func (e *APIError) Retryable() bool {
	return e.HTTPStatus == http.StatusRequestTimeout ||
		e.HTTPStatus == http.StatusTooManyRequests ||
		e.HTTPStatus >= 500
}

// TransportError is a failure to get an answer at all: connection refused or
// reset, EOF, a timeout of the http.Client or a deadline on the context. The
// request may or may not have been processed, so a retry must reuse the same
// idempotency id. It is always retryable.
type TransportError struct {
	Err     error
	Timeout bool
}

// Error describes the failure.
func (e *TransportError) Error() string {
	if e.Timeout {
		return "transport timeout: " + e.Err.Error()
	}
	return "transport: " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// Retryable is always true.
func (e *TransportError) Retryable() bool { return true }

// transportError classifies a failed round trip. Cancellation of the
// caller's ctx is returned as is (not retryable: the caller gave up); a
// deadline, whether the caller's or the http.Client's, is a retryable
// timeout.
func transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%w: %w", context.Canceled, err)
	}
	var ne net.Error
	timeout := ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
	return &TransportError{Err: err, Timeout: timeout}
}

// errorEnvelope is the documented error body, tolerant of invalid numbers
// being listed inside or beside "error".
type errorEnvelope struct {
	Error *struct {
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
		URI     string          `json:"uri"`
		Invalid []string        `json:"invalid"`
	} `json:"error"`
	Invalid []string `json:"invalid"`
}

// maxMessageLen bounds the message kept from an error body.
const maxMessageLen = 300

// decodeError turns a non-2xx answer into an *APIError. It never fails:
// whatever the body, the status is kept.
func decodeError(status int, h http.Header, body []byte) *APIError {
	e := &APIError{HTTPStatus: status}
	var env errorEnvelope
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Type = clean(env.Error.Type)
		e.Code = parseCode(env.Error.Code)
		e.Message = clean(env.Error.Message)
		e.URI = clean(env.Error.URI)
		e.Invalid = append(env.Error.Invalid, env.Invalid...)
	} else {
		e.Message = clean(string(body))
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		e.RetryAfter = retryAfter(h, time.Now())
	}
	return e
}

// parseCode accepts a number or a numeric string.
func parseCode(raw json.RawMessage) int {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	n, err := strconv.Atoi(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int(f)) {
			return 0
		}
		return int(f)
	}
	return n
}

// clean makes text from a remote body safe to put in an error message:
// valid UTF-8, no control characters, bounded length.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > maxMessageLen {
		cut := maxMessageLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// retryAfter reads X-Rate-Limit-Reset (Unix seconds; milliseconds are
// tolerated) and falls back to Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Time {
	if v := strings.TrimSpace(h.Get("X-Rate-Limit-Reset")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			if n > 1e12 {
				return time.UnixMilli(n).UTC()
			}
			return time.Unix(n, 0).UTC()
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return now.Add(time.Duration(n) * time.Second).UTC()
		}
		if t, err := http.ParseTime(v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// IsRetryable reports whether err (from any Client method) is worth retrying
// with the same request: an APIError with Retryable() or a TransportError.
// Cancellation of the caller's context and all other errors are not.
func IsRetryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Retryable()
	}
	var te *TransportError
	return errors.As(err, &te)
}

// RetryAt returns when a rate-limited request may be retried, if the
// gateway said so.
func RetryAt(err error) (time.Time, bool) {
	var ae *APIError
	if errors.As(err, &ae) && !ae.RetryAfter.IsZero() {
		return ae.RetryAfter, true
	}
	return time.Time{}, false
}

// IsInvalidNumber reports a 400 invalid_param 1207/1210: the number(s) are
// not valid. Not retryable.
func IsInvalidNumber(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.HTTPStatus == http.StatusBadRequest &&
		(ae.Code == CodeInvalidNumber || ae.Code == CodeInvalidNumbers)
}

// IsNoCoverage reports a 403 no_coverage (1119): the destination is not
// served or is restricted. Not retryable.
func IsNoCoverage(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.HTTPStatus == http.StatusForbidden &&
		(ae.Type == TypeNoCoverage || ae.Code == CodeNoCoverage)
}

// IsInsufficientCredit reports a 400 insufficient_credit (1113, or 1114
// credit limit reached). Not retryable until someone tops up.
func IsInsufficientCredit(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Type == TypeInsufficientCredit ||
		ae.Code == CodeInsufficientCredit || ae.Code == CodeCreditLimitReached)
}

// IsAuth reports a credentials or permission problem: any 401 (bad API key,
// bad OAuth2 client or rejected token) and 403 insufficient_scope or
// access_denied. Not retryable.
func IsAuth(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.HTTPStatus == http.StatusUnauthorized ||
		(ae.HTTPStatus == http.StatusForbidden &&
			(ae.Type == TypeInsufficientScope || ae.Type == TypeAccessDenied))
}
