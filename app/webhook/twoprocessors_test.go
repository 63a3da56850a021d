package webhook_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/webhook"
	"apptconfirm/models"
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
