package smscx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Webhook event names (the envelope's "event"), smscx-api.md §6.3.
const (
	EventDLRUpdate           = "dlr_update"
	EventReceiveSMS          = "receive_sms"
	EventNewOptout           = "new_optout"
	EventShortlinkHit        = "shortlink_hit"
	EventShortlinkHitUpdate  = "shortlink_hit_update"
	EventAttachmentHit       = "attachment_hit"
	EventAttachmentHitUpdate = "attachment_hit_update"
)

// MaxWebhookItems is the most items SMS.CX puts into one webhook POST.
const MaxWebhookItems = 200

// Opt-out types of a new_optout event.
const (
	OptoutTypeLink  = "link"
	OptoutTypeAdmin = "admin"
)

// Envelope is the body of every SMS.CX webhook: an event name and a batch of
// items whose shape depends on the event.
type Envelope struct {
	Event string            `json:"event"`
	Data  []json.RawMessage `json:"data"`
}

// DecodeEnvelope parses a webhook body. It requires a JSON object with a
// non-empty "event" and a "data" array of objects. Unknown event names are
// not an error (the caller decides).
func DecodeEnvelope(body []byte) (*Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("smscx: webhook: %w", err)
	}
	env.Event = strings.TrimSpace(env.Event)
	if env.Event == "" {
		return nil, errors.New("smscx: webhook: missing event")
	}
	if env.Data == nil {
		return nil, errors.New("smscx: webhook: missing data")
	}
	for i, item := range env.Data {
		if b := bytes.TrimSpace(item); len(b) == 0 || b[0] != '{' {
			return nil, fmt.Errorf("smscx: webhook: data[%d] is not an object", i)
		}
	}
	return &env, nil
}

// DLRUpdate is one item of a dlr_update event (§6.4). Datetime is the wire
// string; see ParseTime. A non-nil ErrorCode means not delivered.
type DLRUpdate struct {
	CampaignID string `json:"campaignId"`
	MsgID      string `json:"msgId"`
	StatusCode int    `json:"statusCode"`
	Status     string `json:"status"`
	ErrorCode  *int   `json:"errorCode"`
	Datetime   string `json:"datetime"`
	TrackData  string `json:"trackData"`
}

// ReceiveSMS is one item of a receive_sms event: an inbound SMS (§6.5).
type ReceiveSMS struct {
	MsgID      string  `json:"msgId"`
	From       string  `json:"from"`
	CountryISO string  `json:"countryIso"`
	To         string  `json:"to"`
	Text       string  `json:"text"`
	Cost       float64 `json:"cost"`
	ReceivedAt string  `json:"receivedAt"`
}

// NewOptout is one item of a new_optout event (§6.6).
type NewOptout struct {
	HitID       int64  `json:"hitId"`
	OptoutID    string `json:"optoutId"`
	OptoutURL   string `json:"optoutUrl"`
	OptoutType  string `json:"optoutType"`
	CountryISO  string `json:"countryIso"`
	Datetime    string `json:"datetime"`
	PhoneNumber string `json:"phoneNumber"`
	CampaignID  string `json:"campaignId"`
	GroupID     string `json:"groupId"`
}

// Hit is one item of a shortlink_hit, shortlink_hit_update, attachment_hit or
// attachment_hit_update event (§6.7, §6.8). Attachment hits reuse the
// short-link schema, so the id may come as shortlinkId or attachmentId; use
// ID.
type Hit struct {
	HitID            int64  `json:"hitId"`
	ShortlinkID      string `json:"shortlinkId"`
	AttachmentID     string `json:"attachmentId"`
	URL              string `json:"url"`
	Device           string `json:"device"`
	Browser          string `json:"browser"`
	BrowserVersion   string `json:"browserVersion"`
	OS               string `json:"os"`
	OSVersion        string `json:"osVersion"`
	Brand            string `json:"brand"`
	Model            string `json:"model"`
	ScreenResolution string `json:"screenResolution"`
	AcceptLanguage   string `json:"acceptLanguage"`
	Referrer         string `json:"referrer"`
	IPAddress        string `json:"ipAddress"`
	CountryISO       string `json:"countryIso"`
	City             string `json:"city"`
	Datetime         string `json:"datetime"`
	PhoneNumber      string `json:"phoneNumber"`
	CampaignID       string `json:"campaignId"`
	GroupID          string `json:"groupId"`
}

// ID returns the short-link or attachment id, whichever field carried it.
func (h Hit) ID() string {
	if h.ShortlinkID != "" {
		return h.ShortlinkID
	}
	return h.AttachmentID
}

// TimeLayout is the SMS.CX datetime format (always UTC).
const TimeLayout = "2006-01-02 15:04:05"

// ParseTime parses an SMS.CX datetime ("YYYY-MM-DD HH:MM:SS", UTC); RFC 3339
// is accepted too. The result is in UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(TimeLayout, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("smscx: parse time %q: want YYYY-MM-DD HH:MM:SS", clean(s))
}

// FormatTime formats t as an SMS.CX datetime in UTC.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}
