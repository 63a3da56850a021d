package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/models"
)

// Offers sends patients offers of new times; *reschedule.Service (package
// app/reschedule) implements it.
type Offers interface {
	Offer(ctx context.Context, actor models.Actor, id uint, starts []time.Time) (*models.RescheduleOffer, error)
	Suggest(ctx context.Context, id uint) ([]time.Time, error)
	Open(ctx context.Context, id uint) (*models.RescheduleOffer, error)
}

// offerInputLayout is the services' wall-clock layout of an offered time.
const offerInputLayout = "2006-01-02T15:04"

// offerForm is the appointment page's "Offer other times" form.
type offerForm struct {
	// Starts are the values of the three time fields: what staff typed,
	// or the free-slot finder's first times.
	Starts [models.MaxOfferTimes]whenInput
	// Suggested is set when Starts come from the finder; None when it
	// found nothing (no working hours set, or a full calendar).
	Suggested, None bool
	// Open lists the times of the open offer, on the location's clock,
	// and until when it can be picked.
	Open      []time.Time
	OpenUntil time.Time
	Error     string
}

// offerForm returns the form for a's page, or nil when no offer can be
// sent (the patient opted out, the appointment is over or cancelled, or
// the feature is off). typed carries a refused submission.
func (s *Server) offerForm(ctx context.Context, a *models.Appointment, typed *offerForm) (*offerForm, error) {
	if s.offers == nil || a.Patient.OptedOut() || !a.Status.Holds() || !a.StartsAt.After(s.now()) {
		return nil, nil
	}
	f := typed
	if f == nil {
		f = &offerForm{}
		found, err := s.offers.Suggest(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		zone := a.Location.Zone()
		for i, t := range found {
			f.Starts[i] = s.clock.splitLocal(t.In(zone).Format(offerInputLayout))
		}
		f.Suggested, f.None = len(found) > 0, len(found) == 0
	}
	o, err := s.offers.Open(ctx, a.ID)
	switch {
	case err == nil:
		f.Open, f.OpenUntil = o.Times(), o.ExpiresAt
	case !errors.Is(err, models.ErrNotFound):
		return nil, err
	}
	return f, nil
}

// appointmentOffer sends the times of the form (empty fields left out) in
// one SMS; refused times show the page again with the reason.
func (s *Server) appointmentOffer(c *gin.Context) {
	a, ok := s.loadAppointment(c)
	if !ok {
		return
	}
	if s.offers == nil {
		c.Status(http.StatusNotFound)
		return
	}
	f := &offerForm{}
	starts, err := s.readOfferTimes(c, a.Location.Zone(), &f.Starts)
	if err == nil {
		_, err = s.offers.Offer(c.Request.Context(), actorOf(c), a.ID, starts)
	}
	if fe, ok := models.AsFieldErrors(err); ok {
		f.Error = "Not sent: " + strings.Join(otherErrors(fe), "; ") + "."
		if m, ok := fe["starts_at"]; ok {
			f.Error = "Not sent: " + strings.TrimSuffix(m, ".") + "."
		}
		s.appointmentShowPage(c, http.StatusUnprocessableEntity, a, appointmentShowData{Offer: f})
		return
	}
	var bt *models.ErrBadTransition
	if errors.As(err, &bt) {
		s.appointmentShowPage(c, http.StatusConflict, a, appointmentShowData{ActionError: "Not sent: " + bt.Error() + "."})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, fmt.Sprintf("Offer of %d time(s) sent to the patient.", len(starts)))
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/appointments/%d", a.ID))
}

// readOfferTimes reads an offer form's times: the fields starts_at_date
// and starts_at_time, once per time (the time on the clinic's clock), or,
// from a client that sends them so, starts_at values in
// "2006-01-02T15:04". Empty times are left out; typed, when set, keeps
// what was typed for the form. A time that cannot be read is named
// ("Time 2: “25:00” is not a time of day ...").
func (s *Server) readOfferTimes(c *gin.Context, zone *time.Location, typed *[models.MaxOfferTimes]whenInput) ([]time.Time, error) {
	dates, times := c.PostFormArray("starts_at_date"), c.PostFormArray("starts_at_time")
	if len(dates) == 0 && len(times) == 0 {
		values := c.PostFormArray("starts_at")
		if typed != nil {
			for i, v := range values {
				if i < len(typed) {
					typed[i] = s.clock.splitLocal(v)
				}
			}
		}
		return parseOfferTimes(values, zone, nil)
	}
	var locals, problems []string
	for i := range max(len(dates), len(times)) {
		var w whenInput
		if i < len(dates) {
			w.Date = dates[i]
		}
		if i < len(times) {
			w.Time = times[i]
		}
		if typed != nil && i < len(typed) {
			typed[i] = w
		}
		local, problem := s.clock.joinLocal(fmt.Sprintf("Time %d", i+1), w)
		if problem != "" {
			problems = append(problems, problem)
		}
		locals = append(locals, local)
	}
	if len(problems) > 0 {
		return nil, models.FieldErrors{"starts_at": strings.Join(problems, " ")}
	}
	return parseOfferTimes(locals, zone, nil)
}

// parseOfferTimes reads the form's time fields (empty ones left out) on
// zone's wall clock; typed, when set, keeps what was typed for the form.
func parseOfferTimes(values []string, zone *time.Location, typed *[models.MaxOfferTimes]string) ([]time.Time, error) {
	var starts []time.Time
	var bad []string
	for i, v := range values {
		v = strings.TrimSpace(v)
		if typed != nil && i < len(typed) {
			typed[i] = v
		}
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation(offerInputLayout, v, zone)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%q is not a date and time", v))
			continue
		}
		starts = append(starts, t)
	}
	if len(bad) > 0 {
		return nil, models.FieldErrors{"starts_at": strings.Join(bad, "; ")}
	}
	return starts, nil
}

// appointmentZone is the time zone of appointment id's location.
func (s *Server) appointmentZone(ctx context.Context, id uint) (*time.Location, error) {
	a, err := s.clinic.GetAppointment(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.Location.Zone(), nil
}
