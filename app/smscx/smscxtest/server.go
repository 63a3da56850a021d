// Package smscxtest is a fake SMS.CX gateway for tests and for the app's
// simulator mode, in the spirit of net/http/httptest. A *Server is an
// http.Handler: serve it with httptest.NewServer(fake) or mount it in another
// mux with http.StripPrefix("/_sim", fake); routes are relative to the
// handler root.
//
// It speaks the wire format of /work/shared/smscx-api.md:
//
//   - POST /oauth/token (client credentials, Basic auth),
//   - POST /sms (validation errors per §5.3, idempotency, opt-outs,
//     coverage, credit, placeholders, text analysis),
//   - GET /reports/single/{msgId}, GET /account/balance,
//
// and after a send it POSTs dlr_update webhooks (SENT, then DELIVERED or
// FAILED), batched per URL and retried on failure. Emitters send the
// dashboard-configured callbacks (receive_sms, new_optout, shortlink and
// attachment hits). Knobs inject latency, 429, 500, hangs, dropped
// connections, missing credit and missing coverage. Every request and every
// webhook attempt is recorded.
//
// The fake authenticates a request before it reads the body: a request
// refused for its route, its credentials or its declared size leaves only
// a summary of bounded size in the log (see Request), and the log is
// bounded in bytes as well as in entries, so a fake that anyone can reach
// cannot be made to hold more than a few megabytes.
//
// Where the real API is not documented the fake makes a choice, listed here
// so tests do not mistake it for SMS.CX behaviour:
//
//   - A number is valid when it is E.164: "+" then 8 to 15 digits. National
//     numbers and countryIso are not supported.
//   - 1207 is used when exactly one number is invalid, 1210 when several are.
//     With allowInvalid the invalid numbers are skipped and listed in
//     info.invalid; if none is left, the request fails with 1207/1210 anyway.
//   - No coverage is configured by number prefix (AddNoCoverage). When every
//     valid number of a request lacks coverage the request fails with
//     403/1119; otherwise those numbers get status "NO COVERAGE", cost 0.
//   - Opted-out numbers get status "REJECTED", cost 0, errorCode null.
//   - statusCode values are invented: ACCEPTED 1, SCHEDULED 2, SENT 3,
//     DELIVERED 4, FAILED 5, REJECTED 6, NO COVERAGE 7.
//   - Error codes the docs do not give are invented too: see the Code*
//     constants (invalid_api_key 1001, ...).
//   - A replayed idempotencyId returns the original 200 body byte for byte,
//     whatever the new body says, and is not a new send. Failed requests
//     (4xx, 5xx) are not remembered, so the id can be used again.
//   - Scheduled sends (scheduledDate in the future) get status SCHEDULED and
//     no automatic delivery reports.
//   - {{optoutLink}}, {{shortlink:ID}} and {{attachement:ID}} are replaced
//     by a fake URL that is the same for every recipient of a request; any
//     ID is accepted. Text parts and cost are computed after replacement.
//   - Fault knobs (429, 500, hang) apply to authenticated API calls, not to
//     POST /oauth/token. Latency applies to every request.
//
// For long runs (simulator mode, the P2 benchmark) set Options.MaxRecorded
// so the request and webhook logs stay bounded in entries too; messages are
// kept compactly (no response bodies: idempotent replays are re-rendered
// byte-identically).
package smscxtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultAPIKey is accepted when Options configures neither API keys nor an
// OAuth2 client.
const DefaultAPIKey = "smscxtest-api-key"

// Defaults for zero Options fields.
const (
	DefaultPricePerPart = 0.041
	DefaultBalance      = 10000.0
	DefaultTokenTTL     = 24 * time.Hour
	DefaultRateLimit    = 100
	DefaultDLRDelay     = 50 * time.Millisecond
	DefaultDLRAttempts  = 5
	DefaultDLRBackoff   = 500 * time.Millisecond
)

// Error codes the SMS.CX docs do not specify; the fake uses these.
const (
	CodeInvalidAPIKey = 1001
	CodeNotFound      = 1002
	CodeInvalidMethod = 1003
	CodeRateLimit     = 1004
	CodeServerError   = 1005
	CodeInvalidBody   = 1006
)

// maxRequestBody caps a request body; a full 25,000-number send is well
// under this.
const maxRequestBody = 8 << 20

