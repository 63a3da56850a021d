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
	if m == nil {
		// A report for a message we never sent: recorded, not applied.
		return ReportResult{Text: "unmatched: no message with this msgId or trackData", Flagged: true}, nil
	}
	res := ReportResult{Message: m}
	if via == "msgId" && r.TrackData != "" && r.TrackData != m.UUID {
		res.Text, res.Flagged = fmt.Sprintf("mismatch: msgId belongs to message %d but trackData does not", m.ID), true
		return res, nil
	}
	if via == "trackData" && m.ProviderID != "" && m.ProviderID != r.MsgID {
		res.Text, res.Flagged = fmt.Sprintf("mismatch: trackData is message %d, which has another msgId", m.ID), true
		return res, nil
	}
	if r.Status == "" {
		res.Text, res.Flagged = "unknown status "+models.ClipBytes(r.RawStatus, 40), true
		return res, nil
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
			return res, o.store.UpdateDelivery(ctx, m.ID, m.Status, u, now)
		}
		return res, nil
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
	if err := o.store.UpdateDelivery(ctx, m.ID, m.Status, u, now); err != nil {
		return ReportResult{}, err
	}
	m.Status, m.ProviderState = r.Status, r.ProviderState
	if u.ProviderID != "" {
		m.ProviderID = u.ProviderID
	}
	if u.CampaignID != "" {
		m.CampaignID = u.CampaignID
	}
	if u.SentAt != nil {
		m.SentAt = u.SentAt
	}
	if u.DeliveredAt != nil {
		m.DeliveredAt = u.DeliveredAt
	}
	if u.Reason != "" {
		m.Reason, m.ErrorCode = models.Clip(u.Reason, 500), u.ErrorCode
	}
	if m.AppointmentID != nil {
		mid := m.ID
		err := o.store.AddTimeline(ctx, models.TimelineEntry{
			AppointmentID: *m.AppointmentID, At: now, Kind: models.TimelineDelivery, Detail: detail, MessageID: &mid,
		})
		if err != nil {
			return ReportResult{}, err
		}
	}
	if err := o.store.Record(ctx, MessageEvent(m, now, detail)); err != nil {
		return ReportResult{}, err
	}
	res.Text, res.Applied = "applied: "+string(r.Status), true
	return res, nil
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
