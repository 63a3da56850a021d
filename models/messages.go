package models

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Message returns one outbound message, or ErrNotFound.
func (s *Store) Message(ctx context.Context, id uint) (*Message, error) {
	return first[Message](ctx, s, "message", id, false)
}

// LockMessage returns one outbound message, locked for update on PostgreSQL.
func (s *Store) LockMessage(ctx context.Context, id uint) (*Message, error) {
	return first[Message](ctx, s, "message", id, true)
}

// CreateMessage inserts m.
func (s *Store) CreateMessage(ctx context.Context, m *Message) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		if m.ID != 0 {
			return db.Create(m).Error // an id of its own: as GORM writes it
		}
		return s.insertMessage(ctx, db, m)
	})
	if err != nil {
		return fmt.Errorf("store: create %s message: %w", m.Kind, err)
	}
	return nil
}

// insertMessageSQL inserts every column of a message but its id, in the
// order insertMessage gives them.
const insertMessageSQL = `INSERT INTO messages (uuid, appointment_id, patient_id, rule_id, rule_name, kind, "to", body, status, send_at,
reason, planned_because, attempts, lease_until, sent_at, delivered_at, provider_message_id, campaign_id, parts, cost,
provider_state, error_code, created_by_id, in_doubt, created_at, updated_at, language, fallback_from, moved_from, move_reason)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`

// insertMessage inserts m and sets its id, past GORM (see execRaw): every
// answer to a reply is one. It writes what GORM's Create writes (a zero
// creation or update time becomes the store's now; every column with a
// default defaults to its zero value), and notes the patient messaged in
// the transaction, as GORM's callbacks do (see trackInserts).
func (s *Store) insertMessage(ctx context.Context, db *gorm.DB, m *Message) error {
	if m.CreatedAt.IsZero() || m.UpdatedAt.IsZero() {
		now := db.NowFunc()
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
		}
		if m.UpdatedAt.IsZero() {
			m.UpdatedAt = now
		}
	}
	id, err := s.insertID(db, insertMessageSQL, m.UUID, m.AppointmentID, m.PatientID, m.RuleID, m.RuleName, m.Kind,
		m.To, m.Body, string(m.Status), m.SendAt, m.Reason, m.PlannedBecause, m.Attempts, m.LeaseUntil, m.SentAt,
		m.DeliveredAt, m.ProviderID, m.CampaignID, m.Parts, m.Cost, m.ProviderState, m.ErrorCode, m.CreatedByID,
		m.InDoubt, m.CreatedAt, m.UpdatedAt, m.Language, m.FallbackFrom, m.MovedFrom, m.MoveReason)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	m.ID = id
	if st := s.txOf(ctx); st != nil {
		root := st.root()
		root.messageWrites++
		if m.PatientID != nil {
			if root.messaged == nil {
				root.messaged = map[uint]bool{}
			}
			root.messaged[*m.PatientID] = true
		}
	}
	return nil
}

// CreateMessages inserts ms in as few statements as the database allows,
// giving each its id.
func (s *Store) CreateMessages(ctx context.Context, ms []*Message) error {
	if len(ms) == 0 {
		return nil
	}
	err := s.write(ctx, func(db *gorm.DB) error {
		if len(ms) == 1 {
			return db.Create(ms[0]).Error
		}
		return db.CreateInBatches(ms, 100).Error
	})
	if err != nil {
		return fmt.Errorf("store: create messages: %w", err)
	}
	return nil
}

// AppointmentMessages returns an appointment's messages of the given kinds
// (all kinds when none is given) by id, locked for update on PostgreSQL
// when lock is set.
func (s *Store) AppointmentMessages(ctx context.Context, appointmentID uint, lock bool, kinds ...string) ([]*Message, error) {
	rows, err := s.appointmentMessages(ctx, appointmentID, lock, kinds)
	if err != nil {
		return nil, fmt.Errorf("store: messages of appointment %d: %w", appointmentID, Classify(err))
	}
	return rows, nil
}

