package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// MaxStatsDays bounds the range of one stats request.
const MaxStatsDays = 366

// StatsQuery selects the appointments stats are computed over: those
// starting in [From, To), at one location or (LocationID 0) all.
type StatsQuery struct {
	From, To   time.Time
	LocationID uint
}

// Stats are counts and rates for the appointments of a range.
type Stats struct {
	// Appointments counts the range's appointments by status (every status
	// present, zero included).
	Appointments map[models.AppointmentStatus]int64
	// AppointmentsTotal is the number of appointments in the range.
	AppointmentsTotal int64
	// Messages counts the outbound messages of those appointments by status
	// (every status present).
	Messages map[models.MessageStatus]int64
	// MessagesTotal is the number of those messages.
	MessagesTotal int64
	// Confirmed is the number of appointments, not cancelled, whose patient
	// confirmed (confirmed_at is set: confirmed, or completed or no-show
	// after confirming).
	Confirmed int64
	// Reached is the number of appointments with at least one reminder or
	// booking confirmation that left for SMS.CX (sent_at set).
	Reached int64
	// Replied is the number of reached appointments with at least one reply
	// from the patient attached.
	Replied int64
}

// Active is the number of appointments in the range that are not cancelled.
func (s *Stats) Active() int64 { return s.AppointmentsTotal - s.Appointments[models.Cancelled] }

// ConfirmationRate is Confirmed over the appointments not cancelled; ok is
// false when there are none.
func (s *Stats) ConfirmationRate() (rate float64, ok bool) {
	if n := s.Active(); n > 0 {
		return float64(s.Confirmed) / float64(n), true
	}
	return 0, false
}

// ReplyRate is Replied over Reached; ok is false when none was reached.
func (s *Stats) ReplyRate() (rate float64, ok bool) {
	if s.Reached > 0 {
		return float64(s.Replied) / float64(s.Reached), true
	}
	return 0, false
}

// ComputeStats counts the appointments of q's range and their messages.
// Every query is bounded by the range on appointments.starts_at, which
// leads an index (with location_id first when a location is given); the
// messages and replies are reached through their indexed appointment_id.
// No query counts a whole table.
func ComputeStats(ctx context.Context, store *models.Store, q StatsQuery) (*Stats, error) {
	if q.From.IsZero() || q.To.IsZero() || !q.To.After(q.From) {
		return nil, errors.New("api: stats: the range needs from before to")
	}
	from, to := q.From.UTC(), q.To.UTC()
	inRange := func(db *gorm.DB) *gorm.DB {
		if q.LocationID != 0 {
			db = db.Where("appointments.location_id = ?", q.LocationID)
		}
		return db.Where("appointments.starts_at >= ? AND appointments.starts_at < ?", from, to)
	}
	st := &Stats{
		Appointments: make(map[models.AppointmentStatus]int64, len(models.AppointmentStatuses)),
		Messages:     make(map[models.MessageStatus]int64, len(models.MessageStatuses)),
	}
	for _, s := range models.AppointmentStatuses {
		st.Appointments[s] = 0
	}
	for _, s := range models.MessageStatuses {
		st.Messages[s] = 0
	}

	var byStatus []struct {
		Status    string
		N         int64
		Confirmed int64
	}
	err := store.DB(ctx).Model(&models.Appointment{}).Scopes(inRange).
		Select("appointments.status AS status, COUNT(*) AS n, " +
			"COALESCE(SUM(CASE WHEN appointments.confirmed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS confirmed").
		Group("appointments.status").Scan(&byStatus).Error
	if err != nil {
		return nil, fmt.Errorf("api: stats: appointments: %w", models.Classify(err))
	}
	for _, r := range byStatus {
		st.Appointments[models.AppointmentStatus(r.Status)] += r.N
		st.AppointmentsTotal += r.N
		if models.AppointmentStatus(r.Status) != models.Cancelled {
			st.Confirmed += r.Confirmed
		}
	}

	var msgs []struct {
		Status string
		N      int64
	}
	err = store.DB(ctx).Model(&models.Message{}).
		Joins("JOIN appointments ON appointments.id = messages.appointment_id").Scopes(inRange).
		Select("messages.status AS status, COUNT(*) AS n").
		Group("messages.status").Scan(&msgs).Error
	if err != nil {
		return nil, fmt.Errorf("api: stats: messages: %w", models.Classify(err))
	}
	for _, r := range msgs {
		st.Messages[models.MessageStatus(r.Status)] += r.N
		st.MessagesTotal += r.N
	}

	var reach struct {
		Reached int64
		Replied int64
	}
	err = store.DB(ctx).Model(&models.Appointment{}).Scopes(inRange).
		Where("EXISTS (SELECT 1 FROM messages WHERE messages.appointment_id = appointments.id "+
			"AND messages.sent_at IS NOT NULL AND messages.kind IN ?)", []string{models.KindReminder, models.KindBookingConfirm}).
		Select("COUNT(*) AS reached, COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM inbound_messages " +
			"WHERE inbound_messages.appointment_id = appointments.id) THEN 1 ELSE 0 END), 0) AS replied").
		Scan(&reach).Error
	if err != nil {
		return nil, fmt.Errorf("api: stats: replies: %w", models.Classify(err))
	}
	st.Reached, st.Replied = reach.Reached, reach.Replied
	return st, nil
}

