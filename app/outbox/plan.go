package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// cause says what change an appointment went through, for the messages
// only such a change sends.
type cause int

const (
	causeChange cause = iota
	// causeBooked: booked just now (booking confirmation).
	causeBooked
	// causeCancelled: cancelled just now by staff or the API
	// (cancellation notice).
	causeCancelled
	// causeMoved: moved just now by staff or the API (reschedule notice).
	causeMoved
	// causeNoShow: marked no-show just now (the no-show follow-up).
	causeNoShow
)

// Replan brings an appointment's messages in line with it, inside the
// transaction ctx carries, as of now.
//
// For an active appointment of a patient who has not opted out, each
// enabled rule ends with exactly one outcome: its live (planned) message is
// updated in place when the plan moved it, inserted when missing, or marked
// skipped with the plan's reason (quiet hours, caps, past, confirmed); a
// suppressed rule with no live message gets a skipped row once, so staff see
// why. A rule already sent (or failed, or skipped by staff) at the same send
// time is not planned again, and a message already in flight (sending) is
// left alone. Planned messages of disabled rules are cancelled. When the
// appointment is no longer active or the patient opted out, every planned
// reminder and booking confirmation is cancelled instead. Messages that left
// us (sending, accepted, sent, delivered) are never touched.
//
// Each planned, moved, skipped or cancelled message gets a timeline entry
// and a domain event. When something was cancelled, moved or skipped, the
// patient's other upcoming appointments with a reminder suppressed by the
// caps are replanned too, since the cap may have room again.
func (o *Outbox) Replan(ctx context.Context, appointmentID uint, now time.Time) error {
	return o.replanAs(ctx, appointmentID, now, causeChange)
}

// Booked replans an appointment booked just now and queues its booking
// confirmation when the clinic sends one (Options.BookingConfirmation).
func (o *Outbox) Booked(ctx context.Context, appointmentID uint, now time.Time) error {
	return o.replanAs(ctx, appointmentID, now, causeBooked)
}

// Cancelled replans an appointment cancelled just now and, when notify is
// set (staff or the API cancelled, not the patient), queues the
// cancellation notice when the clinic sends one (Options.CancellationNotice).
func (o *Outbox) Cancelled(ctx context.Context, appointmentID uint, now time.Time, notify bool) error {
	c := causeChange
	if notify {
		c = causeCancelled
	}
	return o.replanAs(ctx, appointmentID, now, c)
}

// Rescheduled replans an appointment moved just now (a new start or
// location) and, when notify is set (staff or the API moved it, not the
// patient), queues the reschedule notice when the clinic sends one
// (Options.RescheduleNotice).
func (o *Outbox) Rescheduled(ctx context.Context, appointmentID uint, now time.Time, notify bool) error {
	c := causeChange
	if notify {
		c = causeMoved
	}
	return o.replanAs(ctx, appointmentID, now, c)
}

// BookedNew is Booked for an appointment created just now in the
// transaction ctx carries, given as stored, with its Patient, Location
// and Provider: it has no messages yet, so neither it nor they are read
// again. A batch of bookings (an import) saves those reads per booking.
func (o *Outbox) BookedNew(ctx context.Context, a *models.Appointment, now time.Time) error {
	err := o.store.Tx(ctx, func(ctx context.Context) error {
		return o.replanLoaded(ctx, a, nil, models.DBTime(now), causeBooked, true)
	})
	if err != nil {
		return fmt.Errorf("outbox: replan appointment %d: %w", a.ID, err)
	}
	return nil
}

// NoShow replans an appointment marked no-show just now and, when the
// clinic sends one (Options.NoShowFollowUp), queues the follow-up that
// invites the patient to book again: once per appointment, never to a
// patient who opted out, held until the end of quiet hours.
func (o *Outbox) NoShow(ctx context.Context, appointmentID uint, now time.Time) error {
	return o.replanAs(ctx, appointmentID, now, causeNoShow)
}

