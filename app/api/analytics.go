package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/analytics"
	"apptconfirm/app/csvout"
	"apptconfirm/models"
)

// AnalyticsAnswer is the answer of GET /analytics. Every rate comes with
// the two counts it divides; the definitions are in docs/analytics.md.
type AnalyticsAnswer struct {
	// From and To are the first and last day (YYYY-MM-DD, To inclusive)
	// in Zone.
	From string `json:"from"`
	To   string `json:"to"`
	Zone string `json:"zone"`
	// ComputedAt is when the answer was made; AsOf the time up to which
	// the figures take every change into account: equal to ComputedAt
	// when they are exact, earlier when some days of the per-day summary
	// were still waiting for the minute's refresh.
	ComputedAt string `json:"computed_at"`
	AsOf       string `json:"as_of"`
	// AppointmentsInRange counts every appointment starting in the range.
	AppointmentsInRange int64          `json:"appointments_in_range"`
	Totals              AnalyticsRates `json:"totals"`
	// Refill is freed appointments offered to the waitlist and taken over
	// those offered.
	Refill     AnalyticsRate                 `json:"refill"`
	Reminders  []AnalyticsReminder           `json:"reminders"`
	Breakdowns map[string]AnalyticsBreakdown `json:"breakdowns"`
}

// AnalyticsRate is a rate and the counts behind it; Rate is null when the
// denominator is 0.
type AnalyticsRate struct {
	Numerator   int64    `json:"numerator"`
	Denominator int64    `json:"denominator"`
	Rate        *float64 `json:"rate"`
}

// AnalyticsRates are the rates of a group of reminded appointments.
type AnalyticsRates struct {
	Appointments int64         `json:"appointments"`
	Confirmation AnalyticsRate `json:"confirmation"`
	Cancellation AnalyticsRate `json:"cancellation"`
	Reschedule   AnalyticsRate `json:"reschedule"`
	NoShow       AnalyticsRate `json:"no_show"`
}

// AnalyticsReminder is one line of the table of which reminder works best.
type AnalyticsReminder struct {
	RuleID   *uint         `json:"rule_id"`
	Name     string        `json:"name"`
	When     string        `json:"when"`
	Sent     int64         `json:"sent"`
	Delivery AnalyticsRate `json:"delivery"`
	AnalyticsRates
	Ranked bool `json:"ranked"`
}

// AnalyticsBreakdown is the reminded appointments split one way.
type AnalyticsBreakdown struct {
	Title string         `json:"title"`
	Rows  []AnalyticsRow `json:"rows"`
}

// AnalyticsRow is one line of a breakdown.
type AnalyticsRow struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	AnalyticsRates
	// Refill is set in the provider, location and type breakdowns.
	Refill *AnalyticsRate `json:"refill,omitempty"`
}

func analyticsRate(r analytics.Rate) AnalyticsRate {
	out := AnalyticsRate{Numerator: r.N, Denominator: r.D}
	if v, ok := r.Value(); ok {
		out.Rate = &v
	}
	return out
}

func analyticsRates(c analytics.Counts) AnalyticsRates {
	return AnalyticsRates{
		Appointments: c.Appointments,
		Confirmation: analyticsRate(c.Confirmation()), Cancellation: analyticsRate(c.Cancellation()),
		Reschedule: analyticsRate(c.Reschedule()), NoShow: analyticsRate(c.NoShowRate()),
	}
}

// Analytics answers GET /analytics?from=&to= (days as YYYY-MM-DD in the
// default location's zone; the last 30 days by default), as JSON, or one
// breakdown as CSV with format=csv&breakdown=rule.
func (a *API) Analytics(c *gin.Context) {
	if a.analytics == nil {
		a.NotFound(c)
		return
	}
	ctx := c.Request.Context()
	zone, err := a.rangeZone(ctx, 0)
	if err != nil {
		a.fail(c, err)
		return
	}
	r, fe := analytics.ParseRange(strings.TrimSpace(c.Query("from")), strings.TrimSpace(c.Query("to")), zone, a.now())
	if fe == nil {
		fe = models.FieldErrors{}
	}
	format := c.DefaultQuery("format", "json")
	breakdown := c.Query("breakdown")
	switch format {
	case "json":
	case "csv":
		if !analytics.ValidBreakdown(breakdown) {
			fe["breakdown"] = "must be one of " + strings.Join(analytics.BreakdownNames, ", ")
		}
	default:
		fe["format"] = "must be json or csv"
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	rep, err := a.analytics.Report(ctx, r)
	if err != nil {
		a.fail(c, err)
		return
	}
	if format == "csv" {
		c.Header("Content-Type", csvout.ContentType)
		c.Header("Content-Disposition", `attachment; filename="analytics-`+breakdown+"-"+r.FirstDay()+"-"+r.LastDay()+`.csv"`)
		c.Status(http.StatusOK)
		if err := analytics.WriteCSV(c.Writer, rep, breakdown); err != nil {
			a.log.ErrorContext(ctx, "api: analytics csv failed", "err", err)
		}
		return
	}
	writeJSON(c, http.StatusOK, newAnalyticsAnswer(rep))
}

func newAnalyticsAnswer(rep *analytics.Report) AnalyticsAnswer {
	out := AnalyticsAnswer{
		From: rep.Range.FirstDay(), To: rep.Range.LastDay(), Zone: rep.Range.Zone.String(),
		ComputedAt:          rep.ComputedAt.UTC().Format(time.RFC3339),
		AsOf:                rep.AsOf.UTC().Format(time.RFC3339),
		AppointmentsInRange: rep.InRange, Totals: analyticsRates(rep.Total), Refill: analyticsRate(rep.Refill),
		Reminders: []AnalyticsReminder{}, Breakdowns: map[string]AnalyticsBreakdown{},
	}
	for _, r := range rep.Reminders {
		ar := AnalyticsReminder{
			Name: r.Name, When: r.Offset, Sent: r.Sent, Delivery: analyticsRate(r.Delivery()),
			AnalyticsRates: analyticsRates(r.Counts), Ranked: r.Ranked,
		}
		if r.RuleID != 0 {
			id := r.RuleID
			ar.RuleID = &id
		}
		out.Reminders = append(out.Reminders, ar)
	}
	for _, bd := range rep.Breakdowns {
		b := AnalyticsBreakdown{Title: bd.Title, Rows: []AnalyticsRow{}}
		refill := bd.Name == analytics.ByProvider || bd.Name == analytics.ByLocation || bd.Name == analytics.ByType
		for _, r := range bd.Rows {
			row := AnalyticsRow{Key: r.Key, Label: r.Label, AnalyticsRates: analyticsRates(r.Counts)}
			if refill {
				rf := analyticsRate(r.Refill)
				row.Refill = &rf
			}
			b.Rows = append(b.Rows, row)
		}
		out.Breakdowns[bd.Name] = b
	}
	return out
}