// errorURI is the "uri" of every error body.
const errorURI = "https://sms.cx/sms-api-documentation/#errors"

// Options configures a Server. The zero value works: it accepts
// DefaultAPIKey and uses the defaults above.
type Options struct {
	// APIKeys are accepted in the X-API-KEY header.
	APIKeys []string
	// ClientID and ClientSecret enable POST /oauth/token.
	ClientID     string
	ClientSecret string
	// TokenTTL is the lifetime of issued tokens (expires_in). Zero means
	// DefaultTokenTTL; negative means tokens never expire (expires_in 0).
	TokenTTL time.Duration
	// PricePerPart is the cost of one SMS part. Zero means
	// DefaultPricePerPart.
	PricePerPart float64
	// Balance is the starting credit. Zero means DefaultBalance.
	Balance float64
	// RateLimit is the X-Rate-Limit-Limit value (per second; reported,
	// not enforced — use RateLimitNext). Zero means DefaultRateLimit.
	RateLimit int
	// DLRCallbackURL is the dashboard delivery-report URL, used for sends
	// that carry no dlrCallbackUrl. Empty: such sends get no webhooks.
	DLRCallbackURL string
	// CallbackURL receives the emitted receive_sms, new_optout and hit
	// webhooks.
	CallbackURL string
	// NoAutoDLR switches automatic delivery reports off (see SetAutoDLR).
	NoAutoDLR bool
	// DLRDelay is the time between a send and its SENT report, and between
	// SENT and the final report; reports due in the meantime are batched.
	// Zero means DefaultDLRDelay; negative means no delay.
	DLRDelay time.Duration
	// DLRAttempts is how often a webhook POST is tried before giving up.
	// Zero means DefaultDLRAttempts.
	DLRAttempts int
	// DLRBackoff is the wait before the first retry; it doubles per retry
	// (capped at 30s). Zero means DefaultDLRBackoff; negative means none.
	DLRBackoff time.Duration
	// CallbackClient posts the webhooks. Nil means a client with a 10s
	// timeout.
	CallbackClient *http.Client
	// MaxRecorded bounds the Requests and Callbacks logs (the newest are
	// kept). Zero means unlimited; negative means nothing is recorded.
	MaxRecorded int
	// MaxRecordedBody is how many bytes of each request body Requests
	// keeps. Zero means DefaultMaxRecordedBody; negative means none.
	MaxRecordedBody int
	// MaxRecordedBytes bounds the Requests log in bytes (bodies, paths,
	// headers and a fixed cost per entry; the newest are kept). Zero means
	// DefaultMaxRecordedBytes; negative means no bound in bytes.
	MaxRecordedBytes int
	// Now is the clock for datetimes and token expiry. Nil means time.Now.
	// Delays and timers always use real time.
	Now func() time.Time
}

// Server is the fake gateway. Create it with NewServer and stop its
// background work with Close. All methods are safe for concurrent use.
type Server struct {
	now         func() time.Time
	tokenTTL    time.Duration
	rateLimit   int
	attempts    int
	client      *http.Client
	priceMicros int64
	clientID    string
	secret      string
	optoutLink  string
	maxBody     int

	baseCtx context.Context
	cancel  context.CancelFunc
	closeCh chan struct{}
	wg      sync.WaitGroup

	mu sync.Mutex // guards everything below

	closed  bool
	apiKeys map[string]bool
	tokens  map[string]time.Time // token -> expiry (zero: never)

	latency            time.Duration
	rateLimitN         int
	rateLimitReset     time.Time
	serverErrorN       int
	timeoutN           int
	dropN              int
	insufficientCredit bool
	noCoverage         []string
	failDelivery       []prefixCode
	optouts            map[string]bool
	balanceMicros      int64
	rlSecond           int64
	rlCount            int

	msgs     []*message
	byID     map[string]*message
	idem     map[string]*idemEntry
	requests requestLog
	calls    ring[Callback]
	hitSeq   int64
	hitIDs   map[string]int64

	autoDLR     bool
	dlrURL      string
	callbackURL string
	dlrDelay    time.Duration
	backoff     time.Duration
	queues      map[string]*dlrQueue
	pending     int
	idle        chan struct{} // closed while pending == 0
	flushing    int
	seq         uint64
}

type prefixCode struct {
	prefix string
	code   int
}

