package webhook_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"apptconfirm/app/webhook"
	"apptconfirm/models"
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
			return map[string]any{
				"hitId": rng.IntN(1 << 20), "optoutId": "aB3", "optoutUrl": "https://x", "optoutType": "link",
				"countryIso": "DE", "datetime": "2026-03-02 09:00:00", "phoneNumber": phone(), "campaignId": nil, "groupId": nil,
			}
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
// time with one worker and set-based with one; on PostgreSQL also with
// four workers, which regroup each share around its opt-outs by number,
// under several partition salts (so that different numbers share a
// worker), compared by bothPaths.
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
