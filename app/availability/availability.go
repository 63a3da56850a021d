// Package availability answers when an appointment could take place: the
// working hours and dated exceptions of providers and locations (stored,
// edited by admins), and, on top of app/slots, the free starts for an
// appointment's provider, location and length, and whether one start is
// still free.
//
// Whose time an appointment takes: its provider's, at any location; an
// appointment booked without a provider takes its location's (the
// location's provider-less appointments stand in each other's way). The
// hours that must be open are the provider's and the location's, each when
// set; with neither set, the finder has nothing to offer (ErrNoHours) and
// the check only looks for double bookings. The buffers kept free around
// each appointment are the provider's when the provider has hours set,
// otherwise the location's.
//
// Every method works inside the caller's transaction when the context
// carries one (models.Store.Tx).
package availability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"apptconfirm/app/slots"
	"apptconfirm/models"
)

// MaxLimit is the most free starts one call returns.
const MaxLimit = 50

// MaxBufferMinutes bounds each buffer.
const MaxBufferMinutes = 240

// window is how much time one round of the finder reads appointments for:
// a long search reads the busy time a window at a time rather than a year
// at once.
const window = 14 * 24 * time.Hour

// longestAppointment bounds the length of a busy appointment, so that one
// that started before a window and reaches into it is read too (bookings
// are at most 12 hours).
const longestAppointment = 24 * time.Hour

// ErrNoHours is Free's answer when neither the provider nor the location
// has working hours set: there is no basis for offering a time.
var ErrNoHours = errors.New("availability: no working hours are set for this provider or location")

// Owner names whose hours: a provider or a location.
type Owner struct {
	// Kind is models.HoursOfProvider or models.HoursOfLocation.
	Kind string
	ID   uint
}

// ProviderOwner is provider id's hours.
func ProviderOwner(id uint) Owner { return Owner{Kind: models.HoursOfProvider, ID: id} }

// LocationOwner is location id's hours.
func LocationOwner(id uint) Owner { return Owner{Kind: models.HoursOfLocation, ID: id} }

// Schedule is an owner's working hours and buffers.
type Schedule struct {
	Owner Owner
	// Set is false when no hours were ever saved (or they were cleared):
	// Hours is then closed every day and Buffer zero.
	Set       bool
	Hours     slots.Hours
	Buffer    slots.Buffer
	UpdatedAt time.Time
}

// ScheduleInput is a schedule as an admin or the API saves it. Field names
// in models.FieldErrors: weekly.<day>[i], exceptions[i].<field>,
// buffer_before_minutes, buffer_after_minutes.
type ScheduleInput struct {
	Hours               slots.Hours
	BufferBeforeMinutes int
	BufferAfterMinutes  int
}

// Service stores schedules and finds free times. It is safe for concurrent
// use.
type Service struct {
	store *models.Store
	now   func() time.Time
}

// Options are the Service's collaborators.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New returns a Service on store.
func New(store *models.Store, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: store, now: o.Now}
}

// checkOwner returns ErrNotFound (wrapped) unless the owner exists.
func (s *Service) checkOwner(ctx context.Context, o Owner) error {
	switch o.Kind {
	case models.HoursOfProvider:
		_, err := s.store.Provider(ctx, o.ID)
		return err
	case models.HoursOfLocation:
		_, err := s.store.Location(ctx, o.ID)
		return err
	}
	return fmt.Errorf("availability: unknown owner %q", o.Kind)
}

// Schedule returns the owner's schedule (Set false when none is saved), or
// models.ErrNotFound when the provider or location does not exist.
func (s *Service) Schedule(ctx context.Context, o Owner) (*Schedule, error) {
	if err := s.checkOwner(ctx, o); err != nil {
		return nil, fmt.Errorf("availability: schedule: %w", err)
	}
	sc, err := s.schedule(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("availability: schedule: %w", err)
	}
	return sc, nil
}

// schedule reads the owner's stored schedule without checking the owner.
func (s *Service) schedule(ctx context.Context, o Owner) (*Schedule, error) {
	row, err := s.store.WorkingHoursOf(ctx, o.Kind, o.ID)
	if errors.Is(err, models.ErrNotFound) {
		return &Schedule{Owner: o}, nil
	}
	if err != nil {
		return nil, err
	}
	return decode(o, row)
}