func (o *Outbox) replanAs(ctx context.Context, id uint, now time.Time, c cause) error {
	err := o.store.Tx(ctx, func(ctx context.Context) error {
		return o.replan(ctx, id, models.DBTime(now), c, true)
	})
	if err != nil {
		return fmt.Errorf("outbox: replan appointment %d: %w", id, err)
	}
	return nil
}

// plannedKinds are the kinds Replan manages for an appointment.
var plannedKinds = []string{models.KindReminder, models.KindBookingConfirm, models.KindCancellation, models.KindRescheduleNotice, models.KindNoShowFollowUp}

// replanning is the state of one Replan.
type replanning struct {
	o     *Outbox
	ctx   context.Context
	now   time.Time
	a     *models.Appointment
	zone  *time.Location
	quiet schedule.QuietHours

	// freed is set when a change may have made room under the caps.
	freed bool
	// pending holds the reminders insert planned and flush writes, all
	// in one statement (with their timeline entries in another).
	pending []pendingReminder
	// rules are the reminder rules by id.
	rules map[uint]*models.ReminderRule
}

// pendingReminder is a reminder to insert, with its timeline detail.
type pendingReminder struct {
	m      *models.Message
	detail string
}

// flush inserts the pending reminders, their timeline entries and events.
// In a transaction that holds messages (an import's batch), the store
// inserts them later with those of other appointments, and records the
// entries and events, which name the messages' ids, then.
func (r *replanning) flush() error {
	if len(r.pending) == 0 {
		return nil
	}
	ms := make([]*models.Message, len(r.pending))
	details := make([]string, len(r.pending))
	for i, p := range r.pending {
		ms[i], details[i] = p.m, p.detail
	}
	r.pending = r.pending[:0]
	now, store := r.now, r.o.store
	err := store.CreateMessagesThen(r.ctx, ms, func(ctx context.Context) error {
		var entries []models.TimelineEntry
		events := make([]models.Event, 0, len(ms))
		for i, m := range ms {
			if e, ok := TimelineEntry(m, now, details[i]); ok && details[i] != "" {
				entries = append(entries, e)
			}
			events = append(events, MessageEvent(m, now, details[i]))
		}
		if err := store.AddTimeline(ctx, entries...); err != nil {
			return err
		}
		return store.Record(ctx, events...)
	})
	if err != nil {
		return fmt.Errorf("insert reminders: %w", err)
	}
	return nil
}

func (o *Outbox) replan(ctx context.Context, id uint, now time.Time, c cause, cascade bool) error {
	a, err := o.store.LockAppointment(ctx, id)
	if err != nil {
		return err
	}
	rows, err := o.store.AppointmentMessages(ctx, id, true, plannedKinds...)
	if err != nil {
		return err
	}
	return o.replanLoaded(ctx, a, rows, now, c, cascade)
}

// replanLoaded is replan of the appointment a (locked, with its Patient,
// Location and Provider) whose planned kinds of messages are rows.
func (o *Outbox) replanLoaded(ctx context.Context, a *models.Appointment, rows []*models.Message, now time.Time, c cause, cascade bool) error {
	var err error
	r := &replanning{o: o, ctx: ctx, now: now, a: a, zone: a.Location.Zone(), quiet: Quiet(a.Location)}
	switch {
	case a.Patient.ErasedAt != nil:
		// An erased patient has no number: nothing is sent to them again.
		err = r.cancelAll(rows, ReasonErased)
	case !a.Status.Active():
		err = r.cancelAll(rows, notActiveReason(a.Status))
		switch {
		case err != nil:
		case c == causeCancelled:
			err = r.cancellationNotice(rows)
		case c == causeNoShow:
			err = r.noShowFollowUp()
		}
	case a.Patient.OptedOut():
		err = r.cancelAll(rows, ReasonOptedOut)
	default:
		err = r.plan(rows)
		switch {
		case err != nil:
		case c == causeBooked:
			err = r.bookingConfirmation(rows)
		case c == causeMoved:
			err = r.rescheduleNotice(rows)
		}
	}
	if err != nil {
		return err
	}
	if cascade && r.freed {
		return r.cascade()
	}
	return nil
}

