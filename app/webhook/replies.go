package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm/clause"

	"apptconfirm/app/clinic"
	"apptconfirm/app/live"
	"apptconfirm/app/phone"
	"apptconfirm/app/render"
	"apptconfirm/app/reply"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// questionWindow is how long a numbered question stays open: a bare "2"
// later than this is not read as an answer to it.
const questionWindow = 7 * 24 * time.Hour

// maxCandidates is the longest numbered question the app asks; a number
// with more appointments awaiting an answer goes to the inbox.
const maxCandidates = 9

// awaitingKinds are the messages that ask the patient for an answer.
var awaitingKinds = []string{models.KindReminder, models.KindBookingConfirm}

// sentStatuses are the states of a message that left us.
var sentStatuses = []models.MessageStatus{models.MsgAccepted, models.MsgSent, models.MsgDelivered}

// normalizeNumber brings a number from SMS.CX to E.164 when it can (SMS.CX
// sends E.164 already; countryIso helps with anything else).
func normalizeNumber(raw, countryISO string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if n, err := phone.Normalize(raw, countryISO); err == nil {
		return n
	}
	if !strings.HasPrefix(raw, "+") {
		if n, err := phone.Normalize("+"+raw, ""); err == nil {
			return n
		}
	}
	return clip(raw, 32)
}

// cleanText makes inbound text safe to store: valid UTF-8, no NUL, at most
// 2000 runes (the column).
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if utf8.RuneCountInString(s) > 2000 {
		s = string([]rune(s)[:2000])
	}
	return s
}

// providerRef is the inbound message's provider id as stored (64 bytes at most).
func providerRef(msgID string) string {
	msgID = strings.TrimSpace(msgID)
	if plainID(msgID) {
		return msgID
	}
	return "sha256:" + sum(msgID)[:56]
}

// replyCtx is what handling one inbound SMS works on.
type replyCtx struct {
	in       *models.InboundMessage
	from     string
	patients []models.Patient
	now      time.Time
	out      *outcome
}

// applyReply stores an inbound SMS and acts on it (PRODUCT.md 2.5).
func (p *Processor) applyReply(ctx context.Context, tx *models.Store, raw []byte, now time.Time, out *outcome) error {
	var s smscx.ReceiveSMS
	if err := json.Unmarshal(raw, &s); err != nil {
		out.result, out.flagged = "undecodable: "+err.Error(), true
		return nil
	}
	from := normalizeNumber(s.From, s.CountryISO)
	received := now
	if t, err := smscx.ParseTime(s.ReceivedAt); err == nil {
		received = t
	}
	in := &models.InboundMessage{
		ProviderID: providerRef(s.MsgID), From: from, To: clip(cleanText(strings.TrimSpace(s.To)), 32),
		Text: cleanText(s.Text), ReceivedAt: received, CreatedAt: now,
	}
	res := tx.DB(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "provider_message_id"}}, DoNothing: true}).Create(in)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		out.result = "duplicate: inbound message already stored"
		return nil
	}
	rc := &replyCtx{in: in, from: from, now: now, out: out}
	if from != "" {
		err := tx.DB(ctx).Where(&models.Patient{Phone: from}).Order("id").Find(&rc.patients).Error
		if err != nil {
			return err
		}
	}
	if len(rc.patients) == 0 {
		// QUALITY W9: a stranger's text is for a human; nothing else changes.
		return p.toInbox(ctx, tx, rc, nil, "unknown number")
	}
	pid := rc.patients[0].ID
	in.PatientID = &pid
	r := reply.Parse(in.Text)
	switch r.Intent {
	case reply.OptOut:
		return p.replyStop(ctx, tx, rc)
	case reply.OptIn:
		return p.replyStart(ctx, tx, rc)
	case reply.Help:
		return p.replyHelp(ctx, tx, rc)
	}
	return p.replyAnswer(ctx, tx, rc, r)
}

// saveInbound writes the decisions taken about the inbound message.
func saveInbound(ctx context.Context, tx *models.Store, in *models.InboundMessage) error {
	return tx.DB(ctx).Model(&models.InboundMessage{}).Where("id = ?", in.ID).Updates(map[string]any{
		"patient_id": in.PatientID, "appointment_id": in.AppointmentID, "intent": in.Intent,
		"candidates": in.Candidates, "needs_attention": in.NeedsAttention,
	}).Error
}

