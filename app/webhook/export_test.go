package webhook

import (
	"context"
	"time"

	"apptconfirm/models"
)

// What the external tests of this package (package webhook_test, which may
// import the services that apply events) need of its internals.

// GroupTimeout is groupTimeout.
const GroupTimeout = groupTimeout

// MaxLag is maxLag.
const MaxLag = maxLag

// DecodeBatch reports whether body decodes as a webhook batch.
func DecodeBatch(body []byte) error {
	_, err := decodeBatch(body)
	return err
}

// Sum is sum.
func Sum(s string) string { return sum(s) }

// Begin and End mark a request being stored, as the Receiver does.
func (t *Traffic) Begin() { t.begin() }

// End is the end of what Begin began.
func (t *Traffic) End() { t.end() }

// LagLeft is lagLeft.
func (p *Processor) LagLeft(oldest time.Time) time.Duration { return p.lagLeft(oldest) }

// ProcessPageAfter is processPage after a batch that took took, begun when
// the receiver had begun what it has now; it also returns how many times
// it gave way.
func (p *Processor) ProcessPageAfter(ctx context.Context, page []models.WebhookEvent, took time.Duration) (applied, pauses int, err error) {
	pc := &pace{mark: p.traffic.mark(), took: took}
	applied, err = p.processPage(ctx, page, pc)
	return applied, pc.pauses, err
}

// SetGroupTimeout changes the group commit's timeout.
func (r *Receiver) SetGroupTimeout(d time.Duration) { r.group.timeout = d }

// FuzzSeeds are the bodies the fuzz tests start from.
var FuzzSeeds = fuzzSeeds

// SetPageSize makes p read n pending events at a time.
func (p *Processor) SetPageSize(n int) { p.pageSize = n }

// SetPartitionSalt changes which numbers share a worker, until restore.
func SetPartitionSalt(salt uint64) (restore func()) {
	old := partitionSalt
	partitionSalt = salt
	return func() { partitionSalt = old }
}

// ShareOf is shareOf.
func ShareOf(key string, n int) int { return shareOf(key, n) }

// RunCap is how many events one set of p holds at most.
func (p *Processor) RunCap() int { return p.runCap }
