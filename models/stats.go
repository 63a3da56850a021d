package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// StatsRange selects the appointments figures are counted over: those
// starting in [From, To) at one location, or at every location when
// LocationID is 0. DayStarts, when set, are the day boundaries inside the
// range (each day's first instant, in order): counts are then split by day.
type StatsRange struct {
	From, To   time.Time
	LocationID uint
	DayStarts  []time.Time
}

// scope limits a query on appointments to r; the range comes first, as the
// indexes lead with it (location_id joins it in
// idx_appointments_location_start).
func (r StatsRange) scope(db *gorm.DB) *gorm.DB {
	db = db.Where("appointments.starts_at >= ? AND appointments.starts_at < ?", r.From.UTC(), r.To.UTC())
	if r.LocationID != 0 {
		db = db.Where("appointments.location_id = ?", r.LocationID)
	}
	return db
}

// AppointmentGroup is one group of the range's appointments: those of one
// day, in one state, with the same reach.
type AppointmentGroup struct {
	// Day indexes StatsRange.DayStarts (0 without days).
	Day    int
	Status AppointmentStatus
	// Reached: a reminder or booking confirmation left for SMS.CX (sent_at
	// set). Replied: the patient replied about the appointment.
	Reached, Replied bool
	// N counts the group; Confirmed those with confirmed_at set; OptedOut
	// those whose patient opted out.
	N, Confirmed, OptedOut int64
}

// CountAppointments groups the range's appointments by day, state and
// reach, in one pass: each appointment is visited once (by the range index)
// with its patient (by primary key); two probes by the indexed
// appointment_id find a sent reminder and a reply. The flags are group
// keys, so each probe runs once a row. The day is computed in SQL from the
// day boundaries (bound parameters), which keeps daylight-saving days right
// on SQLite and PostgreSQL alike.
func (s *Store) CountAppointments(ctx context.Context, r StatsRange) ([]AppointmentGroup, error) {
	var sb strings.Builder
	var args []any
	if len(r.DayStarts) <= 1 {
		sb.WriteString("0")
	} else {
		sb.WriteString("CASE")
		for i := 1; i < len(r.DayStarts); i++ {
			fmt.Fprintf(&sb, " WHEN appointments.starts_at < ? THEN %d", i-1)
			args = append(args, r.DayStarts[i].UTC())
		}
		fmt.Fprintf(&sb, " ELSE %d END", len(r.DayStarts)-1)
	}
	args = append(args, KindReminder, KindBookingConfirm)
	reach := "(CASE WHEN EXISTS (SELECT 1 FROM messages WHERE messages.appointment_id = appointments.id " +
		"AND messages.sent_at IS NOT NULL AND messages.kind IN (?, ?)) THEN 1 ELSE 0 END + " +
		"CASE WHEN EXISTS (SELECT 1 FROM inbound_messages WHERE inbound_messages.appointment_id = appointments.id) THEN 2 ELSE 0 END)"
	rows, err := s.conn(ctx).Table("appointments").Scopes(r.scope).
		Joins("JOIN patients ON patients.id = appointments.patient_id").
		Select(sb.String()+" AS day, appointments.status AS status, "+reach+" AS reach, COUNT(*) AS n, "+
			"SUM(CASE WHEN appointments.confirmed_at IS NOT NULL THEN 1 ELSE 0 END) AS confirmed, "+
			"SUM(CASE WHEN patients.opted_out_at IS NOT NULL THEN 1 ELSE 0 END) AS opted", args...).
		Group("day, appointments.status, reach").Rows()
	if err != nil {
		return nil, fmt.Errorf("store: count appointments: %w", Classify(err))
	}
	defer func() { _ = rows.Close() }()
	var out []AppointmentGroup
	for rows.Next() {
		var g AppointmentGroup
		var status string
		var bits int
		if err := rows.Scan(&g.Day, &status, &bits, &g.N, &g.Confirmed, &g.OptedOut); err != nil {
			return nil, fmt.Errorf("store: count appointments: %w", Classify(err))
		}
		g.Status = AppointmentStatus(status)
		g.Reached, g.Replied = bits&1 != 0, bits&2 != 0
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count appointments: %w", Classify(err))
	}
	return out, nil
}

