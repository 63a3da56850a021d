package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// patientsPerPage is the patient list's page size.
const patientsPerPage = 50

// patientSortOptions are the orderings offered; the clinic service holds
// the allow-list itself and refuses anything else.
var patientSortOptions = []option{{"name", "Name"}, {"created", "Newest first"}, {"phone", "Phone"}}

func languageOptions() []option {
	var out []option
	for _, l := range clinic.Languages() {
		out = append(out, option{Value: l, Label: texts.LanguageName(l)})
	}
	return out
}

// patientListData is the patient list page.
type patientListData struct {
	Search, Sort string
	Sorts        []option
	Patients     []models.Patient
	Pager        pager
	// Errors holds a refused search, sort or page.
	Errors []string
	Zone   string
}

func (s *Server) patientList(c *gin.Context) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	fe := models.FieldErrors{}
	d := patientListData{Search: q.Get("q"), Sort: q.Get("sort"), Sorts: patientSortOptions, Zone: s.defaultZone(ctx)}
	page := queryPage(fe, q.Get("page"))
	if len(fe) == 0 {
		ps, total, err := s.clinic.ListPatients(ctx, clinic.PatientQuery{Search: d.Search, Sort: d.Sort, Page: page, PerPage: patientsPerPage})
		if f, ok := models.AsFieldErrors(err); ok {
			fe = f
		} else if err != nil {
			s.fail(c, err)
			return
		}
		d.Patients = ps
		d.Pager = newPager(page, patientsPerPage, total, func(p int) string {
			return withParam("/patients", q, "page", fmt.Sprint(p))
		})
	}
	status := http.StatusOK
	if len(fe) > 0 {
		status = badQuery
		d.Errors = otherErrors(fe)
	}
	s.html(c, status, "patients", s.page(c, "Patients", "patients", d))
}

// patientFormData is the new/edit patient form.
type patientFormData struct {
	// ID is 0 for a new patient.
	ID        uint
	Form      patientForm
	Errors    models.FieldErrors
	Other     []string
	Languages []option
	// Region is the country national numbers are read in.
	Region string
}

func (s *Server) patientFormPage(c *gin.Context, status int, id uint, f patientForm, fe models.FieldErrors) {
	if f.Language == "" {
		f.Language = clinic.Languages()[0]
		if s.texts != nil {
			// A new patient speaks the clinic's language until told otherwise.
			if l, err := s.texts.Languages(c.Request.Context()); err == nil {
				f.Language = l.Default
			}
		}
	}
	d := patientFormData{
		ID: id, Form: f, Errors: fe, Languages: languageOptions(), Region: s.defaultRegion(c.Request.Context()),
		Other: otherErrors(fe, "first_name", "last_name", "phone", "language"),
	}
	title := "New patient"
	if id != 0 {
		title = "Edit patient"
	}
	s.html(c, status, "patient_form", s.page(c, title, "patients", d))
}

func (s *Server) patientNew(c *gin.Context) {
	s.patientFormPage(c, http.StatusOK, 0, patientForm{}, nil)
}

func (s *Server) patientCreate(c *gin.Context) {
	f := readPatientForm(c)
	p, err := s.clinic.CreatePatient(c.Request.Context(), actorOf(c), f.input(), "")
	if fe, ok := models.AsFieldErrors(err); ok {
		s.patientFormPage(c, http.StatusUnprocessableEntity, 0, f, fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Patient "+p.Name()+" added.")
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/patients/%d", p.ID))
}

func (s *Server) patientEdit(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	p, err := s.clinic.GetPatient(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.patientFormPage(c, http.StatusOK, id, patientFormOf(p), nil)
}

func (s *Server) patientUpdate(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	f := readPatientForm(c)
	p, err := s.clinic.UpdatePatient(c.Request.Context(), actorOf(c), id, f.input(), "")
	if fe, ok := models.AsFieldErrors(err); ok {
		s.patientFormPage(c, http.StatusUnprocessableEntity, id, f, fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Patient "+p.Name()+" saved.")
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/patients/%d", p.ID))
}

// patientShowData is a patient's page.
type patientShowData struct {
	Patient *models.Patient
	// Zone shows the opt-out time (the default location's zone).
	Zone         string
	Appointments []models.Appointment
	// Total counts all the patient's appointments; at most
	// patientAppointmentsShown are listed, newest first.
	Total int64
	// Messages are the latest patientMessagesShown messages to the
	// patient, as sent or as they will be sent, the latest first.
	Messages []outbox.Shown
	// MessagesShown is how many at most are listed.
	MessagesShown int
	// Thread is the SMS conversation with the patient.
	Thread *threadData
	// Waitlist holds the patient's waitlist entries and the freed times
	// offered to them; nil without a waitlist.
	Waitlist *patientWaitlist
	// SamePhone are the other patients with this number.
	SamePhone []models.Patient
}

const (
	patientAppointmentsShown = 50
	patientMessagesShown     = 50
)

func (s *Server) patientShow(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	p, err := s.clinic.GetPatient(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	as, total, err := s.clinic.ListAppointments(ctx, clinic.AppointmentQuery{PatientID: id, Sort: "-starts_at", PerPage: patientAppointmentsShown})
	if err != nil {
		s.fail(c, err)
		return
	}
	d := patientShowData{Patient: p, Zone: s.defaultZone(ctx), Appointments: as, Total: total, MessagesShown: patientMessagesShown}
	if s.sends != nil {
		if d.Messages, err = s.sends.PatientMessages(ctx, id, patientMessagesShown); err != nil {
			s.fail(c, err)
			return
		}
	}
	if d.Waitlist, err = s.patientWaitlist(ctx, id); err != nil {
		s.fail(c, err)
		return
	}
	if d.SamePhone, err = s.clinic.SharingPhone(ctx, p); err != nil {
		s.fail(c, err)
		return
	}
	if d.Thread, err = s.thread(ctx, c, p, 0, d.Zone); err != nil {
		s.fail(c, err)
		return
	}
	s.html(c, http.StatusOK, "patient_show", s.page(c, p.Name(), "patients", d))
}

// Staff opt-outs are recorded with this source.
const staffSource = "staff"

func (s *Server) patientOptOut(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if err := s.clinic.OptOut(c.Request.Context(), actorOf(c), id, staffSource); err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Opted out: the patient gets no more messages, and planned ones were cancelled.")
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/patients/%d", id))
}

func (s *Server) patientOptIn(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if err := s.clinic.OptIn(c.Request.Context(), actorOf(c), id, staffSource); err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Opted back in: reminders for upcoming appointments are planned again.")
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/patients/%d", id))
}

// defaultLocation returns the default location, or nil when there is none yet.
func (s *Server) defaultLocation(ctx context.Context) (*models.Location, error) {
	l, err := s.clinic.DefaultLocation(ctx)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	return l, err
}

// defaultZone is the default location's zone name, or UTC. A database error
// here only affects how a time is shown, and the next query reports it.
func (s *Server) defaultZone(ctx context.Context) string {
	if l, err := s.defaultLocation(ctx); err == nil && l != nil {
		return l.TimeZone
	}
	return "UTC"
}

// defaultRegion is the country whose national phone numbers the patient
// form reads (the default location's; US as the service's own fallback).
func (s *Server) defaultRegion(ctx context.Context) string {
	if l, err := s.defaultLocation(ctx); err == nil && l != nil {
		return l.Country
	}
	return "US"
}
