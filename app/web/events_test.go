package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/live"
	"apptconfirm/models"
)

// stream is an open GET /events response read line by line.
type stream struct {
	t      *testing.T
	resp   *http.Response
	lines  chan string
	cancel context.CancelFunc
}

// openStream opens /events at base with b's session.
func openStream(t *testing.T, b *browser, base string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := b.client.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &stream{t: t, resp: resp, lines: make(chan string, 100), cancel: cancel}
	t.Cleanup(s.close)
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	return s
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next returns the next line, failing after a deadline; ok is false at the end of the stream.
func (s *stream) next() (string, bool) {
	s.t.Helper()
	select {
	case l, ok := <-s.lines:
		return l, ok
	case <-time.After(5 * time.Second):
		s.t.Fatal("no line from /events within 5s")
		return "", false
	}
}

// waitFor reads lines until one has prefix, returning it.
func (s *stream) waitFor(prefix string) string {
	s.t.Helper()
	for {
		l, ok := s.next()
		if !ok {
			s.t.Fatalf("stream ended before %q", prefix)
		}
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
}

// waitSubscribers polls until hub has n subscribers.
func waitSubscribers(t *testing.T, hub *live.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for hub.Subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers, want %d", hub.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// liveApp is a test app whose web UI has a hub.
func liveApp(t *testing.T) (*testApp, *live.Hub, *browser) {
	t.Helper()
	a := newTestApp(t)
	hub := live.NewHub()
	a.server.live = hub
	b := a.loggedIn("front@example.com", models.RoleStaff)
	return a, hub, b
}

func TestEventsStreamsPublishedChanges(t *testing.T) {
	a, hub, b := liveApp(t)
	s := openStream(t, b, a.http.URL)
	if s.resp.StatusCode != http.StatusOK || s.resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, type %q", s.resp.StatusCode, s.resp.Header.Get("Content-Type"))
	}
	if cc := s.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if l := s.waitFor("retry:"); l != "retry: 3000" {
		t.Errorf("retry line %q", l)
	}
	s.waitFor(": connected")
	waitSubscribers(t, hub, 1)

	want := []live.Event{
		{Kind: "appointment", AppointmentID: 42, PatientID: 7, Status: "confirmed", Detail: "sms"},
		{Kind: "message", MessageID: 9, AppointmentID: 42, Status: "delivered", Detail: "line\nbreak"},
	}
	for _, e := range want {
		hub.Publish(e)
	}
	for _, w := range want {
		if l := s.waitFor("event:"); l != "event: change" {
			t.Fatalf("event line %q", l)
		}
		l, _ := s.next()
		data, ok := strings.CutPrefix(l, "data: ")
		if !ok {
			t.Fatalf("data line %q", l)
		}
		var got live.Event
		if err := json.Unmarshal([]byte(data), &got); err != nil {
			t.Fatal(err)
		}
		if got.Kind != w.Kind || got.AppointmentID != w.AppointmentID || got.MessageID != w.MessageID ||
			got.Status != w.Status || got.Detail != w.Detail || got.At.IsZero() {
			t.Fatalf("got %+v, want %+v", got, w)
		}
		if l, _ := s.next(); l != "" {
			t.Fatalf("no blank line after the event: %q", l)
		}
	}

	t.Run("disconnecting ends the subscription", func(t *testing.T) {
		s.close()
		waitSubscribers(t, hub, 0)
	})
}

func TestEventsHeartbeat(t *testing.T) {
	a, _, b := liveApp(t)
	a.server.streams.heartbeat = 20 * time.Millisecond
	s := openStream(t, b, a.http.URL)
	for range 3 {
		s.waitFor(": heartbeat")
	}
}

// A stream outlives the server's read and write timeouts.
func TestEventsOutliveServerTimeouts(t *testing.T) {
	a, hub, b := liveApp(t)
	a.server.streams.heartbeat = 25 * time.Millisecond
	srv := httptest.NewUnstartedServer(a.server.Handler())
	srv.Config.ReadTimeout = 150 * time.Millisecond
	srv.Config.WriteTimeout = 150 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	s := openStream(t, b, srv.URL)
	s.waitFor(": connected")
	start := time.Now()
	// Heartbeats keep coming well past both timeouts...
	for time.Since(start) < 600*time.Millisecond {
		s.waitFor(": heartbeat")
	}
	// ...and so do events.
	hub.Publish(live.Event{Kind: "appointment", AppointmentID: 1, Status: "confirmed"})
	s.waitFor("event: change")
}

func TestEventsEndAtShutdown(t *testing.T) {
	a, hub, b := liveApp(t)
	s := openStream(t, b, a.http.URL)
	s.waitFor(": connected")
	waitSubscribers(t, hub, 1)
	a.server.StopStreams()
	for {
		if _, ok := s.next(); !ok {
			break
		}
	}
	waitSubscribers(t, hub, 0)
	a.server.StopStreams() // a second call is harmless
	status, _ := b.get("/events")
	if status != http.StatusServiceUnavailable {
		t.Fatalf("a stream opened during shutdown: status %d", status)
	}
}

func TestEventsWithoutHub(t *testing.T) {
	a := newTestApp(t)
	a.server.live = nil // as when the app is built with no broadcaster
	b := a.loggedIn("front@example.com", models.RoleStaff)
	if status, _ := b.get("/events"); status != http.StatusNotFound {
		t.Fatalf("status %d, want 404", status)
	}
}
