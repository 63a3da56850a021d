package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// This file holds what the patient, appointment and admin pages share: the
// form structs (what the browser sent, kept as typed so a refused form shows
// it again), their conversion into the clinic package's inputs, id and
// query parsing, and paging.

// actorOf is the logged-in user as the clinic service's actor.
func actorOf(c *gin.Context) models.Actor {
	u, ok := currentUser(c)
	if !ok {
		return models.SystemActor()
	}
	id := u.ID
	return models.Actor{UserID: &id, Name: u.Email}
}

// parseID reads a positive database id. Ids are kept below 2^63 because
// the databases store them as signed 64-bit integers.
func parseID(s string) (uint, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 63)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint(n), true
}

// pathID reads the :id route parameter; a malformed one renders the 404
// page (an id that cannot exist is as unknown as one that does not).
func (s *Server) pathID(c *gin.Context) (uint, bool) {
	id, ok := parseID(c.Param("id"))
	if !ok {
		s.notFound(c)
		c.Abort()
	}
	return id, ok
}

// optionalID reads an id that may be empty (0 = none); field names the
// form field for the error message.
func optionalID(fe models.FieldErrors, field, s string) uint {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	id, ok := parseID(s)
	if !ok {
		setError(fe, field, "is not a valid choice")
	}
	return id
}

// setError records msg for field unless the field already has one.
func setError(fe models.FieldErrors, field, msg string) {
	if _, ok := fe[field]; !ok {
		fe[field] = msg
	}
}

// checked reads a checkbox: present with any value is on.
func checked(c *gin.Context, name string) bool {
	_, ok := c.GetPostForm(name)
	return ok
}

// otherErrors lists the messages of fields a form does not show next to an
// input (such as "status"), so that they appear at the top of the form.
func otherErrors(fe models.FieldErrors, shown ...string) []string {
	var out []string
	for k, v := range fe {
		isShown := false
		for _, sh := range shown {
			if k == sh {
				isShown = true
				break
			}
		}
		if !isShown {
			out = append(out, strings.ReplaceAll(k, "_", " ")+": "+v)
		}
	}
	sort.Strings(out)
	return out
}

// option is one <option> of a select.
type option struct {
	Value, Label string
}

// pager is the paging bar of a list.
type pager struct {
	Page, Pages int
	Total       int64
	PrevURL     string
	NextURL     string
}

// newPager computes the paging bar for page (from 1) of total rows shown
// perPage at a time; link builds the URL of another page.
func newPager(page, perPage int, total int64, link func(page int) string) pager {
	if page < 1 {
		page = 1
	}
	pages := int((total + int64(perPage) - 1) / int64(perPage))
	if pages < 1 {
		pages = 1
	}
	p := pager{Page: page, Pages: pages, Total: total}
	if page > 1 {
		p.PrevURL = link(page - 1)
	}
	if page < pages {
		p.NextURL = link(page + 1)
	}
	return p
}

// queryPage reads the page query parameter: empty means 1; anything but a
// positive number is recorded in fe.
func queryPage(fe models.FieldErrors, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 {
		setError(fe, "page", "must be a page number from 1")
		return 1
	}
	return n
}

// withParam returns path?q with key set to value (removed when empty).
func withParam(path string, q url.Values, key, value string) string {
	v := url.Values{}
	for k, vs := range q {
		v[k] = append([]string(nil), vs...)
	}
	if value == "" {
		v.Del(key)
	} else {
		v.Set(key, value)
	}
	if enc := v.Encode(); enc != "" {
		return path + "?" + enc
	}
	return path
}

// badQuery is the status of a list page whose filter or sort is not one of
// the allowed values.
const badQuery = http.StatusBadRequest

// --- patients ---------------------------------------------------------------

// patientForm is the patient form as typed.
type patientForm struct {
	FirstName, LastName, Phone, Language, ExternalID string
}

