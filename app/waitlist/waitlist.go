// Package waitlist fills freed times from a waitlist. Staff and the API put
// patients on the list for a provider, a location or a type of visit, on
// the days and hours that suit them. When an appointment is cancelled or
// moved away, app/clinic records the freed time (a models.WaitlistSlot) in
// the same transaction; RunDue, a recurring job, offers it by SMS to the
// best-placed waitlisted patients a batch at a time, and asks the next
// batch when an offer's time runs out. The first YES books the time
// (Take), exactly once whatever the number of instances: the slot's row is
// locked and moved from open to filled by a conditional update, and a
// unique index allows one taken offer per slot. Later YES get an apology
// and stay on the list. A patient who already holds a later appointment
// with the same provider at the same location is moved, not booked twice.
//
// See docs/waitlist.md.
package waitlist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// Defaults of Options.
const (
	DefaultMinNotice = 3 * time.Hour
	DefaultBatch     = 3
	DefaultOfferTTL  = 30 * time.Minute
)

// MaxNotes is the longest note on an entry, in characters.
const MaxNotes = 500

// dueLimit is how many freed times one run of RunDue handles.
const dueLimit = 50

// Clinic books and moves appointments; *clinic.Service implements it.
// Each method joins the transaction ctx carries.
type Clinic interface {
	CreateAppointment(ctx context.Context, actor models.Actor, in clinic.AppointmentInput) (*models.Appointment, error)
	UpdateAppointment(ctx context.Context, actor models.Actor, id uint, in clinic.AppointmentInput) (*models.Appointment, error)
}

// Options configure a Service.
type Options struct {
	// MinNotice is how far ahead a freed time must start to be offered;
	// 0 means DefaultMinNotice.
	MinNotice time.Duration
	// Batch is how many patients are asked at a time; 0 means
	// DefaultBatch.
	Batch int
	// OfferTTL is how long a batch has to answer before the next is asked;
	// 0 means DefaultOfferTTL.
	OfferTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger logs what a run did; nil means slog.Default().
	Logger *slog.Logger
}

// Service manages the waitlist and its offers. It is safe for concurrent
// use.
type Service struct {
	store  *models.Store
	clinic Clinic
	outbox *outbox.Outbox
	opts   Options
}

