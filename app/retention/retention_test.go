package retention_test

import (
	"context"
	"testing"
	"time"

	"apptconfirm/app/retention"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

var t0 = time.Date(2027, 3, 2, 3, 30, 0, 0, time.UTC)

// With a fake clock: texts older than retention.message_text and audit
// details older than retention.audit are blanked; newer ones, messages
// still to send and webhook events not yet applied are kept; a second run
// changes nothing; the run is audited with counts only.
func TestRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		db := s.DB(ctx)
		const year = 365 * 24 * time.Hour
		old, recent := t0.Add(-year-time.Hour), t0.Add(-year+time.Hour)
		loc := models.Location{Name: "Main", TimeZone: "UTC", Country: "US"}
		db.Create(&loc)
		p := models.Patient{FirstName: "Ann", Phone: "+12025550100", Language: "en"}
		db.Create(&p)
		appt := models.Appointment{PatientID: p.ID, LocationID: loc.ID, StartsAt: old, DurationMinutes: 30, Status: models.Completed}
		db.Create(&appt)
		msg := func(uuid string, at time.Time, st models.MessageStatus) models.Message {
			return models.Message{UUID: uuid, AppointmentID: &appt.ID, Kind: models.KindReminder, To: p.Phone, Body: "Hi Ann", Status: st, SendAt: at, CreatedAt: at, UpdatedAt: at}
		}
		msgs := []models.Message{msg("old", old, models.MsgDelivered), msg("recent", recent, models.MsgDelivered), msg("old-pending", old, models.MsgSending)}
		if err := db.Create(&msgs).Error; err != nil {
			t.Fatal(err)
		}
		replies := []models.InboundMessage{
			{ProviderID: "r-old", From: p.Phone, Text: "YES see you", HandledNote: "called back", ReceivedAt: old, CreatedAt: old},
			{ProviderID: "r-new", From: p.Phone, Text: "NO", ReceivedAt: recent, CreatedAt: recent},
		}
		db.Create(&replies)
		tl := []models.TimelineEntry{
			{AppointmentID: appt.ID, At: old, Kind: models.TimelineReply, Detail: `Reply by SMS: "YES see you" (confirmed)`},
			{AppointmentID: appt.ID, At: old, Kind: models.TimelineStaff, Detail: "Answered by SMS by boss: call us"},
			{AppointmentID: appt.ID, At: old, Kind: models.TimelineDelivery, Detail: "Reminder 48h delivered"},
			{AppointmentID: appt.ID, At: recent, Kind: models.TimelineReply, Detail: `Reply by SMS: "NO" (cancelled)`},
		}
		db.Create(&tl)
		hooks := []models.WebhookEvent{
			{Event: "receive_sms", DedupKey: "k-old", Raw: `{"from":"+12025550100","text":"YES"}`, ReceivedAt: old, ProcessedAt: &old},
			{Event: "receive_sms", DedupKey: "k-pending", Raw: `{"from":"+12025550100","text":"NO"}`, ReceivedAt: old},
			{Event: "receive_sms", DedupKey: "k-new", Raw: `{"text":"hi"}`, ReceivedAt: recent, ProcessedAt: &recent},
		}
		db.Create(&hooks)
		audits := []models.AuditEntry{
			{At: t0.Add(-3 * year), Actor: "boss", Action: "patient.create", Entity: "patient", EntityID: p.ID, Detail: "Ann (en)"},
			{At: t0.Add(-year), Actor: "boss", Action: "patient.update", Entity: "patient", EntityID: p.ID, Detail: "changed phone"},
		}
		db.Create(&audits)

		svc := retention.New(s, retention.Options{MessageText: year, Audit: 2 * year, Now: func() time.Time { return t0 }})
		r, err := svc.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Messages != 1 || r.Replies != 1 || r.Timeline != 2 || r.Webhooks != 1 || r.Audit != 1 {
			t.Fatalf("first run: %+v", r)
		}
		var ms []models.Message
		db.Order("id").Find(&ms)
		if ms[0].Body != "" || ms[1].Body != "Hi Ann" || ms[2].Body != "Hi Ann" {
			t.Fatalf("message bodies: %q %q %q", ms[0].Body, ms[1].Body, ms[2].Body)
		}
		var rs []models.InboundMessage
		db.Order("id").Find(&rs)
		if rs[0].Text != "" || rs[0].HandledNote != "" || rs[1].Text != "NO" {
			t.Fatalf("replies: %+v", rs)
		}
		var es []models.TimelineEntry
		db.Order("id").Find(&es)
		if es[0].Detail != models.RetainedText || es[1].Detail != models.RetainedText || es[2].Detail != "Reminder 48h delivered" || es[3].Detail != `Reply by SMS: "NO" (cancelled)` {
			t.Fatalf("timeline: %q %q %q %q", es[0].Detail, es[1].Detail, es[2].Detail, es[3].Detail)
		}
		var hs []models.WebhookEvent
		db.Order("id").Find(&hs)
		if hs[0].Raw != "{}" || hs[1].Raw == "{}" || hs[2].Raw == "{}" {
			t.Fatalf("webhook payloads: %q %q %q", hs[0].Raw, hs[1].Raw, hs[2].Raw)
		}
		var as []models.AuditEntry
		db.Where("action <> ?", "retention.apply").Order("id").Find(&as)
		if as[0].Detail != "" || as[0].Actor != "boss" || as[1].Detail != "changed phone" {
			t.Fatalf("audit: %+v", as)
		}
		var run models.AuditEntry
		if err := db.Where("action = ?", "retention.apply").Take(&run).Error; err != nil || run.Detail == "" {
			t.Fatalf("the run's audit row: %+v %v", run, err)
		}
		var ev models.Event
		if err := db.Where("type = ?", models.EventRetentionApplied).Take(&ev).Error; err != nil {
			t.Fatalf("the run's domain event: %v", err)
		}

		// Again: nothing to do, nothing written.
		r, err = svc.Run(ctx)
		if err != nil || r.Total()+r.Audit != 0 {
			t.Fatalf("second run: %+v %v", r, err)
		}
		var runs int64
		db.Model(&models.AuditEntry{}).Where("action = ?", "retention.apply").Count(&runs)
		if runs != 1 {
			t.Fatalf("%d audit rows of runs, want 1", runs)
		}

		// Zero keeps everything.
		keep := retention.New(s, retention.Options{Now: func() time.Time { return t0.Add(10 * year) }})
		if r, err := keep.Run(ctx); err != nil || r.Total()+r.Audit != 0 {
			t.Fatalf("retention off: %+v %v", r, err)
		}
	})
}
