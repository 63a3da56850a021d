package clinic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"apptconfirm/app/phone"
	"apptconfirm/models"
)

// LocationInput is a location as an admin enters it. Field names in
// models.FieldErrors: name, time_zone, country, address, phone, quiet_start,
// quiet_end, is_default.
type LocationInput struct {
	Name string
	// TimeZone is an IANA zone such as "Europe/Paris".
	TimeZone string
	// Country is the ISO 3166 alpha-2 code used as the default phone region.
	Country string
	Address string
	// Phone is the clinic's number shown in messages ({clinic_phone});
	// optional, stored in E.164.
	Phone string
	// QuietStart and QuietEnd are local "HH:MM"; both or neither.
	QuietStart, QuietEnd string
	// IsDefault makes this the default location (the previous default stops
	// being one). The first location is always the default.
	IsDefault bool
}

// validate checks in and returns the clean location fields.
func (in LocationInput) validate() (models.Location, models.FieldErrors) {
	fe := models.FieldErrors{}
	loc := models.Location{
		Name:      strings.TrimSpace(in.Name),
		TimeZone:  strings.TrimSpace(in.TimeZone),
		Country:   strings.ToUpper(strings.TrimSpace(in.Country)),
		Address:   strings.TrimSpace(in.Address),
		IsDefault: in.IsDefault,
	}
	if m := checkName(loc.Name, 200); m != "" {
		fe.Add("name", m)
	}
	if m := checkZone(loc.TimeZone); m != "" {
		fe.Add("time_zone", m)
	}
	countryOK := false
	switch {
	case loc.Country == "":
		fe.Add("country", "required")
	case loc.Country == "UK":
		fe.Add("country", `unknown country code "UK" (the United Kingdom is "GB")`)
	case len(loc.Country) != 2 || !phonenumbers.GetSupportedRegions()[loc.Country]:
		fe.Add("country", "unknown country code; use ISO 3166 alpha-2 such as US, GB or DE")
	default:
		countryOK = true
	}
	if m := checkText(loc.Address, 300, true); m != "" {
		fe.Add("address", m)
	}
	if p := strings.TrimSpace(in.Phone); p != "" {
		if !countryOK {
			fe.Add("phone", "cannot be checked without a valid country")
		} else if e164, err := phone.Normalize(p, loc.Country); err != nil {
			fe.Add("phone", phoneMessage(err))
		} else {
			loc.Phone = e164
		}
	}
	qs, qe := strings.TrimSpace(in.QuietStart), strings.TrimSpace(in.QuietEnd)
	switch {
	case qs == "" && qe == "":
	case qs == "":
		fe.Add("quiet_start", "required when quiet hours end is set")
	case qe == "":
		fe.Add("quiet_end", "required when quiet hours start is set")
	default:
		cs, okS := parseClock(qs)
		ce, okE := parseClock(qe)
		if !okS {
			fe.Add("quiet_start", "must be a time of day as HH:MM (00:00 to 23:59)")
		}
		if !okE {
			fe.Add("quiet_end", "must be a time of day as HH:MM (00:00 to 23:59)")
		}
		if okS && okE && cs == ce {
			fe.Add("quiet_end", "must differ from the start (leave both empty for no quiet hours)")
		}
		loc.QuietStart, loc.QuietEnd = cs, ce
	}
	return loc, fe
}

// checkZone validates an IANA time zone name; it returns a message or "".
func checkZone(name string) string {
	switch name {
	case "":
		return "required"
	case "Local":
		return `want an IANA time zone such as "Europe/Paris", not "Local"`
	}
	if _, err := time.LoadLocation(name); err != nil {
		return fmt.Sprintf("unknown time zone %q", models.Clip(name, 64))
	}
	return ""
}

// parseClock reads "HH:MM" (or "H:MM") and returns it as "HH:MM".
func parseClock(s string) (string, bool) {
	if len(s) == 4 {
		s = "0" + s
	}
	if len(s) != 5 || s[2] != ':' {
		return "", false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	if s[:2] > "23" || s[3] > '5' {
		return "", false
	}
	return s, true
}

// phoneMessage is the models.FieldErrors text for an error from phone.Normalize.
func phoneMessage(err error) string {
	var pe *phone.Error
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return "not a valid phone number"
}

// CreateLocation adds a location. The first location is always the
// default; making a new one the default takes the mark from the old one.
func (s *Service) CreateLocation(ctx context.Context, actor models.Actor, in LocationInput) (*models.Location, error) {
	loc, fe := in.validate()
	if err := fe.Err(); err != nil {
		return nil, err
	}
	now := s.clock()
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		if err := s.checkLocationName(ctx, loc.Name, 0); err != nil {
			return err
		}
		n, err := s.store.CountLocations(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			loc.IsDefault = true
		}
		if loc.IsDefault {
			if err := s.store.MakeDefaultLocation(ctx, 0); err != nil {
				return err
			}
		}
		loc.CreatedAt, loc.UpdatedAt = now, now
		if err := s.store.CreateLocation(ctx, &loc); err != nil {
			return locationConflict(err)
		}
		return s.store.Audit(ctx, now, actor, "location.create", EntityLocation, loc.ID, describeLocation(&loc))
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: create location", err)
	}
	return &loc, nil
}

