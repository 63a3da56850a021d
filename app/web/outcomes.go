package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// outcomesData is "Today's outcomes": per location, the appointments of
// the chosen local day that have started and that nobody has marked
// attended or no-show yet.
type outcomesData struct {
	// Date is the day shown (YYYY-MM-DD), Label the same in words.
	Date, Label string
	// PrevURL and NextURL walk the days; Today is set when Date is today
	// in the default location's zone (no next day then).
	PrevURL, NextURL string
	Today            bool
	Days             []outcomesDay
	// Count is how many appointments wait, over every location.
	Count  int
	Errors models.FieldErrors
	// Refused lists, in sentences, why a bulk change was refused.
	Refused []string
}

// outcomesDay is one location's day.
type outcomesDay struct {
	Location string
	Zone     string
	// Over is set when the day has ended at the location.
	Over bool
	Rows []outcomesRow
}

// outcomesRow is one appointment waiting for its outcome.
type outcomesRow struct {
	ID        uint
	Time      string
	Patient   string
	PatientID uint
	Phone     string
	Provider  string
	Status    models.AppointmentStatus
	Checked   bool
}

// outcomes shows GET /outcomes?date=YYYY-MM-DD (default: today in the
// default location's zone).
func (s *Server) outcomes(c *gin.Context) {
	s.outcomesPage(c, http.StatusOK, c.Query("date"), nil, nil)
}

// outcomesPage renders the page for the day raw (empty: today); checked
// keeps the boxes of a refused submission ticked.
func (s *Server) outcomesPage(c *gin.Context, status int, raw string, checked map[uint]bool, refused []string) {
	ctx := c.Request.Context()
	zone := time.UTC
	if l, err := s.defaultLocation(ctx); err != nil {
		s.fail(c, err)
		return
	} else if l != nil {
		zone = l.Zone()
	}
	now := s.now().In(zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	day := today
	fe := models.FieldErrors{}
	if raw = strings.TrimSpace(raw); raw != "" {
		if t, ok := parseDay(fe, "date", raw, zone); ok {
			day = t
		}
	}
	if len(fe) > 0 && status == http.StatusOK {
		status = http.StatusBadRequest
	}
	days, err := s.clinic.PendingOutcomes(ctx, day, 0)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := outcomesData{
		Date: day.Format(dateLayout), Label: day.Format("Monday 2 January 2006"), Today: day.Equal(today),
		Errors: fe, Refused: refused,
		PrevURL: "/outcomes?" + url.Values{"date": {day.AddDate(0, 0, -1).Format(dateLayout)}}.Encode(),
	}
	if day.Before(today) {
		d.NextURL = "/outcomes?" + url.Values{"date": {day.AddDate(0, 0, 1).Format(dateLayout)}}.Encode()
	}
	for _, od := range days {
		lz := od.Location.Zone()
		row := outcomesDay{Location: od.Location.Name, Zone: od.Location.TimeZone, Over: od.Over}
		for _, a := range od.Appointments {
			r := outcomesRow{
				ID: a.ID, Time: s.clock.in(a.StartsAt, lz, "15:04"), Status: a.Status, Checked: checked[a.ID],
			}
			if a.Patient != nil {
				r.Patient, r.PatientID, r.Phone = a.Patient.Name(), a.Patient.ID, a.Patient.Phone
			}
			if a.Provider != nil {
				r.Provider = a.Provider.Name
			}
			row.Rows = append(row.Rows, r)
		}
		d.Count += len(row.Rows)
		d.Days = append(d.Days, row)
	}
	s.html(c, status, "outcomes", s.page(c, "Today's outcomes", "outcomes", d))
}

// outcomesSave marks the ticked appointments (form values "id") attended
// or no-show (the button pressed: "outcome"), all or none.
func (s *Server) outcomesSave(c *gin.Context) {
	date := c.PostForm("date")
	outcome := c.PostForm("outcome")
	var items []clinic.OutcomeItem
	checked := map[uint]bool{}
	var bad []string
	for _, raw := range c.PostFormArray("id") {
		id, ok := parseID(raw)
		if !ok {
			bad = append(bad, fmt.Sprintf("%q is not an appointment.", clip(raw, 20)))
			continue
		}
		if !checked[id] {
			checked[id] = true
			items = append(items, clinic.OutcomeItem{ID: id, Outcome: outcome})
		}
	}
	switch {
	case len(bad) > 0:
		s.outcomesPage(c, http.StatusUnprocessableEntity, date, checked, bad)
		return
	case len(items) == 0:
		s.outcomesPage(c, http.StatusUnprocessableEntity, date, checked, []string{"Tick at least one appointment first."})
		return
	case outcome != clinic.OutcomeAttended && outcome != clinic.OutcomeNoShow:
		s.outcomesPage(c, http.StatusUnprocessableEntity, date, checked, []string{"Choose “Mark attended” or “Mark no-show”."})
		return
	}
	done, err := s.clinic.RecordOutcomes(c.Request.Context(), actorOf(c), items)
	if fe, ok := models.AsFieldErrors(err); ok {
		var refused []string
		for _, m := range fe {
			refused = append(refused, sentence("", m))
		}
		sort.Strings(refused)
		s.outcomesPage(c, http.StatusUnprocessableEntity, date, checked, refused)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	what := "attended"
	if outcome == clinic.OutcomeNoShow {
		what = "no-show"
	}
	s.flash(c, fmt.Sprintf("%d appointment%s marked %s.", len(done), plural(len(done)), what))
	target := "/outcomes"
	if date = strings.TrimSpace(date); date != "" {
		target += "?" + url.Values{"date": {date}}.Encode()
	}
	c.Redirect(http.StatusSeeOther, target)
}

// clip shortens s for a message.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
