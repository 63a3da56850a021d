package webhook

import (
	"testing"
	"time"
)

// While requests are being stored, processing waits giveWayShare times as
// long as its last batch took before the next one (at most maxGiveWay); when
// the receiver stayed quiet it does not wait. A busy receiver never starves
// it.
func TestTrafficPauses(t *testing.T) {
	var none *Traffic
	if none.Busy() || none.pause(none.mark(), time.Second) != 0 {
		t.Fatal("a nil Traffic asks processing to wait")
	}
	tr := NewTraffic()
	mark := tr.mark()
	if got := tr.pause(mark, 10*time.Millisecond); got != 0 {
		t.Fatalf("quiet receiver: pause %s, want 0", got)
	}
	tr.begin()
	tr.end()
	if got := tr.pause(mark, 10*time.Millisecond); got != giveWayShare*10*time.Millisecond {
		t.Fatalf("a request arrived during the batch: pause %s, want %d×10ms", got, giveWayShare)
	}
	mark = tr.mark()
	tr.begin() // in flight
	if !tr.Busy() {
		t.Fatal("a request in flight is not busy")
	}
	if got := tr.pause(mark, 10*time.Millisecond); got != giveWayShare*10*time.Millisecond {
		t.Fatalf("a request in flight: pause %s, want %d×10ms", got, giveWayShare)
	}
	if got := tr.pause(mark, time.Second); got != maxGiveWay {
		t.Fatalf("a long batch: pause %s, want the cap %s", got, maxGiveWay)
	}
	tr.end()
}
