package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"gorm.io/gorm"

	"apptconfirm/app/clinic"
	"apptconfirm/app/live"
	"apptconfirm/app/reminders"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// record writes a batch of outcomes in one transaction (falling back to
// one transaction each if the batch fails) and returns how many messages
// SMS.CX accepted. Account-wide refusals stop the run r (nil for a single
// send) and pause sending.
func (d *Dispatcher) record(ctx context.Context, batch []outcome, r *run) (int, error) {
	now := d.clock()
	plans := make([]*write, len(batch))
	for i, o := range batch {
		plans[i] = d.plan(o, now)
		if plans[i].stopRun && r != nil {
			r.stopped.Store(true)
		}
	}
	sent, changed, err := d.writeAll(ctx, plans, now)
	if err == nil {
		d.publish(changed)
		d.ended(changed)
		return sent, nil
	}
	if len(plans) == 1 {
		d.logRecordError(plans[0].c.msg, err)
		return 0, fmt.Errorf("dispatch: record: %w", err)
	}
	total := 0
	var errs []error
	for _, p := range plans {
		n, ch, err := d.writeAll(ctx, []*write{p}, now)
		if err != nil {
			d.logRecordError(p.c.msg, err)
			errs = append(errs, err)
			continue
		}
		total += n
		d.publish(ch)
		d.ended(ch)
	}
	if len(errs) > 0 {
		return total, fmt.Errorf("dispatch: record: %w", errors.Join(errs...))
	}
	return total, nil
}

// write is the database change one outcome calls for.
type write struct {
	c *claimed
	// kind is what happened.
	kind writeKind
	// status, reason and errorCode for writeEnd; retryAt for writeRetry.
	status    models.MessageStatus
	reason    string
	errorCode *int
	retryAt   time.Time
	resp      *smscx.SendResponse
	msg       *smscx.Message
	// optOut: a REJECTED send opts the patient out.
	optOut bool
	// stopRun: an account-wide refusal (credentials, credit).
	stopRun bool
}

type writeKind int

const (
	writeRelease writeKind = iota
	writeAccepted
	writeEnd
	writeRetry
)

// plan decides what an outcome writes.
func (d *Dispatcher) plan(o outcome, now time.Time) *write {
	w := &write{c: o.c}
	m := o.c.msg
	switch {
	case o.release:
		w.kind = writeRelease
	case o.err != nil:
		at := o.at
		if at.IsZero() {
			at = now
		}
		d.planError(w, o.err, at)
	default:
		d.planResponse(w, o.resp)
	}
	if w.kind == writeRetry && m.Attempts >= d.opts.MaxAttempts {
		w.kind, w.status = writeEnd, models.MsgFailed
		w.reason = fmt.Sprintf(reasonGaveUpFormat, m.Attempts, w.reason)
	}
	return w
}

// planResponse reads SMS.CX's answer for our one recipient.
func (d *Dispatcher) planResponse(w *write, resp *smscx.SendResponse) {
	w.resp = resp
	if resp == nil || len(resp.Data) == 0 {
		w.kind, w.status = writeEnd, models.MsgFailed
		w.reason = "SMS.CX accepted the request but returned no message for the number"
		if resp != nil && resp.Info.TotalInvalid > 0 {
			w.reason = "SMS.CX refused the number as invalid"
		}
		return
	}
	msg := &resp.Data[0]
	for i := range resp.Data {
		if resp.Data[i].To == w.c.msg.To {
			msg = &resp.Data[i]
		}
	}
	w.msg = msg
	switch msg.Status {
	case smscx.StatusRejected:
		w.kind, w.status, w.optOut = writeEnd, models.MsgRejected, true
		w.reason = "SMS.CX rejected the message: the number has opted out"
	case smscx.StatusNoCoverage:
		w.kind, w.status = writeEnd, models.MsgFailed
		w.reason = "SMS.CX has no coverage for this number"
	case smscx.StatusFailed:
		w.kind, w.status = writeEnd, models.MsgFailed
		w.reason = "SMS.CX reported the message failed"
	default:
		// ACCEPTED and SCHEDULED, and any later state SMS.CX may report.
		w.kind = writeAccepted
	}
	if w.kind == writeEnd {
		w.errorCode = msg.ErrorCode
	}
}

