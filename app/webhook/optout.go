package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"apptconfirm/app/clinic"
	"apptconfirm/app/live"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// applyOptout opts out the patients with the number a new_optout names
// (PRODUCT.md 2.6); OptOutTx cancels their pending messages. No SMS is sent:
// SMS.CX's opt-out page already told the patient.
func (p *Processor) applyOptout(ctx context.Context, tx *models.Store, raw []byte, now time.Time, out *outcome) error {
	var o smscx.NewOptout
	if err := json.Unmarshal(raw, &o); err != nil {
		out.result, out.flagged = "undecodable: "+err.Error(), true
		return nil
	}
	number := normalizeNumber(o.PhoneNumber, o.CountryISO)
	if number == "" {
		out.result, out.flagged = "unmatched: the opt-out names no phone number", true
		return nil
	}
	var patients []models.Patient
	if err := tx.DB(ctx).Where(&models.Patient{Phone: number}).Order("id").Find(&patients).Error; err != nil {
		return err
	}
	if len(patients) == 0 {
		out.result, out.flagged = "unmatched: no patient has this number", true
		return nil
	}
	source, actor := "smscx_link", clinic.PatientActor()
	if strings.EqualFold(strings.TrimSpace(o.OptoutType), smscx.OptoutTypeAdmin) {
		source, actor = "smscx_admin", clinic.SystemActor()
	}
	changed := 0
	for _, pt := range patients {
		if pt.OptedOut() {
			continue
		}
		if err := p.clinic.OptOutTx(ctx, tx, actor, pt.ID, source, now); err != nil {
			return err
		}
		changed++
		out.publish(live.Event{Kind: "optout", PatientID: pt.ID, Status: "opted_out", Detail: source})
	}
	if changed == 0 {
		out.result = "already opted out"
		return nil
	}
	out.result = fmt.Sprintf("opted out %d patient(s) (%s)", changed, source)
	return nil
}

// applyHit records a short-link click or attachment open on the timeline of
// the appointment whose message carried the link (PRODUCT.md 2.7): the
// message to that number in that campaign, else the latest message to that
// number about an appointment.
func (p *Processor) applyHit(ctx context.Context, tx *models.Store, event string, raw []byte, now time.Time, out *outcome) error {
	var h smscx.Hit
	if err := json.Unmarshal(raw, &h); err != nil {
		out.result, out.flagged = "undecodable: "+err.Error(), true
		return nil
	}
	base := strings.TrimSuffix(event, "_update")
	if base != event {
		// An update re-reports a hit: it adds nothing when the hit itself
		// was recorded, and stands in for it when the hit was lost.
		var n int64
		err := tx.DB(ctx).Model(&models.WebhookEvent{}).Where("dedup_key = ?", models.DedupKey(hitName(base, h.HitID))).Count(&n).Error
		if err != nil {
			return err
		}
		if n > 0 {
			out.result = "hit update: already recorded"
			return nil
		}
	}
	number := normalizeNumber(h.PhoneNumber, "")
	if number == "" {
		out.result = "unmatched: the hit names no phone number"
		return nil
	}
	m, err := hitMessage(ctx, tx, number, h.CampaignID)
	if err != nil {
		return err
	}
	if m == nil {
		out.result = "unmatched: no message about an appointment was sent to this number"
		return nil
	}
	kind, what := models.TimelineClick, "Link"
	if strings.HasPrefix(base, "attachment") {
		kind, what = models.TimelineOpen, "Attachment"
	}
	detail := what + " opened"
	if id := h.ID(); id != "" {
		detail += " (" + clip(id, 40) + ")"
	}
	if where := describeVisitor(&h); where != "" {
		detail += " on " + where
	}
	mid := m.ID
	err = clinic.RecordTimeline(ctx, tx, models.TimelineEntry{
		AppointmentID: *m.AppointmentID, At: now, Kind: kind, Detail: detail, MessageID: &mid,
	})
	if err != nil {
		return err
	}
	out.result = fmt.Sprintf("recorded on appointment %d", *m.AppointmentID)
	out.publish(live.Event{Kind: "appointment", AppointmentID: *m.AppointmentID, MessageID: m.ID, PatientID: deref(m.PatientID), Detail: kind})
	return nil
}

// hitMessage finds the message a hit came from.
func hitMessage(ctx context.Context, tx *models.Store, number, campaignID string) (*models.Message, error) {
	var m models.Message
	if c := strings.TrimSpace(campaignID); c != "" && len(c) <= 36 {
		err := models.Classify(tx.DB(ctx).Where(toNumber(number)).
			Where("campaign_id = ? AND appointment_id IS NOT NULL", c).Order("id DESC").Take(&m).Error)
		if err == nil {
			return &m, nil
		}
		if !errors.Is(err, models.ErrNotFound) {
			return nil, err
		}
	}
	err := models.Classify(tx.DB(ctx).Where(toNumber(number)).
		Where("appointment_id IS NOT NULL").
		Where(tx.DB(ctx).Where("sent_at IS NOT NULL").Or("status IN ?", sentStatuses)).
		Order("id DESC").Take(&m).Error)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// toNumber is the condition "messages.to = number"; "to" is a reserved word,
// so the column goes through GORM's quoting.
func toNumber(number string) clause.Expression {
	return clause.Eq{Column: clause.Column{Name: "to"}, Value: number}
}

// describeVisitor summarises the device of a hit for the timeline.
func describeVisitor(h *smscx.Hit) string {
	var parts []string
	for _, s := range []string{h.Device, h.OS, h.Browser, h.City} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, clip(cleanText(s), 40))
		}
	}
	return strings.Join(parts, ", ")
}
