package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// Savepoints whose release waits for the next one (PostgreSQL) still nest
// and roll back as their Tx calls say: a failing savepoint after a
// successful sibling undoes only its own writes, a failing outer one
// undoes its successful inner ones, and one after a failed statement goes
// on.
func TestSavepointsAfterAReleasedSibling(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		set := func(ctx context.Context, k string) error {
			return s.DB(ctx).Create(&models.Setting{Key: k, Value: "1"}).Error
		}
		boom := errors.New("boom")
		err := s.Tx(ctx, func(ctx context.Context) error {
			if err := s.Tx(ctx, func(ctx context.Context) error { return set(ctx, "a") }); err != nil {
				return err
			}
			if err := s.Tx(ctx, func(ctx context.Context) error {
				if err := set(ctx, "b"); err != nil {
					return err
				}
				return boom
			}); !errors.Is(err, boom) {
				t.Errorf("failing sibling = %v", err)
			}
			if err := s.Tx(ctx, func(ctx context.Context) error {
				for _, k := range []string{"c1", "c2"} {
					if err := s.Tx(ctx, func(ctx context.Context) error { return set(ctx, k) }); err != nil {
						return err
					}
				}
				return boom
			}); !errors.Is(err, boom) {
				t.Errorf("failing outer savepoint = %v", err)
			}
			if err := s.Tx(ctx, func(ctx context.Context) error { return set(ctx, "a") }); err == nil {
				t.Error("a duplicate key was accepted")
			}
			if err := s.Tx(ctx, func(ctx context.Context) error {
				if err := s.Tx(ctx, func(ctx context.Context) error { return set(ctx, "d1") }); err != nil {
					return err
				}
				return set(ctx, "d2")
			}); err != nil {
				return err
			}
			return set(ctx, "e")
		})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		if err := s.DB(ctx).Model(&models.Setting{}).Where("key IN ?", []string{"a", "b", "c1", "c2", "d1", "d2", "e"}).
			Order("key").Pluck("key", &keys).Error; err != nil {
			t.Fatal(err)
		}
		if want := "a d1 d2 e"; strings.Join(keys, " ") != want {
			t.Fatalf("committed %q, want %q", keys, want)
		}
	})
}