// appointmentMessages is AppointmentMessages run past GORM (see execRaw):
// every replan reads them.
func (s *Store) appointmentMessages(ctx context.Context, appointmentID uint, lock bool, kinds []string) ([]*Message, error) {
	if err := s.messagesVisible(ctx); err != nil {
		return nil, err
	}
	var q strings.Builder
	args := make([]any, 0, 1+len(kinds))
	q.WriteString("SELECT " + messageColumns + " FROM messages WHERE appointment_id = ?")
	args = append(args, appointmentID)
	if len(kinds) > 0 {
		q.WriteString(" AND kind IN (")
		for i, k := range kinds {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('?')
			args = append(args, k)
		}
		q.WriteByte(')')
	}
	q.WriteString(" ORDER BY id")
	if lock && s.driver == DriverPostgres {
		q.WriteString(" FOR UPDATE")
	}
	rs, err := s.queryRaw(s.conn(ctx), q.String(), args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rs.Close() }()
	var rows []*Message
	for rs.Next() {
		m := new(Message)
		if err := scanMessage(rs, m); err != nil {
			return nil, err
		}
		rows = append(rows, m)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	return rows, rs.Close()
}

// MessagesBySendTime returns an appointment's messages in the order they
// go out.
func (s *Store) MessagesBySendTime(ctx context.Context, appointmentID uint) ([]Message, error) {
	var msgs []Message
	if err := s.conn(ctx).Where("appointment_id = ?", appointmentID).Order("send_at, id").Find(&msgs).Error; err != nil {
		return nil, fmt.Errorf("store: messages of appointment %d: %w", appointmentID, Classify(err))
	}
	return msgs, nil
}

// MessageSummaries returns the messages of the appointments in ids without
// their text, keyed by appointment, each list in send order.
func (s *Store) MessageSummaries(ctx context.Context, ids []uint) (map[uint][]Message, error) {
	out := make(map[uint][]Message, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var msgs []Message
	err := s.conn(ctx).Select("id", "appointment_id", "rule_id", "rule_name", "kind", "status", "send_at", "sent_at", "provider_message_id", "reason", "language", "fallback_from", "planned_because").
		Where("appointment_id IN ?", ids).Order("appointment_id, send_at, id").Find(&msgs).Error
	if err != nil {
		return nil, fmt.Errorf("store: message summaries: %w", Classify(err))
	}
	for _, m := range msgs {
		out[*m.AppointmentID] = append(out[*m.AppointmentID], m)
	}
	return out, nil
}

// PlannedDueBefore returns the planned messages due before t (overdue ones
// included), soonest first, at most limit.
func (s *Store) PlannedDueBefore(ctx context.Context, t time.Time, limit int) ([]Message, error) {
	var ms []Message
	err := s.conn(ctx).Where("status = ? AND send_at < ?", MsgPlanned, t.UTC()).
		Order("send_at, id").Limit(limit).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("store: planned messages: %w", Classify(err))
	}
	return ms, nil
}

// MessageChangedErr means a message was no longer in the state a change
// required (another worker got there first); it wraps ErrConflict.
func messageChanged(id uint) error {
	return fmt.Errorf("message %d changed meanwhile: %w", id, ErrConflict)
}

// updateMessage changes the columns of message id where cond holds, and
// reports whether it did.
func (s *Store) updateMessage(ctx context.Context, id uint, cond string, args []any, cols map[string]any) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		q := db.Model(&Message{}).Where("id = ?", id)
		if cond != "" {
			q = q.Where(cond, args...)
		}
		res := q.Updates(cols)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("store: update message %d: %w", id, err)
	}
	return n == 1, nil
}

// ReschedulePlanned writes a planned message's send time (and its
// quiet-hours move), number, patient, rule name and (cleared) body and
// reason, as replanning moves it; it is ErrConflict when the message is no
// longer planned.
func (s *Store) ReschedulePlanned(ctx context.Context, m *Message, now time.Time) error {
	var movedFrom *time.Time
	if m.MovedFrom != nil {
		t := DBTime(*m.MovedFrom)
		movedFrom = &t
	}
	ok, err := s.updateMessage(ctx, m.ID, "status = ?", []any{MsgPlanned}, map[string]any{
		"send_at": DBTime(m.SendAt), "to": m.To, "patient_id": m.PatientID,
		"rule_name": m.RuleName, "body": m.Body, "reason": m.Reason,
		"moved_from": movedFrom, "move_reason": Clip(m.MoveReason, 200), "updated_at": DBTime(now),
		"planned_because": Clip(m.PlannedBecause, 300),
	})
	if err == nil && !ok {
		err = messageChanged(m.ID)
	}
	return err
}

// EndPlanned ends a planned message with status and reason; it is
// ErrConflict when the message is no longer planned.
func (s *Store) EndPlanned(ctx context.Context, id uint, status MessageStatus, reason string, now time.Time) error {
	// Past GORM (see execRaw): a replan that cancels reminders runs it
	// for each.
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		if err := s.messagesVisible(ctx); err != nil {
			return err
		}
		res, err := s.execRaw(db, "UPDATE messages SET lease_until = NULL, reason = ?, status = ?, updated_at = ? WHERE id = ? AND status = ?",
			Clip(reason, 500), string(status), DBTime(now), id, string(MsgPlanned))
		s.messagesChanged(ctx)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("store: update message %d: %w", id, err)
	}
	if n != 1 {
		return messageChanged(id)
	}
	return nil
}

