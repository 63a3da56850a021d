package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The reads and writes of a run of replies applied together (see
// app/conversation's ApplyBatch): each does for a set of numbers or
// messages, in one or a few statements, what its single counterpart does
// for one.

// LockPatientsByPhones is LockPatientsByPhone for each of phones at once:
// their patients (not erased), oldest first, locked for the rest of the
// transaction, keyed by number.
func (s *Store) LockPatientsByPhones(ctx context.Context, phones []string) (map[string][]Patient, error) {
	out := map[string][]Patient{}
	want := nonEmpty(phones)
	if len(want) == 0 {
		return out, nil
	}
	var ps []Patient
	err := s.conn(ctx).Scopes(s.forUpdate).Where("phone IN ?", want).Where(notErased).Order("id").Find(&ps).Error
	if err != nil {
		return nil, fmt.Errorf("store: patients by phone: %w", Classify(err))
	}
	for _, p := range ps {
		out[p.Phone] = append(out[p.Phone], p)
	}
	return out, nil
}

// AwaitingAnswers is AwaitingAnswer for each of numbers at once, keyed by
// number, in four statements whatever their count: the asking messages,
// then the appointments with their Patient, Location and Provider.
func (s *Store) AwaitingAnswers(ctx context.Context, numbers []string, now time.Time, askingKinds []string) (map[string][]Appointment, error) {
	out := map[string][]Appointment{}
	want := nonEmpty(numbers)
	if len(want) == 0 {
		return out, nil
	}
	db := s.conn(ctx)
	var asked []struct {
		AppointmentID uint
		To            string
	}
	err := db.Model(&Message{}).Select(`DISTINCT appointment_id, "to"`).
		Where(clause.IN{Column: clause.Column{Name: "to"}, Values: anys(want)}).
		Where("appointment_id IS NOT NULL AND kind IN ?", askingKinds).
		Where(db.Where("sent_at IS NOT NULL").Or("status IN ?", sentStatuses)).
		Scan(&asked).Error
	if err != nil {
		return nil, fmt.Errorf("store: appointments awaiting an answer: %w", Classify(err))
	}
	if len(asked) == 0 {
		return out, nil
	}
	// An appointment counts for a number only when a message asked it at
	// that very number.
	askedAt := make(map[uint][]string, len(asked))
	ids := make([]uint, 0, len(asked))
	for _, m := range asked {
		if askedAt[m.AppointmentID] == nil {
			ids = append(ids, m.AppointmentID)
		}
		askedAt[m.AppointmentID] = append(askedAt[m.AppointmentID], m.To)
	}
	var as []Appointment
	err = db.Where("status IN ? AND starts_at > ?", ActiveStatuses, now.UTC()).
		Where("patient_id IN (?)", db.Model(&Patient{}).Select("id").Where("phone IN ?", want)).
		Where("id IN ?", ids).
		Preload("Patient").Preload("Location").Preload("Provider").
		Order("starts_at, id").Find(&as).Error
	if err != nil {
		return nil, fmt.Errorf("store: appointments awaiting an answer: %w", Classify(err))
	}
	for _, a := range as {
		if a.Patient == nil {
			continue
		}
		for _, to := range askedAt[a.ID] {
			if to == a.Patient.Phone {
				out[to] = append(out[to], a)
				break
			}
		}
	}
	return out, nil
}

// inboundColumns are the columns AddInbounds writes, in order.
const inboundColumns = `provider_message_id, "from", "to", text, received_at, patient_id, appointment_id, intent, candidates, needs_attention, handled_by_id, handled_at, handled_note, created_at`

// AddInbounds is AddInbound for several messages at once, in one
// statement: each is stored unless one with the same provider id is
// stored already, and added[i] reports whether ins[i] was (its ID then
// set). The messages' provider ids must differ; they are stored in order.
func (s *Store) AddInbounds(ctx context.Context, ins []*InboundMessage) ([]bool, error) {
	added := make([]bool, len(ins))
	if len(ins) == 0 {
		return added, nil
	}
	var sql strings.Builder
	sql.WriteString("INSERT INTO inbound_messages (" + inboundColumns + ") VALUES ")
	args := make([]any, 0, 14*len(ins))
	at := make(map[string]int, len(ins))
	for i, in := range ins {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
		args = append(args, in.ProviderID, in.From, in.To, in.Text, in.ReceivedAt, in.PatientID, in.AppointmentID,
			in.Intent, in.Candidates, in.NeedsAttention, in.HandledByID, in.HandledAt, in.HandledNote, in.CreatedAt)
		at[in.ProviderID] = i
	}
	sql.WriteString(" ON CONFLICT (provider_message_id) DO NOTHING RETURNING id, provider_message_id")
	var rows []struct {
		ID                uint
		ProviderMessageID string
	}
	err := s.write(ctx, func(db *gorm.DB) error { return db.Raw(sql.String(), args...).Scan(&rows).Error })
	if err != nil {
		return nil, fmt.Errorf("store: add inbound messages: %w", err)
	}
	for _, r := range rows {
		if i, ok := at[r.ProviderMessageID]; ok {
			ins[i].ID, added[i] = r.ID, true
		}
	}
	return added, nil
}

// DeferringLogs runs fn in the transaction ctx carries with the timeline
// entries and audit rows it writes kept (as DeferLogs keeps them) and
// stored together, in order, when fn returns without an error: a run of
// writes saves a statement per entry, and the entries still come before
// those written after fn. Nothing in fn may read the timeline or the audit
// log. Outside a transaction, or when the transaction defers them already,
// it only runs fn.
func (s *Store) DeferringLogs(ctx context.Context, fn func(ctx context.Context) error) error {
	st := s.txOf(ctx)
	if st == nil || st.deferLogs {
		return fn(ctx)
	}
	st.deferLogs = true
	err := fn(ctx)
	st.deferLogs = false
	if err != nil {
		st.timeline, st.audit = nil, nil
		return err
	}
	return s.storeDeferredLogs(ctx, st)
}

func nonEmpty(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
