// Package stats computes the dashboard's figures for a range of
// appointment start times: counts by appointment and message state, the
// confirmation and reply rates, failures, the inbox backlog, opted-out
// patients and per-day rates for the chart.
//
// Every query is bounded by a range filter on appointments.starts_at (which
// leads an index, with location_id in front when a location is chosen) and
// reaches messages, replies and patients through their indexed keys. Counts
// are grouped in the database; nothing is read row by row and no query
// counts a whole table, so the time per dashboard stays flat as the tables
// grow (QUALITY P3).
package stats

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"apptconfirm/models"
)

// MaxDays bounds the range of one dashboard: the chart has one point a day.
const MaxDays = 92

// ListLimit bounds the short lists (failed messages, opted-out patients).
const ListLimit = 10

// ErrBadRange is returned for a range that is empty, reversed or longer
// than MaxDays days.
var ErrBadRange = errors.New("stats: the range must be 1 to 92 days, from before to")

// Query selects the appointments the figures cover: those starting in
// [From, To) at one location, or at every location when LocationID is 0.
type Query struct {
	From, To   time.Time
	LocationID uint
	// Zone is the time zone days are counted in (the chart's days); nil is UTC.
	Zone *time.Location
}

// Service computes dashboard figures from the store.
type Service struct {
	store *models.Store
	// parallel is how many queries one dashboard may run at once.
	parallel int
}

// DefaultParallel is how many queries one dashboard runs at once: two, for
// the two cores of the machines we size for.
const DefaultParallel = 2

// New returns a Service reading store.
func New(store *models.Store) *Service {
	return &Service{store: store, parallel: DefaultParallel}
}

// WithParallel returns a copy of s that runs up to n queries at once (1:
// one after the other).
func (s *Service) WithParallel(n int) *Service {
	c := *s
	c.parallel = max(1, n)
	return &c
}

// Dashboard holds every figure of one dashboard.
type Dashboard struct {
	Query Query
	// Appointments counts the range's appointments by state; every state is
	// present, zero included.
	Appointments map[models.AppointmentStatus]int64
	// AppointmentsTotal is the number of appointments in the range.
	AppointmentsTotal int64
	// Confirmed counts the appointments, not cancelled, whose patient (or
	// staff) confirmed them: confirmed_at is set. An appointment confirmed
	// and then marked completed or no-show still counts as confirmed.
	Confirmed int64
	// Messages counts the outbound messages of the range's appointments by
	// state; every state is present.
	Messages map[models.MessageStatus]int64
	// MessagesTotal is the number of those messages.
	MessagesTotal int64
	// Reached counts the appointments with at least one reminder or booking
	// confirmation that left for SMS.CX (sent_at is set).
	Reached int64
	// Replied counts the reached appointments with at least one SMS reply
	// attached.
	Replied int64
	// FailedMessages lists up to ListLimit failed or rejected messages of
	// the range's soonest appointments, in appointment order.
	FailedMessages []FailedMessage
	// NeedsAttention is the number of inbox replies waiting for staff, at
	// every location (the inbox is shared).
	NeedsAttention int64
	// OptedOut counts the appointments of the range whose patient is opted
	// out: they get no reminders.
	OptedOut int64
	// OptOuts lists up to ListLimit of those patients, each once, in the
	// order of their soonest appointment.
	OptOuts []OptOut
	// Days has one entry for each day of the range, in order.
	Days []Day
}

// Active is the number of appointments in the range that are not cancelled.
func (d *Dashboard) Active() int64 {
	return d.AppointmentsTotal - d.Appointments[models.Cancelled]
}

// Failed is the number of failed or rejected messages.
func (d *Dashboard) Failed() int64 {
	return d.Messages[models.MsgFailed] + d.Messages[models.MsgRejected]
}

// ConfirmationRate is Confirmed over Active; ok is false when no
// appointment of the range is active.
func (d *Dashboard) ConfirmationRate() (rate float64, ok bool) {
	return ratio(d.Confirmed, d.Active())
}

// ReplyRate is Replied over Reached; ok is false when no reminder was sent.
func (d *Dashboard) ReplyRate() (rate float64, ok bool) {
	return ratio(d.Replied, d.Reached)
}

