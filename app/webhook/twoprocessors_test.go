package webhook_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// Two processors over one database, started together on the same pending
// events, apply each event once: on SQLite a run is applied before it is
// claimed, and the one that claims it second must roll back what it
// applied. Hits are in the stream because nothing else (no state a second
// apply would find changed) stops them from being recorded twice.
func TestTwoProcessorsApplyEachEventOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		const patients, perPatient = 20, 10
		var body []any
		var hits []any
		for i := range patients {
			p := e.patient(fmt.Sprintf("Pat%d", i), fmt.Sprintf("+49151%08d", i))
			a := e.appointment(p, 48*time.Hour)
			for range perPatient {
				body = append(body, dlrItem(e.sentReminder(a, p.Phone), "DELIVERED", nil))
			}
			hits = append(hits, map[string]any{"hitId": i + 1, "shortlinkId": "bVc", "device": "mobile", "phoneNumber": p.Phone})
		}
		// Reports and hits alternate in runs, so that both processors meet
		// both kinds of run.
		for start := 0; start < len(body); start += 50 {
			e.mustPost(envelope("dlr_update", body[start:start+50]...))
			e.mustPost(envelope("shortlink_hit", hits[start/10:start/10+5]...))
		}
		var wg sync.WaitGroup
		for range 2 {
			proc, err := webhook.NewProcessor(webhook.ProcessorOptions{
				Store: e.store, Appliers: appliers(e.store, e.clinic, e.ob, e.clock.Now), Now: e.clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				if _, err := proc.ProcessPending(e.ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		total := int64(patients*perPatient + patients)
		if n := e.count(&models.WebhookEvent{}, "processed_at IS NOT NULL AND attempts = 1"); n != total {
			t.Errorf("%d events processed with one attempt, want %d", n, total)
		}
		if n := e.count(&models.Message{}, "status = ?", models.MsgDelivered); n != patients*perPatient {
			t.Errorf("%d messages delivered, want %d", n, patients*perPatient)
		}
		if n := e.count(&models.TimelineEntry{}, "kind = ?", models.TimelineDelivery); n != patients*perPatient {
			t.Errorf("%d delivery lines, want %d", n, patients*perPatient)
		}
		if n := e.count(&models.TimelineEntry{}, "kind = ?", models.TimelineClick); n != patients {
			t.Errorf("%d click lines, want %d", n, patients)
		}
	})
}

// On PostgreSQL a run locks its events before applying them. When another
// transaction holds one of them past the server's lock timeout, the run
// falls back to one event at a time: the others are applied, and the held
// one is left for a later pass (it used to stop the whole page, retried
// at once, with nothing applied).
func TestLockedEventDoesNotStopTheOthers(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	// Migrated without the short lock timeout: migrations of other tests
	// running meanwhile hold a lock of their own for longer.
	mig, err := models.Open(models.Options{Driver: models.DriverPostgres, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	_, err = mig.Migrate(context.Background())
	_ = mig.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := models.Open(models.Options{Driver: models.DriverPostgres, DSN: dsn + "&lock_timeout=100"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	e := newEnv(t, s)
	var items []any
	for i := range 10 {
		p := e.patient(fmt.Sprintf("Pat%d", i), fmt.Sprintf("+49151%08d", i))
		a := e.appointment(p, 48*time.Hour)
		items = append(items, dlrItem(e.sentReminder(a, p.Phone), "DELIVERED", nil))
	}
	e.mustPost(envelope("dlr_update", items...))
	var first uint
	if err := s.DB(e.ctx).Model(&models.WebhookEvent{}).Select("MIN(id)").Scan(&first).Error; err != nil {
		t.Fatal(err)
	}
	sqlDB, err := s.DB(e.ctx).DB()
	if err != nil {
		t.Fatal(err)
	}
	holder, err := sqlDB.BeginTx(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback() }()
	if _, err := holder.Exec("SELECT id FROM webhook_events WHERE id = $1 FOR UPDATE", first); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	if _, err := e.proc.ProcessPending(ctx); err != nil {
		t.Fatalf("ProcessPending with one event locked elsewhere: %v", err)
	}
	if done := e.count(&models.WebhookEvent{}, "processed_at IS NOT NULL"); done != 9 {
		t.Fatalf("%d of 10 events processed with one locked elsewhere, want the 9 others", done)
	}
	_ = holder.Rollback()
	if _, err := e.proc.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	if done := e.count(&models.WebhookEvent{}, "processed_at IS NOT NULL"); done != 10 {
		t.Fatalf("%d of 10 events processed once the lock was gone", done)
	}
}
