package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Location returns one location, or ErrNotFound.
func (s *Store) Location(ctx context.Context, id uint) (*Location, error) {
	return s.cachedLocation(ctx, id)
}

// LockLocation returns one location, locked for update on PostgreSQL.
func (s *Store) LockLocation(ctx context.Context, id uint) (*Location, error) {
	return first[Location](ctx, s, "location", id, true)
}

// Locations returns every location, by name.
func (s *Store) Locations(ctx context.Context) ([]Location, error) {
	var ls []Location
	if err := s.conn(ctx).Order("name, id").Find(&ls).Error; err != nil {
		return nil, fmt.Errorf("store: locations: %w", Classify(err))
	}
	return ls, nil
}

// DefaultLocation returns the default location, or ErrNotFound.
func (s *Store) DefaultLocation(ctx context.Context) (*Location, error) {
	c := readCacheOf(ctx)
	if l, ok := c.cachedDefault(); ok {
		return l, nil
	}
	var l Location
	if err := s.conn(ctx).Where("is_default = ?", true).Order("id").Take(&l).Error; err != nil {
		return nil, fmt.Errorf("default location: %w", Classify(err))
	}
	c.putDefault(&l)
	return &l, nil
}

// FirstLocationID returns the id of the oldest location, 0 when there is none.
func (s *Store) FirstLocationID(ctx context.Context) (uint, error) {
	var ids []uint
	if err := s.conn(ctx).Model(&Location{}).Order("id").Limit(1).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("store: first location: %w", Classify(err))
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// CountLocations returns how many locations exist.
func (s *Store) CountLocations(ctx context.Context) (int64, error) {
	n, err := count[Location](ctx, s, "1 = 1")
	if err != nil {
		return 0, fmt.Errorf("store: count locations: %w", err)
	}
	return n, nil
}

// LocationNameTaken reports whether a location other than self has name
// (compared case-insensitively).
func (s *Store) LocationNameTaken(ctx context.Context, name string, self uint) (bool, error) {
	n, err := count[Location](ctx, s, "LOWER(name) = LOWER(?) AND id <> ?", name, self)
	if err != nil {
		return false, fmt.Errorf("store: location name: %w", err)
	}
	return n > 0, nil
}

// LocationExists reports whether location id exists.
func (s *Store) LocationExists(ctx context.Context, id uint) (bool, error) {
	n, err := count[Location](ctx, s, "id = ?", id)
	if err != nil {
		return false, fmt.Errorf("store: location %d: %w", id, err)
	}
	return n > 0, nil
}

// CreateLocation inserts l. A name already in use is ErrConflict.
func (s *Store) CreateLocation(ctx context.Context, l *Location) error {
	if err := create(ctx, s, l); err != nil {
		return fmt.Errorf("store: create location: %w", err)
	}
	return nil
}

// SaveLocation writes every editable column of l (and updated_at).
func (s *Store) SaveLocation(ctx context.Context, l *Location) error {
	err := update[Location](ctx, s, l.ID, map[string]any{
		"name": l.Name, "time_zone": l.TimeZone, "country": l.Country,
		"address": l.Address, "phone": l.Phone, "quiet_start": l.QuietStart,
		"quiet_end": l.QuietEnd, "is_default": l.IsDefault, "updated_at": l.UpdatedAt,
	})
	if err != nil {
		return fmt.Errorf("store: save location %d: %w", l.ID, err)
	}
	return nil
}

// MakeDefaultLocation makes location id the only default one.
func (s *Store) MakeDefaultLocation(ctx context.Context, id uint) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		if err := db.Model(&Location{}).Where("is_default = ? AND id <> ?", true, id).Update("is_default", false).Error; err != nil {
			return err
		}
		if id == 0 {
			return nil
		}
		return db.Model(&Location{}).Where("id = ?", id).Update("is_default", true).Error
	})
	if err != nil {
		return fmt.Errorf("store: default location %d: %w", id, err)
	}
	return nil
}
