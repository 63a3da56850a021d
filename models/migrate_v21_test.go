package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"apptconfirm/models"
)

// Migration 21 drops the event and received_at indexes of webhook_events;
// the events stored before it are still recognised as duplicates, and
// pruning still deletes only events received and processed before the
// cutoff.
func TestMigration21KeepsDedupAndPrune(t *testing.T) {
	atVersion(t, 20, func(t *testing.T, ctx context.Context, s *models.Store) {
		m := s.DB(ctx).Migrator()
		for _, idx := range []string{"idx_webhook_events_event", "idx_webhook_events_received_at"} {
			if !m.HasIndex("webhook_events", idx) {
				t.Fatalf("%s missing before the migration", idx)
			}
		}

		now := time.Now().UTC().Truncate(time.Microsecond)
		old := now.Add(-10 * 24 * time.Hour)
		var rows []*models.WebhookEvent
		for i := range 300 {
			r := &models.WebhookEvent{Event: "dlr_update", DedupKey: models.DedupKey(fmt.Sprintf("dlr_update:m%d:DELIVERED", i)), Raw: "{}", ReceivedAt: old}
			switch {
			case i < 100: // received and processed long ago
				r.ProcessedAt = &old
			case i < 200: // received long ago, processed just now
				r.ProcessedAt = &now
			}
			rows = append(rows, r)
		}
		if got, err := s.InsertWebhookEvents(ctx, rows); err != nil || len(got) != len(rows) {
			t.Fatalf("insert before the migration: %d new, %v", len(got), err)
		}

		if n, err := s.MigrateTo(ctx, 21); err != nil || n != 1 {
			t.Fatalf("MigrateTo(21) = %d, %v; want 1, nil", n, err)
		}
		for _, idx := range []string{"idx_webhook_events_event", "idx_webhook_events_received_at"} {
			if m.HasIndex("webhook_events", idx) {
				t.Fatalf("%s still there after the migration", idx)
			}
		}
		if !m.HasIndex("webhook_events", "idx_webhook_events_dedup_key") {
			t.Fatal("the unique key index is gone")
		}

		// A retry of every stored event is a duplicate; a new one is not.
		retry := []*models.WebhookEvent{{Event: "dlr_update", DedupKey: models.DedupKey("dlr_update:fresh:DELIVERED"), Raw: "{}", ReceivedAt: now}}
		for _, r := range rows {
			retry = append(retry, &models.WebhookEvent{Event: r.Event, DedupKey: r.DedupKey, Raw: "{}", ReceivedAt: now})
		}
		got, err := s.InsertWebhookEvents(ctx, retry)
		if err != nil || len(got) != 1 || !got[retry[0].DedupKey] {
			t.Fatalf("insert after the migration: new %v, %v; want only the fresh key", got, err)
		}

		n, err := s.PruneWebhookEvents(ctx, now.Add(-7*24*time.Hour))
		if err != nil || n != 100 {
			t.Fatalf("pruned %d, %v; want the 100 received and processed long ago", n, err)
		}
		var left int64
		if err := s.DB(ctx).Model(&models.WebhookEvent{}).Count(&left).Error; err != nil || left != 201 {
			t.Fatalf("%d events left, %v; want 201", left, err)
		}
	})
}