// RenamePlannedReminders carries a rule's new name to its planned messages.
func (s *Store) RenamePlannedReminders(ctx context.Context, ruleID uint, name string, now time.Time) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Model(&Message{}).Where("rule_id = ? AND status = ?", ruleID, MsgPlanned).
			Updates(map[string]any{"rule_name": name, "updated_at": DBTime(now)}).Error
	})
	if err != nil {
		return fmt.Errorf("store: rename reminders of rule %d: %w", ruleID, err)
	}
	return nil
}

// PlannedForPatient returns the planned messages to a patient (by patient
// or through their appointments), except those of kind except.
func (s *Store) PlannedForPatient(ctx context.Context, patientID uint, except string) ([]Message, error) {
	db := s.conn(ctx)
	var ms []Message
	err := db.Where("status = ? AND kind <> ?", MsgPlanned, except).
		Where(db.Where("patient_id = ?", patientID).
			Or("appointment_id IN (?)", db.Model(&Appointment{}).Select("id").Where("patient_id = ?", patientID))).
		Order("id").Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("store: planned messages of patient %d: %w", patientID, Classify(err))
	}
	return ms, nil
}

// countedReminderStatuses are the states of a reminder that count towards
// the per-patient caps.
var countedReminderStatuses = []MessageStatus{MsgPlanned, MsgSending, MsgAccepted, MsgSent, MsgDelivered}

// ReminderTimes returns when the patient's reminders for appointments other
// than except go (or went) out, for those planned or sent between from and
// to: the time sent when they left, else the planned time.
func (s *Store) ReminderTimes(ctx context.Context, patientID, except uint, from, to time.Time) ([]time.Time, error) {
	st := s.txOf(ctx)
	if noRemindersStored(st, patientID) {
		// A patient created in this transaction: only the reminders
		// it holds can be theirs.
		return heldReminderTimes(st, nil, patientID, except, from.UTC(), to.UTC()), nil
	}
	// Past GORM (see execRaw): every replan of an active appointment
	// runs it. The held reminders are added below.
	out, err := s.reminderTimes(ctx, patientID, except, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: reminder times: %w", Classify(err))
	}
	// The reminders held for a later insert count too (HoldMessages).
	return heldReminderTimes(st, out, patientID, except, from.UTC(), to.UTC()), nil
}

// reminderTimesSQL reads the send and sent times of reminderTimes.
var reminderTimesSQL = `SELECT send_at, sent_at FROM messages WHERE patient_id = ? AND kind = ? AND appointment_id <> ?
AND status IN ` + marks(len(countedReminderStatuses)) + ` AND send_at >= ? AND send_at < ?`

