package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/analytics"
	"apptconfirm/app/csvout"
	"apptconfirm/models"
)

// analyticsData is the analytics page.
type analyticsData struct {
	// From and To are the range's first and last day (YYYY-MM-DD).
	From, To   string
	Zone       string
	RangeLabel string
	Presets    []rangePreset
	// Errors lists refused filter values; nothing else is shown then.
	Errors     []string
	Report     *analytics.Report
	Tiles      []rateTile
	Best       []bestRow
	BestChart  hbarChart
	Breakdowns []breakdownView
	MinRanked  int
	ComputedAt string
	// AsOf is set when the figures miss the changes made since then (the
	// summary's refresh is under way).
	AsOf string
	// Query is the range as a query string, for the CSV links.
	Query string
}

// rateTile is one headline rate with the counts it divides.
type rateTile struct {
	ID, Label, Percent, Of string
}

// bestRow is one line of the table of which reminder works best.
type bestRow struct {
	analytics.ReminderRow
	DeliveryPct, ConfirmationPct, CancellationPct, NoShowPct string
}

// breakdownView is one breakdown: its chart, its table and its CSV link.
type breakdownView struct {
	Name, Title, CSV string
	// Heading is "By reminder rule".
	Heading string
	Refill  bool
	Chart   hbarChart
	Rows    []breakdownRow
}

type breakdownRow struct {
	analytics.Row
	ConfirmationPct, CancellationPct, ReschedulePct, NoShowPct, RefillPct string
}

// hbarChart is a chart of horizontal bars, one per line: the label and the
// value in words above a bar as long as the rate, so that it reads
// without colour and at 390 px.
type hbarChart struct {
	Width, Height int
	Title         string
	Bars          []hbar
}

type hbar struct {
	LabelY, BarY float64
	W            float64
	Label, Value string
	// None: no rate (nothing to divide by), drawn as an outline.
	None bool
}

// Chart geometry, in SVG user units.
const (
	hbarWidth = 360
	hbarRow   = 40
	hbarTop   = 4
	// hbarLabelChars is where a long label is cut in the chart (the
	// table beside it has it whole).
	hbarLabelChars = 30
)

