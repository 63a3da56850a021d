package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// Location is a location as the API shows it (times in UTC).
type Location struct {
	ID         uint   `json:"id"`
	Name       string `json:"name"`
	TimeZone   string `json:"time_zone"`
	Country    string `json:"country"`
	Address    string `json:"address"`
	Phone      string `json:"phone"`
	QuietStart string `json:"quiet_start"`
	QuietEnd   string `json:"quiet_end"`
	IsDefault  bool   `json:"is_default"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
}

// Provider is a provider as the API shows it (times in UTC).
type Provider struct {
	ID         uint   `json:"id"`
	Name       string `json:"name"`
	LocationID *uint  `json:"location_id"`
	Active     bool   `json:"active"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
}

// List is a list answered whole.
type List[T any] struct {
	Data []T `json:"data"`
}

func locationJSON(l *models.Location) Location {
	return Location{
		ID: l.ID, Name: l.Name, TimeZone: l.TimeZone, Country: l.Country, Address: l.Address, Phone: l.Phone,
		QuietStart: l.QuietStart, QuietEnd: l.QuietEnd, IsDefault: l.IsDefault,
		CreatedAt: stamp(l.CreatedAt, time.UTC), UpdatedAt: stamp(l.UpdatedAt, time.UTC),
	}
}

func providerJSON(p *models.Provider) Provider {
	return Provider{
		ID: p.ID, Name: p.Name, LocationID: p.LocationID, Active: p.Active,
		CreatedAt: stamp(p.CreatedAt, time.UTC), UpdatedAt: stamp(p.UpdatedAt, time.UTC),
	}
}

// locationBody is the body of POST /locations and PATCH /locations/{id}:
// on PATCH, members left out keep their value.
type locationBody struct {
	Name       *string `json:"name"`
	TimeZone   *string `json:"time_zone"`
	Country    *string `json:"country"`
	Address    *string `json:"address"`
	Phone      *string `json:"phone"`
	QuietStart *string `json:"quiet_start"`
	QuietEnd   *string `json:"quiet_end"`
	IsDefault  *bool   `json:"is_default"`
}

// apply sets the members given onto in.
func (b locationBody) apply(in *clinic.LocationInput) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&in.Name, b.Name)
	set(&in.TimeZone, b.TimeZone)
	set(&in.Country, b.Country)
	set(&in.Address, b.Address)
	set(&in.Phone, b.Phone)
	set(&in.QuietStart, b.QuietStart)
	set(&in.QuietEnd, b.QuietEnd)
	if b.IsDefault != nil {
		in.IsDefault = *b.IsDefault
	}
}

// ListLocations answers GET /locations.
func (a *API) ListLocations(c *gin.Context) {
	ls, err := a.clinic.ListLocations(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	out := List[Location]{Data: make([]Location, 0, len(ls))}
	for i := range ls {
		out.Data = append(out.Data, locationJSON(&ls[i]))
	}
	writeJSON(c, http.StatusOK, out)
}

// CreateLocation answers POST /locations: 201 with the location.
func (a *API) CreateLocation(c *gin.Context) {
	var b locationBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	var in clinic.LocationInput
	b.apply(&in)
	l, err := a.clinic.CreateLocation(c.Request.Context(), actor(c), in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", BasePath+"/locations/"+strconv.FormatUint(uint64(l.ID), 10))
	writeJSON(c, http.StatusCreated, locationJSON(l))
}

// UpdateLocation answers PATCH /locations/{id}.
func (a *API) UpdateLocation(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := parseID(c, "location")
	if !ok {
		return
	}
	var b locationBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	cur, err := a.clinic.GetLocation(ctx, id)
	if err != nil {
		a.failID(c, err, "location", id)
		return
	}
	in := clinic.LocationInput{
		Name: cur.Name, TimeZone: cur.TimeZone, Country: cur.Country, Address: cur.Address, Phone: cur.Phone,
		QuietStart: cur.QuietStart, QuietEnd: cur.QuietEnd, IsDefault: cur.IsDefault,
	}
	b.apply(&in)
	l, err := a.clinic.UpdateLocation(ctx, actor(c), id, in)
	if err != nil {
		a.failID(c, err, "location", id)
		return
	}
	writeJSON(c, http.StatusOK, locationJSON(l))
}

// providerBody is the body of POST /providers and PATCH /providers/{id}:
// on PATCH, members left out keep their value; "location_id": null (or 0)
// means anywhere.
type providerBody struct {
	Name       *string          `json:"name"`
	LocationID optional[uint64] `json:"location_id"`
	Active     *bool            `json:"active"`
}

// ListProviders answers GET /providers?location_id=.
func (a *API) ListProviders(c *gin.Context) {
	q := clinic.ProviderQuery{}
	if raw := c.Query("location_id"); raw != "" {
		id, err := strconv.ParseUint(raw, 10, 32)
		if err != nil || id == 0 {
			invalid(c, models.FieldErrors{"location_id": "must be a location id"})
			return
		}
		q.LocationID = uint(id)
	}
	ps, err := a.clinic.ListProviders(c.Request.Context(), q)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := List[Provider]{Data: make([]Provider, 0, len(ps))}
	for i := range ps {
		out.Data = append(out.Data, providerJSON(&ps[i]))
	}
	writeJSON(c, http.StatusOK, out)
}

// CreateProvider answers POST /providers: 201 with the provider, active
// unless "active": false.
func (a *API) CreateProvider(c *gin.Context) {
	var b providerBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	in := clinic.ProviderInput{Active: true}
	b.apply(&in)
	p, err := a.clinic.CreateProvider(c.Request.Context(), actor(c), in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", BasePath+"/providers/"+strconv.FormatUint(uint64(p.ID), 10))
	writeJSON(c, http.StatusCreated, providerJSON(p))
}

// UpdateProvider answers PATCH /providers/{id}.
func (a *API) UpdateProvider(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := parseID(c, "provider")
	if !ok {
		return
	}
	var b providerBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	cur, err := a.clinic.GetProvider(ctx, id)
	if err != nil {
		a.failID(c, err, "provider", id)
		return
	}
	in := clinic.ProviderInput{Name: cur.Name, LocationID: cur.LocationID, Active: cur.Active}
	b.apply(&in)
	p, err := a.clinic.UpdateProvider(ctx, actor(c), id, in)
	if err != nil {
		a.failID(c, err, "provider", id)
		return
	}
	writeJSON(c, http.StatusOK, providerJSON(p))
}

// apply sets the members given onto in.
func (b providerBody) apply(in *clinic.ProviderInput) {
	if b.Name != nil {
		in.Name = *b.Name
	}
	if b.LocationID.Set {
		in.LocationID = nil
		if b.LocationID.Value != nil && *b.LocationID.Value != 0 {
			id := uint(*b.LocationID.Value)
			in.LocationID = &id
		}
	}
	if b.Active != nil {
		in.Active = *b.Active
	}
}

// optional is a JSON member that may be left out (Set is false), null
// (Set, Value nil) or given.
type optional[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON records that the member was given.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
}
