// Package clinic is apptconfirm's business layer for the clinic's own data:
// patients, appointments and their state machine, locations, providers,
// users, the audit log and first-start defaults. It speaks no HTTP: the web
// UI and the REST API convert their input into the plain structs here, call
// one method, and map what comes back (FieldErrors, models.ErrNotFound,
// models.ErrConflict, *models.ErrBadTransition) onto a status at the edge.
//
// Every write runs in one transaction together with its audit row and, for
// appointments, its timeline row and the replanning of its messages
// (QUALITY D4): a failure anywhere leaves nothing behind.
package clinic

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"apptconfirm/models"
)

// FieldErrors maps a form/API field name to a message; it is the validation
// error type every method returns for bad input. Field names are the REST
// API's snake_case names ("starts_at", "phone", "email").
type FieldErrors map[string]string

// Error lists every field and its message, sorted by field:
// "invalid input: email: already in use; name: required".
func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("invalid input: ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(f[k])
	}
	return b.String()
}

// add records msg for field unless the field already has a message (the
// first problem found is the one worth telling).
func (f FieldErrors) add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// err returns f as an error, or nil when it holds nothing.
func (f FieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return f
}

// AsFieldErrors returns the FieldErrors inside err, if any.
func AsFieldErrors(err error) (FieldErrors, bool) {
	var fe FieldErrors
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}

// Actor is who makes a change (for audit + timeline).
type Actor struct {
	// UserID is the logged-in user, nil for the API, the system or a patient.
	UserID *uint
	// Name is what the audit log shows: a user's email, "api:<token name>",
	// "system" or "patient".
	Name string
}

// SystemActor is the actor for changes the application makes on its own.
func SystemActor() Actor { return Actor{Name: "system"} }

// PatientActor is the actor for changes a patient makes by SMS or link.
func PatientActor() Actor { return Actor{Name: "patient"} }

// label is the actor's name for audit and timeline text.
func (a Actor) label() string {
	if n := strings.TrimSpace(a.Name); n != "" {
		return n
	}
	return "system"
}

// timelineKind is the kind of timeline entry a change by a gets: staff
// actions by a logged-in user, everything else a system entry.
func (a Actor) timelineKind() string {
	if a.UserID != nil {
		return models.TimelineStaff
	}
	return models.TimelineSystem
}

// Planner replans an appointment's messages inside the same transaction;
// implemented elsewhere (reminders). It must cancel the pending messages of
// an appointment that is no longer active. nil = no planning.
type Planner interface {
	Replan(ctx context.Context, tx *models.Store, appointmentID uint, now time.Time) error
}

// PasswordHasher turns a password into a hash for storage; the auth package
// implements it with bcrypt or argon2id.
type PasswordHasher interface {
	Hash(pw string) (string, error)
}

// Fallbacks when no default location exists yet (PRODUCT.md 3a defaults).
const (
	fallbackCountry = "US"
	fallbackZone    = "UTC"
)

// Service is the clinic's business layer. It is safe for concurrent use.
type Service struct {
	store *models.Store
	now   func() time.Time

	mu      sync.RWMutex
	planner Planner
	hasher  PasswordHasher
}

// New returns a Service on store. planner may be nil (no planning) and set
// later with SetPlanner; now is the clock (nil means time.Now).
func New(store *models.Store, planner Planner, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, planner: planner, now: now}
}

// SetPlanner sets the planner called after every appointment change (for
// wiring where the planner itself needs the Service).
func (s *Service) SetPlanner(p Planner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.planner = p
}

// SetPasswordHasher sets the hasher used for user passwords. Without one,
// creating a user or changing a password fails.
func (s *Service) SetPasswordHasher(h PasswordHasher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hasher = h
}

func (s *Service) getPlanner() Planner {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.planner
}

func (s *Service) getHasher() PasswordHasher {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.hasher
}

// clock returns the current time in UTC at the database's precision.
func (s *Service) clock() time.Time { return dbTime(s.now()) }

// dbTime brings t to UTC and microseconds, the precision both databases keep.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// replan calls the planner, if any, inside tx.
func (s *Service) replan(ctx context.Context, tx *models.Store, appointmentID uint, now time.Time) error {
	p := s.getPlanner()
	if p == nil {
		return nil
	}
	if err := p.Replan(ctx, tx, appointmentID, now); err != nil {
		return fmt.Errorf("replan appointment %d: %w", appointmentID, err)
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
)

// RecordAudit writes one audit row in tx. Packages that change data outside
// this one use it too, so the audit log reads the same everywhere.
func RecordAudit(ctx context.Context, tx *models.Store, at time.Time, actor Actor, action, entity string, entityID uint, detail string) error {
	e := models.AuditEntry{
		At:       dbTime(at),
		UserID:   actor.UserID,
		Actor:    truncate(actor.label(), 254),
		Action:   truncate(action, 64),
		Entity:   truncate(entity, 32),
		EntityID: entityID,
		Detail:   truncate(detail, 1000),
	}
	if err := tx.DB(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("write audit: %w", models.Classify(err))
	}
	return nil
}

// RecordTimeline writes one timeline row in tx (At is brought to UTC and the
// detail cut to the column's size).
func RecordTimeline(ctx context.Context, tx *models.Store, e models.TimelineEntry) error {
	e.At = dbTime(e.At)
	e.Detail = truncate(e.Detail, 1000)
	if err := tx.DB(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("write timeline: %w", models.Classify(err))
	}
	return nil
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// checkText validates free text: at most max runes, valid UTF-8, and no
// control characters other than newlines and tabs when multiline is set.
// It returns a message for FieldErrors, or "".
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
func paging(fe FieldErrors, page, perPage int) (offset, limit int) {
	if page < 0 {
		fe.add("page", "must be 1 or more")
	}
	if page == 0 {
		page = 1
	}
	switch {
	case perPage == 0:
		perPage = DefaultPerPage
	case perPage < 0 || perPage > MaxPerPage:
		fe.add("per_page", fmt.Sprintf("must be 1 to %d", MaxPerPage))
		perPage = DefaultPerPage
	}
	const maxPage = 1_000_000
	if page > maxPage {
		fe.add("page", fmt.Sprintf("must be at most %d", maxPage))
		page = 1
	}
	return (page - 1) * perPage, perPage
}

// likeEscape escapes LIKE's wildcards so that user text matches literally
// (used with ESCAPE '\').
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// notFound wraps models.ErrNotFound with what was missing.
func notFound(what string, id uint) error {
	return fmt.Errorf("%s %d: %w", what, id, models.ErrNotFound)
}

// fieldIfNotFound turns a missing referenced row into a FieldErrors entry
// and passes any other error through.
func fieldIfNotFound(err error, fe FieldErrors, field string) error {
	if errors.Is(err, models.ErrNotFound) {
		fe.add(field, "not found")
		return nil
	}
	return err
}
