package api

import (
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

// types is how the API creates and changes appointment types.
func (a *API) types() record[models.AppointmentType, clinic.TypeInput, typeBody, AppointmentType] {
	return record[models.AppointmentType, clinic.TypeInput, typeBody, AppointmentType]{
		noun: "appointment type", path: "/appointment-types",
		id:    func(t *models.AppointmentType) uint { return t.ID },
		json:  typeJSON,
		fresh: func() clinic.TypeInput { return clinic.TypeInput{} },
		stored: func(t *models.AppointmentType) clinic.TypeInput {
			return clinic.TypeInput{Name: t.Name, DefaultDurationMinutes: t.DefaultDurationMinutes, Colour: t.Colour}
		},
		get: a.clinic.GetType, create: a.clinic.CreateType, update: a.clinic.UpdateType,
	}
}

// ListAppointmentTypes answers GET /appointment-types.
func (a *API) ListAppointmentTypes(c *gin.Context) {
	ts, err := a.clinic.ListTypes(c.Request.Context())
	listJSON(a, c, ts, err, typeJSON)
}

// CreateAppointmentType answers POST /appointment-types: 201 with the type.
func (a *API) CreateAppointmentType(c *gin.Context) { createRecord(a, c, a.types()) }

// UpdateAppointmentType answers PATCH /appointment-types/{id}.
func (a *API) UpdateAppointmentType(c *gin.Context) { updateRecord(a, c, a.types()) }
