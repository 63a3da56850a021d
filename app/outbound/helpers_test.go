package outbound_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/events"
	"apptconfirm/app/outbound"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// clock is the real time plus an offset a test can move forward.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// env is a clinic whose transactions queue outbound webhooks, as
// server.Build wires them.
type env struct {
	store  *models.Store
	clk    *clock
	wake   *outbound.Wake
	svc    *outbound.Service
	clinic *clinic.Service
	staff  models.Actor
}

func newEnv(t testing.TB, store *models.Store) *env {
	t.Helper()
	e := &env{store: store, clk: &clock{}, wake: outbound.NewWake()}
	storetest.EventsOf(store).Forward(events.New(events.Options{
		Now: e.clk.Now, Stagers: []events.Stager{outbound.NewStager(e.clk.Now)}, Notifiers: []events.Notifier{e.wake},
	}))
	e.svc = outbound.New(store, outbound.Options{AllowPrivate: true, Wake: e.wake, Now: e.clk.Now})
	e.clinic = clinic.New(store, clinic.Options{Now: e.clk.Now})
	uid := uint(1)
	e.staff = models.Actor{UserID: &uid, Name: "admin@example.com"}
	if err := e.clinic.EnsureDefaults(context.Background(), clinic.Defaults{ClinicName: "Main St", Timezone: "Europe/Paris", Country: "FR"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// worker returns a worker on the env's store and clock, quick to retry.
func (e *env) worker(o outbound.WorkerOptions) *outbound.Worker {
	if o.Client == nil {
		o.Client = outbound.NewClient(true, 2*time.Second)
	}
	if o.BackoffBase == 0 {
		o.BackoffBase, o.BackoffMax = 20*time.Millisecond, 100*time.Millisecond
	}
	if o.Poll == 0 {
		o.Poll = 20 * time.Millisecond
	}
	o.Wake, o.Now = e.wake, e.clk.Now
	return outbound.NewWorker(e.store, o)
}

// endpoint registers url for the event types.
func (e *env) endpoint(t testing.TB, url string, includePhone bool, types ...string) *models.WebhookEndpoint {
	t.Helper()
	ep, err := e.svc.Create(context.Background(), e.staff, outbound.EndpointInput{URL: &url, Events: types, IncludePhone: &includePhone})
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	return ep
}

var phoneSeq struct {
	sync.Mutex
	n int
}

// book creates a patient and an appointment for them.
func (e *env) book(t testing.TB, first string) *models.Appointment {
	t.Helper()
	phoneSeq.Lock()
	phoneSeq.n++
	phone := fmt.Sprintf("+336%08d", 12000000+phoneSeq.n)
	phoneSeq.Unlock()
	ctx := context.Background()
	p, err := e.clinic.CreatePatient(ctx, e.staff, clinic.PatientInput{FirstName: first, LastName: "Martin", Phone: phone}, "")
	if err != nil {
		t.Fatalf("patient: %v", err)
	}
	a, err := e.clinic.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{
		PatientID: p.ID, StartsAt: e.clk.Now().Add(72 * time.Hour).Truncate(time.Minute), DurationMinutes: 30,
	})
	if err != nil {
		t.Fatalf("appointment: %v", err)
	}
	return a
}

// deliveries returns every delivery, oldest first.
func deliveries(t testing.TB, s *models.Store) []models.WebhookDelivery {
	t.Helper()
	var ds []models.WebhookDelivery
	if err := s.DB(context.Background()).Order("id").Find(&ds).Error; err != nil {
		t.Fatal(err)
	}
	return ds
}

// verify checks a webhook as a receiver would, following the Standard
// Webhooks specification and nothing of the sender's code: the secret is
// base64 after "whsec_", the signed content "id.timestamp.body", the header
// a space-separated list of "v1,<base64>", one of which must match; the
// timestamp must be within five minutes of now.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp %q", ts)
	}
	if d := now.Unix() - sec; d > 300 || d < -300 {
		return fmt.Errorf("timestamp %d too far from now", sec)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("secret without whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	io.WriteString(mac, id+"."+ts+".")
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature matches")
}

// received is one request a receiver got.
type received struct {
	ID, Timestamp, Signature string
	Body                     []byte
	Env                      outbound.Envelope
}

// receiver is an HTTP endpoint that verifies every webhook with verify and
// records it; handle (optional) says what to answer to the n-th request
// (from 1) and how long to wait first.
type receiver struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	secrets []string
	got     []received
	handle  func(r received, n int) (status int, delay time.Duration)
	// now is the receiver's clock (time.Now when nil).
	now func() time.Time
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) URL() string { return r.srv.URL + "/hook" }

// accept sets the secrets signatures are checked with (any may match).
func (r *receiver) accept(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = secrets
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	rec := received{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"), Signature: req.Header.Get("webhook-signature"), Body: body}
	if err := json.Unmarshal(body, &rec.Env); err != nil {
		r.t.Errorf("receiver: body is not an envelope: %v: %s", err, body)
	}
	r.mu.Lock()
	secrets := r.secrets
	r.got = append(r.got, rec)
	n := len(r.got)
	handle := r.handle
	now := time.Now
	if r.now != nil {
		now = r.now
	}
	r.mu.Unlock()
	ok := len(secrets) == 0
	for _, s := range secrets {
		if verify(s, req.Header, body, now()) == nil {
			ok = true
		}
	}
	if !ok {
		r.t.Errorf("receiver: signature of %s does not verify: %s", rec.ID, rec.Signature)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	status := http.StatusOK
	if handle != nil {
		var delay time.Duration
		status, delay = handle(rec, n)
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
				return
			}
		}
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, "answer %d", n)
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// run starts w until the test ends.
func run(t testing.TB, w *outbound.Worker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// pending counts the deliveries not yet delivered or failed.
func pending(t testing.TB, s *models.Store) int {
	n := 0
	for _, d := range deliveries(t, s) {
		if d.Status == models.DeliveryPending {
			n++
		}
	}
	return n
}
