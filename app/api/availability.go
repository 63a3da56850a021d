package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/availability"
	"apptconfirm/app/slots"
	"apptconfirm/models"
)

// Hours is the JSON form of a provider's or a location's working hours.
type Hours struct {
	Owner string `json:"owner"`
	ID    uint   `json:"id"`
	// Set is false when no hours were saved: the rest is then empty.
	Set                 bool              `json:"set"`
	Weekly              slots.Week        `json:"weekly"`
	Exceptions          []slots.Exception `json:"exceptions"`
	BufferBeforeMinutes int               `json:"buffer_before_minutes"`
	BufferAfterMinutes  int               `json:"buffer_after_minutes"`
	UpdatedAt           *string           `json:"updated_at"`
}

// hoursBody is the body of PUT .../hours. Weekly and Exceptions are read
// apart, so that a bad interval or date is a 422 naming it.
type hoursBody struct {
	Weekly              json.RawMessage `json:"weekly"`
	Exceptions          json.RawMessage `json:"exceptions"`
	BufferBeforeMinutes int             `json:"buffer_before_minutes"`
	BufferAfterMinutes  int             `json:"buffer_after_minutes"`
}

// Slots is the answer of GET /appointments/{id}/slots.
type Slots struct {
	// Data are the free starts, in the location's zone.
	Data []Slot `json:"data"`
	// HoursSet is false when neither the provider nor the location has
	// working hours: Data is then empty.
	HoursSet bool   `json:"hours_set"`
	TimeZone string `json:"time_zone"`
}

// Slot is one free start.
type Slot struct {
	StartsAt string `json:"starts_at"`
}

// hoursOwner reads the owner of an .../hours route from its path.
func hoursOwner(c *gin.Context, kind string) (availability.Owner, bool) {
	id, ok := parseID(c, kind)
	if !ok {
		return availability.Owner{}, false
	}
	return availability.Owner{Kind: kind, ID: id}, true
}

func (a *API) writeHours(c *gin.Context, sc *availability.Schedule) {
	out := Hours{
		Owner: sc.Owner.Kind, ID: sc.Owner.ID, Set: sc.Set, Weekly: sc.Hours.Weekly,
		Exceptions:          sc.Hours.Exceptions,
		BufferBeforeMinutes: int(sc.Buffer.Before / time.Minute), BufferAfterMinutes: int(sc.Buffer.After / time.Minute),
	}
	if out.Exceptions == nil {
		out.Exceptions = []slots.Exception{}
	}
	if sc.Set {
		out.UpdatedAt = strp(stamp(sc.UpdatedAt, time.UTC))
	}
	writeJSON(c, http.StatusOK, out)
}

// GetProviderHours answers GET /providers/{id}/hours.
func (a *API) GetProviderHours(c *gin.Context) { a.getHours(c, models.HoursOfProvider) }

// GetLocationHours answers GET /locations/{id}/hours.
func (a *API) GetLocationHours(c *gin.Context) { a.getHours(c, models.HoursOfLocation) }

// PutProviderHours answers PUT /providers/{id}/hours.
func (a *API) PutProviderHours(c *gin.Context) { a.putHours(c, models.HoursOfProvider) }

// PutLocationHours answers PUT /locations/{id}/hours.
func (a *API) PutLocationHours(c *gin.Context) { a.putHours(c, models.HoursOfLocation) }

// DeleteProviderHours answers DELETE /providers/{id}/hours.
func (a *API) DeleteProviderHours(c *gin.Context) { a.deleteHours(c, models.HoursOfProvider) }

// DeleteLocationHours answers DELETE /locations/{id}/hours.
func (a *API) DeleteLocationHours(c *gin.Context) { a.deleteHours(c, models.HoursOfLocation) }

// noAvailability answers 404 when the API was built without the
// availability service.
func (a *API) noAvailability(c *gin.Context) bool {
	if a.avail == nil {
		a.NotFound(c)
		return true
	}
	return false
}

func (a *API) getHours(c *gin.Context, kind string) {
	if a.noAvailability(c) {
		return
	}
	o, ok := hoursOwner(c, kind)
	if !ok {
		return
	}
	sc, err := a.avail.Schedule(c.Request.Context(), o)
	if err != nil {
		a.failID(c, err, kind, o.ID)
		return
	}
	a.writeHours(c, sc)
}

func (a *API) putHours(c *gin.Context, kind string) {
	if a.noAvailability(c) {
		return
	}
	o, ok := hoursOwner(c, kind)
	if !ok {
		return
	}
	var b hoursBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	in, fe := b.input()
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	sc, err := a.avail.SaveSchedule(c.Request.Context(), actor(c), o, in)
	if err != nil {
		a.failID(c, err, kind, o.ID)
		return
	}
	a.writeHours(c, sc)
}

