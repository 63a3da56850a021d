package outbox

import (
	"context"
	"strconv"
	"time"

	"apptconfirm/models"
)

// Reasons of scoped rules and nudges, in words staff read on the
// appointment page.
const (
	ReasonOutOfScope         = "the rule does not apply to this appointment's type, location or provider"
	ReasonNoReminderToFollow = "the reminder it follows is not planned and did not go out"
	ReasonReminderNotSent    = "the reminder it follows did not go out"
	ReasonNudgeConfirmed     = "the patient confirmed before the nudge was due"
	ReasonNudgeNotOpened     = "the patient had not opened the link when the nudge was due"
	ReasonNudgeNotDelivered  = "the reminder it follows was not delivered"
	ReasonNudgeReplied       = "the patient replied to the reminder"
)

// SignalWords says a nudge signal in words ("link opened, not confirmed").
func SignalWords(signal string) string {
	switch signal {
	case models.SignalClickedNotConfirmed:
		return "link opened, not confirmed"
	case models.SignalNotConfirmed:
		return "not confirmed"
	case models.SignalDeliveredNoReply:
		return "delivered, no reply"
	}
	return "no condition"
}

// FormatAfter writes a nudge's delay as staff read it: "2 h", "90 min",
// "1 day".
func FormatAfter(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		n := int64(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return strconv.FormatInt(n, 10) + " days"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + " h"
	}
	return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
}

// decideNudge judges a nudge's signal as it comes due: send when it still
// holds, else skip with the reason.
func (o *Outbox) decideNudge(ctx context.Context, a *models.Appointment, rule *models.ReminderRule) (verdict, error) {
	if a.Status == models.Confirmed {
		return end(models.MsgSkipped, ReasonNudgeConfirmed), nil
	}
	if rule.AfterRuleID == nil {
		return end(models.MsgSkipped, ReasonReminderNotSent), nil
	}
	f, err := o.store.NudgeFacts(ctx, a.ID, *rule.AfterRuleID)
	if err != nil {
		return verdict{}, err
	}
	if f.Reminder == nil {
		return end(models.MsgSkipped, ReasonReminderNotSent), nil
	}
	switch rule.Signal {
	case models.SignalClickedNotConfirmed:
		if !f.Clicked {
			return end(models.MsgSkipped, ReasonNudgeNotOpened), nil
		}
	case models.SignalDeliveredNoReply:
		if f.Reminder.Status != models.MsgDelivered && f.Reminder.DeliveredAt == nil {
			return end(models.MsgSkipped, ReasonNudgeNotDelivered), nil
		}
		if f.Replied {
			return end(models.MsgSkipped, ReasonNudgeReplied), nil
		}
	}
	return send(), nil
}