// planError classifies a failed send answered at now.
func (d *Dispatcher) planError(w *write, err error, now time.Time) {
	var ae *smscx.APIError
	if errors.As(err, &ae) && ae.Code != 0 {
		code := ae.Code
		w.errorCode = &code
	}
	w.reason = Explain(err)
	switch {
	case errors.Is(err, context.Canceled):
		w.kind = writeRelease
	case smscx.IsRetryable(err):
		w.kind = writeRetry
		w.retryAt = now.Add(d.backoff(w.c.msg.Attempts))
		if at, ok := smscx.RetryAt(err); ok {
			// The gateway said when: no sooner, and no later either.
			d.pause(at)
			w.retryAt = at
			if at.Before(now) {
				w.retryAt = now
			}
		}
	default:
		w.kind, w.status = writeEnd, models.MsgFailed
		if accountWide(err) {
			w.stopRun = true
			d.pauseAccount()
		}
	}
}

// Explain turns a send error into words staff can read, such as "SMS.CX
// refused the number as invalid (1207)".
func Explain(err error) string {
	var ae *smscx.APIError
	var te *smscx.TransportError
	switch {
	case smscx.IsInvalidNumber(err):
		errors.As(err, &ae)
		return fmt.Sprintf("SMS.CX refused the number as invalid (%d)", ae.Code)
	case smscx.IsNoCoverage(err):
		return "SMS.CX has no coverage for this number (1119)"
	case smscx.IsInsufficientCredit(err):
		errors.As(err, &ae)
		return fmt.Sprintf("the SMS.CX account has not enough credit (%d); top it up, then send again", ae.Code)
	case smscx.IsAuth(err):
		errors.As(err, &ae)
		return fmt.Sprintf("SMS.CX refused our credentials (HTTP %d %s); check smscx.api_key or the OAuth2 client", ae.HTTPStatus, ae.Type)
	case errors.As(err, &ae):
		switch {
		case ae.HTTPStatus == http.StatusTooManyRequests:
			return "SMS.CX rate limit reached (HTTP 429)"
		case ae.HTTPStatus >= 500:
			return fmt.Sprintf("SMS.CX server error (HTTP %d)", ae.HTTPStatus)
		}
		msg := fmt.Sprintf("SMS.CX refused the message (HTTP %d", ae.HTTPStatus)
		if ae.Code != 0 {
			msg += fmt.Sprintf(", code %d", ae.Code)
		}
		msg += ")"
		if ae.Message != "" {
			msg += ": " + ae.Message
		}
		return msg
	case errors.As(err, &te):
		if te.Timeout {
			return "SMS.CX did not answer in time"
		}
		return "could not reach SMS.CX: " + te.Err.Error()
	case errors.Is(err, context.Canceled):
		return "the send was interrupted by a shutdown"
	}
	return strings.TrimPrefix(err.Error(), "smscx: send: ")
}

// writeAll applies plans in one transaction; their timeline entries are
// inserted together at the end.
func (d *Dispatcher) writeAll(ctx context.Context, plans []*write, now time.Time) (int, []*models.Message, error) {
	sent := 0
	var changed []*models.Message
	err := d.store.Tx(ctx, func(tx *models.Store) error {
		sent, changed = 0, nil
		var entries []models.TimelineEntry
		for _, p := range plans {
			detail, ok, err := d.apply(ctx, tx, p, now)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			changed = append(changed, p.c.msg)
			if p.kind == writeAccepted {
				sent++
			}
			if e, ok := reminders.TimelineEntry(p.c.msg, now, detail); ok && detail != "" {
				entries = append(entries, e)
			}
		}
		if len(entries) == 0 {
			return nil
		}
		if err := tx.DB(ctx).CreateInBatches(&entries, 200).Error; err != nil {
			return fmt.Errorf("write timeline: %w", err)
		}
		return nil
	})
	return sent, changed, err
}

// Column lists of the hot updates, written as plain SQL (no user text).
const (
	sqlAccepted = `UPDATE messages SET status = ?, provider_state = ?, reason = '', error_code = NULL,
		provider_message_id = ?, campaign_id = ?, parts = ?, cost = ?, body = ?, sent_at = ?, lease_until = NULL, updated_at = ?
		WHERE id = ? AND status = ?`
	sqlAcceptedLate = `UPDATE messages SET provider_message_id = ?, campaign_id = ?, parts = ?, cost = ?,
		sent_at = COALESCE(sent_at, ?), lease_until = NULL, updated_at = ?
		WHERE id = ? AND provider_message_id = '' AND status IN (?, ?, ?, ?)`
)

