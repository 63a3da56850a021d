package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/live"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// deliveryStatus maps an SMS.CX status onto ours. SCHEDULED is accepted
// (SMS.CX holds it); NO COVERAGE is a failure with its own reason.
func deliveryStatus(s string) (models.MessageStatus, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case smscx.StatusAccepted, smscx.StatusScheduled:
		return models.MsgAccepted, true
	case smscx.StatusSent:
		return models.MsgSent, true
	case smscx.StatusDelivered:
		return models.MsgDelivered, true
	case smscx.StatusFailed, smscx.StatusNoCoverage:
		return models.MsgFailed, true
	case smscx.StatusRejected:
		return models.MsgRejected, true
	}
	return "", false
}

// failureReason says in words why a message was not delivered. SMS.CX does
// not publish its error codes, so the code is shown as it came.
func failureReason(d *smscx.DLRUpdate) string {
	switch strings.ToUpper(strings.TrimSpace(d.Status)) {
	case smscx.StatusNoCoverage:
		return "Not delivered: SMS.CX has no coverage for this number"
	case smscx.StatusRejected:
		return "Rejected by SMS.CX: the number is on its opt-out list"
	}
	if d.ErrorCode != nil {
		return fmt.Sprintf("Not delivered: the carrier reported a failure (SMS.CX error code %d)", *d.ErrorCode)
	}
	return "Not delivered: the carrier reported a failure"
}

// findMessage matches a delivery report to our message: by msgId, else by
// trackData (our UUID, for a message whose msgId we never recorded).
func findMessage(ctx context.Context, tx *models.Store, d *smscx.DLRUpdate) (*models.Message, string, error) {
	var m models.Message
	if id := strings.TrimSpace(d.MsgID); id != "" && len(id) <= 36 {
		err := models.Classify(tx.DB(ctx).Scopes(models.ForUpdate(tx)).
			Where("provider_message_id = ?", id).Order("id").Take(&m).Error)
		if err == nil {
			return &m, "msgId", nil
		}
		if !errors.Is(err, models.ErrNotFound) {
			return nil, "", err
		}
	}
	if td := strings.TrimSpace(d.TrackData); td != "" && len(td) <= 36 {
		err := models.Classify(tx.DB(ctx).Scopes(models.ForUpdate(tx)).
			Where("uuid = ?", td).Take(&m).Error)
		if err == nil {
			return &m, "trackData", nil
		}
		if !errors.Is(err, models.ErrNotFound) {
			return nil, "", err
		}
	}
	return nil, "", nil
}

// applyDLR moves a message forward on a delivery report (QUALITY W4).
func (p *Processor) applyDLR(ctx context.Context, tx *models.Store, raw []byte, now time.Time, out *outcome) error {
	var d smscx.DLRUpdate
	if err := json.Unmarshal(raw, &d); err != nil {
		out.result, out.flagged = "undecodable: "+err.Error(), true
		return nil
	}
	m, via, err := findMessage(ctx, tx, &d)
	if err != nil {
		return err
	}
	if m == nil {
		// A report for a message we never sent: recorded, not applied.
		out.result, out.flagged = "unmatched: no message with this msgId or trackData", true
		return nil
	}
	// Cross-check the ids: SMS.CX signs nothing, so a report must agree with
	// what we sent.
	if via == "msgId" && d.TrackData != "" && d.TrackData != m.UUID {
		out.result, out.flagged = fmt.Sprintf("mismatch: msgId belongs to message %d but trackData does not", m.ID), true
		return nil
	}
	if via == "trackData" && m.ProviderID != "" && m.ProviderID != d.MsgID {
		out.result, out.flagged = fmt.Sprintf("mismatch: trackData is message %d, which has another msgId", m.ID), true
		return nil
	}
	next, ok := deliveryStatus(d.Status)
	if !ok {
		out.result, out.flagged = "unknown status "+clip(d.Status, 40), true
		return nil
	}
	upd := map[string]any{}
	if m.ProviderID == "" {
		upd["provider_message_id"] = d.MsgID
	}
	if m.CampaignID == "" && d.CampaignID != "" && len(d.CampaignID) <= 36 {
		upd["campaign_id"] = d.CampaignID
	}
	if !m.Status.AdvancesTo(next) {
		// Out of order or repeated: a final state never goes back.
		out.result = fmt.Sprintf("stale: message %d is already %s", m.ID, m.Status)
		if len(upd) > 0 {
			upd["updated_at"] = now
			return tx.DB(ctx).Model(&models.Message{}).Where("id = ?", m.ID).Updates(upd).Error
		}
		return nil
	}
	at := now
	if t, err := smscx.ParseTime(d.Datetime); err == nil {
		at = t
	}
	upd["status"] = next
	upd["provider_state"] = clip(strings.ToUpper(strings.TrimSpace(d.Status)), 16)
	upd["updated_at"] = now
	if m.SentAt == nil {
		upd["sent_at"] = at
	}
	detail := messageLabel(m)
	switch next {
	case models.MsgDelivered:
		upd["delivered_at"] = at
		detail += " delivered"
	case models.MsgFailed, models.MsgRejected:
		reason := failureReason(&d)
		upd["reason"] = reason
		upd["error_code"] = d.ErrorCode
		detail += ": " + reason
	case models.MsgSent:
		detail += " handed to the carrier"
	default:
		detail += " accepted by SMS.CX"
	}
	res := tx.DB(ctx).Model(&models.Message{}).Where("id = ? AND status = ?", m.ID, m.Status).Updates(upd)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("message %d changed meanwhile: %w", m.ID, models.ErrConflict)
	}
	if m.AppointmentID != nil {
		mid := m.ID
		err := clinic.RecordTimeline(ctx, tx, models.TimelineEntry{
			AppointmentID: *m.AppointmentID, At: now, Kind: models.TimelineDelivery, Detail: detail, MessageID: &mid,
		})
		if err != nil {
			return err
		}
	}
	out.result = "applied: " + string(next)
	out.publish(live.Event{
		Kind: "message", MessageID: m.ID, AppointmentID: deref(m.AppointmentID), PatientID: deref(m.PatientID),
		Status: string(next), Detail: detail,
	})
	if next == models.MsgRejected && m.PatientID != nil {
		// SMS.CX refuses numbers on its opt-out list (smscx-api.md 7.1):
		// the patient opted out there, so they are opted out here too.
		if err := p.clinic.OptOutTx(ctx, tx, clinic.SystemActor(), *m.PatientID, "rejected", now); err != nil {
			return err
		}
		out.publish(live.Event{Kind: "optout", PatientID: *m.PatientID, Status: "opted_out", Detail: "rejected"})
	}
	return nil
}

func deref(p *uint) uint {
	if p == nil {
		return 0
	}
	return *p
}
