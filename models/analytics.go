package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// AnalyticsRange selects the appointments the analytics count: those
// starting in [From, To). Offsets gives, for each location, the spans of
// its zone's offset from UTC over the times reminders may have been sent:
// the local hour of a reminder is computed in SQL from them.
type AnalyticsRange struct {
	From, To time.Time
	Offsets  []OffsetSpan
}

// OffsetSpan says that before Until (or from the previous span on, for
// the last span of a location when Until is zero) the zone of LocationID
// is Seconds ahead of UTC.
type OffsetSpan struct {
	LocationID uint
	Until      time.Time
	Seconds    int
}

// OutcomeGroup is one group of the range's appointments: those with the
// same attributed reminder, local hour, patient language, provider,
// location and appointment flags. See docs/analytics.md for the meaning of
// each column.
type OutcomeGroup struct {
	// Reminded: at least one reminder of the appointment left for SMS.CX.
	Reminded bool
	// Attributed: a reminder was sent at or before the confirmation (or
	// at all, when the appointment holds no confirmation); RuleID is the
	// rule of the last such reminder (0: a rule that no longer exists).
	Attributed bool
	RuleID     uint
	// Hour is the local hour (0 to 23) the attributed reminder was sent,
	// in its appointment's location's zone; -1 without one.
	Hour       int
	Language   string
	ProviderID uint
	LocationID uint
	// TypeID is the appointment's type (0: none).
	TypeID uint
	// N counts the group's appointments; the others count those that hold
	// a confirmation, are cancelled, were moved to another time, are
	// no-shows, and have an outcome (completed or no-show).
	N, Confirmed, Cancelled, Rescheduled, NoShow, Outcome int64
}

// RefillGroup counts the freed appointments of one location, provider
// and type whose freed time starts in the range and was offered to the
// waitlist (Offered), and those of them an offer of which was taken
// (Taken).
type RefillGroup struct {
	LocationID, ProviderID, TypeID uint
	Offered, Taken                 int64
}

// refillFrom is the join and range of the refill counts.
const refillFrom = ` FROM waitlist_offers o JOIN waitlist_slots s ON s.id = o.slot_id
WHERE s.starts_at >= ? AND s.starts_at < ?`

// refillCounts is the SQL of the two counts of freed appointments.
const refillCounts = `COUNT(DISTINCT o.freed_appointment_id),
  COUNT(DISTINCT CASE WHEN o.status = ? THEN o.freed_appointment_id END)`

