package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/app/stats"
	"apptconfirm/models"
)

// Dashboard sizes.
const (
	// dashboardListSize bounds the appointment list on the dashboard; the
	// full list is one link away.
	dashboardListSize = 50
	// defaultRangeDays is today and the next 7 days.
	defaultRangeDays = 8
)

// dashboardData is the dashboard page.
type dashboardData struct {
	// From and To are the first and last day shown (YYYY-MM-DD, To inclusive).
	From, To   string
	LocationID string
	Locations  []models.Location
	// Zone is the zone days are counted in: the chosen location's, else the
	// default location's.
	Zone       string
	RangeLabel string
	Presets    []rangePreset
	// Errors lists refused filter values; nothing else is shown then.
	Errors []string
	// Query is the dashboard's own query string, for the live fragment.
	Query string
	// CSRF is the session's token, for the one-click actions of the body
	// (which the live fragment renders without the page envelope).
	CSRF string
	Body *dashboardBody
}

// dashboardBody is the part of the dashboard that live.js reloads.
type dashboardBody struct {
	// Chase lists today's appointments that need a person, first thing.
	Chase            []chaseRow
	Stats            *stats.Dashboard
	ConfirmationRate string
	ReplyRate        string
	AppointmentStats []statCell
	MessageStats     []statCell
	Chart            chart
	Appointments     []models.Appointment
	// AppointmentsTotal counts the range's appointments; the list shows at
	// most dashboardListSize of them.
	AppointmentsTotal int64
	ListURL           string
	Zone              string
	UpdatedAt         string
	// Refilled counts the range's freed times filled from the waitlist;
	// ShowRefilled is false without a waitlist.
	Refilled     int64
	ShowRefilled bool
}

// MoreAppointments reports whether the list shows only part of the range.
func (b *dashboardBody) MoreAppointments() bool {
	return b.AppointmentsTotal > int64(len(b.Appointments))
}

// MoreFailed reports whether the failed-message list is cut short.
func (b *dashboardBody) MoreFailed() bool {
	return b.Stats.Failed() > int64(len(b.Stats.FailedMessages))
}

// MoreOptOuts reports whether the opt-out list may be cut short (it lists
// patients; the count is of visits).
func (b *dashboardBody) MoreOptOuts() bool {
	return len(b.Stats.OptOuts) == stats.ListLimit
}

// statCell is one count of the grid, linked to the list it counts.
type statCell struct {
	Label  string
	Class  string
	N      int64
	URL    string
	Status string
}

// rangePreset is a one-click range.
type rangePreset struct {
	Label  string
	URL    string
	Active bool
}

