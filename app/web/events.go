package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Server-sent events: GET /events streams every live.Event to a logged-in
// browser as "event: change" with the event as JSON, so badges change
// without a reload. static/live.js listens; EventSource reconnects by itself.

// heartbeatInterval is how often an idle stream sends a comment line, so
// proxies keep it open and a dead connection is noticed.
const heartbeatInterval = 20 * time.Second

// reconnectDelay is the "retry:" the browser waits before reconnecting.
const reconnectDelay = 3 * time.Second

// streams ends every open event stream when the server shuts down:
// http.Server.Shutdown waits for connections to go idle, which a stream
// never does by itself.
type streams struct {
	done      chan struct{}
	once      sync.Once
	heartbeat time.Duration
}

func newStreams() *streams {
	return &streams{done: make(chan struct{}), heartbeat: heartbeatInterval}
}

// StopStreams ends every open event stream and refuses new ones; app/server
// calls it from http.Server.RegisterOnShutdown. Calling it again does nothing.
func (s *Server) StopStreams() {
	s.streams.once.Do(func() { close(s.streams.done) })
}

// events streams live changes until the client goes away or the server shuts down.
func (s *Server) events(c *gin.Context) {
	if s.live == nil {
		s.notFound(c)
		return
	}
	select {
	case <-s.streams.done:
		s.errorPage(c, http.StatusServiceUnavailable, "Shutting down", "")
		return
	default:
	}
	// The subscription ends with this context: when the client goes away
	// (net/http cancels the request's context) or when this handler returns.
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	rc := http.NewResponseController(c.Writer)
	// A stream outlives server.write_timeout and server.read_timeout: lift
	// both for this connection only. (The read deadline matters too: when it
	// passes, net/http cancels the request's context.)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		s.log.WarnContext(ctx, "events: cannot lift the write deadline", slog.Any("err", err))
	}
	_ = rc.SetReadDeadline(time.Time{})

	// Subscribe before answering, so no event published after the browser
	// sees the stream open is missed.
	sub := s.live.Subscribe(ctx)
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Status(http.StatusOK)
	write := func(s string) bool {
		if _, err := c.Writer.WriteString(s); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write("retry: " + strconv.FormatInt(reconnectDelay.Milliseconds(), 10) + "\n: connected\n\n") {
		return
	}
	tick := time.NewTicker(s.streams.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.streams.done:
			return
		case <-tick.C:
			if !write(": heartbeat\n\n") {
				return
			}
		case e, ok := <-sub:
			if !ok {
				return
			}
			b, err := json.Marshal(e)
			if err != nil {
				s.log.ErrorContext(ctx, "events: encode", slog.Any("err", err))
				continue
			}
			// JSON holds no raw newline, so one data line carries it whole.
			if !write("event: change\ndata: " + string(b) + "\n\n") {
				return
			}
		}
	}
}
