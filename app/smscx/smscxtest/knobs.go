package smscxtest

import (
	"time"
)

// SetLatency delays every answer by d (0 for none).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// RateLimitNext makes the next n API calls answer 429 rate_limit with
// X-Rate-Limit-Reset set to reset (Unix seconds). n < 0 means every call
// until ClearFaults.
func (s *Server) RateLimitNext(n int, reset time.Time) {
	s.mu.Lock()
	s.rateLimitN, s.rateLimitReset = n, reset
	s.mu.Unlock()
}

// ServerErrorNext makes the next n API calls answer 500 server_error. n < 0
// means every call until ClearFaults.
func (s *Server) ServerErrorNext(n int) {
	s.mu.Lock()
	s.serverErrorN = n
	s.mu.Unlock()
}

// TimeoutNext makes the next n API calls hang, unanswered, until the client
// gives up (or the Server is closed). n < 0 means every call until
// ClearFaults.
func (s *Server) TimeoutNext(n int) {
	s.mu.Lock()
	s.timeoutN = n
	s.mu.Unlock()
}

// DropNext makes the next n successful sends be processed (recorded,
// billed, counted, reported) and then answered by closing the connection
// without a response — the crash-after-accept case a retry with the same
// idempotencyId must survive. n < 0 means every send until ClearFaults.
func (s *Server) DropNext(n int) {
	s.mu.Lock()
	s.dropN = n
	s.mu.Unlock()
}

// SetInsufficientCredit makes every send fail with 400 insufficient_credit
// (1113) while on. Sends also fail that way when their cost exceeds the
// balance.
func (s *Server) SetInsufficientCredit(on bool) {
	s.mu.Lock()
	s.insufficientCredit = on
	s.mu.Unlock()
}

// ClearFaults switches off latency, the 429/500/timeout/drop counters and
// insufficient credit. Coverage, delivery failures and opt-outs stay.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.latency = 0
	s.rateLimitN, s.serverErrorN, s.timeoutN, s.dropN = 0, 0, 0, 0
	s.insufficientCredit = false
	s.mu.Unlock()
}

// AddNoCoverage marks numbers starting with prefix (for example "+999") as
// not covered: 403/1119 when every number of a send lacks coverage,
// status "NO COVERAGE" (cost 0) per number otherwise.
func (s *Server) AddNoCoverage(prefix string) {
	s.mu.Lock()
	s.noCoverage = append(s.noCoverage, prefix)
	s.mu.Unlock()
}

// FailDeliveryTo makes accepted messages to numbers starting with prefix end
// FAILED with errorCode (non-zero) instead of DELIVERED.
func (s *Server) FailDeliveryTo(prefix string, errorCode int) {
	if errorCode == 0 {
		errorCode = 1
	}
	s.mu.Lock()
	s.failDelivery = append(s.failDelivery, prefixCode{prefix, errorCode})
	s.mu.Unlock()
}

// AddOptout puts phone on the fake's opt-out list (as an admin would):
// later sends to it are REJECTED with cost 0. No webhook is sent; see
// EmitOptout for the recipient-clicked case.
func (s *Server) AddOptout(phone string) {
	s.mu.Lock()
	s.optouts[phone] = true
	s.mu.Unlock()
}

// OptedOut reports whether phone is on the opt-out list.
func (s *Server) OptedOut(phone string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.optouts[phone]
}

// ExpireTokens revokes every OAuth2 token issued so far; calls using one get
// 401 invalid_api_key.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// SetAutoDLR switches automatic delivery reports for new sends on or off.
func (s *Server) SetAutoDLR(on bool) {
	s.mu.Lock()
	s.autoDLR = on
	s.mu.Unlock()
}

// SetDLRDelay sets the batching delay of delivery reports for new reports
// (0 for none).
func (s *Server) SetDLRDelay(d time.Duration) {
	s.mu.Lock()
	s.dlrDelay = max(d, 0)
	s.mu.Unlock()
}

// SetDLRCallbackURL sets the dashboard delivery-report URL used by sends
// without a dlrCallbackUrl.
func (s *Server) SetDLRCallbackURL(u string) {
	s.mu.Lock()
	s.dlrURL = u
	s.mu.Unlock()
}

// SetCallbackURL sets the URL the emitters post to.
func (s *Server) SetCallbackURL(u string) {
	s.mu.Lock()
	s.callbackURL = u
	s.mu.Unlock()
}

