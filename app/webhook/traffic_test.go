package webhook

import (
	"slices"
	"testing"
	"time"

	"apptconfirm/models"
)

// While requests are being stored, processing waits giveWayShare times as
// long as its last batch took before the next one (at most maxGiveWay, and
// never past the lag bound); when the receiver stayed quiet it does not
// wait. A busy receiver never starves it.
func TestTrafficPauses(t *testing.T) {
	var none *Traffic
	if none.Busy() || none.pause(none.mark(), time.Second, maxLag) != 0 {
		t.Fatal("a nil Traffic asks processing to wait")
	}
	tr := NewTraffic()
	mark := tr.mark()
	if got := tr.pause(mark, 10*time.Millisecond, maxLag); got != 0 {
		t.Fatalf("quiet receiver: pause %s, want 0", got)
	}
	tr.begin()
	tr.end()
	if got := tr.pause(mark, 10*time.Millisecond, maxLag); got != giveWayShare*10*time.Millisecond {
		t.Fatalf("a request arrived during the batch: pause %s, want %d×10ms", got, giveWayShare)
	}
	mark = tr.mark()
	tr.begin() // in flight
	if !tr.Busy() {
		t.Fatal("a request in flight is not busy")
	}
	if got := tr.pause(mark, 10*time.Millisecond, maxLag); got != giveWayShare*10*time.Millisecond {
		t.Fatalf("a request in flight: pause %s, want %d×10ms", got, giveWayShare)
	}
	if got := tr.pause(mark, time.Second, maxLag); got != maxGiveWay {
		t.Fatalf("a long batch: pause %s, want the cap %s", got, maxGiveWay)
	}
	// A pause ends where the lag bound would be passed, not after it.
	if got := tr.pause(mark, 10*time.Millisecond, 3*time.Millisecond); got != 3*time.Millisecond {
		t.Fatalf("3ms left of the lag bound: pause %s, want 3ms", got)
	}
	if got := tr.pause(mark, 10*time.Millisecond, -time.Millisecond); got != 0 {
		t.Fatalf("past the lag bound: pause %s, want 0", got)
	}
	tr.end()
}

// oldestFrom gives, at each place of a page, when the oldest event from
// there on was received, wherever the reordering put it.
func TestOldestFrom(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	var page []models.WebhookEvent
	for _, s := range []int{5, 1, 4, 2, 3} {
		page = append(page, models.WebhookEvent{ReceivedAt: t0.Add(time.Duration(s) * time.Second)})
	}
	var got []int
	for _, at := range oldestFrom(page) {
		got = append(got, int(at.Sub(t0)/time.Second))
	}
	if want := []int{1, 1, 2, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("oldestFrom = %v s, want %v s", got, want)
	}
	if len(oldestFrom(nil)) != 0 {
		t.Fatal("an empty page has an oldest event")
	}
}
