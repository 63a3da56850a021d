package web

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// --- index ------------------------------------------------------------------

// adminLink is one entry of the admin index.
type adminLink struct {
	URL, Title, Description string
}

// adminPages describes the admin pages this file and others register; an
// admin page registered elsewhere and missing here is still listed, by path.
var adminPages = map[string]adminLink{
	"/admin/locations":                {Title: "Locations", Description: "Places, their time zones, phone regions and quiet hours."},
	"/admin/providers":                {Title: "Providers", Description: "Clinicians appointments can be booked with."},
	"/admin/types":                    {Title: "Appointment types", Description: "Kinds of visit: their default length and colour in the day view."},
	"/admin/users":                    {Title: "Users", Description: "Staff and admin accounts: roles, disabling, password resets."},
	"/admin/audit":                    {Title: "Audit log", Description: "Who changed what, and when."},
	"/admin/smscx":                    {Title: "SMS.CX", Description: "Mode, credentials check, balance, webhook URL, test SMS."},
	"/admin/tokens":                   {Title: "API tokens", Description: "Bearer tokens for the REST API: create, see last use, revoke."},
	"/admin/rules":                    {Title: "Reminder rules", Description: "When reminders go out, and on which condition."},
	"/admin/texts":                    {Title: "Texts and languages", Description: "Every SMS the app sends, in each language patients get, with a preview."},
	"/admin/feeds":                    {Title: "Calendar feeds", Description: "Secret calendar addresses of a provider's or a location's appointments."},
	"/admin/exports/appointments.csv": {Title: "Export appointments", Description: "Every appointment as a CSV file (the appointment list exports a range)."},
	"/admin/webhooks":                 {Title: "Webhooks", Description: "Tell the clinic's other systems what happened: endpoints, signing secrets, recent deliveries."},
}

type adminIndexData struct {
	Links []adminLink
}

// adminIndex lists every admin page: each GET route under /admin without a
// parameter, so a page added by another feature shows up without an edit here.
func (s *Server) adminIndex(c *gin.Context) {
	seen := map[string]bool{}
	var links []adminLink
	for _, r := range s.engine.Routes() {
		p := r.Path
		if r.Method != http.MethodGet || !strings.HasPrefix(p, "/admin/") || strings.Contains(p, ":") ||
			strings.Contains(p, "*") || strings.HasSuffix(p, "/new") || seen[p] {
			continue
		}
		seen[p] = true
		l, ok := adminPages[p]
		if !ok {
			name := strings.ReplaceAll(strings.TrimPrefix(p, "/admin/"), "/", " · ")
			name = strings.ReplaceAll(name, "-", " ")
			name = strings.ReplaceAll(name, "_", " ")
			l = adminLink{Title: capitalize(name)}
		}
		l.URL = p
		links = append(links, l)
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Title < links[j].Title })
	s.html(c, http.StatusOK, "admin", s.page(c, "Admin", "admin", adminIndexData{Links: links}))
}

// --- locations --------------------------------------------------------------

type adminLocationsData struct {
	Locations []models.Location
}

