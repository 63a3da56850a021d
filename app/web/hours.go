package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/availability"
	"apptconfirm/app/slots"
	"apptconfirm/models"
)

// hoursDay is one weekday's row of the working-hours form.
type hoursDay struct {
	Key, Label string
	Value      string
}

// hoursForm is the working-hours form as typed.
type hoursForm struct {
	Days                      []hoursDay
	Exceptions                string
	BufferBefore, BufferAfter string
}

// hoursDays are the form's rows, Monday first; Key is the day's name in
// field paths ("weekly.mon").
var hoursDays = []struct {
	key   string
	label string
	day   time.Weekday
}{
	{"mon", "Monday", time.Monday},
	{"tue", "Tuesday", time.Tuesday},
	{"wed", "Wednesday", time.Wednesday},
	{"thu", "Thursday", time.Thursday},
	{"fri", "Friday", time.Friday},
	{"sat", "Saturday", time.Saturday},
	{"sun", "Sunday", time.Sunday},
}

// hoursFormOf fills the form from a stored schedule, times on the
// clinic's clock.
func (c clockFormat) hoursFormOf(sc *availability.Schedule) hoursForm {
	f := hoursForm{
		Exceptions:   c.exceptionsText(sc.Hours.Exceptions),
		BufferBefore: strconv.Itoa(int(sc.Buffer.Before / time.Minute)),
		BufferAfter:  strconv.Itoa(int(sc.Buffer.After / time.Minute)),
	}
	for _, d := range hoursDays {
		v := ""
		if ivs := sc.Hours.Weekly[d.day]; len(ivs) > 0 {
			v = c.spansText(ivs)
		}
		f.Days = append(f.Days, hoursDay{Key: d.key, Label: d.label, Value: v})
	}
	return f
}

func readHoursForm(c *gin.Context) hoursForm {
	f := hoursForm{
		Exceptions:   c.PostForm("exceptions"),
		BufferBefore: c.PostForm("buffer_before_minutes"),
		BufferAfter:  c.PostForm("buffer_after_minutes"),
	}
	for _, d := range hoursDays {
		f.Days = append(f.Days, hoursDay{Key: d.key, Label: d.label, Value: c.PostForm("weekly." + d.key)})
	}
	return f
}

// input reads the form: each day's intervals ("09:00-12:00, 13:00-17:00",
// empty for closed), the exceptions one per line, the buffers in minutes.
// Errors are keyed by the form's fields ("weekly.tue", "exceptions").
func (f hoursForm) input(c clockFormat) (availability.ScheduleInput, models.FieldErrors) {
	fe := models.FieldErrors{}
	var in availability.ScheduleInput
	for i, d := range hoursDays {
		spans, problem := c.normaliseSpans(f.Days[i].Value)
		if problem != "" {
			fe.Add("weekly."+d.key, problem)
			continue
		}
		ivs, err := slots.ParseIntervals(spans)
		if err != nil {
			fe.Add("weekly."+d.key, err.Error())
			continue
		}
		in.Hours.Weekly[d.day] = ivs
	}
	exceptions, problem := c.normaliseExceptions(f.Exceptions)
	if problem != "" {
		fe.Add("exceptions", problem)
	}
	ex, err := slots.ParseExceptions(exceptions)
	if problem != "" {
		err = nil
	}
	if err != nil {
		msg := err.Error()
		if sfe, ok := err.(*slots.FieldError); ok {
			msg = sfe.Field + ": " + sfe.Err.Error()
			if sfe.Field == "exceptions" {
				msg = sfe.Err.Error()
			}
		}
		fe.Add("exceptions", msg)
	}
	in.Hours.Exceptions = ex
	in.BufferBeforeMinutes = bufferMinutes(fe, "buffer_before_minutes", f.BufferBefore)
	in.BufferAfterMinutes = bufferMinutes(fe, "buffer_after_minutes", f.BufferAfter)
	return in, fe
}

// bufferMinutes reads a buffer in whole minutes (empty is 0); the service
// checks its range.
func bufferMinutes(fe models.FieldErrors, field, raw string) int {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		fe.Add(field, "must be a whole number of minutes")
	}
	return n
}

// formFields maps the service's field paths ("weekly.tue[1]",
// "exceptions[2].to") onto the form's fields.
func formFields(fe models.FieldErrors) models.FieldErrors {
	out := models.FieldErrors{}
	for k, v := range fe {
		switch {
		case strings.HasPrefix(k, "weekly."):
			day, _, _ := strings.Cut(strings.TrimPrefix(k, "weekly."), "[")
			out.Add("weekly."+day, v)
		case strings.HasPrefix(k, "exceptions"):
			out.Add("exceptions", v)
		default:
			out.Add(k, v)
		}
	}
	return out
}

