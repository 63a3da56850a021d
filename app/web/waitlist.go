package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/app/waitlist"
	"apptconfirm/models"
)

// Waitlist manages the waitlist; *waitlist.Service implements it.
type Waitlist interface {
	Add(ctx context.Context, actor models.Actor, in waitlist.EntryInput) (*models.WaitlistEntry, error)
	Remove(ctx context.Context, actor models.Actor, id uint) (*models.WaitlistEntry, error)
	Entries(ctx context.Context, f models.WaitlistFilter) ([]models.WaitlistEntry, int64, error)
	Offers(ctx context.Context, f models.WaitlistOfferFilter) ([]models.WaitlistOffer, error)
	Refilled(ctx context.Context, from, to time.Time, locationID uint) (int64, error)
}

// waitlistPerPage is the waitlist page's page size.
const waitlistPerPage = 50

// waitlistRow is one entry as the pages show it.
type waitlistRow struct {
	Entry models.WaitlistEntry
	// Wants says with whom and where; Suits when the patient can come.
	Wants, Suits string
	// Type names the type of visit wanted, "" for any.
	Type string
}

// waitlistData is the waitlist page.
type waitlistData struct {
	Rows  []waitlistRow
	Pager pager
	Zone  string
	// Status is the state listed; Tabs link to each.
	Status string
	Tabs   []option
}

// waitlistTabs are the states the page lists, the waiting ones first.
var waitlistTabs = []option{{"active", "Waiting"}, {"booked", "Booked"}, {"removed", "Removed"}}

func (s *Server) waitlistRows(ctx context.Context, es []models.WaitlistEntry) []waitlistRow {
	types := map[uint]string{}
	if ts, err := s.clinic.ListTypes(ctx); err == nil {
		for _, t := range ts {
			types[t.ID] = t.Name
		}
	}
	rows := make([]waitlistRow, len(es))
	for i := range es {
		e := &es[i]
		who, where := "any provider", "any location"
		if e.Provider != nil {
			who = e.Provider.Name
		}
		if e.Location != nil {
			where = e.Location.Name
		}
		rows[i] = waitlistRow{Entry: *e, Wants: who + ", " + where, Suits: s.clock.rewriteHHMM(waitlist.Suits(e))}
		if e.AppointmentTypeID != nil {
			rows[i].Type = types[*e.AppointmentTypeID]
		}
	}
	return rows
}

