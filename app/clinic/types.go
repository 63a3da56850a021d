package clinic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"apptconfirm/models"
)

// EntityAppointmentType names appointment types in the audit log.
const EntityAppointmentType = "appointment_type"

// Limits of an appointment type's default duration, in minutes.
const (
	MinTypeMinutes = 5
	MaxTypeMinutes = 24 * 60
)

// DefaultTypeColour is the colour of a type saved without one.
const DefaultTypeColour = "#2563eb"

// TypeInput is an appointment type as an admin or the API enters it.
// Field names in models.FieldErrors: name, default_duration_minutes,
// colour.
type TypeInput struct {
	Name                   string
	DefaultDurationMinutes int
	// Colour is "#rrggbb"; empty means DefaultTypeColour.
	Colour string
}

// ParseColour reads a colour "#rrggbb" (or "#rgb"), in any case, and
// returns it as "#rrggbb" in lower case.
func ParseColour(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) == 4 && s[0] == '#' {
		s = "#" + string([]byte{s[1], s[1], s[2], s[2], s[3], s[3]})
	}
	if len(s) != 7 || s[0] != '#' {
		return "", false
	}
	if _, err := strconv.ParseUint(s[1:], 16, 32); err != nil {
		return "", false
	}
	return s, true
}

// luminance is the relative luminance of a colour "#rrggbb" (WCAG 2).
func luminance(c string) float64 {
	var l [3]float64
	for i := range 3 {
		v, _ := strconv.ParseUint(c[1+2*i:3+2*i], 16, 8)
		x := float64(v) / 255
		if x <= 0.04045 {
			l[i] = x / 12.92
		} else {
			l[i] = math.Pow((x+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// Contrast is the WCAG contrast ratio of two colours "#rrggbb".
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// Text colours TypeTextColour chooses between.
const (
	darkText  = "#000000"
	lightText = "#ffffff"
)

// TypeTextColour is the colour of text written on a background of colour
// c: dark or white, whichever contrasts more (at least 4.5:1 for every
// colour). An unreadable c gives the dark text.
func TypeTextColour(c string) string {
	c, ok := ParseColour(c)
	if !ok {
		return darkText
	}
	if Contrast(c, lightText) > Contrast(c, darkText) {
		return lightText
	}
	return darkText
}

// validate checks in and returns the clean type.
func (in TypeInput) validate() (models.AppointmentType, error) {
	fe := models.FieldErrors{}
	t := models.AppointmentType{Name: strings.TrimSpace(in.Name), DefaultDurationMinutes: in.DefaultDurationMinutes}
	if m := checkName(t.Name, models.MaxTypeName); m != "" {
		fe.Add("name", m)
	}
	if t.DefaultDurationMinutes < MinTypeMinutes || t.DefaultDurationMinutes > MaxTypeMinutes {
		fe.Add("default_duration_minutes", fmt.Sprintf("must be from %d to %d minutes", MinTypeMinutes, MaxTypeMinutes))
	}
	if strings.TrimSpace(in.Colour) == "" {
		t.Colour = DefaultTypeColour
	} else if c, ok := ParseColour(in.Colour); ok {
		t.Colour = c
	} else {
		fe.Add("colour", "must be a colour such as #2563eb")
	}
	return t, fe.Err()
}

// nameTaken is the field error of a name another type has.
var nameTaken = models.FieldErrors{"name": "is already used by another appointment type"}

// ListTypes returns every appointment type, by name.
func (s *Service) ListTypes(ctx context.Context) ([]models.AppointmentType, error) {
	ts, err := s.store.AppointmentTypes(ctx)
	if err != nil {
		return nil, fmt.Errorf("clinic: list appointment types: %w", err)
	}
	return ts, nil
}

// GetType returns one appointment type, or models.ErrNotFound.
func (s *Service) GetType(ctx context.Context, id uint) (*models.AppointmentType, error) {
	t, err := s.store.AppointmentType(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("clinic: get appointment type: %w", err)
	}
	return t, nil
}

// CreateType saves a new appointment type.
func (s *Service) CreateType(ctx context.Context, actor models.Actor, in TypeInput) (*models.AppointmentType, error) {
	t, err := in.validate()
	if err != nil {
		return nil, err
	}
	now := s.clock()
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		t.CreatedAt, t.UpdatedAt = now, now
		if err := s.store.CreateAppointmentType(ctx, &t); err != nil {
			if errors.Is(err, models.ErrTypeNameTaken) {
				return nameTaken
			}
			return err
		}
		return s.store.Audit(ctx, now, actor, "appointment_type.create", EntityAppointmentType, t.ID, describeType(&t))
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: create appointment type", err)
	}
	return &t, nil
}

// UpdateType changes an appointment type. Appointments already booked
// keep their length.
func (s *Service) UpdateType(ctx context.Context, actor models.Actor, id uint, in TypeInput) (*models.AppointmentType, error) {
	next, err := in.validate()
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var out *models.AppointmentType
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.store.AppointmentType(ctx, id)
		if err != nil {
			return err
		}
		if cur.Name == next.Name && cur.DefaultDurationMinutes == next.DefaultDurationMinutes && cur.Colour == next.Colour {
			out = cur
			return nil
		}
		next.ID, next.CreatedAt, next.UpdatedAt = id, cur.CreatedAt, now
		if err := s.store.SaveAppointmentType(ctx, &next); err != nil {
			if errors.Is(err, models.ErrTypeNameTaken) {
				return nameTaken
			}
			return err
		}
		out = &next
		return s.store.Audit(ctx, now, actor, "appointment_type.update", EntityAppointmentType, id, describeType(&next))
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: update appointment type", err)
	}
	return out, nil
}

func describeType(t *models.AppointmentType) string {
	return fmt.Sprintf("%s, %d minutes, %s", t.Name, t.DefaultDurationMinutes, t.Colour)
}
