package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// AnalyticsDay is one line of one breakdown on one clinic-local day of the
// analytics summary: Dim names the breakdown ("in", "total", "rule",
// "hour", "lang", "prov", "loc", "type", "sends") and Line its line. The
// counts mean what OutcomeGroup's and ReminderSends' do.
type AnalyticsDay struct {
	Day, Dim, Line                                        string
	N, Confirmed, Cancelled, Rescheduled, NoShow, Outcome int64
	Sent, Delivered                                       int64
}

// TableName is analytics_days.
func (AnalyticsDay) TableName() string { return "analytics_days" }

// AnalyticsDirty is a day whose summary is out of date: it misses changes
// made from MarkedAt (the earliest) up to the one event EventID recorded
// (the latest), or, when Initial, it was never counted at all.
type AnalyticsDirty struct {
	Day      string `gorm:"primaryKey"`
	EventID  uint
	Initial  bool
	MarkedAt time.Time
}

// TableName is analytics_dirty.
func (AnalyticsDirty) TableName() string { return "analytics_dirty" }

// AnalyticsState says in which zone (and with which locations' zones) the
// summary's days are counted, and up to which domain event the changes
// have been read.
type AnalyticsState struct {
	ID      uint `gorm:"primaryKey;autoIncrement:false"`
	Zone    string
	EventID uint
	ResetAt time.Time
}

// TableName is analytics_state.
func (AnalyticsState) TableName() string { return "analytics_state" }

// analyticsMember is the day an appointment was last counted in.
type analyticsMember struct {
	AppointmentID uint `gorm:"primaryKey;autoIncrement:false"`
	Day           string
}

func (analyticsMember) TableName() string { return "analytics_members" }

// analyticsLock serialises the writers of the summary across instances.
const analyticsLock = "analytics_summary"

// AnalyticsSummaryState returns the summary's state; ok is false before
// the summary was first set up.
func (s *Store) AnalyticsSummaryState(ctx context.Context) (st AnalyticsState, ok bool, err error) {
	err = s.conn(ctx).Where("id = 1").Take(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("store: analytics state: %w", Classify(err))
	}
	return st, true, nil
}

// ResetAnalyticsSummary forgets the summary and starts it again for the
// days of zone (key, at most 64 characters, names what the days depend on): every day from the first appointment's to the last's is
// marked never counted, and the changes are read from the latest event on.
func (s *Store) ResetAnalyticsSummary(ctx context.Context, zone *time.Location, key string, now time.Time) error {
	return s.Tx(ctx, func(ctx context.Context) error {
		if err := s.LockTxExclusive(ctx, analyticsLock); err != nil {
			return err
		}
		return s.write(ctx, func(db *gorm.DB) error {
			for _, t := range []string{"analytics_days", "analytics_members", "analytics_dirty", "analytics_state", "analytics_seen"} {
				if err := db.Exec("DELETE FROM " + t).Error; err != nil {
					return err
				}
			}
			var last uint
			if err := db.Raw("SELECT COALESCE(MAX(id), 0) FROM events").Scan(&last).Error; err != nil {
				return err
			}
			if err := db.Create(&AnalyticsState{ID: 1, Zone: key, EventID: last, ResetAt: now.UTC()}).Error; err != nil {
				return err
			}
			// MIN and MAX would lose the column's type on SQLite.
			var lo, hi []time.Time
			if err := db.Raw("SELECT starts_at FROM appointments ORDER BY starts_at LIMIT 1").Scan(&lo).Error; err != nil {
				return err
			}
			if err := db.Raw("SELECT starts_at FROM appointments ORDER BY starts_at DESC LIMIT 1").Scan(&hi).Error; err != nil {
				return err
			}
			if len(lo) == 0 || len(hi) == 0 {
				return nil
			}
			var rows []AnalyticsDirty
			for d := LocalDay(lo[0], zone); d <= LocalDay(hi[0], zone); d = nextDay(d) {
				rows = append(rows, AnalyticsDirty{Day: d, Initial: true, MarkedAt: now.UTC()})
			}
			return db.CreateInBatches(rows, 500).Error
		})
	})
}