// waitlistList is GET /waitlist: the active entries, oldest first (the
// order freed times are offered in).
func (s *Server) waitlistList(c *gin.Context) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	fe := models.FieldErrors{}
	page := queryPage(fe, q.Get("page"))
	if len(fe) > 0 {
		page = 1
	}
	status := models.WaitlistActive
	for _, t := range waitlistTabs {
		if q.Get("status") == t.Value {
			status = models.WaitlistStatus(t.Value)
		}
	}
	es, total, err := s.waitlist.Entries(ctx, models.WaitlistFilter{
		Statuses: []models.WaitlistStatus{status}, Offset: (page - 1) * waitlistPerPage, Limit: waitlistPerPage,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	d := waitlistData{Rows: s.waitlistRows(ctx, es), Zone: s.defaultZone(ctx), Status: string(status), Tabs: waitlistTabs}
	d.Pager = newPager(page, waitlistPerPage, total, func(p int) string { return withParam("/waitlist", q, "page", fmt.Sprint(p)) })
	s.html(c, http.StatusOK, "waitlist", s.page(c, "Waitlist", "waitlist", d))
}

// waitlistForm is the add form as posted.
type waitlistForm struct {
	PatientID, ProviderID, LocationID, TypeID string
	Days                                      []string
	From, Until, Notes                        string
}

// waitlistFormData is the add form.
type waitlistFormData struct {
	Form waitlistForm
	// Patient is the patient being added, when the form came from their
	// page; Patients are the choices otherwise.
	Patient   *models.Patient
	Patients  []models.Patient
	Providers []models.Provider
	Locations []models.Location
	Types     []models.AppointmentType
	Days      []option
	Errors    models.FieldErrors
	Other     []string
}

func (s *Server) waitlistFormPage(c *gin.Context, status int, f waitlistForm, fe models.FieldErrors) {
	ctx := c.Request.Context()
	d := waitlistFormData{Form: f, Errors: fe, Other: otherErrors(fe, "patient_id", "provider_id", "location_id", "appointment_type_id", "days", "from", "until", "notes")}
	for i, day := range waitlist.Weekdays() {
		d.Days = append(d.Days, option{Value: day, Label: waitlist.DayNames[(i+1)%7]})
	}
	var err error
	if id, ok := parseID(f.PatientID); ok {
		if d.Patient, err = s.clinic.GetPatient(ctx, id); err != nil {
			s.fail(c, err)
			return
		}
	} else if d.Patients, _, err = s.clinic.ListPatients(ctx, clinic.PatientQuery{Sort: "name", PerPage: 200}); err != nil {
		s.fail(c, err)
		return
	}
	if d.Providers, err = s.clinic.ListProviders(ctx, clinic.ProviderQuery{ActiveOnly: true}); err != nil {
		s.fail(c, err)
		return
	}
	if d.Locations, err = s.clinic.ListLocations(ctx); err != nil {
		s.fail(c, err)
		return
	}
	if d.Types, err = s.clinic.ListTypes(ctx); err != nil {
		s.fail(c, err)
		return
	}
	s.html(c, status, "waitlist_form", s.page(c, "Add to the waitlist", "waitlist", d))
}

// waitlistNew is GET /waitlist/new (?patient_id= from a patient's page).
func (s *Server) waitlistNew(c *gin.Context) {
	s.waitlistFormPage(c, http.StatusOK, waitlistForm{PatientID: c.Query("patient_id")}, nil)
}

// waitlistCreate is POST /waitlist.
func (s *Server) waitlistCreate(c *gin.Context) {
	f := waitlistForm{
		PatientID: c.PostForm("patient_id"), ProviderID: c.PostForm("provider_id"), LocationID: c.PostForm("location_id"),
		TypeID: c.PostForm("appointment_type_id"), Days: c.PostFormArray("days"),
		From: c.PostForm("from"), Until: c.PostForm("until"), Notes: c.PostForm("notes"),
	}
	fe := models.FieldErrors{}
	// The hours are typed on the clinic's clock; the service keeps "HH:MM".
	from, problem := s.clock.readHHMM("From", f.From)
	if problem != "" {
		fe["from"] = problem
	}
	until, problem := s.clock.readHHMM("Until", f.Until)
	if problem != "" {
		fe["until"] = problem
	}
	in := waitlist.EntryInput{
		PatientID: optionalID(fe, "patient_id", f.PatientID), Days: f.Days, From: from, Until: until, Notes: f.Notes,
		ProviderID: idOrNil(optionalID(fe, "provider_id", f.ProviderID)), LocationID: idOrNil(optionalID(fe, "location_id", f.LocationID)),
		AppointmentTypeID: idOrNil(optionalID(fe, "appointment_type_id", f.TypeID)),
	}
	if len(fe) > 0 {
		s.waitlistFormPage(c, http.StatusUnprocessableEntity, f, fe)
		return
	}
	e, err := s.waitlist.Add(c.Request.Context(), actorOf(c), in)
	if got, ok := models.AsFieldErrors(err); ok {
		s.waitlistFormPage(c, http.StatusUnprocessableEntity, f, got)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, e.Patient.Name()+" is on the waitlist: freed times that suit them will be offered by SMS.")
	if strings.TrimSpace(c.PostForm("back")) == "patient" {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/patients/%d", e.PatientID))
		return
	}
	c.Redirect(http.StatusSeeOther, "/waitlist")
}

// waitlistRemove is POST /waitlist/{id}/remove.
func (s *Server) waitlistRemove(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	e, err := s.waitlist.Remove(c.Request.Context(), actorOf(c), id)
	if fe, ok := models.AsFieldErrors(err); ok {
		s.flashError(c, "This entry is "+fe["status"]+".")
		c.Redirect(http.StatusSeeOther, "/waitlist")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, e.Patient.Name()+" is off the waitlist.")
	if c.PostForm("back") == "patient" {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/patients/%d", e.PatientID))
		return
	}
	c.Redirect(http.StatusSeeOther, "/waitlist")
}

// patientWaitlist is the waitlist part of a patient's page: their entries
// and the freed times offered to them.
type patientWaitlist struct {
	Rows   []waitlistRow
	Offers []offerRow
}

// offerRow is one offer of a freed time as the pages show it.
type offerRow struct {
	Offer models.WaitlistOffer
	// Status is the offer's state in words.
	Status string
}

var offerWords = map[models.WaitlistOfferStatus]string{
	models.WaitlistOffered: "offered", models.WaitlistTaken: "taken", models.WaitlistTooLate: "answered too late", models.WaitlistExpired: "expired",
}

func (s *Server) patientWaitlist(ctx context.Context, patientID uint) (*patientWaitlist, error) {
	if s.waitlist == nil {
		return nil, nil
	}
	es, _, err := s.waitlist.Entries(ctx, models.WaitlistFilter{PatientID: patientID, Limit: 20})
	if err != nil {
		return nil, err
	}
	os, err := s.waitlist.Offers(ctx, models.WaitlistOfferFilter{PatientID: patientID, Limit: 20})
	if err != nil {
		return nil, err
	}
	out := &patientWaitlist{Rows: s.waitlistRows(ctx, es)}
	for _, o := range os {
		out.Offers = append(out.Offers, offerRow{Offer: o, Status: offerWords[o.Status]})
	}
	return out, nil
}

func idOrNil(id uint) *uint {
	if id == 0 {
		return nil
	}
	return &id
}
