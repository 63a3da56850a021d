package imports_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/imports"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// sheet is a file of n new appointments, their external ids starting with
// prefix.
func sheet(prefix string, n int) string {
	var b strings.Builder
	b.WriteString("external_id,patient_external_id,first_name,last_name,phone,starts_at\n")
	start := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, "%s-%d,Q-%d,Ann%d,Lee,+3361%07d,%s\n", prefix, i, i, i, i, start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	return b.String()
}

// wait polls job id until done says so.
func wait(t *testing.T, jobs *imports.Jobs, owner uint, id string, done func(imports.Job) bool) imports.Job {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		v, err := jobs.Get(owner, id)
		if err != nil {
			t.Fatal(err)
		}
		if done(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %+v", v)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A job's progress and counts outlive the process that ran it: a finished
// import shows its counts after a restart; one stopped by the restart shows
// the rows its committed batches imported, and says what happened.
func TestJobsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
	store := storetest.SQLite(t)
	ob := outbox.New(store, outbox.Options{Now: now, ClinicName: "Cabinet Dupont"})
	cl := clinic.New(store, clinic.Options{Now: now, Planner: ob})
	if err := cl.EnsureDefaults(ctx, clinic.Defaults{ClinicName: "Paris", Timezone: "Europe/Paris", Country: "FR"}); err != nil {
		t.Fatal(err)
	}
	svc := imports.New(store, cl)
	const owner = 7
	run := func(jobs *imports.Jobs, prefix string, rows int) string {
		t.Helper()
		up, err := jobs.Upload(ctx, owner, "day.csv", strings.NewReader(sheet(prefix, rows)), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if err := jobs.Start(ctx, owner, models.SystemActor(), up.ID, imports.Options{}); err != nil {
			t.Fatal(err)
		}
		return up.ID
	}

	jobs := imports.NewJobs(ctx, svc, store, now)
	done := run(jobs, "J", imports.Batch+50)
	wait(t, jobs, owner, done, func(v imports.Job) bool { return v.State == imports.JobApplied })
	jobs.Close()

	again := imports.NewJobs(ctx, svc, store, now)
	v, err := again.Get(owner, done)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != imports.JobApplied || v.Result == nil || v.Result.Created != imports.Batch+50 || v.Done != imports.Batch+50 || v.Total != imports.Batch+50 {
		t.Errorf("after a restart %+v with %+v", v, v.Result)
	}
	if _, err := again.Get(owner+1, done); !errors.Is(err, imports.ErrNoJob) {
		t.Errorf("another user's job: %v", err)
	}

	// Stopped part way: the store has the batches committed.
	stopped := run(again, "K", 20*imports.Batch)
	wait(t, again, owner, stopped, func(v imports.Job) bool { return v.Done >= imports.Batch+10 || v.State != imports.JobApplying })
	again.Close()
	var imported int64
	if err := store.DB(ctx).Model(&models.Appointment{}).Where("external_id LIKE ?", "K-%").Count(&imported).Error; err != nil {
		t.Fatal(err)
	}
	third := imports.NewJobs(ctx, svc, store, now)
	defer third.Close()
	v, err = third.Get(owner, stopped)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case v.State == imports.JobApplied:
		t.Logf("the import ended before the stop: %+v", v)
	case v.State != imports.JobFailed || v.Error != imports.RestartedMessage:
		t.Errorf("stopped job %+v", v)
	}
	if int64(v.Done) != imported || v.Done%imports.Batch != 0 || v.Total != 20*imports.Batch {
		t.Errorf("the stopped job shows %d of %d rows done; %d appointments were imported", v.Done, v.Total, imported)
	}
}
