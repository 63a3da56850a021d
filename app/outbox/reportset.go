package outbox

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"apptconfirm/models"
)

// ApplyReports applies delivery reports in order, a set at a time, inside
// the transaction ctx carries: the messages they name are read in one
// query, each report is judged on the message as the reports before it
// left it (the same rule as ApplyReport), and the messages, their timeline
// lines and their domain events are written in a few statements. So the
// states are exactly those of applying the reports one by one.
//
// It stops after the first report that applies a REJECTED status, whose
// patient the caller opts out before handing it the rest, and returns how
// many reports it took (all of them when none stopped it). A message that
// changed meanwhile makes it fail with models.ErrConflict, and nothing of
// the set is written.
func (o *Outbox) ApplyReports(ctx context.Context, rs []Report) ([]ReportResult, int, error) {
	now := o.clock()
	var out []ReportResult
	err := o.store.Tx(ctx, func(ctx context.Context) error {
		var err error
		out, err = o.applyReports(ctx, rs, now)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("outbox: delivery reports: %w", err)
	}
	return out, len(out), nil
}

// reportKeys is how a report names its message: msgId, else trackData
// (empty when it cannot be looked up), as reportedMessage reads them.
func reportKeys(r Report) (msgID, trackData string) {
	if id := strings.TrimSpace(r.MsgID); id != "" && len(id) <= 36 {
		msgID = id
	}
	if td := strings.TrimSpace(r.TrackData); td != "" && len(td) <= 36 {
		trackData = td
	}
	return msgID, trackData
}

func (o *Outbox) applyReports(ctx context.Context, rs []Report, now time.Time) ([]ReportResult, error) {
	var pids, uuids []string
	for _, r := range rs {
		id, td := reportKeys(r)
		if id != "" {
			pids = append(pids, id)
		}
		if td != "" {
			uuids = append(uuids, td)
		}
	}
	loaded, err := o.store.MessagesForReports(ctx, pids, uuids)
	if err != nil {
		return nil, err
	}
	// byProvider holds the lowest id with each msgId, as
	// MessageByProviderID finds it; a report that fills in a msgId adds
	// its message for the reports after it.
	// read keeps each message as it was read, so that only the columns
	// the reports changed are written.
	read := make(map[uint]*models.Message, len(loaded))
	byID := make(map[uint]*models.Message, len(loaded))
	byProvider := make(map[string]*models.Message, len(loaded))
	byUUID := make(map[string]*models.Message, len(loaded))
	index := func(m *models.Message) {
		if m.ProviderID != "" {
			if cur, ok := byProvider[m.ProviderID]; !ok || m.ID < cur.ID {
				byProvider[m.ProviderID] = m
			}
		}
		byUUID[m.UUID] = m
	}
	was := slices.Clone(loaded)
	for i := range loaded {
		m := &loaded[i]
		byID[m.ID] = m
		read[m.ID] = &was[i]
		index(m)
	}
	from := map[uint]models.MessageStatus{}
	var changed []uint
	var timeline []models.TimelineEntry
	out := make([]ReportResult, 0, len(rs))
	for _, r := range rs {
		id, td := reportKeys(r)
		var m *models.Message
		via := ""
		if id != "" && byProvider[id] != nil {
			m, via = byProvider[id], "msgId"
		} else if td != "" && byUUID[td] != nil {
			m, via = byUUID[td], "trackData"
		}
		before := models.MessageStatus("")
		if m != nil {
			before = m.Status
		}
		res, w := decideReport(m, via, r, now)
		if w.update != nil {
			if _, ok := from[m.ID]; !ok {
				from[m.ID] = before
				changed = append(changed, m.ID)
			}
			index(m)
		}
		if w.timeline != nil {
			timeline = append(timeline, *w.timeline)
		}
		if w.event != nil {
			if err := o.store.Record(ctx, *w.event); err != nil {
				return nil, err
			}
		}
		if res.Message != nil {
			// The caller gets the message as this report left it.
			cp := *res.Message
			res.Message = &cp
		}
		out = append(out, res)
		if res.Applied && res.Message.Status == models.MsgRejected {
			break
		}
	}
	rows := make([]models.DeliveryRow, len(changed))
	for i, id := range changed {
		rows[i] = models.DeliveryRow{From: from[id], Message: byID[id], Was: read[id]}
	}
	if len(rows) > 0 {
		if err := o.store.UpdateDeliveries(ctx, rows); err != nil {
			return nil, err
		}
	}
	if err := o.store.AddTimeline(ctx, timeline...); err != nil {
		return nil, err
	}
	return out, nil
}