// cancelAll cancels every planned reminder and booking confirmation, and
// the no-show follow-up unless the appointment is still a no-show (of a
// patient who was not erased).
func (r *replanning) cancelAll(rows []*models.Message, reason string) error {
	for _, m := range rows {
		if m.Status != models.MsgPlanned || m.Kind == models.KindCancellation {
			continue
		}
		if m.Kind == models.KindNoShowFollowUp && r.a.Status == models.NoShow && r.a.Patient.ErasedAt == nil {
			continue
		}
		if err := r.finish(m, models.MsgCancelled, reason); err != nil {
			return err
		}
	}
	return nil
}

// plan reconciles an active appointment's reminders with schedule.Plan.
func (r *replanning) plan(rows []*models.Message) error {
	rules, err := r.o.store.Rules(r.ctx)
	if err != nil {
		return err
	}
	others, err := r.otherReminders(rules)
	if err != nil {
		return err
	}
	in := schedule.Input{
		AppointmentID: r.a.ID,
		StartsAt:      r.a.StartsAt,
		Location:      r.zone,
		Quiet:         r.quiet,
		MinLead:       r.o.opts.MinLead,
		Confirmed:     r.a.Status == models.Confirmed,
		Active:        true,
		Now:           r.now,
		Others:        others,
		Caps:          r.o.opts.Caps,
	}
	known := map[uint]*models.ReminderRule{}
	for i := range rules {
		rule := &rules[i]
		known[rule.ID] = rule
		if rule.IsNudge() || !rule.Covers(r.a) {
			continue // nudges follow below; out of scope: cancelled below
		}
		sr := schedule.Rule{
			ID: rule.ID, Name: rule.Name, Before: rule.Before(),
			OnlyIfUnconfirmed: rule.OnlyIfUnconfirmed, Enabled: rule.Enabled,
		}
		if rule.Timing == models.RuleDayBefore {
			at, err := schedule.ParseClock(rule.LocalTime)
			if err != nil {
				sr.Before = 0 // skipped: the rule's timing is not valid
			}
			sr.Fixed, sr.DaysBefore, sr.LocalMinutes = err == nil, rule.DaysBefore, int(at)
		}
		in.Rules = append(in.Rules, sr)
	}
	r.rules = known
	byRule := map[uint][]*models.Message{}
	for _, m := range rows {
		switch {
		case m.Kind == models.KindCancellation && m.Status == models.MsgPlanned:
			// Restored before the notice went out.
			if err := r.finish(m, models.MsgCancelled, "the appointment was restored"); err != nil {
				return err
			}
		case m.Kind != models.KindReminder:
		case m.RuleID == nil || known[*m.RuleID] == nil:
			if m.Status == models.MsgPlanned {
				if err := r.finish(m, models.MsgCancelled, ReasonRuleRemoved); err != nil {
					return err
				}
			}
		default:
			byRule[*m.RuleID] = append(byRule[*m.RuleID], m)
		}
	}
	for _, rule := range rules {
		reason := ""
		switch {
		case !rule.Enabled:
			reason = ReasonRuleDisabled
		case !rule.Covers(r.a):
			reason = ReasonOutOfScope
		default:
			continue
		}
		for _, m := range byRule[rule.ID] {
			if m.Status == models.MsgPlanned {
				if err := r.finish(m, models.MsgCancelled, reason); err != nil {
					return err
				}
			}
		}
	}
	plans := map[uint]schedule.Planned{}
	for _, p := range schedule.Plan(in) {
		plans[p.RuleID] = p
		if err := r.apply(p, known[p.RuleID], byRule[p.RuleID]); err != nil {
			return err
		}
	}
	for i := range rules {
		rule := &rules[i]
		if !rule.Enabled || !rule.IsNudge() || !rule.Covers(r.a) {
			continue
		}
		if err := r.nudge(rule, in, plans, byRule); err != nil {
			return err
		}
	}
	return r.flush()
}