// Day is one day of the chart.
type Day struct {
	// Start is the day's midnight in the query's zone.
	Start time.Time
	// Total counts the appointments starting that day; Active those not
	// cancelled.
	Total, Active int64
	// Confirmed counts the active appointments with confirmed_at set.
	Confirmed int64
	// NoShow counts the no-shows; Completed the visits marked completed.
	NoShow, Completed int64
}

// ConfirmationRate is Confirmed over Active; ok is false without active
// appointments.
func (d Day) ConfirmationRate() (float64, bool) { return ratio(d.Confirmed, d.Active) }

// NoShowRate is NoShow over Active; ok is false without active appointments.
func (d Day) NoShowRate() (float64, bool) { return ratio(d.NoShow, d.Active) }

// FailedMessage is one message that did not reach the patient.
type FailedMessage struct {
	MessageID     uint
	AppointmentID uint
	Status        models.MessageStatus
	Kind          string
	RuleName      string
	Reason        string
	SendAt        time.Time
	StartsAt      time.Time
	PatientName   string
	// TimeZone is the appointment's location's zone.
	TimeZone string
}

// OptOut is one opted-out patient with an appointment in the range.
type OptOut struct {
	PatientID  uint
	Name       string
	OptedOutAt time.Time
	Source     string
}

func ratio(n, d int64) (float64, bool) {
	if d <= 0 {
		return 0, false
	}
	return float64(n) / float64(d), true
}

// Days returns the midnights, in zone, from the day of from up to (not
// including) to: the day boundaries of a range. Daylight-saving days are 23
// or 25 hours long, so they are computed on the calendar, not by adding 24h.
func Days(from, to time.Time, zone *time.Location) []time.Time {
	if zone == nil {
		zone = time.UTC
	}
	f := from.In(zone)
	var out []time.Time
	for i := 0; ; i++ {
		d := time.Date(f.Year(), f.Month(), f.Day()+i, 0, 0, 0, 0, zone)
		if !d.Before(to) || i > MaxDays {
			return out
		}
		out = append(out, d)
	}
}

// Check validates q and returns the day boundaries of its range.
func (q Query) Check() ([]time.Time, error) {
	if q.From.IsZero() || q.To.IsZero() || !q.To.After(q.From) {
		return nil, ErrBadRange
	}
	days := Days(q.From, q.To, q.Zone)
	if len(days) == 0 || len(days) > MaxDays {
		return nil, ErrBadRange
	}
	return days, nil
}

// inRange limits a query on appointments to q's range and location.
func (q Query) inRange(db *gorm.DB) *gorm.DB {
	return rangeScope(q.From, q.To, q.LocationID)(db)
}

// rangeScope limits a query on appointments to those starting in [from, to)
// at location (0: any).
func rangeScope(from, to time.Time, location uint) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		// The range comes first: it is what the indexes lead with (location_id
		// joins it in idx_appointments_location_start).
		db = db.Where("appointments.starts_at >= ? AND appointments.starts_at < ?", from.UTC(), to.UTC())
		if location != 0 {
			db = db.Where("appointments.location_id = ?", location)
		}
		return db
	}
}

