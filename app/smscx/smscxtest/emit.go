package smscxtest

import (
	"context"
	"fmt"
	"strings"
)

// Webhook event names the emitters use.
const (
	EventDLRUpdate           = "dlr_update"
	EventReceiveSMS          = "receive_sms"
	EventNewOptout           = "new_optout"
	EventShortlinkHit        = "shortlink_hit"
	EventShortlinkHitUpdate  = "shortlink_hit_update"
	EventAttachmentHit       = "attachment_hit"
	EventAttachmentHitUpdate = "attachment_hit_update"
)

// emit posts one single-item envelope to the callback URL, once.
func (s *Server) emit(ctx context.Context, event string, item any) error {
	s.mu.Lock()
	target, closed := s.callbackURL, s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("smscxtest: emit %s: %w", event, errClosed)
	}
	if target == "" {
		return fmt.Errorf("smscxtest: emit %s: no callback URL configured", event)
	}
	return s.post(ctx, target, event, envelope(event, []any{item}), 1, 1)
}

type wireReceiveSMS struct {
	MsgID      string  `json:"msgId"`
	From       string  `json:"from"`
	CountryISO string  `json:"countryIso"`
	To         string  `json:"to"`
	Text       string  `json:"text"`
	Cost       float64 `json:"cost"`
	ReceivedAt string  `json:"receivedAt"`
}

// EmitReceiveSMS posts a receive_sms webhook for an inbound SMS from the
// patient's number to the clinic's number, and returns its msgId. It fails
// unless the receiver answers 200; it does not retry.
func (s *Server) EmitReceiveSMS(ctx context.Context, from, to, text string) (string, error) {
	id := newUUID()
	err := s.emit(ctx, EventReceiveSMS, wireReceiveSMS{
		MsgID:      id,
		From:       from,
		CountryISO: countryOf(from),
		To:         to,
		Text:       text,
		Cost:       0,
		ReceivedAt: s.now().UTC().Format(timeLayout),
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

type wireOptout struct {
	HitID       int64   `json:"hitId"`
	OptoutID    string  `json:"optoutId"`
	OptoutURL   string  `json:"optoutUrl"`
	OptoutType  string  `json:"optoutType"`
	CountryISO  string  `json:"countryIso"`
	Datetime    string  `json:"datetime"`
	PhoneNumber string  `json:"phoneNumber"`
	CampaignID  *string `json:"campaignId"`
	GroupID     *string `json:"groupId"`
}

// EmitOptout adds phone to the fake's opt-out list (as a recipient who
// clicked {{optoutLink}}) and posts a new_optout webhook of type "link".
// campaignID may be empty (null in the payload). The opt-out stays even if
// the receiver fails.
func (s *Server) EmitOptout(ctx context.Context, phone, campaignID string) error {
	s.mu.Lock()
	s.optouts[phone] = true
	s.hitSeq++
	hit := s.hitSeq
	s.mu.Unlock()
	return s.emit(ctx, EventNewOptout, wireOptout{
		HitID:       hit,
		OptoutID:    s.optoutLink,
		OptoutURL:   "https://en.ax/o/" + s.optoutLink,
		OptoutType:  "link",
		CountryISO:  countryOf(phone),
		Datetime:    s.now().UTC().Format(timeLayout),
		PhoneNumber: phone,
		CampaignID:  nullable(campaignID),
	})
}

type wireHit struct {
	HitID            int64   `json:"hitId"`
	ShortlinkID      string  `json:"shortlinkId"`
	URL              string  `json:"url"`
	Device           string  `json:"device"`
	Browser          string  `json:"browser"`
	BrowserVersion   string  `json:"browserVersion"`
	OS               string  `json:"os"`
	OSVersion        string  `json:"osVersion"`
	Brand            string  `json:"brand"`
	Model            string  `json:"model"`
	ScreenResolution string  `json:"screenResolution"`
	AcceptLanguage   string  `json:"acceptLanguage"`
	Referrer         *string `json:"referrer"`
	IPAddress        string  `json:"ipAddress"`
	CountryISO       string  `json:"countryIso"`
	City             string  `json:"city"`
	Datetime         string  `json:"datetime"`
	PhoneNumber      string  `json:"phoneNumber,omitempty"`
	CampaignID       *string `json:"campaignId"`
	GroupID          *string `json:"groupId"`
}

// EmitShortlinkHit posts a shortlink_hit webhook (shortlink_hit_update when
// update is true, reusing the hitId of the previous hit of the same link and
// phone) for a click by phone on {{shortlink:shortlinkID}}.
func (s *Server) EmitShortlinkHit(ctx context.Context, phone, campaignID, shortlinkID string, update bool) error {
	event := EventShortlinkHit
	if update {
		event = EventShortlinkHitUpdate
	}
	return s.emitHit(ctx, event, phone, campaignID, shortlinkID, update)
}

// EmitAttachmentHit posts an attachment_hit webhook (attachment_hit_update
// when update is true) for phone opening {{attachement:attachmentID}}. As
// the SMS.CX schema reuses the short-link hit object, the id travels in
// "shortlinkId".
func (s *Server) EmitAttachmentHit(ctx context.Context, phone, campaignID, attachmentID string, update bool) error {
	event := EventAttachmentHit
	if update {
		event = EventAttachmentHitUpdate
	}
	return s.emitHit(ctx, event, phone, campaignID, attachmentID, update)
}

func (s *Server) emitHit(ctx context.Context, event, phone, campaignID, linkID string, update bool) error {
	if linkID == "" {
		return fmt.Errorf("smscxtest: emit %s: empty link id", event)
	}
	key := strings.TrimSuffix(event, "_update") + "\x00" + linkID + "\x00" + phone
	s.mu.Lock()
	hit, seen := s.hitIDs[key]
	if !update || !seen {
		s.hitSeq++
		hit = s.hitSeq
		s.hitIDs[key] = hit
	}
	s.mu.Unlock()
	suffix := "x7Q"
	if len(phone) >= 3 {
		suffix = phone[len(phone)-3:]
	}
	return s.emit(ctx, event, wireHit{
		HitID:            hit,
		ShortlinkID:      linkID,
		URL:              "https://en.ax/" + linkID + "/" + suffix,
		Device:           "mobile",
		Browser:          "Chrome",
		BrowserVersion:   "110.0",
		OS:               "Android",
		OSVersion:        "13",
		Brand:            "Samsung",
		Model:            "Galaxy S8",
		ScreenResolution: "1080x2220",
		AcceptLanguage:   "de-DE",
		IPAddress:        "203.0.113.0",
		CountryISO:       countryOf(phone),
		City:             "Berlin",
		Datetime:         s.now().UTC().Format(timeLayout),
		PhoneNumber:      phone,
		CampaignID:       nullable(campaignID),
	})
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
