package smscxtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"apptconfirm/app/smstext"
)

// Message statuses.
const (
	StatusAccepted   = "ACCEPTED"
	StatusSent       = "SENT"
	StatusDelivered  = "DELIVERED"
	StatusFailed     = "FAILED"
	StatusScheduled  = "SCHEDULED"
	StatusRejected   = "REJECTED"
	StatusNoCoverage = "NO COVERAGE"
)

// statusCodes is the fake's invented numeric status mapping.
var statusCodes = map[string]int{
	StatusAccepted:   1,
	StatusScheduled:  2,
	StatusSent:       3,
	StatusDelivered:  4,
	StatusFailed:     5,
	StatusRejected:   6,
	StatusNoCoverage: 7,
}

// timeLayout is the SMS.CX datetime format.
const timeLayout = "2006-01-02 15:04:05"

// maxNumbers is the most numbers one POST /sms may carry (error 1103).
const maxNumbers = 25000

// campaign is one real send (one POST /sms). Its fields never change after
// creation, which is what lets a replay re-render the original body.
type campaign struct {
	id            string
	from          string
	text          string // as submitted
	finalText     string // after placeholder replacement
	trackData     string
	idempotencyID string
	dlrURL        string
	createdAt     time.Time
	scheduledAt   time.Time
	analysis      smstext.Analysis
	shortResponse bool
	noTextDetails bool
	allowInvalid  bool
	totalNumbers  int
	invalid       []string
	msgs          []*message
	totalCost     int64 // micros
	totalParts    int
}

// message is one recipient of a campaign.
type message struct {
	id      string
	camp    *campaign
	to      string
	country string
	initial string // status in the send response
	cost    int64  // micros

	// Guarded by Server.mu.
	status    string
	errorCode int // 0: null
	updatedAt time.Time
}

// idemEntry is the state of one idempotency id: in flight while camp is nil
// (done is closed when the owner finishes), then camp is the original send.
// A failed owner removes the entry.
type idemEntry struct {
	done  chan struct{}
	camp  *campaign
	count int
}

// smsRequest is the body of POST /sms.
type smsRequest struct {
	To              json.RawMessage `json:"to"`
	From            string          `json:"from"`
	Text            string          `json:"text"`
	CountryISO      string          `json:"countryIso"`
	AllowInvalid    bool            `json:"allowInvalid"`
	ScheduledDate   string          `json:"scheduledDate"`
	IsUTC           *bool           `json:"isUtc"`
	DLRCallbackURL  string          `json:"dlrCallbackUrl"`
	TrackData       string          `json:"trackData"`
	ShortResponse   bool            `json:"shortResponse"`
	NoTextDetails   bool            `json:"noTextDetails"`
	ShowTimezone    bool            `json:"showTimezone"`
	IdempotencyID   string          `json:"idempotencyId"`
	Transliteration json.RawMessage `json:"transliteration"`
}

// apiError is a validation failure to answer with.
type apiError struct {
	status  int
	typ     string
	code    int
	msg     string
	invalid []string
}

func paramError(code int, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_param", code: code, msg: msg}
}

// fieldCodes maps a body field with a wrong JSON type to its error code.
var fieldCodes = map[string]int{
	"to":              1104,
	"from":            1105,
	"text":            1107,
	"scheduledDate":   1108,
	"dlrCallbackUrl":  1109,
	"idempotencyId":   1111,
	"transliteration": 1135,
}

var alphabets = map[string]bool{
	"NONE": true, "NON_GSM": true, "POLISH": true, "TURKISH": true, "GREEK": true,
	"ROMANIAN": true, "RUSSIAN_CYRILLIC": true, "BULGARIAN_CYRILLIC": true,
	"UKRAINIAN_CYRILLIC": true, "BELARUSIAN_CYRILLIC": true, "SERBIAN_CYRILLIC": true,
	"MACEDONIAN_CYRILLIC": true,
}

