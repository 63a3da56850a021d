package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"apptconfirm/app/outbox"
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
	sent, err := d.writeAll(ctx, plans)
	if err == nil {
		return sent, nil
	}
	if len(plans) == 1 {
		d.logRecordError(plans[0].c.Message, err)
		return 0, fmt.Errorf("dispatch: record: %w", err)
	}
	total := 0
	var errs []error
	for _, p := range plans {
		n, err := d.writeAll(ctx, []*write{p})
		if err != nil {
			d.logRecordError(p.c.Message, err)
			errs = append(errs, err)
			continue
		}
		total += n
	}
	if len(errs) > 0 {
		return total, fmt.Errorf("dispatch: record: %w", errors.Join(errs...))
	}
	return total, nil
}

// write is what one outcome calls for: the outbox's outcome, and whether
// a REJECTED send opts the patient out or an account-wide refusal stops
// the run.
type write struct {
	c *outbox.Claimed
	outbox.Outcome
	// optOut: a REJECTED send opts the patient out.
	optOut bool
	// stopRun: an account-wide refusal (credentials, credit).
	stopRun bool
}

// plan decides what an outcome writes.
func (d *Dispatcher) plan(o outcome, now time.Time) *write {
	w := &write{c: o.c}
	w.Claimed = o.c
	m := o.c.Message
	switch {
	case o.release:
		w.Kind = outbox.Release
	case o.err != nil:
		at := o.at
		if at.IsZero() {
			at = now
		}
		d.planError(w, o.err, at)
	default:
		d.planResponse(w, o.resp)
	}
	if w.Kind == outbox.Retry {
		// A refusal (a 429) after a try that may have reached SMS.CX does
		// not settle that try: the message stays in doubt.
		w.InDoubt = w.InDoubt || o.c.WasInDoubt()
		if m.Attempts >= d.opts.MaxAttempts && w.InDoubt {
			// SMS.CX may have taken it: not failed, but in doubt.
			w.Kind, w.Reason = outbox.Unknown, outbox.GaveUp(m.Attempts, w.Reason)
		} else if m.Attempts >= d.opts.MaxAttempts {
			w.Kind = outbox.Ended
			w.Result = models.SendResult{Status: models.MsgFailed, Reason: outbox.GaveUp(m.Attempts, w.Reason), ErrorCode: w.ErrorCode}
		} else {
			w.Reason = fmt.Sprintf("%s; attempt %d of %d, retrying at %s", w.Reason, m.Attempts, d.opts.MaxAttempts,
				w.RetryAt.UTC().Format("15:04:05 MST"))
		}
	}
	return w
}

// planResponse reads SMS.CX's answer for our one recipient.
func (d *Dispatcher) planResponse(w *write, resp *smscx.SendResponse) {
	fail := func(status models.MessageStatus, reason string) {
		w.Kind, w.Result = outbox.Ended, models.SendResult{Status: status, Reason: reason}
	}
	if resp == nil || len(resp.Data) == 0 {
		reason := "SMS.CX accepted the request but returned no message for the number"
		if resp != nil && resp.Info.TotalInvalid > 0 {
			reason = "SMS.CX refused the number as invalid"
		}
		fail(models.MsgFailed, reason)
		return
	}
	msg := &resp.Data[0]
	for i := range resp.Data {
		if resp.Data[i].To == w.c.Message.To {
			msg = &resp.Data[i]
		}
	}
	switch msg.Status {
	case smscx.StatusRejected:
		fail(models.MsgRejected, "SMS.CX rejected the message: the number has opted out")
		w.optOut = true
	case smscx.StatusNoCoverage:
		fail(models.MsgFailed, "SMS.CX has no coverage for this number")
	case smscx.StatusFailed:
		fail(models.MsgFailed, "SMS.CX reported the message failed")
	default:
		// ACCEPTED and SCHEDULED, and any later state SMS.CX may report.
		parts := msg.Parts
		if parts == 0 && msg.TextAnalysis != nil {
			parts = msg.TextAnalysis.Parts
		}
		if parts == 0 {
			parts = resp.Info.TotalParts
		}
		w.Kind, w.SentText = outbox.Accepted, msg.Text
		w.Accepted = models.Accepted{
			ProviderID: msg.MsgID, ProviderState: msg.Status, CampaignID: resp.Info.CampaignID,
			Parts: parts, Cost: msg.Cost,
		}
		return
	}
	w.Result.ErrorCode = msg.ErrorCode
	w.Result.ProviderID, w.Result.ProviderState, w.Result.CampaignID = msg.MsgID, msg.Status, resp.Info.CampaignID
}

// planError classifies a failed send answered at now.
func (d *Dispatcher) planError(w *write, err error, now time.Time) {
	var ae *smscx.APIError
	var code *int
	if errors.As(err, &ae) && ae.Code != 0 {
		c := ae.Code
		code = &c
	}
	reason := Explain(err)
	switch {
	case errors.Is(err, context.Canceled):
		w.Kind = outbox.Release
	case smscx.IsRetryable(err):
		w.Kind, w.Reason, w.ErrorCode, w.InDoubt = outbox.Retry, reason, code, inDoubt(err)
		w.RetryAt = now.Add(d.backoff(w.c.Message.Attempts))
		if at, ok := smscx.RetryAt(err); ok {
			// The gateway said when: no sooner, and no later either.
			d.pause(at)
			w.RetryAt = at
			if at.Before(now) {
				w.RetryAt = now
			}
		}
	default:
		w.Kind, w.Result = outbox.Ended, models.SendResult{Status: models.MsgFailed, Reason: reason, ErrorCode: code}
		if accountWide(err) {
			w.stopRun = true
			d.pauseAccount()
		}
	}
}

// inDoubt reports whether a send that failed may nonetheless have reached
// SMS.CX: no answer came back (a timeout, a connection dropped after the
// request went out) or a server error, which SMS.CX may answer after it
// took the message. A rate limit (429) is a refusal, and a connection that
// could not be opened sent nothing: neither is in doubt.
func inDoubt(err error) bool {
	var ae *smscx.APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatus == http.StatusRequestTimeout || ae.HTTPStatus >= 500
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	var te *smscx.TransportError
	return errors.As(err, &te)
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

// writeAll hands plans to the outbox in one transaction, together with the
// opt-outs of REJECTED sends, and returns how many SMS.CX accepted.
func (d *Dispatcher) writeAll(ctx context.Context, plans []*write) (int, error) {
	outcomes := make([]outbox.Outcome, len(plans))
	for i, p := range plans {
		outcomes[i] = p.Outcome
	}
	var sent int
	var written []*outbox.Claimed
	err := d.store.Tx(ctx, func(ctx context.Context) error {
		var err error
		written, sent, err = d.outbox.Record(ctx, outcomes)
		if err != nil {
			return err
		}
		if d.opts.OptOut == nil {
			return nil
		}
		for _, p := range plans {
			if !p.optOut || p.c.PatientID == nil || !slices.Contains(written, p.c) {
				continue
			}
			if err := d.opts.OptOut.OptOut(ctx, models.SystemActor(), *p.c.PatientID, "rejected"); err != nil {
				return fmt.Errorf("opt out patient %d: %w", *p.c.PatientID, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	ms := make([]*models.Message, len(written))
	for i, c := range written {
		ms[i] = c.Message
	}
	d.ended(ms)
	return sent, nil
}
