package reminders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// Replan implements clinic.Planner: it brings appointmentID's messages in
// line with the appointment, inside tx, as of now.
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
// Each planned, moved, skipped or cancelled message gets a timeline entry in
// tx and a live event. A new booking (CreatedAt equal to now) queues the
// booking confirmation, and a cancellation made now by staff or the API
// queues the cancellation notice, when the options ask for them.
//
// When something was cancelled, moved or skipped, the patient's other
// upcoming appointments with a reminder suppressed by the caps are replanned
// too, since the cap may have room again.
func (s *Service) Replan(ctx context.Context, tx *models.Store, appointmentID uint, now time.Time) error {
	if err := s.replan(ctx, tx, appointmentID, dbTime(now), true); err != nil {
		return fmt.Errorf("reminders: replan appointment %d: %w", appointmentID, err)
	}
	return nil
}

// plannedKinds are the kinds Replan manages for an appointment.
var plannedKinds = []string{models.KindReminder, models.KindBookingConfirm, models.KindCancellation}

// replanning is the state of one Replan.
type replanning struct {
	s     *Service
	ctx   context.Context
	tx    *models.Store
	now   time.Time
	a     *models.Appointment
	zone  *time.Location
	quiet schedule.QuietHours

	// freed is set when a change may have made room under the caps.
	freed bool
	// changed are the messages whose status or time changed, for events.
	changed []*models.Message
	// kick is set when a message is due at once.
	kick bool
}

func (s *Service) replan(ctx context.Context, tx *models.Store, id uint, now time.Time, cascade bool) error {
	a, err := loadAppointment(ctx, tx, id, true)
	if err != nil {
		return err
	}
	r := &replanning{s: s, ctx: ctx, tx: tx, now: now, a: a, zone: a.Location.Zone(), quiet: Quiet(a.Location)}
	var rows []*models.Message
	err = tx.DB(ctx).Scopes(models.ForUpdate(tx)).
		Where("appointment_id = ? AND kind IN ?", id, plannedKinds).Order("id").Find(&rows).Error
	if err != nil {
		return fmt.Errorf("load messages: %w", models.Classify(err))
	}
	switch {
	case !a.Status.Active():
		err = r.cancelAll(rows, notActiveReason(a.Status))
		if err == nil {
			err = r.cancellationNotice(rows)
		}
	case a.Patient.OptedOut():
		err = r.cancelAll(rows, ReasonOptedOut)
	default:
		err = r.plan(rows)
		if err == nil {
			err = r.bookingConfirmation(rows)
		}
	}
	if err != nil {
		return err
	}
	for _, m := range r.changed {
		s.publish(m)
	}
	if r.kick {
		s.kickDispatcher()
	}
	if cascade && r.freed {
		return r.cascade()
	}
	return nil
}

// loadAppointment loads an appointment with its Patient, Location and
// Provider; lock takes the appointment's row lock on PostgreSQL.
func loadAppointment(ctx context.Context, tx *models.Store, id uint, lock bool) (*models.Appointment, error) {
	db := tx.DB(ctx)
	if lock {
		db = db.Scopes(models.ForUpdate(tx))
	}
	var a models.Appointment
	if err := db.First(&a, id).Error; err != nil {
		return nil, fmt.Errorf("appointment %d: %w", id, models.Classify(err))
	}
	var p models.Patient
	if err := tx.DB(ctx).First(&p, a.PatientID).Error; err != nil {
		return nil, fmt.Errorf("appointment %d: patient: %w", id, models.Classify(err))
	}
	a.Patient = &p
	var l models.Location
	if err := tx.DB(ctx).First(&l, a.LocationID).Error; err != nil {
		return nil, fmt.Errorf("appointment %d: location: %w", id, models.Classify(err))
	}
	a.Location = &l
	if a.ProviderID != nil {
		var pr models.Provider
		if err := tx.DB(ctx).First(&pr, *a.ProviderID).Error; err != nil {
			return nil, fmt.Errorf("appointment %d: provider: %w", id, models.Classify(err))
		}
		a.Provider = &pr
	}
	return &a, nil
}