// handleSend is POST /sms.
func (s *Server) handleSend(x *exchange) {
	var req smsRequest
	if err := json.Unmarshal(x.body, &req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if code, ok := fieldCodes[te.Field]; ok {
				s.writeAPIError(x, paramError(code, fmt.Sprintf("The %s parameter has the wrong type", te.Field)))
				return
			}
		}
		s.writeError(x, http.StatusBadRequest, "invalid_body", CodeInvalidBody, "The request body is not valid JSON", nil)
		return
	}
	if req.IdempotencyID != "" && !isUUID(req.IdempotencyID, true) {
		s.writeAPIError(x, paramError(1111, "The idempotencyId must be a valid UUID v1-v5"))
		return
	}

	var entry *idemEntry
	if req.IdempotencyID != "" {
		x.w.Header().Set("X-Idempotency-Id", req.IdempotencyID)
		var replay *campaign
		entry, replay = s.claim(x, req.IdempotencyID)
		if replay != nil {
			s.mu.Lock()
			x.rec.replay = true
			s.mu.Unlock()
			s.answerSend(x, replay)
			return
		}
		if entry == nil {
			return // the client went away while waiting
		}
	}

	camp, aerr := s.send(&req)
	if entry != nil {
		s.mu.Lock()
		if camp != nil {
			entry.camp = camp
			entry.count++
		} else {
			delete(s.idem, req.IdempotencyID)
		}
		close(entry.done)
		entry.done = nil // waiters hold their own reference; keep entries small
		s.mu.Unlock()
	}
	if aerr != nil {
		s.writeAPIError(x, aerr)
		return
	}

	s.mu.Lock()
	drop := take(&s.dropN)
	if drop {
		x.rec.dropped = true
	}
	s.mu.Unlock()
	if drop {
		dropConnection(x.w)
		return
	}
	s.answerSend(x, camp)
}

// claim takes the idempotency id for this request. It returns the original
// campaign for a replay, or the entry this request now owns. It returns
// (nil, nil) if the request's context ended while another request with the
// same id was in flight.
func (s *Server) claim(x *exchange, id string) (*idemEntry, *campaign) {
	for {
		s.mu.Lock()
		e, ok := s.idem[id]
		if !ok {
			e = &idemEntry{done: make(chan struct{})}
			s.idem[id] = e
			s.mu.Unlock()
			return e, nil
		}
		if e.camp != nil {
			camp := e.camp
			s.mu.Unlock()
			return nil, camp
		}
		done := e.done
		s.mu.Unlock()
		select {
		case <-done:
		case <-x.r.Context().Done():
			return nil, nil
		}
		// Either the owner succeeded (the next round replays) or it failed
		// and released the id (the next round owns it).
	}
}

// dropConnection closes the client connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func (s *Server) writeAPIError(x *exchange, e *apiError) {
	s.writeError(x, e.status, e.typ, e.code, e.msg, e.invalid)
}

// answerSend writes the 200 answer of camp (the original or a replay).
func (s *Server) answerSend(x *exchange, camp *campaign) {
	s.writeJSON(x, http.StatusOK, s.renderSend(camp))
}

// parseTo accepts a string or an array of strings.
func parseTo(raw json.RawMessage) ([]string, *apiError) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return nil, paramError(1104, "The to parameter is required")
	}
	var list []string
	switch raw[0] {
	case '"':
		var one string
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, paramError(1104, "The to parameter must be a string or an array of strings")
		}
		if one != "" {
			list = []string{one}
		}
	case '[':
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, paramError(1104, "The to parameter must be a string or an array of strings")
		}
	default:
		return nil, paramError(1104, "The to parameter must be a string or an array of strings")
	}
	if len(list) == 0 {
		return nil, paramError(1104, "The to parameter is required")
	}
	return list, nil
}

// ValidNumber reports whether the fake accepts phone: "+" then 8 to 15
// digits.
func ValidNumber(phone string) bool {
	if len(phone) < 9 || len(phone) > 16 || phone[0] != '+' {
		return false
	}
	for i := 1; i < len(phone); i++ {
		if phone[i] < '0' || phone[i] > '9' {
			return false
		}
	}
	return true
}

func validCallbackURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// validate checks the request body; it returns the recipients.
func (s *Server) validate(req *smsRequest, now time.Time) ([]string, time.Time, *apiError) {
	to, aerr := parseTo(req.To)
	if aerr != nil {
		return nil, time.Time{}, aerr
	}
	if len(to) > maxNumbers {
		return nil, time.Time{}, paramError(1103, "Too many phone numbers (max 25000)")
	}
	if req.From == "" {
		return nil, time.Time{}, paramError(1105, "The from parameter is required")
	}
	if n := utf8.RuneCountInString(req.From); n < 3 || n > 15 {
		return nil, time.Time{}, paramError(1106, "The from parameter must be between 3 and 15 characters")
	}
	if req.Text == "" {
		return nil, time.Time{}, paramError(1107, "The text parameter is required")
	}
	var scheduled time.Time
	if req.ScheduledDate != "" {
		t, err := time.Parse(timeLayout, req.ScheduledDate)
		if err != nil {
			return nil, time.Time{}, paramError(1108, "The scheduledDate must be in the format YYYY-MM-DD HH:MM:SS")
		}
		if !t.After(now) {
			return nil, time.Time{}, paramError(1116, "The scheduledDate is in the past")
		}
		scheduled = t
	}
	if req.DLRCallbackURL != "" && !validCallbackURL(req.DLRCallbackURL) {
		return nil, time.Time{}, paramError(1109, "The dlrCallbackUrl must be a valid URL")
	}
	if aerr := validateTransliteration(req.Transliteration); aerr != nil {
		return nil, time.Time{}, aerr
	}
	return to, scheduled, nil
}

func validateTransliteration(raw json.RawMessage) *apiError {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var t map[string]json.RawMessage
	if err := json.Unmarshal(raw, &t); err != nil {
		return paramError(1135, "The transliteration parameter must be an object")
	}
	if a, ok := t["alphabet"]; ok {
		var name string
		if json.Unmarshal(a, &name) != nil || !alphabets[name] {
			return paramError(1110, "The transliteration alphabet is not valid")
		}
	}
	if r, ok := t["removeEmojis"]; ok {
		var b bool
		if json.Unmarshal(r, &b) != nil {
			return paramError(1503, "The removeEmojis parameter must be a boolean")
		}
	}
	return nil
}

// send validates and performs one real send.
func (s *Server) send(req *smsRequest) (*campaign, *apiError) {
	now := s.now().UTC().Truncate(time.Second)
	to, scheduled, aerr := s.validate(req, now)
	if aerr != nil {
		return nil, aerr
	}
	var valid, invalid []string
	for _, n := range to {
		if ValidNumber(n) {
			valid = append(valid, n)
		} else {
			invalid = append(invalid, n)
		}
	}
	if len(invalid) > 0 && (!req.AllowInvalid || len(valid) == 0) {
		if len(invalid) == 1 {
			return nil, &apiError{http.StatusBadRequest, "invalid_param", 1207, "The phone number is not valid", invalid}
		}
		return nil, &apiError{http.StatusBadRequest, "invalid_param", 1210, "The phone numbers are invalid", invalid}
	}

	c := &campaign{
		id:            newUUID(),
		from:          req.From,
		text:          req.Text,
		idempotencyID: req.IdempotencyID,
		dlrURL:        req.DLRCallbackURL,
		createdAt:     now,
		scheduledAt:   scheduled,
		shortResponse: req.ShortResponse,
		noTextDetails: req.NoTextDetails,
		allowInvalid:  req.AllowInvalid,
		totalNumbers:  len(to),
		invalid:       invalid,
	}
	if isUUID(req.TrackData, true) {
		c.trackData = req.TrackData
	}
	c.finalText = replacePlaceholders(req.Text, c.id)
	c.analysis = smstext.Analyze(c.finalText)

	s.mu.Lock()
	defer s.mu.Unlock()
	if c.dlrURL == "" {
		c.dlrURL = s.dlrURL
	}
	c.msgs = make([]*message, len(valid))
	for i, n := range valid {
		m := &message{id: newUUID(), camp: c, to: n, country: countryOf(n), initial: StatusAccepted}
		switch {
		case s.optouts[n]:
			m.initial = StatusRejected
		case hasPrefix(s.noCoverage, n):
			m.initial = StatusNoCoverage
		default:
			if !scheduled.IsZero() {
				m.initial = StatusScheduled
			}
			m.cost = int64(c.analysis.Parts) * s.priceMicros
			c.totalCost += m.cost
			c.totalParts += c.analysis.Parts
		}
		m.status = m.initial
		c.msgs[i] = m
	}
	if allNoCoverage(c.msgs) {
		return nil, &apiError{
			status: http.StatusForbidden, typ: "no_coverage", code: 1119,
			msg: "No coverage for the destination",
		}
	}
	if s.insufficientCredit || c.totalCost > s.balanceMicros {
		return nil, &apiError{
			status: http.StatusBadRequest, typ: "insufficient_credit", code: 1113,
			msg: "Insufficient credit",
		}
	}
	s.balanceMicros -= c.totalCost
	for _, m := range c.msgs {
		s.msgs = append(s.msgs, m)
		s.byID[m.id] = m
	}
	if s.autoDLR && scheduled.IsZero() && !s.closed {
		due := time.Now().Add(s.dlrDelay)
		for _, m := range c.msgs {
			if m.initial == StatusAccepted {
				s.enqueueLocked(c.dlrURL, &dlrItem{msg: m, status: StatusSent}, due)
			}
		}
	}
	return c, nil
}

