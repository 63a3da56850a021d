package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// threadShown bounds the conversation on a page: the latest this many texts
// each way.
const threadShown = 50

// threadData is the SMS conversation with one patient, oldest first, like a
// messaging app, with the box to send a free text.
type threadData struct {
	PatientID uint
	// AppointmentID ties a text sent from an appointment's page to it.
	AppointmentID uint
	Zone          string
	Entries       []threadEntry
	// CanSend is false when nothing can be sent: no inbox service, or the
	// patient opted out (OptedOut says so).
	CanSend, OptedOut bool
	MaxLength         int
	CSRF              string
}

// threadEntry is one text: ours (Out) as sent, with its delivery state, or
// theirs.
type threadEntry struct {
	Out       bool
	ID        uint
	At        time.Time
	Text      string
	Name      string
	Status    models.MessageStatus
	Ticks     string
	TickLabel string
	Attention bool
}

// thread builds the conversation with p from the messages sent to them
// (sent or failed ones: planned ones are not part of it yet) and their
// replies.
func (s *Server) thread(ctx context.Context, c *gin.Context, p *models.Patient, appointmentID uint, zone string) (*threadData, error) {
	d := &threadData{PatientID: p.ID, AppointmentID: appointmentID, Zone: zone, OptedOut: p.OptedOut(), CanSend: s.inbox != nil && !p.OptedOut()}
	if s.inbox == nil {
		return d, nil
	}
	if hasSession(c) {
		d.CSRF = s.csrfToken(ctx)
	}
	d.MaxLength = 612
	if s.sends != nil {
		out, err := s.sends.PatientMessages(ctx, p.ID, threadShown)
		if err != nil {
			return nil, err
		}
		for _, m := range out {
			if e, ok := outEntry(m); ok {
				d.Entries = append(d.Entries, e)
			}
		}
	}
	in, err := s.inbox.svc.Replies(ctx, p, threadShown)
	if err != nil {
		return nil, err
	}
	for _, r := range in {
		d.Entries = append(d.Entries, threadEntry{ID: r.ID, At: r.ReceivedAt, Text: r.Text, Attention: r.NeedsAttention && r.HandledAt == nil})
	}
	sort.SliceStable(d.Entries, func(i, j int) bool { return d.Entries[i].At.Before(d.Entries[j].At) })
	return d, nil
}

// outEntry turns a message into a bubble with its ticks; messages that
// never went out (planned, cancelled, skipped) are not part of the thread.
func outEntry(m outbox.Shown) (threadEntry, bool) {
	e := threadEntry{Out: true, ID: m.Message.ID, Name: m.Name, Status: m.Message.Status, Text: m.Preview.Text}
	if m.Message.SentAt != nil {
		e.At = *m.Message.SentAt
	} else {
		e.At = m.Message.SendAt
	}
	switch m.Message.Status {
	case models.MsgAccepted, models.MsgSent:
		e.Ticks, e.TickLabel = "✓", "sent"
	case models.MsgDelivered:
		e.Ticks, e.TickLabel = "✓✓", "delivered"
	case models.MsgFailed, models.MsgRejected:
		e.Ticks, e.TickLabel = "✗", "not delivered"
	default:
		return e, false
	}
	return e, true
}

// patientSend sends a free text to a patient from the conversation box, on
// the patient's page or an appointment's, and goes back there.
func (s *Server) patientSend(c *gin.Context) {
	id, ok := parseID(c.Param("id"))
	if !ok {
		s.notFound(c)
		return
	}
	back := fmt.Sprintf("/patients/%d", id)
	var apptID *uint
	if v := c.PostForm("appointment_id"); v != "" {
		a, ok := parseID(v)
		if !ok {
			s.errorPage(c, http.StatusUnprocessableEntity, "That message cannot be sent", "appointment id: must be a number")
			return
		}
		apptID = &a
		back = "/appointments/" + strconv.FormatUint(uint64(a), 10)
	}
	_, err := s.inbox.svc.Send(c.Request.Context(), actorOf(c), id, apptID, c.PostForm("text"))
	if fe, ok := models.AsFieldErrors(err); ok {
		why := strings.Join(otherErrors(fe), "; ")
		if m, ok := fe["text"]; ok && len(fe) == 1 {
			why = "the message " + m
			if m != "required" && !strings.HasPrefix(m, "must") {
				why = m
			}
		}
		s.flashError(c, "Not sent: "+why+".")
		c.Redirect(http.StatusSeeOther, back+"#conversation")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Sent: it goes out in a moment; the ticks show when it is delivered.")
	c.Redirect(http.StatusSeeOther, back+"#conversation")
}
