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

// auditVerbs are the verbs of audit actions ("appointment.confirm") as
// people read them after the record's name.
var auditVerbs = map[string]string{
	"create": "created", "update": "changed", "delete": "deleted", "cancel": "cancelled",
	"confirm": "confirmed", "complete": "marked completed", "no_show": "marked no-show",
	"reschedule": "rescheduled", "request_reschedule": "another time asked for",
	"restore": "restored", "erase": "erased", "revoke": "revoked", "rotate": "secret rotated",
	"resend": "delivery sent again", "test": "test sent", "test_sms": "test SMS sent",
	"login": "logged in", "login_failed": "login failed", "unlock": "unlocked",
	"opt_in": "opted back in", "opt_out": "opted out", "answer": "reply answered",
	"handle": "reply marked handled", "send_now": "sent now", "skip": "skipped",
	"hours": "working hours changed",
}

// auditRecordNames are the records audit entries are about, as people name
// them.
var auditRecordNames = map[string]string{
	"api_token": "API token", "calendar_feed": "Calendar feed", "webhook_endpoint": "Webhook",
	"message_template": "Text", "reminder_rule": "Reminder rule", "smscx": "SMS.CX",
	"inbox": "Inbox", "languages": "Languages",
}

// auditAction writes an audit action ("webhook_endpoint.create") in words
// ("Webhook created"); an action it does not know reads with spaces.
func auditAction(action string) string {
	entity, verb, ok := strings.Cut(action, ".")
	if !ok {
		return humanize(action)
	}
	v, known := auditVerbs[verb]
	if !known {
		v = strings.ReplaceAll(verb, "_", " ")
	}
	return auditEntity(entity) + " " + v
}

// auditEntity names a record type ("webhook_endpoint" reads "Webhook").
func auditEntity(entity string) string {
	if name, ok := auditRecordNames[entity]; ok {
		return name
	}
	return humanize(entity)
}

// humanize writes a key with spaces and a capital: "user_login" reads
// "User login".
func humanize(key string) string {
	s := strings.TrimSpace(strings.ReplaceAll(key, "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