func (s *Server) dashboard(c *gin.Context) {
	d, status, err := s.dashboardData(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.html(c, status, "dashboard", s.page(c, "Dashboard", "dashboard", d))
}

// dashboardBody answers the fragment live.js swaps in after changes and
// after a reconnect, so counts catch up with the badges.
func (s *Server) dashboardBody(c *gin.Context) {
	d, status, err := s.dashboardData(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if d.Body == nil {
		c.Header("Cache-Control", "no-store")
		c.String(status, "%s\n", strings.Join(d.Errors, "; "))
		return
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	if err := s.render.RenderPartial(c.Writer, "dashboard", "dashboard_body", d); err != nil {
		s.fail(c, err)
	}
}

// dashboardData reads the filters (an allow-list: location among the
// locations, days as YYYY-MM-DD, at most stats.MaxDays days) and computes
// the figures. Refused filters give badQuery and no figures.
func (s *Server) dashboardData(c *gin.Context) (*dashboardData, int, error) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	fe := models.FieldErrors{}
	d := &dashboardData{From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), LocationID: strings.TrimSpace(q.Get("location_id"))}
	locs, err := s.clinic.ListLocations(ctx)
	if err != nil {
		return nil, 0, err
	}
	d.Locations = locs
	var loc *models.Location
	if d.LocationID != "" {
		if id, ok := parseID(d.LocationID); ok {
			for i := range locs {
				if locs[i].ID == id {
					loc = &locs[i]
				}
			}
		}
		if loc == nil {
			setError(fe, "location_id", "is not one of the locations")
		}
	}
	if loc != nil {
		d.Zone = loc.TimeZone
	} else {
		d.Zone = s.defaultZone(ctx)
	}
	zone, err := time.LoadLocation(d.Zone)
	if err != nil {
		zone = time.UTC
	}
	now := s.now().In(zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	from, to := today, today.AddDate(0, 0, defaultRangeDays-1)
	okFrom, okTo := true, true
	if d.From != "" {
		from, okFrom = parseDay(fe, "from", d.From, zone)
	}
	if d.To != "" {
		to, okTo = parseDay(fe, "to", d.To, zone)
	} else if okFrom && d.From != "" {
		to = from.AddDate(0, 0, defaultRangeDays-1)
	}
	if okFrom && okTo {
		switch {
		case to.Before(from):
			setError(fe, "to", "must be on or after from")
		case to.After(from.AddDate(0, 0, stats.MaxDays-1)):
			setError(fe, "to", fmt.Sprintf("the range must be at most %d days", stats.MaxDays))
		}
	}
	if len(fe) > 0 {
		d.Errors = otherErrors(fe)
		return d, badQuery, nil
	}
	d.From, d.To = from.Format(dateLayout), to.Format(dateLayout)
	d.RangeLabel = rangeLabel(from, to, today)
	base := url.Values{}
	if loc != nil {
		base.Set("location_id", strconv.FormatUint(uint64(loc.ID), 10))
	}
	d.Presets = presets(base, today, d.From, d.To)
	own := url.Values{"from": {d.From}, "to": {d.To}}
	if loc != nil {
		own.Set("location_id", base.Get("location_id"))
	}
	d.Query = own.Encode()
	if hasSession(c) {
		d.CSRF = s.csrfToken(ctx)
	}

	query := stats.Query{From: from, To: to.AddDate(0, 0, 1), Zone: zone}
	if loc != nil {
		query.LocationID = loc.ID
	}
	st, err := s.stats.Dashboard(ctx, query)
	if err != nil {
		return nil, 0, err
	}
	items, total, err := s.clinic.ListAppointments(ctx, clinic.AppointmentQuery{
		From: query.From, To: query.To, LocationID: query.LocationID, PerPage: dashboardListSize,
	})
	if err != nil {
		return nil, 0, err
	}
	list := url.Values{"from": {d.From}, "to": {d.To}}
	if loc != nil {
		list.Set("location_id", base.Get("location_id"))
	}
	body := &dashboardBody{
		Stats: st, Appointments: items, AppointmentsTotal: total, Zone: d.Zone,
		ListURL:   "/appointments?" + list.Encode(),
		Chart:     newChart(st.Days, s.now()),
		UpdatedAt: s.clock.in(s.now(), zone, "15:04:05"),
	}
	if s.waitlist != nil {
		body.ShowRefilled = true
		if body.Refilled, err = s.waitlist.Refilled(ctx, query.From, query.To, query.LocationID); err != nil {
			return nil, 0, err
		}
	}
	chase, err := s.clinic.NeedingAPerson(ctx, clinic.AppointmentQuery{From: today, To: today.AddDate(0, 0, 1), LocationID: query.LocationID})
	if err != nil {
		return nil, 0, err
	}
	for _, ch := range chase {
		body.Chase = append(body.Chase, newChaseRow(ch, s.clock))
	}
	body.ConfirmationRate = percent(st.ConfirmationRate())
	body.ReplyRate = percent(st.ReplyRate())
	for _, status := range models.AppointmentStatuses {
		l := url.Values{"from": {d.From}, "to": {d.To}, "status": {string(status)}}
		if loc != nil {
			l.Set("location_id", base.Get("location_id"))
		}
		body.AppointmentStats = append(body.AppointmentStats, statCell{
			Label: statusLabel(status), Class: string(status), Status: string(status),
			N: st.Appointments[status], URL: "/appointments?" + l.Encode(),
		})
	}
	for _, status := range models.MessageStatuses {
		body.MessageStats = append(body.MessageStats, statCell{Label: statusLabel(status), Class: string(status), Status: string(status), N: st.Messages[status]})
	}
	d.Body = body
	return d, http.StatusOK, nil
}

// percent writes a rate as "62%", or "—" when there is nothing to divide by.
func percent(rate float64, ok bool) string {
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", rate*100)
}

// rangeLabel names a range of days for people.
func rangeLabel(from, to, today time.Time) string {
	if from.Equal(to) {
		if from.Equal(today) {
			return "Today, " + from.Format("Mon 2 Jan 2006")
		}
		return from.Format("Monday 2 January 2006")
	}
	return from.Format("Mon 2 Jan 2006") + " to " + to.Format("Mon 2 Jan 2006")
}

// presets are the ranges a practice manager looks at most.
func presets(base url.Values, today time.Time, from, to string) []rangePreset {
	day := func(t time.Time) string { return t.Format(dateLayout) }
	out := []rangePreset{
		{Label: "Today", URL: rangeURL(base, day(today), day(today))},
		{Label: "Tomorrow", URL: rangeURL(base, day(today.AddDate(0, 0, 1)), day(today.AddDate(0, 0, 1)))},
		{Label: "Today + 7 days", URL: rangeURL(base, day(today), day(today.AddDate(0, 0, defaultRangeDays-1)))},
		{Label: "Last 7 days", URL: rangeURL(base, day(today.AddDate(0, 0, -7)), day(today.AddDate(0, 0, -1)))},
		{Label: "Last 30 days", URL: rangeURL(base, day(today.AddDate(0, 0, -30)), day(today.AddDate(0, 0, -1)))},
		{Label: "Last 90 days", URL: rangeURL(base, day(today.AddDate(0, 0, -90)), day(today.AddDate(0, 0, -1)))},
	}
	for i := range out {
		u, _ := url.Parse(out[i].URL)
		out[i].Active = u.Query().Get("from") == from && u.Query().Get("to") == to
	}
	return out
}

func rangeURL(base url.Values, from, to string) string {
	v := url.Values{}
	for k, vs := range base {
		v[k] = vs
	}
	v.Set("from", from)
	v.Set("to", to)
	return "/?" + v.Encode()
}

// chart is the per-day chart of confirmation and no-show rates, drawn as
// inline SVG by the template from these precomputed coordinates.
type chart struct {
	Width, Height            int
	Left, Top, Right, Bottom float64
	Bars                     []chartBar
	ConfirmPath, NoShowPath  string
	ConfirmDots, NoShowDots  []chartDot
	XLabels                  []chartLabel
	YGrid                    []chartLabel
	MaxCount                 int64
	Days                     []chartDay
}

type chartBar struct {
	X, Y, W, H float64
	Title      string
}

type chartDot struct {
	X, Y  float64
	Title string
}

type chartLabel struct {
	X, Y float64
	Text string
}

// chartDay is one row of the chart's table twin (for screen readers and
// for anyone who wants the numbers).
type chartDay struct {
	Day                        string
	Total, Active              int64
	Confirmed, NoShow          int64
	ConfirmationRate, NoShowRt string
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 760
	chartHeight = 240
	chartLeft   = 44
	chartRight  = 44
	chartTop    = 14
	chartBottom = 34
)

// newChart lays out the chart of days. Rates are drawn only for days that
// have begun by now: a future day has no replies or no-shows yet, so a rate
// there would be a guess; its bar (the planned appointments) still shows.
func newChart(days []stats.Day, now time.Time) chart {
	ch := chart{
		Width: chartWidth, Height: chartHeight, Left: chartLeft, Top: chartTop,
		Right: chartWidth - chartRight, Bottom: chartHeight - chartBottom,
	}
	plotW, plotH := ch.Right-ch.Left, ch.Bottom-ch.Top
	n := len(days)
	if n == 0 {
		return ch
	}
	for _, d := range days {
		ch.MaxCount = max(ch.MaxCount, d.Total)
	}
	slot := plotW / float64(n)
	for _, pct := range []int{0, 25, 50, 75, 100} {
		ch.YGrid = append(ch.YGrid, chartLabel{X: ch.Left - 6, Y: ch.Bottom - plotH*float64(pct)/100, Text: strconv.Itoa(pct) + "%"})
	}
	step := (n + 11) / 12 // at most about 12 day labels
	var confirm, noShow strings.Builder
	var penC, penN bool
	for i, d := range days {
		x := ch.Left + slot*(float64(i)+0.5)
		label := d.Start.Format("Mon 2")
		if n > 14 {
			label = d.Start.Format("2 Jan")
		}
		if i%step == 0 {
			ch.XLabels = append(ch.XLabels, chartLabel{X: x, Y: ch.Bottom + 18, Text: label})
		}
		if ch.MaxCount > 0 && d.Total > 0 {
			h := plotH * float64(d.Total) / float64(ch.MaxCount)
			ch.Bars = append(ch.Bars, chartBar{
				X: x - slot*0.35, Y: ch.Bottom - h, W: slot * 0.7, H: h,
				Title: fmt.Sprintf("%s: %d appointments", d.Start.Format("Mon 2 Jan"), d.Total),
			})
		}
		begun := d.Start.Before(now)
		cr, okC := d.ConfirmationRate()
		nr, okN := d.NoShowRate()
		okC, okN = okC && begun, okN && begun
		row := chartDay{
			Day: d.Start.Format("Mon 2 Jan"), Total: d.Total, Active: d.Active, Confirmed: d.Confirmed, NoShow: d.NoShow,
			ConfirmationRate: percent(cr, okC), NoShowRt: percent(nr, okN),
		}
		ch.Days = append(ch.Days, row)
		// A day without active appointments has no rate: the line breaks there.
		penC = plot(&confirm, penC, okC, x, ch.Bottom-plotH*cr)
		penN = plot(&noShow, penN, okN, x, ch.Bottom-plotH*nr)
		if okC {
			ch.ConfirmDots = append(ch.ConfirmDots, chartDot{
				X: x, Y: ch.Bottom - plotH*cr,
				Title: fmt.Sprintf("%s: %s confirmed (%d of %d)", row.Day, row.ConfirmationRate, d.Confirmed, d.Active),
			})
		}
		if okN {
			ch.NoShowDots = append(ch.NoShowDots, chartDot{
				X: x, Y: ch.Bottom - plotH*nr,
				Title: fmt.Sprintf("%s: %s no-shows (%d of %d)", row.Day, row.NoShowRt, d.NoShow, d.Active),
			})
		}
	}
	ch.ConfirmPath, ch.NoShowPath = confirm.String(), noShow.String()
	return ch
}

// plot extends an SVG path to (x, y) when ok, lifting the pen otherwise; it
// returns whether the pen is down.
func plot(b *strings.Builder, down, ok bool, x, y float64) bool {
	if !ok {
		return false
	}
	cmd := "L"
	if !down {
		cmd = "M"
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	fmt.Fprintf(b, "%s%.1f %.1f", cmd, x, y)
	return true
}

// chaseRow is one appointment of today that needs a person, with the
// one-click actions: call the number, answer the reply, confirm.
type chaseRow struct {
	ID, PatientID uint
	Time, Zone    string
	Patient       string
	Phone         string
	Reasons       string
	Attention     bool
	InboxID       uint
	CanConfirm    bool
	Status        models.AppointmentStatus
}

func newChaseRow(ch clinic.Chase, clock clockFormat) chaseRow {
	a := ch.Appointment
	r := chaseRow{
		ID: a.ID, PatientID: a.PatientID, Reasons: strings.Join(ch.Reasons(), "; "),
		Attention: ch.Attention, InboxID: ch.InboxID, CanConfirm: a.Status == models.Scheduled, Status: a.Status,
	}
	if a.Location != nil {
		r.Zone = a.Location.TimeZone
		if z, err := time.LoadLocation(a.Location.TimeZone); err == nil {
			r.Time = clock.in(a.StartsAt, z, "15:04")
		}
	}
	if a.Patient != nil {
		r.Patient, r.Phone = a.Patient.Name(), a.Patient.Phone
	}
	return r
}
