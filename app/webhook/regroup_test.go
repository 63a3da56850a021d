package webhook_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"apptconfirm/app/smscx"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// floodStream is a recorded stream about f shaped like a flood: single
// events and small batches of every kind, in random order, with opt-outs,
// STOPs and STARTs among the replies and delivery reports of each number,
// REJECTED reports, and hits. Built from a fixed seed, it is the same in
// every database.
func floodStream(f mixedFixture) []string {
	rng := rand.New(rand.NewPCG(20, 12))
	statuses := []string{"SENT", "DELIVERED", "DELIVERED", "FAILED", "REJECTED", "ACCEPTED"}
	texts := []string{"YES", "NO", "STOP", "START", "yes please", "What time was it?", "HELP"}
	phone := func() string { return f.phones[rng.IntN(len(f.phones))] }
	item := func(event string) any {
		switch event {
		case "dlr_update":
			return dlrItem(f.msgs[rng.IntN(len(f.msgs))], statuses[rng.IntN(len(statuses))], nil)
		case "receive_sms":
			return smsItem(phone(), texts[rng.IntN(len(texts))])
		case "new_optout":
			return optoutItem(rng.IntN(1<<20), phone())
		default:
			return map[string]any{"hitId": rng.IntN(1 << 20), "shortlinkId": "bVc", "device": "mobile", "city": "Berlin", "phoneNumber": phone()}
		}
	}
	kinds := []string{"dlr_update", "dlr_update", "dlr_update", "dlr_update", "dlr_update", "receive_sms", "receive_sms", "new_optout", "shortlink_hit"}
	var out []string
	for range 150 {
		event := kinds[rng.IntN(len(kinds))]
		items := make([]any, 1+rng.IntN(3))
		for i := range items {
			items[i] = item(event)
		}
		out = append(out, envelope(event, items...))
	}
	return out
}

// A flood of mixed events leaves the same rows applied one event at a
// time with one worker and set-based with one, which regroups its page
// around its opt-outs by number; on PostgreSQL also with four workers,
// each regrouping its share the same way, under several partition salts
// (so that different numbers share a worker). bothPaths compares them.
func TestFloodAppliedByWorkersMatchesPerEvent(t *testing.T) {
	eachStore(t, func(t *testing.T, _ *models.Store) {
		salts := []uint64{0}
		if strings.HasSuffix(t.Name(), "postgres") {
			salts = []uint64{0, 1, 2}
		}
		shared := false
		for _, salt := range salts {
			restore := webhook.SetPartitionSalt(salt)
			t.Cleanup(restore) // should bothPaths stop the test
			_, set := bothPaths(t, func(e *env) []string {
				f := buildMixedFixture(e)
				seen := map[int]bool{}
				for _, ph := range f.phones {
					share := webhook.ShareOf(strings.TrimPrefix(ph, "+"), 4)
					shared = shared || seen[share]
					seen[share] = true
				}
				return floodStream(f)
			}, nil)
			restore()
			results := strings.Join(set["webhook_events"], "\n")
			for _, want := range []string{"applied: delivered", "opted out", "already opted out", "inbox"} {
				if !strings.Contains(results, want) {
					t.Errorf("salt %d: no stored result says %q:\n%s", salt, want, results)
				}
			}
		}
		if len(salts) > 1 && !shared {
			t.Error("no salt put two numbers in one share: the regrouping across numbers went untested")
		}
	})
}

// sizer records the length of every set its applier is given.
type sizer struct {
	webhook.BatchApplier
	sizes *[]int
}

func (s sizer) ApplyBatch(ctx context.Context, event string, raws [][]byte) ([]webhook.Result, error) {
	*s.sizes = append(*s.sizes, len(raws))
	return s.BatchApplier.ApplyBatch(ctx, event, raws)
}

