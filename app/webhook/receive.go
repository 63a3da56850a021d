package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"apptconfirm/models"
)

// PathPrefix starts the webhook's path; the secret is the segment after it
// (POST /webhooks/smscx/{secret}).
const PathPrefix = "/webhooks/smscx/"

// DefaultMaxBodyBytes caps a webhook body when ReceiverOptions leaves it 0.
const DefaultMaxBodyBytes = 1 << 20

// Notifier is woken after each stored batch; the Processor implements it.
// Notify must not block.
type Notifier interface {
	Notify()
}

// Metrics records what the Receiver does; *metrics.Metrics implements it.
type Metrics interface {
	// WebhookEvents counts n newly stored events of the given type.
	WebhookEvents(event string, n int)
	// ObserveWebhook records how long answering one request took.
	ObserveWebhook(d time.Duration)
}

// ReceiverOptions configure a Receiver.
type ReceiverOptions struct {
	Store *models.Store
	// Secret is the path segment SMS.CX must use; it must not be empty.
	Secret string
	// MaxBodyBytes caps the body (config webhook.max_body_bytes); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Notifier is woken after each committed batch; nil means nobody (a
	// sweep finds the events).
	Notifier Notifier
	// Traffic, when not nil, is told of every request being stored, so
	// that a Processor sharing it gives way (see Traffic).
	Traffic *Traffic
	// Metrics, when not nil, counts stored events and request latency.
	Metrics Metrics
	Log     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Receiver answers SMS.CX's webhook POSTs: it stores each item durably
// before it answers, and applies nothing itself. It is safe for concurrent
// use.
type Receiver struct {
	store      *models.Store
	secretHash [sha256.Size]byte
	maxBody    int64
	group      *groupCommit
	notifier   Notifier
	traffic    *Traffic
	metrics    Metrics
	log        *slog.Logger
	now        func() time.Time
}

// NewReceiver returns a Receiver for o.
func NewReceiver(o ReceiverOptions) (*Receiver, error) {
	if o.Store == nil {
		return nil, errors.New("webhook: new receiver: a store is required")
	}
	if o.Secret == "" {
		return nil, errors.New("webhook: new receiver: the path secret must not be empty")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Receiver{
		store: o.Store, group: &groupCommit{store: o.Store, traffic: o.Traffic, timeout: groupTimeout},
		secretHash: sha256.Sum256([]byte(o.Secret)), maxBody: o.MaxBodyBytes,
		notifier: o.Notifier, traffic: o.Traffic, metrics: o.Metrics, log: o.Log, now: o.Now,
	}, nil
}

// Receipt says what one webhook POST stored.
type Receipt struct {
	// Event is the envelope's event name.
	Event string `json:"event"`
	// Items is how many distinct items the batch held.
	Items int `json:"items"`
	// Stored is how many of them were new (the rest were duplicates).
	Stored int `json:"stored"`
	// Malformed is how many were stored flagged as malformed.
	Malformed int `json:"malformed"`
}

// ServeHTTP answers POST /webhooks/smscx/{secret}; the secret is read from
// the path, so the handler works whatever router sits in front of it.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	if r.metrics != nil {
		start := time.Now()
		defer func() { r.metrics.ObserveWebhook(time.Since(start)) }()
	}
	// Both sides are hashed first, so the comparison takes the same time
	// whatever the length of the guess.
	secret, _ := strings.CutPrefix(req.URL.Path, PathPrefix)
	// Copied into an array on the stack: a conversion would allocate for
	// every request once the secret is longer than 32 bytes.
	var buf [128]byte
	got := sha256.Sum256(append(buf[:0], secret...))
	if subtle.ConstantTimeCompare(got[:], r.secretHash[:]) != 1 || req.Method != http.MethodPost {
		http.NotFound(w, req)
		return
	}
	if req.ContentLength > r.maxBody {
		r.tooLarge(w)
		return
	}
	body, err := r.readBody(w, req)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			r.tooLarge(w)
			return
		}
		r.log.InfoContext(ctx, "webhook body unreadable", slog.Any("err", err))
		writeError(w, http.StatusBadRequest, "unreadable_body", "the request body could not be read")
		return
	}
	receipt, err := r.Ingest(ctx, body)
	if err != nil {
		r.refuse(ctx, w, err)
		return
	}
	writeReceipt(w, receipt)
}

