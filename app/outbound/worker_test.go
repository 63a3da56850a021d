package outbound_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/metrics"
	"apptconfirm/app/outbound"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// scrape returns the metrics' text.
func scrape(t testing.TB, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestDeliveredSignedToAReceiverThatVerifies(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	r := newReceiver(t)
	ep := e.endpoint(t, r.URL(), false, "appointment.created", "appointment.confirmed")
	r.accept(ep.Secret)
	m := metrics.New(metrics.Options{OutboundQueueAge: metrics.OutboundQueueAge(store, e.clk.Now)})
	run(t, e.worker(outbound.WorkerOptions{Metrics: m}))
	a := e.book(t, "Léa")
	if _, err := e.clinic.Confirm(context.Background(), e.staff, a.ID, "staff"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "two deliveries", func() bool { return len(r.all()) == 2 && pending(t, store) == 0 })
	got := r.all()
	if got[0].Env.Type != "appointment.created" || got[1].Env.Type != "appointment.confirmed" {
		t.Fatalf("types %q %q", got[0].Env.Type, got[1].Env.Type)
	}
	d := got[1].Env.Data
	if d.Appointment == nil || d.Appointment.ID != a.ID || d.Appointment.Status != "confirmed" || d.Patient == nil ||
		d.Patient.FirstName != "Léa" || d.Patient.Phone != "" || d.EventID == 0 {
		t.Fatalf("data %+v", d)
	}
	for _, dl := range deliveries(t, store) {
		if dl.Status != models.DeliveryDelivered || dl.Attempts != 1 || dl.LastCode != 200 || !strings.HasPrefix(dl.LastResponse, "answer ") {
			t.Errorf("delivery %+v", dl)
		}
	}
	text := scrape(t, m)
	for _, want := range []string{
		`apptconfirm_outbound_webhook_deliveries_total{outcome="delivered"} 2`,
		`apptconfirm_outbound_webhook_queue_age_seconds 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// A receiver that fails twice, then does not answer in time, then
// recovers: the same webhook-id every time, freshly signed, and the
// delivery ends delivered with its history.
func TestRetriedThroughFailuresAndATimeoutUntilDelivered(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	r := newReceiver(t)
	r.handle = func(_ received, n int) (int, time.Duration) {
		switch n {
		case 1:
			return http.StatusInternalServerError, 0
		case 2:
			return http.StatusServiceUnavailable, 0
		case 3:
			return http.StatusOK, 2 * time.Second // longer than the client waits
		}
		return http.StatusNoContent, 0
	}
	ep := e.endpoint(t, r.URL(), false, "appointment.created")
	r.accept(ep.Secret)
	m := metrics.New(metrics.Options{})
	run(t, e.worker(outbound.WorkerOptions{Client: outbound.NewClient(true, 300*time.Millisecond), Metrics: m}))
	e.book(t, "Léa")
	waitFor(t, 10*time.Second, "delivery", func() bool { return pending(t, store) == 0 })
	got := r.all()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4", len(got))
	}
	for _, g := range got[1:] {
		if g.ID != got[0].ID {
			t.Fatalf("webhook-id changed between attempts: %q then %q", got[0].ID, g.ID)
		}
	}
	ds := deliveries(t, store)
	if len(ds) != 1 || ds[0].Status != models.DeliveryDelivered || ds[0].Attempts != 4 || ds[0].LastCode != 204 || ds[0].LastError != "" {
		t.Fatalf("delivery %+v", ds)
	}
	ep2, _ := e.svc.Endpoint(context.Background(), ep.ID)
	if ep2.FailingSince != nil || !ep2.Enabled {
		t.Errorf("endpoint after recovery %+v", ep2)
	}
	text := scrape(t, m)
	if !strings.Contains(text, `apptconfirm_outbound_webhook_deliveries_total{outcome="retry"} 3`) {
		t.Errorf("retries not counted:\n%s", grep(text, "outbound"))
	}
}

func grep(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Events of one appointment reach the receiver one at a time, in order,
// while different appointments' go out in parallel.
func TestOrderedPerAppointmentParallelAcross(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store *models.Store) {
		e := newEnv(t, store)
		r := newReceiver(t)
		var mu sync.Mutex
		inflight := map[uint]int{}
		total, maxTotal := 0, 0
		r.handle = func(g received, n int) (int, time.Duration) {
			id := g.Env.Data.Appointment.ID
			mu.Lock()
			inflight[id]++
			total++
			maxTotal = max(maxTotal, total)
			if inflight[id] > 1 {
				t.Errorf("appointment %d: two deliveries at once", id)
			}
			mu.Unlock()
			time.Sleep(time.Duration(n%7) * 3 * time.Millisecond)
			mu.Lock()
			inflight[id]--
			total--
			mu.Unlock()
			if n%5 == 0 {
				return http.StatusBadGateway, 0 // a retry must not let a later event overtake
			}
			return http.StatusOK, 0
		}
		ep := e.endpoint(t, r.URL(), false, "appointment.created", "appointment.updated")
		r.accept(ep.Secret)
		const appts, updates = 8, 5
		ctx := context.Background()
		var ids []uint
		for i := range appts {
			ids = append(ids, e.book(t, "P"+string(rune('A'+i))).ID)
		}
		for step := range updates {
			for _, id := range ids {
				err := store.Record(ctx, models.Event{At: e.clk.Now(), Type: models.EventAppointmentUpdated, AppointmentID: id, Source: "staff", Detail: string(rune('a' + step))})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		run(t, e.worker(outbound.WorkerOptions{Concurrency: 8}))
		waitFor(t, 20*time.Second, "every delivery", func() bool { return pending(t, store) == 0 })
		last := map[uint]uint{}
		seen := map[string]bool{}
		for _, g := range r.all() {
			id := g.Env.Data.Appointment.ID
			if seen[g.ID] {
				continue // a retry of one already seen
			}
			seen[g.ID] = true
			if g.Env.Data.EventID < last[id] {
				t.Errorf("appointment %d: event %d after %d", id, g.Env.Data.EventID, last[id])
			}
			last[id] = g.Env.Data.EventID
		}
		if len(seen) != appts*(updates+1) {
			t.Errorf("%d distinct webhooks, want %d", len(seen), appts*(updates+1))
		}
		if maxTotal < 2 {
			t.Errorf("never more than %d delivery at once", maxTotal)
		}
	})
}

// An endpoint failing for three days: its delivery is given up, it is
// disabled with the reason, and an admin switching it back on clears it.
func TestEndpointDisabledAfterThreeDaysOfFailures(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	r := newReceiver(t)
	r.handle = func(received, int) (int, time.Duration) { return http.StatusInternalServerError, 0 }
	ep := e.endpoint(t, r.URL(), false, "appointment.created")
	w := e.worker(outbound.WorkerOptions{})
	ctx := context.Background()
	e.book(t, "Léa")
	if n, err := w.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	e.clk.Advance(71 * time.Hour)
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := w.DisableFailing(ctx); n != 0 || err != nil {
		t.Fatalf("disabled after 71 h: %d %v", n, err)
	}
	e.clk.Advance(2 * time.Hour)
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	ds := deliveries(t, store)
	if ds[0].Status != models.DeliveryFailed || ds[0].Attempts != 3 {
		t.Fatalf("delivery after 73 h: %+v", ds[0])
	}
	if n, err := w.DisableFailing(ctx); n != 1 || err != nil {
		t.Fatalf("DisableFailing = %d %v", n, err)
	}
	got, _ := e.svc.Endpoint(ctx, ep.ID)
	if got.Enabled || !strings.Contains(got.DisabledReason, "every delivery failed since") || !strings.Contains(got.DisabledReason, "HTTP 500") {
		t.Fatalf("endpoint %+v", got)
	}
	on := true
	got, err := e.svc.Update(ctx, e.staff, ep.ID, outbound.EndpointInput{Enabled: &on})
	if err != nil || !got.Enabled || got.DisabledReason != "" || got.FailingSince != nil {
		t.Fatalf("re-enabled: %+v %v", got, err)
	}
}

// Backoff grows, stays within its bounds, and varies.
func TestBackoffIsExponentialWithJitter(t *testing.T) {
	w := outbound.NewWorker(nil, outbound.WorkerOptions{BackoffBase: 5 * time.Second, BackoffMax: 2 * time.Hour})
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt <= 30; attempt++ {
		want := 5 * time.Second << min(attempt-1, 20)
		want = min(want, 2*time.Hour)
		for range 20 {
			d := w.Backoff(attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, want/2, want)
			}
			seen[d] = true
		}
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct waits: no jitter?", len(seen))
	}
}

// Rotation: both secrets sign for 24 hours, then only the new one.
func TestRotationSignsWithBothSecretsForADay(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	r := newReceiver(t)
	r.now = e.clk.Now
	ep := e.endpoint(t, r.URL(), false, "appointment.created")
	rotated, err := e.svc.Rotate(context.Background(), e.staff, ep.ID)
	if err != nil || rotated.Secret == ep.Secret || rotated.OldSecret != ep.Secret {
		t.Fatalf("rotate: %+v %v", rotated, err)
	}
	w := e.worker(outbound.WorkerOptions{})
	e.book(t, "Léa")
	r.accept(ep.Secret) // a receiver not yet switched
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.accept(rotated.Secret) // and one switched
	if _, err := e.svc.SendTest(context.Background(), e.staff, ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := r.all()
	if len(got) != 2 || len(strings.Fields(got[0].Signature)) != 2 || got[1].Env.Type != "webhook.test" {
		t.Fatalf("received %+v", got)
	}
	e.clk.Advance(outbound.RotationGrace + time.Minute)
	if _, err := e.svc.SendTest(context.Background(), e.staff, ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got = r.all()
	if len(got) != 3 || len(strings.Fields(got[2].Signature)) != 1 {
		t.Fatalf("after the grace period: %q", got[len(got)-1].Signature)
	}
}

// "Send again" queues the same webhook-id and body after what is pending.
func TestSendAgainKeepsTheWebhookID(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	r := newReceiver(t)
	ep := e.endpoint(t, r.URL(), false, "appointment.created")
	r.accept(ep.Secret)
	w := e.worker(outbound.WorkerOptions{})
	e.book(t, "Léa")
	ctx := context.Background()
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	first := deliveries(t, store)[0]
	again, err := e.svc.Resend(ctx, e.staff, ep.ID, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got := r.all()
	if len(got) != 2 || got[0].ID != got[1].ID || string(got[0].Body) != string(got[1].Body) || again.ID == first.ID {
		t.Fatalf("resent %+v", got)
	}
	if _, err := e.svc.Resend(ctx, e.staff, ep.ID+1, first.ID); err == nil {
		t.Error("a delivery resent through another endpoint")
	}
}

// A disabled endpoint still gets a test event, so a repaired receiver can
// be checked before it is enabled; its other deliveries wait.
func TestTestEventReachesADisabledEndpoint(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	r := newReceiver(t)
	ep := e.endpoint(t, r.URL(), false, "appointment.created")
	r.accept(ep.Secret)
	ctx := context.Background()
	e.book(t, "Léa")
	off := false
	if _, err := e.svc.Update(ctx, e.staff, ep.ID, outbound.EndpointInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SendTest(ctx, e.staff, ep.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := e.worker(outbound.WorkerOptions{}).RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	got := r.all()
	if len(got) != 1 || got[0].Env.Type != "webhook.test" || pending(t, store) != 1 {
		t.Fatalf("received %d, pending %d", len(got), pending(t, store))
	}
}
