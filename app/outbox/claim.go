package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"apptconfirm/app/render"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// Reasons the claim-time checks give: the patient's opt-out and the
// appointment's current state win over what was planned.
const (
	ReasonOptedBackIn    = "the patient opted back in before it went out"
	ReasonAckAlreadySent = "an opt-out acknowledgement was already sent"
	ReasonNoAppointment  = "the appointment no longer exists"
	ReasonStarted        = "the appointment had already started"
	ReasonQuietHours     = "it could not go out before the location's quiet hours began"
	ReasonRestored       = "the appointment is no longer cancelled"
	// ReasonNoLongerNoShow ends a no-show follow-up whose appointment was
	// marked attended meanwhile.
	ReasonNoLongerNoShow = "the patient was marked as having come after all"
	ReasonErased         = "the patient was erased"
	// ReasonStartsInQuiet ends a retry (SMS.CX cannot have taken it) whose
	// appointment starts before the quiet hours it fell in end.
	ReasonStartsInQuiet   = "the appointment starts before the location's quiet hours end"
	reasonGaveUpFormat    = "gave up after %d attempts: %s"
	reasonUnknownSuffix   = "; SMS.CX may have taken an earlier try, so the outcome is unknown until its delivery report arrives"
	reasonInterrupted     = "the send was interrupted"
	reasonBodyTooLongText = "the text is longer than 1600 characters"
)

// GaveUp is the reason of a message failed after attempts tries, the last
// of which failed for last.
func GaveUp(attempts int, last string) string {
	return fmt.Sprintf(reasonGaveUpFormat, attempts, last)
}

// GaveUpInDoubt is the reason of a message no longer tried while SMS.CX
// may have taken it: why (GaveUp, or the appointment starting) and that
// the outcome is unknown.
func GaveUpInDoubt(why string) string { return why + reasonUnknownSuffix }

// Claimed is a message the caller holds for sending: its status is
// sending, Attempts counts this try, LeaseUntil is the lease and Body the
// text to send.
type Claimed struct {
	Message *models.Message
	// Label names the message on the timeline.
	Label string
	// PatientID is the recipient patient, when known.
	PatientID *uint
	// prev is the message as it was before the claim, to release it unsent.
	prev models.Message
	// rendered: the body was written at this claim and is stored with the
	// outcome.
	rendered bool
}

// WasRetried reports whether the claimed message was taken up again (a
// retry, or one whose lease expired mid-send).
func (c *Claimed) WasRetried() bool { return c.prev.Status == models.MsgSending }

// WasInDoubt reports whether an earlier try of the claimed message may
// have reached SMS.CX (and no answer has settled it since).
func (c *Claimed) WasInDoubt() bool { return c.prev.Status == models.MsgSending && c.prev.InDoubt }

// Claim is how a dispatcher claims messages.
type Claim struct {
	// Limit is how many messages one claim takes.
	Limit int
	// Lease is how long the claim holds; a message still sending after it
	// is taken over (and resent with the same idempotencyId).
	Lease time.Duration
	// MaxAttempts bounds the tries of a message; one claimed again after
	// that many is failed with the reason of its last try.
	MaxAttempts int
	// Now is the claimer's clock reading; zero means the outbox's clock.
	Now time.Time
}

// now is c.Now, or the outbox's clock.
func (c Claim) now(o *Outbox) time.Time {
	if c.Now.IsZero() {
		return o.clock()
	}
	return models.DBTime(c.Now)
}

