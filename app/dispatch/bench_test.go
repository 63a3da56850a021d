package dispatch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/dispatch"
	"apptconfirm/app/outbox"
	"apptconfirm/app/smscx"
	"apptconfirm/app/smscx/smscxtest"
	"apptconfirm/app/texts"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// benchEnvInt reads a benchmark knob from the environment.
func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkDispatch measures dispatch: messages per second handed to the
// fake gateway over loopback HTTP, draining a backlog of due reminders
// (rendered at claim time) from a SQLite file, with no added latency and
// with 50 ms per request. Knobs: APPTCONFIRM_BENCH_BACKLOG (default
// 10000), APPTCONFIRM_BENCH_CONCURRENCY (default 64, the configuration's
// maximum) and APPTCONFIRM_BENCH_BATCH (default 500).
func BenchmarkDispatch(b *testing.B) {
	backlog := benchEnvInt("APPTCONFIRM_BENCH_BACKLOG", 10000)
	concurrency := benchEnvInt("APPTCONFIRM_BENCH_CONCURRENCY", 64)
	batch := benchEnvInt("APPTCONFIRM_BENCH_BATCH", 500)
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run("latency="+latency.String(), func(b *testing.B) {
			benchDispatch(b, backlog, concurrency, batch, latency)
		})
	}
}

func benchDispatch(b *testing.B, backlog, concurrency, batch int, latency time.Duration) {
	ctx := context.Background()
	fake := smscxtest.NewServer(smscxtest.Options{NoAutoDLR: true, MaxRecorded: -1})
	srv := httptest.NewServer(fake)
	b.Cleanup(func() {
		srv.Close()
		fake.Close()
	})
	fake.SetLatency(latency)
	transport := &http.Transport{MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2}
	client, err := smscx.New(smscx.Config{BaseURL: srv.URL, APIKey: smscxtest.DefaultAPIKey, HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: transport}})
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	sent := 0
	for range b.N {
		b.StopTimer()
		store := storetest.SQLite(b)
		now := time.Now()
		seedBacklog(b, store, backlog, now)
		d, err := dispatch.New(store, outbox.New(store, outbox.Options{}), dispatch.Options{
			Sender: client, From: "Clinic", CallbackURL: webhookURL,
			Concurrency: concurrency, BatchSize: batch, MaxAttempts: 6, Lease: 5 * time.Minute,
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for {
			n, err := d.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			sent += n
			if n == 0 {
				break
			}
		}
		total += time.Since(start)
		b.StopTimer()
		var left int64
		store.DB(ctx).Model(&models.Message{}).Where("status <> ?", models.MsgAccepted).Count(&left)
		if left != 0 {
			b.Fatalf("%d messages not accepted", left)
		}
		_ = store.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(sent)/total.Seconds(), "msgs/s")
	b.ReportMetric(0, "ns/op")
}

// seedBacklog inserts n due reminders, one per appointment, with empty
// bodies (so each is rendered when claimed).
func seedBacklog(b *testing.B, store *models.Store, n int, now time.Time) {
	b.Helper()
	db := store.DB(context.Background())
	loc := models.Location{Name: "Main St", TimeZone: "Europe/Paris", Country: "FR"}
	rule := models.ReminderRule{Name: "48h", BeforeSeconds: 48 * 3600, Enabled: true}
	patient := models.Patient{FirstName: "Ada", LastName: "Lovelace", Phone: "+33612345678", Language: "fr"}
	for _, v := range []any{&loc, &rule, &patient} {
		if err := db.Create(v).Error; err != nil {
			b.Fatal(err)
		}
	}
	// The rule's texts as a clinic has them: one per language, stored.
	for _, lang := range texts.Languages() {
		body, _ := texts.Default(texts.KindReminder, lang)
		if _, err := store.AddRuleTemplate(context.Background(), rule.ID, lang, body, now); err != nil {
			b.Fatal(err)
		}
	}
	const chunk = 500
	for i := 0; i < n; i += chunk {
		size := min(chunk, n-i)
		appts := make([]models.Appointment, size)
		for j := range appts {
			appts[j] = models.Appointment{PatientID: patient.ID, LocationID: loc.ID, StartsAt: now.Add(48 * time.Hour), DurationMinutes: 30, Status: models.Scheduled}
		}
		if err := db.Create(&appts).Error; err != nil {
			b.Fatal(err)
		}
		msgs := make([]models.Message, size)
		for j := range msgs {
			msgs[j] = models.Message{
				UUID: uuid.NewString(), AppointmentID: &appts[j].ID, PatientID: &patient.ID, RuleID: &rule.ID, RuleName: rule.Name,
				Kind: models.KindReminder, To: patient.Phone, Status: models.MsgPlanned, SendAt: now.Add(-time.Minute),
			}
		}
		if err := db.Create(&msgs).Error; err != nil {
			b.Fatal(err)
		}
	}
}
