package models_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// InsertWebhookEvents stores an event waiting to be processed and one set
// aside when stored alike, whichever statement writes them: every column
// reads back as given, a duplicate key is skipped.
func TestInsertWebhookEventsColumns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		at := time.Date(2026, 12, 6, 3, 4, 5, 678901000, time.UTC)
		processed := at.Add(time.Second)
		rows := []*models.WebhookEvent{
			{Event: "dlr_update", DedupKey: models.DedupKey("dlr_update:a:DELIVERED"), Raw: `{"msgId":"a"}`, ReceivedAt: at},
			{
				Event: "dlr_update", DedupKey: models.DedupKey("dlr_update:malformed:x"), Raw: `{"msgId":1}`, ReceivedAt: at,
				ProcessedAt: &processed, Attempts: 2, Result: "malformed: msgId is missing", Flagged: true,
			},
			{Event: "receive_sms", DedupKey: models.DedupKey("receive_sms:b"), Raw: `{"msgId":"b"}`, ReceivedAt: at},
			{Event: "dlr_update", DedupKey: models.DedupKey("dlr_update:a:DELIVERED"), Raw: `{"msgId":"a","again":1}`, ReceivedAt: at},
		}
		inserted, err := s.InsertWebhookEvents(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(inserted) != 3 {
			t.Fatalf("%d keys stored, want 3 (one duplicate): %v", len(inserted), inserted)
		}
		all, err := s.PendingWebhookEvents(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 {
			t.Fatalf("%d pending, want 2", len(all))
		}
		for id := all[0].ID; id <= all[1].ID; id++ {
			got, err := s.WebhookEvent(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want := rows[id-all[0].ID]
			same := got.Event == want.Event && got.DedupKey == want.DedupKey && got.Raw == want.Raw &&
				got.ReceivedAt.Equal(want.ReceivedAt) && got.Attempts == want.Attempts &&
				got.Result == want.Result && got.Flagged == want.Flagged &&
				(got.ProcessedAt == nil) == (want.ProcessedAt == nil) &&
				(got.ProcessedAt == nil || got.ProcessedAt.Equal(*want.ProcessedAt))
			if !same {
				t.Errorf("event %d = %+v, want %+v", id, got, want)
			}
		}
	})
}

// BenchmarkInsertWebhookEvents measures storing single-event batches the
// way the receiver's group commit does on a flood: groups of six pending
// delivery reports with random keys, one transaction each, on SQLite.
func BenchmarkInsertWebhookEvents(b *testing.B) {
	s := storetest.SQLite(b)
	ctx := context.Background()
	const group = 6
	rows := make([]*models.WebhookEvent, group)
	n := 0
	for b.Loop() {
		for i := range rows {
			n++
			id := fmt.Sprintf("%08x-bench-%d", rand.Uint32(), n)
			rows[i] = &models.WebhookEvent{
				Event: "dlr_update", DedupKey: models.DedupKey("dlr_update:" + id + ":DELIVERED"),
				Raw: `{"msgId":"` + id + `","status":"DELIVERED"}`, ReceivedAt: time.Now().UTC(),
			}
		}
		if _, err := s.InsertWebhookEvents(ctx, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*group), "µs/event")
}
