package webhook

import (
	"context"
	"sync/atomic"
	"time"
)

// Giving way to the receiver (see Traffic).
const (
	// giveWayShare is how many times as long as its last batch took the
	// processor waits before the next batch while the receiver is busy: it
	// keeps at most an eighth of the time, and the receiver the rest (each
	// worker of a Processor gives way on its own).
	giveWayShare = 7
	// maxLag is how far behind processing may fall by giving way: once the
	// oldest waiting event is older than this, it stops giving way, so that
	// under a flood that does not end the lag stays bounded (and the
	// receiver slows down instead). A clinic watches a dashboard: a
	// delivery tick or a confirmation should show within a second or two.
	// Under a flood the lag sits at this bound, so it is kept small: the
	// rest of that time is for surges of real work (the first report about
	// each message, a wave of YES replies), which add to it.
	maxLag = 250 * time.Millisecond
	// maxGiveWay bounds one wait.
	maxGiveWay = 250 * time.Millisecond
	// giveWayStep is how often a waiting processor looks again.
	giveWayStep = 2 * time.Millisecond
)

// Traffic counts the webhook requests being stored, so that processing can
// give way to them: acknowledging SMS.CX quickly comes first (a sender that
// gives up waiting sends the whole batch again), and the stored events wait
// safely. When requests arrived while the Processor applied a batch, it
// waits giveWayShare times that batch's duration before the next one,
// unless the receiver goes quiet first; so under a flood it keeps an eighth
// of the time and catches up at full speed once the flood is over, and a
// steady stream, which leaves short backlogs and so short batches, waits
// little. It stops giving way when the oldest waiting event is maxLag old,
// and no wait runs past that.
// A lone event is applied at once. The Receiver and the Processor share one
// Traffic; a nil *Traffic never asks processing to wait.
type Traffic struct {
	inflight atomic.Int64
	begun    atomic.Int64
}

// NewTraffic returns a Traffic with nothing in flight.
func NewTraffic() *Traffic { return &Traffic{} }

func (t *Traffic) begin() {
	if t != nil {
		t.begun.Add(1)
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

// inFlight is how many webhook requests are being stored; 0 for nil.
func (t *Traffic) inFlight() int64 {
	if t == nil {
		return 0
	}
	return t.inflight.Load()
}

// mark is what the receiver has begun so far; pause compares against it.
func (t *Traffic) mark() int64 {
	if t == nil {
		return 0
	}
	return t.begun.Load()
}

// pause is how long processing should wait after a batch that took took
// and started at mark, at most left (what the lag bound leaves): nothing if
// the receiver stayed quiet meanwhile.
func (t *Traffic) pause(mark int64, took, left time.Duration) time.Duration {
	if t == nil || (!t.Busy() && t.begun.Load() == mark) {
		return 0
	}
	return max(0, min(giveWayShare*took, maxGiveWay, left))
}

// giveWay waits pause(mark, took, left), ending early when ctx ends or when
// the receiver has nothing in flight and nothing new arrived for a
// giveWayStep. It reports whether it waited at all.
func (t *Traffic) giveWay(ctx context.Context, mark int64, took, left time.Duration) bool {
	wait := t.pause(mark, took, left)
	if wait <= 0 {
		return false
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(giveWayStep)
	defer tick.Stop()
	last := t.mark()
	for {
		select {
		case <-ctx.Done():
			return true
		case <-deadline.C:
			return true
		case <-tick.C:
			now := t.mark()
			if !t.Busy() && now == last {
				return true
			}
			last = now
		}
	}
}