// NewServer returns a fake gateway configured by opts.
func NewServer(opts Options) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		now:        opts.Now,
		tokenTTL:   opts.TokenTTL,
		rateLimit:  opts.RateLimit,
		attempts:   opts.DLRAttempts,
		client:     opts.CallbackClient,
		clientID:   opts.ClientID,
		secret:     opts.ClientSecret,
		optoutLink: randomID(3),
		baseCtx:    ctx,
		cancel:     cancel,
		closeCh:    make(chan struct{}),
		apiKeys:    make(map[string]bool),
		tokens:     make(map[string]time.Time),
		optouts:    make(map[string]bool),
		byID:       make(map[string]*message),
		idem:       make(map[string]*idemEntry),
		hitIDs:     make(map[string]int64),
		queues:     make(map[string]*dlrQueue),
		requests:   requestLog{limit: opts.MaxRecorded, maxBytes: opts.MaxRecordedBytes},
		maxBody:    opts.MaxRecordedBody,
		calls:      ring[Callback]{limit: opts.MaxRecorded},
		autoDLR:    !opts.NoAutoDLR,
		dlrURL:     opts.DLRCallbackURL,

		callbackURL: opts.CallbackURL,
		dlrDelay:    opts.DLRDelay,
		backoff:     opts.DLRBackoff,
		idle:        make(chan struct{}),
	}
	close(s.idle)
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case s.requests.maxBytes == 0:
		s.requests.maxBytes = DefaultMaxRecordedBytes
	case s.requests.maxBytes < 0:
		s.requests.maxBytes = 0
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxRecordedBody
	}
	if s.requests.maxBytes > 0 {
		s.maxBody = min(s.maxBody, s.requests.maxBytes)
	}
	if s.tokenTTL == 0 {
		s.tokenTTL = DefaultTokenTTL
	}
	if s.rateLimit <= 0 {
		s.rateLimit = DefaultRateLimit
	}
	if s.attempts <= 0 {
		s.attempts = DefaultDLRAttempts
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	price := opts.PricePerPart
	if price == 0 {
		price = DefaultPricePerPart
	}
	s.priceMicros = toMicros(price)
	balance := opts.Balance
	if balance == 0 {
		balance = DefaultBalance
	}
	s.balanceMicros = toMicros(balance)
	switch {
	case s.dlrDelay == 0:
		s.dlrDelay = DefaultDLRDelay
	case s.dlrDelay < 0:
		s.dlrDelay = 0
	}
	switch {
	case s.backoff == 0:
		s.backoff = DefaultDLRBackoff
	case s.backoff < 0:
		s.backoff = 0
	}
	for _, k := range opts.APIKeys {
		s.apiKeys[k] = true
	}
	if len(opts.APIKeys) == 0 && opts.ClientID == "" {
		s.apiKeys[DefaultAPIKey] = true
	}
	return s
}

// Close stops the background delivery of webhooks (pending ones are
// dropped), releases hanging requests and waits for the goroutines the
// Server started. The handler keeps answering afterwards but sends no more
// webhooks.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.closeCh)
	s.cancel()
	s.mu.Unlock()

	s.wg.Wait()

	s.mu.Lock()
	s.queues = make(map[string]*dlrQueue)
	s.addPendingLocked(-s.pending)
	s.mu.Unlock()
}

// exchange is one request being answered.
type exchange struct {
	w     http.ResponseWriter
	r     *http.Request
	rec   *requestRecord
	body  []byte
	start time.Time
}

// ServeHTTP answers one API request. The route and the credentials are
// checked before the body is read, so a stranger's request costs a
// summary in the log and nothing more.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{w: w, r: r, start: time.Now()}
	x.rec = s.record(r)

	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 && !s.wait(r.Context(), latency) {
		return
	}

	path := r.URL.Path
	var method string
	var handle func(*exchange)
	switch {
	case path == "/oauth/token":
		if r.Method != http.MethodPost {
			s.writeError(x, http.StatusMethodNotAllowed, "invalid_method", CodeInvalidMethod, "Method not allowed", nil)
			return
		}
		s.handleToken(x)
		return
	case path == "/sms":
		method, handle = http.MethodPost, s.handleSend
	case strings.HasPrefix(path, "/reports/single/"):
		method, handle = http.MethodGet, s.handleReport
	case path == "/account/balance":
		method, handle = http.MethodGet, s.handleBalance
	default:
		s.writeError(x, http.StatusNotFound, "not_found", CodeNotFound, "Resource not found", nil)
		return
	}
	if r.Method != method {
		s.writeError(x, http.StatusMethodNotAllowed, "invalid_method", CodeInvalidMethod, "Method not allowed", nil)
		return
	}
	if !s.authorized(r) {
		s.writeError(x, http.StatusUnauthorized, "invalid_api_key", CodeInvalidAPIKey, "Invalid API key or access token", nil)
		return
	}
	if !s.readBody(x) {
		return
	}
	if s.injectFault(x) {
		return
	}
	handle(x)
}