// toInbox leaves the message for staff, with the appointments it may be
// about; nothing else changes.
func (p *Processor) toInbox(ctx context.Context, tx *models.Store, rc *replyCtx, candidates []models.Appointment, why string) error {
	rc.in.NeedsAttention = true
	rc.in.Candidates = joinIDs(candidates)
	if len(candidates) == 1 {
		id := candidates[0].ID
		rc.in.AppointmentID = &id
	} else if rc.in.AppointmentID == nil && len(rc.patients) > 0 {
		// For context only: the appointment of the last message we sent this number.
		if id, err := lastMessagedAppointment(ctx, tx, rc.from); err != nil {
			return err
		} else if id != 0 {
			rc.in.AppointmentID = &id
		}
	}
	if err := saveInbound(ctx, tx, rc.in); err != nil {
		return err
	}
	for _, a := range candidates {
		if err := replyTimeline(ctx, tx, a.ID, rc, "needs attention"); err != nil {
			return err
		}
	}
	rc.out.result = "inbox: " + why
	rc.out.publish(live.Event{Kind: "inbox", PatientID: deref(rc.in.PatientID), AppointmentID: deref(rc.in.AppointmentID), Detail: why})
	return nil
}

// replyTimeline notes the reply on an appointment's timeline.
func replyTimeline(ctx context.Context, tx *models.Store, appointmentID uint, rc *replyCtx, what string) error {
	text := rc.in.Text
	if utf8.RuneCountInString(text) > 200 {
		text = string([]rune(text)[:199]) + "…"
	}
	return clinic.RecordTimeline(ctx, tx, models.TimelineEntry{
		AppointmentID: appointmentID, At: rc.now, Kind: models.TimelineReply,
		Detail: fmt.Sprintf("Reply by SMS: %q (%s)", text, what),
	})
}

// replyStop opts every patient with this number out and sends one
// acknowledgement, only when someone was not opted out yet (QUALITY C1: one
// acknowledgement and nothing after it).
func (p *Processor) replyStop(ctx context.Context, tx *models.Store, rc *replyCtx) error {
	rc.in.Intent = reply.OptOut.String()
	var first *models.Patient
	for i := range rc.patients {
		pt := &rc.patients[i]
		if pt.OptedOut() {
			continue
		}
		if err := p.clinic.OptOutTx(ctx, tx, clinic.PatientActor(), pt.ID, "sms_stop", rc.now); err != nil {
			return err
		}
		rc.out.publish(live.Event{Kind: "optout", PatientID: pt.ID, Status: "opted_out", Detail: "sms_stop"})
		if first == nil {
			first = pt
		}
	}
	if err := saveInbound(ctx, tx, rc.in); err != nil {
		return err
	}
	if first == nil {
		rc.out.result = "already opted out"
		return nil
	}
	d, err := patientData(ctx, tx, first)
	if err != nil {
		return err
	}
	body, err := renderTemplate(ctx, tx, models.KindOptOutAck, d, "")
	if err != nil {
		return err
	}
	if err := p.queue(ctx, tx, rc, Outgoing{Kind: models.KindOptOutAck, To: rc.from, Body: body, PatientID: &first.ID}); err != nil {
		return err
	}
	rc.out.result = "opted out"
	return nil
}

// replyStart opts the number's patients back in and acknowledges it.
func (p *Processor) replyStart(ctx context.Context, tx *models.Store, rc *replyCtx) error {
	rc.in.Intent = reply.OptIn.String()
	var first *models.Patient
	for i := range rc.patients {
		pt := &rc.patients[i]
		if !pt.OptedOut() {
			continue
		}
		if err := p.clinic.OptInTx(ctx, tx, clinic.PatientActor(), pt.ID, "sms_start", rc.now); err != nil {
			return err
		}
		rc.out.publish(live.Event{Kind: "optout", PatientID: pt.ID, Status: "opted_in", Detail: "sms_start"})
		if first == nil {
			first = pt
		}
	}
	if err := saveInbound(ctx, tx, rc.in); err != nil {
		return err
	}
	if first == nil {
		rc.out.result = "already opted in"
		return nil
	}
	d, err := patientData(ctx, tx, first)
	if err != nil {
		return err
	}
	body, err := renderTemplate(ctx, tx, models.KindOptInAck, d, "")
	if err != nil {
		return err
	}
	if err := p.queue(ctx, tx, rc, Outgoing{Kind: models.KindOptInAck, To: rc.from, Body: body, PatientID: &first.ID}); err != nil {
		return err
	}
	rc.out.result = "opted in"
	return nil
}

