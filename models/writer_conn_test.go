package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// cacheSize reads the page cache setting of the connection db runs on.
func cacheSize(t *testing.T, ctx context.Context, s *models.Store) int {
	t.Helper()
	var n int
	if err := s.DB(ctx).Raw("PRAGMA cache_size").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// On SQLite, transactions run on the writer connection, whose page cache
// is larger than the pool's; a bulk load's larger cache ends with its
// transaction.
func TestSQLiteTransactionsRunOnTheWriterConnection(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	inTx := func() int {
		var n int
		if err := s.Tx(ctx, func(ctx context.Context) error { n = cacheSize(t, ctx, s); return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	pool, writer := cacheSize(t, ctx, s), inTx()
	if writer != -16384 || pool == writer {
		t.Fatalf("cache_size: pool %d, in a transaction %d; want the writer's -16384 only in a transaction", pool, writer)
	}
	err := s.Tx(ctx, func(ctx context.Context) error {
		if err := s.PrepareBulkLoad(ctx); err != nil {
			return err
		}
		if n := cacheSize(t, ctx, s); n != -262144 {
			t.Errorf("cache_size during a bulk load: %d", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := inTx(); n != -16384 {
		t.Fatalf("cache_size after a bulk load: %d, want -16384", n)
	}
}

// A holder of the writer's turn that opens a second transaction with a
// context lacking its first one waits for itself: that fails as
// unavailable when the wait ends, and the first transaction carries on.
func TestTransactionWaitingForItselfFails(t *testing.T) {
	s := storetest.SQLite(t)
	held, release, err := s.HoldWriterTurn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	err = s.Tx(held, func(ctx context.Context) error {
		short, cancel := context.WithTimeout(held, 200*time.Millisecond)
		defer cancel()
		inner := s.Tx(short, func(context.Context) error { return nil })
		if !errors.Is(inner, models.ErrUnavailable) {
			t.Errorf("second transaction: %v, want ErrUnavailable", inner)
		}
		return s.CreatePatient(ctx, &models.Patient{FirstName: "Ann", Phone: "+491510000003"})
	})
	if err != nil {
		t.Fatalf("first transaction: %v", err)
	}
}