// readBody reads the body of an authenticated request into x.body, up to
// maxRequestBody, and records its start. It answers 413 (without reading)
// for a body declared or found larger, and 400 when reading fails; it
// reports whether the request goes on.
func (s *Server) readBody(x *exchange) bool {
	if x.r.ContentLength > maxRequestBody {
		s.writeError(x, http.StatusRequestEntityTooLarge, "invalid_body", CodeInvalidBody, "Request body too large", nil)
		return false
	}
	body, err := io.ReadAll(io.LimitReader(x.r.Body, maxRequestBody+1))
	ok := err == nil && len(body) <= maxRequestBody
	s.recordBody(x.rec, body, ok)
	switch {
	case err != nil:
		s.writeError(x, http.StatusBadRequest, "invalid_body", CodeInvalidBody, "Could not read the request body", nil)
	case !ok:
		s.writeError(x, http.StatusRequestEntityTooLarge, "invalid_body", CodeInvalidBody, "Request body too large", nil)
	default:
		x.body = body
	}
	return ok
}

// wait sleeps for d unless the request or the Server ends first; it reports
// whether the full time passed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closeCh:
		return false
	}
}

func (s *Server) authorized(r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := r.Header.Get("X-API-KEY"); k != "" {
		return s.apiKeys[k]
	}
	auth := r.Header.Get("Authorization")
	if len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ") {
		exp, ok := s.tokens[strings.TrimSpace(auth[7:])]
		return ok && (exp.IsZero() || s.now().Before(exp))
	}
	return false
}

// injectFault answers with a configured fault, if one is due.
func (s *Server) injectFault(x *exchange) bool {
	s.mu.Lock()
	var kind string
	var reset time.Time
	switch {
	case take(&s.timeoutN):
		kind = "timeout"
	case take(&s.serverErrorN):
		kind = "server_error"
	case take(&s.rateLimitN):
		kind, reset = "rate_limit", s.rateLimitReset
	}
	s.mu.Unlock()
	switch kind {
	case "timeout":
		// Hang until the client gives up (or the Server closes).
		select {
		case <-x.r.Context().Done():
		case <-s.closeCh:
		}
		return true
	case "server_error":
		s.writeError(x, http.StatusInternalServerError, "server_error", CodeServerError, "Internal server error", nil)
		return true
	case "rate_limit":
		x.w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
		s.writeError(x, http.StatusTooManyRequests, "rate_limit", CodeRateLimit, "Too many requests", nil)
		return true
	}
	return false
}

// take consumes one unit of a "next N" counter; negative counts are
// unlimited.
func take(n *int) bool {
	switch {
	case *n > 0:
		*n--
		return true
	case *n < 0:
		return true
	}
	return false
}

// setCommonHeaders sets the headers SMS.CX puts on API answers.
func (s *Server) setCommonHeaders(x *exchange) {
	h := x.w.Header()
	h.Set("X-Request-Id", newUUID())
	h.Set("X-Response-Time", strconv.FormatInt(time.Since(x.start).Milliseconds(), 10)+"ms")
	s.mu.Lock()
	sec := time.Now().Unix()
	if sec != s.rlSecond {
		s.rlSecond, s.rlCount = sec, 0
	}
	s.rlCount++
	remaining := max(0, s.rateLimit-s.rlCount)
	s.mu.Unlock()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(s.rateLimit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
}

// writeJSON answers with status and a JSON body.
func (s *Server) writeJSON(x *exchange, status int, body []byte) {
	s.setCommonHeaders(x)
	x.w.Header().Set("Content-Type", "application/json")
	x.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body)
	s.mu.Lock()
	x.rec.status = status
	s.mu.Unlock()
}

