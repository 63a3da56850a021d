package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"apptconfirm/app/reminders"
	"apptconfirm/app/render"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// Reasons the claim-time checks give (QUALITY S6 and the appointment's
// current state win over what was planned).
const (
	ReasonOptedOut        = reminders.ReasonOptedOut
	ReasonOptedBackIn     = "the patient opted back in before it went out"
	ReasonAckAlreadySent  = "an opt-out acknowledgement was already sent"
	ReasonNoAppointment   = "the appointment no longer exists"
	ReasonStarted         = "the appointment had already started"
	ReasonQuietHours      = "it could not go out before the location's quiet hours began"
	ReasonRestored        = "the appointment is no longer cancelled"
	reasonGaveUpFormat    = "gave up after %d attempts: %s"
	reasonInterrupted     = "the send was interrupted"
	maxBodyLen            = 1600
	reasonBodyTooLongText = "the text is longer than 1600 characters"
)

// automated kinds are sent on the clinic's initiative and obey the
// appointment's state and quiet hours; replies to a patient do not.
func automated(kind string) bool {
	switch kind {
	case models.KindReminder, models.KindBookingConfirm, models.KindCancellation:
		return true
	}
	return false
}

// context is what the checks need about a batch of messages.
type batchContext struct {
	appts     map[uint]*models.Appointment
	patients  map[uint]*models.Patient
	rules     map[uint]*models.ReminderRule
	optedOut  map[string]bool
	templates map[string]string
	zones     reminders.Zones
}

// load reads, in a few queries, everything the checks need for batch.
func loadContext(ctx context.Context, tx *models.Store, batch []*claimed) (*batchContext, error) {
	var apptIDs, patientIDs, ruleIDs []uint
	var phones []string
	for _, c := range batch {
		m := c.msg
		if m.AppointmentID != nil {
			apptIDs = append(apptIDs, *m.AppointmentID)
		}
		if m.PatientID != nil {
			patientIDs = append(patientIDs, *m.PatientID)
		}
		if m.RuleID != nil {
			ruleIDs = append(ruleIDs, *m.RuleID)
		}
		phones = append(phones, m.To)
	}
	bc := &batchContext{
		patients: map[uint]*models.Patient{}, rules: map[uint]*models.ReminderRule{},
		optedOut: map[string]bool{}, zones: reminders.Zones{},
	}
	var err error
	if bc.appts, err = reminders.LoadAppointments(ctx, tx, apptIDs); err != nil {
		return nil, err
	}
	for _, a := range bc.appts {
		if a.Patient != nil {
			bc.patients[a.Patient.ID] = a.Patient
		}
	}
	var missing []uint
	for _, id := range patientIDs {
		if bc.patients[id] == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		var ps []models.Patient
		if err := tx.DB(ctx).Where("id IN ?", missing).Find(&ps).Error; err != nil {
			return nil, fmt.Errorf("load patients: %w", err)
		}
		for i := range ps {
			bc.patients[ps[i].ID] = &ps[i]
		}
	}
	if len(ruleIDs) > 0 {
		var rs []models.ReminderRule
		if err := tx.DB(ctx).Where("id IN ?", ruleIDs).Find(&rs).Error; err != nil {
			return nil, fmt.Errorf("load rules: %w", err)
		}
		for i := range rs {
			bc.rules[rs[i].ID] = &rs[i]
		}
	}
	// A STOP from a phone opts out every patient sharing that phone.
	var out []string
	if err := tx.DB(ctx).Model(&models.Patient{}).Where("phone IN ? AND opted_out_at IS NOT NULL", phones).
		Pluck("phone", &out).Error; err != nil {
		return nil, fmt.Errorf("load opt-outs: %w", err)
	}
	for _, p := range out {
		bc.optedOut[p] = true
	}
	return bc, nil
}

// patientOf returns the message's recipient patient, when known.
func (bc *batchContext) patientOf(m *models.Message) *models.Patient {
	if m.PatientID != nil {
		if p := bc.patients[*m.PatientID]; p != nil {
			return p
		}
	}
	if a := bc.appointmentOf(m); a != nil {
		return a.Patient
	}
	return nil
}

func (bc *batchContext) appointmentOf(m *models.Message) *models.Appointment {
	if m.AppointmentID == nil {
		return nil
	}
	return bc.appts[*m.AppointmentID]
}

// verdict is what a check decides: send (status "") or end the message.
type verdict struct {
	status models.MessageStatus
	reason string
}

func send() verdict { return verdict{} }

func end(st models.MessageStatus, reason string) verdict { return verdict{status: st, reason: reason} }

// decide re-checks at claim time that m is still wanted.
func (d *Dispatcher) decide(ctx context.Context, tx *models.Store, bc *batchContext, c *claimed, now time.Time) (verdict, error) {
	m := c.msg
	if prev := m.Attempts - 1; prev >= d.opts.MaxAttempts {
		last := m.Reason
		if last == "" {
			last = reasonInterrupted
		}
		return end(models.MsgFailed, fmt.Sprintf(reasonGaveUpFormat, prev, last)), nil
	}
	p := bc.patientOf(m)
	if m.Kind == models.KindOptOutAck {
		return d.decideOptOutAck(ctx, tx, m, p)
	}
	if (p != nil && p.OptedOut()) || bc.optedOut[m.To] {
		return end(models.MsgCancelled, ReasonOptedOut), nil
	}
	if !automated(m.Kind) {
		return send(), nil
	}
	a := bc.appointmentOf(m)
	if a == nil {
		return end(models.MsgCancelled, ReasonNoAppointment), nil
	}
	switch m.Kind {
	case models.KindCancellation:
		if a.Status != models.Cancelled {
			return end(models.MsgCancelled, ReasonRestored), nil
		}
	default:
		if !a.Status.Active() {
			return end(models.MsgCancelled, "the appointment is "+statusWord(a.Status)), nil
		}
	}
	if !a.StartsAt.After(now) {
		return end(models.MsgSkipped, ReasonStarted), nil
	}
	if m.Kind == models.KindReminder {
		var rule *models.ReminderRule
		if m.RuleID != nil {
			rule = bc.rules[*m.RuleID]
		}
		switch {
		case rule == nil:
			return end(models.MsgCancelled, reminders.ReasonRuleRemoved), nil
		case !rule.Enabled:
			return end(models.MsgCancelled, reminders.ReasonRuleDisabled), nil
		case rule.OnlyIfUnconfirmed && a.Status == models.Confirmed:
			return end(models.MsgSkipped, reminders.SkipReason(schedule.ReasonConfirmed)), nil
		}
	}
	if a.Location != nil && schedule.InQuiet(now, bc.zones.Of(a.Location), reminders.Quiet(a.Location)) {
		return end(models.MsgSkipped, ReasonQuietHours), nil
	}
	return send(), nil
}

