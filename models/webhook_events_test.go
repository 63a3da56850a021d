package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// PendingWebhookEvents lists the unprocessed events past an id, oldest
// first, at most limit of them, with the four columns the processor reads.
func TestPendingWebhookEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		at := time.Date(2026, 12, 6, 3, 4, 5, 678901000, time.UTC)
		var rows []*models.WebhookEvent
		for i := range 6 {
			r := &models.WebhookEvent{
				Event: "receive_sms", DedupKey: models.DedupKey(fmt.Sprintf("receive_sms:m%d", i)),
				Raw: fmt.Sprintf(`{"msgId":"m%d"}`, i), ReceivedAt: at.Add(time.Duration(i) * time.Second),
			}
			if i == 2 {
				r.ProcessedAt = &at // set aside when stored
			}
			rows = append(rows, r)
		}
		if _, err := s.InsertWebhookEvents(ctx, rows); err != nil {
			t.Fatal(err)
		}
		all, err := s.PendingWebhookEvents(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 5 {
			t.Fatalf("%d pending, want 5 (one of 6 was processed)", len(all))
		}
		for i, e := range all {
			src := i
			if i >= 2 {
				src++ // the processed one is skipped
			}
			want := rows[src]
			if e.Event != want.Event || e.Raw != want.Raw || !e.ReceivedAt.Equal(want.ReceivedAt) || e.DedupKey != "" {
				t.Fatalf("pending[%d] = %+v, want event, raw and received_at of %+v", i, e, want)
			}
			if i > 0 && e.ID <= all[i-1].ID {
				t.Fatalf("ids out of order: %d after %d", e.ID, all[i-1].ID)
			}
		}
		page, err := s.PendingWebhookEvents(ctx, all[1].ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 2 || page[0].ID != all[2].ID || page[1].ID != all[3].ID {
			t.Fatalf("page after %d, limit 2: %+v", all[1].ID, page)
		}
		if none, err := s.PendingWebhookEvents(ctx, all[4].ID, 10); err != nil || len(none) != 0 {
			t.Fatalf("past the last: %v, %v", none, err)
		}
	})
}
