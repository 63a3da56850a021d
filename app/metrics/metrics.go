// Package metrics is apptconfirm's Prometheus registry: messages sent by
// status, webhook events by type, dispatch and webhook latencies, the inbox
// size, HTTP requests by route and status, and the Go and process
// collectors. Other packages call the methods of *Metrics; a nil *Metrics
// records nothing, so callers need no checks and tests may pass nil.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"apptconfirm/models"
)

// Namespace prefixes every apptconfirm series.
const Namespace = "apptconfirm"

// Other is the label value recorded for a status or event name that is not
// one of the known ones, so that outside input cannot grow the number of
// series without bound.
const Other = "other"

// Unmatched is the route label of a request that matched no route.
const Unmatched = "unmatched"

// WebhookEvents lists the SMS.CX callback event names (smscx-api.md 6.3) that
// get a label value of their own; anything else is counted as Other.
var WebhookEvents = []string{
	"dlr_update", "receive_sms", "receive_viber", "receive_whatsapp",
	"shortlink_hit", "shortlink_hit_update", "attachment_hit", "attachment_hit_update",
	"new_optout",
}

// InboxCounter returns how many inbound messages need a human now. It is
// called on every scrape.
type InboxCounter func(ctx context.Context) (int64, error)

// Options configure New.
type Options struct {
	// Inbox backs apptconfirm_inbox_size; nil leaves the series out.
	Inbox InboxCounter
	// InboxTimeout bounds the inbox query on a scrape; 0 means 2 seconds.
	InboxTimeout time.Duration
	// Logger receives scrape errors; nil discards them.
	Logger *slog.Logger
	// OutboundQueueAge backs apptconfirm_outbound_webhook_queue_age_seconds:
	// how long the longest-waiting due delivery has waited; nil leaves the
	// series out.
	OutboundQueueAge QueueAge
}

// QueueAge returns how long the oldest due item of a queue has waited (0
// when none waits). It is called on every scrape.
type QueueAge func(ctx context.Context) (time.Duration, error)

// OutboundOutcomes are the label values of
// apptconfirm_outbound_webhook_deliveries_total: an attempt answered with
// 2xx, one that failed and will be retried, one that failed for the last
// time.
var OutboundOutcomes = []string{"delivered", "retry", "failed"}

// Metrics holds the registry and the series apptconfirm records. Its methods
// are safe for concurrent use and do nothing on a nil receiver.
type Metrics struct {
	reg           *prometheus.Registry
	log           *slog.Logger
	messagesSent  *prometheus.CounterVec
	webhookEvents *prometheus.CounterVec
	// eventCounters are webhookEvents' series of WebhookEvents, resolved
	// once: WebhookEvents runs for every stored webhook, and a
	// label look-up hashes the value and takes the vector's lock.
	eventCounters map[string]prometheus.Counter
	dispatch      prometheus.Histogram
	webhook       prometheus.Histogram
	httpRequests  *prometheus.CounterVec
	outbound      *prometheus.CounterVec
	outboundTime  prometheus.Histogram
}

// New builds a registry with every apptconfirm series (known label values
// start at zero, so dashboards see them before the first event) and the Go
// and process collectors.
func New(opts Options) *Metrics {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.InboxTimeout <= 0 {
		opts.InboxTimeout = 2 * time.Second
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: opts.Logger,
		messagesSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "messages_sent_total",
			Help: "Outbound SMS handed to SMS.CX, by the status the send ended in.",
		}, []string{"status"}),
		webhookEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "webhook_events_total",
			Help: "SMS.CX webhook events received, by event type.",
		}, []string{"event"}),
		dispatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "dispatch_duration_seconds",
			Help:    "Time to dispatch one due message (claim, send, record).",
			Buckets: prometheus.DefBuckets,
		}),
		webhook: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "webhook_duration_seconds",
			Help:    "Time from receiving an SMS.CX webhook request to answering it.",
			Buckets: prometheus.DefBuckets,
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "status"}),
		outbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "outbound_webhook_deliveries_total",
			Help: "Outbound webhook delivery attempts, by outcome (delivered, retry, failed).",
		}, []string{"outcome"}),
		outboundTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "outbound_webhook_duration_seconds",
			Help:    "Time from sending an outbound webhook to its answer (or failure).",
			Buckets: prometheus.DefBuckets,
		}),
	}
	for _, o := range OutboundOutcomes {
		m.outbound.WithLabelValues(o)
	}
	for _, s := range models.MessageStatuses {
		m.messagesSent.WithLabelValues(string(s))
	}
	m.eventCounters = make(map[string]prometheus.Counter, len(WebhookEvents))
	for _, e := range WebhookEvents {
		m.eventCounters[e] = m.webhookEvents.WithLabelValues(e)
	}
	m.reg.MustRegister(
		m.messagesSent, m.webhookEvents, m.dispatch, m.webhook, m.httpRequests, m.outbound, m.outboundTime,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if opts.Inbox != nil {
		m.reg.MustRegister(&inboxCollector{
			count:   opts.Inbox,
			timeout: opts.InboxTimeout,
			desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "inbox_size"),
				"Inbound messages that need a human (the staff inbox).", nil, nil),
		})
	}
	if opts.OutboundQueueAge != nil {
		m.reg.MustRegister(&ageCollector{
			age:     opts.OutboundQueueAge,
			timeout: opts.InboxTimeout,
			desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "outbound_webhook_queue_age_seconds"),
				"How long the longest-waiting due outbound webhook delivery has waited (0 when none waits).", nil, nil),
		})
	}
	return m
}