// SetBalance sets the account credit.
func (s *Server) SetBalance(v float64) {
	s.mu.Lock()
	s.balanceMicros = toMicros(v)
	s.mu.Unlock()
}

// Balance returns the account credit.
func (s *Server) Balance() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fromMicros(s.balanceMicros)
}

// Send is one recipient of a real (not replayed) successful POST /sms.
type Send struct {
	MsgID      string
	CampaignID string
	To         string
	From       string
	// Text is the text as submitted; SentText has the placeholders
	// replaced.
	Text           string
	SentText       string
	IdempotencyID  string
	TrackData      string
	DLRCallbackURL string
	Parts          int
	Cost           float64
	// Status is the status in the send response (ACCEPTED, SCHEDULED,
	// REJECTED or NO COVERAGE).
	Status    string
	CreatedAt time.Time
}

// Sends returns every recipient of every real send, in order.
func (s *Server) Sends() []Send {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Send, len(s.msgs))
	for i, m := range s.msgs {
		c := m.camp
		out[i] = Send{
			MsgID:          m.id,
			CampaignID:     c.id,
			To:             m.to,
			From:           c.from,
			Text:           c.text,
			SentText:       c.finalText,
			IdempotencyID:  c.idempotencyID,
			TrackData:      c.trackData,
			DLRCallbackURL: c.dlrURL,
			Parts:          c.analysis.Parts,
			Cost:           fromMicros(m.cost),
			Status:         m.initial,
			CreatedAt:      c.createdAt,
		}
	}
	return out
}

// SendCount returns how many real sends (POST /sms answered by executing
// it, not by a replay) carried idempotencyID. Thanks to idempotency it is 0
// or 1.
func (s *Server) SendCount(idempotencyID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.idem[idempotencyID]; ok {
		return e.count
	}
	return 0
}

// Message is the current state of one sent message.
type Message struct {
	MsgID      string
	CampaignID string
	To         string
	Status     string
	// ErrorCode is 0 when null.
	ErrorCode int
	// UpdatedAt is the time of the last status change; zero if none.
	UpdatedAt time.Time
}

// Messages returns the current state of every message, in send order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	for i, m := range s.msgs {
		out[i] = messageOf(m)
	}
	return out
}

// Lookup returns the current state of one message.
func (s *Server) Lookup(msgID string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[msgID]
	if !ok {
		return Message{}, false
	}
	return messageOf(m), true
}

func messageOf(m *message) Message {
	return Message{
		MsgID:      m.id,
		CampaignID: m.camp.id,
		To:         m.to,
		Status:     m.status,
		ErrorCode:  m.errorCode,
		UpdatedAt:  m.updatedAt,
	}
}

// countryPrefixes maps E.164 country codes to ISO 3166 alpha-2 for the
// countries the fake knows; others report "XX".
var countryPrefixes = map[string]string{
	"1": "US", "7": "RU", "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "32": "BE",
	"33": "FR", "34": "ES", "36": "HU", "39": "IT", "40": "RO", "41": "CH", "43": "AT",
	"44": "GB", "45": "DK", "46": "SE", "47": "NO", "48": "PL", "49": "DE", "51": "PE",
	"52": "MX", "54": "AR", "55": "BR", "56": "CL", "57": "CO", "61": "AU", "62": "ID",
	"63": "PH", "64": "NZ", "65": "SG", "66": "TH", "81": "JP", "82": "KR", "84": "VN",
	"86": "CN", "90": "TR", "91": "IN", "92": "PK", "234": "NG", "254": "KE",
	"351": "PT", "352": "LU", "353": "IE", "354": "IS", "356": "MT", "357": "CY",
	"358": "FI", "359": "BG", "370": "LT", "371": "LV", "372": "EE", "385": "HR",
	"386": "SI", "420": "CZ", "421": "SK", "971": "AE", "972": "IL",
}

// countryOf returns the ISO country of an E.164 number, or "XX".
func countryOf(n string) string {
	if len(n) < 2 || n[0] != '+' {
		return "XX"
	}
	for l := 3; l >= 1; l-- {
		if len(n) > l {
			if c, ok := countryPrefixes[n[1:1+l]]; ok {
				return c
			}
		}
	}
	return "XX"
}
