package outbound_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/events"
	"apptconfirm/app/metrics"
	"apptconfirm/app/outbound"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// childEnv names the database a child process delivers from.
const childEnv = "APPTCONFIRM_OUTBOUND_CHILD_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runChild(path))
	}
	os.Exit(m.Run())
}

// runChild is an instance that only delivers, until it is killed.
func runChild(path string) int {
	store, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: path})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	w := outbound.NewWorker(store, outbound.WorkerOptions{
		Client: outbound.NewClient(true, 2*time.Second), Concurrency: 4, Lease: time.Second, Poll: 20 * time.Millisecond,
		BackoffBase: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
	})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	w.Run(ctx)
	return 0
}

func startChild(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// An instance killed with SIGKILL in the middle of delivering: after a
// restart every event arrives, and anything sent twice carries the same
// webhook-id.
func TestEveryEventDeliveredAfterSIGKILL(t *testing.T) {
	store, path := storetest.SQLitePath(t)
	e := newEnv(t, store)
	r := newReceiver(t)
	r.handle = func(received, int) (int, time.Duration) { return http.StatusOK, 30 * time.Millisecond }
	ep := e.endpoint(t, r.URL(), false, "appointment.created", "appointment.updated")
	r.accept(ep.Secret)
	ctx := context.Background()
	for i := range 10 {
		a := e.book(t, fmt.Sprintf("P%d", i))
		for step := range 3 {
			if err := store.Record(ctx, models.Event{At: e.clk.Now(), Type: models.EventAppointmentUpdated, AppointmentID: a.ID, Detail: fmt.Sprint(step)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]bool{}
	for _, d := range deliveries(t, store) {
		want[d.MsgID] = true
	}
	if len(want) != 40 {
		t.Fatalf("%d deliveries queued", len(want))
	}

	child := startChild(t, path)
	waitFor(t, 20*time.Second, "a third delivered", func() bool { return len(r.all()) >= 12 })
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	atKill := len(r.all())
	if pending(t, store) == 0 {
		t.Fatal("everything was delivered before the kill: the test proves nothing")
	}

	restarted := startChild(t, path)
	t.Cleanup(func() { _ = restarted.Process.Signal(syscall.SIGKILL); _ = restarted.Wait() })
	waitFor(t, 30*time.Second, "every delivery after the restart", func() bool { return pending(t, store) == 0 })
	got := map[string]int{}
	for _, g := range r.all() {
		if !want[g.ID] {
			t.Errorf("unknown webhook-id %q", g.ID)
		}
		got[g.ID]++
	}
	if len(got) != len(want) {
		t.Fatalf("%d of %d events arrived", len(got), len(want))
	}
	t.Logf("%d requests before the kill, %d in all for %d events", atKill, len(r.all()), len(want))
}

// Two instances on one PostgreSQL database: each delivery goes out once,
// in order per appointment, and both instances take part.
func TestTwoInstancesOnPostgreSQL(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	clk := &clock{}
	wake := outbound.NewWake()
	sink := events.New(events.Options{Now: clk.Now, Stagers: []events.Stager{outbound.NewStager(clk.Now)}, Notifiers: []events.Notifier{wake}})
	open := func(sink models.EventSink) *models.Store {
		s, err := models.Open(models.Options{Driver: models.DriverPostgres, DSN: dsn, Events: sink})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1, s2 := open(sink), open(nil)
	svc := outbound.New(s1, outbound.Options{AllowPrivate: true, Now: clk.Now})
	r := newReceiver(t)
	var mu sync.Mutex
	busy := map[uint]bool{}
	r.handle = func(g received, _ int) (int, time.Duration) {
		id := g.Env.Data.Appointment.ID
		mu.Lock()
		if busy[id] {
			t.Errorf("appointment %d: two deliveries at once", id)
		}
		busy[id] = true
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		busy[id] = false
		mu.Unlock()
		return http.StatusOK, 0
	}
	url := r.URL()
	ep, err := svc.Create(context.Background(), models.SystemActor(), outbound.EndpointInput{URL: &url, Events: []string{"appointment.updated"}})
	if err != nil {
		t.Fatal(err)
	}
	r.accept(ep.Secret)
	ctx := context.Background()
	cl := clinic.New(s1, clinic.Options{Now: clk.Now})
	if err := cl.EnsureDefaults(ctx, clinic.Defaults{Timezone: "Europe/Paris", Country: "FR"}); err != nil {
		t.Fatal(err)
	}
	const appts, steps = 12, 6
	for i := range appts {
		p, err := cl.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "P", Phone: fmt.Sprintf("+3361200%04d", i)}, "")
		if err != nil {
			t.Fatal(err)
		}
		a, err := cl.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{PatientID: p.ID, StartsAt: clk.Now().Add(48 * time.Hour).Truncate(time.Minute), DurationMinutes: 30})
		if err != nil {
			t.Fatal(err)
		}
		for step := range steps {
			if err := s1.Record(ctx, models.Event{At: clk.Now(), Type: models.EventAppointmentUpdated, AppointmentID: a.ID, Detail: fmt.Sprint(step)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	m1, m2 := metrics.New(metrics.Options{}), metrics.New(metrics.Options{})
	for _, w := range []*outbound.Worker{
		outbound.NewWorker(s1, outbound.WorkerOptions{Client: outbound.NewClient(true, 2*time.Second), Concurrency: 4, Poll: 10 * time.Millisecond, Wake: wake, Metrics: m1, Now: clk.Now}),
		outbound.NewWorker(s2, outbound.WorkerOptions{Client: outbound.NewClient(true, 2*time.Second), Concurrency: 4, Poll: 10 * time.Millisecond, Metrics: m2, Now: clk.Now}),
	} {
		run(t, w)
	}
	waitFor(t, 30*time.Second, "every delivery", func() bool { return pending(t, s1) == 0 })
	seen := map[string]int{}
	order := map[uint][]string{}
	for _, g := range r.all() {
		seen[g.ID]++
		order[g.Env.Data.Appointment.ID] = append(order[g.Env.Data.Appointment.ID], g.Env.Data.Detail)
	}
	if len(seen) != appts*steps {
		t.Fatalf("%d distinct webhooks, want %d", len(seen), appts*steps)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	for id, o := range order {
		if strings.Join(o, "") != "012345" {
			t.Errorf("appointment %d: order %v", id, o)
		}
	}
	for i, m := range []*metrics.Metrics{m1, m2} {
		if strings.Contains(scrape(t, m), `apptconfirm_outbound_webhook_deliveries_total{outcome="delivered"} 0`) {
			t.Errorf("instance %d delivered nothing", i+1)
		}
	}
}