// CountRefills counts the range's freed appointments offered to the
// waitlist and those taken, by location, provider and type (the freed
// time's), and over the whole range (each freed appointment once).
func (s *Store) CountRefills(ctx context.Context, r AnalyticsRange) (groups []RefillGroup, total RefillGroup, err error) {
	args := []any{WaitlistTaken, r.From.UTC(), r.To.UTC()}
	rows, err := s.conn(ctx).Raw("SELECT s.location_id, COALESCE(s.provider_id, 0), COALESCE(s.appointment_type_id, 0), "+
		refillCounts+refillFrom+" GROUP BY s.location_id, COALESCE(s.provider_id, 0), COALESCE(s.appointment_type_id, 0)", args...).Rows()
	if err != nil {
		return nil, total, fmt.Errorf("store: count refills: %w", Classify(err))
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var g RefillGroup
		if err := rows.Scan(&g.LocationID, &g.ProviderID, &g.TypeID, &g.Offered, &g.Taken); err != nil {
			return nil, total, fmt.Errorf("store: count refills: %w", Classify(err))
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, total, fmt.Errorf("store: count refills: %w", Classify(err))
	}
	if err := s.conn(ctx).Raw("SELECT "+refillCounts+refillFrom, args...).Row().Scan(&total.Offered, &total.Taken); err != nil {
		return nil, total, fmt.Errorf("store: count refills: %w", Classify(err))
	}
	return groups, total, nil
}

// ReminderSends is what the reminders of one rule did for the range's
// appointments: how many were sent and delivered. RuleID 0 gathers the
// reminders of rules that no longer exist.
type ReminderSends struct {
	RuleID          uint
	Sent, Delivered int64
}

// epochExpr is SQL for the seconds since 1970 of a time column.
func (s *Store) epochExpr(col string) string {
	if s.driver == DriverPostgres {
		return "CAST(FLOOR(EXTRACT(EPOCH FROM " + col + ")) AS BIGINT)"
	}
	return "CAST(strftime('%s', " + col + ") AS INTEGER)"
}

// offsetExpr is SQL for the zone offset, in seconds, of the location in
// locCol at the time in timeCol, from spans.
func offsetExpr(spans []OffsetSpan, locCol, timeCol string) (string, []any) {
	if len(spans) == 0 {
		return "0", nil
	}
	var sb strings.Builder
	var args []any
	sb.WriteString("CASE")
	for _, sp := range spans {
		if sp.Until.IsZero() {
			fmt.Fprintf(&sb, " WHEN %s = ? THEN %d", locCol, sp.Seconds)
			args = append(args, sp.LocationID)
			continue
		}
		fmt.Fprintf(&sb, " WHEN %s = ? AND %s < ? THEN %d", locCol, timeCol, sp.Seconds)
		args = append(args, sp.LocationID, sp.Until.UTC())
	}
	sb.WriteString(" ELSE 0 END")
	return sb.String(), args
}

// CountOutcomes groups the range's appointments by their attributed
// reminder, its local hour, language, provider and location, counting
// their outcomes, in one statement: each appointment of the range is
// visited once by the start index, with its patient by primary key; probes
// of the indexes on appointment_id find the attributed reminder (its rule
// and its time), a move, and, for an appointment confirmed before any
// reminder, whether one was sent after. Only the groups leave the
// database.
func (s *Store) CountOutcomes(ctx context.Context, r AnalyticsRange) ([]OutcomeGroup, error) {
	off, offArgs := offsetExpr(r.Offsets, "x.location_id", "x.last_sent")
	hour := "CASE WHEN x.last_sent IS NULL THEN -1 ELSE ((" + s.epochExpr("x.last_sent") + " + " + off + ") / 3600) % 24 END"
	// The attributed reminder's rule and time, each read from the index
	// (appointment_id, kind, sent_at, rule_id, delivered_at) alone.
	last := func(col string) string {
		return `(SELECT ` + col + ` FROM messages m WHERE m.appointment_id = a.id AND m.kind = ? AND m.sent_at IS NOT NULL
     AND (a.confirmed_at IS NULL OR m.sent_at <= a.confirmed_at)
   ORDER BY m.sent_at DESC, m.rule_id DESC NULLS LAST, m.delivered_at DESC NULLS LAST, m.id DESC LIMIT 1)`
	}
	// The inner query is kept whole (not merged into the outer one), so
	// that each probe runs once a row however often the outer one reads
	// its result.
	keep := " LIMIT -1"
	if s.driver == DriverPostgres {
		keep = " LIMIT ALL"
	}
	inner := `SELECT a.id, a.location_id, COALESCE(a.provider_id, 0) AS provider_id, p.language AS language,
  COALESCE(a.appointment_type_id, 0) AS type_id,
  CASE WHEN a.confirmed_at IS NOT NULL THEN 1 ELSE 0 END AS confirmed,
  CASE WHEN a.status = ? THEN 1 ELSE 0 END AS cancelled,
  CASE WHEN a.status = ? THEN 1 ELSE 0 END AS no_show,
  CASE WHEN a.status IN (?, ?) THEN 1 ELSE 0 END AS outcome,
  CASE WHEN EXISTS (SELECT 1 FROM events e WHERE e.appointment_id = a.id AND e.type = ?) THEN 1 ELSE 0 END AS rescheduled,
  ` + last("COALESCE(m.rule_id, 0)") + ` AS rule_id,
  ` + last("m.sent_at") + ` AS last_sent
FROM appointments a JOIN patients p ON p.id = a.patient_id
WHERE a.starts_at >= ? AND a.starts_at < ?` + keep
	args := []any{Cancelled, NoShow, Completed, NoShow, EventAppointmentRescheduled, KindReminder, KindReminder, r.From.UTC(), r.To.UTC()}
	// Reminded: the attributed reminder says so, except for an appointment
	// confirmed before its first reminder, which is looked up.
	reminded := `CASE WHEN x.last_sent IS NOT NULL THEN 1 WHEN x.confirmed = 0 THEN 0
  WHEN EXISTS (SELECT 1 FROM messages m WHERE m.appointment_id = x.id AND m.kind = ? AND m.sent_at IS NOT NULL) THEN 1 ELSE 0 END`
	q := "SELECT " + reminded + " AS reminded, COALESCE(x.rule_id, -1) AS rid, " + hour + " AS hr, " +
		"x.language, x.provider_id, x.location_id, x.type_id, COUNT(*), SUM(x.confirmed), SUM(x.cancelled), SUM(x.rescheduled), " +
		"SUM(x.no_show), SUM(x.outcome) FROM (" + inner + ") x " +
		"GROUP BY reminded, rid, hr, x.language, x.provider_id, x.location_id, x.type_id"
	args = append([]any{KindReminder}, append(offArgs, args...)...)
	rows, err := s.conn(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: count outcomes: %w", Classify(err))
	}
	defer func() { _ = rows.Close() }()
	var out []OutcomeGroup
	for rows.Next() {
		var g OutcomeGroup
		var reminded int
		var ruleID int64
		if err := rows.Scan(&reminded, &ruleID, &g.Hour, &g.Language, &g.ProviderID, &g.LocationID, &g.TypeID,
			&g.N, &g.Confirmed, &g.Cancelled, &g.Rescheduled, &g.NoShow, &g.Outcome); err != nil {
			return nil, fmt.Errorf("store: count outcomes: %w", Classify(err))
		}
		g.Reminded, g.Attributed = reminded != 0, ruleID >= 0
		if ruleID > 0 {
			g.RuleID = uint(ruleID)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count outcomes: %w", Classify(err))
	}
	return out, nil
}

// CountReminderSends counts, by rule, the reminders of the range's
// appointments that left for SMS.CX and those delivered.
func (s *Store) CountReminderSends(ctx context.Context, r AnalyticsRange) ([]ReminderSends, error) {
	q := `SELECT COALESCE(m.rule_id, 0), COUNT(*),
  SUM(CASE WHEN m.delivered_at IS NOT NULL THEN 1 ELSE 0 END)
FROM appointments a JOIN messages m ON m.appointment_id = a.id
WHERE a.starts_at >= ? AND a.starts_at < ? AND m.kind = ? AND m.sent_at IS NOT NULL
GROUP BY COALESCE(m.rule_id, 0)`
	rows, err := s.conn(ctx).Raw(q, r.From.UTC(), r.To.UTC(), KindReminder).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: count reminder sends: %w", Classify(err))
	}
	defer func() { _ = rows.Close() }()
	var out []ReminderSends
	for rows.Next() {
		var rs ReminderSends
		var id int64
		if err := rows.Scan(&id, &rs.Sent, &rs.Delivered); err != nil {
			return nil, fmt.Errorf("store: count reminder sends: %w", Classify(err))
		}
		rs.RuleID = uint(id)
		out = append(out, rs)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count reminder sends: %w", Classify(err))
	}
	return out, nil
}

// DeletedRuleName returns the name carried by a sent reminder of a rule
// that no longer exists, among the range's appointments ("" when there is
// none). It stops at the first one found.
func (s *Store) DeletedRuleName(ctx context.Context, r AnalyticsRange) (string, error) {
	var names []string
	err := s.conn(ctx).Raw(`SELECT m.rule_name FROM appointments a JOIN messages m ON m.appointment_id = a.id
WHERE a.starts_at >= ? AND a.starts_at < ? AND m.kind = ? AND m.sent_at IS NOT NULL AND m.rule_id IS NULL LIMIT 1`,
		r.From.UTC(), r.To.UTC(), KindReminder).Scan(&names).Error
	if err != nil {
		return "", fmt.Errorf("store: deleted rule name: %w", Classify(err))
	}
	if len(names) == 0 {
		return "", nil
	}
	return names[0], nil
}

// bulkTables are the tables InsertRows may write (an allow-list: table
// and column names are written into the statement).
var bulkTables = map[string]bool{
	"patients": true, "appointments": true, "messages": true, "events": true,
	"waitlist_slots": true, "waitlist_offers": true,
}

// InsertRows writes rows (each one value per column of cols) into table
// with multi-row INSERTs inside one transaction: how synthetic clinics
// for tests and benchmarks are loaded fast. Table must be one of a few
// known tables and cols plain column names.
func (s *Store) InsertRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	if !bulkTables[table] {
		return fmt.Errorf("store: insert rows: table %q is not open to bulk loads", table)
	}
	for _, c := range cols {
		if c == "" || strings.Trim(c, "abcdefghijklmnopqrstuvwxyz_") != "" {
			return fmt.Errorf("store: insert rows: bad column name %q", c)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
	}
	head := "INSERT INTO " + table + " (" + strings.Join(quoted, ", ") + ") VALUES "
	ph := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	per := max(1, 30_000/len(cols)) // under SQLite's limit of bound parameters
	err := s.Tx(ctx, func(ctx context.Context) error {
		return s.write(ctx, func(db *gorm.DB) error {
			for lo := 0; lo < len(rows); lo += per {
				hi := min(lo+per, len(rows))
				var sb strings.Builder
				args := make([]any, 0, (hi-lo)*len(cols))
				sb.WriteString(head)
				for i, r := range rows[lo:hi] {
					if len(r) != len(cols) {
						return fmt.Errorf("row %d has %d values for %d columns", lo+i, len(r), len(cols))
					}
					if i > 0 {
						sb.WriteByte(',')
					}
					sb.WriteString(ph)
					args = append(args, r...)
				}
				if err := db.Exec(sb.String(), args...).Error; err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("store: insert rows into %s: %w", table, Classify(err))
	}
	return nil
}

// MaxID returns the largest id of table (one of InsertRows' tables), 0
// when it is empty.
func (s *Store) MaxID(ctx context.Context, table string) (uint, error) {
	if !bulkTables[table] {
		return 0, fmt.Errorf("store: max id: table %q is not open to bulk loads", table)
	}
	var id uint
	if err := s.conn(ctx).Raw("SELECT COALESCE(MAX(id), 0) FROM " + table).Scan(&id).Error; err != nil {
		return 0, fmt.Errorf("store: max id of %s: %w", table, Classify(err))
	}
	return id, nil
}
