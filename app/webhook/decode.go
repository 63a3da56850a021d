package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	// The v1 API on the v2 engine that became encoding/json/v2: the same
	// behaviour as encoding/json, decoding a webhook item in about 40% of
	// the time (BenchmarkDecodeBatch).
	json "github.com/go-json-experiment/json/v1"

	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// maxEventName is the longest event name an envelope may carry.
const maxEventName = 40

// isEventName reports whether an envelope's "event" looks like an event
// name: 1 to maxEventName of [A-Za-z0-9_.:-]. SMS.CX's names are lower-case
// words joined by underscores; a little more is tolerated so that a new
// event type is stored and ignored rather than refused.
func isEventName(s string) bool {
	if len(s) == 0 || len(s) > maxEventName {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '.', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// plainID reports whether id (or a status such as "NO COVERAGE") may
// appear in a key as it is.
func plainID(id string) bool { return models.PlainToken(id) }

// EnvelopeError is why a webhook body is not an SMS.CX envelope; the
// Receiver answers 400 with its message and stores nothing.
type EnvelopeError struct {
	Reason string
}

func (e *EnvelopeError) Error() string { return "webhook: bad envelope: " + e.Reason }

func badEnvelope(format string, args ...any) error {
	return &EnvelopeError{Reason: fmt.Sprintf(format, args...)}
}

// MaxBatchItems is the most items one webhook batch may hold. SMS.CX sends
// up to 200; a longer batch is refused whole (413) and nothing of it is
// stored, so that one request cannot make the receiver store and apply an
// unbounded number of events.
const MaxBatchItems = 1000

// TooManyItemsError is a batch of more than MaxBatchItems items; the
// Receiver answers 413 and stores nothing.
type TooManyItemsError struct {
	Items int
}

func (e *TooManyItemsError) Error() string {
	return fmt.Sprintf("webhook: %d items in one batch; at most %d are accepted", e.Items, MaxBatchItems)
}

// item is one decoded item of a batch, ready to be stored.
type item struct {
	// key is the unique de-duplication key: models.DedupKey of the
	// item's name (see judgeItem).
	key string
	// raw is the item's JSON: as it came for a good item, compacted for
	// one named by its content (see judgeItem).
	raw string
	// malformed says why the item cannot be applied ("" when it can).
	malformed string
	// ignored marks an item of an event type that is not handled.
	ignored bool
}

// batch is a decoded envelope.
type batch struct {
	event string
	items []item
}

// handled reports whether apptconfirm applies events of this type.
func handled(event string) bool {
	switch event {
	case smscx.EventDLRUpdate, smscx.EventReceiveSMS, smscx.EventNewOptout,
		smscx.EventShortlinkHit, smscx.EventShortlinkHitUpdate,
		smscx.EventAttachmentHit, smscx.EventAttachmentHitUpdate:
		return true
	}
	return false
}

// decodeBatch parses a webhook body. A body that is not an envelope is an
// *EnvelopeError; items are judged one by one (see the package doc, W3).
// The items come back de-duplicated, in their order in the batch (the
// order they are applied in).
func decodeBatch(body []byte) (batch, error) {
	if !utf8.Valid(body) {
		return batch{}, badEnvelope("body is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return batch{}, badEnvelope("body is empty")
	}
	if trimmed[0] != '{' {
		return batch{}, badEnvelope("body is not a JSON object")
	}
	// One pass splits the envelope and its items; the items are decoded
	// one by one below.
	var env struct {
		Event json.RawMessage   `json:"event"`
		Data  []json.RawMessage `json:"data"`
	}
	dataNotArray := false
	if err := json.Unmarshal(trimmed, &env); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) || te.Field != "data" {
			return batch{}, badEnvelope("body is not valid JSON: %s", jsonReason(err))
		}
		dataNotArray = true
	}
	if isNull(env.Event) {
		return batch{}, badEnvelope(`"event" is missing`)
	}
	event, ok := plainString(env.Event)
	if !ok {
		if err := json.Unmarshal(env.Event, &event); err != nil {
			return batch{}, badEnvelope(`"event" is not a string`)
		}
	}
	event = strings.TrimSpace(event)
	if !isEventName(event) {
		return batch{}, badEnvelope(`"event" is not an event name`)
	}
	if dataNotArray {
		return batch{}, badEnvelope(`"data" is not an array`)
	}
	if env.Data == nil {
		return batch{}, badEnvelope(`"data" is missing`)
	}
	raws := env.Data
	if len(raws) > MaxBatchItems {
		return batch{}, &TooManyItemsError{Items: len(raws)}
	}
	b := batch{event: event, items: make([]item, 0, len(raws))}
	if len(raws) == 1 {
		// Most batches hold one item: nothing to de-duplicate.
		b.items = append(b.items, decodeItem(event, raws[0]))
		return b, nil
	}
	seen := make(map[string]bool, len(raws))
	for _, raw := range raws {
		it := decodeItem(event, raw)
		if seen[it.key] {
			continue
		}
		seen[it.key] = true
		b.items = append(b.items, it)
	}
	return b, nil
}

// plainString returns the text of a JSON string that needs no decoding (no
// escape, no control character), such as every event name SMS.CX sends,
// without a trip through the decoder; ok is false for anything else.
// raw is valid JSON: the envelope decoded.
func plainString(raw json.RawMessage) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	// The names of the events applied come without a copy.
	switch string(inner) {
	case smscx.EventDLRUpdate:
		return smscx.EventDLRUpdate, true
	case smscx.EventReceiveSMS:
		return smscx.EventReceiveSMS, true
	case smscx.EventNewOptout:
		return smscx.EventNewOptout, true
	}
	return string(inner), true
}