// cancelAll cancels every planned reminder and booking confirmation.
func (r *replanning) cancelAll(rows []*models.Message, reason string) error {
	for _, m := range rows {
		if m.Status != models.MsgPlanned || m.Kind == models.KindCancellation {
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
	rules, err := loadRules(r.ctx, r.tx)
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
		Confirmed:     r.a.Status == models.Confirmed,
		Active:        true,
		Now:           r.now,
		Others:        others,
		Caps:          r.s.opts.Caps,
	}
	known := map[uint]*models.ReminderRule{}
	for i := range rules {
		known[rules[i].ID] = &rules[i]
		in.Rules = append(in.Rules, schedule.Rule{
			ID: rules[i].ID, Name: rules[i].Name, Before: rules[i].Before(),
			OnlyIfUnconfirmed: rules[i].OnlyIfUnconfirmed, Enabled: rules[i].Enabled,
		})
	}
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
		if rule.Enabled {
			continue
		}
		for _, m := range byRule[rule.ID] {
			if m.Status == models.MsgPlanned {
				if err := r.finish(m, models.MsgCancelled, ReasonRuleDisabled); err != nil {
					return err
				}
			}
		}
	}
	for _, p := range schedule.Plan(in) {
		if err := r.apply(p, known[p.RuleID], byRule[p.RuleID]); err != nil {
			return err
		}
	}
	return nil
}

// otherReminders returns the send times of the patient's reminders for
// other appointments, planned or gone out, around this appointment (they
// count towards the caps).
func (r *replanning) otherReminders(rules []models.ReminderRule) ([]time.Time, error) {
	var longest time.Duration
	for _, rule := range rules {
		longest = max(longest, rule.Before())
	}
	// Plans fall between StartsAt-longest (a day earlier with quiet hours)
	// and StartsAt; caps look one week either way.
	from := r.a.StartsAt.Add(-longest - 9*24*time.Hour)
	to := r.a.StartsAt.Add(8 * 24 * time.Hour)
	var rows []struct {
		SendAt time.Time
		SentAt *time.Time
	}
	err := r.tx.DB(r.ctx).Model(&models.Message{}).Select("send_at, sent_at").
		Where("patient_id = ? AND kind = ? AND appointment_id <> ? AND status IN ? AND send_at >= ? AND send_at < ?",
			r.a.PatientID, models.KindReminder, r.a.ID, countedStatuses(), from, to).
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load other reminders: %w", models.Classify(err))
	}
	out := make([]time.Time, 0, len(rows))
	for _, row := range rows {
		if row.SentAt != nil {
			out = append(out, *row.SentAt)
		} else {
			out = append(out, row.SendAt)
		}
	}
	return out, nil
}

// countedStatuses are the states of a reminder that count towards the caps.
func countedStatuses() []string {
	return []string{
		string(models.MsgPlanned), string(models.MsgSending), string(models.MsgAccepted),
		string(models.MsgSent), string(models.MsgDelivered),
	}
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
			return r.move(live, p.SendAt, rule)
		}
		return r.insert(rule, p.SendAt, models.MsgPlanned, "")
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
	return r.insert(rule, p.SendAt, models.MsgSkipped, reason)
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

// insert adds a reminder for rule in status st.
func (r *replanning) insert(rule *models.ReminderRule, sendAt time.Time, st models.MessageStatus, reason string) error {
	ruleID := rule.ID
	m := &models.Message{
		UUID:          uuid.NewString(),
		AppointmentID: &r.a.ID,
		PatientID:     &r.a.PatientID,
		RuleID:        &ruleID,
		RuleName:      rule.Name,
		Kind:          models.KindReminder,
		To:            r.a.Patient.Phone,
		Status:        st,
		SendAt:        dbTime(sendAt),
		Reason:        truncate(reason, 500),
		CreatedAt:     r.now,
		UpdatedAt:     r.now,
	}
	if err := r.tx.DB(r.ctx).Create(m).Error; err != nil {
		return fmt.Errorf("insert reminder %q: %w", rule.Name, models.Classify(err))
	}
	detail := Label(m) + " planned for " + When(m.SendAt, r.zone)
	if st == models.MsgSkipped {
		detail = Label(m) + " skipped: " + reason
	}
	r.changed = append(r.changed, m)
	return Timeline(r.ctx, r.tx, m, r.now, detail)
}

