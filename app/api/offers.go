package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/models"
)

// Offers sends patients offers of new times; *reschedule.Service (package
// app/reschedule) implements it.
type Offers interface {
	Offer(ctx context.Context, actor models.Actor, id uint, starts []time.Time) (*models.RescheduleOffer, error)
	Suggest(ctx context.Context, id uint) ([]time.Time, error)
}

// offerBody is POST /appointments/{id}/offers: up to three RFC 3339
// times; none (or an empty list) sends the free-slot finder's first
// three.
type offerBody struct {
	StartsAt []string `json:"starts_at"`
}

// Offer is an offer of new times as the API shows it.
type Offer struct {
	ID            uint        `json:"id"`
	AppointmentID uint        `json:"appointment_id"`
	StartsAt      []time.Time `json:"starts_at"`
	Status        string      `json:"status"`
	ExpiresAt     time.Time   `json:"expires_at"`
	MessageID     *uint       `json:"message_id"`
	CreatedAt     time.Time   `json:"created_at"`
}

// CreateOffer answers POST /appointments/{id}/offers: 201 with the offer
// sent. The appointment becomes reschedule_requested if it was not.
func (a *API) CreateOffer(c *gin.Context) {
	if a.offers == nil {
		a.NotFound(c)
		return
	}
	ctx := c.Request.Context()
	id, ok := parseID(c, "appointment")
	if !ok {
		return
	}
	var b offerBody
	if !decodeBody(c, &b, decodeOpts{optional: true}) {
		return
	}
	var starts []time.Time
	for _, s := range b.StartsAt {
		t, ok := parseInstant(s)
		if !ok {
			invalid(c, models.FieldErrors{"starts_at": instantMessage})
			return
		}
		starts = append(starts, t)
	}
	if len(starts) == 0 {
		found, err := a.offers.Suggest(ctx, id)
		if err != nil {
			a.failID(c, err, "appointment", id)
			return
		}
		if len(found) == 0 {
			invalid(c, models.FieldErrors{"starts_at": "no free time was found (are working hours set?); give the times"})
			return
		}
		starts = found
	}
	o, err := a.offers.Offer(ctx, actor(c), id, starts)
	if err != nil {
		a.failID(c, err, "appointment", id)
		return
	}
	writeJSON(c, http.StatusCreated, toOffer(o))
}

func toOffer(o *models.RescheduleOffer) Offer {
	times := o.Times()
	if times == nil {
		times = []time.Time{}
	}
	return Offer{
		ID: o.ID, AppointmentID: o.AppointmentID, StartsAt: times, Status: string(o.Status),
		ExpiresAt: o.ExpiresAt.UTC(), MessageID: o.MessageID, CreatedAt: o.CreatedAt.UTC(),
	}
}
