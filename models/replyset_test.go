package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// Under WithTxReadCache the texts and settings are read once per
// transaction (savepoints included), a missing setting too; the next
// transaction reads them again.
func TestTxReadCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		if _, err := s.AddMessageTemplate(ctx, "help", "en", "v1", now); err != nil {
			t.Fatal(err)
		}
		read := func(ctx context.Context) (string, error) {
			tx, err := s.Texts(ctx)
			if err != nil {
				return "", err
			}
			_, serr := s.Setting(ctx, "absent")
			if !errors.Is(serr, models.ErrNotFound) {
				t.Fatalf("setting: %v, want ErrNotFound", serr)
			}
			return tx.Kinds["help"]["en"], nil
		}
		err := s.Tx(ctx, func(ctx context.Context) error {
			if got, err := read(s.WithTxReadCache(ctx)); err != nil || got != "v1" {
				t.Fatalf("first read: %q, %v", got, err)
			}
			// Changed behind the cache: a run of replies changes no text,
			// so the cache may keep what it read.
			if err := s.PutMessageTemplate(ctx, "help", "en", "v2", now); err != nil {
				return err
			}
			if _, err := s.AddSetting(ctx, "absent", "x"); err != nil {
				return err
			}
			return s.Tx(ctx, func(ctx context.Context) error { // a savepoint shares it
				got, err := read(s.WithTxReadCache(ctx))
				if got != "v1" {
					t.Errorf("in the same transaction: %q, want the cached v1", got)
				}
				// Without the cache the store is read.
				if tx, _ := s.Texts(ctx); tx.Kinds["help"]["en"] != "v2" {
					t.Errorf("uncached: %q, want v2", tx.Kinds["help"]["en"])
				}
				return err
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Tx(ctx, func(ctx context.Context) error {
			tx, err := s.Texts(s.WithTxReadCache(ctx))
			if tx.Kinds["help"]["en"] != "v2" {
				t.Errorf("next transaction: %q, want v2", tx.Kinds["help"]["en"])
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// A setting written through a context with a read cache is read back as
// written, not as the cache last saw it (a key read as missing, then added).
func TestReadCacheForgetsWrittenSetting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := models.WithReadCache(context.Background())
		if _, err := s.Setting(ctx, "k"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("before: %v, want ErrNotFound", err)
		}
		if _, err := s.AddSetting(ctx, "k", "one"); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Setting(ctx, "k"); err != nil || v != "one" {
			t.Fatalf("after AddSetting: %q, %v", v, err)
		}
		if err := s.PutSetting(ctx, "k", "two"); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Setting(ctx, "k"); err != nil || v != "two" {
			t.Fatalf("after PutSetting: %q, %v", v, err)
		}
	})
}