// Replies from many numbers, with opt-outs among them, are regrouped into
// sets longer than the stretches between the opt-outs, but no set is
// longer than the processor's cap on a run (shorter on SQLite, where a
// set holds the one writer).
func TestSetsAreRegroupedAndCapped(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		f := buildMixedFixture(e)
		var items []any
		for i := range 250 {
			items = append(items, smsItem(fmt.Sprintf("+49151770%05d", i), "hello"))
			if i%10 == 9 {
				e.mustPost(envelope("receive_sms", items...))
				e.mustPost(envelope("new_optout", optoutItem(i, f.phones[i%len(f.phones)])))
				items = nil
			}
		}
		as := appliers(s, e.clinic, e.ob, e.clock.Now)
		var sizes []int
		as[smscx.EventReceiveSMS] = sizer{as[smscx.EventReceiveSMS].(webhook.BatchApplier), &sizes}
		proc, err := webhook.NewProcessor(webhook.ProcessorOptions{Store: s, Appliers: as, Now: e.clock.Now, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := proc.ProcessPending(e.ctx); err != nil || n != 275 {
			t.Fatalf("processed %d, %v; want 275", n, err)
		}
		total, longest := 0, 0
		for _, n := range sizes {
			total += n
			longest = max(longest, n)
		}
		if want := min(250, proc.RunCap()); total != 250 || longest != want {
			t.Errorf("replies applied in sets of %v (%d in all), want 250 in sets of at most %d, one that long", sizes, total, want)
		}
		if want := 32; s.Driver() == models.DriverSQLite && proc.RunCap() != want {
			t.Errorf("a run on SQLite is capped at %d events, want %d", proc.RunCap(), want)
		}
	})
}

// panicker panics applying an item with "boom" in it, alone or in a set.
type panicker struct{ webhook.BatchApplier }

func (p panicker) Apply(ctx context.Context, event string, raw []byte) (webhook.Result, error) {
	if strings.Contains(string(raw), "boom") {
		panic("applier bug")
	}
	return p.BatchApplier.Apply(ctx, event, raw)
}

func (p panicker) ApplyBatch(ctx context.Context, event string, raws [][]byte) ([]webhook.Result, error) {
	for _, raw := range raws {
		if strings.Contains(string(raw), "boom") {
			panic("applier bug")
		}
	}
	return p.BatchApplier.ApplyBatch(ctx, event, raws)
}

// An applier's panic fails its event as an error would, whether the page is
// keyed or not and with one worker or four: the rest of its set is applied,
// the event is counted a failed attempt each pass and set aside after the
// last, and the writer is free for the next pass.
func TestApplierPanicFailsItsEvent(t *testing.T) {
	eachStore(t, func(t *testing.T, first *models.Store) {
		workerCounts := []int{1}
		if first.Driver() == models.DriverPostgres {
			workerCounts = []int{1, 4}
		}
		for _, workers := range workerCounts {
			for _, keyed := range []bool{false, true} {
				s := storetest.SQLite(t)
				if first.Driver() == models.DriverPostgres {
					s = storetest.Postgres(t)
				}
				e := newEnv(t, s)
				f := buildMixedFixture(e)
				e.mustPost(envelope("receive_sms", smsItem(f.phones[0], "YES"), smsItem(f.phones[1], "boom")))
				if keyed {
					e.mustPost(envelope("new_optout", optoutItem(1, f.phones[2])))
				}
				as := appliers(s, e.clinic, e.ob, e.clock.Now)
				as[smscx.EventReceiveSMS] = panicker{as[smscx.EventReceiveSMS].(webhook.BatchApplier)}
				proc, err := webhook.NewProcessor(webhook.ProcessorOptions{Store: s, Appliers: as, Now: e.clock.Now, Workers: workers, MaxAttempts: 2})
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("workers %d, keyed %v", workers, keyed)
				for pass := 1; pass <= 2; pass++ {
					short, cancel := context.WithTimeout(e.ctx, 5*time.Second)
					_, err := proc.ProcessPending(short)
					cancel()
					if err != nil {
						t.Fatalf("%s: pass %d: %v", name, pass, err)
					}
				}
				if n := e.count(&models.WebhookEvent{}, "processed_at IS NULL"); n != 0 {
					t.Errorf("%s: %d events still pending after two passes", name, n)
				}
				if n := e.count(&models.WebhookEvent{}, "event = ? AND processed_at IS NOT NULL AND flagged = ? AND attempts = 2 AND result LIKE ?",
					smscx.EventReceiveSMS, true, "failed after 2 attempts: %panicked: applier bug%"); n != 1 {
					t.Errorf("%s: %d replies set aside after two panics, want the one", name, n)
				}
				if n := e.count(&models.WebhookEvent{}, "event = ? AND processed_at IS NOT NULL AND result NOT LIKE ?", smscx.EventReceiveSMS, "failed%"); n != 1 {
					t.Errorf("%s: %d replies applied beside the one that panicked, want the YES", name, n)
				}
			}
		}
	})
}

