package models_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// The processor's page of pending events reads those events in id order
// through an index, whatever the number of processed events kept beside
// them and whichever plan the database caches: on PostgreSQL a page used
// to walk the primary key past every processed event, or read every
// pending one and sort them, so under a backlog each page cost as much as
// the backlog was long.
func TestPendingWebhookEventsPlanReadsOnlyPending(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		var rows []*models.WebhookEvent
		// Processed events kept for retention, then a backlog.
		for i := range 6000 {
			r := &models.WebhookEvent{Event: "dlr_update", DedupKey: models.DedupKey(fmt.Sprintf("plan:%d", i)), Raw: "{}", ReceivedAt: now}
			if i < 3000 {
				r.ProcessedAt = &now
			}
			rows = append(rows, r)
		}
		if _, err := s.InsertWebhookEvents(ctx, rows); err != nil {
			t.Fatal(err)
		}
		db := s.DB(ctx)
		if err := db.Exec("ANALYZE webhook_events").Error; err != nil {
			t.Fatal(err)
		}
		var oldest uint
		if err := db.Raw("SELECT min(id) FROM webhook_events WHERE processed_at IS NULL").Scan(&oldest).Error; err != nil {
			t.Fatal(err)
		}
		page, err := s.PendingWebhookEvents(ctx, 0, 500)
		if err != nil || len(page) != 500 || page[0].ID != oldest {
			t.Fatalf("pending page: %d events, %v; want the 500 oldest pending, from %d", len(page), err, oldest)
		}

		plans := map[string]string{}
		if s.Driver() == models.DriverSQLite {
			plans["sqlite"] = explainSQLite(t, s, models.PendingWebhookSQL, 0, 500)
			prune := explainSQLite(t, s, "SELECT id FROM webhook_events WHERE processed_at < ? AND received_at < ?", now, now)
			if !strings.Contains(prune, "idx_webhook_events_processed_at") {
				t.Errorf("pruning does not find processed events through their index:\n%s", prune)
			}
			for mode, plan := range plans {
				if !strings.Contains(plan, "idx_webhook_events_pending") || strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("%s plan does not read pending events in id order through the index:\n%s", mode, plan)
				}
			}
			return
		}
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			plans[mode] = explainPG(t, s, mode, models.PendingWebhookSQL, 0, 500)
		}
		var prune []string
		old := now.Add(-10 * 24 * time.Hour)
		if err := db.Raw("EXPLAIN SELECT id FROM webhook_events WHERE processed_at < ? AND received_at < ?", old, old).Scan(&prune).Error; err != nil {
			t.Fatal(err)
		}
		if p := strings.Join(prune, "\n"); !strings.Contains(p, "idx_webhook_events_processed_at") {
			t.Errorf("pruning does not find processed events through their index:\n%s", p)
		}
		for mode, plan := range plans {
			if !strings.Contains(plan, "idx_webhook_events_pending") || strings.Contains(plan, "Sort") {
				t.Errorf("%s plan does not read pending events in id order through their index:\n%s", mode, plan)
			}
		}
	})
}

// Migrations 22 and 23 move the pending events into an index of their own;
// the events stored before them are read, claimed and pruned as before.
func TestMigration22PendingIndex(t *testing.T) {
	atVersion(t, 21, func(t *testing.T, ctx context.Context, s *models.Store) {
		now := time.Now().UTC().Truncate(time.Microsecond)
		old := now.Add(-10 * 24 * time.Hour)
		var rows []*models.WebhookEvent
		for i := range 40 {
			r := &models.WebhookEvent{Event: "dlr_update", DedupKey: models.DedupKey(fmt.Sprintf("v22:%d", i)), Raw: "{}", ReceivedAt: old}
			if i%2 == 0 {
				r.ProcessedAt = &old
			}
			rows = append(rows, r)
		}
		if _, err := s.InsertWebhookEvents(ctx, rows); err != nil {
			t.Fatal(err)
		}
		rerunBuildAndSwap(t, ctx, s, 22, 23)
		// Each index holds what its condition says (a processed_at index
		// without one would hold the pending events too), and no other is
		// left beside them.
		defs := indexDefs(t, s, "webhook_events")
		for name, cond := range map[string]string{
			"idx_webhook_events_pending":      "WHERE processed_at IS NULL",
			"idx_webhook_events_processed_at": "WHERE processed_at IS NOT NULL",
		} {
			if !strings.HasSuffix(defs[name], cond) {
				t.Errorf("%s is %q; want it to end %q", name, defs[name], cond)
			}
		}
		if len(defs) != 3 {
			t.Errorf("webhook_events has indexes %v; want the unique key and these two", defs)
		}
		page, err := s.PendingWebhookEvents(ctx, 0, 500)
		if err != nil || len(page) != 20 {
			t.Fatalf("pending after the migration: %d, %v; want 20", len(page), err)
		}
		if ok, err := s.ClaimWebhookEvent(ctx, page[0].ID, now); err != nil || !ok {
			t.Fatalf("claim: %v, %v", ok, err)
		}
		if page, err = s.PendingWebhookEvents(ctx, 0, 500); err != nil || len(page) != 19 {
			t.Fatalf("pending after a claim: %d, %v; want 19", len(page), err)
		}
		if n, err := s.PruneWebhookEvents(ctx, now.Add(-24*time.Hour)); err != nil || n != 20 {
			t.Fatalf("pruned %d, %v; want the 20 processed long ago", n, err)
		}
	})
}

