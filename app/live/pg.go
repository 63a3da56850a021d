package live

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for notifications
)

// DefaultChannel is the PostgreSQL NOTIFY channel instances share.
const DefaultChannel = "apptconfirm_live"

// PG is a Broadcaster for several instances on one PostgreSQL database:
// Publish queues the event, a sender sends what is queued as NOTIFYs, and
// every instance (this one included) LISTENs and hands what arrives to its
// local subscribers. A browser connected to instance A so sees a reply that
// instance B processed.
//
// Publish never waits for the database: a processor applying thousands of
// delivery reports a second publishes as many events, and a round trip (and
// a transaction) each would cost more than applying them. The sender takes
// everything queued at once, packs the events into as few notifications as
// their size allows (a JSON array each) and sends them in one statement.
type PG struct {
	hub     *Hub
	db      *sql.DB
	dsn     string
	channel string
	log     *slog.Logger
	ready   chan struct{}

	mu      sync.Mutex
	queue   []Event
	closed  bool
	roomy   *sync.Cond // signalled when the queue shrinks below maxQueue
	wake    chan struct{}
	stopped chan struct{}
}

// maxQueue bounds the events waiting for the sender; Publish waits for
// room beyond it, so a database that cannot keep up slows publishers down
// instead of growing memory.
const maxQueue = 20000

// NewPG returns a PostgreSQL broadcaster on the database dsn names: a small
// pool of its own sends the notifications, and Run holds the listening
// connection. Run must be running for subscribers to receive anything;
// Close sends what is still queued and releases the pool.
func NewPG(dsn, channel string, log *slog.Logger) (*PG, error) {
	if channel == "" {
		channel = DefaultChannel
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("live: open: %w", err)
	}
	db.SetMaxOpenConns(2)
	p := &PG{
		hub: NewHub(), db: db, dsn: dsn, channel: channel, log: log, ready: make(chan struct{}),
		wake: make(chan struct{}, 1), stopped: make(chan struct{}),
	}
	p.roomy = sync.NewCond(&p.mu)
	go p.send()
	return p, nil
}

// Close sends what is still queued (for at most sendTimeout) and releases
// the notifying pool. Events published after Close reach this instance's
// subscribers only.
func (p *PG) Close() error {
	p.mu.Lock()
	p.closed = true
	p.roomy.Broadcast()
	p.mu.Unlock()
	p.poke()
	<-p.stopped
	return p.db.Close()
}

// maxPayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxPayload = 7900

// sendTimeout bounds one statement of notifications.
const sendTimeout = 5 * time.Second

// Publish implements Publisher: it queues e for the sender, waiting only
// while maxQueue events are already queued.
func (p *PG) Publish(e Event) {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	p.mu.Lock()
	for len(p.queue) >= maxQueue && !p.closed {
		p.roomy.Wait()
	}
	if p.closed {
		p.mu.Unlock()
		p.hub.Publish(e)
		return
	}
	p.queue = append(p.queue, e)
	first := len(p.queue) == 1
	p.mu.Unlock()
	if first {
		p.poke()
	}
}

func (p *PG) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// send sends what is queued until Close, then what is left.
func (p *PG) send() {
	defer close(p.stopped)
	var batch []Event
	for {
		<-p.wake
		for {
			p.mu.Lock()
			batch, p.queue = p.queue, batch[:0]
			closed := p.closed
			p.roomy.Broadcast()
			p.mu.Unlock()
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
			p.notify(batch)
		}
	}
}

// notify sends events as notifications in one statement. When that fails
// they still reach this instance's subscribers.
func (p *PG) notify(events []Event) {
	payloads := pack(events, maxPayload)
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	_, err := p.db.ExecContext(ctx, "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload", p.channel, payloads)
	if err != nil {
		p.log.Warn("live: notify failed; delivering locally only", slog.Int("events", len(events)), slog.Any("err", err))
		for _, e := range events {
			p.hub.Publish(e)
		}
	}
}

// pack encodes events as JSON arrays of at most limit bytes each, in
// order. An event too large alone loses its Detail; one that cannot be
// encoded at all is left out.
func pack(events []Event, limit int) []string {
	var (
		out []string
		buf = []byte{'['}
	)
	for _, e := range events {
		b, err := json.Marshal(e)
		if err == nil && len(b)+2 > limit {
			e.Detail = ""
			b, err = json.Marshal(e)
		}
		if err != nil || len(b)+2 > limit {
			continue
		}
		if len(buf) > 1 && len(buf)+1+len(b)+1 > limit {
			out = append(out, string(append(buf, ']')))
			buf = append(buf[:0], '[')
		}
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
	}
	if len(buf) > 1 {
		out = append(out, string(append(buf, ']')))
	}
	return out
}

// Subscribe implements Broadcaster.
func (p *PG) Subscribe(ctx context.Context) <-chan Event { return p.hub.Subscribe(ctx) }

// Ready is closed once the first LISTEN is in place.
func (p *PG) Ready() <-chan struct{} { return p.ready }

// Run listens until ctx ends, reconnecting with backoff when the connection
// drops. Events published while it reconnects are lost to this instance's
// browsers, which refresh their view when their own stream reconnects.
func (p *PG) Run(ctx context.Context) error {
	backoff := 200 * time.Millisecond
	first := true
	for {
		err := p.listen(ctx, &first)
		if ctx.Err() != nil {
			return nil
		}
		p.log.Warn("live: listen connection lost; reconnecting", slog.Any("err", err), slog.Duration("in", backoff))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (p *PG) listen(ctx context.Context, first *bool) error {
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		return fmt.Errorf("live: connect: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		return fmt.Errorf("live: listen: %w", err)
	}
	if *first {
		*first = false
		close(p.ready)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		events, err := unpack(n.Payload)
		if err != nil {
			p.log.Warn("live: bad notification payload", slog.Any("err", err))
			continue
		}
		for _, e := range events {
			p.hub.Publish(e)
		}
	}
}

// unpack reads a notification: a JSON array of events, or one event (as
// instances before arrays sent them, so that both kinds can share a
// channel while instances are upgraded one by one).
func unpack(payload string) ([]Event, error) {
	if strings.HasPrefix(strings.TrimLeft(payload, " \t\r\n"), "[") {
		var events []Event
		if err := json.Unmarshal([]byte(payload), &events); err != nil {
			return nil, err
		}
		return events, nil
	}
	var e Event
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		return nil, err
	}
	return []Event{e}, nil
}
