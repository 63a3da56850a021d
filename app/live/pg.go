package live

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
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
// their size allows and sends them in one statement. Live events are a
// courtesy to the browsers (they reload their view on reconnect), so when
// the database falls behind, events beyond maxQueue reach this instance's
// browsers only instead of holding up the publisher.
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
	dropped int // events kept local since the last warning
	warned  time.Time
	wake    chan struct{}
	stopped chan struct{}
	// timeout is sendTimeout; tests shorten it.
	timeout time.Duration
	// sendCtx ends when Close gives up on the last statements.
	sendCtx    context.Context
	cancelSend context.CancelFunc
	closeOnce  sync.Once
}

// maxQueue bounds the events waiting for the sender.
const maxQueue = 20000

// NewPG returns a PostgreSQL broadcaster on the database dsn names: a
// connection of its own sends the notifications, and Run holds the
// listening connection. Run must be running for subscribers to receive
// anything; Close sends what is still queued and releases the connection.
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
	db.SetMaxOpenConns(1) // the sender's
	p := &PG{
		hub: NewHub(), db: db, dsn: dsn, channel: channel, log: log, ready: make(chan struct{}),
		wake: make(chan struct{}, 1), stopped: make(chan struct{}), timeout: sendTimeout,
	}
	p.sendCtx, p.cancelSend = context.WithCancel(context.Background())
	go p.send()
	return p, nil
}

// Close sends what is still queued, giving it sendTimeout in all, and
// releases the connection. What is not sent by then reaches this
// instance's subscribers only, as do events published after Close.
func (p *PG) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.poke()
		t := time.NewTimer(p.timeout)
		defer t.Stop()
		select {
		case <-p.stopped:
		case <-t.C:
			p.cancelSend()
			<-p.stopped
		}
		p.cancelSend()
		err = p.db.Close()
	})
	return err
}

// maxPayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxPayload = 7900

// sendTimeout bounds one statement of notifications, and Close's wait.
const sendTimeout = 5 * time.Second

// dropWarnEvery spaces the warnings about events kept local.
const dropWarnEvery = time.Minute

// Publish implements Publisher: it queues e for the sender, or, while
// maxQueue events are queued already or after Close, hands it to this
// instance's subscribers alone.
func (p *PG) Publish(e Event) {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	p.mu.Lock()
	if p.closed || len(p.queue) >= maxQueue {
		warn := 0
		if !p.closed {
			p.dropped++
			if now := time.Now(); now.Sub(p.warned) >= dropWarnEvery {
				warn, p.dropped, p.warned = p.dropped, 0, now
			}
		}
		p.mu.Unlock()
		if warn > 0 {
			p.log.Warn("live: notifications behind; events shown on this instance only", slog.Int("events", warn))
		}
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
			p.mu.Unlock()
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
			p.notify(batch)
			clear(batch) // let go of the events' strings
		}
	}
}

// notify sends events as notifications in one statement. When that fails
// they still reach this instance's subscribers, as does an event that
// cannot be encoded. PostgreSQL delivers identical payloads sent in one
// transaction once; two packed notifications are identical only when they
// repeat the same events, times included.
func (p *PG) notify(events []Event) {
	payloads, unsent := pack(events, maxPayload)
	for _, e := range unsent {
		p.hub.Publish(e)
	}
	if len(payloads) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(p.sendCtx, p.timeout)
	defer cancel()
	_, err := p.db.ExecContext(ctx, "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload", p.channel, payloads)
	if err != nil {
		p.log.Warn("live: notify failed; delivering locally only", slog.Int("events", len(events)-len(unsent)), slog.Any("err", err))
		for _, e := range events {
			if !slices.Contains(unsent, e) {
				p.hub.Publish(e)
			}
		}
	}
}

// pack encodes events as notifications of at most limit bytes each, in
// order: a JSON array of events, or the event alone where a notification
// holds one (as instances before arrays sent them, so that those still read
// it). An event too large alone loses its Detail; one that cannot be
// encoded at all is returned in unsent.
func pack(events []Event, limit int) (payloads []string, unsent []Event) {
	var (
		buf = []byte{'['}
		n   int // events in buf
	)
	flush := func() {
		switch n {
		case 0:
			return
		case 1:
			payloads = append(payloads, string(buf[1:]))
		default:
			payloads = append(payloads, string(append(buf, ']')))
		}
		buf, n = append(buf[:0], '['), 0
	}
	for _, e := range events {
		b, err := json.Marshal(e)
		if err == nil && len(b)+2 > limit {
			short := e
			short.Detail = ""
			b, err = json.Marshal(short)
		}
		if err != nil || len(b)+2 > limit {
			unsent = append(unsent, e) // as given, so that notify can tell it apart
			continue
		}
		if n > 0 && len(buf)+1+len(b)+1 > limit {
			flush()
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
		n++
	}
	flush()
	return payloads, unsent
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

// unpack reads a notification: a JSON array of events, or one event.
// Events without a kind are left out: nothing shows them.
func unpack(payload string) ([]Event, error) {
	var events []Event
	if strings.HasPrefix(strings.TrimLeft(payload, " \t\r\n"), "[") {
		if err := json.Unmarshal([]byte(payload), &events); err != nil {
			return nil, err
		}
	} else {
		var e Event
		if err := json.Unmarshal([]byte(payload), &e); err != nil {
			return nil, err
		}
		events = []Event{e}
	}
	return slices.DeleteFunc(events, func(e Event) bool { return e.Kind == "" }), nil
}