// refuse answers a request whose batch was not stored because of err.
func (r *Receiver) refuse(ctx context.Context, w http.ResponseWriter, err error) {
	var envErr *EnvelopeError
	var many *TooManyItemsError
	switch {
	case errors.As(err, &many):
		r.log.InfoContext(ctx, "webhook refused: batch too long", slog.Int("items", many.Items))
		writeError(w, http.StatusRequestEntityTooLarge, "too_many_items",
			fmt.Sprintf("the batch holds %d items; at most %d are accepted in one request", many.Items, MaxBatchItems))
	case errors.As(err, &envErr):
		r.log.InfoContext(ctx, "webhook refused", slog.String("reason", envErr.Reason))
		writeError(w, http.StatusBadRequest, "bad_envelope", envErr.Reason)
	case errors.Is(err, context.Canceled):
		// The client went away before its batch was committed; a retry
		// finds whatever was stored as duplicates.
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the request ended before the events were stored")
	case errors.Is(err, models.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, models.ErrConflict):
		// SMS.CX retries anything but 200; nothing was stored.
		r.log.WarnContext(ctx, "webhook not stored: database unavailable", slog.Any("err", err))
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the event store is busy; retry later")
	default:
		r.log.ErrorContext(ctx, "webhook not stored", slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, "internal", "the events could not be stored; retry later")
	}
}

// readBody reads a body of at most r.maxBody bytes. A small one of a
// declared length (checked against the cap already) is read into a buffer
// of that length: net/http never reads past the length it declared. A
// larger one grows as its bytes arrive, so that a sender declaring the cap
// and sending nothing holds no memory for it.
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	if n := req.ContentLength; n >= 0 && n <= min(r.maxBody, preallocBody) {
		body := make([]byte, n)
		if _, err := io.ReadFull(req.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, req.Body, r.maxBody))
}

// preallocBody is the largest declared body readBody reads into a buffer
// made before its bytes arrive (bytes): far more than any one event.
const preallocBody = 64 << 10

// writeReceipt answers 200 with receipt as JSON, written by hand: it is
// every stored webhook's answer, and encoding/json's reflection cost a few
// percent of one. The event name needs no escaping: decodeBatch accepts
// only [A-Za-z0-9_.:-] (TestReceiptJSON checks it against json.Marshal).
func writeReceipt(w http.ResponseWriter, rc Receipt) {
	b := make([]byte, 0, 96)
	b = append(b, `{"event":"`...)
	b = append(b, rc.Event...)
	b = append(b, `","items":`...)
	b = strconv.AppendInt(b, int64(rc.Items), 10)
	b = append(b, `,"stored":`...)
	b = strconv.AppendInt(b, int64(rc.Stored), 10)
	b = append(b, `,"malformed":`...)
	b = strconv.AppendInt(b, int64(rc.Malformed), 10)
	b = append(b, '}')
	// A canonical name: Set would check it again.
	w.Header()["Content-Type"] = []string{"application/json; charset=utf-8"}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (r *Receiver) tooLarge(w http.ResponseWriter) {
	// The rest of an oversized body is not read; closing the connection
	// spares reading it just to reuse the connection.
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, "too_large",
		fmt.Sprintf("the body is larger than %d bytes", r.maxBody))
}

// apiError is the REST API's error shape: {"error": {"code", "message"}}.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers {"error": {"code", "message"}}, as the REST API does.
func writeError(w http.ResponseWriter, status int, code, message string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, message
	writeJSON(w, status, e)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Ingest decodes a webhook body and stores every item of the batch, all or
// nothing, then wakes the Notifier. Batches of concurrent requests share one
// transaction (a group commit); each answer waits for its own commit. A
// body that is not an envelope is an *EnvelopeError, a batch of more than
// MaxBatchItems items a *TooManyItemsError; neither stores anything. A
// database that cannot take the write
// returns an error wrapping models.ErrUnavailable. ServeHTTP calls it; the
// simulator and benchmarks may call it directly.
func (r *Receiver) Ingest(ctx context.Context, body []byte) (Receipt, error) {
	r.traffic.begin()
	defer r.traffic.end()
	b, err := decodeBatch(body)
	if err != nil {
		return Receipt{}, err
	}
	receipt := Receipt{Event: b.event, Items: len(b.items)}
	if len(b.items) == 0 {
		return receipt, nil
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	// processed is now on the heap, made only for a batch that needs it:
	// most batches have nothing to set aside.
	var processed *time.Time
	processedAt := func() *time.Time {
		if processed == nil {
			processed = new(now)
		}
		return processed
	}
	rows := make([]models.WebhookEvent, len(b.items))
	for i, it := range b.items {
		rows[i] = models.WebhookEvent{Event: b.event, DedupKey: it.key, Raw: it.raw, ReceivedAt: now}
		switch {
		case it.malformed != "":
			receipt.Malformed++
			rows[i].ProcessedAt = processedAt()
			rows[i].Flagged = true
			rows[i].Result = clip("malformed: "+it.malformed, 300)
		case it.ignored:
			rows[i].ProcessedAt = processedAt()
			rows[i].Result = "ignored: event type not handled"
		}
	}
	receipt.Stored, err = r.group.insert(ctx, rows)
	if err != nil {
		return Receipt{}, fmt.Errorf("webhook: store %s batch: %w", b.event, err)
	}
	if r.metrics != nil {
		r.metrics.WebhookEvents(b.event, receipt.Stored)
	}
	if receipt.Stored > 0 && r.notifier != nil {
		r.notifier.Notify()
	}
	return receipt, nil
}