// hoursPageData is the working-hours page of a provider or a location.
type hoursPageData struct {
	Kind     string // "provider" or "location"
	ID       uint
	Name     string
	Back     string
	TimeZone string
	Set      bool
	Form     hoursForm
	Errors   models.FieldErrors
	Other    []string
	// SpansExample and MorningExample are hours written on the clinic's
	// clock, for the hints.
	SpansExample, MorningExample string
}

// hoursOwner reads the page's owner from the path and names it, or renders
// the error page.
func (s *Server) hoursOwner(c *gin.Context, kind string) (availability.Owner, hoursPageData, bool) {
	if s.avail == nil {
		s.notFound(c)
		return availability.Owner{}, hoursPageData{}, false
	}
	id, ok := s.pathID(c)
	if !ok {
		return availability.Owner{}, hoursPageData{}, false
	}
	ctx := c.Request.Context()
	d := hoursPageData{Kind: kind, ID: id}
	o := availability.Owner{Kind: kind, ID: id}
	switch kind {
	case models.HoursOfProvider:
		p, err := s.clinic.GetProvider(ctx, id)
		if err != nil {
			s.fail(c, err)
			return o, d, false
		}
		d.Name, d.Back = p.Name, "/admin/providers"
		if p.LocationID != nil {
			if l, err := s.clinic.GetLocation(ctx, *p.LocationID); err == nil {
				d.TimeZone = l.TimeZone
			}
		}
	default:
		l, err := s.clinic.GetLocation(ctx, id)
		if err != nil {
			s.fail(c, err)
			return o, d, false
		}
		d.Name, d.Back, d.TimeZone = l.Name, "/admin/locations", l.TimeZone
	}
	return o, d, true
}

func (s *Server) hoursPage(c *gin.Context, status int, d hoursPageData) {
	var shown []string
	for _, day := range hoursDays {
		shown = append(shown, "weekly."+day.key)
	}
	d.Other = otherErrors(d.Errors, append(shown, "exceptions", "buffer_before_minutes", "buffer_after_minutes")...)
	d.SpansExample = s.clock.spansText(slots.Intervals{{Start: 9 * 60, End: 12 * 60}, {Start: 13 * 60, End: 17 * 60}})
	d.MorningExample = s.clock.spansText(slots.Intervals{{Start: 9 * 60, End: 12 * 60}})
	s.html(c, status, "admin_hours", s.page(c, "Working hours: "+d.Name, "admin", d))
}

func (s *Server) hoursShow(c *gin.Context, kind string) {
	o, d, ok := s.hoursOwner(c, kind)
	if !ok {
		return
	}
	sc, err := s.avail.Schedule(c.Request.Context(), o)
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Set, d.Form = sc.Set, s.clock.hoursFormOf(sc)
	s.hoursPage(c, http.StatusOK, d)
}

func (s *Server) hoursSave(c *gin.Context, kind string) {
	o, d, ok := s.hoursOwner(c, kind)
	if !ok {
		return
	}
	d.Form = readHoursForm(c)
	in, fe := d.Form.input(s.clock)
	if len(fe) == 0 {
		_, err := s.avail.SaveSchedule(c.Request.Context(), actorOf(c), o, in)
		if f, isInput := models.AsFieldErrors(err); isInput {
			fe = formFields(f)
		} else if err != nil {
			s.fail(c, err)
			return
		}
	}
	if len(fe) > 0 {
		d.Errors = fe
		if sc, err := s.avail.Schedule(c.Request.Context(), o); err == nil {
			d.Set = sc.Set
		}
		s.hoursPage(c, http.StatusUnprocessableEntity, d)
		return
	}
	s.flash(c, fmt.Sprintf("Working hours of %s saved.", d.Name))
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("%s/%d/hours", d.Back, d.ID))
}

func (s *Server) hoursClear(c *gin.Context, kind string) {
	o, d, ok := s.hoursOwner(c, kind)
	if !ok {
		return
	}
	if err := s.avail.ClearSchedule(c.Request.Context(), actorOf(c), o); err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, fmt.Sprintf("Working hours of %s cleared.", d.Name))
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("%s/%d/hours", d.Back, d.ID))
}
