package webhook

import (
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// unordered are the event types SMS.CX sends with no order between them:
// delivery reports, replies and link hits come from separate pipelines, so
// a reply may arrive before the report of the reminder it answers. Between
// two events of other types (opt-outs, hit updates, types with no applier)
// the page keeps its order: an opt-out and a later START from the same
// number must apply in the order received.
var unordered = map[string]bool{
	smscx.EventDLRUpdate: true, smscx.EventReceiveSMS: true,
	smscx.EventShortlinkHit: true, smscx.EventAttachmentHit: true,
}

// applyOrder returns page in the order its events are applied: each
// stretch of consecutive events of unordered types is regrouped a type at
// a time, the types in the order they first appear in it and each type's
// events in their order of arrival, so that a stretch of mixed reports,
// replies and hits is applied as a few sets instead of many short ones.
// Every other event keeps its place. Both the set-based and the per-event
// paths apply pages in this order, so they give the same states.
func applyOrder(page []models.WebhookEvent) []models.WebhookEvent {
	out := make([]models.WebhookEvent, 0, len(page))
	for i := 0; i < len(page); {
		if !unordered[page[i].Event] {
			out = append(out, page[i])
			i++
			continue
		}
		end := i + 1
		for end < len(page) && unordered[page[end].Event] {
			end++
		}
		out = appendByType(out, page[i:end])
		i = end
	}
	return out
}

// appendByType appends stretch to out a type at a time, in the order the
// types first appear, each type's events in their order.
func appendByType(out, stretch []models.WebhookEvent) []models.WebhookEvent {
	var types []string
	seen := map[string]bool{}
	for _, ev := range stretch {
		if !seen[ev.Event] {
			seen[ev.Event] = true
			types = append(types, ev.Event)
		}
	}
	for _, t := range types {
		for _, ev := range stretch {
			if ev.Event == t {
				out = append(out, ev)
			}
		}
	}
	return out
}
