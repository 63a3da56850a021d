package models_test

import (
	"context"
	"testing"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestRunExclusive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		inside := make(chan struct{})
		release := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := s.RunExclusive(ctx, "sweep", func(context.Context) error {
				close(inside)
				<-release
				return nil
			})
			done <- err
		}()
		<-inside
		ran, err := s.RunExclusive(ctx, "sweep", func(context.Context) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		wantSecond := s.Driver() != models.DriverPostgres // SQLite: one instance, no lock
		if ran != wantSecond {
			t.Fatalf("second run while the first holds the lock: ran=%v, want %v", ran, wantSecond)
		}
		// A different job name is not blocked.
		if ran, err := s.RunExclusive(ctx, "retention", func(context.Context) error { return nil }); err != nil || !ran {
			t.Fatalf("other job: ran=%v err=%v", ran, err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if ran, err := s.RunExclusive(ctx, "sweep", func(context.Context) error { return nil }); err != nil || !ran {
			t.Fatalf("after release: ran=%v err=%v", ran, err)
		}
	})
}