// replyHelp sends the help text, unless the number opted out: then nothing
// may follow the opt-out acknowledgement, and a human decides.
func (p *Processor) replyHelp(ctx context.Context, tx *models.Store, rc *replyCtx) error {
	rc.in.Intent = reply.Help.String()
	var to *models.Patient
	for i := range rc.patients {
		if !rc.patients[i].OptedOut() {
			to = &rc.patients[i]
			break
		}
	}
	if to == nil {
		return p.toInbox(ctx, tx, rc, nil, "help asked by an opted-out number")
	}
	d, err := patientData(ctx, tx, to)
	if err != nil {
		return err
	}
	body, err := renderTemplate(ctx, tx, models.KindHelp, d, "")
	if err != nil {
		return err
	}
	if err := saveInbound(ctx, tx, rc.in); err != nil {
		return err
	}
	if err := p.queue(ctx, tx, rc, Outgoing{Kind: models.KindHelp, To: rc.from, Body: body, PatientID: &to.ID}); err != nil {
		return err
	}
	rc.out.result = "help sent"
	return nil
}

// replyAnswer handles YES, NO, numbers and everything else: it finds the
// appointments awaiting an answer from the number and lets reply.Resolve
// decide.
func (p *Processor) replyAnswer(ctx context.Context, tx *models.Store, rc *replyCtx, r reply.Reply) error {
	var (
		candidates []models.Appointment
		pending    = reply.Unknown
		err        error
	)
	if r.Choice != 0 {
		// Only a number refers to the numbered question; a plain YES or NO
		// is judged against the appointments awaiting an answer now.
		candidates, pending, err = p.pendingQuestion(ctx, tx, rc)
		if err != nil {
			return err
		}
	}
	if pending == reply.Unknown {
		all, err := awaiting(ctx, tx, rc.from, rc.now)
		if err != nil {
			return err
		}
		candidates = all
		if r.Intent == reply.Confirm {
			// Only a scheduled appointment can be confirmed; a confirmed one
			// still awaits a possible NO.
			candidates = filterStatus(all, models.Scheduled)
			if len(candidates) == 0 && len(all) > 0 {
				rc.in.Intent = r.Intent.String()
				rc.in.Candidates = joinIDs(all)
				if len(all) == 1 {
					rc.in.AppointmentID = &all[0].ID
				}
				if err := saveInbound(ctx, tx, rc.in); err != nil {
					return err
				}
				for _, a := range all {
					if err := replyTimeline(ctx, tx, a.ID, rc, "already confirmed"); err != nil {
						return err
					}
				}
				rc.out.result = "already confirmed"
				return nil
			}
		}
	}
	if len(candidates) > maxCandidates {
		return p.toInbox(ctx, tx, rc, candidates[:maxCandidates], "too many appointments awaiting an answer")
	}
	intent, index, ask := reply.Resolve(r, len(candidates), pending)
	switch {
	case ask:
		return p.askWhich(ctx, tx, rc, intent, candidates)
	case (intent == reply.Confirm || intent == reply.Cancel) && index > 0:
		return p.applyIntent(ctx, tx, rc, intent, candidates[index-1])
	case len(candidates) == 0:
		return p.toInbox(ctx, tx, rc, nil, "no appointment awaiting an answer")
	default:
		return p.toInbox(ctx, tx, rc, candidates, "reply not understood")
	}
}

