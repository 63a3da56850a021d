package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/auth"
	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// Sizes of appointment lists.
const (
	appointmentsPerPage = 100
	// patientPickerSize is how many patients the booking form's select offers.
	patientPickerSize = clinic.MaxPerPage
	// defaultDuration prefills a new appointment's duration, in minutes.
	defaultDuration = 30
)

// dateLayout is how days are written in URLs and date inputs.
const dateLayout = "2006-01-02"

// appointmentSortOptions are the orderings offered; the clinic service holds
// the allow-list and refuses anything else.
var appointmentSortOptions = []option{
	{"starts_at", "Start time"}, {"-starts_at", "Latest first"}, {"status", "Status"}, {"patient", "Patient"},
}

func statusOptions() []option {
	out := make([]option, 0, len(models.AppointmentStatuses))
	for _, st := range models.AppointmentStatuses {
		out = append(out, option{Value: string(st), Label: statusLabel(st)})
	}
	return out
}

// appointmentListData is the appointment list: one day (with previous and
// next day links) or a range of days, with filters.
type appointmentListData struct {
	// Range is set when From/To were given instead of one Date.
	Range                      bool
	Date, From, To             string
	DayLabel                   string
	PrevURL, NextURL, TodayURL string
	LocationID, ProviderID     string
	Status, Search, Sort       string
	// Zone is the zone the days are counted in: the chosen location's, else
	// the default location's. Each row's time is shown in its own location's zone.
	Zone         string
	Locations    []models.Location
	Providers    []models.Provider
	Statuses     []option
	Sorts        []option
	Appointments []models.Appointment
	Pager        pager
	// Errors lists refused filter values.
	Errors []string
}

