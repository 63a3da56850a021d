package webhook_test

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"apptconfirm/app/smscx"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// BenchmarkProcessMix measures the set-based processor on the sustained
// mix of events on SQLite, where runs of one type are short: 70% delivery
// reports (SENT, DELIVERED or FAILED, often stale) about 2,000 real
// messages, 25% replies, 2.5% opt-outs and 2.5% link clicks. Replies are
// left without an applier (stored "ignored"), so that what is timed is
// the processor and app/delivery: a reply's claim and result, not the
// conversation it starts.
func BenchmarkProcessMix(b *testing.B) {
	benchProcessMix(b, func(b *testing.B) *models.Store { return storetest.SQLite(b) })
}

// BenchmarkProcessMixPostgres is BenchmarkProcessMix on PostgreSQL.
func BenchmarkProcessMixPostgres(b *testing.B) {
	benchProcessMix(b, func(b *testing.B) *models.Store { return storetest.Postgres(b) })
}

func benchProcessMix(b *testing.B, open func(b *testing.B) *models.Store) {
	e := newEnv(b, open(b))
	var msgs []*models.Message
	var phones []string
	for i := range 200 {
		p := e.patient(fmt.Sprintf("Pat%d", i), fmt.Sprintf("+49151%08d", i))
		a := e.appointment(p, 48*time.Hour)
		phones = append(phones, p.Phone)
		for range 10 {
			msgs = append(msgs, e.sentReminder(a, p.Phone))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var event string
	var items []any
	flush := func() {
		if len(items) > 0 {
			e.mustPost(envelope(event, items...))
		}
		items = items[:0]
	}
	add := func(ev string, item any) {
		if ev != event || len(items) == 200 {
			flush()
			event = ev
		}
		items = append(items, item)
	}
	for n := range b.N {
		switch r := rng.IntN(1000); {
		case r < 700:
			status := []string{"SENT", "DELIVERED", "DELIVERED", "DELIVERED", "FAILED"}[rng.IntN(5)]
			add(smscx.EventDLRUpdate, dlrItem(msgs[rng.IntN(len(msgs))], status, nil))
		case r < 950:
			add(smscx.EventReceiveSMS, smsItem(phones[rng.IntN(len(phones))], "YES"))
		case r < 975:
			add(smscx.EventNewOptout, map[string]any{
				"hitId": n, "optoutId": "aB3", "optoutUrl": "https://x", "optoutType": "link",
				"countryIso": "DE", "datetime": "2026-03-02 09:00:00", "phoneNumber": phones[rng.IntN(len(phones))],
			})
		default:
			add(smscx.EventShortlinkHit, map[string]any{
				"hitId": n, "shortlinkId": "bVc", "device": "mobile", "city": "Berlin", "phoneNumber": phones[rng.IntN(len(phones))],
			})
		}
	}
	flush()
	as := appliers(e.store, e.clinic, e.ob, e.clock.Now)
	delete(as, smscx.EventReceiveSMS)
	n, cpu := timeProcessing(b, e, false, as)
	// Reports repeated by chance (same message, same status) were stored
	// once.
	if stored := e.count(&models.WebhookEvent{}); int64(n) != stored {
		b.Fatalf("applied %d of %d", n, stored)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/event")
}

// cpuTime is the CPU time the process has used so far (user and system):
// on a shared machine a fairer measure of a benchmark's cost than the
// wall clock.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
