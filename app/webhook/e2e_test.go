package webhook_test

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/smscx"
	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// End to end with the fake gateway: book, send the reminder, the delivery
// reports come back through the real endpoint, the patient replies YES, the
// appointment is confirmed and the acknowledgement goes out; replaying every
// webhook the gateway sent changes nothing.
func TestEndToEndWithFakeGateway(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		e.run()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()

		fake := smscxtest.NewServer(smscxtest.Options{CallbackURL: e.url, DLRDelay: 5 * time.Millisecond})
		t.Cleanup(fake.Close)
		gateway := httptest.NewServer(fake)
		t.Cleanup(gateway.Close)
		client, err := smscx.New(smscx.Config{BaseURL: gateway.URL, APIKey: smscxtest.DefaultAPIKey})
		if err != nil {
			t.Fatal(err)
		}
		// send does what the dispatcher does with a planned message.
		send := func(m *models.Message) {
			t.Helper()
			resp, err := client.Send(ctx, smscx.SendRequest{
				To: []string{m.To}, From: "Clinic", Text: m.Body,
				IdempotencyID: m.UUID, TrackData: m.UUID, DLRCallbackURL: e.url,
			})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			// A delivery report may beat this write; it is matched by trackData then.
			err = s.DB(ctx).Model(&models.Message{}).Where("id = ? AND provider_message_id = ''", m.ID).
				Updates(map[string]any{"provider_message_id": resp.Data[0].MsgID, "campaign_id": resp.Info.CampaignID}).Error
			if err != nil {
				t.Fatal(err)
			}
			err = s.DB(ctx).Model(&models.Message{}).Where("id = ? AND status IN ?", m.ID, []models.MessageStatus{models.MsgPlanned, models.MsgSending}).
				Updates(map[string]any{"status": models.MsgAccepted, "sent_at": now}).Error
			if err != nil {
				t.Fatal(err)
			}
		}

		p := e.patient("Anna", "+4915123456789")
		a := e.appointment(p, 72*time.Hour)
		reminder := &models.Message{
			UUID: uuid.NewString(), AppointmentID: &a.ID, PatientID: &p.ID, RuleName: "48h", Kind: models.KindReminder,
			To: p.Phone, Body: "Hi Anna, reminder: your appointment on Thursday. Reply YES to confirm or NO to cancel.",
			Status: models.MsgPlanned, SendAt: t0,
		}
		if err := s.DB(ctx).Create(reminder).Error; err != nil {
			t.Fatal(err)
		}
		send(reminder)
		if err := fake.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		e.waitProcessed()
		got := e.message(reminder.ID)
		if got.Status != models.MsgDelivered || got.DeliveredAt == nil || got.ProviderID == "" {
			t.Fatalf("reminder after the reports: %s, delivered %v, msgId %q", got.Status, got.DeliveredAt, got.ProviderID)
		}

		if _, err := fake.EmitReceiveSMS(ctx, p.Phone, "+4915199000000", "Yes please!"); err != nil {
			t.Fatal(err)
		}
		e.waitProcessed()
		if st := e.appt(a.ID).Status; st != models.Confirmed {
			t.Fatalf("appointment %s after YES", st)
		}
		acks := e.queued(models.KindAckConfirm, p.Phone)
		if len(acks) != 1 {
			t.Fatalf("%d acknowledgements queued", len(acks))
		}
		send(&acks[0])
		if err := fake.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		e.waitProcessed()
		if st := e.message(acks[0].ID).Status; st != models.MsgDelivered {
			t.Fatalf("acknowledgement %s", st)
		}
		if !slices.ContainsFunc(fake.Sends(), func(s smscxtest.Send) bool { return s.IdempotencyID == acks[0].UUID }) {
			t.Fatal("the gateway never got the acknowledgement")
		}
		var timeline []string
		if err := s.DB(ctx).Model(&models.TimelineEntry{}).Where("appointment_id = ?", a.ID).Order("id").Pluck("kind", &timeline).Error; err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{models.TimelineDelivery, models.TimelineReply, models.TimelineSystem} {
			if !slices.Contains(timeline, k) {
				t.Fatalf("timeline %v lacks %s", timeline, k)
			}
		}

		// SMS.CX retries: every webhook again changes nothing.
		before := e.snapshot()
		callbacks := fake.Callbacks()
		if len(callbacks) < 3 {
			t.Fatalf("only %d callbacks", len(callbacks))
		}
		for _, cb := range callbacks {
			resp, err := http.Post(cb.URL, "application/json", bytes.NewReader(cb.Body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("replay of %s: %d", cb.Event, resp.StatusCode)
			}
		}
		e.waitProcessed()
		if after := e.snapshot(); !maps.Equal(before, after) {
			t.Fatalf("replay changed the database:\nbefore %v\nafter  %v", before, after)
		}
	})
}

