package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/app/phone"
	"apptconfirm/models"
)

// patientBody is an inline patient: "name" splits into first and last name
// at the first space.
type patientBody struct {
	Name       string `json:"name"`
	Phone      string `json:"phone"`
	Language   string `json:"language"`
	ExternalID string `json:"external_id"`
}

// createAppointmentBody is the body of POST /appointments.
type createAppointmentBody struct {
	Patient         *patientBody `json:"patient"`
	PatientID       *uint        `json:"patient_id"`
	LocationID      *uint        `json:"location_id"`
	ProviderID      *uint        `json:"provider_id"`
	StartsAt        *string      `json:"starts_at"`
	DurationMinutes *int         `json:"duration_minutes"`
	Notes           *string      `json:"notes"`
	ExternalID      *string      `json:"external_id"`
	// AppointmentTypeID is the type; duration_minutes may then be left
	// out for the type's default.
	AppointmentTypeID *uint `json:"appointment_type_id"`
}

// updateAppointmentBody is the body of PATCH /appointments/{id}: members
// left out keep their value. A status change comes alone.
type updateAppointmentBody struct {
	LocationID      *uint   `json:"location_id"`
	StartsAt        *string `json:"starts_at"`
	DurationMinutes *int    `json:"duration_minutes"`
	Notes           *string `json:"notes"`
	Status          *string `json:"status"`
	// AppointmentTypeID changes the type (null: none).
	AppointmentTypeID optional[uint64] `json:"appointment_type_id"`
}

// cancelBody is the optional body of POST /appointments/{id}/cancel.
type cancelBody struct {
	Reason string `json:"reason"`
}

// apiMessages rewrites the web UI's wording of some field messages for API
// clients.
func apiMessages(err error) error {
	fe, ok := models.AsFieldErrors(err)
	if !ok {
		return err
	}
	if fe["starts_at"] == clinic.PastStartMessage {
		fe["starts_at"] = "must be in the future"
	}
	return fe
}

// ListAppointments answers GET /appointments?from=&to=&status=&location_id=&page=&per_page=.
func (a *API) ListAppointments(c *gin.Context) {
	ctx := c.Request.Context()
	fe := models.FieldErrors{}
	q := clinic.AppointmentQuery{
		Status:  c.Query("status"),
		Page:    queryInt(c, "page", fe),
		PerPage: queryInt(c, "per_page", fe),
	}
	if raw := c.Query("location_id"); raw != "" {
		id, err := strconv.ParseUint(raw, 10, 32)
		if err != nil || id == 0 {
			fe["location_id"] = "must be a location id"
		}
		q.LocationID = uint(id)
	}
	zone, err := a.rangeZone(ctx, q.LocationID)
	if err != nil {
		a.fail(c, err)
		return
	}
	q.From = rangeBound(c, "from", zone, false, fe)
	q.To = rangeBound(c, "to", zone, true, fe)
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	items, total, err := a.clinic.ListAppointments(ctx, q)
	if err != nil {
		a.fail(c, err)
		return
	}
	data, err := a.toAppointments(ctx, items)
	if err != nil {
		a.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, Page[Appointment]{Data: data, Page: max(q.Page, 1), PerPage: perPage(q.PerPage), Total: total})
}

// rangeBound reads the optional range bound query parameter name (zero
// when absent), recording a bad one in fe.
func rangeBound(c *gin.Context, name string, zone *time.Location, end bool, fe models.FieldErrors) time.Time {
	raw := c.Query(name)
	if raw == "" {
		return time.Time{}
	}
	t, ok := dateOrInstant(raw, zone, end)
	if !ok {
		fe[name] = rangeMessage
	}
	return t
}

// perPage is the page size a list used.
func perPage(n int) int {
	if n == 0 {
		return clinic.DefaultPerPage
	}
	return n
}

// locationOrDefault returns location id, or the default location when id
// is 0 or unknown (the request reports an unknown id itself), or
// models.ErrNotFound when there is no location at all.
func (a *API) locationOrDefault(ctx context.Context, id uint) (*models.Location, error) {
	if id != 0 {
		l, err := a.clinic.GetLocation(ctx, id)
		if err == nil || !errors.Is(err, models.ErrNotFound) {
			return l, err
		}
	}
	return a.clinic.DefaultLocation(ctx)
}

