package webhook_test

import (
	"fmt"
	"testing"
	"time"

	"apptconfirm/app/smscx"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// BenchmarkProcessOptOuts measures how many stored new_optout events per
// second the webhook.Processor applies on SQLite, each from the number of
// a patient of its own with an upcoming appointment (its reminders
// planned), posted 200 to a body, so that they come as runs of opt-outs;
// through the per-event path and the set-based one. Receiving is not
// timed.
func BenchmarkProcessOptOuts(b *testing.B) {
	benchProcessOptOuts(b, func(b *testing.B) *models.Store { return storetest.SQLite(b) })
}

// BenchmarkProcessOptOutsPostgres is BenchmarkProcessOptOuts on PostgreSQL.
func BenchmarkProcessOptOutsPostgres(b *testing.B) {
	benchProcessOptOuts(b, func(b *testing.B) *models.Store { return storetest.Postgres(b) })
}

func benchProcessOptOuts(b *testing.B, open func(b *testing.B) *models.Store) {
	for _, path := range []struct {
		name     string
		perEvent bool
	}{{"per-event", true}, {"set-based", false}} {
		b.Run(path.name, func(b *testing.B) {
			e := newEnv(b, open(b))
			var items []any
			flush := func() {
				if len(items) > 0 {
					e.mustPost(envelope(smscx.EventNewOptout, items...))
				}
				items = items[:0]
			}
			for i := range b.N {
				p := e.patient(fmt.Sprintf("P%d", i), fmt.Sprintf("+4915100%06d", i))
				e.appointment(p, time.Duration(48+i%24)*time.Hour)
				items = append(items, map[string]any{
					"hitId": i, "optoutId": fmt.Sprintf("o%d", i), "optoutUrl": "https://x", "optoutType": "link",
					"countryIso": "DE", "datetime": "2026-03-02 09:00:00", "phoneNumber": p.Phone,
				})
				if len(items) == 200 {
					flush()
				}
			}
			flush()
			n, cpu := timeProcessing(b, e, path.perEvent, nil)
			if n != b.N {
				b.Fatalf("applied %d of %d", n, b.N)
			}
			if got := e.count(&models.Patient{}, "opted_out_at IS NOT NULL"); got != int64(b.N) {
				b.Fatalf("%d patients opted out, want %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
		})
	}
}