// applyIntent confirms or cancels the appointment the reply is about and
// queues the acknowledgement.
func (p *Processor) applyIntent(ctx context.Context, tx *models.Store, rc *replyCtx, intent reply.Intent, a models.Appointment) error {
	// The appointment may have moved on since the question was asked.
	if !a.Status.Active() || !a.StartsAt.After(rc.now) {
		if a.PatientID != 0 {
			rc.in.AppointmentID = &a.ID
		}
		return p.toInbox(ctx, tx, rc, nil, "the appointment no longer awaits an answer")
	}
	if intent == reply.Confirm && a.Status == models.Confirmed {
		rc.in.Intent, rc.in.AppointmentID = intent.String(), &a.ID
		if err := saveInbound(ctx, tx, rc.in); err != nil {
			return err
		}
		rc.out.result = "already confirmed"
		return replyTimeline(ctx, tx, a.ID, rc, "already confirmed")
	}
	var (
		updated *models.Appointment
		err     error
		kind    string
	)
	if intent == reply.Confirm {
		updated, err = p.clinic.ConfirmTx(ctx, tx, clinic.PatientActor(), a.ID, "sms", rc.now)
		kind = models.KindAckConfirm
	} else {
		updated, err = p.clinic.CancelTx(ctx, tx, clinic.PatientActor(), a.ID, "patient replied by SMS", rc.now)
		kind = models.KindAckCancel
	}
	var bt *models.ErrBadTransition
	if errors.As(err, &bt) {
		return p.toInbox(ctx, tx, rc, []models.Appointment{a}, "the appointment cannot be "+pastTense(intent))
	}
	if err != nil {
		return err
	}
	rc.in.Intent, rc.in.AppointmentID = intent.String(), &a.ID
	if err := saveInbound(ctx, tx, rc.in); err != nil {
		return err
	}
	if err := replyTimeline(ctx, tx, a.ID, rc, pastTense(intent)); err != nil {
		return err
	}
	rc.out.publish(live.Event{Kind: "appointment", AppointmentID: a.ID, PatientID: a.PatientID, Status: string(updated.Status), Detail: "sms"})
	rc.out.result = pastTense(intent) + " appointment " + strconv.FormatUint(uint64(a.ID), 10)
	if updated.Patient != nil && updated.Patient.OptedOut() {
		// Nothing follows an opt-out acknowledgement (QUALITY C1).
		return nil
	}
	body, err := RenderForAppointment(ctx, tx, kind, updated)
	if err != nil {
		return err
	}
	return p.queue(ctx, tx, rc, Outgoing{Kind: kind, To: rc.from, Body: body, AppointmentID: &a.ID, PatientID: &a.PatientID})
}

func pastTense(i reply.Intent) string {
	if i == reply.Confirm {
		return "confirmed"
	}
	return "cancelled"
}

// askWhich sends the numbered question and remembers what it asked, so
// that a later "2" or "YES 2" resolves.
func (p *Processor) askWhich(ctx context.Context, tx *models.Store, rc *replyCtx, intent reply.Intent, candidates []models.Appointment) error {
	rc.in.Intent = intent.String()
	rc.in.Candidates = joinIDs(candidates)
	if err := saveInbound(ctx, tx, rc.in); err != nil {
		return err
	}
	for _, a := range candidates {
		if err := replyTimeline(ctx, tx, a.ID, rc, "asked which appointment"); err != nil {
			return err
		}
	}
	rc.out.result = fmt.Sprintf("asked which of %d appointments", len(candidates))
	first := candidates[0]
	if first.Patient != nil && first.Patient.OptedOut() {
		return nil
	}
	body, err := renderTemplate(ctx, tx, models.KindQuestion, appointmentData(&first), choicesText(candidates))
	if err != nil {
		return err
	}
	return p.queue(ctx, tx, rc, Outgoing{Kind: models.KindQuestion, To: rc.from, Body: body, PatientID: &first.PatientID})
}

// choicesText lists the candidates for the numbered question: "1 for Tue
// 10:00 AM, 2 for Thu 2:30 PM". Slots that read alike get their date, and
// a family sharing a phone gets first names.
func choicesText(cs []models.Appointment) string {
	labels := make([]string, len(cs))
	seen := map[string]int{}
	patients := map[uint]bool{}
	for i := range cs {
		labels[i] = render.FormatSlot(cs[i].StartsAt, zoneOf(&cs[i]), langOf(&cs[i]))
		seen[labels[i]]++
		patients[cs[i].PatientID] = true
	}
	parts := make([]string, len(cs))
	for i := range cs {
		a := &cs[i]
		label := labels[i]
		if seen[label] > 1 {
			label = render.FormatDate(a.StartsAt, zoneOf(a), langOf(a)) + " " + render.FormatTime(a.StartsAt, zoneOf(a), langOf(a))
		}
		if len(patients) > 1 && a.Patient != nil {
			label += " (" + a.Patient.FirstName + ")"
		}
		parts[i] = strconv.Itoa(i+1) + " for " + label
	}
	return strings.Join(parts, ", ")
}

func zoneOf(a *models.Appointment) *time.Location {
	if a.Location != nil {
		return a.Location.Zone()
	}
	return time.UTC
}

func langOf(a *models.Appointment) string {
	if a.Patient != nil {
		return a.Patient.Language
	}
	return ""
}

// queue queues an SMS for this reply and marks the dispatcher to be kicked.
func (p *Processor) queue(ctx context.Context, tx *models.Store, rc *replyCtx, o Outgoing) error {
	m, err := Queue(ctx, tx, o, rc.now)
	if err != nil {
		return err
	}
	rc.out.kick = true
	rc.out.publish(live.Event{Kind: "message", MessageID: m.ID, AppointmentID: deref(m.AppointmentID), PatientID: deref(m.PatientID), Status: string(m.Status), Detail: m.Kind})
	return nil
}

