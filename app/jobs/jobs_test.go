package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"apptconfirm/app/jobs"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// S5: a panicking job does not stop the scheduler, nor its own next runs;
// a job still running is not started again on top of itself.
func TestScheduler(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	r := jobs.New(jobs.Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	var panics, ticks, slowStarts atomic.Int32
	release := make(chan struct{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Register("boom", jobs.Every(time.Second), func(context.Context) error {
		panics.Add(1)
		panic("boom")
	}))
	must(r.Register("tick", "* * * * * *", func(context.Context) error { ticks.Add(1); return nil }))
	must(r.Register("slow", jobs.Every(time.Second), func(ctx context.Context) error {
		slowStarts.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}))
	r.Start()
	defer func() {
		close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	waitFor(t, "the panicking job to run twice and the scheduler to go on", func() bool {
		return panics.Load() >= 2 && ticks.Load() >= 3
	})
	if n := slowStarts.Load(); n != 1 {
		t.Fatalf("the slow job started %d times while still running, want 1", n)
	}
	if !strings.Contains(logs.String(), "cron job panicked") || !strings.Contains(logs.String(), "goroutine") {
		t.Fatalf("the panic was not logged with its stack:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "previous one is still running") {
		t.Fatalf("the skipped run was not logged:\n%s", logs.String())
	}
	for _, s := range r.Status() {
		if s.Name == "boom" && (s.Failures < 2 || s.LastError == "") {
			t.Fatalf("boom status %+v", s)
		}
		if s.Name == "slow" && !s.Running {
			t.Fatalf("slow status %+v", s)
		}
	}
}

func TestRunOnce(t *testing.T) {
	r := jobs.New(jobs.Options{})
	errBad := errors.New("bad")
	var runs atomic.Int32
	if err := r.Register("ok", "@hourly", func(context.Context) error { runs.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("fails", "0 3 * * *", func(context.Context) error { return errBad }); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("panics", "@daily", func(context.Context) error { panic("oops") }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.RunOnce(ctx, "ok"); err != nil || runs.Load() != 1 {
		t.Fatalf("RunOnce ok: %v, %d runs", err, runs.Load())
	}
	if err := r.RunOnce(ctx, "fails"); !errors.Is(err, errBad) {
		t.Fatalf("RunOnce fails: %v", err)
	}
	if err := r.RunOnce(ctx, "panics"); err == nil || !strings.Contains(err.Error(), "oops") {
		t.Fatalf("RunOnce panics: %v", err)
	}
	if err := r.RunOnce(ctx, "nope"); !errors.Is(err, jobs.ErrUnknownJob) {
		t.Fatalf("RunOnce unknown: %v", err)
	}
	if got := strings.Join(r.Names(), ","); got != "fails,ok,panics" {
		t.Fatalf("names %s", got)
	}
}

func TestRegisterRefuses(t *testing.T) {
	r := jobs.New(jobs.Options{})
	noop := func(context.Context) error { return nil }
	if err := r.Register("a", "@every 15s", noop); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, spec string }{
		{"a", "@every 1m"},        // duplicate
		{"b", "every 15 seconds"}, // not a spec
		{"c", "61 * * * *"},       // out of range
		{"", "@hourly"},
	}
	for _, tc := range tests {
		if err := r.Register(tc.name, tc.spec, noop); err == nil {
			t.Errorf("Register(%q, %q) accepted", tc.name, tc.spec)
		}
	}
	if err := jobs.ValidateSpec(jobs.Every(90 * time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestStopWaitsForRunningJobs(t *testing.T) {
	t.Parallel()
	r := jobs.New(jobs.Options{})
	started := make(chan struct{})
	var finished atomic.Bool
	err := r.Register("work", jobs.Every(time.Second), func(ctx context.Context) error {
		close(started)
		<-ctx.Done() // Stop asks the job to wrap up ...
		time.Sleep(50 * time.Millisecond)
		finished.Store(true) // ... and waits until it has
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Fatal("Stop returned before the running job finished")
	}
}

func TestStopGivesUpAtTheDeadline(t *testing.T) {
	t.Parallel()
	r := jobs.New(jobs.Options{})
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	err := r.Register("stuck", jobs.Every(time.Second), func(context.Context) error {
		close(started)
		<-release // ignores its context
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: %v", err)
	}
}