func (s *Server) adminLocations(c *gin.Context) {
	ls, err := s.clinic.ListLocations(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.html(c, http.StatusOK, "admin_locations", s.page(c, "Locations", "admin", adminLocationsData{Locations: ls}))
}

// adminLocationFormData is the new/edit location form.
type adminLocationFormData struct {
	ID     uint
	Form   locationForm
	Errors models.FieldErrors
	Other  []string
	Zones  []string
}

func (s *Server) adminLocationFormPage(c *gin.Context, status int, id uint, f locationForm, fe models.FieldErrors) {
	d := adminLocationFormData{
		ID: id, Form: f, Errors: fe, Zones: commonZones,
		Other: otherErrors(fe, "name", "time_zone", "country", "address", "phone", "quiet_start", "quiet_end", "is_default"),
	}
	title := "New location"
	if id != 0 {
		title = "Edit location"
	}
	s.html(c, status, "admin_location_form", s.page(c, title, "admin", d))
}

func (s *Server) adminLocationNew(c *gin.Context) {
	f := locationForm{TimeZone: s.defaultZone(c.Request.Context()), QuietStart: "21:00", QuietEnd: "08:00"}.normalized()
	s.adminLocationFormPage(c, http.StatusOK, 0, s.quietShown(f), nil)
}

// quietShown writes a stored form's quiet hours on the clinic's clock.
func (s *Server) quietShown(f locationForm) locationForm {
	f.QuietStart, f.QuietEnd = s.clock.shownHHMM(f.QuietStart), s.clock.shownHHMM(f.QuietEnd)
	return f
}

// locationInput reads the form, its quiet hours typed on the clinic's
// clock; a time it cannot read is a problem of its field.
func (s *Server) locationInput(f locationForm) (clinic.LocationInput, models.FieldErrors) {
	in := f.input()
	fe := models.FieldErrors{}
	var problem string
	if in.QuietStart, problem = s.clock.readHHMM("Quiet hours start", in.QuietStart); problem != "" {
		fe["quiet_start"] = problem
	}
	if in.QuietEnd, problem = s.clock.readHHMM("Quiet hours end", in.QuietEnd); problem != "" {
		fe["quiet_end"] = problem
	}
	return in, fe
}

func (s *Server) adminLocationCreate(c *gin.Context) {
	f := readLocationForm(c)
	in, fe := s.locationInput(f)
	if len(fe) > 0 {
		s.adminLocationFormPage(c, http.StatusUnprocessableEntity, 0, f.normalized(), fe)
		return
	}
	l, err := s.clinic.CreateLocation(c.Request.Context(), actorOf(c), in)
	if fe, ok := models.AsFieldErrors(err); ok {
		s.adminLocationFormPage(c, http.StatusUnprocessableEntity, 0, f.normalized(), fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Location "+l.Name+" added.")
	c.Redirect(http.StatusSeeOther, "/admin/locations")
}

func (s *Server) adminLocationEdit(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	l, err := s.clinic.GetLocation(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.adminLocationFormPage(c, http.StatusOK, id, s.quietShown(locationFormOf(l)), nil)
}

func (s *Server) adminLocationUpdate(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	f := readLocationForm(c)
	in, fe := s.locationInput(f)
	if len(fe) > 0 {
		s.adminLocationFormPage(c, http.StatusUnprocessableEntity, id, f.normalized(), fe)
		return
	}
	l, err := s.clinic.UpdateLocation(c.Request.Context(), actorOf(c), id, in)
	if fe, ok := models.AsFieldErrors(err); ok {
		s.adminLocationFormPage(c, http.StatusUnprocessableEntity, id, f.normalized(), fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Location "+l.Name+" saved.")
	c.Redirect(http.StatusSeeOther, "/admin/locations")
}

// --- providers --------------------------------------------------------------

type adminProvidersData struct {
	Providers []models.Provider
	// LocationNames names each location by id.
	LocationNames map[uint]string
}

func (s *Server) locationNames(c *gin.Context) ([]models.Location, map[uint]string, bool) {
	ls, err := s.clinic.ListLocations(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return nil, nil, false
	}
	names := make(map[uint]string, len(ls))
	for _, l := range ls {
		names[l.ID] = l.Name
	}
	return ls, names, true
}

func (s *Server) adminProviders(c *gin.Context) {
	ps, err := s.clinic.ListProviders(c.Request.Context(), clinic.ProviderQuery{})
	if err != nil {
		s.fail(c, err)
		return
	}
	_, names, ok := s.locationNames(c)
	if !ok {
		return
	}
	s.html(c, http.StatusOK, "admin_providers", s.page(c, "Providers", "admin", adminProvidersData{Providers: ps, LocationNames: names}))
}

// adminProviderFormData is the new/edit provider form.
type adminProviderFormData struct {
	ID        uint
	Form      providerForm
	Errors    models.FieldErrors
	Other     []string
	Locations []models.Location
}

func (s *Server) adminProviderFormPage(c *gin.Context, status int, id uint, f providerForm, fe models.FieldErrors) {
	ls, _, ok := s.locationNames(c)
	if !ok {
		return
	}
	d := adminProviderFormData{ID: id, Form: f, Errors: fe, Locations: ls, Other: otherErrors(fe, "name", "location_id")}
	title := "New provider"
	if id != 0 {
		title = "Edit provider"
	}
	s.html(c, status, "admin_provider_form", s.page(c, title, "admin", d))
}

func (s *Server) adminProviderNew(c *gin.Context) {
	s.adminProviderFormPage(c, http.StatusOK, 0, providerForm{Active: true}, nil)
}

func (s *Server) adminProviderCreate(c *gin.Context) {
	f := readProviderForm(c)
	in, fe := f.input()
	if len(fe) > 0 {
		s.adminProviderFormPage(c, http.StatusUnprocessableEntity, 0, f, fe)
		return
	}
	p, err := s.clinic.CreateProvider(c.Request.Context(), actorOf(c), in)
	if fe, ok := models.AsFieldErrors(err); ok {
		s.adminProviderFormPage(c, http.StatusUnprocessableEntity, 0, f, fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Provider "+p.Name+" added.")
	c.Redirect(http.StatusSeeOther, "/admin/providers")
}

func (s *Server) adminProviderEdit(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	p, err := s.clinic.GetProvider(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.adminProviderFormPage(c, http.StatusOK, id, providerFormOf(p), nil)
}

func (s *Server) adminProviderUpdate(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	f := readProviderForm(c)
	in, fe := f.input()
	if len(fe) > 0 {
		s.adminProviderFormPage(c, http.StatusUnprocessableEntity, id, f, fe)
		return
	}
	p, err := s.clinic.UpdateProvider(c.Request.Context(), actorOf(c), id, in)
	if fe, ok := models.AsFieldErrors(err); ok {
		s.adminProviderFormPage(c, http.StatusUnprocessableEntity, id, f, fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Provider "+p.Name+" saved.")
	c.Redirect(http.StatusSeeOther, "/admin/providers")
}

// --- users ------------------------------------------------------------------

type adminUsersData struct {
	Users []models.User
	// Self is the logged-in admin's id.
	Self uint
}

func (s *Server) adminUsers(c *gin.Context) {
	us, err := s.clinic.ListUsers(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	d := adminUsersData{Users: us}
	if u, ok := currentUser(c); ok {
		d.Self = u.ID
	}
	s.html(c, http.StatusOK, "admin_users", s.page(c, "Users", "admin", d))
}

// adminUserFormData is the new/edit user form.
type adminUserFormData struct {
	ID     uint
	Form   userForm
	Errors models.FieldErrors
	Other  []string
	Roles  []option
	// MinPassword is the shortest password allowed.
	MinPassword int
	// Locked says the user's login is locked after failed attempts, for
	// LockedFor more (edit only); the page offers Unlock.
	Locked    bool
	LockedFor string
}

func (s *Server) adminUserFormPage(c *gin.Context, status int, id uint, f userForm, fe models.FieldErrors) {
	f.Password = "" // a password is never sent back to the browser
	d := adminUserFormData{
		ID: id, Form: f, Errors: fe, MinPassword: clinic.MinPasswordChars,
		Roles: []option{{string(models.RoleStaff), "Staff"}, {string(models.RoleAdmin), "Admin"}},
		Other: otherErrors(fe, "email", "name", "role", "password", "disabled"),
	}
	title := "New user"
	if id != 0 {
		title = "Edit user"
		if u, err := s.clinic.GetUser(c.Request.Context(), id); err == nil {
			if locked, wait := s.limiter.AccountLocked(u.Email); locked {
				d.Locked, d.LockedFor = true, waitWords(wait)
			}
		}
	}
	s.html(c, status, "admin_user_form", s.page(c, title, "admin", d))
}

func (s *Server) adminUserNew(c *gin.Context) {
	s.adminUserFormPage(c, http.StatusOK, 0, userForm{Role: string(models.RoleStaff)}, nil)
}

func (s *Server) adminUserCreate(c *gin.Context) {
	f := readUserForm(c)
	u, err := s.clinic.CreateUser(c.Request.Context(), actorOf(c), f.input())
	if fe, ok := models.AsFieldErrors(err); ok {
		s.adminUserFormPage(c, http.StatusUnprocessableEntity, 0, f, fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "User "+u.Email+" added.")
	c.Redirect(http.StatusSeeOther, "/admin/users")
}

func (s *Server) adminUserEdit(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	u, err := s.clinic.GetUser(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.adminUserFormPage(c, http.StatusOK, id, userFormOf(u), nil)
}

func (s *Server) adminUserUpdate(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	f := readUserForm(c)
	u, err := s.clinic.UpdateUser(c.Request.Context(), actorOf(c), id, f.input())
	if fe, ok := models.AsFieldErrors(err); ok {
		s.adminUserFormPage(c, http.StatusUnprocessableEntity, id, f, fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	msg := "User " + u.Email + " saved."
	if f.Password != "" {
		msg += " The new password is in effect and their other sessions have ended."
	}
	if f.Password != "" || u.Disabled {
		// Their sessions ended: so do the live streams those sessions opened.
		s.EndUserStreams(u.ID)
	}
	s.flash(c, msg)
	c.Redirect(http.StatusSeeOther, "/admin/users")
}

// adminUserUnlock lets a user whose login is locked after failed attempts
// try again at once, after an admin has checked who they are.
func (s *Server) adminUserUnlock(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	u, err := s.clinic.GetUser(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !s.limiter.Unlock(u.Email) {
		s.flash(c, "The login of "+u.Email+" was not locked.")
		c.Redirect(http.StatusSeeOther, "/admin/users/"+strconv.FormatUint(uint64(id), 10)+"/edit")
		return
	}
	if err := s.clinic.RecordUnlock(ctx, actorOf(c), u); err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "The login of "+u.Email+" is unlocked: they may log in again now.")
	c.Redirect(http.StatusSeeOther, "/admin/users/"+strconv.FormatUint(uint64(id), 10)+"/edit")
}

// --- audit ------------------------------------------------------------------

// auditEntities is the allow-list of the audit log's entity filter.
var auditEntities = []option{
	{clinic.EntityAppointment, "Appointments"},
	{clinic.EntityPatient, "Patients"},
	{clinic.EntityLocation, "Locations"},
	{clinic.EntityProvider, "Providers"},
	{clinic.EntityUser, "Users"},
	{clinic.EntityRule, "Reminder rules"},
	{clinic.EntityTemplate, "Message templates"},
	{clinic.EntitySetting, "Settings"},
}

const auditPerPage = 50

// auditRow is one audit entry with a link to its record, if it has a page.
type auditRow struct {
	models.AuditEntry
	Link string
}

type adminAuditData struct {
	Entity, EntityID string
	Entities         []option
	Entries          []auditRow
	Pager            pager
	Zone             string
	Errors           []string
}

func (s *Server) adminAudit(c *gin.Context) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	fe := models.FieldErrors{}
	d := adminAuditData{Entity: q.Get("entity"), EntityID: q.Get("entity_id"), Entities: auditEntities, Zone: s.defaultZone(ctx)}
	query := clinic.AuditQuery{Page: queryPage(fe, q.Get("page")), PerPage: auditPerPage}
	if d.Entity != "" {
		known := false
		for _, e := range auditEntities {
			known = known || e.Value == d.Entity
		}
		if !known {
			values := make([]string, len(auditEntities))
			for i, e := range auditEntities {
				values[i] = e.Value
			}
			setError(fe, "entity", "must be one of "+strings.Join(values, ", "))
		}
		query.Entity = d.Entity
	}
	if d.EntityID != "" {
		id, ok := parseID(d.EntityID)
		switch {
		case !ok:
			setError(fe, "entity_id", "must be a record number")
		case d.Entity == "":
			setError(fe, "entity_id", "needs an entity type")
		}
		query.EntityID = id
	}
	if len(fe) == 0 {
		es, total, err := s.clinic.Audit(ctx, query)
		if f, ok := models.AsFieldErrors(err); ok {
			fe = f
		} else if err != nil {
			s.fail(c, err)
			return
		}
		for _, e := range es {
			d.Entries = append(d.Entries, auditRow{AuditEntry: e, Link: auditLink(e)})
		}
		d.Pager = newPager(query.Page, auditPerPage, total, func(p int) string {
			return withParam("/admin/audit", q, "page", strconv.Itoa(p))
		})
	}
	status := http.StatusOK
	if len(fe) > 0 {
		status = badQuery
		d.Errors = otherErrors(fe)
	}
	s.html(c, status, "admin_audit", s.page(c, "Audit log", "admin", d))
}

// auditLink is where an audit entry's record can be seen, or "".
func auditLink(e models.AuditEntry) string {
	if e.EntityID == 0 {
		return ""
	}
	switch e.Entity {
	case clinic.EntityAppointment:
		return fmt.Sprintf("/appointments/%d", e.EntityID)
	case clinic.EntityPatient:
		return fmt.Sprintf("/patients/%d", e.EntityID)
	case clinic.EntityLocation:
		return fmt.Sprintf("/admin/locations/%d/edit", e.EntityID)
	case clinic.EntityProvider:
		return fmt.Sprintf("/admin/providers/%d/edit", e.EntityID)
	case clinic.EntityUser:
		return fmt.Sprintf("/admin/users/%d/edit", e.EntityID)
	}
	return ""
}
