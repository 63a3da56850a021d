package webhook

import (
	"context"
	"sync/atomic"
	"time"
)

// Giving way to the receiver (see Traffic).
const (
	// maxGiveWay bounds how long processing waits for the receiver before
	// it applies one more batch anyway, so that it is never starved: under
	// a flood it still gets a batch (batchTime) in every maxGiveWay.
	maxGiveWay = 250 * time.Millisecond
	// giveWayStep is how often a waiting processor looks again.
	giveWayStep = 2 * time.Millisecond
)

// Traffic counts the webhook requests being stored, so that processing can
// give way to them: acknowledging SMS.CX quickly comes first (a slow answer
// makes SMS.CX retry and send everything again), and the stored events wait
// safely. Under a burst the Processor applies a batch at least every
// maxGiveWay and catches up once the burst is over. The Receiver and the
// Processor share one Traffic; a nil *Traffic is never busy.
type Traffic struct {
	inflight atomic.Int64
}

// NewTraffic returns a Traffic with nothing in flight.
func NewTraffic() *Traffic { return &Traffic{} }

func (t *Traffic) begin() {
	if t != nil {
		t.inflight.Add(1)
	}
}

func (t *Traffic) end() {
	if t != nil {
		t.inflight.Add(-1)
	}
}

// Busy reports whether a webhook request is being stored right now.
func (t *Traffic) Busy() bool { return t != nil && t.inflight.Load() > 0 }

// giveWay waits while the receiver is busy, until maxGiveWay has passed
// since last (the end of the previous batch) or ctx ends.
func (t *Traffic) giveWay(ctx context.Context, last time.Time) {
	if !t.Busy() {
		return
	}
	tick := time.NewTicker(giveWayStep)
	defer tick.Stop()
	for t.Busy() && time.Since(last) < maxGiveWay {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
