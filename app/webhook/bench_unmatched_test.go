package webhook_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// BenchmarkProcessUnmatched measures applying delivery reports that name no
// message of ours (random msgIds, as in the webhook flood of the HTTP
// benchmark) on SQLite, set-based: each is looked up, found nowhere and
// marked processed. Receiving is not timed.
func BenchmarkProcessUnmatched(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	p := e.patient("Ada", "+4915100000009")
	a := e.appointment(p, 48*time.Hour)
	// Messages to look past, as a clinic's database holds them: sent ones
	// with their msgId, planned ones without one yet; and the planner's
	// statistics, as a seeded (or long-running) database has them.
	now := e.clock.Now().UTC()
	var msgs []models.Message
	for i := range 20000 {
		m := models.Message{
			UUID: uuid.NewString(), AppointmentID: &a.ID, PatientID: &a.PatientID, RuleName: "48h",
			Kind: models.KindReminder, To: p.Phone, Body: "Reminder", Status: models.MsgPlanned, SendAt: now,
		}
		if i%2 == 0 {
			m.Status, m.SentAt, m.ProviderID, m.CampaignID = models.MsgAccepted, &now, uuid.NewString(), uuid.NewString()
		}
		msgs = append(msgs, m)
	}
	if err := e.store.DB(e.ctx).CreateInBatches(msgs, 500).Error; err != nil {
		b.Fatal(err)
	}
	if err := e.store.Analyze(e.ctx); err != nil {
		b.Fatal(err)
	}
	for start := 0; start < b.N; start += 200 {
		var body []byte
		body = append(body, `{"event":"dlr_update","data":[`...)
		for i := range min(200, b.N-start) {
			if i > 0 {
				body = append(body, ',')
			}
			body = appendItem(body, uuid.NewString())
		}
		body = append(body, "]}"...)
		e.mustPost(string(body))
	}
	n, cpu := timeProcessing(b, e, false, nil)
	if n != b.N {
		b.Fatalf("processed %d of %d", n, b.N)
	}
	if got := e.count(&models.WebhookEvent{}, "result LIKE ?", "unmatched:%"); got != int64(b.N) {
		b.Fatalf("%d events unmatched, want %d", got, b.N)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
}