// isNull reports whether a raw JSON value is absent or null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// jsonReason shortens a JSON error for a 400 answer.
func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return clip(err.Error(), 120)
}

// decodeItem gives one item its key and judges it.
func decodeItem(event string, raw []byte) item {
	it, name := judgeItem(event, raw)
	it.key = models.DedupKey(name)
	return it
}

// judgeItem judges one item and names it for de-duplication (see
// itemName); the item comes back without its key.
//
// A good item is stored as it came; an item named by its content (of an
// event not handled, or malformed) is compacted first, so that the same
// item is named the same however it is spaced.
func judgeItem(event string, raw []byte) (it item, name string) {
	if handled(event) {
		name, reason := itemName(event, raw)
		if reason == "" {
			return item{raw: string(raw)}, name
		}
		compact := compactJSON(raw)
		return item{raw: compact, malformed: reason}, event + ":malformed:" + sum(compact)
	}
	compact := compactJSON(raw)
	return item{raw: compact, ignored: true}, event + ":sha256:" + sum(compact)
}

// compactJSON returns raw without insignificant spaces.
func compactJSON(raw []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// itemName decodes an item of a handled event into its documented shape and
// returns its de-duplication name, or why it is malformed.
func itemName(event string, raw []byte) (name, malformed string) {
	if len(raw) == 0 || raw[0] != '{' {
		return "", "not a JSON object"
	}
	switch event {
	case smscx.EventDLRUpdate:
		var d smscx.DLRUpdate
		if err := json.Unmarshal(raw, &d); err != nil {
			return "", "does not match dlr_update: " + jsonReason(err)
		}
		msgID, status := strings.TrimSpace(d.MsgID), strings.TrimSpace(d.Status)
		switch {
		case msgID == "":
			return "", "msgId is missing"
		case status == "":
			return "", "status is missing"
		}
		return joinName(event, msgID, status), ""
	case smscx.EventReceiveSMS:
		var s smscx.ReceiveSMS
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", "does not match receive_sms: " + jsonReason(err)
		}
		msgID := strings.TrimSpace(s.MsgID)
		if msgID == "" {
			return "", "msgId is missing"
		}
		return joinName(event, msgID), ""
	case smscx.EventNewOptout:
		var o smscx.NewOptout
		if err := json.Unmarshal(raw, &o); err != nil {
			return "", "does not match new_optout: " + jsonReason(err)
		}
	default: // the four hit events
		var h smscx.Hit
		if err := json.Unmarshal(raw, &h); err != nil {
			return "", "does not match " + event + ": " + jsonReason(err)
		}
	}
	var probe struct {
		HitID *int64 `json:"hitId"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil || probe.HitID == nil {
		return "", "hitId is missing"
	}
	return hitName(event, *probe.HitID), ""
}

// hitName is the de-duplication name of a hit or opt-out event.
func hitName(event string, hitID int64) string {
	return event + ":" + strconv.FormatInt(hitID, 10)
}

// joinName builds "<event>:<id>[:<id>...]", hashing the ids when one of
// them is not a short plain token (so that two lists of ids cannot join to
// the same name).
func joinName(event string, ids ...string) string {
	for _, id := range ids {
		if !plainID(id) {
			return event + ":h:" + sum(strings.Join(ids, "\x00"))
		}
	}
	return event + ":" + strings.Join(ids, ":")
}

// sum is the hex SHA-256 of s.
func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
