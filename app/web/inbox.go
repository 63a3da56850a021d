package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/inbox"
	"apptconfirm/models"
)

// inboxPerPage is the inbox's page size.
const inboxPerPage = 25

// inboxPages serves the inbox.
type inboxPages struct {
	s   *Server
	svc *inbox.Service
}

// inboxData is the inbox page.
type inboxData struct {
	// Handled shows the handled items instead of those needing attention.
	Handled bool
	Items   []inbox.Item
	Pager   pager
	// Open counts the items needing attention (for the tab).
	Open int64
	// Zone shows the received and handled times (the default location's zone).
	Zone      string
	MaxAnswer int
	Errors    []string
	// Offers holds the "offer other times" form of each request for
	// another time, by inbound message id, prefilled with the finder's
	// first free times.
	Offers map[uint]*offerForm
}

func (h *inboxPages) list(c *gin.Context) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	fe := models.FieldErrors{}
	d := inboxData{Handled: q.Get("show") == "handled", Zone: h.s.defaultZone(ctx), MaxAnswer: inbox.MaxAnswer}
	if show := q.Get("show"); show != "" && show != "handled" {
		setError(fe, "show", "must be empty or handled")
	}
	page := queryPage(fe, q.Get("page"))
	status := http.StatusOK
	if len(fe) > 0 {
		status = badQuery
		d.Errors = otherErrors(fe)
	} else {
		items, total, err := h.svc.List(ctx, inbox.Query{Handled: d.Handled, Page: page, PerPage: inboxPerPage})
		if err != nil {
			h.s.fail(c, err)
			return
		}
		d.Items = items
		if d.Offers, err = h.offerForms(ctx, items); err != nil {
			h.s.fail(c, err)
			return
		}
		d.Pager = newPager(page, inboxPerPage, total, func(p int) string {
			return withParam("/inbox", q, "page", fmt.Sprint(p))
		})
	}
	open, err := h.svc.Count(ctx)
	if err != nil {
		h.s.fail(c, err)
		return
	}
	d.Open = open
	h.s.html(c, status, "inbox", h.s.page(c, "Inbox", "inbox", d))
}

// offerForms builds the offer form of each unhandled request for another
// time whose appointment can still be offered new times.
func (h *inboxPages) offerForms(ctx context.Context, items []inbox.Item) (map[uint]*offerForm, error) {
	out := map[uint]*offerForm{}
	for _, it := range items {
		m := it.Message
		if m.HandledAt != nil || m.Intent != "reschedule" || m.AppointmentID == nil {
			continue
		}
		for i := range it.Candidates {
			a := &it.Candidates[i]
			if a.ID != *m.AppointmentID {
				continue
			}
			f, err := h.s.offerForm(ctx, a, nil)
			if err != nil {
				return nil, err
			}
			if f != nil {
				out[m.ID] = f
			}
		}
	}
	return out, nil
}

// offer sends the times of an inbox item's offer form and takes the item
// out of the inbox.
func (h *inboxPages) offer(c *gin.Context) {
	id, ok := h.s.pathID(c)
	if !ok {
		return
	}
	appt, err := appointmentChoice(c)
	if err == nil {
		var zone *time.Location
		if zone, err = h.s.appointmentZone(c.Request.Context(), appt); err == nil {
			var starts []time.Time
			if starts, err = h.s.readOfferTimes(c, zone, nil); err == nil {
				err = h.svc.Offer(c.Request.Context(), actorOf(c), id, appt, starts)
			}
		}
	}
	h.done(c, err, "Offer sent; the message left the inbox.")
}

// done answers an action: back to the inbox with a flash, or the error.
func (h *inboxPages) done(c *gin.Context, err error, ok string) {
	if fe, isField := models.AsFieldErrors(err); isField {
		h.s.flashError(c, strings.Join(otherErrors(fe), "; "))
		c.Redirect(http.StatusSeeOther, "/inbox")
		return
	}
	if errors.Is(err, inbox.ErrHandled) {
		h.s.flashError(c, "Someone else handled that message already.")
		c.Redirect(http.StatusSeeOther, "/inbox")
		return
	}
	var bt *models.ErrBadTransition
	if errors.As(err, &bt) {
		h.s.flashError(c, "That change is not possible: "+bt.Error()+".")
		c.Redirect(http.StatusSeeOther, "/inbox")
		return
	}
	if err != nil {
		h.s.fail(c, err)
		return
	}
	h.s.flash(c, ok)
	c.Redirect(http.StatusSeeOther, "/inbox")
}

// appointmentChoice reads the appointment_id field of an action.
func appointmentChoice(c *gin.Context) (uint, error) {
	id, ok := parseID(c.PostForm("appointment_id"))
	if !ok {
		return 0, models.FieldErrors{"appointment_id": "choose an appointment"}
	}
	return id, nil
}

func (h *inboxPages) confirm(c *gin.Context) {
	id, ok := h.s.pathID(c)
	if !ok {
		return
	}
	appt, err := appointmentChoice(c)
	if err == nil {
		err = h.svc.Confirm(c.Request.Context(), actorOf(c), id, appt, checked(c, "notify"))
	}
	h.done(c, err, "Appointment confirmed; the message left the inbox.")
}

func (h *inboxPages) cancel(c *gin.Context) {
	id, ok := h.s.pathID(c)
	if !ok {
		return
	}
	appt, err := appointmentChoice(c)
	if err == nil {
		err = h.svc.Cancel(c.Request.Context(), actorOf(c), id, appt, checked(c, "notify"))
	}
	h.done(c, err, "Appointment cancelled; the message left the inbox.")
}

func (h *inboxPages) answer(c *gin.Context) {
	id, ok := h.s.pathID(c)
	if !ok {
		return
	}
	err := h.svc.Answer(c.Request.Context(), actorOf(c), id, c.PostForm("text"))
	h.done(c, err, "Answer queued; the message left the inbox.")
}

func (h *inboxPages) handled(c *gin.Context) {
	id, ok := h.s.pathID(c)
	if !ok {
		return
	}
	err := h.svc.MarkHandled(c.Request.Context(), actorOf(c), id, c.PostForm("note"))
	h.done(c, err, "Marked handled.")
}

// count answers how many replies wait in the inbox, as plain text: the
// nav's badge asks again after each inbox change.
func (h *inboxPages) count(c *gin.Context) {
	n, err := h.svc.Count(c.Request.Context())
	if err != nil {
		h.s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusOK, "%d", n)
}