// decode turns a stored row into a Schedule.
func decode(o Owner, row *models.WorkingHours) (*Schedule, error) {
	sc := &Schedule{Owner: o, Set: true, UpdatedAt: row.UpdatedAt, Buffer: slots.Buffer{
		Before: time.Duration(row.BufferBeforeMinutes) * time.Minute,
		After:  time.Duration(row.BufferAfterMinutes) * time.Minute,
	}}
	if err := json.Unmarshal([]byte(row.Weekly), &sc.Hours.Weekly); err != nil {
		return nil, fmt.Errorf("stored weekly hours of %s %d: %w", o.Kind, o.ID, err)
	}
	if err := json.Unmarshal([]byte(row.Exceptions), &sc.Hours.Exceptions); err != nil {
		return nil, fmt.Errorf("stored exceptions of %s %d: %w", o.Kind, o.ID, err)
	}
	return sc, nil
}

// validate checks in; the errors name the fields.
func (in ScheduleInput) validate() error {
	fe := models.FieldErrors{}
	if err := in.Hours.Validate(); err != nil {
		var sfe *slots.FieldError
		if errors.As(err, &sfe) {
			fe.Add(sfe.Field, sfe.Err.Error())
		} else {
			fe.Add("hours", err.Error())
		}
	}
	for field, m := range map[string]int{"buffer_before_minutes": in.BufferBeforeMinutes, "buffer_after_minutes": in.BufferAfterMinutes} {
		if m < 0 || m > MaxBufferMinutes {
			fe.Add(field, fmt.Sprintf("must be 0 to %d minutes", MaxBufferMinutes))
		}
	}
	return fe.Err()
}

// SaveSchedule replaces the owner's schedule, audited as actor's change.
// Bad input is models.FieldErrors; a missing owner models.ErrNotFound.
// Saving does not move existing appointments: the booking form and the
// finder read the new hours from now on.
func (s *Service) SaveSchedule(ctx context.Context, actor models.Actor, o Owner, in ScheduleInput) (*Schedule, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	weekly, err := json.Marshal(in.Hours.Weekly)
	if err != nil {
		return nil, fmt.Errorf("availability: save schedule: %w", err)
	}
	exceptions := []slots.Exception{}
	exceptions = append(exceptions, in.Hours.Exceptions...)
	exJSON, err := json.Marshal(exceptions)
	if err != nil {
		return nil, fmt.Errorf("availability: save schedule: %w", err)
	}
	now := models.DBTime(s.now())
	var out *Schedule
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		if err := s.checkOwner(ctx, o); err != nil {
			return err
		}
		row := models.WorkingHours{
			OwnerKind: o.Kind, OwnerID: o.ID, Weekly: string(weekly), Exceptions: string(exJSON),
			BufferBeforeMinutes: in.BufferBeforeMinutes, BufferAfterMinutes: in.BufferAfterMinutes,
			CreatedAt: now, UpdatedAt: now,
		}
		if err := s.store.SaveWorkingHours(ctx, &row); err != nil {
			return err
		}
		if out, err = decode(o, &row); err != nil {
			return err
		}
		return s.store.Audit(ctx, now, actor, o.Kind+".hours", o.Kind, o.ID, describe(out))
	})
	if err != nil {
		if errors.As(err, new(models.FieldErrors)) {
			return nil, err
		}
		return nil, fmt.Errorf("availability: save schedule: %w", err)
	}
	return out, nil
}

// ClearSchedule removes the owner's schedule (the owner then has no hours
// set), audited as actor's change. Clearing what is not set changes
// nothing and is not audited.
func (s *Service) ClearSchedule(ctx context.Context, actor models.Actor, o Owner) error {
	now := models.DBTime(s.now())
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		if err := s.checkOwner(ctx, o); err != nil {
			return err
		}
		had, err := s.store.DeleteWorkingHours(ctx, o.Kind, o.ID)
		if err != nil || !had {
			return err
		}
		return s.store.Audit(ctx, now, actor, o.Kind+".hours", o.Kind, o.ID, "working hours cleared")
	})
	if err != nil {
		return fmt.Errorf("availability: clear schedule: %w", err)
	}
	return nil
}