func (a *API) deleteHours(c *gin.Context, kind string) {
	if a.noAvailability(c) {
		return
	}
	o, ok := hoursOwner(c, kind)
	if !ok {
		return
	}
	if err := a.avail.ClearSchedule(c.Request.Context(), actor(c), o); err != nil {
		a.failID(c, err, kind, o.ID)
		return
	}
	c.Status(http.StatusNoContent)
}

// input reads the body's weekly hours and exceptions; what cannot be read
// comes back in FieldErrors under its path ("weekly.tue[1]",
// "exceptions[2].from").
func (b hoursBody) input() (availability.ScheduleInput, models.FieldErrors) {
	fe := models.FieldErrors{}
	in := availability.ScheduleInput{BufferBeforeMinutes: b.BufferBeforeMinutes, BufferAfterMinutes: b.BufferAfterMinutes}
	if isNull(b.Weekly) {
		fe.Add("weekly", "required: an object keyed by day, such as {\"mon\": [\"09:00-12:00\"]}")
	} else if err := json.Unmarshal(b.Weekly, &in.Hours.Weekly); err != nil {
		addSlotsError(fe, "weekly", err)
	}
	if !isNull(b.Exceptions) {
		var items []json.RawMessage
		if err := json.Unmarshal(b.Exceptions, &items); err != nil {
			fe.Add("exceptions", "must be an array of {\"from\", \"to\", \"hours\", \"note\"} objects")
		} else if len(items) > slots.MaxExceptions {
			fe.Add("exceptions", fmt.Sprintf("at most %d", slots.MaxExceptions))
		} else {
			for i, raw := range items {
				var e slots.Exception
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&e); err != nil {
					addSlotsError(fe, "exceptions["+strconv.Itoa(i)+"]", err)
					continue
				}
				in.Hours.Exceptions = append(in.Hours.Exceptions, e)
			}
		}
	}
	return in, fe
}

// isNull reports whether a member was left out or null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// addSlotsError records a decoding error of working hours under field,
// with the inner path when the error names one.
func addSlotsError(fe models.FieldErrors, field string, err error) {
	var sfe *slots.FieldError
	if errors.As(err, &sfe) {
		sep := "."
		if len(sfe.Field) > 0 && sfe.Field[0] == '[' {
			sep = ""
		}
		fe.Add(field+sep+sfe.Field, sfe.Err.Error())
		return
	}
	if name, ok := unknownField(err); ok {
		fe.Add(field+"."+name, "is not a known field")
		return
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		fe.Add(field+"."+te.Field, "must be "+kindWords(te.Type))
		return
	}
	fe.Add(field, err.Error())
}

// The default and the largest limit of GET .../slots.
const (
	defaultSlotsLimit = 10
	maxSlotsLimit     = availability.MaxLimit
)

// AppointmentSlots answers GET /appointments/{id}/slots?after=&limit=: the
// free starts for the appointment's provider, location and length (its own
// time left out), from after (default now) on.
func (a *API) AppointmentSlots(c *gin.Context) {
	ctx := c.Request.Context()
	if a.noAvailability(c) {
		return
	}
	id, ok := parseID(c, "appointment")
	if !ok {
		return
	}
	ap, err := a.clinic.GetAppointment(ctx, id)
	if err != nil {
		a.failID(c, err, "appointment", id)
		return
	}
	zone := ap.Location.Zone()
	fe := models.FieldErrors{}
	after := a.now()
	if raw := c.Query("after"); raw != "" {
		t, ok := dateOrInstant(raw, zone, false)
		if !ok {
			fe["after"] = rangeMessage
		}
		after = t
	}
	limit := defaultSlotsLimit
	if _, given := c.GetQuery("limit"); given {
		limit = queryInt(c, "limit", fe)
		if _, bad := fe["limit"]; !bad && (limit < 1 || limit > maxSlotsLimit) {
			fe["limit"] = fmt.Sprintf("must be 1 to %d", maxSlotsLimit)
		}
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	out := Slots{Data: []Slot{}, HoursSet: true, TimeZone: zone.String()}
	starts, err := a.avail.Free(ctx, availability.SlotOf(ap), after, limit)
	switch {
	case errors.Is(err, availability.ErrNoHours):
		out.HoursSet = false
	case err != nil:
		a.fail(c, err)
		return
	}
	for _, t := range starts {
		out.Data = append(out.Data, Slot{StartsAt: stamp(t, zone)})
	}
	writeJSON(c, http.StatusOK, out)
}
