package imports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"apptconfirm/app/csvimport"
	"apptconfirm/models"
)

// JobLifetime is how long an uploaded file and its results stay available
// after the last change.
const JobLifetime = 24 * time.Hour

// The states of a job.
const (
	JobUploaded   = "uploaded"
	JobPreviewing = "previewing"
	JobPreviewed  = "previewed"
	JobApplying   = "applying"
	JobApplied    = "applied"
	JobFailed     = "failed"
)

// JobStore keeps what survives a restart of the jobs (models.Store).
type JobStore interface {
	SaveImportJob(ctx context.Context, j *models.ImportJob) error
	ImportJob(ctx context.Context, id string) (*models.ImportJob, error)
	DeleteImportJobsBefore(ctx context.Context, cutoff time.Time) error
}

// Jobs runs the imports staff start from the web UI in the background, so
// that a large file's progress can be followed, and a page reload finds
// the job where it is. Jobs live in this process's memory, and their
// state, progress and counts also in the store (import_jobs): after a
// restart, a job shows how far it got (an import's progress is saved with
// each batch it commits) and its counts, but its file, first rows and
// refused rows are gone, and it cannot run again.
type Jobs struct {
	svc   *Service
	store JobStore
	// ctx is the background work's context; Close cancels it and waits
	// for the work (wg) to stop.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	now    func() time.Time
	mu     sync.Mutex
	jobs   map[string]*job
}

// NewJobs returns a job registry running imports with svc and keeping
// their progress in store; ctx ends them.
func NewJobs(ctx context.Context, svc *Service, store JobStore, now func() time.Time) *Jobs {
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(ctx)
	return &Jobs{svc: svc, store: store, ctx: ctx, cancel: cancel, now: now, jobs: map[string]*job{}}
}

// record is what the store keeps of the job view v.
func (j *Jobs) record(v Job) *models.ImportJob {
	rec := &models.ImportJob{
		ID: v.ID, OwnerID: v.Owner, Name: v.Name, State: v.State, Done: v.Done, Total: v.Total,
		Error: v.Error, UpdatedAt: j.now(),
	}
	res := v.Result
	if res == nil && v.State != JobApplying {
		res = v.Preview
	}
	if res != nil {
		counts := *res
		counts.Errors = nil // rows of the file: kept in memory only
		if b, err := json.Marshal(counts); err == nil {
			rec.Summary = string(b)
		}
	}
	return rec
}

// save keeps the job view v in the store.
func (j *Jobs) save(ctx context.Context, v Job) error {
	if err := j.store.SaveImportJob(ctx, j.record(v)); err != nil {
		return fmt.Errorf("imports: save job: %w", err)
	}
	return nil
}

// RestartedMessage is the error of a job that was running when the server
// stopped.
const RestartedMessage = "the server restarted during this run; the rows imported before stay imported. Upload the file again to go on: rows already imported come out unchanged."

// GoneMessage is the error of a job whose file went with a restart.
const GoneMessage = "the server restarted since this file was uploaded; upload it again to import it."

// restored is the view of a job the store kept from before a restart.
func restored(rec *models.ImportJob) Job {
	v := Job{
		ID: rec.ID, Owner: rec.OwnerID, Name: rec.Name, State: rec.State, Done: rec.Done, Total: rec.Total,
		Error: rec.Error, Sample: &csvimport.Sample{},
	}
	var res *Result
	if rec.Summary != "" {
		var r Result
		if json.Unmarshal([]byte(rec.Summary), &r) == nil {
			r.Errors = []csvimport.FieldError{}
			res = &r
		}
	}
	switch rec.State {
	case JobApplied:
		v.Result = res
	case JobPreviewing, JobApplying:
		v.State, v.Error = JobFailed, RestartedMessage
	default:
		v.State, v.Error = JobFailed, GoneMessage
		if res != nil && res.DryRun {
			v.Preview = res
		}
	}
	return v
}

// job is one file on its way in.
type job struct {
	mu      sync.Mutex
	view    Job
	file    *File
	touched time.Time
}

