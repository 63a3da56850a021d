package webhook

import (
	"slices"
	"strings"

	"apptconfirm/app/smscx"
	"apptconfirm/models"

	json "github.com/go-json-experiment/json/v1"
)

// unordered lists the event types SMS.CX sends with no order between
// them, in the order applyOrder applies them within a stretch: delivery
// reports, hits and replies come from separate pipelines, so a reply may
// arrive before the report of the reminder it answers. Reports go first
// because a report only moves a message forward, which the hits and the
// replies after it read (a reply is judged against the messages that left
// us). Between events of other types (opt-outs, hit updates, types with no
// applier) the page keeps its order.
var unordered = []string{smscx.EventDLRUpdate, smscx.EventShortlinkHit, smscx.EventAttachmentHit, smscx.EventReceiveSMS}

// applyOrder returns page in the order its events are applied: each
// stretch of consecutive events of unordered types is regrouped a type at
// a time, in the order of unordered, each type's events in their order of
// arrival; so a stretch of mixed reports, replies and hits is applied as a
// few sets instead of many short ones. Every other event keeps its place
// and ends a stretch, and so does a REJECTED report, which opts its
// patient out: an opt-out and a later START or STOP from the same number
// must apply in the order received. The per-event path applies pages in
// this order; the sets regroup it further by number (regroupByKey), which
// keeps each number's events in this order between its opt-outs.
// oneStretch reports that the page made a single stretch (no event kept
// its place): regroupByKey then gives the same order, and the page need
// not be keyed to be regrouped.
func applyOrder(page []models.WebhookEvent) (out []models.WebhookEvent, oneStretch bool) {
	out = make([]models.WebhookEvent, 0, len(page))
	oneStretch = true
	for i := 0; i < len(page); {
		if !regroupable(&page[i]) {
			out = append(out, page[i])
			oneStretch = false
			i++
			continue
		}
		end := i + 1
		for end < len(page) && regroupable(&page[end]) {
			end++
		}
		out = appendByType(out, page[i:end])
		i = end
	}
	return out, oneStretch
}

// regroupable reports whether ev may be applied before or after the
// events of other types around it (see applyOrder).
func regroupable(ev *models.WebhookEvent) bool {
	if ev.Event == smscx.EventDLRUpdate {
		return !rejectedReport(ev.Raw)
	}
	return slices.Contains(unordered, ev.Event)
}

// rejectedReport reports whether raw is a delivery report whose status is
// REJECTED, or one whose status cannot be read (it then keeps its place).
func rejectedReport(raw string) bool {
	var d struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return true
	}
	return strings.EqualFold(strings.TrimSpace(d.Status), smscx.StatusRejected)
}

// appendByType appends stretch to out a type at a time, in the order of
// unordered, each type's events in their order.
func appendByType(out, stretch []models.WebhookEvent) []models.WebhookEvent {
	for _, t := range unordered {
		for _, ev := range stretch {
			if ev.Event == t {
				out = append(out, ev)
			}
		}
	}
	return out
}

// regroupByKey reorders one worker's share (in applyOrder's order) into
// longer runs of one type; keys[i] is share[i]'s partition key. Events
// about different numbers carry no order between them, so an event that
// keeps its place (an opt-out, say) holds back only the later events of
// its own key, where applyOrder ends the stretch for all. A REJECTED
// report (or one that cannot be read) holds back every later event: it
// opts out its message's patient, whose number may have changed since the
// message, so its key may not be the number a later START comes from.
// Each event gets a level: a REJECTED report an odd one above every level
// given before it; another event that keeps its place the odd level above
// its key's last such event and the last REJECTED report; the others the
// even level above those. The share is applied a level at a time, a
// level's events a type at a time as applyOrder orders them, each type in
// order.
func regroupByKey(share []models.WebhookEvent, keys []string) []models.WebhookEvent {
	type placed struct {
		level, rank int
		ev          *models.WebhookEvent
	}
	// next[k] is the (even) level key k's next events start at, floor the
	// one every key's do, top the highest level given so far.
	next := map[string]int{}
	floor, top := 0, 0
	order := make([]placed, len(share))
	for i := range share {
		ev := &share[i]
		k := keys[i]
		base := max(next[k], floor)
		switch {
		case regroupable(ev):
			order[i] = placed{level: base, rank: slices.Index(unordered, ev.Event), ev: ev}
		case ev.Event == smscx.EventDLRUpdate:
			level := top + 1
			if level%2 == 0 {
				level++
			}
			order[i] = placed{level: level, ev: ev}
			floor = level + 1
		default:
			order[i] = placed{level: base + 1, ev: ev}
			next[k] = base + 2
		}
		top = max(top, order[i].level)
	}
	slices.SortStableFunc(order, func(a, b placed) int {
		if a.level != b.level {
			return a.level - b.level
		}
		return a.rank - b.rank
	})
	out := make([]models.WebhookEvent, len(share))
	for i, o := range order {
		out[i] = *o.ev
	}
	return out
}
