// Package smscx is a client for the SMS.CX HTTP API (spec 1.0.2): sending SMS,
// reading a single message report and the account balance, with API-key or
// OAuth2 client-credentials authentication. It also holds the wire types of
// the SMS.CX webhooks (delivery reports, inbound SMS, opt-outs, link hits).
//
// The wire format is described in /work/shared/smscx-api.md; the fake gateway
// in app/smscx/smscxtest speaks the same format.
package smscx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults used by New when the Config leaves a value empty.
const (
	DefaultBaseURL          = "https://api.sms.cx"
	DefaultTimeout          = 15 * time.Second
	DefaultMaxResponseBytes = 1 << 20
)

// tokenFetchTimeout bounds one OAuth2 token request. The fetch runs detached
// from the caller's context (it is shared by all waiting callers), so it needs
// its own bound in case the injected http.Client has no timeout.
const tokenFetchTimeout = 30 * time.Second

// drainLimit is how much of an unread body is discarded before closing it, so
// the connection can be reused without reading an unbounded body.
const drainLimit = 64 << 10

// ErrResponseTooLarge is returned (wrapped) when a response body exceeds
// Config.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("response body too large")

// Config configures a Client. Either APIKey or ClientID and ClientSecret must
// be set; when both are set the API key is used.
type Config struct {
	// BaseURL is the API root without a trailing slash, for example
	// "https://api.sms.cx" or "http://localhost:8080/_simulator/smscx".
	// Empty means DefaultBaseURL.
	BaseURL string
	// APIKey is sent as the X-API-KEY header.
	APIKey string
	// ClientID and ClientSecret are the OAuth2 application id and secret used
	// for the client-credentials grant at POST /oauth/token.
	ClientID     string
	ClientSecret string
	// HTTPClient performs the requests. Nil means a client with
	// DefaultTimeout. Its Timeout is what turns a hanging gateway into a
	// retryable TransportError.
	HTTPClient *http.Client
	// MaxResponseBytes caps every response body read. Zero means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// Client talks to the SMS.CX API. It is safe for concurrent use.
type Client struct {
	baseURL      string
	apiKey       string
	clientID     string
	clientSecret string
	hc           *http.Client
	maxBody      int64
	now          func() time.Time

	mu          sync.Mutex
	token       string
	tokenExpiry time.Time // zero: no known expiry, keep until a 401
	inflight    *tokenCall
}

// tokenCall is one token fetch shared by every caller waiting for it.
type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" && (cfg.ClientID == "" || cfg.ClientSecret == "") {
		return nil, errors.New("smscx: new: an API key or an OAuth2 client id and secret is required")
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("smscx: new: base URL %q is not an absolute http(s) URL", base)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	maxBody := cfg.MaxResponseBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxResponseBytes
	}
	return &Client{
		baseURL:      base,
		apiKey:       cfg.APIKey,
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		hc:           hc,
		maxBody:      maxBody,
		now:          time.Now,
	}, nil
}

// do performs one authenticated API call. body, when not nil, is sent as
// JSON; a 2xx answer is decoded into out (when not nil). With OAuth2, a 401
// drops the cached token, fetches a new one and repeats the call once.
// Errors are not prefixed; the exported methods add "smscx: <op>: ".
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) (http.Header, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, method, path, body)
		if err != nil {
			return nil, err
		}
		var tok string
		if c.apiKey != "" {
			req.Header.Set("X-API-KEY", c.apiKey)
		} else {
			tok, err = c.accessToken(ctx)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		ans, err := c.roundTrip(req)
		if err != nil {
			return nil, transportError(ctx, err)
		}
		if ans.status == http.StatusUnauthorized && c.apiKey == "" && attempt == 0 {
			c.dropToken(tok)
			continue
		}
		if ans.status < 200 || ans.status > 299 {
			return ans.header, decodeError(ans.status, ans.header, ans.body)
		}
		if ans.readErr != nil {
			if errors.Is(ans.readErr, ErrResponseTooLarge) {
				return ans.header, ans.readErr
			}
			return ans.header, transportError(ctx, ans.readErr)
		}
		if out != nil {
			if err := json.Unmarshal(ans.body, out); err != nil {
				return ans.header, fmt.Errorf("decode %d response: %w", ans.status, err)
			}
		}
		return ans.header, nil
	}
}