// New returns a Service on store.
func New(store *models.Store, c Clinic, ob *outbox.Outbox, o Options) *Service {
	if o.MinNotice <= 0 {
		o.MinNotice = DefaultMinNotice
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.OfferTTL <= 0 {
		o.OfferTTL = DefaultOfferTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{store: store, clinic: c, outbox: ob, opts: o}
}

func (s *Service) clock() time.Time { return models.DBTime(s.opts.Now()) }

// weekdays are the values of EntryInput.Days, Sunday first as
// time.Weekday counts.
var weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// DayNames are the weekdays as staff read them, in the order of weekdays.
var DayNames = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// Weekdays returns the accepted values of EntryInput.Days, Monday first.
func Weekdays() []string {
	return []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
}

// EntryInput is a waitlist entry as staff or the API enter it. Field
// names in models.FieldErrors: patient_id, provider_id, location_id,
// appointment_type_id, days, from, until, notes.
type EntryInput struct {
	PatientID uint
	// ProviderID, LocationID and AppointmentTypeID narrow the times
	// offered; nil means any.
	ProviderID, LocationID, AppointmentTypeID *uint
	// Days are the weekdays that suit ("mon" ... "sun", any case); none
	// means any day.
	Days []string
	// From and Until are the local "HH:MM" bounds of the starts that suit
	// (Until excluded); empty means from the start or to the end of the
	// day.
	From, Until string
	Notes       string
}

// validate checks in and returns the entry it describes (without its
// patient's checks, which need the store).
func (in EntryInput) validate() (models.WaitlistEntry, models.FieldErrors) {
	fe := models.FieldErrors{}
	e := models.WaitlistEntry{
		PatientID: in.PatientID, ProviderID: in.ProviderID, LocationID: in.LocationID,
		AppointmentTypeID: in.AppointmentTypeID, Status: models.WaitlistActive,
	}
	if in.PatientID == 0 {
		fe.Add("patient_id", "required")
	}
	var days []string
	seen := map[string]bool{}
	for _, d := range in.Days {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if dayIndex(d) < 0 {
			fe.Add("days", fmt.Sprintf("%q is not a weekday; use mon, tue, wed, thu, fri, sat or sun", clip(d, 20)))
			continue
		}
		if !seen[d] {
			seen[d] = true
			days = append(days, d)
		}
	}
	if len(days) < 7 {
		// In week order, so that equal choices read alike.
		var ordered []string
		for _, d := range Weekdays() {
			if seen[d] {
				ordered = append(ordered, d)
			}
		}
		e.Days = strings.Join(ordered, " ")
	}
	from, fromOK := checkClock(in.From, "from", fe)
	until, untilOK := checkClock(in.Until, "until", fe)
	if fromOK && untilOK && from != "" && until != "" && until <= from {
		fe.Add("until", "must be after from ("+from+")")
	}
	e.FromTime, e.UntilTime = from, until
	notes := strings.TrimSpace(in.Notes)
	if utf8.RuneCountInString(notes) > MaxNotes {
		fe.Add("notes", fmt.Sprintf("at most %d characters", MaxNotes))
	} else if !utf8.ValidString(notes) || strings.ContainsRune(notes, 0) {
		fe.Add("notes", "contains characters that are not text")
	}
	e.Notes = notes
	return e, fe
}

// checkClock reads an optional "HH:MM" field and returns it as "HH:MM".
func checkClock(v, field string, fe models.FieldErrors) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", true
	}
	c, err := schedule.ParseClock(v)
	if err != nil {
		fe.Add(field, fmt.Sprintf("%q is not a time of day; use HH:MM, such as 09:00", clip(v, 20)))
		return "", false
	}
	return c.String(), true
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func dayIndex(d string) int {
	for i, w := range weekdays {
		if w == d {
			return i
		}
	}
	return -1
}

// Add puts a patient on the waitlist, as actor. The patient must exist,
// be reachable by SMS and not already wait for the same provider,
// location and type; the provider and location must exist.
func (s *Service) Add(ctx context.Context, actor models.Actor, in EntryInput) (*models.WaitlistEntry, error) {
	e, fe := in.validate()
	now := s.clock()
	var out *models.WaitlistEntry
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		var p *models.Patient
		if in.PatientID != 0 {
			var err error
			p, err = s.store.Patient(ctx, in.PatientID)
			switch {
			case errors.Is(err, models.ErrNotFound):
				fe.Add("patient_id", "no such patient")
			case err != nil:
				return err
			case p.ErasedAt != nil:
				fe.Add("patient_id", "no such patient")
			case p.OptedOut():
				fe.Add("patient_id", "has opted out of SMS and cannot be offered times; call them instead")
			}
		}
		if in.ProviderID != nil {
			if _, err := s.store.Provider(ctx, *in.ProviderID); errors.Is(err, models.ErrNotFound) {
				fe.Add("provider_id", "no such provider")
			} else if err != nil {
				return err
			}
		}
		if in.LocationID != nil {
			if _, err := s.store.Location(ctx, *in.LocationID); errors.Is(err, models.ErrNotFound) {
				fe.Add("location_id", "no such location")
			} else if err != nil {
				return err
			}
		}
		if in.AppointmentTypeID != nil {
			if _, err := s.store.AppointmentType(ctx, *in.AppointmentTypeID); errors.Is(err, models.ErrNotFound) {
				fe.Add("appointment_type_id", "no such appointment type")
			} else if err != nil {
				return err
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		same, _, err := s.store.WaitlistEntries(ctx, models.WaitlistFilter{
			PatientID: in.PatientID, Statuses: []models.WaitlistStatus{models.WaitlistActive}, Limit: 1000,
		})
		if err != nil {
			return err
		}
		for _, o := range same {
			if sameID(o.ProviderID, e.ProviderID) && sameID(o.LocationID, e.LocationID) && sameID(o.AppointmentTypeID, e.AppointmentTypeID) {
				return models.FieldErrors{"patient_id": fmt.Sprintf("is already on the waitlist for this (entry %d); change or remove that one", o.ID)}
			}
		}
		e.CreatedByID, e.CreatedAt, e.UpdatedAt = actor.UserID, now, now
		if err := s.store.CreateWaitlistEntry(ctx, &e); err != nil {
			return err
		}
		if err := s.store.Audit(ctx, now, actor, "waitlist.add", clinic.EntityPatient, e.PatientID,
			fmt.Sprintf("Waitlist entry %d: %s", e.ID, s.describe(ctx, &e))); err != nil {
			return err
		}
		out, err = s.store.WaitlistEntry(ctx, e.ID)
		return err
	})
	if err != nil {
		return nil, wrapUnlessInput("waitlist: add", err)
	}
	return out, nil
}

// describe is an entry's wishes for the audit log.
func (s *Service) describe(ctx context.Context, e *models.WaitlistEntry) string {
	parts := []string{}
	if e.ProviderID != nil {
		if p, err := s.store.Provider(ctx, *e.ProviderID); err == nil {
			parts = append(parts, "with "+p.Name)
		}
	}
	if e.LocationID != nil {
		if l, err := s.store.Location(ctx, *e.LocationID); err == nil {
			parts = append(parts, "at "+l.Name)
		}
	}
	parts = append(parts, Suits(e))
	return strings.Join(parts, ", ")
}

// Suits says in words when an entry's patient can come: "any day, any
// time", "Mon, Wed from 09:00 until 12:00".
func Suits(e *models.WaitlistEntry) string {
	days := "any day"
	if e.Days != "" {
		var names []string
		for _, d := range strings.Fields(e.Days) {
			if i := dayIndex(d); i >= 0 {
				names = append(names, DayNames[i][:3])
			}
		}
		days = strings.Join(names, ", ")
	}
	switch {
	case e.FromTime != "" && e.UntilTime != "":
		return days + " from " + e.FromTime + " until " + e.UntilTime
	case e.FromTime != "":
		return days + " from " + e.FromTime
	case e.UntilTime != "":
		return days + " until " + e.UntilTime
	}
	return days + ", any time"
}

// Remove takes entry id off the waitlist, as actor, and expires its
// unanswered offers. An entry no longer active is a models.FieldErrors on
// "status".
func (s *Service) Remove(ctx context.Context, actor models.Actor, id uint) (*models.WaitlistEntry, error) {
	now := s.clock()
	var out *models.WaitlistEntry
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		e, err := s.store.WaitlistEntry(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.SetWaitlistEntryStatus(ctx, id, models.WaitlistRemoved, nil, now); errors.Is(err, models.ErrConflict) {
			return models.FieldErrors{"status": "is " + string(e.Status) + ", no longer on the waitlist"}
		} else if err != nil {
			return err
		}
		// An offer sent before the removal can no longer be taken.
		if _, err := s.store.ExpireWaitlistOffersOfEntry(ctx, id, now); err != nil {
			return err
		}
		if err := s.store.Audit(ctx, now, actor, "waitlist.remove", clinic.EntityPatient, e.PatientID,
			fmt.Sprintf("Waitlist entry %d removed", id)); err != nil {
			return err
		}
		out, err = s.store.WaitlistEntry(ctx, id)
		return err
	})
	if err != nil {
		return nil, wrapUnlessInput("waitlist: remove", err)
	}
	return out, nil
}

