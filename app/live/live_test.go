package live

import (
	"context"
	"testing"
	"time"
)

func TestHubDeliversAndUnsubscribes(t *testing.T) {
	h := NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	a := h.Subscribe(ctx)
	b := h.Subscribe(context.Background())
	h.Publish(Event{Kind: "appointment", AppointmentID: 7, Status: "confirmed"})
	for _, ch := range []<-chan Event{a, b} {
		select {
		case e := <-ch:
			if e.AppointmentID != 7 || e.Status != "confirmed" || e.At.IsZero() {
				t.Fatalf("got %+v", e)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("event not delivered")
		}
	}
	cancel()
	if _, ok := <-a; ok {
		t.Fatal("channel still open after its context ended")
	}
	if n := h.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers, want 1", n)
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	h := NewHub()
	_ = h.Subscribe(context.Background()) // never read
	done := make(chan struct{})
	go func() {
		for i := 0; i < 1000; i++ {
			h.Publish(Event{Kind: "message", MessageID: uint(i)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
}
