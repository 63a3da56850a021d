package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// Sends lists the messages planned for the next hours and skips one, and
// shows an appointment's or a patient's messages as sent or as they will
// be sent; *outbox.Outbox implements it.
type Sends interface {
	Upcoming(ctx context.Context, window time.Duration, limit int) ([]outbox.Upcoming, error)
	Skip(ctx context.Context, messageID uint, actor models.Actor, reason string) (*models.Message, error)
	AppointmentMessages(ctx context.Context, appointmentID uint) ([]outbox.Shown, error)
	PatientMessages(ctx context.Context, patientID uint, limit int) ([]outbox.Shown, error)
}

// Sender sends one planned message now; *dispatch.Dispatcher implements it.
type Sender interface {
	SendNow(ctx context.Context, messageID uint, actor models.Actor) (*models.Message, error)
}

// Limits of "Tomorrow's sends".
const (
	upcomingWindow = 24 * time.Hour
	upcomingLimit  = 500
)

// upcomingData is the page: every message planned for the next 24 hours,
// as it would be sent now.
type upcomingData struct {
	Items []upcomingItem
	// More is set when the list was cut at upcomingLimit.
	More     bool
	Limit    int
	CanSend  bool
	Warnings int
	Problems int
	// Fallbacks counts the messages going out in the clinic's language
	// because the clinic has no text in the patient's; DayWarnings those
	// whose fixed words name a wrong day.
	Fallbacks   int
	DayWarnings int
}

type upcomingItem struct {
	ID    uint
	Label string
	// Why says why the message was planned (its rule and condition).
	Why           string
	When          string
	Overdue       bool
	Patient       string
	PatientID     uint
	To            string
	AppointmentID uint
	Appointment   string
	Text          string
	Length        int
	Parts         int
	Unicode       bool
	Warning       string
	Problem       string
	// Language names the text's language, flagging a fallback ("English
	// (no German text)"); Fallback is set for one. DayWarning is set when
	// the text's fixed words name a wrong day for the send; Moved says
	// when and why quiet hours moved it.
	Language   string
	Fallback   bool
	DayWarning string
	Moved      string
}

func (s *Server) upcoming(c *gin.Context) {
	if s.sends == nil {
		s.notFound(c)
		return
	}
	list, err := s.sends.Upcoming(c.Request.Context(), upcomingWindow, upcomingLimit+1)
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.now()
	d := upcomingData{Limit: upcomingLimit, CanSend: s.sender != nil}
	if len(list) > upcomingLimit {
		list, d.More = list[:upcomingLimit], true
	}
	zones := outbox.Zones{}
	for _, u := range list {
		m := u.Message
		zone := time.UTC
		if u.Appointment != nil {
			zone = zones.Of(u.Appointment.Location)
		}
		it := upcomingItem{
			ID: m.ID, Label: u.Name, Why: m.PlannedBecause, When: s.clock.in(m.SendAt, zone, "Mon 2 Jan 15:04 MST"), Overdue: !m.SendAt.After(now),
			To: m.To, Text: u.Preview.Text, Length: u.Preview.Length, Parts: u.Preview.Parts,
			Unicode: u.Preview.Unicode, Warning: u.Preview.Warning, Problem: u.Problem,
			Language: u.LanguageNote(), Fallback: u.FallbackFrom != "", DayWarning: u.DayWarning, Moved: u.Moved,
		}
		if u.Patient != nil {
			it.Patient, it.PatientID = u.Patient.Name(), u.Patient.ID
		}
		if u.Appointment != nil {
			it.AppointmentID = u.Appointment.ID
			it.Appointment = s.clock.in(u.Appointment.StartsAt, zone, "Mon 2 Jan 15:04 MST")
			if u.Appointment.Location != nil {
				it.Appointment += " at " + u.Appointment.Location.Name
			}
		}
		if it.Warning != "" {
			d.Warnings++
		}
		if it.Problem != "" {
			d.Problems++
		}
		if it.Fallback {
			d.Fallbacks++
		}
		if it.DayWarning != "" {
			d.DayWarnings++
		}
		d.Items = append(d.Items, it)
	}
	s.html(c, http.StatusOK, "upcoming", s.page(c, "Tomorrow's sends", "upcoming", d))
}

func (s *Server) upcomingSend(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if s.sender == nil {
		s.notFound(c)
		return
	}
	m, err := s.sender.SendNow(c.Request.Context(), id, actorOf(c))
	if s.upcomingFailed(c, err) {
		return
	}
	label := outbox.Label(m)
	switch m.Status {
	case models.MsgAccepted, models.MsgSent, models.MsgDelivered:
		s.flash(c, label+" sent to "+m.To+".")
	case models.MsgSending:
		s.flashError(c, label+" is not sent yet: "+m.Reason)
	default:
		s.flashError(c, label+" was not sent ("+string(m.Status)+"): "+m.Reason)
	}
	c.Redirect(http.StatusSeeOther, "/upcoming")
}

func (s *Server) upcomingSkip(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if s.sends == nil {
		s.notFound(c)
		return
	}
	m, err := s.sends.Skip(c.Request.Context(), id, actorOf(c), c.PostForm("reason"))
	if fe, ok := models.AsFieldErrors(err); ok {
		s.flashError(c, "Not skipped: reason "+fe["reason"]+".")
		c.Redirect(http.StatusSeeOther, "/upcoming")
		return
	}
	if s.upcomingFailed(c, err) {
		return
	}
	s.flash(c, outbox.Label(m)+" to "+m.To+" skipped.")
	c.Redirect(http.StatusSeeOther, "/upcoming")
}

// upcomingFailed handles a send-now or skip error: a message that is no
// longer planned (someone was quicker) is a flash on the list, anything
// else the error page. It reports whether there was an error.
func (s *Server) upcomingFailed(c *gin.Context, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, models.ErrConflict):
		s.flashError(c, "That message is no longer planned: it was sent, skipped or cancelled meanwhile.")
		c.Redirect(http.StatusSeeOther, "/upcoming")
	default:
		s.fail(c, err)
	}
	return true
}
