package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"apptconfirm/models"
)

// Report is a delivery report about one of our messages, in our terms.
type Report struct {
	// MsgID is SMS.CX's id of the message; TrackData is the UUID we gave
	// it (either may be empty).
	MsgID, TrackData, CampaignID string
	// Status is the state the report moves the message to ("" when the
	// report's status is not one we know: RawStatus is what it said), and
	// ProviderState SMS.CX's own word for it.
	Status        models.MessageStatus
	RawStatus     string
	ProviderState string
	// At is when it happened; zero means now.
	At time.Time
	// Reason and ErrorCode explain a failure.
	Reason    string
	ErrorCode *int
}

// ReportResult says what applying a report did.
type ReportResult struct {
	// Text is for the stored webhook event ("applied: delivered", "stale: …").
	Text string
	// Flagged marks a report that did not fit any message of ours.
	Flagged bool
	// Message is the message the report is about, as it now is; nil when
	// none matched. Applied is set when its state changed.
	Message *models.Message
	Applied bool
}

// ApplyReport applies a delivery report, inside the transaction ctx
// carries. The report is matched by msgId, else by trackData (our UUID, for
// a message whose msgId we never recorded), and the two must agree: SMS.CX
// signs nothing, so a report must fit what we sent. States only move
// forward, and a final state never changes, whatever the order reports
// arrive in; a report out of order still fills in ids we lacked.
func (o *Outbox) ApplyReport(ctx context.Context, r Report) (ReportResult, error) {
	now := o.clock()
	var out ReportResult
	err := o.store.Tx(ctx, func(ctx context.Context) error {
		var err error
		out, err = o.applyReport(ctx, r, now)
		return err
	})
	if err != nil {
		return ReportResult{}, fmt.Errorf("outbox: delivery report: %w", err)
	}
	return out, nil
}

func (o *Outbox) applyReport(ctx context.Context, r Report, now time.Time) (ReportResult, error) {
	m, via, err := o.reportedMessage(ctx, r)
	if err != nil {
		return ReportResult{}, err
	}
	var from models.MessageStatus
	if m != nil {
		from = m.Status
	}
	res, w := decideReport(m, via, r, now)
	if w.update != nil {
		if err := o.store.UpdateDelivery(ctx, m.ID, from, *w.update, now); err != nil {
			return ReportResult{}, err
		}
	}
	if w.timeline != nil {
		if err := o.store.AddTimeline(ctx, *w.timeline); err != nil {
			return ReportResult{}, err
		}
	}
	if w.event != nil {
		if err := o.store.Record(ctx, *w.event); err != nil {
			return ReportResult{}, err
		}
	}
	return res, nil
}

// reportWrites is what applying one report writes: the message's update,
// a timeline line and a domain event (each nil when there is none).
type reportWrites struct {
	update   *models.DeliveryUpdate
	timeline *models.TimelineEntry
	event    *models.Event
}

