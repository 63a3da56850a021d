package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// RetainedText replaces a timeline line that quoted a text once the text's
// retention period is over.
const RetainedText = "(text removed after the retention period)"

// retentionBatch is how many rows one write of the retention job changes:
// small enough that a writer waiting behind it (a webhook) waits little.
const retentionBatch = 500

// TextRetention counts what BlankTextsBefore blanked.
type TextRetention struct {
	Messages, Replies, Timeline, Webhooks int64
}

// Total is the number of rows blanked.
func (r TextRetention) Total() int64 { return r.Messages + r.Replies + r.Timeline + r.Webhooks }

// BlankTextsBefore blanks the personal texts older than cutoff: the bodies
// of messages created before it that are past sending (a planned or sending
// message still needs its text), the texts and staff notes of replies
// received before it, the timeline lines that quote a reply or a staff
// answer, and the payloads of webhook events received and processed before
// it (found by processed_at, the indexed one of the two). Rows are changed in small batches, each a short write
// of its own, so that the job never holds the database for long; running it
// again changes nothing.
func (s *Store) BlankTextsBefore(ctx context.Context, cutoff, now time.Time) (TextRetention, error) {
	cutoff, now = DBTime(cutoff), DBTime(now)
	var r TextRetention
	var err error
	if r.Messages, err = s.blankInBatches(ctx, &Message{},
		"created_at < ? AND body <> '' AND status NOT IN ?", []any{cutoff, []MessageStatus{MsgPlanned, MsgSending}},
		map[string]any{"body": "", "updated_at": now}); err != nil {
		return r, fmt.Errorf("store: retention of message texts: %w", err)
	}
	if r.Replies, err = s.blankInBatches(ctx, &InboundMessage{},
		"received_at < ? AND (text <> '' OR handled_note <> '')", []any{cutoff},
		map[string]any{"text": "", "handled_note": ""}); err != nil {
		return r, fmt.Errorf("store: retention of reply texts: %w", err)
	}
	if r.Timeline, err = s.blankInBatches(ctx, &TimelineEntry{},
		"at < ? AND (kind = ? OR detail LIKE ? OR detail LIKE ?) AND detail <> ?", []any{cutoff, TimelineReply, "Reply by SMS%", "Answered by SMS%", RetainedText},
		map[string]any{"detail": RetainedText}); err != nil {
		return r, fmt.Errorf("store: retention of timeline texts: %w", err)
	}
	if r.Webhooks, err = s.blankInBatches(ctx, &WebhookEvent{},
		"processed_at < ? AND received_at < ? AND raw <> '{}'", []any{cutoff, cutoff},
		map[string]any{"raw": "{}"}); err != nil {
		return r, fmt.Errorf("store: retention of webhook payloads: %w", err)
	}
	return r, nil
}

// BlankAuditDetailsBefore blanks the details of the audit entries written
// before cutoff (who did what to which row, and when, stay), in batches, and
// returns how many it blanked.
func (s *Store) BlankAuditDetailsBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := s.blankInBatches(ctx, &AuditEntry{}, "at < ? AND detail <> ''", []any{DBTime(cutoff)}, map[string]any{"detail": ""})
	if err != nil {
		return n, fmt.Errorf("store: retention of audit details: %w", err)
	}
	return n, nil
}

// blankInBatches applies cols to every row of model's table matching cond,
// retentionBatch rows per write, until none matches; cond must stop
// matching a row once cols are applied. It returns how many rows changed.
func (s *Store) blankInBatches(ctx context.Context, model any, cond string, args []any, cols map[string]any) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var ids []uint
		if err := s.conn(ctx).Model(model).Where(cond, args...).Order("id").Limit(retentionBatch).Pluck("id", &ids).Error; err != nil {
			return total, Classify(err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		var n int64
		err := s.write(ctx, func(db *gorm.DB) error {
			res := db.Model(model).Where("id IN ?", ids).Where(cond, args...).Updates(cols)
			n = res.RowsAffected
			return res.Error
		})
		if err != nil {
			return total, err
		}
		total += n
		if n == 0 {
			// Changed by someone else between the read and the write: leave
			// the rest to the next run rather than spin.
			return total, nil
		}
	}
}