func (s *Server) appointmentList(c *gin.Context) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	switch calendarView(q) {
	case "day":
		s.appointmentCalendar(c, false)
		return
	case "week":
		s.appointmentCalendar(c, true)
		return
	}
	fe := models.FieldErrors{}
	d := appointmentListData{
		Date: q.Get("date"), From: q.Get("from"), To: q.Get("to"),
		LocationID: q.Get("location_id"), ProviderID: q.Get("provider_id"),
		Status: q.Get("status"), Search: q.Get("q"), Sort: q.Get("sort"),
		Statuses: statusOptions(), Sorts: appointmentSortOptions,
	}
	locs, err := s.clinic.ListLocations(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	provs, err := s.clinic.ListProviders(ctx, clinic.ProviderQuery{})
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Locations, d.Providers = locs, provs

	query := clinic.AppointmentQuery{Status: d.Status, Search: d.Search, Sort: d.Sort, PerPage: appointmentsPerPage}
	var loc *models.Location
	if d.LocationID != "" {
		if id, ok := parseID(d.LocationID); ok {
			for i := range locs {
				if locs[i].ID == id {
					loc = &locs[i]
				}
			}
		}
		if loc == nil {
			setError(fe, "location_id", "is not one of the locations")
		} else {
			query.LocationID = loc.ID
		}
	}
	if d.ProviderID != "" {
		found := false
		if id, ok := parseID(d.ProviderID); ok {
			for _, p := range provs {
				if p.ID == id {
					found, query.ProviderID = true, id
				}
			}
		}
		if !found {
			setError(fe, "provider_id", "is not one of the providers")
		}
	}
	if d.Status != "" && !models.AppointmentStatus(d.Status).Valid() {
		setError(fe, "status", "must be one of scheduled, confirmed, cancelled, completed, no_show")
	}
	query.Page = queryPage(fe, q.Get("page"))

	if loc != nil {
		d.Zone = loc.TimeZone
	} else {
		d.Zone = s.defaultZone(ctx)
	}
	zone, err := time.LoadLocation(d.Zone)
	if err != nil {
		zone = time.UTC
	}
	now := s.now().In(zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	if d.From != "" || d.To != "" {
		d.Range = true
		from, okFrom := today, true
		if d.From != "" {
			from, okFrom = parseDay(fe, "from", d.From, zone)
		}
		to, okTo := from, true
		if d.To != "" {
			to, okTo = parseDay(fe, "to", d.To, zone)
		}
		if okFrom && okTo && to.Before(from) {
			setError(fe, "to", "must be on or after from")
		}
		query.From, query.To = from, to.AddDate(0, 0, 1)
		d.DayLabel = from.Format("Mon 2 Jan 2006") + " to " + to.Format("Mon 2 Jan 2006")
	} else {
		day, ok := today, true
		if d.Date != "" {
			day, ok = parseDay(fe, "date", d.Date, zone)
		}
		if !ok {
			day = today
		}
		query.From, query.To = day, day.AddDate(0, 0, 1)
		if ok {
			d.Date = day.Format(dateLayout)
		}
		d.DayLabel = day.Format("Monday 2 January 2006")
		base := url.Values{}
		for k, v := range q {
			if k != "page" && k != "date" {
				base[k] = v
			}
		}
		d.PrevURL = withParam("/appointments", base, "date", day.AddDate(0, 0, -1).Format(dateLayout))
		d.NextURL = withParam("/appointments", base, "date", day.AddDate(0, 0, 1).Format(dateLayout))
		d.TodayURL = withParam("/appointments", base, "date", "")
	}

	if len(fe) == 0 {
		items, total, err := s.clinic.ListAppointments(ctx, query)
		if f, ok := models.AsFieldErrors(err); ok {
			fe = f
		} else if err != nil {
			s.fail(c, err)
			return
		}
		d.Appointments = items
		d.Pager = newPager(query.Page, appointmentsPerPage, total, func(p int) string {
			return withParam("/appointments", q, "page", strconv.Itoa(p))
		})
	}
	status := http.StatusOK
	if len(fe) > 0 {
		status = badQuery
		d.Errors = otherErrors(fe)
		d.Appointments = nil
	}
	s.html(c, status, "appointments", s.page(c, "Appointments", "appointments", d))
}

// parseDay reads a YYYY-MM-DD day as its midnight in zone; a bad one is
// recorded in fe under field.
func parseDay(fe models.FieldErrors, field, s string, zone *time.Location) (time.Time, bool) {
	t, err := time.ParseInLocation(dateLayout, strings.TrimSpace(s), zone)
	if err != nil || t.Year() < 1970 || t.Year() > 2199 {
		setError(fe, field, "must be a date as YYYY-MM-DD")
		return time.Time{}, false
	}
	return t, true
}

// appointmentFormData is the booking, edit and reschedule form.
type appointmentFormData struct {
	// ID is 0 when booking.
	ID uint
	// Appointment is the one being edited or rescheduled.
	Appointment *models.Appointment
	// Reschedule shows only the start.
	Reschedule bool
	Form       appointmentForm
	Errors     models.FieldErrors
	Other      []string
	Patients   []models.Patient
	// MorePatients says the select does not hold every patient.
	MorePatients bool
	Locations    []models.Location
	Providers    []models.Provider
	Types        []models.AppointmentType
	// AskPast shows the "Yes, book it in the past" box.
	AskPast bool
	// SlotWarning says the time is taken or outside the working hours;
	// AskBusy shows the "book it anyway" box.
	SlotWarning string
	AskBusy     bool
}

// appointmentFormPage renders the form. a is the appointment being edited
// or rescheduled (nil when booking).
func (s *Server) appointmentFormPage(c *gin.Context, status int, a *models.Appointment, reschedule bool, f appointmentForm, fe models.FieldErrors) {
	ctx := c.Request.Context()
	if f.Starts == (whenInput{}) {
		f.Starts = s.clock.splitLocal(f.StartsAt)
	}
	d := appointmentFormData{
		Appointment: a, Reschedule: reschedule, Form: f, Errors: fe,
		AskPast:     f.AllowPast || fe["starts_at"] == clinic.PastStartMessage,
		Other:       otherErrors(fe, "patient_id", "location_id", "provider_id", "appointment_type_id", "starts_at", "duration_minutes", "notes", clinic.SlotField),
		SlotWarning: fe[clinic.SlotField],
		AskBusy:     f.AllowBusy || fe[clinic.SlotField] != "",
	}
	// The slot warning is not an error of a field: it shows apart, and
	// alone it does not ask to correct anything.
	if d.SlotWarning != "" {
		d.Errors = models.FieldErrors{}
		for k, v := range fe {
			if k != clinic.SlotField {
				d.Errors[k] = v
			}
		}
		if len(d.Errors) == 0 {
			d.Errors = nil
		}
	}
	var err error
	if d.Locations, err = s.clinic.ListLocations(ctx); err != nil {
		s.fail(c, err)
		return
	}
	if d.Providers, err = s.clinic.ListProviders(ctx, clinic.ProviderQuery{ActiveOnly: true}); err != nil {
		s.fail(c, err)
		return
	}
	if d.Types, err = s.clinic.ListTypes(ctx); err != nil {
		s.fail(c, err)
		return
	}
	title := "Book an appointment"
	if a != nil {
		d.ID = a.ID
		title = "Edit appointment"
		if reschedule {
			title = "Reschedule appointment"
		}
		// Keep a provider who has since become inactive selectable.
		if a.Provider != nil && !a.Provider.Active {
			d.Providers = append(d.Providers, *a.Provider)
		}
	} else {
		var total int64
		d.Patients, total, err = s.clinic.ListPatients(ctx, clinic.PatientQuery{PerPage: patientPickerSize})
		if err != nil {
			s.fail(c, err)
			return
		}
		d.MorePatients = total > int64(len(d.Patients))
		// The chosen patient is always in the select, even beyond its size.
		if pid, ok := parseID(f.PatientID); ok && !containsPatient(d.Patients, pid) {
			if p, err := s.clinic.GetPatient(ctx, pid); err == nil {
				d.Patients = append([]models.Patient{*p}, d.Patients...)
			}
		}
	}
	s.html(c, status, "appointment_form", s.page(c, title, "appointments", d))
}

func containsPatient(ps []models.Patient, id uint) bool {
	for _, p := range ps {
		if p.ID == id {
			return true
		}
	}
	return false
}

func (s *Server) appointmentNew(c *gin.Context) {
	ctx := c.Request.Context()
	f := appointmentForm{Duration: strconv.Itoa(defaultDuration)}
	if v := c.Query("patient_id"); v != "" {
		id, ok := parseID(v)
		if !ok {
			s.notFound(c)
			return
		}
		if _, err := s.clinic.GetPatient(ctx, id); err != nil {
			s.fail(c, err)
			return
		}
		f.PatientID = strconv.FormatUint(uint64(id), 10)
	}
	l, err := s.defaultLocation(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	if l != nil {
		f.LocationID = strconv.FormatUint(uint64(l.ID), 10)
	}
	// A free time picked on the calendar arrives as starts_at, location_id
	// and provider_id; values that do not parse are ignored, and the
	// service checks the rest when the form is sent.
	if v := c.Query("starts_at"); v != "" {
		if _, err := time.Parse("2006-01-02T15:04", v); err == nil {
			f.StartsAt = v
		}
	}
	for _, p := range []struct {
		key string
		to  *string
	}{{"location_id", &f.LocationID}, {"provider_id", &f.ProviderID}} {
		if id, ok := parseID(c.Query(p.key)); ok {
			*p.to = strconv.FormatUint(uint64(id), 10)
		}
	}
	s.appointmentFormPage(c, http.StatusOK, nil, false, f, nil)
}

func (s *Server) appointmentCreate(c *gin.Context) {
	f := s.readAppointmentForm(c)
	in, fe := f.input()
	if len(fe) > 0 {
		in.CheckOnly = true
		_, err := s.clinic.CreateAppointment(c.Request.Context(), actorOf(c), in)
		s.appointmentFormPage(c, http.StatusUnprocessableEntity, nil, false, f, withServiceErrors(fe, err))
		return
	}
	a, err := s.clinic.CreateAppointment(c.Request.Context(), actorOf(c), in)
	if fe, ok := models.AsFieldErrors(err); ok {
		s.appointmentFormPage(c, http.StatusUnprocessableEntity, nil, false, f, fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, fmt.Sprintf("Booked %s for %s.", a.Patient.Name(), s.fmtLocal(a.StartsAt, a.Location)))
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/appointments/%d", a.ID))
}

// withServiceErrors adds to the form's own findings what the service found
// about the other fields (err from a CheckOnly call), so that the page
// lists every problem at once; the form's message wins for a field both
// name. Any other error is left to the real submission.
func withServiceErrors(fe models.FieldErrors, err error) models.FieldErrors {
	if sfe, ok := models.AsFieldErrors(err); ok {
		for k, v := range sfe {
			setError(fe, k, v)
		}
	}
	return fe
}

// loadAppointment reads the :id appointment or renders the error page.
func (s *Server) loadAppointment(c *gin.Context) (*models.Appointment, bool) {
	id, ok := s.pathID(c)
	if !ok {
		return nil, false
	}
	a, err := s.clinic.GetAppointment(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return a, true
}

func (s *Server) appointmentEdit(c *gin.Context) {
	a, ok := s.loadAppointment(c)
	if !ok {
		return
	}
	s.appointmentFormPage(c, http.StatusOK, a, false, appointmentFormOf(a), nil)
}

func (s *Server) appointmentUpdate(c *gin.Context) {
	a, ok := s.loadAppointment(c)
	if !ok {
		return
	}
	f := s.readAppointmentForm(c)
	f.PatientID = "" // the patient never changes; the form does not send it
	in, fe := f.input()
	if in.LocationID == 0 {
		setError(fe, "location_id", "required")
	}
	if len(fe) > 0 {
		in.CheckOnly = true
		_, err := s.clinic.UpdateAppointment(c.Request.Context(), actorOf(c), a.ID, in)
		s.appointmentFormPage(c, http.StatusUnprocessableEntity, a, false, f, withServiceErrors(fe, err))
		return
	}
	s.saveAppointment(c, a, false, f, in, "Appointment saved.")
}

// saveAppointment applies an edit or reschedule and redirects to the
// appointment, or shows the form again with what was refused.
func (s *Server) saveAppointment(c *gin.Context, a *models.Appointment, reschedule bool, f appointmentForm, in clinic.AppointmentInput, done string) {
	out, err := s.clinic.UpdateAppointment(c.Request.Context(), actorOf(c), a.ID, in)
	if fe, ok := models.AsFieldErrors(err); ok {
		s.appointmentFormPage(c, http.StatusUnprocessableEntity, a, reschedule, f, fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if !out.StartsAt.Equal(a.StartsAt) || out.LocationID != a.LocationID {
		done = "Rescheduled to " + s.fmtLocal(out.StartsAt, out.Location) + "; its reminders were planned again."
	}
	s.flash(c, done)
	// An action taken from elsewhere (the dashboard's list of who needs
	// chasing) goes back there; only a path of this site is followed.
	if next := c.PostForm("next"); next != "" {
		c.Redirect(http.StatusSeeOther, auth.SafeNext(next))
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/appointments/%d", a.ID))
}

func (s *Server) appointmentRescheduleForm(c *gin.Context) {
	a, ok := s.loadAppointment(c)
	if !ok {
		return
	}
	s.appointmentFormPage(c, http.StatusOK, a, true, appointmentForm{StartsAt: localInput(a)}, nil)
}

// appointmentReschedule moves only the start; everything else is sent as
// stored, since an update replaces notes and provider.
func (s *Server) appointmentReschedule(c *gin.Context) {
	a, ok := s.loadAppointment(c)
	if !ok {
		return
	}
	f := appointmentForm{AllowPast: checked(c, "allow_past"), AllowBusy: checked(c, "allow_busy")}
	s.readStart(c, &f)
	in := clinic.AppointmentInput{
		StartsLocal: strings.TrimSpace(f.StartsAt), ProviderID: a.ProviderID, Notes: a.Notes, AllowPast: f.AllowPast,
		CheckSlot: !f.AllowBusy,
	}
	switch {
	case f.StartsProblem != "":
		s.appointmentFormPage(c, http.StatusUnprocessableEntity, a, true, f, models.FieldErrors{"starts_at": f.StartsProblem})
		return
	case in.StartsLocal == "":
		s.appointmentFormPage(c, http.StatusUnprocessableEntity, a, true, f, models.FieldErrors{"starts_at": "required"})
		return
	}
	s.saveAppointment(c, a, true, f, in, "The start did not change.")
}

// appointmentShowData is an appointment's page.
type appointmentShowData struct {
	Appointment *models.Appointment
	// Zone is the location's zone, in which every time is shown.
	Zone string
	// Messages are the appointment's messages as sent, or as they will be.
	Messages []outbox.Shown
	Timeline []models.TimelineEntry
	// Which actions the state machine allows now.
	CanConfirm, CanCancel, CanComplete, CanNoShow, CanRestore, CanMove bool
	// LaterActions says completed and no-show become possible once the
	// visit has begun.
	LaterActions bool
	// Reason is the cancellation reason as typed, shown again with its error.
	Reason string
	Errors models.FieldErrors
	// ActionError says why the last action was refused.
	ActionError string
	// Thread is the SMS conversation with the patient.
	Thread *threadData
	// AttentionID is the inbox item of the patient's latest reply when it
	// waits for a person (0 when none does).
	AttentionID uint
	// Offer is the form offering the patient new times, nil when none can
	// be sent.
	Offer *offerForm
}

func (s *Server) appointmentShow(c *gin.Context) {
	a, ok := s.loadAppointment(c)
	if !ok {
		return
	}
	s.appointmentShowPage(c, http.StatusOK, a, appointmentShowData{})
}

// appointmentShowPage renders a's page; d carries a refused action's
// error and typed values.
func (s *Server) appointmentShowPage(c *gin.Context, status int, a *models.Appointment, d appointmentShowData) {
	ctx := c.Request.Context()
	msgs, err := s.appointmentMessages(ctx, a.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	tl, err := s.clinic.Timeline(ctx, a.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Appointment, d.Zone, d.Messages, d.Timeline = a, a.Location.TimeZone, msgs, tl
	replies, err := s.clinic.ReplySummaries(ctx, []uint{a.ID})
	if err != nil {
		s.fail(c, err)
		return
	}
	if r, ok := replies[a.ID]; ok && r.NeedsAttention && r.HandledAt == nil {
		d.AttentionID = r.ID
	}
	if d.Thread, err = s.thread(ctx, c, a.Patient, a.ID, d.Zone); err != nil {
		s.fail(c, err)
		return
	}
	st := a.Status
	// Confirming a request for another time keeps the current time.
	d.CanConfirm = st.CanMove(models.Confirmed) && (st == models.Scheduled || st == models.RescheduleRequested)
	d.CanCancel = st.CanMove(models.Cancelled)
	// Completed and no-show are offered once the visit has begun: before,
	// the service would refuse them.
	begun := !a.StartsAt.After(s.now())
	d.CanComplete = st.CanMove(models.Completed) && begun
	d.CanNoShow = st.CanMove(models.NoShow) && begun
	d.LaterActions = !begun && st.Active()
	d.CanRestore = st == models.Cancelled
	d.CanMove = st.Holds()
	if d.Offer, err = s.offerForm(ctx, a, d.Offer); err != nil {
		s.fail(c, err)
		return
	}
	title := "Appointment: " + a.Patient.Name()
	s.html(c, status, "appointment_show", s.page(c, title, "appointments", d))
}

// appointmentMessages lists the appointment's outbound messages in send
// order, each with its text as sent or as it will be sent (without the
// outbox, as stored).
func (s *Server) appointmentMessages(ctx context.Context, id uint) ([]outbox.Shown, error) {
	if s.sends != nil {
		return s.sends.AppointmentMessages(ctx, id)
	}
	ms, err := s.clinic.Messages(ctx, id)
	if err != nil {
		return nil, err
	}
	return storedMessages(ms), nil
}

// storedMessages shows messages as they are stored.
func storedMessages(ms []models.Message) []outbox.Shown {
	out := make([]outbox.Shown, len(ms))
	for i, m := range ms {
		out[i] = outbox.Shown{Message: m, Name: outbox.Label(&m), Language: m.Language, FallbackFrom: m.FallbackFrom}
		if m.Body != "" {
			out[i].Preview = outbox.Measure(m.Body)
		}
	}
	return out
}

// appointmentAction runs one state change and redirects to the appointment;
// a change the state machine forbids is a 409 page, one refused for a
// reason (not started yet) shows the appointment again with the reason.
func (s *Server) appointmentAction(c *gin.Context, done string, do func(ctx context.Context, actor models.Actor, id uint) (*models.Appointment, error)) {
	a, ok := s.loadAppointment(c)
	if !ok {
		return
	}
	_, err := do(c.Request.Context(), actorOf(c), a.ID)
	if fe, ok := models.AsFieldErrors(err); ok {
		s.appointmentShowPage(c, http.StatusUnprocessableEntity, a, appointmentShowData{ActionError: actionMessage(fe)})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, done)
	// An action taken from elsewhere (the dashboard's list of who needs
	// chasing) goes back there; only a path of this site is followed.
	if next := c.PostForm("next"); next != "" {
		c.Redirect(http.StatusSeeOther, auth.SafeNext(next))
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/appointments/%d", a.ID))
}

// actionMessage turns a refused action's FieldErrors into one sentence.
func actionMessage(fe models.FieldErrors) string {
	if m, ok := fe["status"]; ok && len(fe) == 1 {
		return "Not changed: the status " + m + "."
	}
	return "Not changed: " + strings.Join(otherErrors(fe), "; ") + "."
}

func (s *Server) appointmentConfirm(c *gin.Context) {
	s.appointmentAction(c, "Marked confirmed.", func(ctx context.Context, actor models.Actor, id uint) (*models.Appointment, error) {
		return s.clinic.Confirm(ctx, actor, id, staffSource)
	})
}

func (s *Server) appointmentComplete(c *gin.Context) {
	s.appointmentAction(c, "Marked completed.", s.clinic.MarkCompleted)
}

func (s *Server) appointmentNoShow(c *gin.Context) {
	s.appointmentAction(c, "Marked as a no-show.", s.clinic.MarkNoShow)
}

func (s *Server) appointmentRestore(c *gin.Context) {
	s.appointmentAction(c, "Restored: the appointment is scheduled again and its reminders are planned.", s.clinic.Restore)
}

func (s *Server) appointmentCancel(c *gin.Context) {
	a, ok := s.loadAppointment(c)
	if !ok {
		return
	}
	reason := c.PostForm("reason")
	_, err := s.clinic.Cancel(c.Request.Context(), actorOf(c), a.ID, reason)
	if fe, ok := models.AsFieldErrors(err); ok {
		d := appointmentShowData{Reason: reason, Errors: fe}
		if _, onReason := fe["reason"]; !onReason {
			d.ActionError = actionMessage(fe)
		}
		s.appointmentShowPage(c, http.StatusUnprocessableEntity, a, d)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Cancelled: pending reminders will not be sent.")
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/appointments/%d", a.ID))
}

// fmtLocal writes an instant in the location's zone with the zone's name:
// "Mon 2 Mar 2026 09:00 (America/New_York)".
func (s *Server) fmtLocal(t time.Time, l *models.Location) string {
	if l == nil {
		return s.clock.in(t, time.UTC, "Mon 2 Jan 2006 15:04") + " (UTC)"
	}
	return s.clock.in(t, l.Zone(), "Mon 2 Jan 2006 15:04") + " (" + l.TimeZone + ")"
}