// move updates a live planned reminder in place: its time, number and rule
// name follow the plan; its body is cleared so it renders afresh when sent.
func (r *replanning) move(m *models.Message, sendAt time.Time, rule *models.ReminderRule) error {
	sendAt = dbTime(sendAt)
	moved := !m.SendAt.Equal(sendAt)
	if !moved && m.To == r.a.Patient.Phone && m.RuleName == rule.Name && m.Body == "" {
		return nil
	}
	upd := map[string]any{
		"send_at": sendAt, "to": r.a.Patient.Phone, "patient_id": r.a.PatientID,
		"rule_name": rule.Name, "body": "", "reason": "", "updated_at": r.now,
	}
	if err := r.update(m, upd); err != nil {
		return err
	}
	was := m.SendAt
	m.SendAt, m.To, m.RuleName, m.Body = sendAt, r.a.Patient.Phone, rule.Name, ""
	if !moved {
		return nil
	}
	r.freed = true
	r.changed = append(r.changed, m)
	return Timeline(r.ctx, r.tx, m, r.now, fmt.Sprintf("%s moved to %s (was %s)", Label(m), When(sendAt, r.zone), When(was, r.zone)))
}

// finish ends a planned message with status st and reason.
func (r *replanning) finish(m *models.Message, st models.MessageStatus, reason string) error {
	reason = truncate(reason, 500)
	if err := r.update(m, map[string]any{"status": st, "reason": reason, "lease_until": nil, "updated_at": r.now}); err != nil {
		return err
	}
	m.Status, m.Reason = st, reason
	r.freed = true
	r.changed = append(r.changed, m)
	return Timeline(r.ctx, r.tx, m, r.now, fmt.Sprintf("%s %s: %s", Label(m), st, reason))
}

// errChanged means a planned message changed under us (it was claimed).
var errChanged = errors.New("message changed meanwhile")

// update changes a message that must still be planned.
func (r *replanning) update(m *models.Message, upd map[string]any) error {
	res := r.tx.DB(r.ctx).Model(&models.Message{}).Where("id = ? AND status = ?", m.ID, models.MsgPlanned).Updates(upd)
	if res.Error != nil {
		return fmt.Errorf("update message %d: %w", m.ID, models.Classify(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("message %d: %w: %w", m.ID, errChanged, models.ErrConflict)
	}
	return nil
}

// cascade replans the patient's other upcoming active appointments that
// have a reminder suppressed by the caps.
func (r *replanning) cascade() error {
	var ids []uint
	err := r.tx.DB(r.ctx).Model(&models.Message{}).Distinct("appointment_id").
		Where("patient_id = ? AND kind = ? AND status = ? AND appointment_id <> ? AND reason LIKE ?",
			r.a.PatientID, models.KindReminder, models.MsgSkipped, r.a.ID, capReasonPrefix+"%").
		Where("appointment_id IN (?)", r.tx.DB(r.ctx).Model(&models.Appointment{}).Select("id").
			Where("patient_id = ? AND starts_at > ? AND status IN ?", r.a.PatientID, r.now,
				[]string{string(models.Scheduled), string(models.Confirmed)})).
		Pluck("appointment_id", &ids).Error
	if err != nil {
		return fmt.Errorf("find capped appointments: %w", models.Classify(err))
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := r.s.replan(r.ctx, r.tx, id, r.now, false); err != nil {
			return fmt.Errorf("appointment %d: %w", id, err)
		}
	}
	return nil
}

// loadRules returns every reminder rule, enabled or not, by id.
func loadRules(ctx context.Context, db *models.Store) ([]models.ReminderRule, error) {
	var rules []models.ReminderRule
	if err := db.DB(ctx).Order("id").Find(&rules).Error; err != nil {
		return nil, fmt.Errorf("load rules: %w", models.Classify(err))
	}
	return rules, nil
}
