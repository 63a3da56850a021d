package models

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ErrTypeNameTaken means another appointment type already has the name.
var ErrTypeNameTaken = errors.New("another appointment type already has this name")

// MaxTypeName is the longest name of an appointment type.
const MaxTypeName = 100

// AppointmentType is a kind of visit (a check-up, a cleaning): its name,
// the length it is booked for unless said otherwise, and the colour that
// marks it in the day view ("#2563eb").
type AppointmentType struct {
	ID                     uint   `gorm:"primaryKey"`
	Name                   string `gorm:"size:100;not null;uniqueIndex"`
	DefaultDurationMinutes int    `gorm:"not null"`
	Colour                 string `gorm:"size:7;not null;default:''"`
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// AppointmentType returns one appointment type, or ErrNotFound.
func (s *Store) AppointmentType(ctx context.Context, id uint) (*AppointmentType, error) {
	return first[AppointmentType](ctx, s, "appointment type", id, false)
}

// AppointmentTypes returns every appointment type, by name.
func (s *Store) AppointmentTypes(ctx context.Context) ([]AppointmentType, error) {
	var ts []AppointmentType
	if err := s.conn(ctx).Order("LOWER(name), id").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("store: appointment types: %w", Classify(err))
	}
	return ts, nil
}

// AppointmentTypeByName returns the type named name (compared without
// regard to case), or ErrNotFound.
func (s *Store) AppointmentTypeByName(ctx context.Context, name string) (*AppointmentType, error) {
	var t AppointmentType
	err := s.conn(ctx).Where("LOWER(name) = LOWER(?)", name).Order("id").First(&t).Error
	if err != nil {
		if err = Classify(err); isNotFound(err) {
			return nil, fmt.Errorf("appointment type %q: %w", name, ErrNotFound)
		}
		return nil, fmt.Errorf("store: appointment type %q: %w", name, err)
	}
	return &t, nil
}

// AppointmentTypesByID returns the types whose ids are in ids, keyed by id.
func (s *Store) AppointmentTypesByID(ctx context.Context, ids []uint) (map[uint]*AppointmentType, error) {
	out, err := byIDs(ctx, s, ids, func(t *AppointmentType) uint { return t.ID })
	if err != nil {
		return nil, fmt.Errorf("store: appointment types: %w", err)
	}
	return out, nil
}

// typeNameTaken reports whether a type other than self has name (without
// regard to case).
func (s *Store) typeNameTaken(ctx context.Context, name string, self uint) (bool, error) {
	n, err := count[AppointmentType](ctx, s, "LOWER(name) = LOWER(?) AND id <> ?", name, self)
	return n > 0, err
}

// CreateAppointmentType inserts t; ErrTypeNameTaken when the name is used.
func (s *Store) CreateAppointmentType(ctx context.Context, t *AppointmentType) error {
	err := s.Tx(ctx, func(ctx context.Context) error {
		taken, err := s.typeNameTaken(ctx, t.Name, 0)
		if err != nil {
			return err
		}
		if taken {
			return ErrTypeNameTaken
		}
		return create(ctx, s, t)
	})
	return typeError("create appointment type", err)
}

// SaveAppointmentType writes every editable column of t (and updated_at);
// ErrTypeNameTaken when another type has the name.
func (s *Store) SaveAppointmentType(ctx context.Context, t *AppointmentType) error {
	err := s.Tx(ctx, func(ctx context.Context) error {
		taken, err := s.typeNameTaken(ctx, t.Name, t.ID)
		if err != nil {
			return err
		}
		if taken {
			return ErrTypeNameTaken
		}
		if t.UpdatedAt.IsZero() {
			t.UpdatedAt = DBTime(time.Now())
		}
		return s.write(ctx, func(db *gorm.DB) error {
			res := db.Model(&AppointmentType{}).Where("id = ?", t.ID).Updates(map[string]any{
				"name": t.Name, "default_duration_minutes": t.DefaultDurationMinutes,
				"colour": t.Colour, "updated_at": t.UpdatedAt,
			})
			if res.Error == nil && res.RowsAffected == 0 {
				return fmt.Errorf("appointment type %d: %w", t.ID, ErrNotFound)
			}
			return res.Error
		})
	})
	return typeError(fmt.Sprintf("save appointment type %d", t.ID), err)
}

// typeError wraps err of a write of a type, keeping the sentinel errors
// (a unique index hit by a concurrent writer is a taken name too).
func typeError(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrTypeNameTaken) || errors.Is(err, ErrNotFound) {
		return err
	}
	if err = Classify(err); errors.Is(err, ErrConflict) {
		return ErrTypeNameTaken
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// IDList is a set of row ids stored as one column ("3,7,12"); empty means
// none. Reminder rules keep the types, locations and providers they are
// limited to in such columns.
type IDList []uint

// Has reports whether id is in the list.
func (l IDList) Has(id uint) bool {
	for _, x := range l {
		if x == id {
			return true
		}
	}
	return false
}

// String is the stored form: the ids in increasing order, comma-separated.
func (l IDList) String() string {
	ids := append([]uint(nil), l...)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var b strings.Builder
	for i, id := range ids {
		if i > 0 && id == ids[i-1] {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(id), 10))
	}
	return b.String()
}

// ParseIDList reads the stored form of an IDList.
func ParseIDList(s string) (IDList, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out IDList
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(part), 10, 32)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%q is not an id", part)
		}
		out = append(out, uint(n))
	}
	return out, nil
}

// Value stores the list.
func (l IDList) Value() (driver.Value, error) { return l.String(), nil }

// Scan reads the list.
func (l *IDList) Scan(v any) error {
	var s string
	switch x := v.(type) {
	case nil:
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return fmt.Errorf("IDList: cannot scan %T", v)
	}
	parsed, err := ParseIDList(s)
	if err != nil {
		return err
	}
	*l = parsed
	return nil
}