// Job is what the UI shows of a job: a copy, safe to read.
type Job struct {
	ID string
	// Owner is the user who uploaded the file; only they see the job.
	Owner uint
	// Name is the uploaded file's name.
	Name  string
	State string
	// Sample is the start of the file, for the mapping screen.
	Sample *csvimport.Sample
	// Mapping is the mapping in use: remembered, guessed, or chosen.
	Mapping csvimport.Mapping
	// Options are those of the last run (without Progress).
	Options Options
	// Done and Total count the rows of the run under way.
	Done, Total int
	// Preview is the dry run's result; Result the import's.
	Preview, Result *Result
	// Error says why the last run failed (a file that cannot be imported).
	Error string
}

// Upload stores the file r (at most max bytes) for user owner, reads its
// start and proposes a mapping: the one remembered from the last import
// when it fits this file's header, else a guess.
func (j *Jobs) Upload(ctx context.Context, owner uint, name string, r io.Reader, max int64) (Job, error) {
	f, err := Spool(r, max)
	if err != nil {
		return Job{}, err
	}
	sample, err := csvimport.Preview(f, 10)
	if err != nil {
		_ = f.Close()
		return Job{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = f.Close()
		return Job{}, fmt.Errorf("imports: rewind: %w", err)
	}
	mapping, err := j.svc.ProposeMapping(ctx, sample)
	if err != nil {
		_ = f.Close()
		return Job{}, err
	}
	id, err := newJobID()
	if err != nil {
		_ = f.Close()
		return Job{}, err
	}
	jb := &job{file: f, touched: j.now(), view: Job{ID: id, Owner: owner, Name: name, State: JobUploaded, Sample: sample, Mapping: mapping}}
	if err := j.save(ctx, jb.view); err != nil {
		_ = f.Close()
		return Job{}, err
	}
	if err := j.store.DeleteImportJobsBefore(ctx, j.now().Add(-JobLifetime)); err != nil {
		_ = f.Close()
		return Job{}, fmt.Errorf("imports: %w", err)
	}
	j.mu.Lock()
	j.expire()
	j.jobs[id] = jb
	j.mu.Unlock()
	return jb.snapshot(), nil
}

// ProposeMapping is the mapping to offer for a file: the remembered one
// fitted to its header when it still works, else a guess from its first
// rows.
func (s *Service) ProposeMapping(ctx context.Context, sample *csvimport.Sample) (csvimport.Mapping, error) {
	saved, err := s.SavedMapping(ctx)
	if err != nil {
		return csvimport.Mapping{}, err
	}
	if saved != nil {
		m, missing := saved.Rebind(sample.Header)
		if len(missing) == 0 && m.Check(sample.Header) == nil {
			return m, nil
		}
	}
	sc, err := s.scope(ctx)
	if err != nil {
		return csvimport.Mapping{}, err
	}
	return csvimport.Guess(sample.Header, sample.Rows, sc.country), nil
}

// expire forgets the jobs untouched for JobLifetime; j.mu is held.
func (j *Jobs) expire() {
	cutoff := j.now().Add(-JobLifetime)
	for id, jb := range j.jobs {
		jb.mu.Lock()
		old := jb.touched.Before(cutoff) && jb.view.State != JobPreviewing && jb.view.State != JobApplying
		if old && jb.file != nil {
			_ = jb.file.Close()
			jb.file = nil
		}
		jb.mu.Unlock()
		if old {
			delete(j.jobs, id)
		}
	}
}

func newJobID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("imports: job id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func (jb *job) snapshot() Job {
	jb.mu.Lock()
	defer jb.mu.Unlock()
	return jb.view
}

// ErrNoJob is returned for a job that does not exist (or is another
// user's, or expired).
var ErrNoJob = fmt.Errorf("import: %w", models.ErrNotFound)

// ErrJobBusy is returned when a job is asked to run while it runs, or to
// run again after its file was imported.
var ErrJobBusy = errors.New("imports: the file is being read or was imported already")

// Get returns the job id of user owner.
func (j *Jobs) Get(owner uint, id string) (Job, error) {
	j.mu.Lock()
	jb, ok := j.jobs[id]
	j.mu.Unlock()
	if !ok {
		// From before a restart, perhaps.
		rec, err := j.store.ImportJob(j.ctx, id)
		switch {
		case errors.Is(err, models.ErrNotFound):
			return Job{}, ErrNoJob
		case err != nil:
			return Job{}, fmt.Errorf("imports: %w", err)
		case rec.OwnerID != owner || rec.UpdatedAt.Before(j.now().Add(-JobLifetime)):
			return Job{}, ErrNoJob
		}
		return restored(rec), nil
	}
	v := jb.snapshot()
	if v.Owner != owner {
		return Job{}, ErrNoJob
	}
	return v, nil
}

// Start runs the job's file through Import in the background: a preview
// when opts.DryRun, else the import itself, which a job does once. The
// mapping is checked against the file first and remembered for the next
// file; a mapping that does not fit comes back as a *csvimport.FileError.
func (j *Jobs) Start(ctx context.Context, owner uint, actor models.Actor, id string, opts Options) error {
	j.mu.Lock()
	jb, ok := j.jobs[id]
	j.mu.Unlock()
	if !ok {
		return ErrNoJob
	}
	jb.mu.Lock()
	defer jb.mu.Unlock()
	if jb.view.Owner != owner {
		return ErrNoJob
	}
	switch jb.view.State {
	case JobPreviewing, JobApplying, JobApplied:
		return ErrJobBusy
	}
	if opts.Mapping == nil {
		m := jb.view.Mapping
		opts.Mapping = &m
	}
	if err := opts.Mapping.Check(jb.view.Sample.Header); err != nil {
		return err
	}
	if err := j.svc.SaveMapping(ctx, *opts.Mapping); err != nil {
		return err
	}
	jb.view.Mapping = *opts.Mapping
	jb.view.Options = opts
	jb.view.Done, jb.view.Total, jb.view.Error = 0, 0, ""
	jb.view.State = JobPreviewing
	if !opts.DryRun {
		jb.view.State = JobApplying
		jb.view.Result = nil
	}
	jb.touched = j.now()
	if err := j.save(ctx, jb.view); err != nil {
		jb.view.State = JobFailed
		jb.view.Error = err.Error()
		return err
	}
	file := jb.file
	opts.Progress = func(done, total int) {
		jb.mu.Lock()
		jb.view.Done, jb.view.Total = done, total
		jb.mu.Unlock()
	}
	if !opts.DryRun {
		// Saved with each batch, in its transaction: what a restart
		// finds is what was committed.
		opts.Checkpoint = func(ctx context.Context) error { return j.save(ctx, jb.snapshot()) }
	}
	j.wg.Go(func() { j.run(jb, actor, file, opts) })
	return nil
}

// run does the work of Start.
func (j *Jobs) run(jb *job, actor models.Actor, file *File, opts Options) {
	var res *Result
	_, err := file.Seek(0, io.SeekStart)
	if err == nil {
		res, err = j.svc.Import(j.ctx, actor, file, opts)
	}
	jb.mu.Lock()
	defer jb.mu.Unlock()
	jb.touched = j.now()
	var fe *csvimport.FileError
	var fields models.FieldErrors
	switch {
	case errors.As(err, &fe):
		jb.view.State, jb.view.Error = JobFailed, fe.Message
	case errors.As(err, &fields):
		jb.view.State, jb.view.Error = JobFailed, fields.Error()
	case err != nil:
		jb.view.State, jb.view.Error = JobFailed, "the import stopped: "+err.Error()
	case opts.DryRun:
		jb.view.State, jb.view.Preview = JobPreviewed, res
	default:
		jb.view.State, jb.view.Result = JobApplied, res
		// The file is done with: it is not kept.
		_ = jb.file.Close()
		jb.file = nil
	}
	if jb.view.State == JobFailed && opts.DryRun {
		jb.view.Preview = nil
	}
	// Best effort: the job's outcome is in memory whatever happens here.
	_ = j.save(j.ctx, jb.view)
}

// Close stops the running imports between two rows, waits for them, then
// forgets every job and removes its file.
func (j *Jobs) Close() {
	j.cancel()
	j.wg.Wait()
	j.mu.Lock()
	defer j.mu.Unlock()
	for id, jb := range j.jobs {
		jb.mu.Lock()
		if jb.file != nil {
			_ = jb.file.Close()
			jb.file = nil
		}
		jb.mu.Unlock()
		delete(j.jobs, id)
	}
}
