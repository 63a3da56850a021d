package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"apptconfirm/models/storetest"
)

// Two instances on one PostgreSQL database: an event published by B reaches
// a subscriber of A (issue: live updates across instances).
func TestPGAcrossInstances(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	channel := "test_live_" + hex.EncodeToString(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := NewPG(dsn, channel, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	bb, err := NewPG(dsn, channel, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	go a.Run(ctx)
	go bb.Run(ctx)
	for _, p := range []*PG{a, bb} {
		select {
		case <-p.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("listener not ready")
		}
	}
	sub := a.Subscribe(ctx)
	bb.Publish(Event{Kind: "appointment", AppointmentID: 42, Status: "confirmed"})
	select {
	case e := <-sub:
		if e.AppointmentID != 42 || e.Status != "confirmed" {
			t.Fatalf("got %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("event published on B never reached A's subscriber")
	}
}
