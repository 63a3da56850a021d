package api

import (
	"encoding/json"
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

// locations is how the API creates and changes locations.
func (a *API) locations() record[models.Location, clinic.LocationInput, locationBody, Location] {
	return record[models.Location, clinic.LocationInput, locationBody, Location]{
		noun: "location", path: "/locations",
		id:    func(l *models.Location) uint { return l.ID },
		json:  locationJSON,
		fresh: func() clinic.LocationInput { return clinic.LocationInput{} },
		stored: func(l *models.Location) clinic.LocationInput {
			return clinic.LocationInput{
				Name: l.Name, TimeZone: l.TimeZone, Country: l.Country, Address: l.Address, Phone: l.Phone,
				QuietStart: l.QuietStart, QuietEnd: l.QuietEnd, IsDefault: l.IsDefault,
			}
		},
		get: a.clinic.GetLocation, create: a.clinic.CreateLocation, update: a.clinic.UpdateLocation,
	}
}

// ListLocations answers GET /locations.
func (a *API) ListLocations(c *gin.Context) {
	ls, err := a.clinic.ListLocations(c.Request.Context())
	listJSON(a, c, ls, err, locationJSON)
}

// CreateLocation answers POST /locations: 201 with the location.
func (a *API) CreateLocation(c *gin.Context) { createRecord(a, c, a.locations()) }

// UpdateLocation answers PATCH /locations/{id}.
func (a *API) UpdateLocation(c *gin.Context) { updateRecord(a, c, a.locations()) }

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
	listJSON(a, c, ps, err, providerJSON)
}

// providers is how the API creates and changes providers; a new one is
// active unless the body says "active": false.
func (a *API) providers() record[models.Provider, clinic.ProviderInput, providerBody, Provider] {
	return record[models.Provider, clinic.ProviderInput, providerBody, Provider]{
		noun: "provider", path: "/providers",
		id:    func(p *models.Provider) uint { return p.ID },
		json:  providerJSON,
		fresh: func() clinic.ProviderInput { return clinic.ProviderInput{Active: true} },
		stored: func(p *models.Provider) clinic.ProviderInput {
			return clinic.ProviderInput{Name: p.Name, LocationID: p.LocationID, Active: p.Active}
		},
		get: a.clinic.GetProvider, create: a.clinic.CreateProvider, update: a.clinic.UpdateProvider,
	}
}

// CreateProvider answers POST /providers: 201 with the provider, active
// unless "active": false.
func (a *API) CreateProvider(c *gin.Context) { createRecord(a, c, a.providers()) }

// UpdateProvider answers PATCH /providers/{id}.
func (a *API) UpdateProvider(c *gin.Context) { updateRecord(a, c, a.providers()) }

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
