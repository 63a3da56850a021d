package outbox

import (
	"context"
	"fmt"
	"time"

	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// OutcomeKind is what became of a claimed message.
type OutcomeKind int

// Outcome kinds.
const (
	// Release: the message was not sent; it goes back as it was.
	Release OutcomeKind = iota
	// Accepted: SMS.CX accepted it.
	Accepted
	// Retry: the send failed in a way worth trying again at RetryAt.
	Retry
	// Ended: SMS.CX refused it for good, or it failed too often.
	Ended
	// Unknown: it failed too often while its last try may have reached
	// SMS.CX; it stays in doubt (Reason says why) until a delivery report
	// settles it, and is not tried again.
	Unknown
)

// Outcome is what became of one claimed message.
type Outcome struct {
	Claimed *Claimed
	Kind    OutcomeKind
	// Accepted is SMS.CX's answer, for Accepted.
	Accepted models.Accepted
	// Result is the final state and reason, for Ended.
	Result models.SendResult
	// RetryAt, Reason and ErrorCode describe a Retry; InDoubt says that the
	// failed try may have reached SMS.CX all the same (no answer, or a
	// server error), so the retry resends it before anything else is
	// decided about it.
	RetryAt   time.Time
	Reason    string
	ErrorCode *int
	InDoubt   bool
	// SentText is the text SMS.CX says it holds, for Accepted. When the
	// message was in doubt and SMS.CX answers a resend with the text of
	// the earlier try (it had taken that one), that text is the one stored.
	SentText string
}

// Record writes outcomes in one transaction (the one ctx carries, if any),
// with their timeline entries and domain events, and returns the claims
// whose outcome it wrote (a message no longer held by its claim, taken over
// after its lease or already recorded, is left alone) and how many of
// those SMS.CX accepted.
func (o *Outbox) Record(ctx context.Context, outcomes []Outcome) (written []*Claimed, sent int, err error) {
	now := o.clock()
	err = o.store.Tx(ctx, func(ctx context.Context) error {
		written, sent = nil, 0
		var entries []models.TimelineEntry
		var events []models.Event
		for i := range outcomes {
			oc := &outcomes[i]
			detail, ok, err := o.write(ctx, oc, now)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			written = append(written, oc.Claimed)
			if oc.Kind == Accepted {
				sent++
			}
			m := oc.Claimed.Message
			if e, ok := TimelineEntry(m, now, detail); ok && detail != "" {
				entries = append(entries, e)
			}
			events = append(events, MessageEvent(m, now, detail))
		}
		if err := o.store.AddTimeline(ctx, entries...); err != nil {
			return err
		}
		return o.store.Record(ctx, events...)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("outbox: record: %w", err)
	}
	return written, sent, nil
}

// write writes one outcome and returns its timeline line; ok is false when
// the message was no longer its claim's to change.
func (o *Outbox) write(ctx context.Context, oc *Outcome, now time.Time) (string, bool, error) {
	c := oc.Claimed
	m := c.Message
	var body *string
	if c.rendered {
		body = &m.Body
	}
	switch oc.Kind {
	case Release:
		ok, err := o.store.ReleaseClaim(ctx, m, c.prev, now)
		if err != nil || !ok {
			return "", false, err
		}
		m.Status, m.LeaseUntil, m.Attempts, m.InDoubt = c.prev.Status, c.prev.LeaseUntil, m.Attempts-1, c.prev.InDoubt
		return "", true, nil
	case Accepted:
		if p := c.prev; p.InDoubt && p.Body != "" && p.Body != m.Body && oc.SentText == p.Body {
			// SMS.CX answered with the send it took at the earlier try.
			m.Body, m.Language, m.FallbackFrom = p.Body, p.Language, p.FallbackFrom
		}
		a := oc.Accepted
		ok, err := o.store.MarkAccepted(ctx, m, a, now)
		if err != nil || !ok {
			return "", false, err
		}
		m.Status, m.ProviderID, m.CampaignID, m.Parts, m.Cost, m.LeaseUntil, m.Reason, m.InDoubt = models.MsgAccepted, a.ProviderID, a.CampaignID, a.Parts, a.Cost, nil, "", false
		partWord := "parts"
		if a.Parts == 1 {
			partWord = "part"
		}
		detail := fmt.Sprintf("%s sent to SMS.CX (%d %s", c.Label, a.Parts, partWord)
		if m.Language != "" {
			detail += ", in " + texts.LanguageName(m.Language)
			if m.FallbackFrom != "" {
				detail += ": no " + texts.LanguageName(m.FallbackFrom) + " text"
			}
		}
		if m.Attempts > 1 {
			detail += fmt.Sprintf(", attempt %d", m.Attempts)
		}
		return detail + ")", true, nil
	case Retry:
		ok, err := o.store.DeferClaim(ctx, m, oc.RetryAt, oc.Reason, oc.ErrorCode, body, oc.InDoubt, now)
		if err != nil || !ok {
			return "", false, err
		}
		at := oc.RetryAt
		m.LeaseUntil, m.Reason, m.InDoubt = &at, models.Clip(oc.Reason, 500), oc.InDoubt
		return fmt.Sprintf("%s not sent yet: %s", c.Label, m.Reason), true, nil
	case Unknown:
		reason := GaveUpInDoubt(oc.Reason)
		ok, err := o.store.LeaveInDoubt(ctx, m, reason, true, now)
		if err != nil || !ok {
			return "", false, err
		}
		m.LeaseUntil, m.Reason, m.InDoubt = nil, models.Clip(reason, 500), true
		return fmt.Sprintf("%s outcome unknown: %s", c.Label, reason), true, nil
	default:
		r := oc.Result
		ok, err := o.store.EndSend(ctx, m, r, body, now)
		if err != nil || !ok {
			return "", false, err
		}
		m.Status, m.Reason, m.LeaseUntil, m.InDoubt = r.Status, models.Clip(r.Reason, 500), nil, false
		return fmt.Sprintf("%s %s: %s", c.Label, r.Status, r.Reason), true, nil
	}
}