// decideReport is the rule of a delivery report about m (nil: none
// matched), found via "msgId" or "trackData": what it answers and what it
// writes. It moves m, in memory, to the state the writes leave it in, so
// that the next report about the same message is judged on it; the
// per-report and the set-based paths share it.
func decideReport(m *models.Message, via string, r Report, now time.Time) (ReportResult, reportWrites) {
	var w reportWrites
	if m == nil {
		// A report for a message we never sent: recorded, not applied.
		return ReportResult{Text: "unmatched: no message with this msgId or trackData", Flagged: true}, w
	}
	res := ReportResult{Message: m}
	if via == "msgId" && r.TrackData != "" && r.TrackData != m.UUID {
		res.Text, res.Flagged = fmt.Sprintf("mismatch: msgId belongs to message %d but trackData does not", m.ID), true
		return res, w
	}
	if via == "trackData" && m.ProviderID != "" && m.ProviderID != r.MsgID {
		res.Text, res.Flagged = fmt.Sprintf("mismatch: trackData is message %d, which has another msgId", m.ID), true
		return res, w
	}
	if r.Status == "" {
		res.Text, res.Flagged = "unknown status "+models.ClipBytes(r.RawStatus, 40), true
		return res, w
	}
	var u models.DeliveryUpdate
	if m.ProviderID == "" {
		u.ProviderID = r.MsgID
	}
	if m.CampaignID == "" && r.CampaignID != "" && len(r.CampaignID) <= 36 {
		u.CampaignID = r.CampaignID
	}
	if !m.Status.AdvancesTo(r.Status) {
		// Out of order or repeated: a final state never goes back.
		res.Text = fmt.Sprintf("stale: message %d is already %s", m.ID, m.Status)
		if u.ProviderID != "" || u.CampaignID != "" {
			w.update = &u
			applyDelivery(m, u, now)
		}
		return res, w
	}
	at := r.At
	if at.IsZero() {
		at = now
	}
	u.Status, u.ProviderState = r.Status, r.ProviderState
	if m.SentAt == nil {
		u.SentAt = &at
	}
	detail := Label(m)
	switch r.Status {
	case models.MsgDelivered:
		u.DeliveredAt = &at
		detail += " delivered"
	case models.MsgFailed, models.MsgRejected:
		u.Reason, u.ErrorCode = r.Reason, r.ErrorCode
		detail += ": " + r.Reason
	case models.MsgSent:
		detail += " handed to the carrier"
	default:
		detail += " accepted by SMS.CX"
	}
	w.update = &u
	applyDelivery(m, u, now)
	if m.AppointmentID != nil {
		mid := m.ID
		w.timeline = &models.TimelineEntry{
			AppointmentID: *m.AppointmentID, At: now, Kind: models.TimelineDelivery, Detail: detail, MessageID: &mid,
		}
	}
	ev := MessageEvent(m, now, detail)
	w.event = &ev
	res.Text, res.Applied = "applied: "+string(r.Status), true
	return res, w
}

// applyDelivery moves m, in memory, as models.Store.UpdateDelivery moves
// its row.
func applyDelivery(m *models.Message, u models.DeliveryUpdate, now time.Time) {
	m.UpdatedAt = models.DBTime(now)
	if u.ProviderID != "" {
		m.ProviderID = u.ProviderID
	}
	if u.CampaignID != "" {
		m.CampaignID = u.CampaignID
	}
	if u.Status != "" {
		if m.Status == models.MsgSending {
			m.LeaseUntil, m.InDoubt = nil, false
		}
		m.Status, m.ProviderState = u.Status, u.ProviderState
		if u.Reason != "" {
			m.Reason = models.Clip(u.Reason, 500)
		}
		if u.Status == models.MsgFailed || u.Status == models.MsgRejected {
			m.ErrorCode = u.ErrorCode
		}
	}
	if u.SentAt != nil {
		t := models.DBTime(*u.SentAt)
		m.SentAt = &t
	}
	if u.DeliveredAt != nil {
		t := models.DBTime(*u.DeliveredAt)
		m.DeliveredAt = &t
	}
}

// reportedMessage finds the message a report is about: by msgId, else by
// trackData; via says which matched.
func (o *Outbox) reportedMessage(ctx context.Context, r Report) (*models.Message, string, error) {
	if id := strings.TrimSpace(r.MsgID); id != "" && len(id) <= 36 {
		m, err := o.store.MessageByProviderID(ctx, id)
		if err == nil {
			return m, "msgId", nil
		}
		if !errors.Is(err, models.ErrNotFound) {
			return nil, "", err
		}
	}
	if td := strings.TrimSpace(r.TrackData); td != "" && len(td) <= 36 {
		m, err := o.store.MessageByUUID(ctx, td)
		if err == nil {
			return m, "trackData", nil
		}
		if !errors.Is(err, models.ErrNotFound) {
			return nil, "", err
		}
	}
	return nil, "", nil
}