// Migrating beside a running processor does not deadlock on PostgreSQL: a
// transaction that locked pending events (SELECT ... FOR UPDATE) before the
// indexes were built, and writes them while the swap waits for the table,
// goes through, and so do the migrations once it has committed. Had one
// migration built an index (holding the table against writes) and then
// asked for the table's exclusive lock, each would wait for the other.
func TestMigrations22To25BesideAProcessor(t *testing.T) {
	atVersion(t, 21, func(t *testing.T, ctx context.Context, s *models.Store) {
		if s.Driver() != models.DriverPostgres {
			t.Skip("SQLite migrates with the database locked")
		}
		rows := []*models.WebhookEvent{{Event: "dlr_update", DedupKey: models.DedupKey("beside"), Raw: "{}", ReceivedAt: time.Now().UTC()}}
		if _, err := s.InsertWebhookEvents(ctx, rows); err != nil {
			t.Fatal(err)
		}
		sqlDB, err := s.DB(ctx).DB()
		if err != nil {
			t.Fatal(err)
		}
		proc, err := sqlDB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = proc.Rollback() }()
		var id uint
		if err := proc.QueryRowContext(ctx, "SELECT id FROM webhook_events WHERE processed_at IS NULL FOR UPDATE").Scan(&id); err != nil {
			t.Fatal(err)
		}
		migrated := make(chan error, 1)
		go func() {
			_, err := s.MigrateTo(ctx, 25)
			migrated <- err
		}()
		// Wait until the migrations wait for the processor's transaction.
		deadline := time.Now().Add(20 * time.Second)
		for {
			var waiting int
			if err := sqlDB.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
				WHERE NOT l.granted AND l.mode = 'AccessExclusiveLock' AND c.relname = 'webhook_events'
				AND c.relnamespace = current_schema()::regnamespace`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting > 0 {
				break
			}
			select {
			case err := <-migrated:
				t.Fatalf("the migrations finished (%v) while a transaction held a pending event", err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatal("the migrations never waited for the processor's transaction")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := proc.ExecContext(ctx, "UPDATE webhook_events SET processed_at = now(), result = 'applied' WHERE id = $1", id); err != nil {
			t.Fatalf("the processor's write beside the migrations: %v", err)
		}
		if err := proc.Commit(); err != nil {
			t.Fatalf("the processor's commit: %v", err)
		}
		select {
		case err := <-migrated:
			if err != nil {
				t.Fatalf("migrations beside a processor: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the migrations did not finish once the processor committed")
		}
		if v, err := s.SchemaVersion(ctx); err != nil || v < 25 {
			t.Fatalf("schema version %d, %v", v, err)
		}
	})
}

// indexDefs returns the secondary indexes of table by name, each as its
// definition with parentheses and runs of blanks made single spaces.
func indexDefs(t *testing.T, s *models.Store, table string) map[string]string {
	t.Helper()
	q := "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ? AND schemaname = current_schema() AND indexname <> ?"
	args := []any{table, table + "_pkey"}
	if s.Driver() == models.DriverSQLite {
		q = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
		args = args[:1]
	}
	rs, err := s.DB(context.Background()).Raw(q, args...).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	defs := map[string]string{}
	for rs.Next() {
		var name, def string
		if err := rs.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		defs[name] = strings.Join(strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(def)), " ")
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return defs
}