func readPatientForm(c *gin.Context) patientForm {
	return patientForm{
		FirstName: c.PostForm("first_name"),
		LastName:  c.PostForm("last_name"),
		Phone:     c.PostForm("phone"),
		Language:  c.PostForm("language"),
		// ExternalID is the id in the clinic's other system.
		ExternalID: c.PostForm("external_id"),
	}
}

func (f patientForm) input() clinic.PatientInput {
	return clinic.PatientInput{FirstName: f.FirstName, LastName: f.LastName, Phone: f.Phone, Language: f.Language, ExternalID: f.ExternalID}
}

func patientFormOf(p *models.Patient) patientForm {
	return patientForm{FirstName: p.FirstName, LastName: p.LastName, Phone: p.Phone, Language: p.Language, ExternalID: p.ExternalID}
}

// --- appointments -----------------------------------------------------------

// appointmentForm is the appointment form as typed. Starts is the start's
// date and time fields as typed (the time on the clinic's clock); StartsAt
// is the same on the location's wall clock as the services read it
// ("2006-01-02T15:04"), or empty with StartsProblem saying why.
type appointmentForm struct {
	PatientID, LocationID, ProviderID string
	// TypeID is the appointment type's id, "" for none.
	TypeID                    string
	StartsAt, Duration, Notes string
	Starts                    whenInput
	StartsProblem             string
	ExternalID                string
	AllowPast                 bool
	// AllowBusy keeps a time the slot check warned about.
	AllowBusy bool
}

func (s *Server) readAppointmentForm(c *gin.Context) appointmentForm {
	f := appointmentForm{
		PatientID:  c.PostForm("patient_id"),
		LocationID: c.PostForm("location_id"),
		ProviderID: c.PostForm("provider_id"),
		TypeID:     c.PostForm("appointment_type_id"),
		Duration:   c.PostForm("duration_minutes"),
		Notes:      c.PostForm("notes"),
		ExternalID: c.PostForm("external_id"),
		AllowPast:  checked(c, "allow_past"),
		AllowBusy:  checked(c, "allow_busy"),
	}
	s.readStart(c, &f)
	return f
}

// readStart reads the start: the fields starts_at_date and starts_at_time
// (the time on the clinic's clock), or, from a client that sends it so,
// one starts_at field in the services' "2006-01-02T15:04".
func (s *Server) readStart(c *gin.Context, f *appointmentForm) {
	_, hasDate := c.GetPostForm("starts_at_date")
	_, hasTime := c.GetPostForm("starts_at_time")
	if !hasDate && !hasTime {
		f.StartsAt = c.PostForm("starts_at")
		f.Starts = s.clock.splitLocal(f.StartsAt)
		return
	}
	f.Starts = whenInput{Date: c.PostForm("starts_at_date"), Time: c.PostForm("starts_at_time")}
	f.StartsAt, f.StartsProblem = s.clock.joinLocal("Start", f.Starts)
}

// input converts the form. Problems only the form can see (a number that is
// not one, a duration of zero, which the service would read as "unchanged"
// on an edit) come back in FieldErrors, and then the service is not called.
func (f appointmentForm) input() (clinic.AppointmentInput, models.FieldErrors) {
	fe := models.FieldErrors{}
	in := clinic.AppointmentInput{
		PatientID:   optionalID(fe, "patient_id", f.PatientID),
		LocationID:  optionalID(fe, "location_id", f.LocationID),
		StartsLocal: strings.TrimSpace(f.StartsAt),
		Notes:       f.Notes,
		AllowPast:   f.AllowPast,
		ExternalID:  &f.ExternalID,
		CheckSlot:   !f.AllowBusy,
	}
	if pid := optionalID(fe, "provider_id", f.ProviderID); pid != 0 {
		in.ProviderID = &pid
	}
	in.TypeSet = true
	if tid := optionalID(fe, "appointment_type_id", f.TypeID); tid != 0 {
		in.TypeID = &tid
	}
	if strings.TrimSpace(f.Duration) != "" || in.TypeID == nil {
		// Left empty with a type: the type's default length.
		in.DurationMinutes = parseDuration(fe, f.Duration)
	}
	switch {
	case f.StartsProblem != "":
		setError(fe, "starts_at", f.StartsProblem)
	case in.StartsLocal == "":
		setError(fe, "starts_at", "required")
	}
	return in, fe
}

