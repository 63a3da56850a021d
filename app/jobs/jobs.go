// Package jobs is apptconfirm's one registry of background jobs, run by
// robfig/cron/v3. Each job is a thin call into a service (the dispatcher's
// RunOnce, a cleanup), registered by name with a schedule; the same job can
// be run once from the CLI or a test.
//
// Every job is wrapped with cron.SkipIfStillRunning and cron.Recover: a run
// that lasts longer than its interval is not started again on top of
// itself, and a panic is logged with its stack while the scheduler (and the
// job's next runs) carry on.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Func is a job: it does one run and returns. ctx ends when the registry
// stops; a job should then wrap up (finish what is in flight, start nothing
// new) and return.
type Func func(ctx context.Context) error

// Options configure a Registry.
type Options struct {
	// Logger receives job failures, panics and skipped runs; nil discards.
	Logger *slog.Logger
	// Location is the zone of calendar specs such as "0 3 * * *"; nil
	// means UTC. "@every" specs do not depend on it.
	Location *time.Location
	// Now is the clock of the run statistics; nil means time.Now.
	Now func() time.Time
}

// Registry holds the jobs and their scheduler. Register jobs, then Start;
// Stop ends it for good.
type Registry struct {
	cron   *cron.Cron
	loc    *time.Location
	log    *slog.Logger
	now    func() time.Time
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	jobs map[string]*job
}

// job is one registered job.
type job struct {
	name string
	spec string
	fn   Func
	// running is held while the job runs, from cron or RunOnce.
	running sync.Mutex

	mu     sync.Mutex
	status Status
}

// Status is what the registry knows about a job's runs.
type Status struct {
	Name string
	Spec string
	// Runs counts finished runs, Failures those that returned an error or
	// panicked.
	Runs, Failures int
	LastStart      time.Time
	LastDuration   time.Duration
	// LastError is the last run's error text, "" when it succeeded.
	LastError string
	Running   bool
}

// parser reads job specs: five fields (minute hour dom month dow), six with
// leading seconds, or a descriptor such as "@every 15s" or "@hourly".
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Every returns the spec of a job that runs every d ("@every 15s").
func Every(d time.Duration) string { return "@every " + d.String() }

// ValidateSpec reports whether spec is a schedule Register accepts.
func ValidateSpec(spec string) error {
	if _, err := parser.Parse(spec); err != nil {
		return fmt.Errorf("jobs: schedule %q: %w", spec, err)
	}
	return nil
}

// New returns an empty, stopped Registry.
func New(opts Options) *Registry {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	cl := cronLogger{log: log}
	ctx, cancel := context.WithCancel(context.Background())
	return &Registry{
		// Skip wraps Recover so a panic is caught inside the skip guard and
		// the job's next run is not skipped forever.
		cron: cron.New(cron.WithParser(parser), cron.WithLocation(loc), cron.WithLogger(cl),
			cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl))),
		loc: loc, log: log, now: now, ctx: ctx, cancel: cancel, jobs: map[string]*job{},
	}
}