// LocalDay is the day (YYYY-MM-DD) t falls on in zone.
func LocalDay(t time.Time, zone *time.Location) string { return t.In(zone).Format(time.DateOnly) }

func nextDay(d string) string {
	t, _ := time.Parse(time.DateOnly, d)
	return t.AddDate(0, 0, 1).Format(time.DateOnly)
}

// CollectAnalyticsChanges reads the domain events recorded since the
// summary last did and marks out of date the days they touched: the day an
// appointment starts on now and the day it was last counted in (a move
// touches both), and every day of a patient whose details changed. It
// returns how many events it read. Events arrive in the order their ids
// were given; on PostgreSQL, where a transaction may commit after one with
// a later id, the latest events (the last 2,000 ids or two minutes) are
// looked at again and those not read yet are read.
func (s *Store) CollectAnalyticsChanges(ctx context.Context, zone *time.Location, now time.Time) (int, error) {
	total := 0
	for {
		n, err := s.collectAnalytics(ctx, zone, now)
		total += n
		if err != nil || n < collectBatch {
			return total, err
		}
	}
}

const collectBatch = 5000

// On PostgreSQL the events of the last seenWindow ids or seenTime are read
// again (skipping those already read, listed in analytics_seen).
const (
	seenWindow = 2000
	seenTime   = 2 * time.Minute
)

// analyticsSeen is an event read by CollectAnalyticsChanges (PostgreSQL).
type analyticsSeen struct {
	EventID uint `gorm:"primaryKey;autoIncrement:false"`
}

func (analyticsSeen) TableName() string { return "analytics_seen" }