// nudge plans a nudge rule AfterSeconds after the send time of the
// reminder it follows (gone out or planned). With no such reminder, a planned nudge is
// cancelled. Its signal is judged when it comes due (see decideNudge).
func (r *replanning) nudge(rule *models.ReminderRule, in schedule.Input, plans map[uint]schedule.Planned, byRule map[uint][]*models.Message) error {
	var base time.Time
	found := false
	if rule.AfterRuleID != nil {
		for _, m := range byRule[*rule.AfterRuleID] {
			switch m.Status {
			case models.MsgAccepted, models.MsgSent, models.MsgDelivered:
				// Its send time, not when SMS.CX took it: the nudge's
				// time must not move once either went out, or a replan
				// would find the nudge sent "at another time" and plan
				// it again.
				if !found || m.SendAt.After(base) {
					base, found = m.SendAt, true
				}
			}
		}
		if p, ok := plans[*rule.AfterRuleID]; !found && ok && p.Outcome == schedule.OutcomePlanned {
			base, found = p.SendAt, true
		}
	}
	if !found {
		for _, m := range byRule[rule.ID] {
			if m.Status == models.MsgPlanned {
				if err := r.finish(m, models.MsgCancelled, ReasonNoReminderToFollow); err != nil {
					return err
				}
			}
		}
		return nil
	}
	at := base.Add(time.Duration(rule.AfterSeconds) * time.Second)
	return r.apply(schedule.PlanNudge(in, rule.ID, rule.Name, at), rule, byRule[rule.ID])
}

// because says why a message of rule is planned for the appointment: the
// rule, the signal of a nudge, and the scope that took the appointment in
// ("Reminder '48 h before' (type Check-up, Paris)").
func (r *replanning) because(rule *models.ReminderRule) string {
	s := "Reminder '" + rule.Name + "'"
	if rule.IsNudge() {
		s = "Nudge '" + rule.Name + "': " + SignalWords(rule.Signal)
		if rule.AfterRuleID != nil {
			after := FormatAfter(rule.AfterSeconds) + " after the reminder"
			if f := r.rules[*rule.AfterRuleID]; f != nil {
				after += " '" + f.Name + "'"
			}
			s += ", " + after
		}
	}
	var scope []string
	if len(rule.TypeIDs) > 0 && r.a.AppointmentType != nil {
		scope = append(scope, "type "+r.a.AppointmentType.Name)
	}
	if len(rule.LocationIDs) > 0 && r.a.Location != nil {
		scope = append(scope, r.a.Location.Name)
	}
	if len(rule.ProviderIDs) > 0 && r.a.Provider != nil {
		scope = append(scope, r.a.Provider.Name)
	}
	if len(scope) > 0 {
		s += " (" + strings.Join(scope, ", ") + ")"
	}
	return models.Clip(s, 300)
}

// otherReminders returns the send times of the patient's reminders for
// other appointments, planned or gone out, around this appointment (they
// count towards the caps).
func (r *replanning) otherReminders(rules []models.ReminderRule) ([]time.Time, error) {
	var longest time.Duration
	for _, rule := range rules {
		longest = max(longest, rule.Reach())
	}
	// Plans fall between StartsAt-longest (a day earlier with quiet hours)
	// and StartsAt; caps look one week either way.
	from := r.a.StartsAt.Add(-longest - 9*24*time.Hour)
	to := r.a.StartsAt.Add(8 * 24 * time.Hour)
	return r.o.store.ReminderTimes(r.ctx, r.a.PatientID, r.a.ID, from, to)
}