func allNoCoverage(msgs []*message) bool {
	for _, m := range msgs {
		if m.initial != StatusNoCoverage {
			return false
		}
	}
	return len(msgs) > 0
}

func hasPrefix(prefixes []string, n string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// replacePlaceholders substitutes the SMS.CX link placeholders with fake
// URLs derived from the campaign id.
func replacePlaceholders(text, campaignID string) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(text[:i])
		name := text[i+2 : i+j]
		switch {
		case name == "optoutLink":
			b.WriteString("https://en.ax/o/" + campaignID[:5])
		case strings.HasPrefix(name, "shortlink:") && len(name) > len("shortlink:"):
			b.WriteString("https://en.ax/" + name[len("shortlink:"):] + "/" + campaignID[:3])
		case strings.HasPrefix(name, "attachement:") && len(name) > len("attachement:"):
			b.WriteString("https://en.ax/" + name[len("attachement:"):] + "/" + campaignID[:3])
		default:
			b.WriteString(text[i : i+j+2])
		}
		text = text[i+j+2:]
	}
	b.WriteString(text)
	return b.String()
}

type wireSendResponse struct {
	Info wireInfo  `json:"info"`
	Data []wireSMS `json:"data"`
}

type wireInfo struct {
	CampaignID            string         `json:"campaignId"`
	TotalPhoneNumbers     int            `json:"totalPhoneNumbers"`
	TotalValid            int            `json:"totalValid"`
	TotalInvalid          int            `json:"totalInvalid"`
	TotalCost             float64        `json:"totalCost"`
	TotalParts            int            `json:"totalParts"`
	DLRCallbackURL        *string        `json:"dlrCallbackUrl"`
	PhoneNumbersByCountry map[string]int `json:"phoneNumbersByCountry"`
	Scheduled             bool           `json:"scheduled"`
	Invalid               []string       `json:"invalid,omitempty"`
}

type wireTextAnalysis struct {
	Length  int  `json:"length"`
	Unicode bool `json:"unicode"`
	Parts   int  `json:"parts"`
}

type wireSMS struct {
	MsgID        string            `json:"msgId"`
	Status       string            `json:"status"`
	StatusCode   int               `json:"statusCode"`
	ErrorCode    *int              `json:"errorCode"`
	CreatedAt    string            `json:"createdAt"`
	InQuietHours bool              `json:"inQuietHours"`
	Cost         float64           `json:"cost"`
	To           string            `json:"to"`
	CountryISO   string            `json:"countryIso"`
	From         string            `json:"from"`
	Text         string            `json:"text,omitempty"`
	Parts        int               `json:"parts"`
	TextAnalysis *wireTextAnalysis `json:"textAnalysis,omitempty"`
	TrackData    string            `json:"trackData,omitempty"`
	ScheduledAt  string            `json:"scheduledAt,omitempty"`
}