// rangeZone is the zone dates in range parameters are read in: the
// location's, else the default location's, else UTC.
func (a *API) rangeZone(ctx context.Context, locationID uint) (*time.Location, error) {
	l, err := a.locationOrDefault(ctx, locationID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return time.UTC, nil
	case err != nil:
		return nil, err
	}
	return l.Zone(), nil
}

// GetAppointment answers GET /appointments/{id}.
func (a *API) GetAppointment(c *gin.Context) {
	id, ok := parseID(c, "appointment")
	if !ok {
		return
	}
	ap, err := a.clinic.GetAppointment(c.Request.Context(), id)
	if err != nil {
		a.failID(c, err, "appointment", id)
		return
	}
	a.writeAppointment(c, http.StatusOK, ap)
}

func (a *API) writeAppointment(c *gin.Context, status int, ap *models.Appointment) {
	out, err := a.toAppointment(c.Request.Context(), ap)
	if err != nil {
		a.fail(c, err)
		return
	}
	if status == http.StatusCreated {
		c.Header("Location", BasePath+"/appointments/"+strconv.FormatUint(uint64(ap.ID), 10))
	}
	writeJSON(c, status, out)
}

// CreateAppointment answers POST /appointments: 201 with the appointment.
func (a *API) CreateAppointment(c *gin.Context) {
	ctx := c.Request.Context()
	var b createAppointmentBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	fe := models.FieldErrors{}
	in := clinic.AppointmentInput{}
	switch {
	case b.StartsAt == nil || strings.TrimSpace(*b.StartsAt) == "":
		fe["starts_at"] = "required"
	default:
		t, ok := parseInstant(*b.StartsAt)
		if !ok {
			fe["starts_at"] = instantMessage
		}
		in.StartsAt = t
	}
	if b.AppointmentTypeID != nil {
		if *b.AppointmentTypeID == 0 {
			fe["appointment_type_id"] = "must be an appointment type id"
		}
		in.TypeSet, in.TypeID = true, b.AppointmentTypeID
	}
	if b.DurationMinutes == nil && b.AppointmentTypeID == nil {
		fe["duration_minutes"] = "required (or give appointment_type_id for its default)"
	} else if b.DurationMinutes != nil {
		in.DurationMinutes = *b.DurationMinutes
	}
	if b.Notes != nil {
		in.Notes = *b.Notes
	}
	if b.LocationID != nil {
		in.LocationID = *b.LocationID
	}
	in.ProviderID = b.ProviderID
	in.ExternalID = b.ExternalID
	switch {
	case b.Patient != nil && b.PatientID != nil:
		fe["patient"] = "give either patient or patient_id, not both"
	case b.PatientID != nil:
		if *b.PatientID == 0 {
			fe["patient_id"] = "must be a patient id"
		}
		in.PatientID = *b.PatientID
	case b.Patient == nil:
		fe["patient_id"] = "required: give patient_id or an inline patient"
	}
	var np *newPatient
	if b.Patient != nil && b.PatientID == nil {
		var err error
		if np, err = a.inlinePatient(ctx, *b.Patient, in.LocationID, fe); err != nil {
			a.fail(c, err)
			return
		}
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	act := actor(c)
	if np != nil && np.existing != nil {
		in.PatientID = np.existing.ID
	}
	if np != nil && np.existing == nil {
		// A new patient is created only when the appointment will be
		// accepted: a trial run (no patient yet) must fail on patient_id
		// alone. Nothing is written by the trial.
		_, err := a.clinic.CreateAppointment(ctx, act, in)
		trial, ok := models.AsFieldErrors(err)
		if !ok {
			a.fail(c, err)
			return
		}
		delete(trial, "patient_id")
		if len(trial) > 0 {
			a.fail(c, apiMessages(trial))
			return
		}
		p, err := a.clinic.CreatePatient(ctx, act, np.input, np.region)
		if err != nil {
			a.fail(c, patientFields(err, "patient."))
			return
		}
		in.PatientID = p.ID
	}
	ap, err := a.clinic.CreateAppointment(ctx, act, in)
	if err != nil {
		a.fail(c, apiMessages(err))
		return
	}
	a.writeAppointment(c, http.StatusCreated, ap)
}

// newPatient is an inline patient after validation: an existing patient
// with the same phone and name, or the input to create one.
type newPatient struct {
	existing *models.Patient
	input    clinic.PatientInput
	region   string
}

// splitName splits at the first space: "Mary Ann Smith" is first name
// "Mary", last name "Ann Smith".
func splitName(name string) (first, last string) {
	name = strings.TrimSpace(name)
	first, last, _ = strings.Cut(name, " ")
	return first, strings.TrimSpace(last)
}

// inlinePatient validates an inline patient (field errors go into fe as
// "patient.name", "patient.phone", "patient.language") and looks for the
// same person: same phone number and name, case aside.
func (a *API) inlinePatient(ctx context.Context, b patientBody, locationID uint, fe models.FieldErrors) (*newPatient, error) {
	region, err := a.phoneRegion(ctx, locationID)
	if err != nil {
		return nil, err
	}
	first, last := splitName(b.Name)
	np := &newPatient{region: region, input: clinic.PatientInput{FirstName: first, LastName: last, Phone: b.Phone, Language: b.Language, ExternalID: b.ExternalID}}
	if ext := strings.TrimSpace(b.ExternalID); ext != "" {
		// A patient the clinic's other system already sent is that one.
		found, err := a.clinic.PatientByExternalID(ctx, ext)
		switch {
		case err == nil:
			np.existing = found
			return np, nil
		case !errors.Is(err, models.ErrNotFound):
			return nil, err
		}
	}
	if first == "" {
		fe["patient.name"] = "required"
	}
	if lang := strings.ToLower(strings.TrimSpace(b.Language)); lang != "" && !validLanguage(lang) {
		fe["patient.language"] = "must be one of " + strings.Join(clinic.Languages(), ", ")
	}
	e164, err := phone.Normalize(b.Phone, region)
	if err != nil {
		var pe *phone.Error
		msg := "not a valid phone number"
		if errors.As(err, &pe) {
			msg = pe.Reason
		}
		fe["patient.phone"] = msg
	}
	if len(fe) > 0 {
		return np, nil
	}
	found, err := a.clinic.FindPatient(ctx, e164, first, last)
	switch {
	case err == nil:
		np.existing = found
	case !errors.Is(err, models.ErrNotFound):
		return nil, err
	}
	return np, nil
}

func validLanguage(l string) bool {
	for _, v := range clinic.Languages() {
		if l == v {
			return true
		}
	}
	return false
}

// phoneRegion is the region national phone numbers are read in: the
// booking location's country, else the default location's, else "US".
func (a *API) phoneRegion(ctx context.Context, locationID uint) (string, error) {
	l, err := a.locationOrDefault(ctx, locationID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return "US", nil
	case err != nil:
		return "", err
	}
	return l.Country, nil
}

// patientFields renames the clinic's patient field names for the API
// (first_name and last_name are both "name" there), under prefix.
func patientFields(err error, prefix string) error {
	fe, ok := models.AsFieldErrors(err)
	if !ok {
		return err
	}
	out := models.FieldErrors{}
	for k, v := range fe {
		switch k {
		case "first_name":
			k = "name"
		case "last_name":
			k = "name"
			v = "last name " + v
		}
		if _, dup := out[prefix+k]; !dup {
			out[prefix+k] = v
		}
	}
	return out
}

// UpdateAppointment answers PATCH /appointments/{id}.
func (a *API) UpdateAppointment(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := parseID(c, "appointment")
	if !ok {
		return
	}
	var b updateAppointmentBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	edits := b.LocationID != nil || b.StartsAt != nil || b.DurationMinutes != nil || b.Notes != nil || b.AppointmentTypeID.Set
	switch {
	case b.Status != nil && edits:
		invalid(c, models.FieldErrors{"status": "change the status in a request of its own"})
		return
	case b.Status != nil:
		a.changeStatus(c, id, *b.Status)
		return
	case !edits:
		invalid(c, models.FieldErrors{"body": "give at least one of starts_at, duration_minutes, location_id, notes, appointment_type_id, status"})
		return
	}
	cur, err := a.clinic.GetAppointment(ctx, id)
	if err != nil {
		a.failID(c, err, "appointment", id)
		return
	}
	fe := models.FieldErrors{}
	// Members left out keep their value; the provider is not part of the API.
	in := clinic.AppointmentInput{ProviderID: cur.ProviderID, Notes: cur.Notes}
	in.StartsAt, in.DurationMinutes, in.LocationID = scheduleFields(fe, b.StartsAt, b.DurationMinutes, b.LocationID)
	if b.Notes != nil {
		in.Notes = *b.Notes
	}
	if b.AppointmentTypeID.Set {
		in.TypeSet = true
		if v := b.AppointmentTypeID.Value; v != nil {
			if *v == 0 || *v > math.MaxUint32 {
				fe["appointment_type_id"] = "must be an appointment type id"
			}
			id := uint(*v)
			in.TypeID = &id
		}
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	ap, err := a.clinic.UpdateAppointment(ctx, actor(c), id, in)
	if err != nil {
		a.failID(c, apiMessages(err), "appointment", id)
		return
	}
	a.writeAppointment(c, http.StatusOK, ap)
}

// changeStatus applies a status change asked for with PATCH.
func (a *API) changeStatus(c *gin.Context, id uint, status string) {
	ctx := c.Request.Context()
	act := actor(c)
	var ap *models.Appointment
	var err error
	switch models.AppointmentStatus(status) {
	case models.Confirmed:
		ap, err = a.clinic.Confirm(ctx, act, id, "api")
	case models.Cancelled:
		ap, err = a.clinic.Cancel(ctx, act, id, "")
	case models.Completed:
		ap, err = a.clinic.MarkCompleted(ctx, act, id)
	case models.NoShow:
		ap, err = a.clinic.MarkNoShow(ctx, act, id)
	case models.Scheduled:
		ap, err = a.clinic.Restore(ctx, act, id)
	default:
		invalid(c, models.FieldErrors{"status": "must be one of scheduled, confirmed, cancelled, completed, no_show"})
		return
	}
	if err != nil {
		a.failID(c, err, "appointment", id)
		return
	}
	a.writeAppointment(c, http.StatusOK, ap)
}

// CancelAppointment answers POST /appointments/{id}/cancel.
func (a *API) CancelAppointment(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := parseID(c, "appointment")
	if !ok {
		return
	}
	var b cancelBody
	if !decodeBody(c, &b, decodeOpts{optional: true}) {
		return
	}
	ap, err := a.clinic.Cancel(ctx, actor(c), id, b.Reason)
	var bt *models.ErrBadTransition
	if errors.As(err, &bt) && bt.From == string(models.Cancelled) {
		// Cancelling twice is what a retry does: answer as the first time.
		ap, err = a.clinic.GetAppointment(ctx, id)
	}
	if err != nil {
		a.failID(c, err, "appointment", id)
		return
	}
	a.writeAppointment(c, http.StatusOK, ap)
}

// Timeline answers GET /appointments/{id}/timeline.
func (a *API) Timeline(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := parseID(c, "appointment")
	if !ok {
		return
	}
	ap, err := a.clinic.GetAppointment(ctx, id)
	if err != nil {
		a.failID(c, err, "appointment", id)
		return
	}
	es, err := a.clinic.Timeline(ctx, id)
	if err != nil {
		a.failID(c, err, "appointment", id)
		return
	}
	zone := time.UTC
	if ap.Location != nil {
		zone = ap.Location.Zone()
	}
	out := Timeline{Data: make([]TimelineItem, 0, len(es))}
	for _, e := range es {
		out.Data = append(out.Data, TimelineItem{At: stamp(e.At, zone), Kind: e.Kind, Detail: e.Detail})
	}
	writeJSON(c, http.StatusOK, out)
}

// scheduleFields reads the optional start, length and location of an
// appointment body, adding a refusal to fe for each one given but wrong;
// one left out comes back as its zero value.
func scheduleFields(fe models.FieldErrors, startsAt *string, duration *int, locationID *uint) (start time.Time, minutes int, location uint) {
	if startsAt != nil {
		t, ok := parseInstant(*startsAt)
		if !ok {
			fe["starts_at"] = instantMessage
		}
		start = t
	}
	if duration != nil {
		if *duration == 0 {
			fe["duration_minutes"] = "must be 1 to 720 minutes"
		}
		minutes = *duration
	}
	if locationID != nil {
		if *locationID == 0 {
			fe["location_id"] = "must be a location id"
		}
		location = *locationID
	}
	return start, minutes, location
}
