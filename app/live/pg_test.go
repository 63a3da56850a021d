package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
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

// pgPair starts two instances on a channel of their own and waits until
// both listen; a's subscribers get a buffer large enough for bursts.
func pgPair(t *testing.T, ctx context.Context) (a, b *PG) {
	t.Helper()
	dsn := storetest.PostgresDSN(t)
	raw := make([]byte, 4)
	_, _ = rand.Read(raw)
	channel := "test_live_" + hex.EncodeToString(raw)
	var err error
	if a, err = NewPG(dsn, channel, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if b, err = NewPG(dsn, channel, nil); err != nil {
		t.Fatal(err)
	}
	a.hub.buffer = 100000
	go a.Run(ctx)
	go b.Run(ctx)
	for _, p := range []*PG{a, b} {
		select {
		case <-p.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("listener not ready")
		}
	}
	return a, b
}

// A burst of events, some with long details, crosses to the other instance
// whole and in order, packed into notifications; Close sends what is still
// queued.
func TestPGBurstArrivesInOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := pgPair(t, ctx)
	sub := a.Subscribe(ctx)
	const n = 3000
	for i := range n {
		e := Event{Kind: "message", MessageID: uint(i + 1), Status: "delivered"}
		if i%100 == 0 {
			e.Detail = strings.Repeat("x", 3000+i)
		}
		b.Publish(e)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		select {
		case e := <-sub:
			if e.MessageID != uint(i+1) {
				t.Fatalf("event %d is message %d", i+1, e.MessageID)
			}
			if i%100 == 0 && len(e.Detail) != 3000+i {
				t.Fatalf("message %d: detail of %d bytes", e.MessageID, len(e.Detail))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d events arrived", i, n)
		}
	}
}

// Without a database the events still reach this instance's subscribers.
func TestPGUnreachableDeliversLocally(t *testing.T) {
	p, err := NewPG("postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", "test_live_down", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := p.Subscribe(ctx)
	p.Publish(Event{Kind: "appointment", AppointmentID: 9, Status: "confirmed"})
	select {
	case e := <-sub:
		if e.AppointmentID != 9 {
			t.Fatalf("got %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("event lost when the database was unreachable")
	}
}

func TestPackKeepsOrderAndLimit(t *testing.T) {
	var events []Event
	for i := range 500 {
		events = append(events, Event{Kind: "message", MessageID: uint(i + 1), Detail: strings.Repeat("d", i%50*20)})
	}
	events = append(events, Event{Kind: "inbox", MessageID: 501, Detail: strings.Repeat("y", 9000)})
	payloads := pack(events, maxPayload)
	if len(payloads) < 2 {
		t.Fatalf("%d payloads for %d events", len(payloads), len(events))
	}
	var got []Event
	for _, p := range payloads {
		if len(p) > maxPayload {
			t.Fatalf("payload of %d bytes", len(p))
		}
		evs, err := unpack(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, evs...)
	}
	if len(got) != len(events) {
		t.Fatalf("%d events back, want %d", len(got), len(events))
	}
	for i := range got {
		want := events[i]
		if i == 500 {
			want.Detail = "" // too long for a notification
		}
		if got[i] != want {
			t.Fatalf("event %d: got %+v, want %+v", i, got[i], want)
		}
	}
}

func TestUnpackReadsOneEventToo(t *testing.T) {
	evs, err := unpack(`{"kind":"appointment","appointment_id":4,"status":"confirmed","at":"2026-12-06T08:00:00Z"}`)
	if err != nil || len(evs) != 1 || evs[0].AppointmentID != 4 {
		t.Fatalf("got %+v, %v", evs, err)
	}
	for _, bad := range []string{"", "[", `{"kind":3}`, `[{"at":"yesterday"}]`} {
		if _, err := unpack(bad); err == nil {
			t.Errorf("unpack(%q) took it", bad)
		}
	}
}

// A notification comes from whoever can write to the channel: unpack must
// never panic, and what it returns packs back into equivalent events.
func FuzzUnpack(f *testing.F) {
	f.Add(`[{"kind":"message","message_id":1,"at":"2026-12-06T08:00:00Z"}]`)
	f.Add(`{"kind":"inbox","detail":"x","at":"2026-12-06T08:00:00Z"}`)
	f.Add(` [ ] `)
	f.Fuzz(func(t *testing.T, payload string) {
		evs, err := unpack(payload)
		if err != nil {
			return
		}
		for _, p := range pack(evs, maxPayload) {
			if len(p) > maxPayload {
				t.Fatalf("packed %d bytes", len(p))
			}
			if _, err := unpack(p); err != nil {
				t.Fatalf("repacked %q: %v", p, err)
			}
		}
	})
}
