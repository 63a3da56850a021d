// Package stats computes the figures of a range of appointment start
// times, for the dashboard and the REST API alike: counts by appointment and
// message state, the confirmation and reply rates, failures, the inbox
// backlog, opted-out patients and per-day rates for the chart.
//
// Every query is bounded by a range filter on appointments.starts_at (which
// leads an index, with location_id in front when a location is chosen) and
// reaches messages, replies and patients through their indexed keys. Counts
// are grouped in the database; nothing is read row by row and no query
// counts a whole table, so the time per dashboard stays flat as the tables
// grow.
package stats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"apptconfirm/models"
)

// MaxDays bounds the range of one dashboard: the chart has one point a day.
const MaxDays = 92

// MaxSummaryDays bounds the range of a summary (no per-day figures).
const MaxSummaryDays = 366

// ListLimit bounds the short lists (failed messages, opted-out patients).
const ListLimit = 10

// ErrBadRange is returned for a range that is empty, reversed or longer
// than MaxDays days (MaxSummaryDays for a summary).
var ErrBadRange = errors.New("stats: the range must be 1 to 92 days (366 for a summary), from before to")

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

// storeRange is q's range as the store counts it, split at days.
func (q Query) storeRange(days []time.Time) models.StatsRange {
	return models.StatsRange{From: q.From, To: q.To, LocationID: q.LocationID, DayStarts: days}
}

// Summary computes the counts and rates of q, without the per-day figures
// and the lists, for a range of up to MaxSummaryDays days.
func (s *Service) Summary(ctx context.Context, q Query) (*Dashboard, error) {
	if q.From.IsZero() || q.To.IsZero() || !q.To.After(q.From) ||
		q.To.Sub(q.From) > MaxSummaryDays*24*time.Hour+time.Hour { // an hour of slack for DST
		return nil, ErrBadRange
	}
	d := newDashboard(q, nil)
	if err := s.counts(ctx, d, nil); err != nil {
		return nil, err
	}
	return d, nil
}

// newDashboard returns empty figures for q with every state present.
func newDashboard(q Query, days []time.Time) *Dashboard {
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
	return d
}

// Dashboard computes every figure for q with a handful of grouped queries.
func (s *Service) Dashboard(ctx context.Context, q Query) (*Dashboard, error) {
	days, err := q.Check()
	if err != nil {
		return nil, err
	}
	d := newDashboard(q, days)
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
	var groups []models.AppointmentGroup
	var msgs map[models.MessageStatus]int64
	var errA, errM error
	r := d.Query.storeRange(days)
	countAppointments := func() { groups, errA = s.store.CountAppointments(ctx, r) }
	countMessages := func() { msgs, errM = s.store.CountMessages(ctx, r) }
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
		return fmt.Errorf("stats: %w", err)
	}
	for _, g := range groups {
		d.add(g)
	}
	for st, n := range msgs {
		d.Messages[st] += n
		d.MessagesTotal += n
	}
	return nil
}

// add folds one group into the figures.
func (d *Dashboard) add(g models.AppointmentGroup) {
	d.Appointments[g.Status] += g.N
	d.AppointmentsTotal += g.N
	d.OptedOut += g.OptedOut
	if g.Reached {
		d.Reached += g.N
		if g.Replied {
			d.Replied += g.N
		}
	}
	if g.Status != models.Cancelled {
		d.Confirmed += g.Confirmed
	}
	if g.Day < 0 || g.Day >= len(d.Days) {
		return
	}
	day := &d.Days[g.Day]
	day.Total += g.N
	if g.Status == models.Cancelled {
		return
	}
	day.Active += g.N
	day.Confirmed += g.Confirmed
	switch g.Status {
	case models.NoShow:
		day.NoShow += g.N
	case models.Completed:
		day.Completed += g.N
	}
}

// failed lists the failed or rejected messages of the soonest appointments
// of the range.
func (s *Service) failed(ctx context.Context, d *Dashboard, days []time.Time) error {
	if d.Failed() == 0 {
		return nil
	}
	rows, err := s.store.FailedMessages(ctx, d.Query.storeRange(days), ListLimit)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	for _, r := range rows {
		p := models.Patient{FirstName: r.FirstName, LastName: r.LastName}
		d.FailedMessages = append(d.FailedMessages, FailedMessage{
			MessageID: r.MessageID, AppointmentID: r.AppointmentID, Status: r.Status, Kind: r.Kind,
			RuleName: r.RuleName, Reason: r.Reason, SendAt: r.SendAt, StartsAt: r.StartsAt,
			PatientName: p.Name(), TimeZone: r.TimeZone,
		})
	}
	return nil
}

// inbox counts the replies flagged for staff.
func (s *Service) inbox(ctx context.Context, d *Dashboard, _ []time.Time) error {
	n, err := s.store.CountAttention(ctx)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	d.NeedsAttention = n
	return nil
}

// optOuts lists the opted-out patients of the soonest appointments of the
// range, each patient once.
func (s *Service) optOuts(ctx context.Context, d *Dashboard, days []time.Time) error {
	if d.OptedOut == 0 {
		return nil
	}
	rows, err := s.store.OptedOutInRange(ctx, d.Query.storeRange(days), ListLimit)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	for _, r := range rows {
		p := models.Patient{FirstName: r.FirstName, LastName: r.LastName}
		d.OptOuts = append(d.OptOuts, OptOut{PatientID: r.PatientID, Name: p.Name(), OptedOutAt: r.OptedOutAt, Source: r.Source})
	}
	return nil
}