// newHBarChart draws the rate of each line.
func newHBarChart(title string, labels []string, rates []analytics.Rate) hbarChart {
	ch := hbarChart{Width: hbarWidth, Title: title, Height: hbarTop + hbarRow*len(labels)}
	for i, l := range labels {
		y := float64(hbarTop + hbarRow*i)
		if utf8.RuneCountInString(l) > hbarLabelChars {
			l = string([]rune(l)[:hbarLabelChars-1]) + "…"
		}
		b := hbar{LabelY: y + 13, BarY: y + 19, Label: l}
		r := rates[i]
		if v, ok := r.Value(); ok {
			b.W = v * hbarWidth
			b.Value = fmt.Sprintf("%s · %d of %d", r.Percent(), r.N, r.D)
		} else {
			b.None, b.Value = true, "no rate: none to count"
		}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

// analyticsRange reads the range (the default location's zone) for the
// page and its CSV files.
func (s *Server) analyticsRange(c *gin.Context) (analytics.Range, *time.Location, models.FieldErrors) {
	zone, err := time.LoadLocation(s.defaultZone(c.Request.Context()))
	if err != nil {
		zone = time.UTC
	}
	r, fe := analytics.ParseRange(strings.TrimSpace(c.Query("from")), strings.TrimSpace(c.Query("to")), zone, s.now())
	return r, zone, fe
}

func (s *Server) analyticsPage(c *gin.Context) {
	ctx := c.Request.Context()
	r, zone, fe := s.analyticsRange(c)
	d := &analyticsData{Zone: zone.String(), MinRanked: analytics.MinRanked, From: c.Query("from"), To: c.Query("to")}
	now := s.now().In(zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	if len(fe) > 0 {
		for _, k := range []string{"from", "to"} {
			if msg, ok := fe[k]; ok {
				d.Errors = append(d.Errors, k+": "+msg)
			}
		}
		d.Presets = analyticsPresets(today, "", "")
		s.html(c, badQuery, "analytics", s.page(c, "Analytics", "analytics", d))
		return
	}
	rep, err := s.analytics.Report(ctx, r)
	if err != nil {
		s.fail(c, err)
		return
	}
	d.From, d.To = r.FirstDay(), r.LastDay()
	d.Report = rep
	d.RangeLabel = rangeLabel(r.From, r.To.AddDate(0, 0, -1), today) + fmt.Sprintf(" (%d days)", r.Days())
	d.Presets = analyticsPresets(today, d.From, d.To)
	d.Query = url.Values{"from": {d.From}, "to": {d.To}}.Encode()
	d.ComputedAt = s.clock.in(rep.ComputedAt, zone, "Mon 2 Jan 2006 15:04:05")
	if rep.AsOf.Before(rep.ComputedAt) {
		d.AsOf = s.clock.in(rep.AsOf, zone, "Mon 2 Jan 2006 15:04:05")
	}
	t := rep.Total
	tile := func(id, label string, r analytics.Rate, of string) rateTile {
		return rateTile{ID: id, Label: label, Percent: r.Percent(), Of: fmt.Sprintf("%d of %d %s", r.N, r.D, of)}
	}
	d.Tiles = []rateTile{
		tile("rate-confirmation", "confirmation rate", t.Confirmation(), "reminded appointments"),
		tile("rate-cancellation", "cancellation rate", t.Cancellation(), "reminded appointments"),
		tile("rate-reschedule", "reschedule rate", t.Reschedule(), "reminded appointments"),
		tile("rate-noshow", "no-show rate", t.NoShowRate(), "with an outcome"),
		tile("rate-refill", "refill rate", rep.Refill, "freed appointments offered"),
	}
	var labels []string
	var rates []analytics.Rate
	for _, rr := range rep.Reminders {
		d.Best = append(d.Best, bestRow{
			ReminderRow: rr, DeliveryPct: rr.Delivery().Percent(), ConfirmationPct: rr.Confirmation().Percent(),
			CancellationPct: rr.Cancellation().Percent(), NoShowPct: rr.NoShowRate().Percent(),
		})
		if rr.Ranked {
			labels = append(labels, rr.Name)
			rates = append(rates, rr.Confirmation())
		}
	}
	d.BestChart = newHBarChart("Confirmation rate of each reminder with at least "+fmt.Sprint(analytics.MinRanked)+" appointments", labels, rates)
	for _, bd := range rep.Breakdowns {
		v := breakdownView{
			Name: bd.Name, Title: bd.Title, Heading: "By " + strings.ToLower(bd.Title), CSV: "/analytics.csv?" + url.Values{"breakdown": {bd.Name}, "from": {d.From}, "to": {d.To}}.Encode(),
			Refill: bd.Name == analytics.ByProvider || bd.Name == analytics.ByLocation || bd.Name == analytics.ByType,
		}
		labels, rates = labels[:0], rates[:0]
		for _, row := range bd.Rows {
			v.Rows = append(v.Rows, breakdownRow{
				Row: row, ConfirmationPct: row.Confirmation().Percent(), CancellationPct: row.Cancellation().Percent(),
				ReschedulePct: row.Reschedule().Percent(), NoShowPct: row.NoShowRate().Percent(), RefillPct: row.Refill.Percent(),
			})
			labels = append(labels, row.Label)
			rates = append(rates, row.Confirmation())
		}
		v.Chart = newHBarChart("Confirmation rate by "+strings.ToLower(bd.Title), labels, rates)
		d.Breakdowns = append(d.Breakdowns, v)
	}
	s.html(c, http.StatusOK, "analytics", s.page(c, "Analytics", "analytics", d))
}

// analyticsPresets are the ranges looked at most: the last 7, 30 and 90
// days and the last full year, each ending yesterday.
func analyticsPresets(today time.Time, from, to string) []rangePreset {
	day := func(t time.Time) string { return t.Format(dateLayout) }
	y := day(today.AddDate(0, 0, -1))
	out := []rangePreset{}
	for _, p := range []struct {
		label string
		days  int
	}{{"Last 7 days", 7}, {"Last 30 days", 30}, {"Last 90 days", 90}, {"Last 365 days", 365}} {
		f := day(today.AddDate(0, 0, -p.days))
		out = append(out, rangePreset{
			Label: p.label, URL: "/analytics?" + url.Values{"from": {f}, "to": {y}}.Encode(),
			Active: f == from && y == to,
		})
	}
	return out
}

// analyticsCSV answers /analytics.csv?breakdown=&from=&to=: one breakdown
// as a CSV file.
func (s *Server) analyticsCSV(c *gin.Context) {
	r, _, fe := s.analyticsRange(c)
	breakdown := c.Query("breakdown")
	if !analytics.ValidBreakdown(breakdown) {
		if fe == nil {
			fe = models.FieldErrors{}
		}
		fe["breakdown"] = "must be one of " + strings.Join(analytics.BreakdownNames, ", ")
	}
	if len(fe) > 0 {
		var parts []string
		for _, k := range []string{"breakdown", "from", "to"} {
			if msg, ok := fe[k]; ok {
				parts = append(parts, k+": "+msg)
			}
		}
		s.errorPage(c, http.StatusBadRequest, "Bad download", strings.Join(parts, "; "))
		return
	}
	ctx := c.Request.Context()
	rep, err := s.analytics.Report(ctx, r)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Type", csvout.ContentType)
	c.Header("Content-Disposition", `attachment; filename="analytics-`+breakdown+"-"+r.FirstDay()+"-"+r.LastDay()+`.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	if err := analytics.WriteCSV(c.Writer, rep, breakdown); err != nil && !errors.Is(err, analytics.ErrUnknownBreakdown) {
		s.log.ErrorContext(ctx, "web: analytics csv failed", "err", err)
	}
}