func (s *Store) collectAnalytics(ctx context.Context, zone *time.Location, now time.Time) (int, error) {
	// Nothing new, the common case, is found without waiting for the turn
	// to write.
	if s.txOf(ctx) == nil {
		st, ok, err := s.AnalyticsSummaryState(ctx)
		if err != nil || !ok {
			return 0, err
		}
		var found []uint
		if err := s.newEvents(s.conn(ctx), st, now).Limit(1).Pluck("id", &found).Error; err != nil {
			return 0, fmt.Errorf("store: analytics changes: %w", Classify(err))
		}
		if len(found) == 0 {
			return 0, nil
		}
	}
	read := 0
	err := s.Tx(ctx, func(ctx context.Context) error {
		if err := s.LockTxExclusive(ctx, analyticsLock); err != nil {
			return err
		}
		st, ok, err := s.AnalyticsSummaryState(ctx)
		if err != nil || !ok {
			return err
		}
		db := s.conn(ctx)
		var evs []Event
		q := s.newEvents(db, st, now).Select("id", "at", "appointment_id", "patient_id", "type")
		if err := q.Order("id").Limit(collectBatch).Find(&evs).Error; err != nil {
			return fmt.Errorf("store: analytics changes: %w", Classify(err))
		}
		read = len(evs)
		if read == 0 {
			return nil
		}
		// A day is marked with the latest event that touched it and the
		// time of the earliest.
		type touch struct {
			id uint
			at time.Time
		}
		merge := func(a, b touch) touch {
			if a.id == 0 {
				return b
			}
			a.id = max(a.id, b.id)
			if b.at.Before(a.at) {
				a.at = b.at
			}
			return a
		}
		days := map[string]touch{}
		mark := func(d string, t touch) { days[d] = merge(days[d], t) }
		byAppt, byPatient := map[uint]touch{}, map[uint]touch{}
		last := st.EventID
		for _, e := range evs {
			last = max(last, e.ID)
			t := touch{e.ID, e.At}
			if e.AppointmentID != 0 {
				byAppt[e.AppointmentID] = merge(byAppt[e.AppointmentID], t)
			} else if e.PatientID != 0 && (e.Type == EventPatientUpdated || e.Type == EventPatientErased) {
				byPatient[e.PatientID] = merge(byPatient[e.PatientID], t)
			}
		}
		ids := func(m map[uint]touch) []uint {
			out := make([]uint, 0, len(m))
			for k := range m {
				out = append(out, k)
			}
			return out
		}
		for _, chunk := range chunks(ids(byAppt), 500) {
			var rows []struct {
				ID       uint
				StartsAt time.Time
			}
			if err := db.Raw("SELECT id, starts_at FROM appointments WHERE id IN ?", chunk).Scan(&rows).Error; err != nil {
				return fmt.Errorf("store: analytics changes: %w", Classify(err))
			}
			for _, r := range rows {
				mark(LocalDay(r.StartsAt, zone), byAppt[r.ID])
			}
			var members []analyticsMember
			if err := db.Where("appointment_id IN ?", chunk).Find(&members).Error; err != nil {
				return fmt.Errorf("store: analytics changes: %w", Classify(err))
			}
			for _, m := range members {
				mark(m.Day, byAppt[m.AppointmentID])
			}
		}
		for _, chunk := range chunks(ids(byPatient), 500) {
			var rows []struct {
				PatientID uint
				StartsAt  time.Time
			}
			if err := db.Raw("SELECT patient_id, starts_at FROM appointments WHERE patient_id IN ?", chunk).Scan(&rows).Error; err != nil {
				return fmt.Errorf("store: analytics changes: %w", Classify(err))
			}
			for _, r := range rows {
				mark(LocalDay(r.StartsAt, zone), byPatient[r.PatientID])
			}
		}
		return s.write(ctx, func(db *gorm.DB) error {
			for d, t := range days {
				// Keep a never-counted day so, and the latest event.
				err := db.Clauses(clause.OnConflict{
					Columns: []clause.Column{{Name: "day"}},
					DoUpdates: clause.Set{{
						Column: clause.Column{Name: "event_id"},
						Value:  gorm.Expr("CASE WHEN excluded.event_id > analytics_dirty.event_id THEN excluded.event_id ELSE analytics_dirty.event_id END"),
					}},
				}).Create(&AnalyticsDirty{Day: d, EventID: t.id, MarkedAt: t.at.UTC()}).Error
				if err != nil {
					return err
				}
			}
			if s.driver == DriverPostgres {
				seen := make([]analyticsSeen, len(evs))
				for i, e := range evs {
					seen[i] = analyticsSeen{EventID: e.ID}
				}
				if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(seen, 1000).Error; err != nil {
					return err
				}
				if err := db.Exec(`DELETE FROM analytics_seen WHERE event_id <= ?
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = analytics_seen.event_id AND e.at >= ?)`,
					int64(last)-seenWindow, now.Add(-seenTime).UTC()).Error; err != nil {
					return err
				}
			}
			return db.Exec("UPDATE analytics_state SET event_id = ? WHERE id = 1 AND event_id < ?", last, last).Error
		})
	})
	if err != nil {
		return read, fmt.Errorf("store: analytics changes: %w", Classify(err))
	}
	return read, nil
}

// newEvents selects the events not read yet: after the watermark; on
// PostgreSQL, where a transaction may commit after one given a later id,
// also the latest ones (the last seenWindow ids or seenTime) not listed as
// read.
func (s *Store) newEvents(db *gorm.DB, st AnalyticsState, now time.Time) *gorm.DB {
	q := db.Model(&Event{})
	if s.driver != DriverPostgres {
		return q.Where("id > ?", st.EventID)
	}
	return q.Where("(id > ? OR at >= ?) AND NOT EXISTS (SELECT 1 FROM analytics_seen s WHERE s.event_id = events.id)",
		int64(st.EventID)-seenWindow, now.Add(-seenTime).UTC())
}

func chunks(ids []uint, n int) [][]uint {
	var out [][]uint
	for len(ids) > 0 {
		k := min(n, len(ids))
		out = append(out, ids[:k])
		ids = ids[k:]
	}
	return out
}