// renderSend renders the 200 body of a send. It reads only fields that never
// change, so the same campaign always renders the same bytes.
func (s *Server) renderSend(c *campaign) []byte {
	info := wireInfo{
		CampaignID:            c.id,
		TotalPhoneNumbers:     c.totalNumbers,
		TotalValid:            len(c.msgs),
		TotalInvalid:          len(c.invalid),
		TotalCost:             fromMicros(c.totalCost),
		TotalParts:            c.totalParts,
		PhoneNumbersByCountry: make(map[string]int),
		Scheduled:             !c.scheduledAt.IsZero(),
	}
	if c.dlrURL != "" {
		u := c.dlrURL
		info.DLRCallbackURL = &u
	}
	if c.allowInvalid {
		info.Invalid = c.invalid
		if info.Invalid == nil {
			info.Invalid = []string{}
		}
	}
	for _, m := range c.msgs {
		info.PhoneNumbersByCountry[m.country]++
	}
	resp := wireSendResponse{Info: info, Data: []wireSMS{}}
	if !c.shortResponse {
		resp.Data = make([]wireSMS, len(c.msgs))
		created := c.createdAt.Format(timeLayout)
		var scheduled string
		if !c.scheduledAt.IsZero() {
			scheduled = c.scheduledAt.Format(timeLayout)
		}
		for i, m := range c.msgs {
			d := wireSMS{
				MsgID:       m.id,
				Status:      m.initial,
				StatusCode:  statusCodes[m.initial],
				CreatedAt:   created,
				Cost:        fromMicros(m.cost),
				To:          m.to,
				CountryISO:  m.country,
				From:        c.from,
				Parts:       c.analysis.Parts,
				TrackData:   c.trackData,
				ScheduledAt: scheduled,
			}
			if !c.noTextDetails {
				d.Text = c.finalText
				d.TextAnalysis = &wireTextAnalysis{c.analysis.Length, c.analysis.Unicode, c.analysis.Parts}
			}
			resp.Data[i] = d
		}
	}
	body, err := json.Marshal(resp)
	if err != nil {
		panic(fmt.Sprintf("smscxtest: render send: %v", err))
	}
	return body
}

type wireReport struct {
	MsgID        string           `json:"msgId"`
	Status       string           `json:"status"`
	StatusCode   int              `json:"statusCode"`
	ErrorCode    *int             `json:"errorCode"`
	InQuietHours bool             `json:"inQuietHours"`
	CreatedAt    string           `json:"createdAt"`
	UpdatedAt    *string          `json:"updatedAt"`
	Cost         float64          `json:"cost"`
	To           string           `json:"to"`
	CountryISO   string           `json:"countryIso"`
	From         string           `json:"from"`
	Text         string           `json:"text"`
	Source       string           `json:"source"`
	Channel      string           `json:"channel"`
	TextAnalysis wireTextAnalysis `json:"textAnalysis"`
	ScheduledAt  *string          `json:"scheduledAt"`
}

// handleReport is GET /reports/single/{msgId}.
func (s *Server) handleReport(x *exchange) {
	id := strings.TrimPrefix(x.r.URL.Path, "/reports/single/")
	if !isUUID(id, false) {
		s.writeError(x, http.StatusBadRequest, "invalid_param", 1165, "The msgId is not valid", nil)
		return
	}
	s.mu.Lock()
	m, ok := s.byID[strings.ToLower(id)]
	var rep wireReport
	if ok {
		c := m.camp
		rep = wireReport{
			MsgID:        m.id,
			Status:       m.status,
			StatusCode:   statusCodes[m.status],
			CreatedAt:    c.createdAt.Format(timeLayout),
			Cost:         fromMicros(m.cost),
			To:           m.to,
			CountryISO:   m.country,
			From:         c.from,
			Text:         c.finalText,
			Source:       "api",
			Channel:      "sms",
			TextAnalysis: wireTextAnalysis{c.analysis.Length, c.analysis.Unicode, c.analysis.Parts},
		}
		if m.errorCode != 0 {
			code := m.errorCode
			rep.ErrorCode = &code
		}
		if !m.updatedAt.IsZero() {
			u := m.updatedAt.Format(timeLayout)
			rep.UpdatedAt = &u
		}
		if !c.scheduledAt.IsZero() {
			sa := c.scheduledAt.Format(timeLayout)
			rep.ScheduledAt = &sa
		}
	}
	s.mu.Unlock()
	if !ok {
		s.writeError(x, http.StatusNotFound, "not_found", 1160, "Message not found", nil)
		return
	}
	body, _ := json.Marshal(struct {
		Data wireReport `json:"data"`
	}{rep})
	s.writeJSON(x, http.StatusOK, body)
}

// parseForm parses an application/x-www-form-urlencoded body.
func parseForm(body []byte) (url.Values, error) {
	return url.ParseQuery(string(body))
}
