package models

import "time"

// Reminder rule timings (ReminderRule.Timing).
const (
	// RuleBefore sends BeforeSeconds before the start ("48 h before").
	// Rules made before timings existed have it.
	RuleBefore = "before"
	// RuleDayBefore sends DaysBefore days before the appointment's day, at
	// LocalTime ("10:00") in the zone of the appointment's location ("the
	// day before at 10:00").
	RuleDayBefore = "day_before"
	// RuleNudge sends AfterSeconds after the reminder of rule AfterRuleID
	// went out, when Signal still holds at that time.
	RuleNudge = "nudge"
)

// Nudge signals (ReminderRule.Signal): what must hold, when the nudge
// comes due, for it to be sent.
const (
	// SignalClickedNotConfirmed: the patient opened the link of the
	// reminder but has not confirmed.
	SignalClickedNotConfirmed = "clicked_not_confirmed"
	// SignalNotConfirmed: the patient has not confirmed.
	SignalNotConfirmed = "not_confirmed"
	// SignalDeliveredNoReply: the reminder was delivered and the patient
	// has not replied.
	SignalDeliveredNoReply = "delivered_no_reply"
)

// IsNudge reports whether the rule is a nudge that follows a reminder.
func (r *ReminderRule) IsNudge() bool { return r.Timing == RuleNudge }

// TimingOrBefore is the rule's timing, RuleBefore when unset.
func (r *ReminderRule) TimingOrBefore() string {
	if r.Timing == "" {
		return RuleBefore
	}
	return r.Timing
}

// Covers reports whether the rule's scope takes in a: each of its lists
// that is not empty must hold the appointment's type, location or
// provider (an appointment without a type or a provider is outside a rule
// limited to some).
func (r *ReminderRule) Covers(a *Appointment) bool {
	if len(r.TypeIDs) > 0 && (a.AppointmentTypeID == nil || !r.TypeIDs.Has(*a.AppointmentTypeID)) {
		return false
	}
	if len(r.LocationIDs) > 0 && !r.LocationIDs.Has(a.LocationID) {
		return false
	}
	if len(r.ProviderIDs) > 0 && (a.ProviderID == nil || !r.ProviderIDs.Has(*a.ProviderID)) {
		return false
	}
	return true
}

// Scoped reports whether the rule is limited to some types, locations or
// providers.
func (r *ReminderRule) Scoped() bool {
	return len(r.TypeIDs) > 0 || len(r.LocationIDs) > 0 || len(r.ProviderIDs) > 0
}

// Reach is the longest a rule can fall before the start of an
// appointment (a fixed-time rule: its days and one more; a nudge: none of
// its own).
func (r *ReminderRule) Reach() time.Duration {
	switch r.Timing {
	case RuleDayBefore:
		return time.Duration(r.DaysBefore+1) * 24 * time.Hour
	case RuleNudge:
		return 0
	}
	return r.Before()
}
