package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// createPatientBody is the body of POST /patients (the same members as an
// inline patient of POST /appointments).
type createPatientBody = patientBody

// ListPatients answers GET /patients?search=&page=&per_page=.
func (a *API) ListPatients(c *gin.Context) {
	fe := models.FieldErrors{}
	q := clinic.PatientQuery{
		Search:  c.Query("search"),
		Sort:    c.Query("sort"),
		Page:    queryInt(c, "page", fe),
		PerPage: queryInt(c, "per_page", fe),
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	ps, total, err := a.clinic.ListPatients(c.Request.Context(), q)
	if err != nil {
		a.fail(c, err)
		return
	}
	data := make([]Patient, 0, len(ps))
	for i := range ps {
		data = append(data, patientJSON(&ps[i]))
	}
	writeJSON(c, http.StatusOK, Page[Patient]{Data: data, Page: max(q.Page, 1), PerPage: perPage(q.PerPage), Total: total})
}

// CreatePatient answers POST /patients: 201 with the patient.
func (a *API) CreatePatient(c *gin.Context) {
	ctx := c.Request.Context()
	var b createPatientBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	first, last := splitName(b.Name)
	p, err := a.clinic.CreatePatient(ctx, actor(c), clinic.PatientInput{
		FirstName: first, LastName: last, Phone: b.Phone, Language: b.Language, ExternalID: b.ExternalID,
	}, "")
	if err != nil {
		a.fail(c, patientFields(err, ""))
		return
	}
	c.Header("Location", BasePath+"/patients/"+strconv.FormatUint(uint64(p.ID), 10))
	writeJSON(c, http.StatusCreated, patientJSON(p))
}

// GetPatient answers GET /patients/{id}.
func (a *API) GetPatient(c *gin.Context) {
	id, ok := parseID(c, "patient")
	if !ok {
		return
	}
	p, err := a.clinic.GetPatient(c.Request.Context(), id)
	if err != nil {
		a.failID(c, err, "patient", id)
		return
	}
	writeJSON(c, http.StatusOK, patientJSON(p))
}

// ErasePatient answers DELETE /patients/{id}: 204 once everything that
// identified the patient is gone (see clinic.Service.ErasePatient); then
// GET answers 404. A read-only token is refused before it gets here.
func (a *API) ErasePatient(c *gin.Context) {
	id, ok := parseID(c, "patient")
	if !ok {
		return
	}
	if _, err := a.clinic.ErasePatient(c.Request.Context(), actor(c), id); err != nil {
		a.failID(c, err, "patient", id)
		return
	}
	c.Status(http.StatusNoContent)
}