// A panic in the pass itself, outside any applier (here from the clock,
// which the pass reads before its first page), fails that pass with an
// error instead of ending the process; nothing is lost, and the next pass
// applies what is pending.
func TestPassPanicFailsThePass(t *testing.T) {
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	f := buildMixedFixture(e)
	e.mustPost(envelope("receive_sms", smsItem(f.phones[0], "YES")))
	var armed atomic.Bool
	now := func() time.Time {
		if armed.CompareAndSwap(true, false) {
			panic("clock bug")
		}
		return e.clock.Now()
	}
	proc, err := webhook.NewProcessor(webhook.ProcessorOptions{Store: s, Appliers: appliers(s, e.clinic, e.ob, now), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	if _, err := proc.ProcessPending(e.ctx); err == nil || !strings.Contains(err.Error(), "panicked: clock bug") {
		t.Fatalf("pass with a panic: err %v, want one naming the panic", err)
	}
	if n := e.count(&models.WebhookEvent{}, "processed_at IS NULL"); n != 1 {
		t.Fatalf("%d events pending after the failed pass, want the reply", n)
	}
	n, err := proc.ProcessPending(e.ctx)
	if err != nil || n != 1 {
		t.Fatalf("next pass: applied %d, err %v; want the reply", n, err)
	}
	if n := e.count(&models.WebhookEvent{}, "processed_at IS NULL"); n != 0 {
		t.Fatalf("%d events still pending", n)
	}
}

// shorter loses the last result of every set it applies.
type shorter struct{ webhook.BatchApplier }

func (s shorter) ApplyBatch(ctx context.Context, event string, raws [][]byte) ([]webhook.Result, error) {
	res, err := s.BatchApplier.ApplyBatch(ctx, event, raws)
	return res[:len(res)-1], err
}

// A set applier that gives fewer results than events fails its set, whose
// events are then applied one by one, each with its own result.
func TestSetWithTooFewResultsGoesOneByOne(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		f := buildMixedFixture(e)
		e.mustPost(envelope("receive_sms", smsItem(f.phones[0], "YES"), smsItem(f.phones[1], "hello"), smsItem(f.phones[2], "NO")))
		as := appliers(s, e.clinic, e.ob, e.clock.Now)
		as[smscx.EventReceiveSMS] = shorter{as[smscx.EventReceiveSMS].(webhook.BatchApplier)}
		proc, err := webhook.NewProcessor(webhook.ProcessorOptions{Store: s, Appliers: as, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := proc.ProcessPending(e.ctx); err != nil || n != 3 {
			t.Fatalf("processed %d, %v; want 3", n, err)
		}
		if n := e.count(&models.WebhookEvent{}, "processed_at IS NOT NULL AND attempts = 1 AND flagged = ? AND result NOT LIKE ?", false, "error%"); n != 3 {
			t.Errorf("%d replies applied once each, want 3", n)
		}
		if n := e.count(&models.InboundMessage{}, "1 = 1"); n != 3 {
			t.Errorf("%d inbound messages stored, want 3 (the set's were rolled back)", n)
		}
	})
}
