package outbox

import (
	"context"
	"fmt"
	"time"

	"apptconfirm/models"
)

// AnswerCaps bound the automatic answers sent to one number in 24 hours,
// so that a forged or looping sender (two systems answering each other, a
// script texting HELP) cannot make the clinic send SMS without end. An
// answer over its cap is queued already skipped, with the reason, and is
// never sent; what the text asked for (an opt-out, an opt-in) still
// happens. Zero means no cap.
type AnswerCaps struct {
	// Help caps the help texts.
	Help int
	// StopStart caps the opt-out and opt-in acknowledgements, counted
	// together (STOP, START, STOP, ... is one loop).
	StopStart int
}

// answerWindow is the span the caps count over.
const answerWindow = 24 * time.Hour

// capped returns why an answer of kind to number is over its cap at now
// ("" when it is not, or kind is not a capped answer).
func (ob *Outbox) capped(ctx context.Context, kind, number string, now time.Time) (string, error) {
	var limit int
	var kinds []string
	var what string
	switch kind {
	case models.KindHelp:
		limit, kinds, what = ob.opts.AnswerCaps.Help, []string{models.KindHelp}, "help texts"
	case models.KindOptOutAck, models.KindOptInAck:
		limit, kinds, what = ob.opts.AnswerCaps.StopStart, []string{models.KindOptOutAck, models.KindOptInAck}, "answers to STOP and START"
	default:
		return "", nil
	}
	if limit <= 0 {
		return "", nil
	}
	n, err := ob.store.AnswersSince(ctx, number, kinds, now.Add(-answerWindow))
	if err != nil {
		return "", err
	}
	if n < int64(limit) {
		return "", nil
	}
	return fmt.Sprintf("not sent: this number already got %d %s in 24 hours (the most allowed)", n, what), nil
}
