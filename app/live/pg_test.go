package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"slices"
	"strings"
	"sync"
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
	t.Cleanup(func() { _ = b.Close() })
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
	// Too large for a notification even without its detail: local only.
	p.Publish(Event{Kind: "inbox", MessageID: 10, Status: strings.Repeat("s", maxPayload), Detail: "d"})
	got := map[uint]bool{}
	for range 2 {
		select {
		case e := <-sub:
			id := e.AppointmentID + e.MessageID
			if got[id] || (id == 10 && e.Detail != "d") {
				t.Fatalf("event %d arrived twice or changed: %s %q", id, e.Kind, e.Detail)
			}
			got[id] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("events lost when the database was unreachable: got %v", got)
		}
	}
	select {
	case e := <-sub:
		t.Fatalf("event %d delivered twice", e.AppointmentID+e.MessageID)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestPackKeepsOrderAndLimit(t *testing.T) {
	var events []Event
	for i := range 500 {
		events = append(events, Event{Kind: "message", MessageID: uint(i + 1), Detail: strings.Repeat("d", i%50*20)})
	}
	events = append(events, Event{Kind: "inbox", MessageID: 501, Detail: strings.Repeat("y", 9000)})
	payloads, unsent := pack(events, maxPayload)
	if len(payloads) < 2 || len(unsent) != 0 {
		t.Fatalf("%d payloads and %d unsent for %d events", len(payloads), len(unsent), len(events))
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
		if !sameEvent(got[i], want) {
			t.Fatalf("event %d: got %+v, want %+v", i, got[i], want)
		}
	}
}

// A notification of one event carries it alone, as instances before
// arrays sent it, so that those still read it while others are upgraded.
func TestPackOneEventAlone(t *testing.T) {
	e := Event{Kind: "appointment", AppointmentID: 3, Status: "confirmed", At: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	payloads, _ := pack([]Event{e}, maxPayload)
	if len(payloads) != 1 || !strings.HasPrefix(payloads[0], "{") {
		t.Fatalf("payloads %q; want one object", payloads)
	}
	var old Event // how an older instance reads it
	if err := json.Unmarshal([]byte(payloads[0]), &old); err != nil || !sameEvent(old, e) {
		t.Fatalf("an older instance reads %+v, %v", old, err)
	}
	// An event whose time cannot be written is kept for local delivery.
	bad := Event{Kind: "message", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	payloads, unsent := pack([]Event{e, bad}, maxPayload)
	if len(payloads) != 1 || len(unsent) != 1 || unsent[0] != bad {
		t.Fatalf("payloads %q, unsent %+v", payloads, unsent)
	}
}

func sameEvent(a, b Event) bool {
	return a.Kind == b.Kind && a.AppointmentID == b.AppointmentID && a.MessageID == b.MessageID &&
		a.PatientID == b.PatientID && a.Status == b.Status && a.Detail == b.Detail && a.At.Equal(b.At)
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
	for _, empty := range []string{"null", "[null]", `[{"kind":""}]`, "[]"} {
		if evs, err := unpack(empty); err != nil || len(evs) != 0 {
			t.Errorf("unpack(%q) = %+v, %v; want nothing", empty, evs, err)
		}
	}
}

// A notification comes from whoever can write to the channel: unpack must
// never panic, and the events it returns pack into notifications that
// unpack into the same events (a Detail too long to send dropped).
func FuzzUnpack(f *testing.F) {
	f.Add(`[{"kind":"message","message_id":1,"at":"2026-12-06T08:00:00Z"}]`)
	f.Add(`{"kind":"inbox","detail":"x","at":"2026-12-06T08:00:00Z"}`)
	f.Add(` [ ] `)
	f.Add(`{"kind":"` + strings.Repeat("k", 7895) + `","detail":"d","at":"2026-12-06T08:00:00Z"}`)
	f.Fuzz(func(t *testing.T, payload string) {
		evs, err := unpack(payload)
		if err != nil {
			return
		}
		payloads, unsent := pack(evs, maxPayload)
		var back []Event
		for _, p := range payloads {
			if len(p) > maxPayload {
				t.Fatalf("packed %d bytes", len(p))
			}
			got, err := unpack(p)
			if err != nil {
				t.Fatalf("repacked %q: %v", p, err)
			}
			back = append(back, got...)
		}
		if len(back)+len(unsent) != len(evs) {
			t.Fatalf("%d events back and %d unsent of %d", len(back), len(unsent), len(evs))
		}
		i := 0
		for _, want := range evs {
			if slices.Contains(unsent, want) {
				continue
			}
			got := back[i]
			i++
			if !sameEvent(got, want) && (got.Detail != "" || !sameEvent(got, Event{
				Kind: want.Kind, AppointmentID: want.AppointmentID, MessageID: want.MessageID,
				PatientID: want.PatientID, Status: want.Status, At: want.At,
			})) {
				t.Fatalf("got %+v back, want %+v", got, want)
			}
		}
	})
}

// With the database not answering, Publish never waits: events beyond the
// queue reach this instance's subscribers at once, and Close gives up on
// the rest after its timeout, delivering them locally; each event arrives
// once.
func TestPGStalledDatabaseNeverBlocksPublish(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	}()
	p, err := NewPG("postgres://nobody@"+ln.Addr().String()+"/none?sslmode=disable&connect_timeout=60", "test_live_stalled", nil)
	if err != nil {
		t.Fatal(err)
	}
	p.timeout = 2 * time.Second
	p.hub.buffer = 4 * maxQueue
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := p.Subscribe(ctx)
	// The sender takes at most a queue's worth before it stalls, and the
	// queue holds another: a third goes local at once.
	const n = 3 * maxQueue
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := range n {
			p.Publish(Event{Kind: "message", MessageID: uint(i + 1)})
		}
	}()
	select {
	case <-published:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish waited for a database that does not answer")
	}
	// Those beyond the queue are already here.
	seen := map[uint]bool{}
	select {
	case e := <-sub:
		seen[e.MessageID] = true
	case <-time.After(time.Second):
		t.Fatal("no event reached the local subscriber while the queue was full")
	}
	got := 1
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for got < n {
		select {
		case e := <-sub:
			if seen[e.MessageID] {
				t.Fatalf("message %d delivered twice", e.MessageID)
			}
			seen[e.MessageID] = true
			got++
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d events delivered after Close", got, n)
		}
	}
}
