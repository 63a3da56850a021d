package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// upsertAppointmentBody is the body of PUT
// /appointments/by-external-id/{external_id}: the members of POST
// /appointments, and a status. On an update, members left out keep their
// value.
type upsertAppointmentBody struct {
	Patient         *patientBody `json:"patient"`
	PatientID       *uint        `json:"patient_id"`
	LocationID      *uint        `json:"location_id"`
	ProviderID      *uint        `json:"provider_id"`
	StartsAt        *string      `json:"starts_at"`
	DurationMinutes *int         `json:"duration_minutes"`
	Notes           *string      `json:"notes"`
	ExternalID      *string      `json:"external_id"`
	Status          *string      `json:"status"`
	// AppointmentTypeID sets the type (null clears it).
	AppointmentTypeID optional[uint64] `json:"appointment_type_id"`
}

// UpsertAppointment answers PUT /appointments/by-external-id/{external_id}:
// 201 with the appointment when it was created, 200 when it was changed or
// already as the body says. The same body sent twice changes nothing the
// second time.
func (a *API) UpsertAppointment(c *gin.Context) {
	ext := strings.TrimSpace(c.Param("external_id"))
	var b upsertAppointmentBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	fe := models.FieldErrors{}
	in := clinic.UpsertInput{ExternalID: ext, Source: "api", Notes: b.Notes}
	if b.ExternalID != nil && strings.TrimSpace(*b.ExternalID) != ext {
		fe["external_id"] = "must be the external id of the path, or left out"
	}
	in.StartsAt, in.DurationMinutes, in.LocationID = scheduleFields(fe, b.StartsAt, b.DurationMinutes, b.LocationID)
	if b.ProviderID != nil {
		in.ProviderID, in.ProviderSet = b.ProviderID, true
	}
	if b.AppointmentTypeID.Set {
		in.TypeSet = true
		if v := b.AppointmentTypeID.Value; v != nil {
			if *v == 0 || *v > 1<<32-1 {
				fe["appointment_type_id"] = "must be an appointment type id"
			}
			id := uint(*v)
			in.TypeID = &id
		}
	}
	if b.Status != nil {
		in.Status = models.AppointmentStatus(strings.TrimSpace(*b.Status))
	}
	switch {
	case b.Patient != nil && b.PatientID != nil:
		fe["patient"] = "give either patient or patient_id, not both"
	case b.PatientID != nil:
		if *b.PatientID == 0 {
			fe["patient_id"] = "must be a patient id"
		}
		in.PatientID = *b.PatientID
	case b.Patient != nil:
		first, last := splitName(b.Patient.Name)
		in.Patient = &clinic.PatientInput{
			FirstName: first, LastName: last, Phone: b.Patient.Phone,
			Language: b.Patient.Language, ExternalID: b.Patient.ExternalID,
		}
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	ap, outcome, err := a.clinic.UpsertAppointment(c.Request.Context(), actor(c), in)
	if err != nil {
		a.fail(c, upsertFields(apiMessages(err)))
		return
	}
	if ap == nil {
		writeError(c, http.StatusNotFound, CodeNotFound, "no appointment has external id "+ext+": there is nothing to cancel", "external_id")
		return
	}
	status := http.StatusOK
	if outcome == clinic.UpsertCreated {
		status = http.StatusCreated
	}
	a.writeAppointment(c, status, ap)
}

// upsertFields names the patient's fields as the API does ("patient.name"
// for both names).
func upsertFields(err error) error {
	fe, ok := models.AsFieldErrors(err)
	if !ok {
		return err
	}
	out := models.FieldErrors{}
	for k, v := range fe {
		switch k {
		case "patient.first_name":
			k = "patient.name"
		case "patient.last_name":
			k, v = "patient.name", "last name "+v
		}
		if _, dup := out[k]; !dup {
			out[k] = v
		}
	}
	return out
}
