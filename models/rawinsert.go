package models

import (
	"strings"

	"gorm.io/gorm"
)

// Multi-row inserts of the rows every applied webhook event writes
// (timeline lines, domain events), run past GORM (see execRaw): GORM's
// Create reads each row by reflection and builds each value's placeholder
// one at a time, which cost more than SQLite took to store the row.

// timelineChunk bounds the rows of one timeline insert (6 values each).
const timelineChunk = 200

// insertTimeline inserts entries, their times and details already
// brought to the database's form, in one statement per timelineChunk
// (see chunks).
func (s *Store) insertTimeline(db *gorm.DB, entries []TimelineEntry) error {
	for lo, hi := range s.chunks(len(entries), timelineChunk) {
		part := entries[lo:hi]
		var q strings.Builder
		q.WriteString("INSERT INTO timeline_entries (appointment_id, at, kind, detail, message_id, user_id) VALUES ")
		args := make([]any, 0, 6*len(part))
		for i := range part {
			e := &part[i]
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?,?,?)")
			args = append(args, e.AppointmentID, e.At, e.Kind, e.Detail, e.MessageID, e.UserID)
		}
		if _, err := s.execRaw(db, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// eventChunk bounds the rows of one insert of domain events (10 values
// each).
const eventChunk = 500

// insertEventRows inserts events in one statement per eventChunk (see
// chunks) and gives each its id, read back in the order the rows were
// written (as GORM's Create reads them).
func (s *Store) insertEventRows(db *gorm.DB, events []Event) error {
	for lo, hi := range s.chunks(len(events), eventChunk) {
		part := events[lo:hi]
		var q strings.Builder
		q.WriteString("INSERT INTO events (at, type, appointment_id, patient_id, message_id, inbound_id, status, source, detail, due_at) VALUES ")
		args := make([]any, 0, 10*len(part))
		for i := range part {
			e := &part[i]
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?,?,?,?,?,?,?)")
			args = append(args, e.At, e.Type, e.AppointmentID, e.PatientID, e.MessageID, e.InboundID, e.Status, e.Source, e.Detail, e.DueAt)
		}
		q.WriteString(" RETURNING id")
		if err := s.readIDs(db, q.String(), args, part); err != nil {
			return err
		}
	}
	return nil
}

// readIDs runs the insert q with args and gives the events of part the ids
// it returns, in order.
func (s *Store) readIDs(db *gorm.DB, q string, args []any, part []Event) error {
	rows, err := s.queryRaw(db, q, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for i := 0; rows.Next(); i++ {
		if i < len(part) {
			if err := rows.Scan(&part[i].ID); err != nil {
				return err
			}
		}
	}
	return rows.Err()
}