// apply brings one rule's messages in line with its plan.
func (r *replanning) apply(p schedule.Planned, rule *models.ReminderRule, rows []*models.Message) error {
	var live *models.Message
	for _, m := range rows {
		if m.Status.Pending() {
			live = m
		}
	}
	if live != nil && live.Status == models.MsgSending {
		return nil // in flight: the dispatcher decides
	}
	if done := fulfilledAt(rows, p.SendAt); done != nil {
		if live != nil {
			return r.finish(live, models.MsgCancelled, "already "+string(done.Status)+" for this appointment time")
		}
		return nil
	}
	if p.Outcome == schedule.OutcomePlanned {
		if live != nil {
			return r.move(live, p, rule)
		}
		return r.insert(rule, p, models.MsgPlanned, "")
	}
	reason := SkipReason(p.Reason)
	if live != nil {
		if p.Reason == schedule.ReasonPast && !live.SendAt.After(r.now) {
			return nil // due and about to go: the dispatcher re-checks it
		}
		return r.finish(live, models.MsgSkipped, reason)
	}
	for _, m := range rows {
		if !m.SendAt.Equal(p.SendAt) {
			continue
		}
		if p.Reason == schedule.ReasonPast || (m.Status == models.MsgSkipped && m.Reason == reason) {
			return nil // already recorded
		}
	}
	return r.insert(rule, p, models.MsgSkipped, reason)
}

// fulfilledAt returns a message of rows that settles the rule for a send at
// sendAt: one that went out (or failed for good) at that time, or one staff
// skipped.
func fulfilledAt(rows []*models.Message, sendAt time.Time) *models.Message {
	for _, m := range rows {
		if !m.SendAt.Equal(sendAt) {
			continue
		}
		switch m.Status {
		case models.MsgAccepted, models.MsgSent, models.MsgDelivered, models.MsgFailed, models.MsgRejected:
			return m
		case models.MsgSkipped:
			if strings.HasPrefix(m.Reason, StaffSkipPrefix) {
				return m
			}
		}
	}
	return nil
}

// movedBy returns the time a plan was due before quiet hours moved it and
// why, or nil and "".
func movedBy(p schedule.Planned) (*time.Time, string) {
	if !p.Moved {
		return nil, ""
	}
	from := models.DBTime(p.MovedFrom)
	return &from, p.MoveReason
}

// planned words a planned send time for the timeline, with its move.
func (r *replanning) planned(m *models.Message) string {
	s := When(m.SendAt, r.zone)
	if m.MoveReason != "" {
		s += " (" + m.MoveReason + ")"
	}
	return s
}

// insert adds a reminder for rule, as plan p says, in status st; flush
// writes it.
func (r *replanning) insert(rule *models.ReminderRule, p schedule.Planned, st models.MessageStatus, reason string) error {
	ruleID := rule.ID
	sendAt := p.SendAt
	movedFrom, moveReason := movedBy(p)
	m := &models.Message{
		UUID:           uuid.NewString(),
		AppointmentID:  &r.a.ID,
		PatientID:      &r.a.PatientID,
		RuleID:         &ruleID,
		RuleName:       rule.Name,
		Kind:           models.KindReminder,
		To:             r.a.Patient.Phone,
		Status:         st,
		SendAt:         models.DBTime(sendAt),
		Reason:         models.Clip(reason, 500),
		MovedFrom:      movedFrom,
		MoveReason:     models.Clip(moveReason, 200),
		PlannedBecause: r.because(rule),
		CreatedAt:      r.now,
		UpdatedAt:      r.now,
	}
	detail := Name(m, rule) + " planned for " + r.planned(m)
	if st == models.MsgSkipped {
		detail = Name(m, rule) + " skipped: " + reason
	}
	r.pending = append(r.pending, pendingReminder{m: m, detail: detail})
	return nil
}

