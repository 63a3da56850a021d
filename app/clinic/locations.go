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
// FieldErrors: name, time_zone, country, address, phone, quiet_start,
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
func (in LocationInput) validate() (models.Location, FieldErrors) {
	fe := FieldErrors{}
	loc := models.Location{
		Name:      strings.TrimSpace(in.Name),
		TimeZone:  strings.TrimSpace(in.TimeZone),
		Country:   strings.ToUpper(strings.TrimSpace(in.Country)),
		Address:   strings.TrimSpace(in.Address),
		IsDefault: in.IsDefault,
	}
	if m := checkName(loc.Name, 200); m != "" {
		fe.add("name", m)
	}
	if m := checkZone(loc.TimeZone); m != "" {
		fe.add("time_zone", m)
	}
	countryOK := false
	switch {
	case loc.Country == "":
		fe.add("country", "required")
	case loc.Country == "UK":
		fe.add("country", `unknown country code "UK" (the United Kingdom is "GB")`)
	case len(loc.Country) != 2 || !phonenumbers.GetSupportedRegions()[loc.Country]:
		fe.add("country", "unknown country code; use ISO 3166 alpha-2 such as US, GB or DE")
	default:
		countryOK = true
	}
	if m := checkText(loc.Address, 300, true); m != "" {
		fe.add("address", m)
	}
	if p := strings.TrimSpace(in.Phone); p != "" {
		if !countryOK {
			fe.add("phone", "cannot be checked without a valid country")
		} else if e164, err := phone.Normalize(p, loc.Country); err != nil {
			fe.add("phone", phoneMessage(err))
		} else {
			loc.Phone = e164
		}
	}
	qs, qe := strings.TrimSpace(in.QuietStart), strings.TrimSpace(in.QuietEnd)
	switch {
	case qs == "" && qe == "":
	case qs == "":
		fe.add("quiet_start", "required when quiet hours end is set")
	case qe == "":
		fe.add("quiet_end", "required when quiet hours start is set")
	default:
		cs, okS := parseClock(qs)
		ce, okE := parseClock(qe)
		if !okS {
			fe.add("quiet_start", "must be a time of day as HH:MM (00:00 to 23:59)")
		}
		if !okE {
			fe.add("quiet_end", "must be a time of day as HH:MM (00:00 to 23:59)")
		}
		if okS && okE && cs == ce {
			fe.add("quiet_end", "must differ from the start (leave both empty for no quiet hours)")
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
		return fmt.Sprintf("unknown time zone %q", truncate(name, 64))
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

// phoneMessage is the FieldErrors text for an error from phone.Normalize.
func phoneMessage(err error) string {
	var pe *phone.Error
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return "not a valid phone number"
}

// CreateLocation adds a location. The first location becomes the default
// whatever IsDefault says.
func (s *Service) CreateLocation(ctx context.Context, actor Actor, in LocationInput) (*models.Location, error) {
	loc, fe := in.validate()
	if err := fe.err(); err != nil {
		return nil, err
	}
	now := s.clock()
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		if err := checkLocationName(ctx, tx, loc.Name, 0); err != nil {
			return err
		}
		var n int64
		if err := tx.DB(ctx).Model(&models.Location{}).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			loc.IsDefault = true
		}
		if loc.IsDefault {
			if err := clearDefault(ctx, tx); err != nil {
				return err
			}
		}
		loc.CreatedAt, loc.UpdatedAt = now, now
		if err := tx.DB(ctx).Create(&loc).Error; err != nil {
			return locationConflict(err)
		}
		return RecordAudit(ctx, tx, now, actor, "location.create", EntityLocation, loc.ID, describeLocation(&loc))
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: create location", err)
	}
	return &loc, nil
}

// UpdateLocation changes a location. The default location cannot stop being
// the default except by making another one the default. A change of time
// zone or quiet hours replans the location's future active appointments in
// the same transaction (their start instants stay as they are).
func (s *Service) UpdateLocation(ctx context.Context, actor Actor, id uint, in LocationInput) (*models.Location, error) {
	next, fe := in.validate()
	if err := fe.err(); err != nil {
		return nil, err
	}
	now := s.clock()
	var out models.Location
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		var cur models.Location
		if err := tx.DB(ctx).Scopes(models.ForUpdate(tx)).First(&cur, id).Error; err != nil {
			if errors.Is(models.Classify(err), models.ErrNotFound) {
				return notFound("location", id)
			}
			return err
		}
		if cur.IsDefault && !next.IsDefault {
			return FieldErrors{"is_default": "a default location is required: make another location the default instead"}
		}
		if err := checkLocationName(ctx, tx, next.Name, id); err != nil {
			return err
		}
		changes := locationChanges(&cur, &next)
		if len(changes) == 0 {
			out = cur
			return nil
		}
		if next.IsDefault && !cur.IsDefault {
			if err := clearDefault(ctx, tx); err != nil {
				return err
			}
		}
		upd := map[string]any{
			"name": next.Name, "time_zone": next.TimeZone, "country": next.Country,
			"address": next.Address, "phone": next.Phone, "quiet_start": next.QuietStart,
			"quiet_end": next.QuietEnd, "is_default": next.IsDefault, "updated_at": now,
		}
		if err := tx.DB(ctx).Model(&models.Location{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return locationConflict(err)
		}
		if err := RecordAudit(ctx, tx, now, actor, "location.update", EntityLocation, id, "changed "+strings.Join(changes, ", ")); err != nil {
			return err
		}
		if cur.TimeZone != next.TimeZone || cur.QuietStart != next.QuietStart || cur.QuietEnd != next.QuietEnd {
			if err := s.replanLocation(ctx, tx, id, now); err != nil {
				return err
			}
		}
		return tx.DB(ctx).First(&out, id).Error
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: update location", err)
	}
	return &out, nil
}

// replanLocation replans every future active appointment at a location.
func (s *Service) replanLocation(ctx context.Context, tx *models.Store, locationID uint, now time.Time) error {
	if s.getPlanner() == nil {
		return nil
	}
	var ids []uint
	err := tx.DB(ctx).Model(&models.Appointment{}).
		Where("location_id = ? AND starts_at > ? AND status IN ?", locationID, now, activeStatuses()).
		Order("id").Pluck("id", &ids).Error
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.replan(ctx, tx, id, now); err != nil {
			return err
		}
	}
	return nil
}

