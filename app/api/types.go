package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// AppointmentType is an appointment type as the API shows it (times in
// UTC).
type AppointmentType struct {
	ID                     uint   `json:"id"`
	Name                   string `json:"name"`
	DefaultDurationMinutes int    `json:"default_duration_minutes"`
	Colour                 string `json:"colour"`
	CreatedAt              string `json:"created_at"`
	UpdatedAt              string `json:"updated_at"`
}

func typeJSON(t *models.AppointmentType) AppointmentType {
	return AppointmentType{
		ID: t.ID, Name: t.Name, DefaultDurationMinutes: t.DefaultDurationMinutes, Colour: t.Colour,
		CreatedAt: stamp(t.CreatedAt, time.UTC), UpdatedAt: stamp(t.UpdatedAt, time.UTC),
	}
}

// typeBody is the body of POST /appointment-types and PATCH
// /appointment-types/{id}: on PATCH, members left out keep their value.
type typeBody struct {
	Name                   *string `json:"name"`
	DefaultDurationMinutes *int    `json:"default_duration_minutes"`
	Colour                 *string `json:"colour"`
}

// apply sets the members given onto in.
func (b typeBody) apply(in *clinic.TypeInput) {
	if b.Name != nil {
		in.Name = *b.Name
	}
	if b.DefaultDurationMinutes != nil {
		in.DefaultDurationMinutes = *b.DefaultDurationMinutes
	}
	if b.Colour != nil {
		in.Colour = *b.Colour
	}
}

// ListAppointmentTypes answers GET /appointment-types.
func (a *API) ListAppointmentTypes(c *gin.Context) {
	ts, err := a.clinic.ListTypes(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	out := List[AppointmentType]{Data: make([]AppointmentType, 0, len(ts))}
	for i := range ts {
		out.Data = append(out.Data, typeJSON(&ts[i]))
	}
	writeJSON(c, http.StatusOK, out)
}

// CreateAppointmentType answers POST /appointment-types: 201 with the type.
func (a *API) CreateAppointmentType(c *gin.Context) {
	var b typeBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	var in clinic.TypeInput
	b.apply(&in)
	t, err := a.clinic.CreateType(c.Request.Context(), actor(c), in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", BasePath+"/appointment-types/"+strconv.FormatUint(uint64(t.ID), 10))
	writeJSON(c, http.StatusCreated, typeJSON(t))
}

// UpdateAppointmentType answers PATCH /appointment-types/{id}.
func (a *API) UpdateAppointmentType(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := parseID(c, "appointment type")
	if !ok {
		return
	}
	var b typeBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	cur, err := a.clinic.GetType(ctx, id)
	if err != nil {
		a.failID(c, err, "appointment type", id)
		return
	}
	in := clinic.TypeInput{Name: cur.Name, DefaultDurationMinutes: cur.DefaultDurationMinutes, Colour: cur.Colour}
	b.apply(&in)
	t, err := a.clinic.UpdateType(ctx, actor(c), id, in)
	if err != nil {
		a.failID(c, err, "appointment type", id)
		return
	}
	writeJSON(c, http.StatusOK, typeJSON(t))
}