// answer is a response whose body has been read (up to the cap) and closed.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	readErr error // reading the body failed or it exceeded the cap
}

// roundTrip sends req and reads at most c.maxBody bytes of the body; the
// body is always drained (a bounded amount) and closed. The error is only
// for a failed round trip; a failed body read is in answer.readErr.
func (c *Client) roundTrip(req *http.Request) (answer, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	defer func() { _, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit)) }()
	data, readErr := readCapped(resp.Body, c.maxBody)
	return answer{status: resp.StatusCode, header: resp.Header, body: data, readErr: readErr}, nil
}

func (c *Client) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "apptconfirm-smscx/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// readCapped reads at most limit bytes of body. A body longer than limit
// gives ErrResponseTooLarge along with the first limit bytes.
func readCapped(body io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return data, err
	}
	if int64(len(data)) > limit {
		return data[:limit], fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return data, nil
}

// accessToken returns a cached OAuth2 token or fetches one. Concurrent
// callers share a single fetch; each waiter may give up on its own context.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	if c.token != "" && (c.tokenExpiry.IsZero() || c.now().Before(c.tokenExpiry)) {
		tok := c.token
		c.mu.Unlock()
		return tok, nil
	}
	call := c.inflight
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		c.inflight = call
		// Detached from ctx: other callers may be waiting on this fetch too.
		go c.fetchToken(context.WithoutCancel(ctx), call)
	}
	c.mu.Unlock()

	select {
	case <-call.done:
		return call.token, call.err
	case <-ctx.Done():
		return "", fmt.Errorf("token: %w", ctx.Err())
	}
}

// dropToken forgets tok if it is still the cached token (another goroutine
// may already have replaced it).
func (c *Client) dropToken(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
		c.tokenExpiry = time.Time{}
	}
	c.mu.Unlock()
}

// tokenResponse is the body of a successful POST /oauth/token.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	TokenType   string `json:"token_type"`
}

func (c *Client) fetchToken(ctx context.Context, call *tokenCall) {
	ctx, cancel := context.WithTimeout(ctx, tokenFetchTimeout)
	defer cancel()
	start := c.now()
	tok, expiresIn, err := c.requestToken(ctx)

	c.mu.Lock()
	c.inflight = nil
	if err == nil {
		c.token = tok
		c.tokenExpiry = tokenExpiry(start, expiresIn)
	}
	c.mu.Unlock()

	call.token, call.err = tok, err
	close(call.done)
}

// tokenExpiry is when a token obtained at start with the given lifetime
// should be replaced: 60 s or 10 % of its lifetime (whichever is smaller)
// before it expires. A lifetime of zero or less means unknown: keep the token
// until the API rejects it.
func tokenExpiry(start time.Time, expiresIn int64) time.Time {
	if expiresIn <= 0 {
		return time.Time{}
	}
	life := time.Duration(expiresIn) * time.Second
	margin := min(time.Minute, life/10)
	return start.Add(life - margin)
}

func (c *Client) requestToken(ctx context.Context) (string, int64, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/oauth/token",
		strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("token: build request: %w", err)
	}
	req.SetBasicAuth(c.clientID, c.clientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "apptconfirm-smscx/1")
	ans, err := c.roundTrip(req)
	if err != nil {
		return "", 0, fmt.Errorf("token: %w", transportError(ctx, err))
	}
	if ans.status != http.StatusOK {
		return "", 0, fmt.Errorf("token: %w", decodeError(ans.status, ans.header, ans.body))
	}
	if readErr := ans.readErr; readErr != nil {
		if !errors.Is(readErr, ErrResponseTooLarge) {
			readErr = transportError(ctx, readErr)
		}
		return "", 0, fmt.Errorf("token: %w", readErr)
	}
	var tr tokenResponse
	if err := json.Unmarshal(ans.body, &tr); err != nil {
		return "", 0, fmt.Errorf("token: decode response: %w", err)
	}
	if tr.AccessToken == "" {
		return "", 0, errors.New("token: response has no access_token")
	}
	return tr.AccessToken, tr.ExpiresIn, nil
}
