package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// outcomeBody is one item of POST /appointments/outcomes.
type outcomeBody struct {
	ID      uint   `json:"id"`
	Outcome string `json:"outcome"`
}

// Outcomes is the answer of POST /appointments/outcomes: the appointments
// as they are now, in the order asked.
type Outcomes struct {
	Data []Appointment `json:"data"`
}

// RecordOutcomes answers POST /appointments/outcomes with a JSON array of
// {id, outcome} (outcome attended or no_show): all are applied or none.
// A refused item is named in a 422 ("items[2].id": "appointment 41 has not
// started yet: ..."); an appointment already in the outcome asked for is
// answered as it is, so a retry changes nothing.
func (a *API) RecordOutcomes(c *gin.Context) {
	ctx := c.Request.Context()
	var body []outcomeBody
	if !decodeBody(c, &body, decodeOpts{}) {
		return
	}
	items := make([]clinic.OutcomeItem, len(body))
	for i, b := range body {
		items[i] = clinic.OutcomeItem{ID: b.ID, Outcome: b.Outcome}
	}
	done, err := a.clinic.RecordOutcomes(ctx, actor(c), items)
	if err != nil {
		a.fail(c, err)
		return
	}
	list := make([]models.Appointment, len(done))
	for i, ap := range done {
		list[i] = *ap
	}
	data, err := a.toAppointments(ctx, list)
	if err != nil {
		a.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, Outcomes{Data: data})
}
