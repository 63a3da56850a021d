// Package live carries changes (a message delivered, an appointment confirmed)
// from whoever made them to the browsers watching. The in-process Hub serves
// one instance; the Broadcaster interface lets PostgreSQL LISTEN/NOTIFY carry
// the same events between instances.
package live

import (
	"context"
	"sync"
	"time"
)

// Event is one change worth showing live.
type Event struct {
	// Kind says what changed: "appointment", "message", "inbox", "optout".
	Kind          string `json:"kind"`
	AppointmentID uint   `json:"appointment_id,omitempty"`
	MessageID     uint   `json:"message_id,omitempty"`
	PatientID     uint   `json:"patient_id,omitempty"`
	// Status is the new state, when the change has one.
	Status string    `json:"status,omitempty"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// Publisher is what changes are reported to.
type Publisher interface {
	Publish(Event)
}

// Broadcaster publishes events and lets subscribers follow them.
type Broadcaster interface {
	Publisher
	// Subscribe returns a channel of events until ctx ends; then the channel
	// is closed. A subscriber too slow to keep up loses events rather than
	// blocking publishers (browsers reload their view on reconnect).
	Subscribe(ctx context.Context) <-chan Event
}

// Hub is the in-process Broadcaster.
type Hub struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
	// buffer is each subscriber's channel capacity.
	buffer int
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[chan Event]struct{}{}, buffer: 64} }

// Publish sends e to every subscriber without blocking.
func (h *Hub) Publish(e Event) {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default: // slow subscriber: drop rather than stall the publisher
		}
	}
}

// Subscribe implements Broadcaster.
func (h *Hub) Subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, h.buffer)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, ch)
		close(ch)
		h.mu.Unlock()
	}()
	return ch
}

// Subscribers returns the number of current subscribers.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
