package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/patientpage"
	"apptconfirm/app/render"
	"apptconfirm/app/wording"
	"apptconfirm/models"
)

// patientPageData is the patient page: the appointment in the patient's
// language, and what they may do.
type patientPageData struct {
	T     wording.PageText
	Token string
	// When is the appointment's day, date and time in the patient's
	// language, at the location.
	When, Where, Address, Provider, Phone string
	// Status is the one line about the appointment's state; Done what the
	// last action did.
	Status, Done string
	// Directions opens the address in a map; empty without an address.
	Directions string
	// Offers are the offered times, numbered from 1.
	Offers []pageOffer
	// AskCancel shows the second step of Cancel.
	AskCancel                               bool
	CanConfirm, CanCancel, CanAsk, Finished bool
}

// pageOffer is one offered time.
type pageOffer struct {
	N    int
	When string
}

// patientPageText formats t at the location in lang: "Tuesday 3 March
// 2026, 09:00".
func patientWhen(t time.Time, zone *time.Location, lang string) string {
	return render.FormatWeekday(t, zone, lang) + " " + render.FormatDate(t, zone, lang) + ", " + render.FormatTime(t, zone, lang)
}

// patientPage renders the page of the :token appointment. askCancel
// shows the second step of Cancel. Neither changes the appointment; the
// plain page records its opening on the timeline.
func (s *Server) patientPage(c *gin.Context, askCancel bool) {
	ctx := c.Request.Context()
	token := c.Param("token")
	v, err := s.patient.View(ctx, token)
	if err != nil {
		s.patientGone(c, err)
		return
	}
	a := v.Appointment
	if !askCancel {
		if err := s.patient.Opened(ctx, a.ID); err != nil {
			s.log.WarnContext(ctx, "patient page: record the opening", "err", err)
		}
	}
	lang := a.Patient.Language
	zone := a.Location.Zone()
	d := patientPageData{
		T: wording.Page(lang), Token: token, AskCancel: askCancel,
		When: patientWhen(a.StartsAt, zone, lang), Where: a.Location.Name, Address: a.Location.Address, Phone: a.Location.Phone,
		CanConfirm: v.CanConfirm(), CanCancel: v.CanCancel(), CanAsk: v.CanAsk(),
	}
	if a.Provider != nil {
		d.Provider = a.Provider.Name
	}
	if a.Location.Address != "" {
		d.Directions = "https://www.google.com/maps/search/?api=1&query=" + url.QueryEscape(a.Location.Name+", "+a.Location.Address)
	}
	switch a.Status {
	case models.Scheduled:
		d.Status = d.T.Scheduled
	case models.Confirmed:
		d.Status = d.T.Confirmed
	case models.RescheduleRequested:
		d.Status = d.T.Requested
	case models.Cancelled:
		d.Status, d.Finished = d.T.Cancelled, true
	case models.NoShow:
		d.Status, d.Finished = d.T.Missed, true
	default:
		d.Status, d.Finished = d.T.Over, true
	}
	for i, t := range v.Times {
		d.Offers = append(d.Offers, pageOffer{N: i + 1, When: patientWhen(t, zone, lang)})
	}
	d.Done = map[string]string{
		string(patientpage.Confirmed): d.T.DoneConfirmed, string(patientpage.Cancelled): d.T.DoneCancelled,
		string(patientpage.Requested): d.T.DoneRequested, string(patientpage.Moved): d.T.DoneMoved,
		string(patientpage.Taken): d.T.DoneTaken, string(patientpage.Refused): d.T.Refused,
	}[c.Query("done")]
	p := &Page{Title: d.T.Title, ClinicName: s.opts.ClinicName, Simulating: s.opts.Simulating, Lang: d.T.Lang, Data: d}
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("X-Robots-Tag", "noindex")
	s.html(c, http.StatusOK, "patient_page", p)
}

// patientGone answers an unknown or expired link (410, in plain words)
// or a failure.
func (s *Server) patientGone(c *gin.Context, err error) {
	if !errors.Is(err, patientpage.ErrGone) {
		s.fail(c, err)
		return
	}
	t := wording.Page(preferredLanguage(c.GetHeader("Accept-Language")))
	p := &Page{Title: t.Title, ClinicName: s.opts.ClinicName, Lang: t.Lang, Data: patientPageData{T: t}}
	c.Header("X-Robots-Tag", "noindex")
	s.html(c, http.StatusGone, "patient_page", p)
}

// preferredLanguage is the first language of an Accept-Language header.
func preferredLanguage(h string) string {
	first, _, _ := strings.Cut(h, ",")
	first, _, _ = strings.Cut(first, ";")
	return strings.TrimSpace(first)
}

// patientAction runs one of the page's POST actions and shows the page
// again with what it did (POST, then a redirect to a GET).
func (s *Server) patientAction(c *gin.Context, do func(token string) (patientpage.Result, error)) {
	token := c.Param("token")
	res, err := do(token)
	if err != nil {
		s.patientGone(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/a/"+url.PathEscape(token)+"?done="+string(res))
}

func (s *Server) patientLinkShow(c *gin.Context)  { s.patientPage(c, false) }
func (s *Server) patientCancelAsk(c *gin.Context) { s.patientPage(c, true) }
func (s *Server) patientConfirm(c *gin.Context) {
	s.patientAction(c, func(t string) (patientpage.Result, error) { return s.patient.Confirm(c.Request.Context(), t) })
}

func (s *Server) patientCancel(c *gin.Context) {
	s.patientAction(c, func(t string) (patientpage.Result, error) { return s.patient.Cancel(c.Request.Context(), t) })
}

func (s *Server) patientAsk(c *gin.Context) {
	s.patientAction(c, func(t string) (patientpage.Result, error) { return s.patient.Ask(c.Request.Context(), t) })
}

func (s *Server) patientPick(c *gin.Context) {
	n, err := strconv.Atoi(c.PostForm("n"))
	if err != nil || n < 1 || n > models.MaxOfferTimes {
		n = 0
	}
	s.patientAction(c, func(t string) (patientpage.Result, error) {
		if n == 0 {
			return patientpage.Refused, nil
		}
		return s.patient.Pick(c.Request.Context(), t, n)
	})
}

// patientCalendar serves the appointment as an .ics file.
func (s *Server) patientCalendar(c *gin.Context) {
	b, err := s.patient.Calendar(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.patientGone(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="appointment.ics"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", b)
}
