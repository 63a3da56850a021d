package webhook

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"apptconfirm/app/smscx"
	"apptconfirm/models"

	json "github.com/go-json-experiment/json/v1"
)

// partitionSalt is hashed with each partition key (shareOf); any value
// does, as long as one pass uses one. Tests change it to vary which
// numbers share a worker.
var partitionSalt uint64

// shareOf is the share of n that key goes to: the same key always goes to
// the same share, in every process. The hash is FNV-1a, its offset basis
// mixed with the salt, then its bits mixed (MurmurHash3's finalizer):
// FNV-1a's low bits follow the last byte, so numbers that differ only in
// their last digit would always go to different shares.
func shareOf(key string, n int) int {
	h := uint64(14695981039346656037) ^ partitionSalt
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return int(h % uint64(n))
}

// partition splits page (already in applyOrder's order) into n shares, each
// in the page's order, so that every event about one phone number lands in
// the same share: a patient's delivery reports, replies, opt-outs and
// clicks then keep the order one processor would give them (but see
// regroupByKey), while the
// shares run side by side. A delivery report names no number, so its
// message's number is looked up (one statement for the page); events whose
// number cannot be told (an unmatched report, a click without a number, a
// type no applier reads a number from) are spread by their own ids, or go
// to the first share when they have none. keys[i][j] is the key of
// shares[i][j]: its number's digits, "#" and its fallback, or "".
func (p *Processor) partition(ctx context.Context, page []models.WebhookEvent, n int) (shares [][]models.WebhookEvent, keys [][]string, err error) {
	pk := make([]partitionKey, len(page))
	var providerIDs, uuids []string
	for i := range page {
		pk[i] = eventKey(&page[i], p.numbers.Loose)
		if pk[i].msgID != "" {
			providerIDs = append(providerIDs, pk[i].msgID)
		}
		if pk[i].trackData != "" {
			uuids = append(uuids, pk[i].trackData)
		}
	}
	if len(providerIDs)+len(uuids) > 0 {
		numbers, err := p.store.MessageNumbers(ctx, providerIDs, uuids)
		if err != nil {
			return nil, nil, fmt.Errorf("webhook: partition: %w", err)
		}
		// A report is matched by SMS.CX's id first, then by ours; one
		// matched by ours may fill in SMS.CX's id, by which later reports
		// of the page then match: those go with it.
		learned := map[string]string{}
		for i := range pk {
			k := &pk[i]
			if to, ok := numbers.ByProviderID[k.msgID]; ok && k.msgID != "" {
				k.number = digits(to)
			} else if to, ok := numbers.ByUUID[k.trackData]; ok && k.trackData != "" {
				k.number = digits(to)
				if k.msgID != "" {
					learned[k.msgID] = k.number
				}
			}
		}
		for i := range pk {
			if k := &pk[i]; k.number == "" && k.msgID != "" {
				k.number = learned[k.msgID]
			}
		}
	}
	shares, keys = make([][]models.WebhookEvent, n), make([][]string, n)
	for i := range page {
		share, key := 0, ""
		switch k := &pk[i]; {
		case k.number != "":
			key = k.number
			share = shareOf(key, n)
		case k.fallback != "":
			key = "#" + k.fallback
			share = shareOf(key, n)
		}
		shares[share] = append(shares[share], page[i])
		keys[share] = append(keys[share], key)
	}
	return shares, keys, nil
}

// partitionKey is what an event says about whom it concerns: a phone
// number, or for a delivery report the ids its message is found by; fallback
// spreads events that name no number.
type partitionKey struct {
	number, msgID, trackData, fallback string
}

// eventKey reads ev's partition key from its raw item, decoded as its
// applier decodes it, the number read as the applier reads it (loose), so
// that a number written two ways still gives one key. An item that cannot
// be decoded has none (its applier will say why).
func eventKey(ev *models.WebhookEvent, loose func(raw, region string) string) partitionKey {
	number := func(raw, region string) string { return digits(loose(raw, region)) }
	raw := []byte(ev.Raw)
	switch ev.Event {
	case smscx.EventDLRUpdate:
		var d struct {
			MsgID     string `json:"msgId"`
			TrackData string `json:"trackData"`
		}
		if json.Unmarshal(raw, &d) != nil {
			return partitionKey{}
		}
		return partitionKey{msgID: lookupID(d.MsgID), trackData: lookupID(d.TrackData), fallback: strings.TrimSpace(d.MsgID)}
	case smscx.EventReceiveSMS:
		var r struct {
			MsgID      string `json:"msgId"`
			From       string `json:"from"`
			CountryISO string `json:"countryIso"`
		}
		if json.Unmarshal(raw, &r) != nil {
			return partitionKey{}
		}
		return partitionKey{number: number(r.From, r.CountryISO), fallback: r.MsgID}
	case smscx.EventNewOptout:
		var o struct {
			PhoneNumber string `json:"phoneNumber"`
			CountryISO  string `json:"countryIso"`
		}
		if json.Unmarshal(raw, &o) != nil {
			return partitionKey{}
		}
		return partitionKey{number: number(o.PhoneNumber, o.CountryISO)}
	case smscx.EventShortlinkHit, smscx.EventShortlinkHitUpdate, smscx.EventAttachmentHit, smscx.EventAttachmentHitUpdate:
		var h struct {
			PhoneNumber string `json:"phoneNumber"`
			HitID       *int64 `json:"hitId"`
		}
		if json.Unmarshal(raw, &h) != nil {
			return partitionKey{}
		}
		k := partitionKey{number: number(h.PhoneNumber, "")}
		if h.HitID != nil {
			k.fallback = strconv.FormatInt(*h.HitID, 10)
		}
		return k
	}
	return partitionKey{}
}

// lookupID is id as a message can be looked up by (at most 36 bytes of
// text, as the applier takes it), or "" when no message can have it.
func lookupID(id string) string {
	id = strings.TrimSpace(id)
	if len(id) > 36 || !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 {
		return ""
	}
	return id
}

// digits keeps the digits of a phone number, so that "+49 151 …" and
// "+49151…" share a key; a number the appliers could not read keeps its
// digits too, without the "00" that may stand for its "+".
func digits(number string) string {
	var b strings.Builder
	b.Grow(len(number))
	for i := 0; i < len(number); i++ {
		if c := number[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return strings.TrimPrefix(b.String(), "00")
}