// Register adds a job under a unique name with a schedule (see Every and
// ValidateSpec). It may be called before or after Start.
func (r *Registry) Register(name, spec string, fn Func) error {
	if name == "" || fn == nil {
		return errors.New("jobs: register: a name and a function are required")
	}
	if err := ValidateSpec(spec); err != nil {
		return fmt.Errorf("jobs: register %q: %w", name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.jobs[name]; dup {
		return fmt.Errorf("jobs: register %q: a job of that name exists", name)
	}
	j := &job{name: name, spec: spec, fn: fn, status: Status{Name: name, Spec: spec}}
	if _, err := r.cron.AddFunc(spec, func() { r.scheduled(j) }); err != nil {
		return fmt.Errorf("jobs: register %q: %w", name, err)
	}
	r.jobs[name] = j
	return nil
}

// Start starts the scheduler in the background.
func (r *Registry) Start() { r.cron.Start() }

// Stop stops scheduling, tells running jobs to wrap up (their ctx ends) and
// waits for them, until ctx ends.
func (r *Registry) Stop(ctx context.Context) error {
	r.cancel()
	done := r.cron.Stop()
	select {
	case <-done.Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs: stop: jobs still running: %w", ctx.Err())
	}
}

// ErrUnknownJob is returned by RunOnce for a name never registered.
var ErrUnknownJob = errors.New("jobs: unknown job")

// RunOnce runs the named job now and returns its error (a panic becomes an
// error). It waits for a scheduled run of the same job to finish first, so
// the job never runs on top of itself.
func (r *Registry) RunOnce(ctx context.Context, name string) (err error) {
	r.mu.Lock()
	j := r.jobs[name]
	r.mu.Unlock()
	if j == nil {
		return fmt.Errorf("%w %q", ErrUnknownJob, name)
	}
	j.running.Lock()
	defer j.running.Unlock()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("jobs: %s panicked: %v", name, p)
			r.log.Error("job panicked", slog.String("job", name), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			j.finish(time.Time{}, 0, err)
		}
	}()
	return r.execute(ctx, j)
}

// scheduled is a cron run: skipped when RunOnce holds the job. A panic goes
// up to cron.Recover, after the deferred bookkeeping.
func (r *Registry) scheduled(j *job) {
	if !j.running.TryLock() {
		r.log.Info("job skipped: still running", slog.String("job", j.name))
		return
	}
	defer j.running.Unlock()
	start := r.now()
	finished := false
	defer func() {
		if !finished {
			j.finish(start, r.now().Sub(start), errors.New("panicked"))
		}
	}()
	_ = r.execute(r.ctx, j)
	finished = true
}

// execute runs j once and records the outcome.
func (r *Registry) execute(ctx context.Context, j *job) error {
	start := r.now()
	j.begin(start)
	err := j.fn(ctx)
	took := r.now().Sub(start)
	j.finish(start, took, err)
	if err != nil {
		r.log.Warn("job failed", slog.String("job", j.name), slog.Duration("took", took), slog.Any("err", err))
		return fmt.Errorf("jobs: %s: %w", j.name, err)
	}
	r.log.Debug("job done", slog.String("job", j.name), slog.Duration("took", took))
	return nil
}

func (j *job) begin(at time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.status.Running, j.status.LastStart = true, at
}

func (j *job) finish(start time.Time, took time.Duration, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.status.Running = false
	j.status.Runs++
	if !start.IsZero() {
		j.status.LastStart, j.status.LastDuration = start, took
	}
	j.status.LastError = ""
	if err != nil {
		j.status.Failures++
		j.status.LastError = err.Error()
	}
}

// Next returns when the named job's schedule runs next after t, in the
// registry's zone; it lets a test check a schedule with its own clock.
func (r *Registry) Next(name string, t time.Time) (time.Time, error) {
	r.mu.Lock()
	j := r.jobs[name]
	r.mu.Unlock()
	if j == nil {
		return time.Time{}, fmt.Errorf("%w %q", ErrUnknownJob, name)
	}
	sched, err := parser.Parse(j.spec)
	if err != nil {
		return time.Time{}, err
	}
	return sched.Next(t.In(r.loc)), nil
}

// Names lists the registered jobs, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.jobs))
	for n := range r.jobs {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Status returns each job's run statistics, by name.
func (r *Registry) Status() []Status {
	var out []Status
	for _, n := range r.Names() {
		r.mu.Lock()
		j := r.jobs[n]
		r.mu.Unlock()
		j.mu.Lock()
		out = append(out, j.status)
		j.mu.Unlock()
	}
	return out
}

// cronLogger adapts slog to cron.Logger: cron's chatter (wake, run,
// schedule) goes to debug, a skipped run to info, errors and panics to
// error.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) {
	level := slog.LevelDebug
	if msg == "skip" {
		level, msg = slog.LevelInfo, "cron skipped a run: the previous one is still running"
	}
	l.log.Log(context.Background(), level, "cron: "+msg, kv...)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	if msg == "panic" {
		msg = "cron job panicked"
	}
	l.log.Error("cron: "+msg, append([]any{slog.Any("err", err)}, kv...)...)
}