// Claim takes up to c.Limit due messages for sending (expired leases
// first, then planned ones by send time) and re-checks each in the same
// transaction: a message no longer wanted (the patient opted out, the
// appointment is no longer active or has started, the rule was disabled,
// quiet hours began) is ended with its reason; the others are returned
// with their bodies rendered. ended lists the messages the checks ended.
//
// A message taken up again (a retry, or one whose lease expired mid-send)
// is not checked like a new one. One that may have reached SMS.CX (in
// doubt: no answer came, or a server error) is resent with the same
// idempotencyId before anything else: SMS.CX answers with the original
// send if it took it, so a message it accepted is recorded accepted, never
// cancelled or skipped, and its delivery report and the patient's answer
// count. And a retry due in quiet hours waits until they end, rather than
// being dropped; once they end it is checked (or resent) as above.
func (o *Outbox) Claim(ctx context.Context, c Claim) (claimed []*Claimed, ended []*models.Message, err error) {
	now := c.now(o)
	err = o.store.Tx(ctx, func(ctx context.Context) error {
		ms, prev, err := o.store.ClaimDue(ctx, now, now.Add(c.Lease), c.Limit)
		if err != nil || len(ms) == 0 {
			return err
		}
		claimed, ended, err = o.check(ctx, ms, prev, c.MaxAttempts, now)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("outbox: claim: %w", err)
	}
	return claimed, ended, nil
}

// ClaimOne claims one planned message for sending now, for staff's "send
// now", with the same checks as Claim, and writes the audit row and the
// staff timeline entry of the action. claimed is nil when the checks ended
// the message. ErrNotPlanned when it is no longer planned,
// models.ErrNotFound when it does not exist.
func (o *Outbox) ClaimOne(ctx context.Context, id uint, c Claim, actor models.Actor) (claimed *Claimed, ended []*models.Message, err error) {
	now := c.now(o)
	err = o.store.Tx(ctx, func(ctx context.Context) error {
		m, prev, err := o.store.ClaimPlanned(ctx, id, now, now.Add(c.Lease))
		if errors.Is(err, models.ErrConflict) {
			return ErrNotPlanned
		}
		if err != nil {
			return err
		}
		if err := o.staffRecord(ctx, m, actor, now, "message.send_now", Label(m)+" sent now by "+actor.Label()); err != nil {
			return err
		}
		out, ended2, err := o.check(ctx, []*models.Message{m}, []models.Message{prev}, c.MaxAttempts, now)
		if err != nil {
			return err
		}
		ended = ended2
		if len(out) == 1 {
			claimed = out[0]
		}
		return nil
	})
	if err != nil {
		return nil, nil, wrapStaff("outbox: send now", err)
	}
	return claimed, ended, nil
}

// batchContext is what the checks need about a batch of messages.
type batchContext struct {
	appts    map[uint]*models.Appointment
	patients map[uint]*models.Patient
	rules    map[uint]*models.ReminderRule
	optedOut map[string]bool
	// suppressed: numbers on the suppression list (opted out under a
	// patient since erased).
	suppressed map[string]bool
	templates  *Texts
	zones      Zones
}

// loadContext reads, in a few queries, everything the checks need.
func (o *Outbox) loadContext(ctx context.Context, batch []*models.Message) (*batchContext, error) {
	var apptIDs, patientIDs, ruleIDs []uint
	var phones []string
	for _, m := range batch {
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
	bc := &batchContext{zones: Zones{}}
	var err error
	if bc.appts, err = o.store.AppointmentsByID(ctx, apptIDs); err != nil {
		return nil, err
	}
	var missing []uint
	known := map[uint]*models.Patient{}
	for _, a := range bc.appts {
		if a.Patient != nil {
			known[a.Patient.ID] = a.Patient
		}
	}
	for _, id := range patientIDs {
		if known[id] == nil {
			missing = append(missing, id)
		}
	}
	if bc.patients, err = o.store.PatientsByID(ctx, missing); err != nil {
		return nil, err
	}
	for id, p := range known {
		bc.patients[id] = p
	}
	if bc.rules, err = o.store.RulesByID(ctx, ruleIDs); err != nil {
		return nil, err
	}
	// A STOP from a phone opts out every patient sharing that phone.
	if bc.optedOut, err = o.store.OptedOutPhones(ctx, phones); err != nil {
		return nil, err
	}
	if bc.suppressed, err = o.store.SuppressedNumbers(ctx, phones); err != nil {
		return nil, err
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

// quietUntil reports whether m, an automated message, would go out in its
// location's quiet hours at now, and if so when they end.
func (bc *batchContext) quietUntil(m *models.Message, now time.Time) (time.Time, bool) {
	if !automated(m.Kind) {
		return time.Time{}, false
	}
	a := bc.appointmentOf(m)
	if a == nil || a.Location == nil {
		return time.Time{}, false
	}
	zone, quiet := bc.zones.Of(a.Location), Quiet(a.Location)
	if !schedule.InQuiet(now, zone, quiet) {
		return time.Time{}, false
	}
	until, ok := AfterQuiet(now, zone, quiet)
	return until, ok
}

// automated reports whether a kind is sent on the clinic's initiative and
// so obeys the appointment's state and quiet hours; replies to a patient
// do not.
func automated(kind string) bool {
	switch kind {
	case models.KindReminder, models.KindBookingConfirm, models.KindCancellation, models.KindRescheduleNotice,
		models.KindNoShowFollowUp:
		return true
	}
	return false
}

// verdict is what a check decides: send (status "" and no hold), end the
// message with status, put it back to wait until holdUntil, or (doubt)
// stop trying a message SMS.CX may have taken, leaving it in doubt.
type verdict struct {
	status    models.MessageStatus
	reason    string
	holdUntil time.Time
	doubt     bool
}

// leaveInDoubt stops trying a message whose outcome is unknown: it stays
// sending and in doubt, with no lease, for staff to see and for its
// delivery report to settle.
func leaveInDoubt(why string) verdict { return verdict{doubt: true, reason: GaveUpInDoubt(why)} }

func send() verdict { return verdict{} }

func hold(until time.Time) verdict { return verdict{holdUntil: until} }

func end(st models.MessageStatus, reason string) verdict { return verdict{status: st, reason: reason} }

// decide re-checks at claim time that m is still wanted; prev is m as it
// was before the claim.
func (o *Outbox) decide(ctx context.Context, bc *batchContext, m *models.Message, prev models.Message, maxAttempts int, now time.Time) (verdict, error) {
	retry := prev.Status == models.MsgSending
	if m.To == "" {
		// The patient was erased: there is no number to send to.
		return end(models.MsgCancelled, ReasonErased), nil
	}
	if retry {
		// Taken up again: a retry never goes out in quiet hours; it waits
		// for their end, whatever its attempt count (a wait is no
		// attempt), unless the appointment starts before then.
		if until, ok := bc.quietUntil(m, now); ok {
			if a := bc.appointmentOf(m); a == nil || a.StartsAt.After(until) || m.Kind == models.KindNoShowFollowUp {
				return hold(until), nil
			}
			if prev.InDoubt {
				return leaveInDoubt(ReasonStartsInQuiet), nil
			}
			return end(models.MsgSkipped, ReasonStartsInQuiet), nil
		}
	}
	if tried := m.Attempts - 1; maxAttempts > 0 && tried >= maxAttempts {
		last := m.Reason
		if last == "" {
			last = reasonInterrupted
		}
		if retry && prev.InDoubt {
			// Not recorded failed: SMS.CX may have sent it.
			return leaveInDoubt(GaveUp(tried, last)), nil
		}
		return end(models.MsgFailed, GaveUp(tried, last)), nil
	}
	if retry {
		if prev.InDoubt {
			// SMS.CX may have it: resend with the same idempotencyId to
			// learn what became of it, whatever changed since.
			return send(), nil
		}
	}
	p := bc.patientOf(m)
	if p != nil && p.ErasedAt != nil {
		return end(models.MsgCancelled, ReasonErased), nil
	}
	if m.Kind == models.KindOptOutAck {
		return o.decideOptOutAck(ctx, m, p)
	}
	if (p != nil && p.OptedOut()) || bc.optedOut[m.To] || bc.suppressed[m.To] {
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
	case models.KindNoShowFollowUp:
		// About a visit already missed: its start is past by design.
		if a.Status != models.NoShow {
			return end(models.MsgCancelled, ReasonNoLongerNoShow), nil
		}
		if until, ok := bc.quietUntil(m, now); ok {
			return hold(until), nil
		}
		return send(), nil
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
			return end(models.MsgCancelled, ReasonRuleRemoved), nil
		case !rule.Enabled:
			return end(models.MsgCancelled, ReasonRuleDisabled), nil
		case rule.OnlyIfUnconfirmed && a.Status == models.Confirmed:
			return end(models.MsgSkipped, SkipReason(schedule.ReasonConfirmed)), nil
		case !rule.Covers(a):
			return end(models.MsgCancelled, ReasonOutOfScope), nil
		case rule.IsNudge():
			v, err := o.decideNudge(ctx, a, rule)
			if err != nil || v.status != "" {
				return v, err
			}
		}
	}
	if a.Location != nil && schedule.InQuiet(now, bc.zones.Of(a.Location), Quiet(a.Location)) {
		return end(models.MsgSkipped, ReasonQuietHours), nil
	}
	return send(), nil
}

// decideOptOutAck lets the acknowledgement of an opt-out reach the
// opted-out patient exactly once per opt-out.
func (o *Outbox) decideOptOutAck(ctx context.Context, m *models.Message, p *models.Patient) (verdict, error) {
	if p == nil {
		return send(), nil
	}
	if !p.OptedOut() {
		return end(models.MsgCancelled, ReasonOptedBackIn), nil
	}
	n, err := o.store.OptOutAcksSince(ctx, m.ID, p.ID, m.To, *p.OptedOutAt)
	if err != nil {
		return verdict{}, err
	}
	if n > 0 {
		return end(models.MsgCancelled, ReasonAckAlreadySent), nil
	}
	return send(), nil
}

// check runs the claim-time checks on a claimed batch inside the claim's
// transaction: messages no longer wanted are ended (with a timeline entry
// and a domain event), and the bodies of the others are rendered. Every
// claimed message gets a domain event (it is now sending, or ended).
func (o *Outbox) check(ctx context.Context, batch []*models.Message, prev []models.Message, maxAttempts int, now time.Time) ([]*Claimed, []*models.Message, error) {
	bc, err := o.loadContext(ctx, batch)
	if err != nil {
		return nil, nil, err
	}
	var out []*Claimed
	var ended []*models.Message
	events := make([]models.Event, 0, len(batch))
	for i, m := range batch {
		var rule *models.ReminderRule
		if m.RuleID != nil {
			rule = bc.rules[*m.RuleID]
		}
		c := &Claimed{Message: m, Label: Name(m, rule), prev: prev[i]}
		if p := bc.patientOf(m); p != nil {
			id := p.ID
			c.PatientID = &id
		}
		v, err := o.decide(ctx, bc, m, prev[i], maxAttempts, now)
		if err != nil {
			return nil, nil, err
		}
		if !v.holdUntil.IsZero() {
			if err := o.store.HoldClaim(ctx, m, prev[i], v.holdUntil, now); err != nil {
				return nil, nil, err
			}
			until := models.DBTime(v.holdUntil)
			m.LeaseUntil, m.Attempts, m.InDoubt = &until, m.Attempts-1, prev[i].InDoubt
			zone := time.UTC
			if a := bc.appointmentOf(m); a != nil {
				zone = bc.zones.Of(a.Location)
			}
			detail := fmt.Sprintf("%s not sent yet: quiet hours; trying again at %s", c.Label, When(until, zone))
			if e, ok := TimelineEntry(m, now, detail); ok {
				if err := o.store.AddTimeline(ctx, e); err != nil {
					return nil, nil, err
				}
			}
			events = append(events, MessageEvent(m, now, detail))
			continue
		}
		if v.doubt {
			if _, err := o.store.LeaveInDoubt(ctx, m, v.reason, false, now); err != nil {
				return nil, nil, err
			}
			m.LeaseUntil, m.Attempts, m.InDoubt, m.Reason = nil, m.Attempts-1, true, models.Clip(v.reason, 500)
			detail := fmt.Sprintf("%s outcome unknown: %s", c.Label, v.reason)
			if e, ok := TimelineEntry(m, now, detail); ok {
				if err := o.store.AddTimeline(ctx, e); err != nil {
					return nil, nil, err
				}
			}
			events = append(events, MessageEvent(m, now, detail))
			ended = append(ended, m)
			continue
		}
		if v.status == "" && (m.Body == "" || rewritten(m, prev[i].Status == models.MsgSending)) {
			if v, err = o.renderBody(ctx, bc, c, now); err != nil {
				return nil, nil, err
			}
		}
		if v.status != "" {
			if err := o.store.EndClaim(ctx, m, v.status, v.reason, now); err != nil {
				return nil, nil, err
			}
			m.Status, m.Reason, m.LeaseUntil, m.Attempts = v.status, models.Clip(v.reason, 500), nil, m.Attempts-1
			detail := fmt.Sprintf("%s %s: %s", c.Label, v.status, v.reason)
			if e, ok := TimelineEntry(m, now, detail); ok {
				if err := o.store.AddTimeline(ctx, e); err != nil {
					return nil, nil, err
				}
			}
			events = append(events, MessageEvent(m, now, detail))
			ended = append(ended, m)
			continue
		}
		events = append(events, MessageEvent(m, now, ""))
		out = append(out, c)
	}
	if err := o.store.Record(ctx, events...); err != nil {
		return nil, nil, err
	}
	return out, ended, nil
}

// rewritten reports whether claimed message m (retry: taken up again) is
// written again from the clinic's texts: reminders and notices at every
// claim (they are written when they go out), and the acknowledgements of
// an answer about an appointment (written when queued, which is when they
// go out) when they are retried. So words that depend on the send time
// ("today", "tomorrow") are true when it really goes out, after a retry or
// a quiet-hours wait as much as on time. Other texts (help, the numbered
// question, staff's) go out as they were written.
func rewritten(m *models.Message, retry bool) bool {
	switch m.Kind {
	case models.KindAckConfirm, models.KindAckCancel:
		return retry && m.AppointmentID != nil
	}
	return automated(m.Kind)
}

// renderBody writes the claimed message's text from its rule's or its
// kind's text, in the patient's language, as it reads at now, and stores
// it (and its language) in the claim's transaction, before the send: the
// timeline shows the text that is going out. A retry that SMS.CX may have
// taken already carries the same idempotencyId, so SMS.CX answers with the
// original send; the text it reports is then stored instead (see Record).
func (o *Outbox) renderBody(ctx context.Context, bc *batchContext, c *Claimed, now time.Time) (verdict, error) {
	m := c.Message
	if bc.templates == nil {
		t, err := o.Texts(ctx)
		if err != nil {
			return verdict{}, err
		}
		bc.templates = t
	}
	var rule *models.ReminderRule
	if m.RuleID != nil {
		rule = bc.rules[*m.RuleID]
	}
	fresh := *m
	if rewritten(m, c.WasRetried()) {
		fresh.Body = ""
	}
	composed, err := bc.templates.Compose(&fresh, bc.appointmentOf(m), rule, bc.zones, now)
	var rerr *render.Error
	switch {
	case (errors.As(err, &rerr) || errors.Is(err, ErrNothingToSend)) && m.Body != "":
		// It cannot be written again (its appointment is gone, its text
		// no longer renders): the text it was written with goes out.
		return send(), nil
	case errors.As(err, &rerr), errors.Is(err, ErrNothingToSend):
		return end(models.MsgFailed, "the text could not be written: "+err.Error()), nil
	case err != nil:
		return verdict{}, err
	case utf8.RuneCountInString(composed.Text) > maxBody:
		return end(models.MsgFailed, reasonBodyTooLongText), nil
	}
	m.Body, m.Language, m.FallbackFrom, c.rendered = composed.Text, composed.Language, composed.FallbackFrom, true
	if err := o.store.SetClaimText(ctx, m, now); err != nil {
		return verdict{}, err
	}
	return send(), nil
}