// Opt-outs and link clicks from the fake gateway reach the patient and the
// timeline.
func TestFakeGatewayOptoutAndClicks(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.run()
	ctx := t.Context()
	fake := smscxtest.NewServer(smscxtest.Options{CallbackURL: e.url})
	t.Cleanup(fake.Close)
	p := e.patient("Anna", "+4915123456789")
	a := e.appointment(p, 72*time.Hour)
	m := e.sentReminder(a, p.Phone)

	if err := fake.EmitShortlinkHit(ctx, p.Phone, m.CampaignID, "bVc", false); err != nil {
		t.Fatal(err)
	}
	if err := fake.EmitShortlinkHit(ctx, p.Phone, m.CampaignID, "bVc", true); err != nil {
		t.Fatal(err)
	}
	if err := fake.EmitAttachmentHit(ctx, p.Phone, m.CampaignID, "doc1", false); err != nil {
		t.Fatal(err)
	}
	if err := fake.EmitOptout(ctx, p.Phone, m.CampaignID); err != nil {
		t.Fatal(err)
	}
	e.waitProcessed()
	if n := e.count(&models.TimelineEntry{}, "appointment_id = ? AND kind = ?", a.ID, models.TimelineClick); n != 1 {
		t.Fatalf("%d clicks on the timeline, want 1", n)
	}
	if n := e.count(&models.TimelineEntry{}, "appointment_id = ? AND kind = ? AND detail LIKE ?", a.ID, models.TimelineOpen, "%doc1%"); n != 1 {
		t.Fatalf("%d opens on the timeline, want 1", n)
	}
	var pt models.Patient
	if err := e.store.DB(ctx).First(&pt, p.ID).Error; err != nil {
		t.Fatal(err)
	}
	if !pt.OptedOut() || pt.OptOutSource != "smscx_link" {
		t.Fatalf("after the opt-out link: opted out %v, source %q", pt.OptedOut(), pt.OptOutSource)
	}
}

// An event whose processing fails is retried, and set aside flagged after
// MaxAttempts so it cannot block the others.
func TestFailingEventIsSetAside(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.mustPost(envelope("receive_sms", smsItem("+4915100000009", "hello")))
	// Break the table the event writes to.
	if err := e.store.DB(e.ctx).Exec("ALTER TABLE inbound_messages RENAME TO inbound_messages_gone").Error; err != nil {
		t.Fatal(err)
	}
	for pass := 1; pass <= webhook.DefaultMaxAttempts; pass++ {
		if n := e.process(); n != 0 {
			t.Fatalf("pass %d applied %d", pass, n)
		}
		var ev models.WebhookEvent
		if err := e.store.DB(e.ctx).Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.Attempts != pass {
			t.Fatalf("pass %d: %d attempts recorded", pass, ev.Attempts)
		}
		last := pass == webhook.DefaultMaxAttempts
		if (ev.ProcessedAt != nil) != last || ev.Flagged != last {
			t.Fatalf("pass %d: processed %v flagged %v", pass, ev.ProcessedAt, ev.Flagged)
		}
		if last && !strings.HasPrefix(ev.Result, "failed after 5 attempts") {
			t.Fatalf("result %q", ev.Result)
		}
	}
}

// Events are applied many to a transaction; one that fails costs the others
// of its transaction nothing: they are applied, each once, and only the
// failing one is counted as an attempt and left for later.
func TestFailingEventAmongOthers(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	p := e.patient("Ada", "+4915100000009")
	a := e.appointment(p, 48*time.Hour)
	m := e.sentReminder(a, p.Phone)
	e.mustPost(envelope("dlr_update", dlrItem(m, "DELIVERED", nil)))
	e.mustPost(envelope("receive_sms", smsItem("+4915100000009", "hello")))
	e.mustPost(envelope("new_optout", map[string]any{"hitId": 7, "optoutId": "x1", "optoutType": "link", "phoneNumber": "+4915100000009"}))
	if err := e.store.DB(e.ctx).Exec("ALTER TABLE inbound_messages RENAME TO inbound_messages_gone").Error; err != nil {
		t.Fatal(err)
	}
	if n := e.process(); n != 2 {
		t.Fatalf("applied %d events, want the delivery report and the opt-out", n)
	}
	if got := e.message(m.ID).Status; got != models.MsgDelivered {
		t.Fatalf("message %s, want delivered", got)
	}
	var pt models.Patient
	if err := e.store.DB(e.ctx).First(&pt, p.ID).Error; err != nil {
		t.Fatal(err)
	}
	if !pt.OptedOut() {
		t.Fatal("the opt-out was not applied")
	}
	var evs []models.WebhookEvent
	if err := e.store.DB(e.ctx).Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		pending := ev.Event == "receive_sms"
		if (ev.ProcessedAt == nil) != pending || ev.Attempts != 1 {
			t.Errorf("%s: processed %v after %d attempts", ev.Event, ev.ProcessedAt, ev.Attempts)
		}
	}
	if err := e.store.DB(e.ctx).Exec("ALTER TABLE inbound_messages_gone RENAME TO inbound_messages").Error; err != nil {
		t.Fatal(err)
	}
	if n := e.process(); n != 1 {
		t.Fatalf("the next pass applied %d, want the reply", n)
	}
	if n := e.count(&models.InboundMessage{}); n != 1 {
		t.Fatalf("%d inbound messages, want 1", n)
	}
}
