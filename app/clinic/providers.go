package clinic

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"apptconfirm/models"
)

// ProviderInput is a provider as an admin enters them. Field names in
// FieldErrors: name, location_id.
type ProviderInput struct {
	Name string
	// LocationID is optional: nil (or 0) means the provider works anywhere.
	LocationID *uint
	// Active providers can be chosen for new appointments. The zero value is
	// inactive, so callers set it explicitly (a form's checkbox).
	Active bool
}

// validate checks in against the database.
func (in ProviderInput) validate(ctx context.Context, tx *models.Store) (models.Provider, error) {
	fe := FieldErrors{}
	p := models.Provider{Name: strings.TrimSpace(in.Name), Active: in.Active}
	if m := checkName(p.Name, 200); m != "" {
		fe.add("name", m)
	}
	if in.LocationID != nil && *in.LocationID != 0 {
		var n int64
		if err := tx.DB(ctx).Model(&models.Location{}).Where("id = ?", *in.LocationID).Count(&n).Error; err != nil {
			return p, err
		}
		if n == 0 {
			fe.add("location_id", "not found")
		}
		id := *in.LocationID
		p.LocationID = &id
	}
	return p, fe.err()
}

func describeProvider(p *models.Provider) string {
	d := p.Name
	if p.LocationID != nil {
		d += fmt.Sprintf(", location %d", *p.LocationID)
	}
	if !p.Active {
		d += ", inactive"
	}
	return d
}

// CreateProvider adds a provider.
func (s *Service) CreateProvider(ctx context.Context, actor Actor, in ProviderInput) (*models.Provider, error) {
	now := s.clock()
	var out models.Provider
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		p, err := in.validate(ctx, tx)
		if err != nil {
			return err
		}
		p.CreatedAt, p.UpdatedAt = now, now
		if err := tx.DB(ctx).Create(&p).Error; err != nil {
			return err
		}
		if !in.Active {
			// GORM leaves a false Active out of the INSERT, so the column's
			// default (true) wins; set it explicitly.
			if err := tx.DB(ctx).Model(&models.Provider{}).Where("id = ?", p.ID).Update("active", false).Error; err != nil {
				return err
			}
			p.Active = false
		}
		out = p
		return RecordAudit(ctx, tx, now, actor, "provider.create", EntityProvider, p.ID, describeProvider(&p))
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: create provider", err)
	}
	return &out, nil
}

// UpdateProvider changes a provider. Making one inactive keeps their
// existing appointments; it only stops new bookings with them.
func (s *Service) UpdateProvider(ctx context.Context, actor Actor, id uint, in ProviderInput) (*models.Provider, error) {
	now := s.clock()
	var out models.Provider
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		var cur models.Provider
		if err := tx.DB(ctx).Scopes(models.ForUpdate(tx)).First(&cur, id).Error; err != nil {
			if err = models.Classify(err); errors.Is(err, models.ErrNotFound) {
				return notFound("provider", id)
			}
			return err
		}
		next, err := in.validate(ctx, tx)
		if err != nil {
			return err
		}
		if cur.Name == next.Name && sameID(cur.LocationID, next.LocationID) && cur.Active == next.Active {
			out = cur
			return nil
		}
		upd := map[string]any{"name": next.Name, "location_id": next.LocationID, "active": next.Active, "updated_at": now}
		if err := tx.DB(ctx).Model(&models.Provider{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		if err := tx.DB(ctx).First(&out, id).Error; err != nil {
			return err
		}
		return RecordAudit(ctx, tx, now, actor, "provider.update", EntityProvider, id, describeProvider(&out))
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: update provider", err)
	}
	return &out, nil
}

// GetProvider returns one provider, or models.ErrNotFound.
func (s *Service) GetProvider(ctx context.Context, id uint) (*models.Provider, error) {
	var p models.Provider
	if err := s.store.DB(ctx).First(&p, id).Error; err != nil {
		if err = models.Classify(err); errors.Is(err, models.ErrNotFound) {
			return nil, fmt.Errorf("clinic: %w", notFound("provider", id))
		}
		return nil, fmt.Errorf("clinic: get provider: %w", err)
	}
	return &p, nil
}

// ProviderQuery filters the provider list.
type ProviderQuery struct {
	// LocationID keeps the providers of that location and those without one.
	LocationID uint
	// ActiveOnly leaves out inactive providers (for booking forms).
	ActiveOnly bool
}

// ListProviders returns the providers matching q, by name.
func (s *Service) ListProviders(ctx context.Context, q ProviderQuery) ([]models.Provider, error) {
	db := s.store.DB(ctx).Model(&models.Provider{})
	if q.LocationID != 0 {
		db = db.Where("location_id = ? OR location_id IS NULL", q.LocationID)
	}
	if q.ActiveOnly {
		db = db.Where("active = ?", true)
	}
	var ps []models.Provider
	if err := db.Order("LOWER(name), id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("clinic: list providers: %w", models.Classify(err))
	}
	return ps, nil
}
