package smscx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Message statuses, as in send responses, reports and dlr_update webhooks.
// Note the space in StatusNoCoverage.
const (
	StatusAccepted   = "ACCEPTED"
	StatusSent       = "SENT"
	StatusDelivered  = "DELIVERED"
	StatusFailed     = "FAILED"
	StatusScheduled  = "SCHEDULED"
	StatusRejected   = "REJECTED"
	StatusNoCoverage = "NO COVERAGE"
)

// IsFinalStatus reports whether status is a final delivery outcome
// (DELIVERED or FAILED) or a send-time refusal that will never change
// (REJECTED, NO COVERAGE).
func IsFinalStatus(status string) bool {
	switch status {
	case StatusDelivered, StatusFailed, StatusRejected, StatusNoCoverage:
		return true
	}
	return false
}

// SendRequest is the body of POST /sms. Empty optional fields are omitted.
type SendRequest struct {
	// To holds E.164 numbers (max 25,000).
	To []string
	// From is the sender id, 3–15 characters.
	From string
	// Text may contain SMS.CX placeholders such as {{optoutLink}}.
	Text string
	// IdempotencyID is a UUID (v1–v5); a retry with the same id is neither
	// executed nor billed twice.
	IdempotencyID string
	// TrackData is a UUID echoed in the response and every webhook; SMS.CX
	// silently drops a value that is not a UUID.
	TrackData string
	// DLRCallbackURL receives the dlr_update webhooks of this send.
	DLRCallbackURL string
	// AllowInvalid skips invalid numbers (listed in Info.Invalid) instead of
	// failing the whole request with 1207/1210.
	AllowInvalid bool
	// ScheduledAt, when not zero, schedules the send (sent as UTC).
	ScheduledAt time.Time
}

// sendBody is the wire form of SendRequest.
type sendBody struct {
	To             []string `json:"to"`
	From           string   `json:"from"`
	Text           string   `json:"text"`
	IdempotencyID  string   `json:"idempotencyId,omitempty"`
	TrackData      string   `json:"trackData,omitempty"`
	DLRCallbackURL string   `json:"dlrCallbackUrl,omitempty"`
	AllowInvalid   bool     `json:"allowInvalid,omitempty"`
	ScheduledDate  string   `json:"scheduledDate,omitempty"`
}

// TextAnalysis is how SMS.CX measured the text.
type TextAnalysis struct {
	Length  int  `json:"length"`
	Unicode bool `json:"unicode"`
	Parts   int  `json:"parts"`
}

// Info is the summary of a send response. Datetimes are kept as the wire
// strings (see ParseTime) so a surprising format never fails a send that
// SMS.CX already accepted.
type Info struct {
	CampaignID            string         `json:"campaignId"`
	TotalPhoneNumbers     int            `json:"totalPhoneNumbers"`
	TotalValid            int            `json:"totalValid"`
	TotalInvalid          int            `json:"totalInvalid"`
	TotalCost             float64        `json:"totalCost"`
	TotalParts            int            `json:"totalParts"`
	DLRCallbackURL        string         `json:"dlrCallbackUrl"`
	PhoneNumbersByCountry map[string]int `json:"phoneNumbersByCountry"`
	Scheduled             bool           `json:"scheduled"`
	TotalInQuietHours     int            `json:"totalInQuietHours"`
	Invalid               []string       `json:"invalid"`
}

// Message is one destination of a send response (data[]).
type Message struct {
	MsgID        string        `json:"msgId"`
	Status       string        `json:"status"`
	StatusCode   int           `json:"statusCode"`
	ErrorCode    *int          `json:"errorCode"`
	CreatedAt    string        `json:"createdAt"`
	InQuietHours bool          `json:"inQuietHours"`
	ScheduledAt  string        `json:"scheduledAt"`
	Cost         float64       `json:"cost"`
	To           string        `json:"to"`
	CountryISO   string        `json:"countryIso"`
	From         string        `json:"from"`
	Text         string        `json:"text"`
	Parts        int           `json:"parts"`
	TextAnalysis *TextAnalysis `json:"textAnalysis"`
	TrackData    string        `json:"trackData"`
}

// SendResponse is the answer to POST /sms.
type SendResponse struct {
	Info Info      `json:"info"`
	Data []Message `json:"data"`
	// IdempotencyID is the X-Idempotency-Id response header.
	IdempotencyID string `json:"-"`
	// RequestID is the X-Request-Id response header.
	RequestID string `json:"-"`
}

// Send sends one SMS to every number of req.To (POST /sms).
func (c *Client) Send(ctx context.Context, req SendRequest) (*SendResponse, error) {
	body := sendBody{
		To:             req.To,
		From:           req.From,
		Text:           req.Text,
		IdempotencyID:  req.IdempotencyID,
		TrackData:      req.TrackData,
		DLRCallbackURL: req.DLRCallbackURL,
		AllowInvalid:   req.AllowInvalid,
	}
	if !req.ScheduledAt.IsZero() {
		body.ScheduledDate = FormatTime(req.ScheduledAt)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("smscx: send: encode request: %w", err)
	}
	var out SendResponse
	h, err := c.do(ctx, http.MethodPost, "/sms", data, &out)
	if err != nil {
		return nil, fmt.Errorf("smscx: send: %w", err)
	}
	out.IdempotencyID = h.Get("X-Idempotency-Id")
	out.RequestID = h.Get("X-Request-Id")
	return &out, nil
}

// Report is one message as GET /reports/single/{msgId} returns it.
type Report struct {
	MsgID        string        `json:"msgId"`
	Status       string        `json:"status"`
	StatusCode   int           `json:"statusCode"`
	ErrorCode    *int          `json:"errorCode"`
	InQuietHours bool          `json:"inQuietHours"`
	CreatedAt    string        `json:"createdAt"`
	UpdatedAt    string        `json:"updatedAt"`
	ScheduledAt  string        `json:"scheduledAt"`
	Cost         float64       `json:"cost"`
	To           string        `json:"to"`
	CountryISO   string        `json:"countryIso"`
	From         string        `json:"from"`
	Text         string        `json:"text"`
	Source       string        `json:"source"`
	Channel      string        `json:"channel"`
	TextAnalysis *TextAnalysis `json:"textAnalysis"`
}

// Report returns the current state of one message.
func (c *Client) Report(ctx context.Context, msgID string) (*Report, error) {
	var out struct {
		Data *Report `json:"data"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/reports/single/"+url.PathEscape(msgID), nil, &out); err != nil {
		return nil, fmt.Errorf("smscx: report: %w", err)
	}
	if out.Data == nil {
		return nil, errors.New("smscx: report: response has no data")
	}
	return out.Data, nil
}

// Balance is the account balance.
type Balance struct {
	Balance  float64 `json:"balance"`
	Currency string  `json:"currency"`
	Billing  string  `json:"billing"`
}

// Balance returns the account balance (GET /account/balance).
func (c *Client) Balance(ctx context.Context) (*Balance, error) {
	var out Balance
	if _, err := c.do(ctx, http.MethodGet, "/account/balance", nil, &out); err != nil {
		return nil, fmt.Errorf("smscx: balance: %w", err)
	}
	return &out, nil
}