// Entry returns entry id, or models.ErrNotFound.
func (s *Service) Entry(ctx context.Context, id uint) (*models.WaitlistEntry, error) {
	e, err := s.store.WaitlistEntry(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("waitlist: %w", err)
	}
	return e, nil
}

// Entries returns the entries f selects, oldest first, and their total.
func (s *Service) Entries(ctx context.Context, f models.WaitlistFilter) ([]models.WaitlistEntry, int64, error) {
	out, n, err := s.store.WaitlistEntries(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("waitlist: %w", err)
	}
	return out, n, nil
}

// Offers returns the offers f selects, newest first.
func (s *Service) Offers(ctx context.Context, f models.WaitlistOfferFilter) ([]models.WaitlistOffer, error) {
	out, err := s.store.WaitlistOffers(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("waitlist: %w", err)
	}
	return out, nil
}

// Refilled counts the freed times filled from the waitlist whose start is
// in [from, to), at locationID (0: every location).
func (s *Service) Refilled(ctx context.Context, from, to time.Time, locationID uint) (int64, error) {
	n, err := s.store.RefilledSlots(ctx, from, to, locationID)
	if err != nil {
		return 0, fmt.Errorf("waitlist: %w", err)
	}
	return n, nil
}

func sameID(a, b *uint) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// wrapUnlessInput wraps err with op unless the edges show it as it is.
func wrapUnlessInput(op string, err error) error {
	var fe models.FieldErrors
	var bt *models.ErrBadTransition
	if errors.As(err, &fe) || errors.As(err, &bt) || errors.Is(err, models.ErrNotFound) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// EntryDays returns the weekdays an entry asked for ("mon" ... "sun"),
// none for any day.
func EntryDays(e *models.WaitlistEntry) []string {
	return strings.Fields(e.Days)
}
