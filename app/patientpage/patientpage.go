// Package patientpage is the patient's own page of an appointment,
// reached by the signed short link /a/{token} that texts carry with
// {link}: what the page shows, and the patient's actions on it (confirm,
// cancel, ask for another time, pick an offered time), each audited as the
// patient's and idempotent, so that a double tap or a resent form changes
// nothing more.
//
// Reading the page changes nothing about the appointment: link previews
// and mail scanners open links. It only records, at most once in
// openEvery, that the page was opened, as a signal on the timeline.
package patientpage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"apptconfirm/app/ical"
	"apptconfirm/app/patientlink"
	"apptconfirm/app/reschedule"
	"apptconfirm/models"
)

// Grace is how long after its end an appointment's link keeps working.
const Grace = 24 * time.Hour

// NoShowGrace is how long after its end the link of a missed appointment
// keeps working: the no-show follow-up carries it, and staff may mark the
// visit a few days late.
const NoShowGrace = 7 * 24 * time.Hour

// openEvery is how often an opening of the page is recorded at most.
const openEvery = 30 * time.Minute

// openedDetail is the timeline's words for an opening of the page.
const openedDetail = "Patient page opened (a link preview opens it too)"

// Source is the source actions on the page are recorded with.
const Source = "link"

// ErrGone is the answer for a token that is not valid, or whose
// appointment is over, or whose patient was erased.
var ErrGone = errors.New("patientpage: the link is not valid or has expired")

// Clinic changes an appointment's state; *clinic.Service implements it.
type Clinic interface {
	Confirm(ctx context.Context, actor models.Actor, id uint, source string) (*models.Appointment, error)
	Cancel(ctx context.Context, actor models.Actor, id uint, reason string) (*models.Appointment, error)
}

// Reschedule handles requests for another time and picks of offered
// times; *reschedule.Service implements it.
type Reschedule interface {
	Request(ctx context.Context, actor models.Actor, id uint, source string) (*models.Appointment, error)
	Open(ctx context.Context, appointmentID uint) (*models.RescheduleOffer, error)
	Pick(ctx context.Context, actor models.Actor, id uint, n int) (reschedule.Outcome, error)
}

// Options are the Service's collaborators.
type Options struct {
	// ClinicName names the clinic in calendar entries.
	ClinicName string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service serves the patient page. It is safe for concurrent use.
type Service struct {
	store      *models.Store
	links      *patientlink.Links
	clinic     Clinic
	reschedule Reschedule
	opts       Options
}

// New returns the page's service.
func New(store *models.Store, links *patientlink.Links, c Clinic, r Reschedule, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: store, links: links, clinic: c, reschedule: r, opts: o}
}

// View is what the page shows.
type View struct {
	Token       string
	Appointment *models.Appointment
	// Offer is the open offer of other times, nil when there is none.
	Offer *models.RescheduleOffer
	// Times are the offer's times, in order (the patient picks by number).
	Times []time.Time
}

// CanConfirm reports whether the patient may confirm.
func (v *View) CanConfirm() bool {
	s := v.Appointment.Status
	return s == models.Scheduled || s == models.RescheduleRequested
}

// CanCancel reports whether the patient may cancel.
func (v *View) CanCancel() bool { return v.Appointment.Status.Holds() }

// CanAsk reports whether the patient may ask for another time.
func (v *View) CanAsk() bool { return v.Appointment.Status.Active() }

// appointment reads the appointment token names, or ErrGone.
func (s *Service) appointment(ctx context.Context, token string) (*models.Appointment, error) {
	id, ok := s.links.Parse(token)
	if !ok {
		return nil, ErrGone
	}
	a, err := s.store.Appointment(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrGone
	}
	if err != nil {
		return nil, fmt.Errorf("patientpage: %w", err)
	}
	grace := Grace
	if a.Status == models.NoShow {
		grace = NoShowGrace
	}
	if a.Patient == nil || a.Patient.ErasedAt != nil || s.opts.Now().After(a.EndsAt().Add(grace)) {
		return nil, ErrGone
	}
	return a, nil
}

// View reads the page of token, or ErrGone. It changes nothing.
func (s *Service) View(ctx context.Context, token string) (*View, error) {
	a, err := s.appointment(ctx, token)
	if err != nil {
		return nil, err
	}
	v := &View{Token: token, Appointment: a}
	if a.Status == models.RescheduleRequested && s.reschedule != nil {
		o, err := s.reschedule.Open(ctx, a.ID)
		switch {
		case err == nil:
			v.Offer, v.Times = o, o.Times()
		case !errors.Is(err, models.ErrNotFound):
			return nil, fmt.Errorf("patientpage: %w", err)
		}
	}
	return v, nil
}

