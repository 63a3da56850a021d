package models

import (
	"context"
	"fmt"
)

// Provider returns one provider, or ErrNotFound.
func (s *Store) Provider(ctx context.Context, id uint) (*Provider, error) {
	return first[Provider](ctx, s, "provider", id, false)
}

// LockProvider returns one provider, locked for update on PostgreSQL.
func (s *Store) LockProvider(ctx context.Context, id uint) (*Provider, error) {
	return first[Provider](ctx, s, "provider", id, true)
}

// ProviderFilter selects providers.
type ProviderFilter struct {
	// LocationID keeps the providers of that location and those without one.
	LocationID uint
	// ActiveOnly leaves out inactive providers.
	ActiveOnly bool
}

// Providers returns the providers matching f, by name.
func (s *Store) Providers(ctx context.Context, f ProviderFilter) ([]Provider, error) {
	db := s.conn(ctx).Model(&Provider{})
	if f.LocationID != 0 {
		db = db.Where("location_id = ? OR location_id IS NULL", f.LocationID)
	}
	if f.ActiveOnly {
		db = db.Where("active = ?", true)
	}
	var ps []Provider
	if err := db.Order("LOWER(name), id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("store: providers: %w", Classify(err))
	}
	return ps, nil
}

// CreateProvider inserts p, Active included (GORM would leave a false
// Active out of the INSERT and the column's default would win).
func (s *Store) CreateProvider(ctx context.Context, p *Provider) error {
	active := p.Active
	if err := create(ctx, s, p); err != nil {
		return fmt.Errorf("store: create provider: %w", err)
	}
	if !active {
		if err := update[Provider](ctx, s, p.ID, map[string]any{"active": false}); err != nil {
			return fmt.Errorf("store: create provider: %w", err)
		}
		p.Active = false
	}
	return nil
}

// SaveProvider writes every editable column of p (and updated_at).
func (s *Store) SaveProvider(ctx context.Context, p *Provider) error {
	err := update[Provider](ctx, s, p.ID, map[string]any{
		"name": p.Name, "location_id": p.LocationID, "active": p.Active, "updated_at": p.UpdatedAt,
	})
	if err != nil {
		return fmt.Errorf("store: save provider %d: %w", p.ID, err)
	}
	return nil
}