// describe is a schedule's one-line audit detail.
func describe(sc *Schedule) string {
	week := strings.ReplaceAll(sc.Hours.Weekly.String(), "\n", "; ")
	if week == "" {
		week = "closed every day"
	}
	return fmt.Sprintf("%s; %d exception(s); buffers %s before, %s after",
		week, len(sc.Hours.Exceptions), sc.Buffer.Before, sc.Buffer.After)
}

// Slot is what an appointment needs: a place, optionally a provider, and a
// length. ExceptID is an appointment to leave out of the busy time (the
// one being moved, so that it does not stand in its own way).
type Slot struct {
	LocationID uint
	ProviderID *uint
	Duration   time.Duration
	ExceptID   uint
}

// SlotOf is the slot appointment a takes, leaving a itself out.
func SlotOf(a *models.Appointment) Slot {
	return Slot{
		LocationID: a.LocationID, ProviderID: a.ProviderID,
		Duration: time.Duration(a.DurationMinutes) * time.Minute, ExceptID: a.ID,
	}
}

// plan is everything the finder needs about a slot, read once.
type plan struct {
	slot     Slot
	zone     *time.Location
	open     []slots.Hours
	buffer   slots.Buffer
	provider uint
}

// plan reads the slot's location, schedules and buffers.
func (s *Service) plan(ctx context.Context, sl Slot) (*plan, error) {
	fe := models.FieldErrors{}
	if sl.Duration <= 0 {
		fe.Add("duration", "must be positive")
	}
	loc, err := s.store.Location(ctx, sl.LocationID)
	if errors.Is(err, models.ErrNotFound) {
		fe.Add("location_id", "not found")
	} else if err != nil {
		return nil, err
	}
	p := &plan{slot: sl}
	var provSched *Schedule
	if sl.ProviderID != nil && *sl.ProviderID != 0 {
		p.provider = *sl.ProviderID
		if _, err := s.store.Provider(ctx, p.provider); errors.Is(err, models.ErrNotFound) {
			fe.Add("provider_id", "not found")
		} else if err != nil {
			return nil, err
		} else if provSched, err = s.schedule(ctx, ProviderOwner(p.provider)); err != nil {
			return nil, err
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	p.zone = loc.Zone()
	locSched, err := s.schedule(ctx, LocationOwner(loc.ID))
	if err != nil {
		return nil, err
	}
	if provSched != nil && provSched.Set {
		p.open = append(p.open, provSched.Hours)
		p.buffer = provSched.Buffer
	} else {
		p.buffer = locSched.Buffer
	}
	if locSched.Set {
		p.open = append(p.open, locSched.Hours)
	}
	return p, nil
}

// busy reads the busy time that could touch starts in [from, to).
func (s *Service) busy(ctx context.Context, p *plan, from, to time.Time) ([]slots.Busy, []models.Appointment, error) {
	pad := p.buffer.Before + p.buffer.After
	appts, err := s.store.BusyAppointments(ctx, models.BusyFilter{
		ProviderID: p.provider, LocationID: p.slot.LocationID,
		From: from.Add(-pad - longestAppointment), To: to.Add(p.slot.Duration + pad),
		ExceptID: p.slot.ExceptID,
	})
	if err != nil {
		return nil, nil, err
	}
	out := make([]slots.Busy, len(appts))
	for i, a := range appts {
		out[i] = slots.Busy{Start: a.StartsAt, End: a.EndsAt(), Buffer: p.buffer}
	}
	return out, appts, nil
}

// Free returns up to limit free starts for sl at or after after (and never
// in the past), earliest first, in the location's zone, on a 15-minute
// grid of the location's wall clock. It looks up to a year ahead. Neither
// hours set is ErrNoHours; a bad slot or limit is models.FieldErrors.
func (s *Service) Free(ctx context.Context, sl Slot, after time.Time, limit int) ([]time.Time, error) {
	if limit < 1 || limit > MaxLimit {
		return nil, models.FieldErrors{"limit": fmt.Sprintf("must be 1 to %d", MaxLimit)}
	}
	p, err := s.plan(ctx, sl)
	if err != nil {
		return nil, wrapUnlessInput("availability: free", err)
	}
	if len(p.open) == 0 {
		return nil, ErrNoHours
	}
	if now := s.now(); after.Before(now) {
		after = now
	}
	var out []time.Time
	end := after.Add(slots.MaxDays * 24 * time.Hour)
	for from := after; from.Before(end) && len(out) < limit; from = from.Add(window) {
		to := from.Add(window)
		if to.After(end) {
			to = end
		}
		busy, _, err := s.busy(ctx, p, from, to)
		if err != nil {
			return nil, fmt.Errorf("availability: free: %w", err)
		}
		found, err := slots.Find(slots.Query{
			Open: p.open, Zone: p.zone, Busy: busy, Duration: sl.Duration, Buffer: p.buffer,
			After: from, Until: to, Limit: limit - len(out),
		})
		if err != nil {
			return nil, fmt.Errorf("availability: free: %w", err)
		}
		out = append(out, found...)
	}
	return out, nil
}

// FreeFor is Free for appointment id's provider, location and length,
// leaving the appointment itself out of the busy time.
func (s *Service) FreeFor(ctx context.Context, id uint, after time.Time, limit int) ([]time.Time, error) {
	a, err := s.store.Appointment(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("availability: free: %w", err)
	}
	return s.Free(ctx, SlotOf(a), after, limit)
}

// Verdict is what Check found about one start.
type Verdict struct {
	// Free is true when the start is inside the hours (or no hours are
	// set) and overlaps no other appointment.
	Free bool `json:"free"`
	// HoursSet is false when neither the provider nor the location has
	// hours set: OutsideHours is then false.
	HoursSet bool `json:"hours_set"`
	// OutsideHours is true when some of the appointment falls outside the
	// working hours (or on a wall-clock time a daylight-saving change
	// skips or repeats).
	OutsideHours bool `json:"outside_hours"`
	// Conflicts are the appointments it would overlap, buffers included,
	// by start (without their relations).
	Conflicts []models.Appointment `json:"-"`
}

// Check says whether sl could start at start. Called inside a transaction
// it first locks the provider's row (or, without a provider, the
// location's) until the transaction ends, so that two transactions that
// check and then book the same provider's time take turns: check and save
// in one transaction, and no other such transaction books the time in
// between. A bad slot is models.FieldErrors.
func (s *Service) Check(ctx context.Context, sl Slot, start time.Time) (Verdict, error) {
	if s.store.InTx(ctx) {
		var err error
		if sl.ProviderID != nil && *sl.ProviderID != 0 {
			_, err = s.store.LockProvider(ctx, *sl.ProviderID)
		} else {
			_, err = s.store.LockLocation(ctx, sl.LocationID)
		}
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return Verdict{}, fmt.Errorf("availability: check: %w", err)
		}
	}
	p, err := s.plan(ctx, sl)
	if err != nil {
		return Verdict{}, wrapUnlessInput("availability: check", err)
	}
	v := Verdict{HoursSet: len(p.open) > 0}
	if v.HoursSet {
		// Find on a one-minute grid from the minute of start, for a
		// length reaching to start's end: a start inside the hours comes
		// back as that minute.
		minute := start.Truncate(time.Minute)
		got, err := slots.Find(slots.Query{
			Open: p.open, Zone: p.zone, Duration: sl.Duration + start.Sub(minute), Step: time.Minute,
			After: minute, Until: minute.Add(time.Minute), Limit: 1,
		})
		if err != nil {
			return Verdict{}, fmt.Errorf("availability: check: %w", err)
		}
		v.OutsideHours = len(got) == 0
	}
	busy, appts, err := s.busy(ctx, p, start, start.Add(time.Nanosecond))
	if err != nil {
		return Verdict{}, fmt.Errorf("availability: check: %w", err)
	}
	for _, i := range slots.Conflicts(busy, start, sl.Duration, p.buffer) {
		v.Conflicts = append(v.Conflicts, appts[i])
	}
	v.Free = !v.OutsideHours && len(v.Conflicts) == 0
	return v, nil
}

// CheckFor is Check for appointment id moved to start (its own time left
// out).
func (s *Service) CheckFor(ctx context.Context, id uint, start time.Time) (Verdict, error) {
	a, err := s.store.Appointment(ctx, id)
	if err != nil {
		return Verdict{}, fmt.Errorf("availability: check: %w", err)
	}
	return s.Check(ctx, SlotOf(a), start)
}

// wrapUnlessInput wraps err with op unless it is models.FieldErrors, which
// the edges show field by field.
func wrapUnlessInput(op string, err error) error {
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		return fe
	}
	return fmt.Errorf("%s: %w", op, err)
}
