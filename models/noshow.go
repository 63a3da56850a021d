package models

// KindNoShowFollowUp invites a patient who missed an appointment to book
// again through their patient page. It goes out at most once per
// appointment.
const KindNoShowFollowUp = "no_show_follow_up"

// OutcomeStatuses are the states of a past appointment still waiting for
// staff to say whether the patient came.
var OutcomeStatuses = []AppointmentStatus{Scheduled, Confirmed}
