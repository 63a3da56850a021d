package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/waitlist"
	"apptconfirm/models"
)

// Waitlist manages waitlist entries; *waitlist.Service (package
// app/waitlist) implements it.
type Waitlist interface {
	Add(ctx context.Context, actor models.Actor, in waitlist.EntryInput) (*models.WaitlistEntry, error)
	Remove(ctx context.Context, actor models.Actor, id uint) (*models.WaitlistEntry, error)
	Entry(ctx context.Context, id uint) (*models.WaitlistEntry, error)
	Entries(ctx context.Context, f models.WaitlistFilter) ([]models.WaitlistEntry, int64, error)
}

// waitlistBody is POST /waitlist.
type waitlistBody struct {
	PatientID         uint     `json:"patient_id"`
	ProviderID        *uint    `json:"provider_id"`
	LocationID        *uint    `json:"location_id"`
	AppointmentTypeID *uint    `json:"appointment_type_id"`
	Days              []string `json:"days"`
	From              string   `json:"from"`
	Until             string   `json:"until"`
	Notes             string   `json:"notes"`
}

// WaitlistEntry is a waitlist entry as the API shows it.
type WaitlistEntry struct {
	ID                  uint      `json:"id"`
	PatientID           uint      `json:"patient_id"`
	ProviderID          *uint     `json:"provider_id"`
	LocationID          *uint     `json:"location_id"`
	AppointmentTypeID   *uint     `json:"appointment_type_id"`
	Days                []string  `json:"days"`
	From                string    `json:"from"`
	Until               string    `json:"until"`
	Notes               string    `json:"notes"`
	Status              string    `json:"status"`
	BookedAppointmentID *uint     `json:"booked_appointment_id"`
	CreatedAt           time.Time `json:"created_at"`
}

func waitlistJSON(e *models.WaitlistEntry) WaitlistEntry {
	days := waitlist.EntryDays(e)
	if days == nil {
		days = []string{}
	}
	return WaitlistEntry{
		ID: e.ID, PatientID: e.PatientID, ProviderID: e.ProviderID, LocationID: e.LocationID,
		AppointmentTypeID: e.AppointmentTypeID, Days: days, From: e.FromTime, Until: e.UntilTime,
		Notes: e.Notes, Status: string(e.Status), BookedAppointmentID: e.BookedAppointmentID, CreatedAt: e.CreatedAt.UTC(),
	}
}

// waitlistStatuses are the accepted values of GET /waitlist's status.
var waitlistStatuses = map[string]models.WaitlistStatus{
	"active": models.WaitlistActive, "booked": models.WaitlistBooked, "removed": models.WaitlistRemoved,
}

// ListWaitlist answers GET /waitlist: the entries, oldest first (the order
// freed times are offered in), active ones unless status says otherwise,
// of one patient with patient_id.
func (a *API) ListWaitlist(c *gin.Context) {
	if a.waitlist == nil {
		a.NotFound(c)
		return
	}
	fe := models.FieldErrors{}
	page, per := queryInt(c, "page", fe), queryInt(c, "per_page", fe)
	f := models.WaitlistFilter{Statuses: []models.WaitlistStatus{models.WaitlistActive}}
	if v := c.Query("status"); v != "" {
		st, ok := waitlistStatuses[v]
		if !ok {
			fe.Add("status", "must be active, booked or removed")
		}
		f.Statuses = []models.WaitlistStatus{st}
	}
	if v := c.Query("patient_id"); v != "" {
		id, err := strconv.ParseUint(v, 10, 32)
		if err != nil || id == 0 {
			fe.Add("patient_id", "must be a positive whole number")
		}
		f.PatientID = uint(id)
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	f.Limit = perPage(per)
	f.Offset = (max(page, 1) - 1) * f.Limit
	es, total, err := a.waitlist.Entries(c.Request.Context(), f)
	if err != nil {
		a.fail(c, err)
		return
	}
	data := make([]WaitlistEntry, 0, len(es))
	for i := range es {
		data = append(data, waitlistJSON(&es[i]))
	}
	writeJSON(c, http.StatusOK, Page[WaitlistEntry]{Data: data, Page: max(page, 1), PerPage: f.Limit, Total: total})
}

// CreateWaitlistEntry answers POST /waitlist: 201 with the entry.
func (a *API) CreateWaitlistEntry(c *gin.Context) {
	if a.waitlist == nil {
		a.NotFound(c)
		return
	}
	var b waitlistBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	e, err := a.waitlist.Add(c.Request.Context(), actor(c), waitlist.EntryInput{
		PatientID: b.PatientID, ProviderID: b.ProviderID, LocationID: b.LocationID, AppointmentTypeID: b.AppointmentTypeID,
		Days: b.Days, From: b.From, Until: b.Until, Notes: b.Notes,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", BasePath+"/waitlist/"+strconv.FormatUint(uint64(e.ID), 10))
	writeJSON(c, http.StatusCreated, waitlistJSON(e))
}

// GetWaitlistEntry answers GET /waitlist/{id}.
func (a *API) GetWaitlistEntry(c *gin.Context) {
	if a.waitlist == nil {
		a.NotFound(c)
		return
	}
	id, ok := parseID(c, "waitlist entry")
	if !ok {
		return
	}
	e, err := a.waitlist.Entry(c.Request.Context(), id)
	if err != nil {
		a.failID(c, err, "waitlist entry", id)
		return
	}
	writeJSON(c, http.StatusOK, waitlistJSON(e))
}

// DeleteWaitlistEntry answers DELETE /waitlist/{id}: the entry, removed
// (kept, with status removed, for the offers that name it).
func (a *API) DeleteWaitlistEntry(c *gin.Context) {
	if a.waitlist == nil {
		a.NotFound(c)
		return
	}
	id, ok := parseID(c, "waitlist entry")
	if !ok {
		return
	}
	e, err := a.waitlist.Remove(c.Request.Context(), actor(c), id)
	if err != nil {
		a.failID(c, err, "waitlist entry", id)
		return
	}
	writeJSON(c, http.StatusOK, waitlistJSON(e))
}
