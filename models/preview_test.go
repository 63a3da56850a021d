package models_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// Audit rows of a transaction that defers its logs are stored at its
// commit, in the order written, without those of a savepoint that rolled
// back; a transaction that rolls back stores none.
func TestDeferredLogsFollowTheCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		boom := errors.New("boom")
		audit := func(ctx context.Context, detail string) error {
			return s.Audit(ctx, at, models.SystemActor(), "test", "thing", 1, detail)
		}
		details := func() []string {
			t.Helper()
			es, _, err := s.AuditLog(ctx, models.AuditFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for i := len(es) - 1; i >= 0; i-- {
				out = append(out, es[i].Detail)
			}
			return out
		}
		err := s.Tx(ctx, func(ctx context.Context) error {
			s.DeferLogs(ctx)
			if err := audit(ctx, "a1"); err != nil {
				return err
			}
			_ = s.Tx(ctx, func(ctx context.Context) error {
				if err := audit(ctx, "refused"); err != nil {
					return err
				}
				return boom
			})
			err := s.Tx(ctx, func(ctx context.Context) error { return audit(ctx, "a2") })
			if got := details(); len(got) != 0 {
				t.Errorf("stored before the commit: %v", got)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := details(), []string{"a1", "a2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("stored %v, want %v", got, want)
		}
		err = s.Tx(ctx, func(ctx context.Context) error {
			s.DeferLogs(ctx)
			if err := audit(ctx, "rolled back"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v", err)
		}
		if got, want := details(), []string{"a1", "a2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("after a rollback %v, want %v", got, want)
		}
	})
}
