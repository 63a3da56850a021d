package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ErasedText replaces a free text that was erased with its patient (a
// timeline line, an audit detail).
const ErasedText = "(erased with the patient's data)"

// ErasedReason is the reason of the pending messages an erasure cancels.
const ErasedReason = "the patient was erased"

// Erasure says what ErasePatient changed, in counts only: the audit row of
// an erasure must not hold what was erased.
type Erasure struct {
	PatientID uint
	// Appointments kept (with their notes blanked), messages blanked (of
	// them Cancelled were pending and are now cancelled), replies
	// blanked, and the other rows whose text was blanked: timeline
	// entries, audit entries, domain events and stored webhook events.
	Appointments, Messages, Cancelled, Replies int64
	Timeline, Audit, Events, Webhooks          int64
	// SharedNumber says another patient has the same phone number (a
	// family): the number stays where it is theirs, and only what is tied
	// to this patient is erased.
	SharedNumber bool
}

// ErasePatient removes or irreversibly blanks everything that identifies
// patient id, in one transaction (the one ctx carries, or its own): the
// patient's names and number; their appointments' notes; the number and
// text of every message to them and every reply from them (their inbox
// items are closed); the details of their appointments' timeline entries,
// of the audit entries and domain events about them, their appointments,
// messages and replies; the stored webhook payloads that carry the number;
// and any other timeline, audit or event text that quotes the number or
// the full name. Pending messages to them are cancelled.
//
// The patient's row stays, emptied and marked erased, so that their
// appointments (kept for the clinic's figures) still have a patient; every
// patient query treats it as gone (ErrNotFound). When another patient
// shares the number, rows tied to that patient keep it.
func (s *Store) ErasePatient(ctx context.Context, id uint, now time.Time) (*Erasure, error) {
	now = DBTime(now)
	var out *Erasure
	err := s.Tx(ctx, func(ctx context.Context) error {
		// A reply being applied holds its stored webhook row, then locks
		// the patients of its number. The erasure takes the same order:
		// blanking the webhook rows that carry the number or the name
		// first waits for such a reply to commit, so the steps below see
		// all it wrote; then the patient's lock keeps later replies out
		// until the erasure commits (they then find no patient).
		seen, err := s.Patient(ctx, id)
		if err != nil {
			return err
		}
		e := &Erasure{PatientID: id}
		er := eraser{s: s, ctx: ctx, now: now, e: e, p: seen}
		if err := er.prepare(); err != nil {
			return err
		}
		if err := er.webhooks(); err != nil {
			return err
		}
		p, err := s.LockPatient(ctx, id)
		if err != nil {
			return err
		}
		if p.Phone != seen.Phone || p.FirstName != seen.FirstName || p.LastName != seen.LastName {
			// Changed while the erasure waited: sweep with what it is now.
			er.p, er.needles = p, nil
			if err := er.prepare(); err != nil {
				return err
			}
			if err := er.webhooks(); err != nil {
				return err
			}
		}
		er.p = p
		if err := er.run(); err != nil {
			return err
		}
		out = e
		return nil
	})
	if err != nil {
		if isNotFound(err) {
			return nil, err
		}
		return nil, fmt.Errorf("store: erase patient %d: %w", id, Classify(err))
	}
	return out, nil
}

// eraser is one erasure under way.
type eraser struct {
	s   *Store
	ctx context.Context
	now time.Time
	e   *Erasure
	p   *Patient

	appts, msgs, replies []uint
	// needles are the texts swept out of free-text columns: the number
	// (with and without its +) unless it is shared, and the full name.
	needles []string
}

func (er *eraser) db() *gorm.DB { return er.s.conn(er.ctx) }

// prepare works out whether the number is shared and what texts to sweep.
func (er *eraser) prepare() error {
	p := er.p
	n, err := count[Patient](er.ctx, er.s, "phone = ? AND id <> ? AND "+notErased, p.Phone, p.ID)
	if err != nil {
		return err
	}
	er.e.SharedNumber = n > 0
	if p.Phone != "" && !er.e.SharedNumber {
		er.needles = append(er.needles, p.Phone, strings.TrimPrefix(p.Phone, "+"))
	}
	if full := strings.TrimSpace(p.FirstName + " " + p.LastName); len([]rune(full)) >= 3 {
		er.needles = append(er.needles, full)
	}
	return nil
}

// run erases the rest, once the webhook rows are swept and the patient
// is locked.
func (er *eraser) run() error {
	for _, step := range []func() error{
		er.appointments, er.waitlist, er.messages, er.inbound, er.timeline, er.audit, er.events, er.outbound, er.patient,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// appointments blanks the notes of the patient's appointments.
func (er *eraser) appointments() error {
	if err := er.db().Model(&Appointment{}).Where("patient_id = ?", er.p.ID).Order("id").Pluck("id", &er.appts).Error; err != nil {
		return err
	}
	er.e.Appointments = int64(len(er.appts))
	if len(er.appts) == 0 {
		return nil
	}
	return er.db().Model(&Appointment{}).Where("id IN ?", er.appts).
		Updates(map[string]any{"notes": "", "updated_at": er.now}).Error
}

// waitlist takes the patient off the waitlist and blanks the notes of
// their entries.
func (er *eraser) waitlist() error {
	if err := er.db().Model(&WaitlistEntry{}).Where("patient_id = ? AND status = ?", er.p.ID, WaitlistActive).
		Updates(map[string]any{"status": WaitlistRemoved, "updated_at": er.now}).Error; err != nil {
		return err
	}
	return er.db().Model(&WaitlistEntry{}).Where("patient_id = ?", er.p.ID).
		Updates(map[string]any{"notes": "", "updated_at": er.now}).Error
}

// mine is the condition of the rows tied to the patient by patient_id or
// appointment_id, and by number when the number is theirs alone.
func (er *eraser) mine(numberColumn string) (string, []any) {
	cond, args := "patient_id = ?", []any{er.p.ID}
	if len(er.appts) > 0 {
		cond += " OR appointment_id IN ?"
		args = append(args, er.appts)
	}
	if !er.e.SharedNumber && er.p.Phone != "" {
		cond += " OR " + numberColumn + " = ?"
		args = append(args, er.p.Phone)
	}
	return "(" + cond + ")", args
}

// messages cancels the patient's pending messages and blanks the number
// and text of all of them; on a shared number, texts to it that name the
// patient are blanked too (a family's numbered question lists first names).
func (er *eraser) messages() error {
	cond, args := er.mine(`"to"`)
	if err := er.db().Model(&Message{}).Where(cond, args...).Order("id").Pluck("id", &er.msgs).Error; err != nil {
		return err
	}
	er.e.Messages = int64(len(er.msgs))
	if len(er.msgs) > 0 {
		res := er.db().Model(&Message{}).Where("id IN ? AND status IN ?", er.msgs, []MessageStatus{MsgPlanned, MsgSending}).
			Updates(map[string]any{"status": MsgCancelled, "reason": ErasedReason, "lease_until": nil, "in_doubt": false, "updated_at": er.now})
		if res.Error != nil {
			return res.Error
		}
		er.e.Cancelled = res.RowsAffected
		if err := er.db().Model(&Message{}).Where("id IN ?", er.msgs).
			Updates(map[string]any{"to": "", "body": "", "updated_at": er.now}).Error; err != nil {
			return err
		}
	}
	if er.e.SharedNumber && er.p.FirstName != "" {
		return er.db().Model(&Message{}).Where(`"to" = ? AND LOWER(body) LIKE LOWER(?) ESCAPE '\'`, er.p.Phone, "%"+likeEscape(er.p.FirstName)+"%").
			Updates(map[string]any{"body": "", "updated_at": er.now}).Error
	}
	return nil
}

// inbound blanks the number, text and staff note of the patient's replies
// and closes those waiting in the inbox.
func (er *eraser) inbound() error {
	cond, args := er.mine(`"from"`)
	if err := er.db().Model(&InboundMessage{}).Where(cond, args...).Order("id").Pluck("id", &er.replies).Error; err != nil {
		return err
	}
	er.e.Replies = int64(len(er.replies))
	if len(er.replies) > 0 {
		if err := er.db().Model(&InboundMessage{}).Where("id IN ? AND needs_attention AND handled_at IS NULL", er.replies).
			Updates(map[string]any{"handled_at": er.now}).Error; err != nil {
			return err
		}
		if err := er.db().Model(&InboundMessage{}).Where("id IN ?", er.replies).
			Updates(map[string]any{"from": "", "text": "", "handled_note": "", "needs_attention": false}).Error; err != nil {
			return err
		}
	}
	if er.e.SharedNumber && er.p.FirstName != "" {
		return er.db().Model(&InboundMessage{}).Where(`"from" = ? AND LOWER(text) LIKE LOWER(?) ESCAPE '\'`, er.p.Phone, "%"+likeEscape(er.p.FirstName)+"%").
			Updates(map[string]any{"text": ""}).Error
	}
	return nil
}

// sweep adds, to the condition of rows tied to the patient, the rows whose
// column quotes one of the needles.
func (er *eraser) sweep(cond string, args []any, column string) (string, []any) {
	for _, n := range er.needles {
		cond += " OR LOWER(" + column + `) LIKE LOWER(?) ESCAPE '\'`
		args = append(args, "%"+likeEscape(n)+"%")
	}
	return cond, args
}

// timeline blanks the details of the patient's appointments' timelines,
// and any other line that quotes the number or the name.
func (er *eraser) timeline() error {
	cond, args := "1 = 0", []any(nil)
	if len(er.appts) > 0 {
		cond, args = "appointment_id IN ?", []any{er.appts}
	}
	cond, args = er.sweep(cond, args, "detail")
	res := er.db().Model(&TimelineEntry{}).Where("("+cond+") AND detail <> ?", append(args, ErasedText)...).Update("detail", ErasedText)
	er.e.Timeline = res.RowsAffected
	return res.Error
}

// audit blanks the details of the audit entries about the patient, their
// appointments, messages and replies, and any other that quotes the number
// or the name. Who did what to which row, and when, stays.
func (er *eraser) audit() error {
	cond, args := "(entity = ? AND entity_id = ?)", []any{"patient", er.p.ID}
	for _, t := range []struct {
		entity string
		ids    []uint
	}{{"appointment", er.appts}, {"message", er.msgs}, {"inbound_message", er.replies}} {
		if len(t.ids) > 0 {
			cond += " OR (entity = ? AND entity_id IN ?)"
			args = append(args, t.entity, t.ids)
		}
	}
	cond, args = er.sweep(cond, args, "detail")
	res := er.db().Model(&AuditEntry{}).Where("("+cond+") AND detail <> ?", append(args, ErasedText)...).Update("detail", ErasedText)
	er.e.Audit = res.RowsAffected
	return res.Error
}

// events blanks the details of the domain events about the patient and
// what was theirs.
func (er *eraser) events() error {
	cond, args := "patient_id = ?", []any{er.p.ID}
	for _, t := range []struct {
		column string
		ids    []uint
	}{{"appointment_id", er.appts}, {"message_id", er.msgs}, {"inbound_id", er.replies}} {
		if len(t.ids) > 0 {
			cond += " OR " + t.column + " IN ?"
			args = append(args, t.ids)
		}
	}
	cond, args = er.sweep(cond, args, "detail")
	res := er.db().Model(&Event{}).Where("("+cond+") AND detail <> ''", args...).Update("detail", "")
	er.e.Events = res.RowsAffected
	return res.Error
}

// webhooks blanks the stored webhook payloads (and results) that carry the
// number or the name: SMS.CX puts the number in replies, opt-outs and link
// hits. A payload blanked after it was applied is never needed again; one
// not applied yet is marked applied, flagged, so that it never is.
func (er *eraser) webhooks() error {
	if len(er.needles) == 0 {
		return nil
	}
	cond, args := er.sweep("1 = 0", nil, "raw")
	cond, args = er.sweep(cond, args, "result")
	res := er.db().Model(&WebhookEvent{}).Where("("+cond+")", args...).Updates(map[string]any{
		"raw": "{}", "result": "erased: the payload identified an erased patient",
		"processed_at": gorm.Expr("COALESCE(processed_at, ?)", er.now),
	})
	er.e.Webhooks += res.RowsAffected
	return res.Error
}

// outbound rewrites the payloads of the outbound webhooks about the patient
// (by patient, or quoting their number or name) to say only that the
// patient was erased; a pending one still goes out, in its turn, without
// what identified them, and the last response's bytes are blanked.
func (er *eraser) outbound() error {
	cond, args := er.sweep("patient_id = ?", []any{er.p.ID}, "payload")
	var rows []WebhookDelivery
	if err := er.db().Select("id", "type", "payload").Where("("+cond+")", args...).Find(&rows).Error; err != nil {
		return err
	}
	for _, d := range rows {
		if err := er.db().Model(&WebhookDelivery{}).Where("id = ?", d.ID).
			Updates(map[string]any{"payload": ErasedPayload(d.Payload, er.p.ID), "last_response": ""}).Error; err != nil {
			return err
		}
	}
	er.e.Webhooks += int64(len(rows))
	return nil
}

// ErasedPayload is an outbound webhook payload with its data replaced by
// the erased patient's id alone: its type and timestamp stay.
func ErasedPayload(payload string, patientID uint) string {
	var in struct {
		Type      string          `json:"type"`
		Timestamp json.RawMessage `json:"timestamp"`
	}
	_ = json.Unmarshal([]byte(payload), &in)
	out := struct {
		Type      string          `json:"type"`
		Timestamp json.RawMessage `json:"timestamp,omitempty"`
		Data      map[string]any  `json:"data"`
	}{in.Type, in.Timestamp, map[string]any{"patient": map[string]any{"id": patientID, "erased": true}}}
	b, _ := json.Marshal(out)
	return string(b)
}

// patient empties the patient's row and marks it erased. An opt-out
// outlives the erasure: the number goes on the suppression list, as a
// keyed hash only.
func (er *eraser) patient() error {
	if er.p.OptedOutAt != nil && !er.e.SharedNumber {
		if err := er.s.SuppressNumber(er.ctx, er.p.Phone, er.p.OptOutSource, er.now); err != nil {
			return err
		}
	}
	return er.db().Model(&Patient{}).Where("id = ?", er.p.ID).Updates(map[string]any{
		"first_name": "", "last_name": "", "phone": "", "external_id": "", "opted_out_at": nil, "opt_out_source": "",
		"erased_at": er.now, "updated_at": er.now,
	}).Error
}