// CountMessages counts the messages of the range's appointments by state,
// reaching them through the indexed messages.appointment_id.
func (s *Store) CountMessages(ctx context.Context, r StatsRange) (map[MessageStatus]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.conn(ctx).Table("appointments").Scopes(r.scope).
		Joins("JOIN messages ON messages.appointment_id = appointments.id").
		Select("messages.status AS status, COUNT(*) AS n").
		Group("messages.status").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: count messages: %w", Classify(err))
	}
	out := make(map[MessageStatus]int64, len(rows))
	for _, row := range rows {
		out[MessageStatus(row.Status)] += row.N
	}
	return out, nil
}

// FailedMessage is one message that did not reach the patient, with what
// a list of them shows.
type FailedMessage struct {
	MessageID     uint
	AppointmentID uint
	Status        MessageStatus
	Kind          string
	RuleName      string
	Reason        string
	SendAt        time.Time
	StartsAt      time.Time
	FirstName     string
	LastName      string
	// TimeZone is the appointment's location's zone.
	TimeZone string
}

// FailedMessages lists up to limit failed or rejected messages of the
// range's soonest appointments, in appointment order. Walking the range in
// start order lets the query stop after limit finds.
func (s *Store) FailedMessages(ctx context.Context, r StatsRange, limit int) ([]FailedMessage, error) {
	var rows []FailedMessage
	err := s.conn(ctx).Table("appointments").Scopes(r.scope).
		Joins("JOIN messages ON messages.appointment_id = appointments.id").
		Joins("JOIN patients ON patients.id = appointments.patient_id").
		Joins("JOIN locations ON locations.id = appointments.location_id").
		Where("messages.status IN ?", []MessageStatus{MsgFailed, MsgRejected}).
		Select("messages.id AS message_id, appointments.id AS appointment_id, messages.status AS status, " +
			"messages.kind AS kind, messages.rule_name AS rule_name, messages.reason AS reason, " +
			"messages.send_at AS send_at, appointments.starts_at AS starts_at, " +
			"CASE WHEN patients.erased_at IS NULL THEN patients.first_name ELSE '" + ErasedName + "' END AS first_name, " +
			"patients.last_name AS last_name, locations.time_zone AS time_zone").
		Order("appointments.starts_at, appointments.id, messages.id").Limit(limit).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: failed messages: %w", Classify(err))
	}
	return rows, nil
}

// OptedOutPatient is one opted-out patient with an appointment in a range.
type OptedOutPatient struct {
	PatientID           uint
	FirstName, LastName string
	OptedOutAt          time.Time
	Source              string
}

// OptedOutInRange lists the opted-out patients of the range's soonest
// appointments, each patient once, at most limit; like FailedMessages, it
// stops early.
func (s *Store) OptedOutInRange(ctx context.Context, r StatsRange, limit int) ([]OptedOutPatient, error) {
	var rows []OptedOutPatient
	err := s.conn(ctx).Table("appointments").Scopes(r.scope).
		Joins("JOIN patients ON patients.id = appointments.patient_id").
		Where("patients.opted_out_at IS NOT NULL").
		Select("patients.id AS patient_id, patients.first_name AS first_name, patients.last_name AS last_name, " +
			"patients.opted_out_at AS opted_out_at, patients.opt_out_source AS source").
		Order("appointments.starts_at, appointments.id").Limit(2 * limit).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: opted-out patients: %w", Classify(err))
	}
	seen := map[uint]bool{}
	out := rows[:0]
	for _, r := range rows {
		if seen[r.PatientID] || len(out) == limit {
			continue
		}
		seen[r.PatientID] = true
		out = append(out, r)
	}
	return out, nil
}

// CountAttention counts the inbound messages that were flagged for a
// person (handled or not).
func (s *Store) CountAttention(ctx context.Context) (int64, error) {
	n, err := count[InboundMessage](ctx, s, "needs_attention = ?", true)
	if err != nil {
		return 0, fmt.Errorf("store: count attention: %w", err)
	}
	return n, nil
}