// parseDuration reads a duration in whole minutes, 1 to clinic.MaxDurationMinutes.
func parseDuration(fe models.FieldErrors, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		setError(fe, "duration_minutes", "required")
		return 0
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		setError(fe, "duration_minutes", "must be a whole number of minutes")
		return 0
	case n < 1 || n > clinic.MaxDurationMinutes:
		setError(fe, "duration_minutes", fmt.Sprintf("must be 1 to %d minutes", clinic.MaxDurationMinutes))
		return 0
	}
	return n
}

// localInput formats an instant on its location's wall clock, as the
// services read it ("2006-01-02T15:04"), with seconds only when it has
// any, so an unchanged form never moves it.
func localInput(a *models.Appointment) string {
	t := a.StartsAt.In(a.Location.Zone())
	if t.Second() != 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format(clinic.LocalTimeLayout)
}

func appointmentFormOf(a *models.Appointment) appointmentForm {
	f := appointmentForm{
		PatientID:  strconv.FormatUint(uint64(a.PatientID), 10),
		LocationID: strconv.FormatUint(uint64(a.LocationID), 10),
		StartsAt:   localInput(a),
		Duration:   strconv.Itoa(a.DurationMinutes),
		Notes:      a.Notes,
		ExternalID: a.ExternalID,
	}
	if a.ProviderID != nil {
		f.ProviderID = strconv.FormatUint(uint64(*a.ProviderID), 10)
	}
	if a.AppointmentTypeID != nil {
		f.TypeID = strconv.FormatUint(uint64(*a.AppointmentTypeID), 10)
	}
	return f
}

// --- admin ------------------------------------------------------------------

// locationForm is the location form as typed. The zone is chosen from a
// select of common zones (TimeZone) or typed (TimeZoneOther, which wins).
type locationForm struct {
	Name, TimeZone, TimeZoneOther, Country, Address, Phone string
	QuietStart, QuietEnd                                   string
	IsDefault                                              bool
}

func readLocationForm(c *gin.Context) locationForm {
	return locationForm{
		Name:          c.PostForm("name"),
		TimeZone:      c.PostForm("time_zone"),
		TimeZoneOther: c.PostForm("time_zone_other"),
		Country:       c.PostForm("country"),
		Address:       c.PostForm("address"),
		Phone:         c.PostForm("phone"),
		QuietStart:    c.PostForm("quiet_start"),
		QuietEnd:      c.PostForm("quiet_end"),
		IsDefault:     checked(c, "is_default"),
	}
}

// zone is the zone the form asks for.
func (f locationForm) zone() string {
	if z := strings.TrimSpace(f.TimeZoneOther); z != "" {
		return z
	}
	return strings.TrimSpace(f.TimeZone)
}

func (f locationForm) input() clinic.LocationInput {
	return clinic.LocationInput{
		Name: f.Name, TimeZone: f.zone(), Country: f.Country, Address: f.Address, Phone: f.Phone,
		QuietStart: f.QuietStart, QuietEnd: f.QuietEnd, IsDefault: f.IsDefault,
	}
}

// normalized puts a zone that is in the common list into the select and
// any other into the free-text field, for showing the form again.
func (f locationForm) normalized() locationForm {
	z := f.zone()
	f.TimeZone, f.TimeZoneOther = "", ""
	if isCommonZone(z) {
		f.TimeZone = z
	} else {
		f.TimeZoneOther = z
	}
	return f
}

func locationFormOf(l *models.Location) locationForm {
	return locationForm{
		Name: l.Name, TimeZone: l.TimeZone, Country: l.Country, Address: l.Address, Phone: l.Phone,
		QuietStart: l.QuietStart, QuietEnd: l.QuietEnd, IsDefault: l.IsDefault,
	}.normalized()
}