// StatsAnswer is the answer of GET /stats.
type StatsAnswer struct {
	From         string      `json:"from"`
	To           string      `json:"to"`
	LocationID   *uint       `json:"location_id"`
	Appointments StatsCounts `json:"appointments"`
	Messages     StatsCounts `json:"messages"`
	// Confirmed over the appointments not cancelled; null when there are none.
	ConfirmationRate *float64 `json:"confirmation_rate"`
	// Replied over Reached; null when none was reached.
	ReplyRate *float64 `json:"reply_rate"`
	Confirmed int64    `json:"confirmed"`
	Reached   int64    `json:"reached"`
	Replied   int64    `json:"replied"`
}

// StatsCounts is a total and its split by status.
type StatsCounts struct {
	Total    int64            `json:"total"`
	ByStatus map[string]int64 `json:"by_status"`
}

func ratep(r float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &r
}

// stats answers GET /stats?from=&to=&location=. The range defaults to today
// and the next 7 days in the location's zone (or the default location's).
func (a *API) stats(c *gin.Context) {
	ctx := c.Request.Context()
	fe := clinic.FieldErrors{}
	var q StatsQuery
	if raw := c.Query("location"); raw != "" {
		id, err := strconv.ParseUint(raw, 10, 32)
		if err != nil || id == 0 {
			fe["location"] = "must be a location id"
		} else if _, err := a.clinic.GetLocation(ctx, uint(id)); err != nil {
			if !errors.Is(err, models.ErrNotFound) {
				a.fail(c, err)
				return
			}
			fe["location"] = "not found"
		}
		q.LocationID = uint(id)
	}
	zone, err := a.rangeZone(ctx, q.LocationID)
	if err != nil {
		a.fail(c, err)
		return
	}
	q.From = rangeBound(c, "from", zone, false, fe)
	q.To = rangeBound(c, "to", zone, true, fe)
	if _, bad := fe["from"]; !bad && q.From.IsZero() {
		now := a.now().In(zone)
		q.From = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	}
	if _, bad := fe["to"]; !bad && q.To.IsZero() {
		f := q.From.In(zone)
		q.To = time.Date(f.Year(), f.Month(), f.Day()+8, 0, 0, 0, 0, zone)
	}
	if len(fe) == 0 {
		switch {
		case !q.To.After(q.From):
			fe["to"] = "must be after from"
		case q.To.Sub(q.From) > MaxStatsDays*24*time.Hour+time.Hour: // an hour of slack for DST
			fe["to"] = fmt.Sprintf("the range must be at most %d days", MaxStatsDays)
		}
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	st, err := ComputeStats(ctx, a.store, q)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := StatsAnswer{
		From: stamp(q.From, zone), To: stamp(q.To, zone),
		Appointments: StatsCounts{Total: st.AppointmentsTotal, ByStatus: map[string]int64{}},
		Messages:     StatsCounts{Total: st.MessagesTotal, ByStatus: map[string]int64{}},
		Confirmed:    st.Confirmed, Reached: st.Reached, Replied: st.Replied,
	}
	if q.LocationID != 0 {
		out.LocationID = &q.LocationID
	}
	for s, n := range st.Appointments {
		out.Appointments.ByStatus[string(s)] = n
	}
	for s, n := range st.Messages {
		out.Messages.ByStatus[string(s)] = n
	}
	out.ConfirmationRate = ratep(st.ConfirmationRate())
	out.ReplyRate = ratep(st.ReplyRate())
	writeJSON(c, http.StatusOK, out)
}