// awaiting lists the appointments awaiting an answer from number, soonest
// first: active, not started, and with a reminder or booking confirmation
// that left us for this number (PRODUCT.md 2.5).
func awaiting(ctx context.Context, tx *models.Store, number string, now time.Time) ([]models.Appointment, error) {
	if number == "" {
		return nil, nil
	}
	db := tx.DB(ctx)
	asked := db.Model(&models.Message{}).Select("appointment_id").
		Where(toNumber(number)).
		Where("appointment_id IS NOT NULL AND kind IN ?", awaitingKinds).
		Where(db.Where("sent_at IS NOT NULL").Or("status IN ?", sentStatuses))
	var out []models.Appointment
	err := db.Where("status IN ? AND starts_at > ?", []models.AppointmentStatus{models.Scheduled, models.Confirmed}, now).
		Where("patient_id IN (?)", db.Model(&models.Patient{}).Select("id").Where(&models.Patient{Phone: number})).
		Where("id IN (?)", asked).
		Preload("Patient").Preload("Location").Preload("Provider").
		Order("starts_at, id").Find(&out).Error
	return out, err
}

// pendingQuestion returns the candidates and intent of the numbered
// question this number was last asked, if it is still open: the number's
// latest appointment-related inbound message asked it (no later reply
// resolved anything or went to the inbox), within questionWindow.
func (p *Processor) pendingQuestion(ctx context.Context, tx *models.Store, rc *replyCtx) ([]models.Appointment, reply.Intent, error) {
	var last models.InboundMessage
	err := models.Classify(tx.DB(ctx).
		Where(clause.Eq{Column: clause.Column{Name: "from"}, Value: rc.from}).
		Where("id <> ? AND received_at >= ?", rc.in.ID, rc.now.Add(-questionWindow)).
		Where("candidates <> '' OR appointment_id IS NOT NULL OR needs_attention = ?", true).
		Order("id DESC").Take(&last).Error)
	if errors.Is(err, models.ErrNotFound) {
		return nil, reply.Unknown, nil
	}
	if err != nil {
		return nil, reply.Unknown, err
	}
	intent, perr := reply.ParseIntent(last.Intent)
	if perr != nil || (intent != reply.Confirm && intent != reply.Cancel) ||
		last.NeedsAttention || last.AppointmentID != nil || last.Candidates == "" {
		return nil, reply.Unknown, nil
	}
	ids := splitIDs(last.Candidates)
	var found []models.Appointment
	err = tx.DB(ctx).Where("id IN ?", ids).Preload("Patient").Preload("Location").Preload("Provider").Find(&found).Error
	if err != nil {
		return nil, reply.Unknown, err
	}
	byID := make(map[uint]models.Appointment, len(found))
	for _, a := range found {
		byID[a.ID] = a
	}
	// Keep the numbering of the question; a deleted appointment keeps its
	// slot as an inactive one, so that the other numbers still match.
	out := make([]models.Appointment, len(ids))
	for i, id := range ids {
		if a, ok := byID[id]; ok {
			out[i] = a
		} else {
			out[i] = models.Appointment{ID: id, Status: models.Cancelled}
		}
	}
	return out, intent, nil
}

// lastMessagedAppointment is the appointment of the latest message sent to number, 0 if none.
func lastMessagedAppointment(ctx context.Context, tx *models.Store, number string) (uint, error) {
	var ids []uint
	err := tx.DB(ctx).Model(&models.Message{}).
		Where(toNumber(number)).
		Where("appointment_id IS NOT NULL").Order("id DESC").Limit(1).Pluck("appointment_id", &ids).Error
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

func filterStatus(as []models.Appointment, st models.AppointmentStatus) []models.Appointment {
	var out []models.Appointment
	for _, a := range as {
		if a.Status == st {
			out = append(out, a)
		}
	}
	return out
}

// joinIDs writes appointment ids as InboundMessage.Candidates does: "12,15".
func joinIDs(as []models.Appointment) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = strconv.FormatUint(uint64(a.ID), 10)
	}
	return strings.Join(parts, ",")
}

// splitIDs reads InboundMessage.Candidates.
func splitIDs(s string) []uint {
	var out []uint
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64); err == nil && n > 0 {
			out = append(out, uint(n))
		}
	}
	return out
}

// SplitCandidates reads the appointment ids of InboundMessage.Candidates.
func SplitCandidates(s string) []uint { return splitIDs(s) }
