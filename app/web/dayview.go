package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// The calendar's grid: one row per slotMinutes, from calendarFirstHour to
// calendarLastHour unless an appointment starts earlier or ends later.
const (
	slotMinutes       = 15
	calendarFirstHour = 8
	calendarLastHour  = 18
)

// calendarData is the appointments page as a calendar: a day with a column
// per provider, or a week with a column per day, at one location.
type calendarData struct {
	Week                       bool
	Date, Label, Zone          string
	LocationID                 string
	Locations                  []models.Location
	PrevURL, NextURL, TodayURL string
	DayURL, WeekURL, ListURL   string
	PrevLabel, NextLabel       string
	Columns                    []calendarColumn
	Rows                       []calendarRow
	Count, Cancelled           int
	More                       bool
	Errors                     []string
}

// calendarColumn is a column's heading: a provider, or a day of the week.
type calendarColumn struct {
	Key, Label string
}

// calendarRow is one slot of the day, with a cell per column.
type calendarRow struct {
	Time  string
	Hour  bool
	Cells []calendarCell
}

// calendarCell is one column's part of a row. A cell holding appointments
// spans the rows they cover; the rows below it have Skip set. A free cell
// offers to book there (FreeURL), unless its time has passed.
type calendarCell struct {
	Skip      bool
	Span      int
	Column    string
	Time      string
	Blocks    []calendarBlock
	FreeURL   string
	FreeLabel string
}

// calendarBlock is one appointment on the grid.
type calendarBlock struct {
	ID                           uint
	Time, End, Patient, Provider string
	Status                       models.AppointmentStatus
	StatusLabel                  string
	Reminder, Reply              chip
	// Type is the appointment type's name ("" for none) and TypeClass the
	// class of its colours.
	Type, TypeClass string
}

// chip is a small label with a class that colours it; empty when unset.
type chip struct {
	Class, Label string
}

// calendarView reads which view of /appointments is asked for: "day" (the
// default), "week" or "list". Searching, filtering by status or provider,
// sorting or a range of days is the list's work, so those open the list.
func calendarView(q url.Values) string {
	switch v := q.Get("view"); v {
	case "day", "week", "list":
		return v
	}
	for _, k := range []string{"from", "to", "status", "q", "sort", "provider_id", "page"} {
		if q.Get(k) != "" {
			return "list"
		}
	}
	return "day"
}