type wireError struct {
	Error wireErrorBody `json:"error"`
}

type wireErrorBody struct {
	Type    string   `json:"type"`
	Code    int      `json:"code"`
	Message string   `json:"message"`
	URI     string   `json:"uri"`
	Invalid []string `json:"invalid,omitempty"`
}

// writeError answers with the documented error envelope.
func (s *Server) writeError(x *exchange, status int, typ string, code int, msg string, invalid []string) {
	body, err := json.Marshal(wireError{Error: wireErrorBody{
		Type: typ, Code: code, Message: msg, URI: errorURI, Invalid: invalid,
	}})
	if err != nil {
		body = []byte(`{"error":{"type":"server_error","code":1005,"message":"encoding failed","uri":""}}`)
	}
	s.writeJSON(x, status, body)
}

// handleToken is POST /oauth/token (client credentials only).
func (s *Server) handleToken(x *exchange) {
	id, secret, ok := x.r.BasicAuth()
	if !ok || s.clientID == "" || id != s.clientID || secret != s.secret {
		x.w.Header().Set("WWW-Authenticate", `Basic realm="sms.cx"`)
		s.writeError(x, http.StatusUnauthorized, "invalid_client", 1600, "Client authentication failed", nil)
		return
	}
	if !s.readBody(x) {
		return
	}
	form, err := parseForm(x.body)
	if err != nil {
		s.writeError(x, http.StatusBadRequest, "invalid_request", 1600, "The request body is not a valid form", nil)
		return
	}
	switch form.Get("grant_type") {
	case "":
		s.writeError(x, http.StatusBadRequest, "invalid_request", 1600, "The grant_type parameter is missing", nil)
		return
	case "client_credentials":
	default:
		s.writeError(x, http.StatusBadRequest, "unsupported_grant_type", 1600, "The authorization grant type is not supported", nil)
		return
	}
	scope := form.Get("scope")
	if scope == "" {
		scope = "sms groups templates originators numbers reports shortlinks attachments"
	}
	tok := randomID(40)
	var expiresIn int64
	var exp time.Time
	if s.tokenTTL > 0 {
		expiresIn = int64(s.tokenTTL / time.Second)
		exp = s.now().Add(s.tokenTTL)
	}
	s.mu.Lock()
	s.tokens[tok] = exp
	s.mu.Unlock()
	body, _ := json.Marshal(struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
		TokenType   string `json:"token_type"`
	}{tok, expiresIn, scope, "Bearer"})
	s.writeJSON(x, http.StatusOK, body)
}

// handleBalance is GET /account/balance.
func (s *Server) handleBalance(x *exchange) {
	body, _ := json.Marshal(struct {
		Balance  float64 `json:"balance"`
		Currency string  `json:"currency"`
		Billing  string  `json:"billing"`
	}{s.Balance(), "eur", "prepaid"})
	s.writeJSON(x, http.StatusOK, body)
}

// ring keeps the newest limit items (all when limit is 0, none when it is
// negative).
type ring[T any] struct {
	limit int
	items []T
	start int
}

func (r *ring[T]) add(v T) {
	switch {
	case r.limit < 0:
	case r.limit == 0 || len(r.items) < r.limit:
		r.items = append(r.items, v)
	default:
		r.items[r.start] = v
		r.start = (r.start + 1) % r.limit
	}
}

func (r *ring[T]) list() []T {
	out := make([]T, 0, len(r.items))
	out = append(out, r.items[r.start:]...)
	return append(out, r.items[:r.start]...)
}

func toMicros(v float64) int64 {
	if v < 0 {
		return int64(v*1e6 - 0.5)
	}
	return int64(v*1e6 + 0.5)
}

func fromMicros(m int64) float64 { return float64(m) / 1e6 }

// randomID returns n random alphanumeric characters.
func randomID(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// isUUID reports whether s is a hyphenated UUID; with versioned, only
// RFC 4122 versions 1 to 5 are accepted.
func isUUID(s string, versioned bool) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
			continue
		}
		if !isHex(c) {
			return false
		}
	}
	if !versioned {
		return true
	}
	if s[14] < '1' || s[14] > '5' {
		return false
	}
	switch s[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// errClosed is returned by emitters after Close.
var errClosed = errors.New("smscxtest: server closed")
