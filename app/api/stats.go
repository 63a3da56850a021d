package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/stats"
	"apptconfirm/models"
)

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

// Stats answers GET /stats?from=&to=&location=. The range defaults to today
// and the next 7 days in the location's zone (or the default location's).
func (a *API) Stats(c *gin.Context) {
	ctx := c.Request.Context()
	fe := models.FieldErrors{}
	var q stats.Query
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
		case q.To.Sub(q.From) > stats.MaxSummaryDays*24*time.Hour+time.Hour: // an hour of slack for DST
			fe["to"] = fmt.Sprintf("the range must be at most %d days", stats.MaxSummaryDays)
		}
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	q.Zone = zone
	st, err := a.figures.Summary(ctx, q)
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