// AnalyticsDirtyDays lists the out-of-date days from first to last
// (YYYY-MM-DD, inclusive; both empty: every day), latest first.
func (s *Store) AnalyticsDirtyDays(ctx context.Context, first, last string) ([]AnalyticsDirty, error) {
	q := s.conn(ctx).Order("day DESC")
	if first != "" || last != "" {
		q = q.Where("day >= ? AND day <= ?", first, last)
	}
	var out []AnalyticsDirty
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: analytics dirty days: %w", Classify(err))
	}
	return out, nil
}

// RebuildAnalyticsDay counts day again with count (called inside the
// transaction, after the summary's lock is taken, with the range of the
// day's appointments) and replaces its lines and members; the day stays
// marked out of date only if a change came after the one it was marked
// for. key is the summary's key (zone and locations) count was made for:
// when the summary was started again under another key meanwhile, nothing
// is written.
func (s *Store) RebuildAnalyticsDay(ctx context.Context, day, key string, zone *time.Location,
	count func(ctx context.Context, from, to time.Time) ([]AnalyticsDay, error),
) error {
	err := s.Tx(ctx, func(ctx context.Context) error {
		if err := s.LockTxExclusive(ctx, analyticsLock); err != nil {
			return err
		}
		if st, ok, err := s.AnalyticsSummaryState(ctx); err != nil || !ok || st.Zone != key {
			return err
		}
		var dirty []AnalyticsDirty
		if err := s.conn(ctx).Where("day = ?", day).Find(&dirty).Error; err != nil {
			return err
		}
		if len(dirty) == 0 {
			return nil // rebuilt meanwhile
		}
		t, err := time.ParseInLocation(time.DateOnly, day, zone)
		if err != nil {
			return err
		}
		from, to := t, t.AddDate(0, 0, 1)
		lines, err := count(ctx, from, to)
		if err != nil {
			return err
		}
		var ids []uint
		if err := s.conn(ctx).Raw("SELECT id FROM appointments WHERE starts_at >= ? AND starts_at < ?", from.UTC(), to.UTC()).
			Scan(&ids).Error; err != nil {
			return err
		}
		return s.write(ctx, func(db *gorm.DB) error {
			if err := db.Exec("DELETE FROM analytics_days WHERE day = ?", day).Error; err != nil {
				return err
			}
			for i := range lines {
				lines[i].Day = day
			}
			if err := db.CreateInBatches(lines, 500).Error; err != nil {
				return err
			}
			if err := db.Exec("DELETE FROM analytics_members WHERE day = ?", day).Error; err != nil {
				return err
			}
			members := make([]analyticsMember, len(ids))
			for i, id := range ids {
				members[i] = analyticsMember{AppointmentID: id, Day: day}
			}
			if err := db.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "appointment_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"day"}),
			}).CreateInBatches(members, 2000).Error; err != nil {
				return err
			}
			return db.Exec("DELETE FROM analytics_dirty WHERE day = ? AND event_id <= ?", day, dirty[0].EventID).Error
		})
	})
	if err != nil {
		return fmt.Errorf("store: rebuild analytics day %s: %w", day, Classify(err))
	}
	return nil
}

// SumAnalyticsDays adds up the summary's lines from first to last
// (YYYY-MM-DD, inclusive), one per breakdown line.
func (s *Store) SumAnalyticsDays(ctx context.Context, first, last string) ([]AnalyticsDay, error) {
	var out []AnalyticsDay
	err := s.conn(ctx).Raw(`SELECT dim, line, SUM(n) AS n, SUM(confirmed) AS confirmed, SUM(cancelled) AS cancelled,
  SUM(rescheduled) AS rescheduled, SUM(no_show) AS no_show, SUM(outcome) AS outcome, SUM(sent) AS sent, SUM(delivered) AS delivered
FROM analytics_days WHERE day >= ? AND day <= ? GROUP BY dim, line`, first, last).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: sum analytics days: %w", Classify(err))
	}
	return out, nil
}