// apply writes one plan and returns its timeline line; ok is false when
// the message was no longer ours to change (taken over after its lease, or
// already recorded).
func (d *Dispatcher) apply(ctx context.Context, tx *models.Store, p *write, now time.Time) (string, bool, error) {
	m := p.c.msg
	mine := tx.DB(ctx).Model(&models.Message{}).Where("id = ? AND status = ? AND attempts = ?", m.ID, models.MsgSending, m.Attempts)
	withBody := func(upd map[string]any) map[string]any {
		if p.c.rendered {
			upd["body"] = m.Body
		}
		return upd
	}
	switch p.kind {
	case writeRelease:
		upd := map[string]any{"status": p.c.prevStatus, "lease_until": p.c.prevLease, "attempts": gorm.Expr("attempts - 1"), "updated_at": now}
		if p.c.prevStatus == models.MsgPlanned && m.Kind == models.KindReminder {
			upd["body"] = "" // rendered afresh when it is claimed again
		}
		res := mine.Updates(upd)
		if res.Error != nil || res.RowsAffected == 0 {
			return "", false, res.Error
		}
		m.Status, m.LeaseUntil, m.Attempts = p.c.prevStatus, p.c.prevLease, m.Attempts-1
		return "", true, nil
	case writeAccepted:
		return d.applyAccepted(ctx, tx, p, now)
	case writeRetry:
		reason := truncate(fmt.Sprintf("%s; attempt %d of %d, retrying at %s", p.reason, m.Attempts, d.opts.MaxAttempts,
			p.retryAt.UTC().Format("15:04:05 MST")), 500)
		res := mine.Updates(withBody(map[string]any{"lease_until": p.retryAt, "reason": reason, "error_code": p.errorCode, "updated_at": now}))
		if res.Error != nil || res.RowsAffected == 0 {
			return "", false, res.Error
		}
		m.LeaseUntil, m.Reason = &p.retryAt, reason
		return fmt.Sprintf("%s not sent yet: %s", p.c.label, reason), true, nil
	default: // writeEnd
		upd := withBody(map[string]any{"status": p.status, "reason": truncate(p.reason, 500), "lease_until": nil, "error_code": p.errorCode, "updated_at": now})
		if p.msg != nil {
			upd["provider_message_id"] = p.msg.MsgID
			upd["provider_state"] = p.msg.Status
			upd["campaign_id"] = p.resp.Info.CampaignID
		}
		res := mine.Updates(upd)
		if res.Error != nil || res.RowsAffected == 0 {
			return "", false, res.Error
		}
		m.Status, m.Reason, m.LeaseUntil = p.status, p.reason, nil
		if p.optOut && p.c.patientID != nil && d.opts.OptOut != nil {
			if err := d.opts.OptOut.OptOutTx(ctx, tx, clinic.SystemActor(), *p.c.patientID, "rejected", now); err != nil {
				return "", false, fmt.Errorf("opt out patient %d: %w", *p.c.patientID, err)
			}
		}
		return fmt.Sprintf("%s %s: %s", p.c.label, p.status, p.reason), true, nil
	}
}

// applyAccepted records an accepted send. When the message is no longer
// sending (a delivery report, matched by trackData, got there first, or
// another dispatcher took it over and recorded it) only the provider fields
// still empty are filled in, and ok is false.
func (d *Dispatcher) applyAccepted(ctx context.Context, tx *models.Store, p *write, now time.Time) (string, bool, error) {
	m, msg := p.c.msg, p.msg
	parts := msg.Parts
	if parts == 0 && msg.TextAnalysis != nil {
		parts = msg.TextAnalysis.Parts
	}
	if parts == 0 {
		parts = p.resp.Info.TotalParts
	}
	campaign := p.resp.Info.CampaignID
	res := tx.DB(ctx).Exec(sqlAccepted, models.MsgAccepted, msg.Status, msg.MsgID, campaign, parts, msg.Cost, m.Body, now, now,
		m.ID, models.MsgSending)
	if res.Error != nil {
		return "", false, res.Error
	}
	if res.RowsAffected == 0 {
		err := tx.DB(ctx).Exec(sqlAcceptedLate, msg.MsgID, campaign, parts, msg.Cost, now, now, m.ID,
			models.MsgAccepted, models.MsgSent, models.MsgDelivered, models.MsgFailed).Error
		return "", false, err
	}
	m.Status, m.ProviderID, m.CampaignID, m.Parts, m.Cost, m.LeaseUntil, m.Reason = models.MsgAccepted, msg.MsgID, campaign, parts, msg.Cost, nil, ""
	partWord := "parts"
	if parts == 1 {
		partWord = "part"
	}
	detail := fmt.Sprintf("%s sent to SMS.CX (%d %s", p.c.label, parts, partWord)
	if m.Attempts > 1 {
		detail += fmt.Sprintf(", attempt %d", m.Attempts)
	}
	return detail + ")", true, nil
}

// messageEvent is the live event for m's current status.
func messageEvent(m *models.Message) live.Event { return reminders.MessageEvent(m) }
