package models_test

import (
	"context"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// A held writer's turn lets its holder write without waiting for itself,
// and keeps every other writer waiting until it is released.
func TestHoldWriterTurn(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	held, release, err := s.HoldWriterTurn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := []*models.WebhookEvent{{Event: "dlr_update", DedupKey: models.DedupKey("dlr_update:held:DELIVERED"), Raw: "{}", ReceivedAt: time.Now().UTC()}}
	if got, err := s.InsertWebhookEvents(held, rows); err != nil || len(got) != 1 {
		t.Fatalf("insert under the held turn: %v, %v", got, err)
	}
	other := make(chan error, 1)
	go func() {
		r, err := s.WriterTurn(ctx)
		if err == nil {
			r()
		}
		other <- err
	}()
	select {
	case err := <-other:
		t.Fatalf("another writer got the turn while it was held (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-other; err != nil {
		t.Fatalf("the other writer after the release: %v", err)
	}
}

// A transaction whose work panics is rolled back and gives back the
// writer's turn and the writer connection, so that a caller that recovers
// can write again at once.
func TestTxGivesTheWriterBackWhenItsWorkPanics(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	row := func(key string) []*models.WebhookEvent {
		return []*models.WebhookEvent{{Event: "dlr_update", DedupKey: models.DedupKey(key), Raw: "{}", ReceivedAt: time.Now().UTC()}}
	}
	func() {
		defer func() {
			if r := recover(); r != "bug" {
				t.Fatalf("recovered %v, want the work's panic", r)
			}
		}()
		_ = s.Tx(ctx, func(ctx context.Context) error {
			if err := s.DB(ctx).Create(row("dlr_update:panicked")[0]).Error; err != nil {
				t.Fatal(err)
			}
			panic("bug")
		})
	}()
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if got, err := s.InsertWebhookEvents(short, row("dlr_update:after")); err != nil || len(got) != 1 {
		t.Fatalf("a write after the panic: %v, %v", got, err)
	}
	var n int64
	if err := s.DB(ctx).Model(&models.WebhookEvent{}).Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("%d webhook events stored (%v), want only the one written after the panic", n, err)
	}
}