// reminderTimes is the part of ReminderTimes read from the database.
func (s *Store) reminderTimes(ctx context.Context, patientID, except uint, from, to time.Time) ([]time.Time, error) {
	args := make([]any, 0, 5+len(countedReminderStatuses))
	args = append(args, patientID, KindReminder, except)
	for _, st := range countedReminderStatuses {
		args = append(args, string(st))
	}
	args = append(args, from.UTC(), to.UTC())
	rows, err := s.queryRaw(s.conn(ctx), reminderTimesSQL, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := []time.Time{}
	for rows.Next() {
		var sendAt time.Time
		var sentAt *time.Time
		if err := rows.Scan(&sendAt, &sentAt); err != nil {
			return nil, err
		}
		if sentAt != nil {
			out = append(out, *sentAt)
		} else {
			out = append(out, sendAt)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// appointmentsWithSkippedSQL reads the ids of AppointmentsWithSkipped;
// the appointments are found by their patient (see filterOnly).
func (s *Store) appointmentsWithSkippedSQL() string {
	return `SELECT DISTINCT appointment_id FROM messages
WHERE patient_id = ? AND kind = ? AND status = ? AND appointment_id <> ? AND reason LIKE ?
AND appointment_id IN (SELECT id FROM appointments WHERE patient_id = ? AND ` + s.filterOnly("starts_at") +
		` > ? AND ` + s.filterOnly("status") + ` IN ` + marks(len(ActiveStatuses)) + `) ORDER BY appointment_id`
}

// AppointmentsWithSkipped returns, by id, the patient's upcoming active
// appointments other than except that have a reminder skipped with a
// reason starting with reasonPrefix (which must hold no LIKE wildcard).
func (s *Store) AppointmentsWithSkipped(ctx context.Context, patientID, except uint, now time.Time, reasonPrefix string) ([]uint, error) {
	// Past GORM (see execRaw): every replan that cancels or moves a
	// reminder runs it.
	args := []any{patientID, KindReminder, string(MsgSkipped), except, reasonPrefix + "%", patientID, now.UTC()}
	for _, st := range ActiveStatuses {
		args = append(args, string(st))
	}
	ids, err := s.uintColumn(ctx, s.appointmentsWithSkippedSQL(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: appointments with skipped reminders: %w", Classify(err))
	}
	return ids, nil
}

// ClaimDue claims up to limit due messages for sending at now: those whose
// lease expired first (they were interrupted), then planned ones by send
// time. Each becomes sending with lease as its lease and one more attempt,
// and in doubt (until its outcome is recorded, a send may be on its way);
// the messages are returned as claimed (Status, Attempts, LeaseUntil and
// UpdatedAt set), with prev holding each one's status and lease before the
// claim. On PostgreSQL candidates are picked with FOR UPDATE SKIP LOCKED,
// so several dispatchers claim disjoint messages.
func (s *Store) ClaimDue(ctx context.Context, now, lease time.Time, limit int) (claimed []*Message, prev []Message, err error) {
	now, lease = DBTime(now), DBTime(lease)
	db := s.conn(ctx)
	var cands []*Message
	err = db.Scopes(s.skipLocked).Where("status = ? AND lease_until <= ?", MsgSending, now).
		Order("lease_until, id").Limit(limit).Find(&cands).Error
	if err != nil {
		return nil, nil, fmt.Errorf("store: claim: %w", Classify(err))
	}
	if n := limit - len(cands); n > 0 {
		var planned []*Message
		err := db.Scopes(s.skipLocked).Where("status = ? AND send_at <= ?", MsgPlanned, now).
			Order("send_at, id").Limit(n).Find(&planned).Error
		if err != nil {
			return nil, nil, fmt.Errorf("store: claim: %w", Classify(err))
		}
		cands = append(cands, planned...)
	}
	if len(cands) == 0 {
		return nil, nil, nil
	}
	ids := make([]uint, len(cands))
	for i, m := range cands {
		ids[i] = m.ID
	}
	var n int64
	err = s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&Message{}).Where("id IN ?", ids).
			Where("(status = ? AND send_at <= ?) OR (status = ? AND lease_until <= ?)", MsgPlanned, now, MsgSending, now).
			Updates(map[string]any{"status": MsgSending, "attempts": gorm.Expr("attempts + 1"), "lease_until": lease, "in_doubt": true, "updated_at": now})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: claim: %w", err)
	}
	if n != int64(len(cands)) {
		// Someone changed a candidate between the select and the update
		// (only possible without row locks): keep what we got.
		var mine []uint
		err := db.Model(&Message{}).Where("id IN ? AND status = ? AND lease_until = ?", ids, MsgSending, lease).
			Pluck("id", &mine).Error
		if err != nil {
			return nil, nil, fmt.Errorf("store: claim: %w", Classify(err))
		}
		got := map[uint]bool{}
		for _, id := range mine {
			got[id] = true
		}
		kept := cands[:0]
		for _, m := range cands {
			if got[m.ID] {
				kept = append(kept, m)
			}
		}
		cands = kept
	}
	prev = make([]Message, len(cands))
	for i, m := range cands {
		prev[i] = *m
		l := lease
		m.Status, m.Attempts, m.LeaseUntil, m.InDoubt, m.UpdatedAt = MsgSending, m.Attempts+1, &l, true, now
	}
	return cands, prev, nil
}

// ClaimPlanned claims one planned message for sending now (staff's "send
// now"), as ClaimDue does; it is ErrConflict when the message is no longer
// planned.
func (s *Store) ClaimPlanned(ctx context.Context, id uint, now, lease time.Time) (claimed *Message, prev Message, err error) {
	m, err := s.LockMessage(ctx, id)
	if err != nil {
		return nil, prev, err
	}
	if m.Status != MsgPlanned {
		return nil, prev, messageChanged(id)
	}
	now, lease = DBTime(now), DBTime(lease)
	ok, err := s.updateMessage(ctx, id, "status = ?", []any{MsgPlanned}, map[string]any{
		"status": MsgSending, "attempts": gorm.Expr("attempts + 1"), "lease_until": lease, "in_doubt": true, "updated_at": now,
	})
	if err != nil {
		return nil, prev, err
	}
	if !ok {
		return nil, prev, messageChanged(id)
	}
	prev = *m
	m.Status, m.Attempts, m.LeaseUntil, m.InDoubt, m.UpdatedAt = MsgSending, m.Attempts+1, &lease, true, now
	return m, prev, nil
}

// skipLocked is a scope for FOR UPDATE SKIP LOCKED on PostgreSQL.
func (s *Store) skipLocked(db *gorm.DB) *gorm.DB { return SkipLocked(s)(db) }

// mineCond is the condition of a message still held by the claim that made
// it sending with that attempt.
const mineCond = "status = ? AND attempts = ?"

// EndClaim ends a claimed message that will not be sent (the claim's
// attempt is taken back).
func (s *Store) EndClaim(ctx context.Context, m *Message, status MessageStatus, reason string, now time.Time) error {
	_, err := s.updateMessage(ctx, m.ID, "", nil, map[string]any{
		"status": status, "reason": Clip(reason, 500), "lease_until": nil, "in_doubt": false,
		"attempts": gorm.Expr("attempts - 1"), "updated_at": DBTime(now),
	})
	return err
}

// HoldClaim puts a claimed message back to wait until until (the end of
// quiet hours), still sending and as much in doubt as it was before the
// claim (prev), with the claim's attempt taken back. The claim's
// transaction holds the message, so no condition is needed.
func (s *Store) HoldClaim(ctx context.Context, m *Message, prev Message, until, now time.Time) error {
	_, err := s.updateMessage(ctx, m.ID, "", nil, map[string]any{
		"lease_until": DBTime(until), "in_doubt": prev.InDoubt,
		"attempts": gorm.Expr("attempts - 1"), "updated_at": DBTime(now),
	})
	return err
}

// ReleaseClaim puts a claimed message back as it was before the claim
// (status, lease, attempt count, doubt, and the text and language written
// at the claim: a planned reminder gets its empty body back, so it renders
// afresh when claimed again, and a retry the text of its last try). It
// reports false when the message is no longer held by this claim.
func (s *Store) ReleaseClaim(ctx context.Context, m *Message, prev Message, now time.Time) (bool, error) {
	cols := map[string]any{
		"status": prev.Status, "lease_until": prev.LeaseUntil, "attempts": gorm.Expr("attempts - 1"), "in_doubt": prev.InDoubt, "updated_at": DBTime(now),
		"body": prev.Body, "language": prev.Language, "fallback_from": prev.FallbackFrom,
	}
	return s.updateMessage(ctx, m.ID, mineCond, []any{MsgSending, m.Attempts}, cols)
}

// SetClaimText stores the text (and its language) written for a claimed
// message at its claim, before it is sent, inside the claim's transaction.
func (s *Store) SetClaimText(ctx context.Context, m *Message, now time.Time) error {
	_, err := s.updateMessage(ctx, m.ID, "", nil, map[string]any{
		"body": m.Body, "language": m.Language, "fallback_from": m.FallbackFrom, "updated_at": DBTime(now),
	})
	return err
}

// DeferClaim keeps a claimed message sending until retryAt, when it is
// tried again, with the reason and error code of the failed try (and its
// rendered body and its language, when body is set); inDoubt says whether
// the failed try may have reached SMS.CX all the same. It reports false
// when the message is no longer held by this claim.
func (s *Store) DeferClaim(ctx context.Context, m *Message, retryAt time.Time, reason string, errorCode *int, body *string, inDoubt bool, now time.Time) (bool, error) {
	cols := map[string]any{"lease_until": DBTime(retryAt), "reason": Clip(reason, 500), "error_code": errorCode, "in_doubt": inDoubt, "updated_at": DBTime(now)}
	if body != nil {
		cols["body"], cols["language"], cols["fallback_from"] = *body, m.Language, m.FallbackFrom
	}
	return s.updateMessage(ctx, m.ID, mineCond, []any{MsgSending, m.Attempts}, cols)
}

// LeaveInDoubt stops trying message m while SMS.CX may have taken it: it
// stays sending and in doubt, with no lease (no claim takes it up again),
// with reason, until a delivery report settles it. mine says the claim's
// try was made (an outcome of the send) and the message must still be
// held by the claim; otherwise the claim's attempt is taken back (the
// claim's checks decided before any try).
func (s *Store) LeaveInDoubt(ctx context.Context, m *Message, reason string, mine bool, now time.Time) (bool, error) {
	cols := map[string]any{"lease_until": nil, "in_doubt": true, "reason": Clip(reason, 500), "updated_at": DBTime(now)}
	if !mine {
		cols["attempts"] = gorm.Expr("attempts - 1")
		return s.updateMessage(ctx, m.ID, "", nil, cols)
	}
	return s.updateMessage(ctx, m.ID, mineCond, []any{MsgSending, m.Attempts}, cols)
}

// SendResult is what SMS.CX said of a send that ended a message.
type SendResult struct {
	Status        MessageStatus
	Reason        string
	ErrorCode     *int
	ProviderID    string
	ProviderState string
	CampaignID    string
}

// EndSend ends a claimed message with what SMS.CX said (a final refusal),
// storing its rendered body (and its language) when body is set. It reports false when the
// message is no longer held by this claim.
func (s *Store) EndSend(ctx context.Context, m *Message, r SendResult, body *string, now time.Time) (bool, error) {
	cols := map[string]any{"status": r.Status, "reason": Clip(r.Reason, 500), "lease_until": nil, "error_code": r.ErrorCode, "in_doubt": false, "updated_at": DBTime(now)}
	if r.ProviderID != "" || r.ProviderState != "" || r.CampaignID != "" {
		cols["provider_message_id"], cols["provider_state"], cols["campaign_id"] = r.ProviderID, r.ProviderState, r.CampaignID
	}
	if body != nil {
		cols["body"], cols["language"], cols["fallback_from"] = *body, m.Language, m.FallbackFrom
	}
	return s.updateMessage(ctx, m.ID, mineCond, []any{MsgSending, m.Attempts}, cols)
}

// Accepted is SMS.CX's answer to a send it accepted.
type Accepted struct {
	ProviderID, ProviderState, CampaignID string
	Parts                                 int
	Cost                                  float64
}

// Column lists of the hot updates, written as plain SQL (no user text).
const (
	sqlAccepted = `UPDATE messages SET status = ?, provider_state = ?, reason = '', error_code = NULL,
		provider_message_id = ?, campaign_id = ?, parts = ?, cost = ?, body = ?, language = ?, fallback_from = ?,
		sent_at = ?, lease_until = NULL, in_doubt = ?, updated_at = ?
		WHERE id = ? AND status = ?`
	sqlAcceptedLate = `UPDATE messages SET provider_message_id = ?, campaign_id = ?, parts = ?, cost = ?,
		sent_at = COALESCE(sent_at, ?), lease_until = NULL, updated_at = ?
		WHERE id = ? AND provider_message_id = '' AND status IN (?, ?, ?, ?)`
)

// MarkAccepted records that SMS.CX accepted message m (its body as sent,
// in its language).
// When the message is no longer sending (a delivery report, matched by our
// UUID, got there first, or another dispatcher took it over and recorded
// it) only the provider fields still empty are filled in, and it reports
// false.
func (s *Store) MarkAccepted(ctx context.Context, m *Message, a Accepted, now time.Time) (bool, error) {
	now = DBTime(now)
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Exec(sqlAccepted, MsgAccepted, a.ProviderState, a.ProviderID, a.CampaignID, a.Parts, a.Cost, m.Body, m.Language, m.FallbackFrom, now, false, now,
			m.ID, MsgSending)
		if res.Error != nil {
			return res.Error
		}
		if n = res.RowsAffected; n > 0 {
			return nil
		}
		return db.Exec(sqlAcceptedLate, a.ProviderID, a.CampaignID, a.Parts, a.Cost, now, now, m.ID,
			MsgAccepted, MsgSent, MsgDelivered, MsgFailed).Error
	})
	if err != nil {
		return false, fmt.Errorf("store: accepted message %d: %w", m.ID, err)
	}
	return n > 0, nil
}

// MessageByProviderID returns the message SMS.CX knows by msgID, locked for
// update on PostgreSQL, or ErrNotFound.
func (s *Store) MessageByProviderID(ctx context.Context, msgID string) (*Message, error) {
	var m Message
	err := s.conn(ctx).Scopes(s.forUpdate).Where("provider_message_id = ?", msgID).Order("id").Take(&m).Error
	if err != nil {
		return nil, fmt.Errorf("message with msgId: %w", Classify(err))
	}
	return &m, nil
}

// MessageByUUID returns the message with our UUID, locked for update on
// PostgreSQL, or ErrNotFound.
func (s *Store) MessageByUUID(ctx context.Context, uuid string) (*Message, error) {
	var m Message
	if err := s.conn(ctx).Scopes(s.forUpdate).Where("uuid = ?", uuid).Take(&m).Error; err != nil {
		return nil, fmt.Errorf("message with uuid: %w", Classify(err))
	}
	return &m, nil
}

// DeliveryUpdate is what a delivery report changes on a message; empty and
// nil fields are left as they are, except ErrorCode, which is written
// whenever Status is.
type DeliveryUpdate struct {
	Status        MessageStatus
	ProviderState string
	ProviderID    string
	CampaignID    string
	SentAt        *time.Time
	DeliveredAt   *time.Time
	Reason        string
	ErrorCode     *int
}

// UpdateDelivery applies u to message id, if its status is still from (when
// u changes the status); it is ErrConflict when the status changed
// meanwhile.
func (s *Store) UpdateDelivery(ctx context.Context, id uint, from MessageStatus, u DeliveryUpdate, now time.Time) error {
	cols := map[string]any{"updated_at": DBTime(now)}
	if u.ProviderID != "" {
		cols["provider_message_id"] = u.ProviderID
	}
	if u.CampaignID != "" {
		cols["campaign_id"] = u.CampaignID
	}
	cond, args := "", []any(nil)
	if u.Status != "" {
		cols["status"], cols["provider_state"] = u.Status, u.ProviderState
		if u.Reason != "" {
			cols["reason"] = Clip(u.Reason, 500)
		}
		if u.Status == MsgFailed || u.Status == MsgRejected {
			cols["error_code"] = u.ErrorCode
		}
		if from == MsgSending {
			// A report settles a send still in flight or waiting for its
			// retry: SMS.CX had it, so it is no longer in doubt and no
			// lease may send it again.
			cols["lease_until"], cols["in_doubt"] = nil, false
		}
		cond, args = "status = ?", []any{from}
	}
	if u.SentAt != nil {
		cols["sent_at"] = DBTime(*u.SentAt)
	}
	if u.DeliveredAt != nil {
		cols["delivered_at"] = DBTime(*u.DeliveredAt)
	}
	ok, err := s.updateMessage(ctx, id, cond, args, cols)
	if err == nil && !ok && u.Status != "" {
		err = messageChanged(id)
	}
	return err
}

// toNumber is the condition "messages.to = number"; "to" is a reserved
// word, so the column goes through GORM's quoting.
func toNumber(number string) clause.Expression {
	return clause.Eq{Column: clause.Column{Name: "to"}, Value: number}
}

// sentStatuses are the states of a message that left us.
var sentStatuses = []MessageStatus{MsgAccepted, MsgSent, MsgDelivered}

// AwaitingAnswer lists the appointments awaiting an answer from number,
// soonest first, with Patient, Location and Provider: active, starting
// after now, of a patient with that number, and with a message of one of
// the asking kinds that left us for that number.
func (s *Store) AwaitingAnswer(ctx context.Context, number string, now time.Time, askingKinds []string) ([]Appointment, error) {
	if number == "" {
		return nil, nil
	}
	db := s.conn(ctx)
	asked := db.Model(&Message{}).Select("appointment_id").
		Where(toNumber(number)).
		Where("appointment_id IS NOT NULL AND kind IN ?", askingKinds).
		Where(db.Where("sent_at IS NOT NULL").Or("status IN ?", sentStatuses))
	var out []Appointment
	err := db.Where("status IN ? AND starts_at > ?", ActiveStatuses, now.UTC()).
		Where("patient_id IN (?)", db.Model(&Patient{}).Select("id").Where(&Patient{Phone: number})).
		Where("id IN (?)", asked).
		Preload("Patient").Preload("Location").Preload("Provider").
		Order("starts_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: appointments awaiting an answer: %w", Classify(err))
	}
	return out, nil
}