// Opened records that the page of appointment id was opened: a timeline
// entry and a signal, unless one was recorded in the last openEvery.
func (s *Service) Opened(ctx context.Context, id uint) error {
	now := models.DBTime(s.opts.Now())
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		seen, err := s.store.TimelineSince(ctx, id, models.TimelineOpen, openedDetail, now.Add(-openEvery))
		if err != nil || seen {
			return err
		}
		a, err := s.store.Appointment(ctx, id)
		if err != nil {
			return err
		}
		err = s.store.AddTimeline(ctx, models.TimelineEntry{AppointmentID: id, At: now, Kind: models.TimelineOpen, Detail: openedDetail})
		if err != nil {
			return err
		}
		return s.store.Record(ctx, models.Event{
			At: now, Type: models.EventAppointmentSignal, AppointmentID: id, PatientID: a.PatientID,
			Source: models.TimelineOpen, Detail: openedDetail,
		})
	})
	if err != nil {
		return fmt.Errorf("patientpage: opened: %w", err)
	}
	return nil
}

// Result says what an action did.
type Result string

// The results of the page's actions.
const (
	Confirmed Result = "confirmed"
	Cancelled Result = "cancelled"
	Requested Result = "requested"
	Moved     Result = "moved"
	Taken     Result = "taken"
	// Refused: the appointment's state does not allow the action (it was
	// cancelled or is over); nothing changed.
	Refused Result = "refused"
)

// Confirm confirms the appointment as the patient. Confirming a confirmed
// appointment changes nothing.
func (s *Service) Confirm(ctx context.Context, token string) (Result, error) {
	a, err := s.appointment(ctx, token)
	if err != nil {
		return "", err
	}
	if a.Status == models.Confirmed {
		return Confirmed, nil
	}
	return s.act(Confirmed, func() error {
		_, err := s.clinic.Confirm(ctx, models.PatientActor(), a.ID, Source)
		return err
	})
}

// Cancel cancels the appointment as the patient. Cancelling a cancelled
// appointment changes nothing.
func (s *Service) Cancel(ctx context.Context, token string) (Result, error) {
	a, err := s.appointment(ctx, token)
	if err != nil {
		return "", err
	}
	if a.Status == models.Cancelled {
		return Cancelled, nil
	}
	return s.act(Cancelled, func() error {
		_, err := s.clinic.Cancel(ctx, models.PatientActor(), a.ID, "on the patient page")
		return err
	})
}

// Ask records that the patient wants another time (see
// reschedule.Service.Request). Asking again changes nothing.
func (s *Service) Ask(ctx context.Context, token string) (Result, error) {
	a, err := s.appointment(ctx, token)
	if err != nil {
		return "", err
	}
	if s.reschedule == nil {
		return Refused, nil
	}
	return s.act(Requested, func() error {
		_, err := s.reschedule.Request(ctx, models.PatientActor(), a.ID, Source)
		return err
	})
}

// Pick moves the appointment to offered time n (1-based) of its open
// offer, if still free (see reschedule.Service.Pick).
func (s *Service) Pick(ctx context.Context, token string, n int) (Result, error) {
	a, err := s.appointment(ctx, token)
	if err != nil {
		return "", err
	}
	if s.reschedule == nil || a.Status != models.RescheduleRequested {
		return Refused, nil
	}
	out, err := s.reschedule.Pick(ctx, models.PatientActor(), a.ID, n)
	if err != nil {
		var bt *models.ErrBadTransition
		if errors.As(err, &bt) || errors.Is(err, models.ErrNotFound) || errors.As(err, new(models.FieldErrors)) {
			return Refused, nil
		}
		return "", fmt.Errorf("patientpage: pick: %w", err)
	}
	if out.Moved {
		return Moved, nil
	}
	return Taken, nil
}

// act runs do and maps a refused state change onto Refused.
func (s *Service) act(ok Result, do func() error) (Result, error) {
	err := do()
	var bt *models.ErrBadTransition
	switch {
	case err == nil:
		return ok, nil
	case errors.As(err, &bt), errors.Is(err, models.ErrConflict):
		return Refused, nil
	}
	return "", fmt.Errorf("patientpage: %w", err)
}

// Calendar writes the appointment as an iCalendar file for "Add to
// calendar".
func (s *Service) Calendar(ctx context.Context, token string) ([]byte, error) {
	a, err := s.appointment(ctx, token)
	if err != nil {
		return nil, err
	}
	ev := ical.Event{
		UID:   fmt.Sprintf("appointment-%d@apptconfirm", a.ID),
		Start: a.StartsAt, End: a.EndsAt(),
		Summary:      s.opts.ClinicName,
		Location:     a.Location.Name,
		LastModified: a.UpdatedAt,
	}
	if ev.Summary == "" {
		ev.Summary = a.Location.Name
	}
	if a.Location.Address != "" {
		ev.Location += ", " + a.Location.Address
	}
	if a.Provider != nil {
		ev.Description = a.Provider.Name
	}
	if a.Status == models.Cancelled {
		ev.Status = ical.StatusCancelled
	}
	var buf bytes.Buffer
	if err := ical.WriteEvent(&buf, ical.Calendar{Stamp: s.opts.Now()}, ev); err != nil {
		return nil, fmt.Errorf("patientpage: calendar: %w", err)
	}
	return buf.Bytes(), nil
}