// activeStatuses lists the states that still expect the patient.
func activeStatuses() []string {
	return []string{string(models.Scheduled), string(models.Confirmed)}
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

// checkLocationName refuses a name another location already has (ignoring case).
func checkLocationName(ctx context.Context, tx *models.Store, name string, self uint) error {
	var n int64
	err := tx.DB(ctx).Model(&models.Location{}).
		Where("LOWER(name) = LOWER(?) AND id <> ?", name, self).Count(&n).Error
	if err != nil {
		return err
	}
	if n > 0 {
		return FieldErrors{"name": "already in use"}
	}
	return nil
}

// locationConflict maps a unique-name race onto FieldErrors.
func locationConflict(err error) error {
	if err = models.Classify(err); errors.Is(err, models.ErrConflict) {
		return FieldErrors{"name": "already in use"}
	}
	return err
}

// clearDefault makes no location the default (the caller sets the new one).
func clearDefault(ctx context.Context, tx *models.Store) error {
	return tx.DB(ctx).Model(&models.Location{}).Where("is_default = ?", true).
		Update("is_default", false).Error
}

// GetLocation returns one location, or models.ErrNotFound.
func (s *Service) GetLocation(ctx context.Context, id uint) (*models.Location, error) {
	var l models.Location
	if err := s.store.DB(ctx).First(&l, id).Error; err != nil {
		if err = models.Classify(err); errors.Is(err, models.ErrNotFound) {
			return nil, fmt.Errorf("clinic: %w", notFound("location", id))
		}
		return nil, fmt.Errorf("clinic: get location: %w", err)
	}
	return &l, nil
}

// ListLocations returns every location, by name.
func (s *Service) ListLocations(ctx context.Context) ([]models.Location, error) {
	var ls []models.Location
	if err := s.store.DB(ctx).Order("name, id").Find(&ls).Error; err != nil {
		return nil, fmt.Errorf("clinic: list locations: %w", models.Classify(err))
	}
	return ls, nil
}

// DefaultLocation returns the default location, or models.ErrNotFound when
// none exists yet (EnsureDefaults creates it at start).
func (s *Service) DefaultLocation(ctx context.Context) (*models.Location, error) {
	l, err := defaultLocation(ctx, s.store)
	if err != nil {
		return nil, fmt.Errorf("clinic: default location: %w", err)
	}
	return l, nil
}

func defaultLocation(ctx context.Context, db *models.Store) (*models.Location, error) {
	var l models.Location
	err := db.DB(ctx).Where("is_default = ?", true).Order("id").Take(&l).Error
	if err != nil {
		return nil, models.Classify(err)
	}
	return &l, nil
}

// defaultRegion is the phone region to read national numbers in when none
// is given: the default location's country.
func defaultRegion(ctx context.Context, db *models.Store) (string, error) {
	l, err := defaultLocation(ctx, db)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return fallbackCountry, nil
	case err != nil:
		return "", err
	}
	return l.Country, nil
}

// wrapUnlessInput prefixes err with op, but returns FieldErrors and
// *models.ErrBadTransition unwrapped so that their text stays clean for
// people; errors.As finds them either way.
func wrapUnlessInput(op string, err error) error {
	if _, ok := AsFieldErrors(err); ok {
		return err
	}
	var bt *models.ErrBadTransition
	if errors.As(err, &bt) {
		return err
	}
	return fmt.Errorf("%s: %w", op, models.Classify(err))
}
