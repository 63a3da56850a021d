package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// A run of opt-outs is applied a set at a time: the statements below each
// cover every patient of the run, where opting out one patient at a time
// took a handful of statements per patient.

// PlannedRef is a planned message as a set of opt-outs cancels it: enough
// to record its domain event and to know whose it is.
type PlannedRef struct {
	ID            uint
	Kind          string
	AppointmentID *uint
	PatientID     *uint
	// OwnerID is the patient of its appointment (nil without one).
	OwnerID *uint
}

// PlannedForPatients is PlannedForPatient for several patients in one
// statement: the planned messages to any of patientIDs (by patient or
// through their appointments), except those of kind except, by id.
func (s *Store) PlannedForPatients(ctx context.Context, patientIDs []uint, except string) ([]PlannedRef, error) {
	if len(patientIDs) == 0 {
		return nil, nil
	}
	patientIDs = padIn(patientIDs)
	in := marks(len(patientIDs))
	args := make([]any, 0, 4+2*len(patientIDs))
	for range 2 {
		args = append(args, MsgPlanned, except)
		for _, id := range patientIDs {
			args = append(args, id)
		}
	}
	// Two selects, each reading through an index (messages by patient,
	// appointments by patient): one select with the two conditions ORed
	// reads every planned message instead, and so does SQLite without
	// statistics unless the status is only a filter (see filterOnly).
	const cols = "SELECT m.id, m.kind, m.appointment_id, m.patient_id, a.patient_id FROM messages m"
	status := s.filterOnly("m.status")
	q := cols + " LEFT JOIN appointments a ON a.id = m.appointment_id" +
		" WHERE " + status + " = ? AND m.kind <> ? AND m.patient_id IN " + in +
		" UNION " + cols + " JOIN appointments a ON a.id = m.appointment_id" +
		" WHERE " + status + " = ? AND m.kind <> ? AND a.patient_id IN " + in +
		" ORDER BY 1"
	var out []PlannedRef
	err := func() error {
		if err := s.messagesVisible(ctx); err != nil {
			return err
		}
		rows, err := s.queryRaw(s.conn(ctx), q, args...)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var r PlannedRef
			if err := rows.Scan(&r.ID, &r.Kind, &r.AppointmentID, &r.PatientID, &r.OwnerID); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("store: planned messages of patients: %w", Classify(err))
	}
	return out, nil
}

// EndPlannedSet is EndPlanned for several messages, in one statement per
// setChunk of them (see chunks): each still planned gets status and reason; it returns
// the ids it changed (the others were claimed or ended meanwhile).
func (s *Store) EndPlannedSet(ctx context.Context, ids []uint, status MessageStatus, reason string, now time.Time) (map[uint]bool, error) {
	done := make(map[uint]bool, len(ids))
	if len(ids) == 0 {
		return done, nil
	}
	end := func(db *gorm.DB, ids []uint) error {
		ids = padIn(ids)
		args := make([]any, 0, 4+len(ids))
		args = append(args, status, Clip(reason, 500), DBTime(now), MsgPlanned)
		for _, id := range ids {
			args = append(args, id)
		}
		q := "UPDATE messages SET status = ?, reason = ?, lease_until = NULL, updated_at = ? WHERE status = ? AND id IN " +
			marks(len(ids)) + " RETURNING id"
		rows, err := s.queryRaw(db, q, args...)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var id uint
			if err := rows.Scan(&id); err != nil {
				return err
			}
			done[id] = true
		}
		return rows.Err()
	}
	err := s.write(ctx, func(db *gorm.DB) error {
		if err := s.messagesVisible(ctx); err != nil {
			return err
		}
		defer s.messagesChanged(ctx)
		for lo, hi := range s.chunks(len(ids), setChunk) {
			if err := end(db, ids[lo:hi]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: end planned messages: %w", err)
	}
	return done, nil
}

// SetOptOuts is SetOptOut (opting out) for several patients with one
// source, in one statement.
func (s *Store) SetOptOuts(ctx context.Context, ids []uint, at time.Time, source string) error {
	if len(ids) == 0 {
		return nil
	}
	at = DBTime(at)
	ids = padIn(ids)
	args := make([]any, 0, 3+len(ids))
	args = append(args, at, source, at)
	for _, id := range ids {
		args = append(args, id)
	}
	err := s.write(ctx, func(db *gorm.DB) error {
		_, err := s.execRaw(db, "UPDATE patients SET opted_out_at = ?, opt_out_source = ?, updated_at = ? WHERE id IN "+
			marks(len(ids)), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: opt-out of patients: %w", err)
	}
	return nil
}

// UpcomingAppointmentIDs returns, for each of patientIDs, the ids of its
// appointments in one of statuses starting at or after from, by start
// (then id), as AppointmentIDs lists them for one patient; one statement.
func (s *Store) UpcomingAppointmentIDs(ctx context.Context, patientIDs []uint, from time.Time, statuses []AppointmentStatus) (map[uint][]uint, error) {
	out := make(map[uint][]uint, len(patientIDs))
	if len(patientIDs) == 0 || len(statuses) == 0 {
		return out, nil
	}
	patientIDs = padIn(patientIDs)
	args := make([]any, 0, 1+len(statuses)+len(patientIDs))
	args = append(args, from.UTC())
	for _, st := range statuses {
		args = append(args, st)
	}
	for _, id := range patientIDs {
		args = append(args, id)
	}
	q := "SELECT patient_id, id FROM appointments WHERE starts_at >= ? AND status IN " + marks(len(statuses)) +
		" AND patient_id IN " + marks(len(patientIDs)) + " ORDER BY starts_at, id"
	err := func() error {
		rows, err := s.queryRaw(s.conn(ctx), q, args...)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var pid, id uint
			if err := rows.Scan(&pid, &id); err != nil {
				return err
			}
			out[pid] = append(out[pid], id)
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("store: upcoming appointments of patients: %w", Classify(err))
	}
	return out, nil
}
