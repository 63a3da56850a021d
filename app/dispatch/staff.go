package dispatch

import (
	"context"
	"fmt"

	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// SendNow sends a planned message at once, for "Tomorrow's sends": it is
// claimed and re-checked like any other (an opted-out patient still gets
// nothing), sent inline, and its outcome recorded; the message is returned
// as it ends up (accepted, failed with a reason, waiting for a retry, or
// ended by the checks). Its planned send time is kept, so replanning knows
// the reminder went out. outbox.ErrNotPlanned when it is no longer
// planned, models.ErrNotFound when it does not exist.
func (d *Dispatcher) SendNow(ctx context.Context, messageID uint, actor models.Actor) (*models.Message, error) {
	c, ended, err := d.outbox.ClaimOne(ctx, messageID, outbox.Claim{Lease: d.opts.Lease, MaxAttempts: d.opts.MaxAttempts, Now: d.clock()}, actor)
	if err != nil {
		return nil, err
	}
	d.ended(ended)
	if c != nil {
		resp, err := d.send(ctx, c.Message)
		if _, err := d.record(ctx, []outcome{{c: c, resp: resp, err: err, at: d.clock()}}, nil); err != nil {
			return nil, err
		}
	}
	m, err := d.store.Message(ctx, messageID)
	if err != nil {
		return nil, fmt.Errorf("dispatch: send now: %w", err)
	}
	return m, nil
}

// Skip marks a planned message skipped by staff (see outbox.Skip).
func (d *Dispatcher) Skip(ctx context.Context, messageID uint, actor models.Actor, reason string) (*models.Message, error) {
	return d.outbox.Skip(ctx, messageID, actor, reason)
}