// appointmentCalendar shows a day (columns per provider) or a week (columns
// per day) of one location: the chosen one, else the default.
func (s *Server) appointmentCalendar(c *gin.Context, week bool) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	fe := models.FieldErrors{}
	d := calendarData{Week: week, Date: q.Get("date"), LocationID: q.Get("location_id")}
	locs, err := s.clinic.ListLocations(ctx)
	if err != nil {
		s.fail(c, err)
		return
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
	} else if l, err := s.defaultLocation(ctx); err != nil {
		s.fail(c, err)
		return
	} else if l != nil {
		loc = l
		d.LocationID = strconv.FormatUint(uint64(l.ID), 10)
	}
	zone := time.UTC
	if loc != nil {
		if z, err := time.LoadLocation(loc.TimeZone); err == nil {
			zone = z
		}
	}
	d.Zone = zone.String()
	now := s.now().In(zone)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	if d.Date != "" {
		if t, ok := parseDay(fe, "date", d.Date, zone); ok {
			day = t
		}
	}
	d.Date = day.Format(dateLayout)
	first, days := day, 1
	if week {
		first = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)) // back to Monday
		days = 7
		last := first.AddDate(0, 0, 6)
		d.Label = first.Format("Mon 2 Jan") + " to " + last.Format("Mon 2 Jan 2006")
		d.PrevLabel, d.NextLabel = "Previous week", "Next week"
	} else {
		d.Label = day.Format("Monday 2 January 2006")
		d.PrevLabel, d.NextLabel = "Previous day", "Next day"
	}
	view := "day"
	if week {
		view = "week"
	}
	base := url.Values{"view": {view}}
	if d.LocationID != "" && len(fe) == 0 {
		base.Set("location_id", d.LocationID)
	}
	d.PrevURL = withParam("/appointments", base, "date", first.AddDate(0, 0, -days).Format(dateLayout))
	d.NextURL = withParam("/appointments", base, "date", first.AddDate(0, 0, days).Format(dateLayout))
	d.TodayURL = withParam("/appointments", base, "date", "")
	d.DayURL = withParam("/appointments", base, "view", "day") + "&date=" + d.Date
	d.WeekURL = withParam("/appointments", base, "view", "week") + "&date=" + d.Date
	d.ListURL = withParam("/appointments", base, "view", "list") + "&date=" + d.Date

	if len(fe) > 0 || loc == nil {
		d.Errors = otherErrors(fe)
		status := http.StatusOK
		if len(fe) > 0 {
			status = badQuery
		}
		s.html(c, status, "appointments_calendar", s.page(c, "Appointments", "appointments", d))
		return
	}

	items, total, err := s.clinic.ListAppointments(ctx, clinic.AppointmentQuery{
		From: first, To: first.AddDate(0, 0, days), LocationID: loc.ID, PerPage: clinic.MaxPerPage,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	d.More = total > int64(len(items))
	var shown []models.Appointment
	ids := make([]uint, 0, len(items))
	for _, a := range items {
		if a.Status == models.Cancelled {
			d.Cancelled++
			continue
		}
		shown = append(shown, a)
		ids = append(ids, a.ID)
	}
	d.Count = len(shown)
	msgs, err := s.clinic.MessageSummaries(ctx, ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	replies, err := s.clinic.ReplySummaries(ctx, ids)
	if err != nil {
		s.fail(c, err)
		return
	}

	// The columns, and which column each appointment goes in.
	columnOf := func(a models.Appointment) string {
		if week {
			return a.StartsAt.In(zone).Format(dateLayout)
		}
		if a.ProviderID == nil {
			return "none"
		}
		return "p" + strconv.FormatUint(uint64(*a.ProviderID), 10)
	}
	var cols []calendarColumn
	providerOf := map[string]*uint{}
	if week {
		for i := range 7 {
			t := first.AddDate(0, 0, i)
			cols = append(cols, calendarColumn{Key: t.Format(dateLayout), Label: t.Format("Mon 2 Jan")})
		}
	} else {
		provs, err := s.clinic.ListProviders(ctx, clinic.ProviderQuery{LocationID: loc.ID})
		if err != nil {
			s.fail(c, err)
			return
		}
		used := map[string]bool{}
		for _, a := range shown {
			used[columnOf(a)] = true
		}
		for _, p := range provs {
			key := "p" + strconv.FormatUint(uint64(p.ID), 10)
			if p.Active || used[key] {
				cols = append(cols, calendarColumn{Key: key, Label: p.Name})
				providerOf[key] = &p.ID
			}
		}
		for _, a := range shown {
			key := columnOf(a)
			if _, ok := providerOf[key]; !ok && a.Provider != nil {
				cols = append(cols, calendarColumn{Key: key, Label: a.Provider.Name})
				providerOf[key] = a.ProviderID
			}
		}
		if used["none"] || len(cols) == 0 {
			label := "No particular provider"
			if len(cols) == 0 {
				label = "Appointments"
			}
			cols = append(cols, calendarColumn{Key: "none", Label: label})
		}
	}
	d.Columns = cols

	// The rows: working hours, widened to what is booked.
	firstSlot, lastSlot := calendarFirstHour*60/slotMinutes, calendarLastHour*60/slotMinutes
	minuteOf := func(t time.Time) int { t = t.In(zone); return t.Hour()*60 + t.Minute() }
	for _, a := range shown {
		start := minuteOf(a.StartsAt) / slotMinutes
		end := (minuteOf(a.StartsAt) + a.DurationMinutes + slotMinutes - 1) / slotMinutes
		if start < firstSlot {
			firstSlot = start
		}
		if end > lastSlot {
			lastSlot = min(end, 24*60/slotMinutes)
		}
	}
	nRows := lastSlot - firstSlot
	d.Rows = make([]calendarRow, nRows)
	for i := range d.Rows {
		m := (firstSlot + i) * slotMinutes
		d.Rows[i] = calendarRow{Time: s.clock.minutes(m), Hour: m%60 == 0, Cells: make([]calendarCell, len(cols))}
	}

	// Each column: appointments that overlap share one cell spanning them all.
	byColumn := map[string][]models.Appointment{}
	for _, a := range shown {
		byColumn[columnOf(a)] = append(byColumn[columnOf(a)], a)
	}
	for ci, col := range cols {
		list := byColumn[col.Key]
		sort.SliceStable(list, func(i, j int) bool { return list[i].StartsAt.Before(list[j].StartsAt) })
		open, openEnd := -1, 0 // the cell of the latest group, and where it ends
		for _, a := range list {
			start := minuteOf(a.StartsAt)/slotMinutes - firstSlot
			end := (minuteOf(a.StartsAt)+max(a.DurationMinutes, 1)+slotMinutes-1)/slotMinutes - firstSlot
			start, end = max(start, 0), min(max(end, start+1), nRows)
			if open < 0 || start >= openEnd {
				open, openEnd = start, end
			} else {
				openEnd = max(openEnd, end)
			}
			cell := &d.Rows[open].Cells[ci]
			cell.Span = openEnd - open
			for r := open + 1; r < openEnd; r++ {
				d.Rows[r].Cells[ci].Skip = true
			}
			cell.Blocks = append(cell.Blocks, s.calendarBlock(a, zone, week, msgs[a.ID], replies))
		}
		for r := range d.Rows {
			cell := &d.Rows[r].Cells[ci]
			cell.Column, cell.Time = col.Key, d.Rows[r].Time
			if cell.Skip || cell.Span > 0 {
				continue
			}
			cell.Span = 1
			slotDay := day
			if week {
				slotDay, _ = time.ParseInLocation(dateLayout, col.Key, zone)
			}
			m := (firstSlot + r) * slotMinutes
			at := time.Date(slotDay.Year(), slotDay.Month(), slotDay.Day(), m/60, m%60, 0, 0, zone)
			if !at.After(now) {
				continue
			}
			v := url.Values{"location_id": {d.LocationID}, "starts_at": {at.Format("2006-01-02T15:04")}}
			label := "Book " + at.Format("Mon 2 Jan") + " at " + d.Rows[r].Time
			if p := providerOf[col.Key]; p != nil {
				v.Set("provider_id", strconv.FormatUint(uint64(*p), 10))
				label += " with " + col.Label
			}
			cell.FreeURL, cell.FreeLabel = "/appointments/new?"+v.Encode(), label
		}
	}
	s.html(c, http.StatusOK, "appointments_calendar", s.page(c, "Appointments", "appointments", d))
}

// calendarBlock describes one appointment for the grid, with a chip for its
// reminders and one for its latest reply.
func (s *Server) calendarBlock(a models.Appointment, zone *time.Location, week bool, msgs []models.Message, replies map[uint]models.InboundMessage) calendarBlock {
	b := calendarBlock{
		ID: a.ID, Time: s.clock.in(a.StartsAt, zone, "15:04"), End: s.clock.in(a.EndsAt(), zone, "15:04"),
		Status: a.Status, StatusLabel: statusLabel(a.Status),
		Reminder: reminderChip(msgs),
	}
	if a.Patient != nil {
		b.Patient = a.Patient.Name()
	}
	if week && a.Provider != nil {
		b.Provider = a.Provider.Name
	}
	if r, ok := replies[a.ID]; ok {
		b.Reply = replyChip(r)
	}
	if t := a.AppointmentType; t != nil {
		b.Type, b.TypeClass = t.Name, typeClass(t.ID)
	}
	return b
}

// reminderChip says where the appointment's reminders stand: the latest
// one sent (delivered, sent or failed), else one still planned.
func reminderChip(msgs []models.Message) chip {
	var planned bool
	var last *models.Message
	for i := range msgs {
		m := &msgs[i]
		if m.Kind != models.KindReminder {
			continue
		}
		switch m.Status {
		case models.MsgPlanned, models.MsgSending:
			planned = true
		case models.MsgCancelled, models.MsgSkipped:
		default:
			last = m
		}
	}
	switch {
	case last != nil && last.Status == models.MsgDelivered:
		return chip{"ok", "Reminder delivered"}
	case last != nil && (last.Status == models.MsgFailed || last.Status == models.MsgRejected):
		return chip{"bad", "Reminder failed"}
	case last != nil:
		return chip{"info", "Reminder sent"}
	case planned:
		return chip{"plain", "Reminder planned"}
	}
	return chip{}
}

// replyChip says what the latest reply asked, and whether it waits for a
// person.
func replyChip(r models.InboundMessage) chip {
	if r.NeedsAttention && r.HandledAt == nil {
		return chip{"attention", "Reply needs attention"}
	}
	switch r.Intent {
	case "confirm":
		return chip{"ok", "Replied: confirmed"}
	case "cancel":
		return chip{"bad", "Replied: cancelled"}
	case "reschedule":
		return chip{"attention", "Asked to reschedule"}
	}
	return chip{"plain", "Replied"}
}
