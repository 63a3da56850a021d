package live

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for notifications
)

// DefaultChannel is the PostgreSQL NOTIFY channel instances share.
const DefaultChannel = "apptconfirm_live"

// PG is a Broadcaster for several instances on one PostgreSQL database:
// Publish sends a NOTIFY, and every instance (this one included) LISTENs and
// hands what arrives to its local subscribers. A browser connected to
// instance A so sees a reply that instance B processed.
type PG struct {
	hub     *Hub
	db      *sql.DB
	dsn     string
	channel string
	log     *slog.Logger
	ready   chan struct{}
}

// NewPG returns a PostgreSQL broadcaster on the database dsn names: a small
// pool of its own sends the notifications, and Run holds the listening
// connection. Run must be running for subscribers to receive anything;
// Close releases the pool.
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
	return &PG{hub: NewHub(), db: db, dsn: dsn, channel: channel, log: log, ready: make(chan struct{})}, nil
}

// Close releases the notifying pool.
func (p *PG) Close() error { return p.db.Close() }

// maxPayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxPayload = 7900

// Publish implements Publisher. When the notification cannot be sent, the
// event still reaches this instance's subscribers.
func (p *PG) Publish(e Event) {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	b, err := json.Marshal(e)
	if err == nil && len(b) > maxPayload {
		e.Detail = ""
		b, err = json.Marshal(e)
	}
	if err != nil {
		p.hub.Publish(e)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := p.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", p.channel, string(b)); err != nil {
		p.log.Warn("live: notify failed; delivering locally only", slog.Any("err", err))
		p.hub.Publish(e)
	}
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
		var e Event
		if err := json.Unmarshal([]byte(n.Payload), &e); err != nil {
			p.log.Warn("live: bad notification payload", slog.Any("err", err))
			continue
		}
		p.hub.Publish(e)
	}
}