// Dashboard computes every figure for q with a handful of grouped queries.
func (s *Service) Dashboard(ctx context.Context, q Query) (*Dashboard, error) {
	days, err := q.Check()
	if err != nil {
		return nil, err
	}
	d := &Dashboard{
		Query:        q,
		Appointments: make(map[models.AppointmentStatus]int64, len(models.AppointmentStatuses)),
		Messages:     make(map[models.MessageStatus]int64, len(models.MessageStatuses)),
		Days:         make([]Day, len(days)),
	}
	for _, st := range models.AppointmentStatuses {
		d.Appointments[st] = 0
	}
	for _, st := range models.MessageStatuses {
		d.Messages[st] = 0
	}
	for i, day := range days {
		d.Days[i].Start = day
	}
	steps := []func(context.Context, *Dashboard, []time.Time) error{
		s.counts, s.failed, s.inbox, s.optOuts,
	}
	for _, step := range steps {
		if err := step(ctx, d, days); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// counts fills the counts by appointment and message state, the reach, the
// opt-outs and the per-day figures with two grouped queries over the range,
// run at once on two connections (SQLite in WAL mode reads in parallel)
// unless s.parallel is 1.
func (s *Service) counts(ctx context.Context, d *Dashboard, days []time.Time) error {
	var groups []countRow
	var msgs map[models.MessageStatus]int64
	var errA, errM error
	countAppointments := func() { groups, errA = s.countAppointments(ctx, d.Query, days) }
	countMessages := func() { msgs, errM = s.countMessages(ctx, d.Query) }
	if s.parallel > 1 {
		var wg sync.WaitGroup
		wg.Go(countMessages)
		countAppointments()
		wg.Wait()
	} else {
		countAppointments()
		countMessages()
	}
	if err := errors.Join(errA, errM); err != nil {
		return err
	}
	for _, r := range groups {
		d.add(r)
	}
	for st, n := range msgs {
		d.Messages[st] += n
		d.MessagesTotal += n
	}
	return nil
}

// countRow is one group of countAppointments.
type countRow struct {
	day    int
	status models.AppointmentStatus
	// reached and replied are the group's flags: whether a reminder went
	// out, and whether the patient replied.
	reached, replied    bool
	n, confirmed, opted int64
}

// add folds one group into the figures.
func (d *Dashboard) add(r countRow) {
	d.Appointments[r.status] += r.n
	d.AppointmentsTotal += r.n
	d.OptedOut += r.opted
	if r.reached {
		d.Reached += r.n
		if r.replied {
			d.Replied += r.n
		}
	}
	if r.day < 0 || r.day >= len(d.Days) {
		return
	}
	day := &d.Days[r.day]
	day.Total += r.n
	if r.status == models.Cancelled {
		return
	}
	d.Confirmed += r.confirmed
	day.Active += r.n
	day.Confirmed += r.confirmed
	switch r.status {
	case models.NoShow:
		day.NoShow += r.n
	case models.Completed:
		day.Completed += r.n
	}
}

// countAppointments groups the range's appointments by day, state and
// whether a reminder reached them and they replied, in one pass: each
// appointment is visited once (by the range index) with its patient (by
// primary key); two probes by the indexed appointment_id find a sent
// reminder and a reply. The flags are group keys, so each probe runs once a
// row. The day is computed in SQL from the day boundaries (bound
// parameters), which keeps daylight-saving days right on SQLite and
// PostgreSQL alike.
func (s *Service) countAppointments(ctx context.Context, q Query, days []time.Time) ([]countRow, error) {
	var sb strings.Builder
	var args []any
	if len(days) == 1 {
		sb.WriteString("0")
	} else {
		sb.WriteString("CASE")
		for i := 1; i < len(days); i++ {
			fmt.Fprintf(&sb, " WHEN appointments.starts_at < ? THEN %d", i-1)
			args = append(args, days[i].UTC())
		}
		fmt.Fprintf(&sb, " ELSE %d END", len(days)-1)
	}
	args = append(args, models.KindReminder, models.KindBookingConfirm)
	reach := "(CASE WHEN EXISTS (SELECT 1 FROM messages WHERE messages.appointment_id = appointments.id " +
		"AND messages.sent_at IS NOT NULL AND messages.kind IN (?, ?)) THEN 1 ELSE 0 END + " +
		"CASE WHEN EXISTS (SELECT 1 FROM inbound_messages WHERE inbound_messages.appointment_id = appointments.id) THEN 2 ELSE 0 END)"
	rows, err := s.store.DB(ctx).Table("appointments").Scopes(q.inRange).
		Joins("JOIN patients ON patients.id = appointments.patient_id").
		Select(sb.String()+" AS day, appointments.status AS status, "+reach+" AS reach, COUNT(*) AS n, "+
			"SUM(CASE WHEN appointments.confirmed_at IS NOT NULL THEN 1 ELSE 0 END) AS confirmed, "+
			"SUM(CASE WHEN patients.opted_out_at IS NOT NULL THEN 1 ELSE 0 END) AS opted", args...).
		Group("day, appointments.status, reach").Rows()
	if err != nil {
		return nil, fmt.Errorf("stats: appointments: %w", models.Classify(err))
	}
	defer func() { _ = rows.Close() }()
	var out []countRow
	for rows.Next() {
		var r countRow
		var status string
		var reachBits int
		if err := rows.Scan(&r.day, &status, &reachBits, &r.n, &r.confirmed, &r.opted); err != nil {
			return nil, fmt.Errorf("stats: appointments: %w", models.Classify(err))
		}
		r.status = models.AppointmentStatus(status)
		r.reached, r.replied = reachBits&1 != 0, reachBits&2 != 0
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats: appointments: %w", models.Classify(err))
	}
	return out, nil
}

// countMessages counts the range's messages by state, reaching them through
// the indexed messages.appointment_id.
func (s *Service) countMessages(ctx context.Context, q Query) (map[models.MessageStatus]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.store.DB(ctx).Table("appointments").Scopes(q.inRange).
		Joins("JOIN messages ON messages.appointment_id = appointments.id").
		Select("messages.status AS status, COUNT(*) AS n").
		Group("messages.status").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("stats: messages: %w", models.Classify(err))
	}
	out := make(map[models.MessageStatus]int64, len(rows))
	for _, r := range rows {
		out[models.MessageStatus(r.Status)] += r.N
	}
	return out, nil
}

// failed lists the failed or rejected messages of the soonest appointments
// of the range. Walking the range in start order lets the query stop after
// ListLimit finds instead of reading every message of the range again.
func (s *Service) failed(ctx context.Context, d *Dashboard, _ []time.Time) error {
	if d.Failed() == 0 {
		return nil
	}
	var rows []struct {
		FailedMessage
		FirstName, LastName string
	}
	err := s.store.DB(ctx).Table("appointments").Scopes(d.Query.inRange).
		Joins("JOIN messages ON messages.appointment_id = appointments.id").
		Joins("JOIN patients ON patients.id = appointments.patient_id").
		Joins("JOIN locations ON locations.id = appointments.location_id").
		Where("messages.status IN ?", []models.MessageStatus{models.MsgFailed, models.MsgRejected}).
		Select("messages.id AS message_id, appointments.id AS appointment_id, messages.status AS status, " +
			"messages.kind AS kind, messages.rule_name AS rule_name, messages.reason AS reason, " +
			"messages.send_at AS send_at, appointments.starts_at AS starts_at, " +
			"patients.first_name AS first_name, patients.last_name AS last_name, locations.time_zone AS time_zone").
		Order("appointments.starts_at, appointments.id, messages.id").Limit(ListLimit).
		Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("stats: failed messages: %w", models.Classify(err))
	}
	for _, r := range rows {
		p := models.Patient{FirstName: r.FirstName, LastName: r.LastName}
		r.PatientName = p.Name()
		d.FailedMessages = append(d.FailedMessages, r.FailedMessage)
	}
	return nil
}