// UpdateLocation changes a location. The default location cannot give up
// its mark (another one takes it); a changed zone or quiet hours replan the
// location's upcoming appointments.
func (s *Service) UpdateLocation(ctx context.Context, actor models.Actor, id uint, in LocationInput) (*models.Location, error) {
	next, fe := in.validate()
	if err := fe.Err(); err != nil {
		return nil, err
	}
	now := s.clock()
	var out *models.Location
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.store.LockLocation(ctx, id)
		if err != nil {
			return err
		}
		if cur.IsDefault && !next.IsDefault {
			return models.FieldErrors{"is_default": "a default location is required: make another location the default instead"}
		}
		if err := s.checkLocationName(ctx, next.Name, id); err != nil {
			return err
		}
		changes := locationChanges(cur, &next)
		if len(changes) == 0 {
			out = cur
			return nil
		}
		if next.IsDefault && !cur.IsDefault {
			if err := s.store.MakeDefaultLocation(ctx, 0); err != nil {
				return err
			}
		}
		next.ID, next.CreatedAt, next.UpdatedAt = id, cur.CreatedAt, now
		if err := s.store.SaveLocation(ctx, &next); err != nil {
			return locationConflict(err)
		}
		if err := s.store.Audit(ctx, now, actor, "location.update", EntityLocation, id, "changed "+strings.Join(changes, ", ")); err != nil {
			return err
		}
		if cur.TimeZone != next.TimeZone || cur.QuietStart != next.QuietStart || cur.QuietEnd != next.QuietEnd {
			if err := s.replanLocation(ctx, id, now); err != nil {
				return err
			}
		}
		out, err = s.store.Location(ctx, id)
		return err
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: update location", err)
	}
	return out, nil
}

// replanLocation replans the location's upcoming active appointments
// (their quiet hours or zone changed).
func (s *Service) replanLocation(ctx context.Context, locationID uint, now time.Time) error {
	if s.planner == nil {
		return nil
	}
	ids, err := s.upcomingActive(ctx, models.AppointmentFilter{LocationID: locationID}, now)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.replan(ctx, id, now); err != nil {
			return err
		}
	}
	return nil
}

// locationChanges names the fields that differ.
func locationChanges(a, b *models.Location) []string {
	var c []string
	add := func(name string, differ bool) {
		if differ {
			c = append(c, name)
		}
	}
	add("name", a.Name != b.Name)
	add("time zone", a.TimeZone != b.TimeZone)
	add("country", a.Country != b.Country)
	add("address", a.Address != b.Address)
	add("phone", a.Phone != b.Phone)
	add("quiet hours", a.QuietStart != b.QuietStart || a.QuietEnd != b.QuietEnd)
	add("default", a.IsDefault != b.IsDefault)
	return c
}

func describeLocation(l *models.Location) string {
	d := fmt.Sprintf("%s (%s, %s)", l.Name, l.TimeZone, l.Country)
	if l.QuietStart != "" {
		d += fmt.Sprintf(", quiet %s-%s", l.QuietStart, l.QuietEnd)
	}
	if l.IsDefault {
		d += ", default"
	}
	return d
}

// checkLocationName refuses a name another location has (case-insensitively).
func (s *Service) checkLocationName(ctx context.Context, name string, self uint) error {
	taken, err := s.store.LocationNameTaken(ctx, name, self)
	if err != nil {
		return err
	}
	if taken {
		return models.FieldErrors{"name": "already in use"}
	}
	return nil
}

// locationConflict maps a unique-name race onto models.FieldErrors.
func locationConflict(err error) error {
	if err = models.Classify(err); errors.Is(err, models.ErrConflict) {
		return models.FieldErrors{"name": "already in use"}
	}
	return err
}

// GetLocation returns one location, or models.ErrNotFound.
func (s *Service) GetLocation(ctx context.Context, id uint) (*models.Location, error) {
	l, err := s.store.Location(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("clinic: get location: %w", err)
	}
	return l, nil
}

// ListLocations returns every location, by name.
func (s *Service) ListLocations(ctx context.Context) ([]models.Location, error) {
	ls, err := s.store.Locations(ctx)
	if err != nil {
		return nil, fmt.Errorf("clinic: list locations: %w", err)
	}
	return ls, nil
}

// DefaultLocation returns the default location, or models.ErrNotFound when
// none exists yet (EnsureDefaults creates it at start).
func (s *Service) DefaultLocation(ctx context.Context) (*models.Location, error) {
	l, err := s.store.DefaultLocation(ctx)
	if err != nil {
		return nil, fmt.Errorf("clinic: %w", err)
	}
	return l, nil
}

// defaultRegion is the phone region to read national numbers in when none
// is given: the default location's country.
func (s *Service) defaultRegion(ctx context.Context) (string, error) {
	l, err := s.store.DefaultLocation(ctx)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return fallbackCountry, nil
	case err != nil:
		return "", err
	}
	return l.Country, nil
}

// wrapUnlessInput prefixes err with op, but returns models.FieldErrors and
// *models.ErrBadTransition unwrapped so that their text stays clean for
// people; errors.As finds them either way.
func wrapUnlessInput(op string, err error) error {
	if _, ok := models.AsFieldErrors(err); ok {
		return err
	}
	var bt *models.ErrBadTransition
	if errors.As(err, &bt) {
		return err
	}
	return fmt.Errorf("%s: %w", op, models.Classify(err))
}