// move updates a live planned reminder in place: its time (and quiet-hours
// move), number and rule name follow plan p; its body is cleared so it
// renders afresh when sent.
func (r *replanning) move(m *models.Message, p schedule.Planned, rule *models.ReminderRule) error {
	if err := r.flush(); err != nil {
		return err
	}
	sendAt := models.DBTime(p.SendAt)
	movedFrom, moveReason := movedBy(p)
	moveReason = models.Clip(moveReason, 200)
	moved := !m.SendAt.Equal(sendAt)
	sameMove := m.MoveReason == moveReason && (m.MovedFrom == nil) == (movedFrom == nil) &&
		(movedFrom == nil || m.MovedFrom.Equal(*movedFrom))
	because := r.because(rule)
	if !moved && sameMove && m.To == r.a.Patient.Phone && m.RuleName == rule.Name && m.Body == "" && m.PlannedBecause == because {
		return nil
	}
	was := m.SendAt
	next := *m
	next.SendAt, next.To, next.PatientID, next.RuleName, next.Body, next.Reason = sendAt, r.a.Patient.Phone, &r.a.PatientID, rule.Name, "", ""
	next.PlannedBecause = because
	next.MovedFrom, next.MoveReason = movedFrom, moveReason
	if err := r.o.store.ReschedulePlanned(r.ctx, &next, r.now); err != nil {
		return err
	}
	*m = next
	if !moved {
		return nil
	}
	r.freed = true
	return r.o.changed(r.ctx, m, r.now, fmt.Sprintf("%s moved to %s (was %s)", Name(m, rule), r.planned(m), When(was, r.zone)))
}

// finish ends a planned message with status st and reason.
func (r *replanning) finish(m *models.Message, st models.MessageStatus, reason string) error {
	if err := r.flush(); err != nil {
		return err
	}
	if err := r.o.store.EndPlanned(r.ctx, m.ID, st, reason, r.now); err != nil {
		return err
	}
	m.Status, m.Reason = st, models.Clip(reason, 500)
	r.freed = true
	return r.o.changed(r.ctx, m, r.now, fmt.Sprintf("%s %s: %s", Label(m), st, reason))
}

// cascade replans the patient's other upcoming active appointments that
// have a reminder suppressed by the caps.
func (r *replanning) cascade() error {
	ids, err := r.o.store.AppointmentsWithSkipped(r.ctx, r.a.PatientID, r.a.ID, r.now, capReasonPrefix)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := r.o.replan(r.ctx, id, r.now, causeChange, false); err != nil {
			return fmt.Errorf("appointment %d: %w", id, err)
		}
	}
	return nil
}

// CancelForPatient cancels every planned message to a patient who opted
// out (by patient or through their appointments), opt-out
// acknowledgements excepted, inside the transaction ctx carries, and
// returns how many it cancelled.
func (o *Outbox) CancelForPatient(ctx context.Context, patientID uint, reason string, now time.Time) (int64, error) {
	now = models.DBTime(now)
	var n int64
	err := o.store.Tx(ctx, func(ctx context.Context) error {
		ms, err := o.store.PlannedForPatient(ctx, patientID, models.KindOptOutAck)
		if err != nil {
			return err
		}
		for i := range ms {
			m := &ms[i]
			err := o.store.EndPlanned(ctx, m.ID, models.MsgCancelled, reason, now)
			if errors.Is(err, models.ErrConflict) {
				continue // claimed meanwhile: the dispatcher checks opt-outs
			}
			if err != nil {
				return err
			}
			m.Status, m.Reason = models.MsgCancelled, reason
			if err := o.store.Record(ctx, MessageEvent(m, now, "")); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: cancel messages of patient %d: %w", patientID, err)
	}
	return n, nil
}

// replanChunk is how many appointments one ReplanFuture transaction covers,
// so a large clinic never holds the database's write lock for long.
const replanChunk = 200

// ReplanFuture replans every active appointment that has not started (a
// reminder rule changed), in transactions of a few hundred appointments
// each. Replanning is idempotent, so after an error it is safe to call
// again.
func (o *Outbox) ReplanFuture(ctx context.Context) error {
	now := o.clock()
	var last uint
	for {
		ids, err := o.store.AppointmentIDs(ctx, models.AppointmentFilter{
			From: now.Add(time.Microsecond), Statuses: models.ActiveStatuses, AfterID: last, Limit: replanChunk,
		})
		if err != nil {
			return fmt.Errorf("replanning future appointments failed: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		err = o.store.Tx(ctx, func(ctx context.Context) error {
			for _, id := range ids {
				if err := o.replan(ctx, id, now, causeChange, false); err != nil {
					return fmt.Errorf("appointment %d: %w", id, err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("replanning future appointments failed: %w", err)
		}
		last = ids[len(ids)-1]
	}
}
