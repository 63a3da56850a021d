package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/app/conversation"
	"apptconfirm/app/delivery"
	"apptconfirm/app/events"
	"apptconfirm/app/live"
	"apptconfirm/app/outbox"
	"apptconfirm/app/reschedule"
	"apptconfirm/app/smscx"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// t0 is the tests' "now": Monday 2 March 2026, 09:00 UTC.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const testSecret = "s3cret-path-segment-0123456789"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// recorder is a live.Publisher that keeps what it gets; block, when set,
// holds every Publish until it is closed.
type recorder struct {
	mu     sync.Mutex
	events []live.Event
	block  chan struct{}
}

func (r *recorder) Publish(e live.Event) {
	r.mu.Lock()
	block := r.block
	r.mu.Unlock()
	if block != nil {
		<-block
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, e := range r.events {
		out[i] = e.Kind + ":" + e.Status
	}
	return out
}

// kicker counts Kick calls.
type kicker struct{ n atomic.Int32 }

func (k *kicker) Kick() { k.n.Add(1) }

// env is a webhook endpoint on a real database, served over real HTTP.
type env struct {
	t      testing.TB
	ctx    context.Context
	store  *models.Store
	clock  *clock
	clinic *clinic.Service
	ob     *outbox.Outbox
	proc   *webhook.Processor
	recv   *webhook.Receiver
	pub    *recorder
	kick   *kicker
	// traffic is shared by recv and proc, as the server wires them.
	traffic *webhook.Traffic
	http    *httptest.Server
	url     string
}

type envOption func(*webhook.ReceiverOptions)

func withMaxBody(n int64) envOption { return func(o *webhook.ReceiverOptions) { o.MaxBodyBytes = n } }

func withMetrics(m webhook.Metrics) envOption {
	return func(o *webhook.ReceiverOptions) { o.Metrics = m }
}

// newEnv builds the endpoint on store, with the clinic's defaults in place
// (a default location in Berlin). The processor is not running: tests call
// process, or start run.
func newEnv(t testing.TB, store *models.Store, opts ...envOption) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{t: t, ctx: ctx, store: store, clock: &clock{t: t0}, pub: &recorder{}, kick: &kicker{}, traffic: webhook.NewTraffic()}
	storetest.EventsOf(store).Forward(events.New(events.Options{Live: e.pub, Kick: e.kick, Now: e.clock.Now}))
	e.ob = outbox.New(store, outbox.Options{Now: e.clock.Now})
	e.clinic = clinic.New(store, clinic.Options{Planner: e.ob, Now: e.clock.Now})
	err := e.clinic.EnsureDefaults(ctx, clinic.Defaults{
		ClinicName: "Test Clinic", Timezone: "Europe/Berlin", Country: "DE", Phone: "+4930901820",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.proc, err = webhook.NewProcessor(webhook.ProcessorOptions{
		Store: store, Appliers: appliers(store, e.clinic, e.ob, e.clock.Now), Now: e.clock.Now, Traffic: e.traffic,
	})
	if err != nil {
		t.Fatal(err)
	}
	ro := webhook.ReceiverOptions{Store: store, Secret: testSecret, Notifier: e.proc, Traffic: e.traffic, Now: e.clock.Now}
	for _, o := range opts {
		o(&ro)
	}
	e.recv, err = webhook.NewReceiver(ro)
	if err != nil {
		t.Fatal(err)
	}
	e.http = httptest.NewServer(e.recv)
	t.Cleanup(e.http.Close)
	e.url = e.http.URL + "/webhooks/smscx/" + testSecret
	return e
}

// run starts the processor's loop until the test ends.
func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.proc.Run(ctx)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// post sends body to the webhook URL and returns the status and body.
func (e *env) post(body string) (int, string) {
	e.t.Helper()
	return e.postTo(e.url, body)
}

func (e *env) postTo(url, body string) (int, string) {
	e.t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mustPost posts and fails the test unless the answer is 200.
func (e *env) mustPost(body string) {
	e.t.Helper()
	if code, resp := e.post(body); code != http.StatusOK {
		e.t.Fatalf("POST: status %d: %s", code, resp)
	}
}

// process applies every pending event.
func (e *env) process() int {
	e.t.Helper()
	n, err := e.proc.ProcessPending(e.ctx)
	if err != nil {
		e.t.Fatalf("process: %v", err)
	}
	return n
}

// waitProcessed polls until no event is pending.
func (e *env) waitProcessed() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int64
		if err := e.store.DB(e.ctx).Model(&models.WebhookEvent{}).Where("processed_at IS NULL").Count(&n).Error; err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d events still pending", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) count(model any, where ...any) int64 {
	e.t.Helper()
	db := e.store.DB(e.ctx).Model(model)
	if len(where) > 0 {
		db = db.Where(where[0], where[1:]...)
	}
	var n int64
	if err := db.Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// snapshot is every row count that processing can change, to prove that a
// replay changed nothing.
func (e *env) snapshot() map[string]int64 {
	return map[string]int64{
		"webhook_events":   e.count(&models.WebhookEvent{}),
		"messages":         e.count(&models.Message{}),
		"inbound_messages": e.count(&models.InboundMessage{}),
		"timeline":         e.count(&models.TimelineEntry{}),
		"audit":            e.count(&models.AuditEntry{}),
		"inbox":            e.count(&models.InboundMessage{}, "needs_attention = ?", true),
		"confirmed":        e.count(&models.Appointment{}, "status = ?", models.Confirmed),
		"cancelled":        e.count(&models.Appointment{}, "status = ?", models.Cancelled),
		"opted_out":        e.count(&models.Patient{}, "opted_out_at IS NOT NULL"),
	}
}

// patient creates a patient with phone.
func (e *env) patient(first, phone string) *models.Patient {
	e.t.Helper()
	p, err := e.clinic.CreatePatient(e.ctx, models.SystemActor(), clinic.PatientInput{FirstName: first, Phone: phone}, "DE")
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// appointment books p at now+in.
func (e *env) appointment(p *models.Patient, in time.Duration) *models.Appointment {
	e.t.Helper()
	a, err := e.clinic.CreateAppointment(e.ctx, models.SystemActor(), clinic.AppointmentInput{
		PatientID: p.ID, StartsAt: e.clock.Now().Add(in), DurationMinutes: 30,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// sentReminder records a reminder for a as sent by SMS.CX with msgID.
func (e *env) sentReminder(a *models.Appointment, to string) *models.Message {
	e.t.Helper()
	now := e.clock.Now().UTC()
	m := &models.Message{
		UUID: uuid.NewString(), AppointmentID: &a.ID, PatientID: &a.PatientID, RuleName: "48h",
		Kind: models.KindReminder, To: to, Body: "Reminder", Status: models.MsgAccepted, SendAt: now,
		SentAt: &now, ProviderID: uuid.NewString(), CampaignID: uuid.NewString(),
	}
	if err := e.store.DB(e.ctx).Create(m).Error; err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) message(id uint) *models.Message {
	e.t.Helper()
	var m models.Message
	if err := e.store.DB(e.ctx).First(&m, id).Error; err != nil {
		e.t.Fatal(err)
	}
	return &m
}

func (e *env) appt(id uint) *models.Appointment {
	e.t.Helper()
	var a models.Appointment
	if err := e.store.DB(e.ctx).First(&a, id).Error; err != nil {
		e.t.Fatal(err)
	}
	return &a
}

// queued lists the planned messages of kind to number.
func (e *env) queued(kind, to string) []models.Message {
	e.t.Helper()
	var ms []models.Message
	err := e.store.DB(e.ctx).Where(`"to" = ?`, to).Where("kind = ?", kind).Order("id").Find(&ms).Error
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

// envelope renders an SMS.CX webhook body.
func envelope(event string, items ...any) string {
	b, err := json.Marshal(map[string]any{"event": event, "data": items})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func dlrItem(m *models.Message, status string, errorCode *int) map[string]any {
	return map[string]any{
		"campaignId": m.CampaignID, "msgId": m.ProviderID, "statusCode": 0, "status": status,
		"errorCode": errorCode, "datetime": "2026-03-02 09:00:05", "trackData": m.UUID,
	}
}

var smsSeq atomic.Int64

func smsItem(from, text string) map[string]any {
	return map[string]any{
		"msgId": fmt.Sprintf("00000000-0000-4000-8000-%012d", smsSeq.Add(1)), "from": from, "countryIso": "DE",
		"to": "+4915199000000", "text": text, "cost": 0, "receivedAt": "2026-03-02 09:01:00",
	}
}

// optoutItem is a new_optout item: the patient with phone followed an
// opt-out link (hit id).
func optoutItem(id int, phone string) map[string]any {
	return map[string]any{
		"hitId": id, "optoutId": "aB3", "optoutUrl": "https://x", "optoutType": "link",
		"countryIso": "DE", "datetime": "2026-03-02 09:00:00", "phoneNumber": phone, "campaignId": nil, "groupId": nil,
	}
}

// reply posts one inbound SMS and applies it.
func (e *env) reply(from, text string) {
	e.t.Helper()
	e.mustPost(envelope("receive_sms", smsItem(from, text)))
	e.process()
}

// lastInbound returns the latest inbound message.
func (e *env) lastInbound() *models.InboundMessage {
	e.t.Helper()
	var in models.InboundMessage
	if err := e.store.DB(e.ctx).Order("id DESC").Take(&in).Error; err != nil {
		e.t.Fatal(err)
	}
	return &in
}

// staff is an actor for changes made in test setup.
func (e *env) staff() models.Actor { return models.Actor{Name: "staff@example.com"} }

// eachStore runs fn on SQLite and, when reachable, PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, s *models.Store)) {
	storetest.Each(t, fn)
}

// appliers are the services that apply stored events, as the server wires them.
func appliers(store *models.Store, c *clinic.Service, ob *outbox.Outbox, now func() time.Time) map[string]webhook.Applier {
	avail := availability.New(store, availability.Options{Now: now})
	rs := reschedule.New(store, c, ob, avail, reschedule.Options{Now: now})
	replies := conversation.New(store, c, ob, rs, nil, now)
	reports := delivery.New(store, ob, c, now)
	return map[string]webhook.Applier{
		smscx.EventReceiveSMS:          replies,
		smscx.EventDLRUpdate:           reports,
		smscx.EventNewOptout:           reports,
		smscx.EventShortlinkHit:        reports,
		smscx.EventShortlinkHitUpdate:  reports,
		smscx.EventAttachmentHit:       reports,
		smscx.EventAttachmentHitUpdate: reports,
	}
}
