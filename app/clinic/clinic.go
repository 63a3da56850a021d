// Package clinic is apptconfirm's business layer for the clinic's own data:
// patients, appointments and their state machine, locations, providers,
// users, the audit log and first-start defaults. It speaks no HTTP: the web
// UI and the REST API convert their input into the plain structs here, call
// one method, and map what comes back (models.FieldErrors, models.ErrNotFound,
// models.ErrConflict, *models.ErrBadTransition) onto a status at the edge.
//
// Every write runs in one transaction together with its audit row and, for
// appointments, its timeline row and the replanning of its messages: a
// failure anywhere leaves nothing behind.
package clinic

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"apptconfirm/models"
)

// Planner keeps an appointment's outbound messages in line with it, inside
// the caller's transaction (the context carries it); app/outbox implements
// it. Each method replans the appointment as of now: an appointment no
// longer active has its pending messages cancelled.
type Planner interface {
	// Replan replans after any change.
	Replan(ctx context.Context, appointmentID uint, now time.Time) error
	// Booked replans a new booking and queues its booking confirmation
	// when the clinic sends one.
	Booked(ctx context.Context, appointmentID uint, now time.Time) error
	// Cancelled replans a cancelled appointment and, when notify is set
	// and the clinic sends one, queues the cancellation notice.
	Cancelled(ctx context.Context, appointmentID uint, now time.Time, notify bool) error
	// Rescheduled replans an appointment moved to another time or place
	// and, when notify is set and the clinic sends one, queues the
	// reschedule notice.
	Rescheduled(ctx context.Context, appointmentID uint, now time.Time, notify bool) error
	// CancelForPatient cancels every planned message to a patient who
	// opted out (opt-out acknowledgements excepted) and returns how many.
	CancelForPatient(ctx context.Context, patientID uint, reason string, now time.Time) (int64, error)
}

// PasswordHasher turns a password into a hash for storage; the auth package
// implements it with bcrypt or argon2id.
type PasswordHasher interface {
	Hash(pw string) (string, error)
}

// Fallbacks when no default location exists yet.
const (
	fallbackCountry = "US"
	fallbackZone    = "UTC"
)

// Service is the clinic's business layer. It is safe for concurrent use.
type Service struct {
	store   *models.Store
	planner Planner
	hasher  PasswordHasher
	slots   SlotChecker
	now     func() time.Time
	// language is a new patient's language when none is given.
	language string
}

// Options are the Service's collaborators; each may be nil.
type Options struct {
	// Planner replans an appointment's messages after every change; nil
	// plans nothing.
	Planner Planner
	// Hasher hashes user passwords; without one, creating a user or
	// changing a password fails with ErrNoHasher.
	Hasher PasswordHasher
	// Slots checks the booking form's times (AppointmentInput.CheckSlot);
	// nil checks nothing.
	Slots SlotChecker
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Language is the clinic's language (config clinic.language): a new
	// patient's when none is given. Empty means "en".
	Language string
}

// New returns a Service on store.
func New(store *models.Store, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Language == "" {
		o.Language = "en"
	}
	return &Service{store: store, planner: o.Planner, hasher: o.Hasher, slots: o.Slots, now: o.Now, language: o.Language}
}

// clock returns the current time in UTC at the database's precision.
func (s *Service) clock() time.Time { return models.DBTime(s.now()) }

// newBookingPlanner is a Planner that plans an appointment created just
// now from the appointment as written, without reading it back.
type newBookingPlanner interface {
	BookedNew(ctx context.Context, a *models.Appointment, now time.Time) error
}

// booked plans the appointment a, created just now in the transaction ctx
// carries, as stored, with its Patient, Location, Provider and type.
func (s *Service) booked(ctx context.Context, a *models.Appointment, now time.Time) error {
	if s.planner == nil {
		return nil
	}
	var err error
	if bp, ok := s.planner.(newBookingPlanner); ok {
		// A copy: the planner's reads must not change what is returned.
		cp := *a
		err = bp.BookedNew(ctx, &cp, now)
	} else {
		err = s.planner.Booked(ctx, a.ID, now)
	}
	if err != nil {
		return fmt.Errorf("replan appointment %d: %w", a.ID, err)
	}
	return nil
}

// replan replans appointment id inside the transaction ctx carries.
func (s *Service) replan(ctx context.Context, id uint, now time.Time) error {
	if s.planner == nil {
		return nil
	}
	if err := s.planner.Replan(ctx, id, now); err != nil {
		return fmt.Errorf("replan appointment %d: %w", id, err)
	}
	return nil
}

// Audit entity names.
const (
	EntityAppointment = "appointment"
	EntityPatient     = "patient"
	EntityLocation    = "location"
	EntityProvider    = "provider"
	EntityUser        = "user"
	EntitySetting     = "setting"
	EntityRule        = "reminder_rule"
	EntityTemplate    = "message_template"
	EntityAPIToken    = "api_token"
)

// checkText validates free text: at most max runes, valid UTF-8, and no
// control characters other than newlines and tabs when multiline is set.
// It returns a message for models.FieldErrors, or "".
func checkText(s string, maxRunes int, multiline bool) string {
	if !utf8.ValidString(s) {
		return "is not valid text"
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return fmt.Sprintf("must be at most %d characters (got %d)", maxRunes, n)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "must not contain control characters"
		}
	}
	return ""
}

// checkName validates a required one-line name.
func checkName(s string, maxRunes int) string {
	if s == "" {
		return "required"
	}
	return checkText(s, maxRunes, false)
}

// Paging defaults and limits.
const (
	DefaultPerPage = 50
	MaxPerPage     = 200
)

// paging validates page and perPage (0 means the default) and returns the
// offset and limit.
func paging(fe models.FieldErrors, page, perPage int) (offset, limit int) {
	if page < 0 {
		fe.Add("page", "must be 1 or more")
	}
	if page == 0 {
		page = 1
	}
	switch {
	case perPage == 0:
		perPage = DefaultPerPage
	case perPage < 0 || perPage > MaxPerPage:
		fe.Add("per_page", fmt.Sprintf("must be 1 to %d", MaxPerPage))
		perPage = DefaultPerPage
	}
	const maxPage = 1_000_000
	if page > maxPage {
		fe.Add("page", fmt.Sprintf("must be at most %d", maxPage))
		page = 1
	}
	return (page - 1) * perPage, perPage
}

// fieldIfNotFound turns a missing referenced row into a models.FieldErrors entry
// and passes any other error through.
func fieldIfNotFound(err error, fe models.FieldErrors, field string) error {
	if errors.Is(err, models.ErrNotFound) {
		fe.Add(field, "not found")
		return nil
	}
	return err
}

// On returns a Service like s that works on store, with planner planning
// its messages (the Service's other collaborators kept, but no slot
// checks: slots are read from s's database). It is for work on a private
// copy of the database, such as an import's preview (models.PrivateCopy).
func (s *Service) On(store *models.Store, planner Planner) *Service {
	c := *s
	c.store, c.planner, c.slots = store, planner, nil
	return &c
}
