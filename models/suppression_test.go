package models_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// The suppression list keeps keyed hashes, never numbers; instances that
// make the key at once agree on one; a number leaves the list again.
func TestSuppressionListKeepsKeyedHashes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		if got, err := s.SuppressedNumbers(ctx, []string{"+15550000001"}); err != nil || len(got) != 0 {
			t.Fatalf("before any key: %v %v", got, err)
		}
		numbers := []string{"+15550000001", "+15550000002", "+15550000003", "+15550000004"}
		var wg sync.WaitGroup
		errs := make([]error, len(numbers))
		for i, n := range numbers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Tx(ctx, func(ctx context.Context) error { return s.SuppressNumber(ctx, n, "sms_stop", now) })
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.SuppressedNumbers(ctx, append([]string{"+15550000009"}, numbers...))
		if err != nil || len(got) != len(numbers) || got["+15550000009"] {
			t.Fatalf("suppressed %v, %v; want the four numbers, made under one key", got, err)
		}
		var rows []models.SuppressedNumber
		if err := s.DB(ctx).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if strings.Contains(r.Hash, "555000") || len(r.Hash) != 64 {
				t.Fatalf("row %+v", r)
			}
		}
		if err := s.SuppressNumber(ctx, numbers[0], "again", now); err != nil {
			t.Fatal(err)
		}
		if err := s.UnsuppressNumber(ctx, numbers[1]); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SuppressedNumbers(ctx, numbers); err != nil || len(got) != 3 || got[numbers[1]] {
			t.Fatalf("after removing one: %v %v", got, err)
		}
	})
}
