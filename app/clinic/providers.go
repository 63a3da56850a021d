package clinic

import (
	"context"
	"fmt"
	"strings"

	"apptconfirm/models"
)

// ProviderInput is a provider as an admin enters them. Field names in
// models.FieldErrors: name, location_id.
type ProviderInput struct {
	Name string
	// LocationID is optional: nil (or 0) means the provider works anywhere.
	LocationID *uint
	// Active providers can be chosen for new appointments. The zero value is
	// inactive, so callers set it explicitly (a form's checkbox).
	Active bool
}

// validate checks in against the database.
func (in ProviderInput) validate(ctx context.Context, store *models.Store) (models.Provider, error) {
	fe := models.FieldErrors{}
	p := models.Provider{Name: strings.TrimSpace(in.Name), Active: in.Active}
	if m := checkName(p.Name, 200); m != "" {
		fe.Add("name", m)
	}
	if in.LocationID != nil && *in.LocationID != 0 {
		ok, err := store.LocationExists(ctx, *in.LocationID)
		if err != nil {
			return p, err
		}
		if !ok {
			fe.Add("location_id", "not found")
		}
		id := *in.LocationID
		p.LocationID = &id
	}
	return p, fe.Err()
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
func (s *Service) CreateProvider(ctx context.Context, actor models.Actor, in ProviderInput) (*models.Provider, error) {
	now := s.clock()
	var out models.Provider
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		p, err := in.validate(ctx, s.store)
		if err != nil {
			return err
		}
		p.CreatedAt, p.UpdatedAt = now, now
		if err := s.store.CreateProvider(ctx, &p); err != nil {
			return err
		}
		out = p
		return s.store.Audit(ctx, now, actor, "provider.create", EntityProvider, p.ID, describeProvider(&p))
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: create provider", err)
	}
	return &out, nil
}

// UpdateProvider changes a provider. Making one inactive keeps their
// existing appointments; it only stops new bookings with them.
func (s *Service) UpdateProvider(ctx context.Context, actor models.Actor, id uint, in ProviderInput) (*models.Provider, error) {
	now := s.clock()
	var out *models.Provider
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.store.LockProvider(ctx, id)
		if err != nil {
			return err
		}
		next, err := in.validate(ctx, s.store)
		if err != nil {
			return err
		}
		if cur.Name == next.Name && sameID(cur.LocationID, next.LocationID) && cur.Active == next.Active {
			out = cur
			return nil
		}
		next.ID, next.CreatedAt, next.UpdatedAt = id, cur.CreatedAt, now
		if err := s.store.SaveProvider(ctx, &next); err != nil {
			return err
		}
		if out, err = s.store.Provider(ctx, id); err != nil {
			return err
		}
		return s.store.Audit(ctx, now, actor, "provider.update", EntityProvider, id, describeProvider(out))
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: update provider", err)
	}
	return out, nil
}

// GetProvider returns one provider, or models.ErrNotFound.
func (s *Service) GetProvider(ctx context.Context, id uint) (*models.Provider, error) {
	p, err := s.store.Provider(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("clinic: get provider: %w", err)
	}
	return p, nil
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
	ps, err := s.store.Providers(ctx, models.ProviderFilter{LocationID: q.LocationID, ActiveOnly: q.ActiveOnly})
	if err != nil {
		return nil, fmt.Errorf("clinic: list providers: %w", err)
	}
	return ps, nil
}
