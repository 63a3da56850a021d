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