// Registry returns the underlying registry (for tests and extra collectors).
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the registry in the Prometheus text format. A series that
// fails to collect (the inbox query) is left out and logged; the rest is
// still served.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		ErrorLog:            promLogger{m.log},
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// MessageSent counts one outbound message whose send ended in status
// (a models.MessageStatus value; anything else counts as Other).
func (m *Metrics) MessageSent(status string) {
	if m == nil {
		return
	}
	if !models.MessageStatus(status).Valid() {
		status = Other
	}
	m.messagesSent.WithLabelValues(status).Inc()
}

// WebhookEvents counts n SMS.CX webhook events of the given type (one of
// WebhookEvents; anything else counts as Other), a batch at a time.
func (m *Metrics) WebhookEvents(event string, n int) {
	if m == nil || n <= 0 {
		return
	}
	c, ok := m.eventCounters[event]
	if !ok {
		c = m.webhookEvents.WithLabelValues(Other)
	}
	c.Add(float64(n))
}

// ObserveDispatch records how long dispatching one message took.
func (m *Metrics) ObserveDispatch(d time.Duration) {
	if m == nil {
		return
	}
	m.dispatch.Observe(d.Seconds())
}

// ObserveWebhook records how long answering one webhook request took.
func (m *Metrics) ObserveWebhook(d time.Duration) {
	if m == nil {
		return
	}
	m.webhook.Observe(d.Seconds())
}

// HTTPRequest counts one served HTTP request. route must be a route pattern
// (gin's FullPath, "/api/v1/appointments/:id"), never the raw path, so the
// number of series stays bounded; "" counts as Unmatched.
func (m *Metrics) HTTPRequest(route string, status int) {
	if m == nil {
		return
	}
	if route == "" {
		route = Unmatched
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

// OutboundDelivery counts one outbound webhook attempt by outcome (one of
// OutboundOutcomes; anything else counts as Other) and records its latency.
func (m *Metrics) OutboundDelivery(outcome string, latency time.Duration) {
	if m == nil {
		return
	}
	known := false
	for _, o := range OutboundOutcomes {
		known = known || o == outcome
	}
	if !known {
		outcome = Other
	}
	m.outbound.WithLabelValues(outcome).Inc()
	m.outboundTime.Observe(latency.Seconds())
}

// inboxCollector reads the inbox size from the database on each scrape.
type inboxCollector struct {
	count   InboxCounter
	timeout time.Duration
	desc    *prometheus.Desc
}

func (c *inboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *inboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	n, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, fmt.Errorf("metrics: inbox size: %w", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}

// ageCollector reads a queue's age from the database on each scrape.
type ageCollector struct {
	age     QueueAge
	timeout time.Duration
	desc    *prometheus.Desc
}

func (c *ageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *ageCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	d, err := c.age(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, fmt.Errorf("metrics: queue age: %w", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, d.Seconds())
}

// OutboundQueueAge measures the outbound webhook queue: how long ago the
// oldest due delivery became due, by the clock now.
func OutboundQueueAge(store *models.Store, now func() time.Time) QueueAge {
	return func(ctx context.Context) (time.Duration, error) {
		t := now()
		oldest, err := store.OldestDueDelivery(ctx, t)
		if err != nil || oldest == nil {
			return 0, err
		}
		return max(t.Sub(*oldest), 0), nil
	}
}

// InboxSize counts the inbound messages in the staff inbox: flagged as
// needing attention and not yet handled. The needs_attention column is
// indexed, so the count touches only those rows.
func InboxSize(store *models.Store) InboxCounter {
	return store.CountInbox
}

// promLogger adapts slog to promhttp's Println logger.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Warn("metrics scrape error", slog.String("err", fmt.Sprint(v...)))
}