// lastMessagedSQL reads the appointment of the latest message to a number.
const lastMessagedSQL = `SELECT appointment_id FROM messages WHERE "to" = ? AND appointment_id IS NOT NULL
ORDER BY id DESC LIMIT 1`

// LastMessagedAppointment returns the appointment of the latest message
// sent to number, 0 if none.
func (s *Store) LastMessagedAppointment(ctx context.Context, number string) (uint, error) {
	// Past GORM (see execRaw): every reply that goes to the inbox runs it.
	ids, err := s.uintColumn(ctx, lastMessagedSQL, number)
	if err != nil {
		return 0, fmt.Errorf("store: last messaged appointment: %w", Classify(err))
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// lastMessagedManySQL is lastMessagedSQL for n numbers at once, each
// looked up by itself as lastMessagedSQL looks up one.
func lastMessagedManySQL(n int) string {
	return `WITH n(num) AS (VALUES ` + strings.Repeat("(CAST(? AS TEXT)),", n-1) + `(CAST(? AS TEXT)))
SELECT n.num, (SELECT appointment_id FROM messages WHERE "to" = n.num AND appointment_id IS NOT NULL
ORDER BY id DESC LIMIT 1) FROM n`
}

// LastMessagedAppointments is LastMessagedAppointment for several numbers
// in one statement: the appointment of the latest message to each, by
// number; a number with none is left out.
func (s *Store) LastMessagedAppointments(ctx context.Context, numbers []string) (map[string]uint, error) {
	out := make(map[string]uint, len(numbers))
	if len(numbers) == 0 {
		return out, nil
	}
	if err := s.messagesVisible(ctx); err != nil {
		return nil, fmt.Errorf("store: last messaged appointments: %w", err)
	}
	numbers = padIn(numbers)
	args := make([]any, len(numbers))
	for i, n := range numbers {
		args[i] = n
	}
	rows, err := s.queryRaw(s.conn(ctx), lastMessagedManySQL(len(numbers)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: last messaged appointments: %w", Classify(err))
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var number string
		var id sql.Null[uint]
		if err := rows.Scan(&number, &id); err != nil {
			return nil, fmt.Errorf("store: last messaged appointments: %w", Classify(err))
		}
		if id.Valid {
			out[number] = id.V
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: last messaged appointments: %w", Classify(err))
	}
	return out, nil
}

// LinkedMessage finds the message a link click or open came from: the
// latest message about an appointment to number in campaign (when given),
// else the latest such message that left us. nil when there is none.
func (s *Store) LinkedMessage(ctx context.Context, number, campaignID string) (*Message, error) {
	db := s.conn(ctx)
	var m Message
	if campaignID != "" {
		err := Classify(db.Where(toNumber(number)).
			Where("campaign_id = ? AND appointment_id IS NOT NULL", campaignID).Order("id DESC").Take(&m).Error)
		if err == nil {
			return &m, nil
		}
		if !isNotFound(err) {
			return nil, fmt.Errorf("store: linked message: %w", err)
		}
	}
	err := Classify(db.Where(toNumber(number)).
		Where("appointment_id IS NOT NULL").
		Where(db.Where("sent_at IS NOT NULL").Or("status IN ?", sentStatuses)).
		Order("id DESC").Take(&m).Error)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: linked message: %w", err)
	}
	return &m, nil
}

// OptOutAcksSince counts the opt-out acknowledgements other than except
// that went out (or are going out) since since, to the patient or to
// number.
func (s *Store) OptOutAcksSince(ctx context.Context, except, patientID uint, number string, since time.Time) (int64, error) {
	db := s.conn(ctx)
	var n int64
	err := db.Model(&Message{}).
		Where("kind = ? AND id <> ? AND created_at >= ? AND status IN ?", KindOptOutAck, except, since.UTC(),
			[]MessageStatus{MsgSending, MsgAccepted, MsgSent, MsgDelivered}).
		Where(db.Where("patient_id = ?", patientID).Or(toNumber(number))).
		Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("store: earlier acknowledgements: %w", Classify(err))
	}
	return n, nil
}

// PatientMessages returns the latest limit messages to a patient (by
// patient or through their appointments), the latest send time first.
func (s *Store) PatientMessages(ctx context.Context, patientID uint, limit int) ([]Message, error) {
	db := s.conn(ctx)
	var ms []Message
	err := db.Where(db.Where("patient_id = ?", patientID).
		Or("appointment_id IN (?)", db.Model(&Appointment{}).Select("id").Where("patient_id = ?", patientID))).
		Order("send_at DESC, id DESC").Limit(limit).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("store: messages of patient %d: %w", patientID, Classify(err))
	}
	return ms, nil
}

// AnswersSince counts the messages of the given kinds created for number
// since since, skipped and cancelled ones aside (those never went out): the
// automatic answers a number got, for their caps.
func (s *Store) AnswersSince(ctx context.Context, number string, kinds []string, since time.Time) (int64, error) {
	n, err := count[Message](ctx, s, `"to" = ? AND kind IN ? AND created_at >= ? AND status NOT IN ?`,
		number, kinds, DBTime(since), []MessageStatus{MsgSkipped, MsgCancelled})
	if err != nil {
		return 0, fmt.Errorf("store: answers to a number: %w", err)
	}
	return n, nil
}
