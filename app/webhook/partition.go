package webhook

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"

	"apptconfirm/app/smscx"
	"apptconfirm/models"

	json "github.com/go-json-experiment/json/v1"
)

// partitionSeed hashes partition keys; any seed does, as long as one pass
// uses one.
var partitionSeed = maphash.MakeSeed()

// partition splits page (already in applyOrder's order) into n shares, each
// in the page's order, so that every event about one phone number lands in
// the same share: a patient's delivery reports, replies, opt-outs and
// clicks then keep the order one processor would give them, while the
// shares run side by side. A delivery report names no number, so its
// message's number is looked up (one statement for the page); events whose
// number cannot be told (an unmatched report, a click without a number, a
// type no applier reads a number from) are spread by their own ids, or go
// to the first share when they have none.
func (p *Processor) partition(ctx context.Context, page []models.WebhookEvent, n int) ([][]models.WebhookEvent, error) {
	keys := make([]partitionKey, len(page))
	var providerIDs, uuids []string
	for i := range page {
		keys[i] = eventKey(&page[i])
		if keys[i].msgID != "" {
			providerIDs = append(providerIDs, keys[i].msgID)
		}
		if keys[i].trackData != "" {
			uuids = append(uuids, keys[i].trackData)
		}
	}
	if len(providerIDs)+len(uuids) > 0 {
		numbers, err := p.store.MessageNumbers(ctx, providerIDs, uuids)
		if err != nil {
			return nil, fmt.Errorf("webhook: partition: %w", err)
		}
		// A report is matched by SMS.CX's id first, then by ours; one
		// matched by ours may fill in SMS.CX's id, by which later reports
		// of the page then match: those go with it.
		learned := map[string]string{}
		for i := range keys {
			k := &keys[i]
			if to, ok := numbers.ByProviderID[k.msgID]; ok && k.msgID != "" {
				k.number = digits(to)
			} else if to, ok := numbers.ByUUID[k.trackData]; ok && k.trackData != "" {
				k.number = digits(to)
				if k.msgID != "" {
					learned[k.msgID] = k.number
				}
			}
		}
		for i := range keys {
			if k := &keys[i]; k.number == "" && k.msgID != "" {
				k.number = learned[k.msgID]
			}
		}
	}
	shares := make([][]models.WebhookEvent, n)
	for i := range page {
		share := 0
		switch k := &keys[i]; {
		case k.number != "":
			share = int(maphash.String(partitionSeed, k.number) % uint64(n))
		case k.fallback != "":
			share = int(maphash.String(partitionSeed, "#"+k.fallback) % uint64(n))
		}
		shares[share] = append(shares[share], page[i])
	}
	return shares, nil
}

// partitionKey is what an event says about whom it concerns: a phone
// number, or for a delivery report the ids its message is found by; fallback
// spreads events that name no number.
type partitionKey struct {
	number, msgID, trackData, fallback string
}

// eventKey reads ev's partition key from its raw item. An item that cannot
// be decoded has none (its applier will say why).
func eventKey(ev *models.WebhookEvent) partitionKey {
	var item struct {
		MsgID       string `json:"msgId"`
		TrackData   string `json:"trackData"`
		From        string `json:"from"`
		PhoneNumber string `json:"phoneNumber"`
		HitID       *int64 `json:"hitId"`
	}
	if err := json.Unmarshal([]byte(ev.Raw), &item); err != nil {
		return partitionKey{}
	}
	switch ev.Event {
	case smscx.EventDLRUpdate:
		return partitionKey{
			msgID: strings.TrimSpace(item.MsgID), trackData: strings.TrimSpace(item.TrackData),
			fallback: strings.TrimSpace(item.MsgID),
		}
	case smscx.EventReceiveSMS:
		return partitionKey{number: digits(item.From), fallback: item.MsgID}
	case smscx.EventNewOptout:
		return partitionKey{number: digits(item.PhoneNumber)}
	case smscx.EventShortlinkHit, smscx.EventShortlinkHitUpdate, smscx.EventAttachmentHit, smscx.EventAttachmentHitUpdate:
		k := partitionKey{number: digits(item.PhoneNumber)}
		if item.HitID != nil {
			k.fallback = strconv.FormatInt(*item.HitID, 10)
		}
		return k
	}
	return partitionKey{}
}

// digits keeps the digits of an international phone number, without the
// "00" that may stand for its "+", so that "+49 151 …", "+49151…" and
// "0049151…" share a key. SMS.CX writes numbers in E.164; one written in
// a national form ("0151…") gets a key of its own.
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