// commonZones are offered in the location form's select; any other IANA
// zone can be typed.
var commonZones = []string{
	"UTC",
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "Pacific/Honolulu", "America/Toronto", "America/Vancouver", "America/Halifax",
	"America/Mexico_City", "America/Bogota", "America/Lima", "America/Santiago", "America/Sao_Paulo",
	"America/Argentina/Buenos_Aires",
	"Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Brussels",
	"Europe/Amsterdam", "Europe/Berlin", "Europe/Zurich", "Europe/Vienna", "Europe/Madrid", "Europe/Rome",
	"Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki", "Europe/Warsaw",
	"Europe/Prague", "Europe/Bucharest", "Europe/Athens", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow",
	"Africa/Casablanca", "Africa/Lagos", "Africa/Cairo", "Africa/Johannesburg", "Africa/Nairobi",
	"Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta",
	"Asia/Singapore", "Asia/Hong_Kong", "Asia/Shanghai", "Asia/Manila", "Asia/Seoul", "Asia/Tokyo",
	"Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Australia/Melbourne",
	"Pacific/Auckland",
}

func isCommonZone(z string) bool {
	for _, c := range commonZones {
		if c == z {
			return true
		}
	}
	return false
}

// providerForm is the provider form as typed.
type providerForm struct {
	Name, LocationID string
	Active           bool
}

func readProviderForm(c *gin.Context) providerForm {
	return providerForm{Name: c.PostForm("name"), LocationID: c.PostForm("location_id"), Active: checked(c, "active")}
}

func (f providerForm) input() (clinic.ProviderInput, models.FieldErrors) {
	fe := models.FieldErrors{}
	in := clinic.ProviderInput{Name: f.Name, Active: f.Active}
	if id := optionalID(fe, "location_id", f.LocationID); id != 0 {
		in.LocationID = &id
	}
	return in, fe
}

func providerFormOf(p *models.Provider) providerForm {
	f := providerForm{Name: p.Name, Active: p.Active}
	if p.LocationID != nil {
		f.LocationID = strconv.FormatUint(uint64(*p.LocationID), 10)
	}
	return f
}

// userForm is the user form as typed. The password is never shown again.
type userForm struct {
	Email, Name, Role string
	Password          string
	Disabled          bool
}

func readUserForm(c *gin.Context) userForm {
	return userForm{
		Email: c.PostForm("email"), Name: c.PostForm("name"), Role: c.PostForm("role"),
		Password: c.PostForm("password"), Disabled: checked(c, "disabled"),
	}
}

func (f userForm) input() clinic.UserInput {
	return clinic.UserInput{Email: f.Email, Name: f.Name, Role: f.Role, Password: f.Password, Disabled: f.Disabled}
}

func userFormOf(u *models.User) userForm {
	return userForm{Email: u.Email, Name: u.Name, Role: string(u.Role), Disabled: u.Disabled}
}

// sentence writes a field's error as a sentence people read beside the
// field: the services say "required" or "must be 1 to 720 minutes" (terse,
// as the API reports them); the form says "Duration is required." or
// "Duration must be 1 to 720 minutes.". A message that is already a
// sentence (it starts with a capital) only gains its full stop.
func sentence(label, msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	first, _ := utf8.DecodeRuneInString(msg)
	var s string
	switch {
	case unicode.IsUpper(first):
		s = msg
	case msg == "required":
		s = label + " is required"
	case msg == "not found":
		s = "The chosen " + strings.ToLower(label) + " no longer exists"
	case hasAnyPrefix(msg, "must ", "is ", "was ", "are ", "has ", "cannot ", "can ", "does ", "should ", "lists ", "needs "):
		s = label + " " + msg
	case hasAnyPrefix(msg, "too ", "not ", "already ", "out of ", "before ", "after ", "required "):
		s = label + " is " + msg
	default:
		r, n := utf8.DecodeRuneInString(msg)
		s = string(unicode.ToUpper(r)) + msg[n:]
	}
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
