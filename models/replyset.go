package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
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
	// Past GORM (see execRaw): every set of replies and of opt-outs runs
	// it.
	want = padIn(want)
	q := "SELECT " + patientColumns + " FROM patients WHERE phone IN " + marks(len(want)) + " AND " + notErased + " ORDER BY id"
	if s.driver == DriverPostgres {
		q += " FOR UPDATE"
	}
	args := make([]any, len(want))
	for i, p := range want {
		args[i] = p
	}
	err := func() error {
		rows, err := s.queryRaw(s.conn(ctx), q, args...)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var p Patient
			if err := scanPatient(rows, &p); err != nil {
				return err
			}
			out[p.Phone] = append(out[p.Phone], p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return rows.Close()
	}()
	if err != nil {
		return nil, fmt.Errorf("store: patients by phone: %w", Classify(err))
	}
	return out, nil
}

// AwaitingAnswers is AwaitingAnswer for each number of patients (the
// patients with that number, as LockPatientsByPhones returns them) at
// once, keyed by number: one statement reads the appointments and one
// their providers, whatever the count; Patient is taken from patients and
// Location from the read cache ctx may carry.
func (s *Store) AwaitingAnswers(ctx context.Context, patients map[string][]Patient, now time.Time, askingKinds []string) (map[string][]Appointment, error) {
	out := map[string][]Appointment{}
	byID := map[uint]*Patient{}
	for number, ps := range patients {
		if number == "" {
			continue
		}
		for i := range ps {
			byID[ps[i].ID] = &ps[i]
		}
	}
	if len(byID) == 0 {
		return out, nil
	}
	ids := make([]uint, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	ids = padIn(ids)
	// A message of an asking kind must have left us for the number of the
	// appointment's patient. Run past GORM (see execRaw): with the short
	// sets of a mixed stream, it runs for a few replies each time.
	if err := s.messagesVisible(ctx); err != nil {
		return nil, fmt.Errorf("store: appointments awaiting an answer: %w", err)
	}
	q, args := s.awaitingSQL(ids, now, askingKinds)
	as, err := s.queryAppointments(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: appointments awaiting an answer: %w", Classify(err))
	}
	var providerIDs []uint
	for _, a := range as {
		if a.ProviderID != nil {
			providerIDs = append(providerIDs, *a.ProviderID)
		}
	}
	providers, err := byIDs(ctx, s, providerIDs, func(p *Provider) uint { return p.ID })
	if err != nil {
		return nil, fmt.Errorf("store: appointments awaiting an answer: %w", err)
	}
	for i := range as {
		if as[i].ProviderID != nil {
			as[i].Provider = providers[*as[i].ProviderID]
		}
	}
	for _, a := range as {
		p := *byID[a.PatientID]
		a.Patient = &p
		if a.Location, err = s.cachedLocation(ctx, a.LocationID); err != nil {
			return nil, fmt.Errorf("store: appointments awaiting an answer: %w", err)
		}
		out[p.Phone] = append(out[p.Phone], a)
	}
	return out, nil
}

// PatientsWithOffers returns which of patientIDs have an offer of new
// times, in any state, in one statement: for those without one,
// LatestOffer is ErrNotFound until one is made.
func (s *Store) PatientsWithOffers(ctx context.Context, patientIDs []uint) (map[uint]bool, error) {
	out := map[uint]bool{}
	if len(patientIDs) == 0 {
		return out, nil
	}
	patientIDs = padIn(patientIDs)
	args := make([]any, len(patientIDs))
	for i, id := range patientIDs {
		args[i] = id
	}
	rows, err := s.queryRaw(s.conn(ctx), "SELECT DISTINCT patient_id FROM reschedule_offers WHERE patient_id IN "+marks(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: patients with offers: %w", Classify(err))
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var id uint
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: patients with offers: %w", Classify(err))
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: patients with offers: %w", Classify(err))
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
	// Past GORM (see execRaw): GORM walked all 14 arguments of every row
	// to build the statement. Its callbacks took the statement for one on
	// messages (the table's name holds the word), and so does this.
	err := s.write(ctx, func(db *gorm.DB) error {
		if err := s.messagesVisible(ctx); err != nil {
			return err
		}
		s.messagesChanged(ctx)
		rows, err := s.queryRaw(db, sql.String(), args...)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var id uint
			var ref string
			if err := rows.Scan(&id, &ref); err != nil {
				return err
			}
			if i, ok := at[ref]; ok {
				ins[i].ID, added[i] = id, true
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return rows.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("store: add inbound messages: %w", err)
	}
	return added, nil
}

// SaveInboundDecisions is SaveInboundDecision for several stored messages
// at once, in one statement per 500 (see chunks): each gets the patient, appointment,
// intent, candidates and attention flag it carries. The messages' ids
// must differ.
func (s *Store) SaveInboundDecisions(ctx context.Context, ins []InboundMessage) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		// As for AddInbounds, GORM's callbacks took this for a statement
		// on messages.
		if err := s.messagesVisible(ctx); err != nil {
			return err
		}
		s.messagesChanged(ctx)
		row := "(" + s.cast("bigint") + "," + s.cast("bigint") + "," + s.cast("bigint") + "," +
			s.cast("text") + "," + s.cast("text") + "," + s.cast("boolean") + ")"
		for lo, hi := range s.chunks(len(ins), setChunk) {
			part := ins[lo:hi]
			var q strings.Builder
			args := make([]any, 0, 6*len(part))
			q.WriteString("UPDATE inbound_messages SET patient_id = v.column2, appointment_id = v.column3, intent = v.column4, " +
				"candidates = v.column5, needs_attention = v.column6 FROM (VALUES ")
			for i := range part {
				in := &part[i]
				if i > 0 {
					q.WriteByte(',')
				}
				q.WriteString(row)
				args = append(args, in.ID, in.PatientID, in.AppointmentID, in.Intent, in.Candidates, in.NeedsAttention)
			}
			args = s.padValues(&q, args, len(part), row)
			q.WriteString(") AS v WHERE inbound_messages.id = v.column1")
			if err := s.execEach(db, q.String(), args, len(part), "inbound messages gone meanwhile"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: inbound decisions: %w", err)
	}
	return nil
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

// awaitingSQL is AwaitingAnswers' query for the appointments of the
// patients ids. The patients have a few appointments each, so they are
// read through the patient index only: SQLite is kept off the state and
// time indexes by filterOnly, and PostgreSQL, which would combine all
// three (reading an entry for every upcoming appointment), reads the
// patients' appointments first, MATERIALIZED, and filters them after.
func (s *Store) awaitingSQL(ids []uint, now time.Time, askingKinds []string) (string, []any) {
	var q strings.Builder
	args := make([]any, 0, len(ActiveStatuses)+1+len(ids)+len(askingKinds)+len(sentStatuses))
	from := "appointments"
	if s.driver != DriverSQLite {
		from = "mine"
		q.WriteString("WITH mine AS MATERIALIZED (SELECT * FROM appointments WHERE patient_id IN " + marks(len(ids)) + ") ")
		for _, id := range ids {
			args = append(args, id)
		}
	}
	q.WriteString("SELECT " + appointmentColumns + " FROM " + from + " WHERE " + s.filterOnly("status") + " IN " +
		marks(len(ActiveStatuses)) + " AND " + s.filterOnly("starts_at") + " > ?")
	for _, st := range ActiveStatuses {
		args = append(args, string(st))
	}
	args = append(args, now.UTC())
	if s.driver == DriverSQLite {
		q.WriteString(" AND patient_id IN " + marks(len(ids)))
		for _, id := range ids {
			args = append(args, id)
		}
	}
	q.WriteString(` AND EXISTS (SELECT 1 FROM messages JOIN patients ON patients.id = ` + from + `.patient_id
		WHERE messages.appointment_id = ` + from + `.id AND messages."to" = patients.phone
		AND messages.kind IN ` + marks(len(askingKinds)) + " AND (messages.sent_at IS NOT NULL OR messages.status IN " +
		marks(len(sentStatuses)) + ")) ORDER BY starts_at, id")
	for _, k := range askingKinds {
		args = append(args, k)
	}
	for _, st := range sentStatuses {
		args = append(args, string(st))
	}
	return q.String(), args
}