// inbox counts the replies waiting for staff (indexed needs_attention; only
// the waiting rows are counted).
func (s *Service) inbox(ctx context.Context, d *Dashboard, _ []time.Time) error {
	err := s.store.DB(ctx).Model(&models.InboundMessage{}).
		Where("needs_attention = ?", true).Count(&d.NeedsAttention).Error
	if err != nil {
		return fmt.Errorf("stats: inbox: %w", models.Classify(err))
	}
	return nil
}

// optOuts lists the opted-out patients of the soonest appointments of the
// range, each patient once; like failed, it stops early.
func (s *Service) optOuts(ctx context.Context, d *Dashboard, _ []time.Time) error {
	if d.OptedOut == 0 {
		return nil
	}
	var rows []struct {
		PatientID           uint
		FirstName, LastName string
		OptedOutAt          time.Time
		Source              string
	}
	err := s.store.DB(ctx).Table("appointments").Scopes(d.Query.inRange).
		Joins("JOIN patients ON patients.id = appointments.patient_id").
		Where("patients.opted_out_at IS NOT NULL").
		Select("patients.id AS patient_id, patients.first_name AS first_name, patients.last_name AS last_name, " +
			"patients.opted_out_at AS opted_out_at, patients.opt_out_source AS source").
		Order("appointments.starts_at, appointments.id").Limit(2 * ListLimit).
		Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("stats: opt-outs: %w", models.Classify(err))
	}
	seen := map[uint]bool{}
	for _, r := range rows {
		if seen[r.PatientID] || len(d.OptOuts) == ListLimit {
			continue
		}
		seen[r.PatientID] = true
		p := models.Patient{FirstName: r.FirstName, LastName: r.LastName}
		d.OptOuts = append(d.OptOuts, OptOut{PatientID: r.PatientID, Name: p.Name(), OptedOutAt: r.OptedOutAt, Source: r.Source})
	}
	return nil
}
