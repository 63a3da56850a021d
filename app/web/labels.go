package web

import (
	"fmt"
	"strings"

	"apptconfirm/models"
)

// statusWords are the words people read for the states the app stores
// under internal keys: appointments, messages, webhook deliveries and the
// kinds of an appointment's timeline. Every badge and label, on the server
// and in live.js (which gets this table through the page), uses it.
var statusWords = map[string]string{
	string(models.Scheduled):           "scheduled",
	string(models.Confirmed):           "confirmed",
	string(models.Cancelled):           "cancelled",
	string(models.Completed):           "completed",
	string(models.NoShow):              "no-show",
	string(models.RescheduleRequested): "wants another time",

	string(models.MsgPlanned):   "planned",
	string(models.MsgSending):   "sending",
	string(models.MsgAccepted):  "accepted",
	string(models.MsgSent):      "sent",
	string(models.MsgDelivered): "delivered",
	string(models.MsgFailed):    "failed",
	string(models.MsgRejected):  "rejected",
	string(models.MsgSkipped):   "skipped",

	models.DeliveryPending: "waiting",
	"retrying":             "retrying",
	"in_doubt":             "in doubt",

	models.TimelineOptOut: "opt-out",
	models.TimelineClick:  "link opened",
	models.TimelineOpen:   "opened",
}

// statusLabel is a stored state as people read it: "no_show" is "no-show",
// "reschedule_requested" is "wants another time". A state it does not know
// still reads as words (underscores become spaces), never as a key.
func statusLabel(v any) string {
	k := fmt.Sprint(v)
	if w, ok := statusWords[k]; ok {
		return w
	}
	return strings.ReplaceAll(k, "_", " ")
}

// statusWordsTable is statusWords for live.js, which relabels badges when
// a state changes without reloading the page; the layout writes it as JSON.
func statusWordsTable() map[string]string { return statusWords }