// decideOptOutAck lets the acknowledgement of an opt-out reach the
// opted-out patient exactly once per opt-out.
func (d *Dispatcher) decideOptOutAck(ctx context.Context, tx *models.Store, m *models.Message, p *models.Patient) (verdict, error) {
	if p == nil {
		return send(), nil
	}
	if !p.OptedOut() {
		return end(models.MsgCancelled, ReasonOptedBackIn), nil
	}
	var n int64
	err := tx.DB(ctx).Model(&models.Message{}).
		Where("kind = ? AND id <> ? AND created_at >= ? AND status IN ?", models.KindOptOutAck, m.ID, *p.OptedOutAt,
			[]string{string(models.MsgSending), string(models.MsgAccepted), string(models.MsgSent), string(models.MsgDelivered)}).
		Where(tx.DB(ctx).Where("patient_id = ?", p.ID).Or("\"to\" = ?", m.To)).
		Count(&n).Error
	if err != nil {
		return verdict{}, fmt.Errorf("find earlier acknowledgements: %w", err)
	}
	if n > 0 {
		return end(models.MsgCancelled, ReasonAckAlreadySent), nil
	}
	return send(), nil
}

// check runs the claim-time checks on batch inside the claim's
// transaction: messages no longer wanted are ended (with a timeline
// entry), and the bodies of the others are rendered and stored.
func (d *Dispatcher) check(ctx context.Context, tx *models.Store, batch []*claimed, now time.Time) ([]*claimed, []*models.Message, error) {
	bc, err := loadContext(ctx, tx, batch)
	if err != nil {
		return nil, nil, err
	}
	var out []*claimed
	var changed []*models.Message
	for _, c := range batch {
		m := c.msg
		if p := bc.patientOf(m); p != nil {
			id := p.ID
			c.patientID = &id
		}
		c.label = label(m)
		v, err := d.decide(ctx, tx, bc, c, now)
		if err != nil {
			return nil, nil, err
		}
		if v.status == "" && m.Body == "" {
			v, err = d.renderBody(ctx, tx, bc, c)
			if err != nil {
				return nil, nil, err
			}
		}
		if v.status != "" {
			if err := d.endClaimed(ctx, tx, c, v, now); err != nil {
				return nil, nil, err
			}
			changed = append(changed, m)
			continue
		}
		changed = append(changed, m)
		out = append(out, c)
	}
	return out, changed, nil
}

// renderBody writes m's text from its rule or template. The text is stored
// with the send's outcome, so a retry sends exactly the same text (and if
// the outcome is lost, the retry's idempotencyId makes SMS.CX answer with
// the original send).
func (d *Dispatcher) renderBody(ctx context.Context, tx *models.Store, bc *batchContext, c *claimed) (verdict, error) {
	m := c.msg
	if bc.templates == nil && m.Kind != models.KindReminder {
		t, err := reminders.LoadTemplates(ctx, tx)
		if err != nil {
			return verdict{}, err
		}
		bc.templates = t
	}
	var rule *models.ReminderRule
	if m.RuleID != nil {
		rule = bc.rules[*m.RuleID]
	}
	body, err := reminders.Compose(m, bc.appointmentOf(m), rule, bc.templates, bc.zones)
	var rerr *render.Error
	switch {
	case errors.As(err, &rerr), errors.Is(err, reminders.ErrNothingToSend):
		return end(models.MsgFailed, "the text could not be written: "+err.Error()), nil
	case err != nil:
		return verdict{}, err
	case utf8.RuneCountInString(body) > maxBodyLen:
		return end(models.MsgFailed, reasonBodyTooLongText), nil
	}
	m.Body, c.rendered = body, true
	return send(), nil
}

// endClaimed ends a claimed message that will not be sent: the claim's
// attempt is taken back.
func (d *Dispatcher) endClaimed(ctx context.Context, tx *models.Store, c *claimed, v verdict, now time.Time) error {
	m := c.msg
	err := tx.DB(ctx).Model(&models.Message{}).Where("id = ?", m.ID).Updates(map[string]any{
		"status": v.status, "reason": truncate(v.reason, 500), "lease_until": nil,
		"attempts": gorm.Expr("attempts - 1"), "updated_at": now,
	}).Error
	if err != nil {
		return err
	}
	m.Status, m.Reason, m.LeaseUntil, m.Attempts = v.status, truncate(v.reason, 500), nil, m.Attempts-1
	return reminders.Timeline(ctx, tx, m, now, fmt.Sprintf("%s %s: %s", c.label, v.status, v.reason))
}

// statusWord is an appointment state as people say it.
func statusWord(s models.AppointmentStatus) string {
	if s == models.NoShow {
		return "marked no-show"
	}
	return string(s)
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
