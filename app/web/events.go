package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
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

// DefaultLiveStreamsPerUser caps one user's open event streams when
// Options leaves it 0.
const DefaultLiveStreamsPerUser = 8

// streams keeps account of the open event streams: it ends them all when
// the server shuts down (http.Server.Shutdown waits for connections to go
// idle, which a stream never does by itself), ends a session's streams
// when the session ends (logout) and a user's when all their sessions do
// (disabled, password changed), and caps the streams per user.
type streams struct {
	done      chan struct{}
	once      sync.Once
	heartbeat time.Duration
	perUser   int

	mu     sync.Mutex
	byUser map[uint]map[*liveStream]struct{}
}

// liveStream is one open event stream.
type liveStream struct {
	user    uint
	session string
	cancel  context.CancelFunc
}

func newStreams(perUser int) *streams {
	return &streams{done: make(chan struct{}), heartbeat: heartbeatInterval, perUser: perUser, byUser: map[uint]map[*liveStream]struct{}{}}
}

// add registers a stream of user's session, unless the user already holds
// perUser streams; it reports whether it did.
func (ss *streams) add(st *liveStream) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	m := ss.byUser[st.user]
	if len(m) >= ss.perUser {
		return false
	}
	if m == nil {
		m = map[*liveStream]struct{}{}
		ss.byUser[st.user] = m
	}
	m[st] = struct{}{}
	return true
}

// remove forgets a stream that ended.
func (ss *streams) remove(st *liveStream) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if m := ss.byUser[st.user]; m != nil {
		delete(m, st)
		if len(m) == 0 {
			delete(ss.byUser, st.user)
		}
	}
}

// endSession ends the streams opened in one session (by its token).
func (ss *streams) endSession(token string) {
	if token == "" {
		return
	}
	ss.end(func(st *liveStream) bool { return st.session == token })
}

// endUser ends every stream of a user.
func (ss *streams) endUser(id uint) { ss.end(func(st *liveStream) bool { return st.user == id }) }

func (ss *streams) end(match func(*liveStream) bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, m := range ss.byUser {
		for st := range m {
			if match(st) {
				st.cancel()
			}
		}
	}
}

// count returns how many streams user holds open.
func (ss *streams) count(user uint) int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.byUser[user])
}

// StopStreams ends every open event stream and refuses new ones; app/server
// calls it from http.Server.RegisterOnShutdown. Calling it again does nothing.
func (s *Server) StopStreams() {
	s.streams.once.Do(func() { close(s.streams.done) })
}

// EndUserStreams ends the live streams of user id on this instance, at
// once: their sessions ended (disabled, password changed). Streams on other
// instances end at their next heartbeat, which checks the session again.
func (s *Server) EndUserStreams(id uint) { s.streams.endUser(id) }

// sessionAlive reports whether the session a stream was opened in still
// stands: its row exists, and its user is enabled with the same session
// epoch. A stream checks it on every heartbeat.
func (s *Server) sessionAlive(ctx context.Context, token string, uid uint, epoch int) (bool, error) {
	if token == "" {
		return false, nil
	}
	if _, found, err := s.sessions.Store.(scs.CtxStore).FindCtx(ctx, token); err != nil || !found {
		return false, err
	}
	u, err := s.clinic.GetUser(ctx, uid)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !u.Disabled && u.SessionEpoch == epoch, nil
}

// events streams live changes until the client goes away, the server
// shuts down, or the session ends (logout here, or found gone at a
// heartbeat: logged out elsewhere, user disabled, password changed).
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
	u, ok := currentUser(c)
	if !ok {
		s.errorPage(c, http.StatusUnauthorized, "Please log in again", "Your session has ended.")
		return
	}
	// The subscription ends with this context: when the client goes away
	// (net/http cancels the request's context), when this handler returns,
	// or when the session ends.
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	token := s.sessions.Token(ctx)
	epoch := s.sessions.GetInt(ctx, sessEpoch)
	st := &liveStream{user: u.ID, session: token, cancel: cancel}
	if !s.streams.add(st) {
		s.log.WarnContext(ctx, "events: too many live streams", slog.Uint64("user_id", uint64(u.ID)), slog.Int("limit", s.streams.perUser))
		c.Header("Retry-After", "60")
		s.errorPage(c, http.StatusTooManyRequests, "Too many open tabs",
			fmt.Sprintf("Live updates are limited to %d tabs per user. Close some tabs and reload this one.", s.streams.perUser))
		return
	}
	defer s.streams.remove(st)
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
			alive, err := s.sessionAlive(ctx, token, u.ID, epoch)
			if err != nil && ctx.Err() == nil {
				// The database is busy: keep the stream; the next beat checks again.
				s.log.WarnContext(ctx, "events: session not checked", slog.Any("err", err))
				alive = true
			}
			if !alive {
				return
			}
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
