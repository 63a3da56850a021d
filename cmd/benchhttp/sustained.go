package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"apptconfirm/models"
)

// runSustained offers o.rate single-event webhooks per second for
// o.sustainFor to each build on each database, and reports what was
// acknowledged, the answers' p99, the apply lag and the peak RSS.
func runSustained(ctx context.Context, o options) error {
	fmt.Printf("sustained: %d events/s offered for %s, single-event bodies: 70%% delivery reports, 25%% replies, 5%% opt-outs and clicks, about real seeded messages and patients (%d appointments)\n",
		o.rate, o.sustainFor, o.seedCount)
	fmt.Printf("lag = from the 200 of a delivery report about a real message to GET /api/v1/appointments/{id} showing it delivered (%d samples)\n", o.samples)
	fmt.Printf("cpu/event = CPU time (user + system) during the offer / events answered, of the server and of this sender\n\n")
	fmt.Printf("%-9s %-10s %9s %9s %9s %9s %8s %26s %8s %16s %s\n",
		"database", "build", "offered/s", "acked/s", "p50", "p99", "non-200", "lag p50 / p99 / max", "peak RSS", "cpu/event srv/snd", "load (1/5/15 min)")
	for _, db := range o.dbs {
		for _, bin := range o.bins {
			s, err := startServe(ctx, bin, db, o.pgDSN, o.seedCount, 1_000_000, o.keep)
			if err != nil {
				return err
			}
			if len(s.targets) <= o.samples {
				s.stop()
				return fmt.Errorf("only %d seeded messages to report on: raise -seed", len(s.targets))
			}
			lagTargets, flood := s.targets[:o.samples], s.targets[o.samples:]
			s.targets = lagTargets
			load := loadAvg()
			lagCtx, stopLag := context.WithCancel(ctx)
			lagDone := make(chan lagStats, 1)
			go func() { lagDone <- measureLag(lagCtx, s, o.sustainFor) }()
			serverCPU, senderCPU := s.cpuTime(), selfCPUTime()
			res := offer(ctx, s.url+"/webhooks/smscx/"+secret, flood, o.rate, o.sustainFor)
			serverCPU, senderCPU = s.cpuTime()-serverCPU, selfCPUTime()-senderCPU
			lag := waitLag(lagDone, stopLag, 30*time.Second)
			s.stop()
			events := time.Duration(max(1, res.total))
			fmt.Printf("%-9s %-10s %9.0f %9.0f %9s %9s %8d %26s %6.0fMB %8s / %-5s %s\n",
				db, bin.name, res.offered, res.acked, ms(res.p50), ms(res.p99), res.non200, lag.String(),
				float64(s.peakRSS.Load())/(1<<20), us(serverCPU/events), us(senderCPU/events), load)
			if o.lagTrace {
				fmt.Print(lag.traceString())
			}
			if res.late > 0 {
				fmt.Printf("  (%d events due were not offered: all %d connections were waiting for answers, so the server took less than the rate)\n", res.late, workers)
			}
		}
	}
	return nil
}

// workers is how many connections the sustained sender keeps.
const workers = 256

type offerResult struct {
	offered, acked      float64
	p50, p99            time.Duration
	non200, late, total int64
}

// offer sends rate events per second for d from an open-loop sender: events
// are due at fixed times whatever the answers take, and a pool of
// connections sends them.
func offer(ctx context.Context, url string, targets []models.LoadTarget, rate int, d time.Duration) offerResult {
	jobs := make(chan string, rate)
	var acked, non200, late atomic.Int64
	var mu sync.Mutex
	var lats []time.Duration
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			poster, err := newRawPoster(url, 30*time.Second)
			if err != nil {
				panic(err) // url is built by runSustained
			}
			defer poster.close()
			for body := range jobs {
				t0 := time.Now()
				status, err := poster.post(body)
				if err != nil || status != http.StatusOK {
					non200.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
				acked.Add(1)
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	sent := int64(0)
	tick := time.NewTicker(time.Millisecond)
	for now := range tick.C {
		if ctx.Err() != nil || now.Sub(start) >= d {
			break
		}
		due := int64(now.Sub(start).Seconds() * float64(rate))
		for ; sent < due; sent++ {
			select {
			case jobs <- mixedEvent(rng, targets, sent):
			default:
				late.Add(1)
			}
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lats)
	// Events the sender could not hand to a connection on time (all of
	// them waiting for answers) were never offered: counted apart.
	r := offerResult{
		offered: float64(sent-late.Load()) / d.Seconds(), acked: float64(acked.Load()) / elapsed.Seconds(),
		non200: non200.Load(), late: late.Load(), total: acked.Load() + non200.Load(),
	}
	if len(lats) > 0 {
		r.p50, r.p99 = lats[len(lats)/2], lats[min(len(lats)-1, len(lats)*99/100)]
	}
	return r
}

var replyTexts = []string{"YES", "Yes", "C", "NO", "ok thanks", "Can I come later?", "1", "HELP"}

// mixedEvent is the body of event n: 70% delivery reports, 25% replies,
// 2.5% opt-outs and 2.5% link clicks, each about a random target.
func mixedEvent(rng *rand.Rand, targets []models.LoadTarget, n int64) string {
	t := targets[rng.IntN(len(targets))]
	id := "b" + strconv.FormatInt(n, 10) + "-" + strconv.FormatUint(rng.Uint64(), 16)
	now := time.Now().UTC().Format("2006-01-02 15:04:05")
	switch r := rng.IntN(1000); {
	case r < 700:
		status := []string{"SENT", "DELIVERED", "DELIVERED", "DELIVERED", "FAILED"}[rng.IntN(5)]
		return dlrBody(t.ProviderID, t.UUID, status)
	case r < 950:
		// A reply rarely says NO, so that most appointments stay to be
		// answered.
		text := replyTexts[rng.IntN(len(replyTexts))]
		return `{"event":"receive_sms","data":[{"msgId":"` + id + `","from":"` + t.To + `","countryIso":"US","to":"Clinic","text":"` +
			text + `","cost":0,"receivedAt":"` + now + `"}]}`
	case r < 975:
		return `{"event":"new_optout","data":[{"hitId":` + strconv.FormatInt(n, 10) + `,"optoutId":"aB3","optoutUrl":"https://example.com/o","optoutType":"link","countryIso":"US","datetime":"` +
			now + `","phoneNumber":"` + t.To + `","campaignId":null,"groupId":null}]}`
	default:
		return `{"event":"shortlink_hit","data":[{"hitId":` + strconv.FormatInt(n, 10) + `,"shortlinkId":"bVc","url":"https://en.ax/bVc/r2N","device":"mobile","browser":"Chrome","browserVersion":"110.0","os":"Android","osVersion":"13","brand":"Samsung","model":"S8","screenResolution":"1080x2220","acceptLanguage":"en-US","referrer":null,"ipAddress":"204.79.200.0","countryIso":"US","city":"Boston","datetime":"` +
			now + `","phoneNumber":"` + t.To + `","campaignId":null,"groupId":null}]}`
	}
}

// selfCPUTime is the CPU time (user and system) this process has used so far.
func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
