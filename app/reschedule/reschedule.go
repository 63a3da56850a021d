// Package reschedule turns a patient's "can we move it?" into a new time:
// the request (by SMS or on the patient page) puts the appointment into
// reschedule_requested and acknowledges it, staff (or the app itself, with
// auto offers) send up to three free times in one numbered SMS, and the
// patient's pick moves the appointment, if the time is still free, in one
// transaction. A time taken meanwhile gets an apology with fresh times.
//
// Every method joins the transaction its context carries (models.Store.Tx),
// so a reply handled inside a webhook's transaction lands with it or not
// at all.
package reschedule

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"apptconfirm/app/availability"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// Sources of a request for another time.
const (
	SourceSMS   = "sms"
	SourceLink  = "link"
	SourceStaff = "staff"
	SourceAPI   = "api"
)

// ErrNoOpenOffer is Pick's answer when the appointment has no open,
// unexpired offer (it expired, was picked from already, or was replaced).
var ErrNoOpenOffer = errors.New("reschedule: no open offer of new times")

// Clinic is what this package changes about appointments; *clinic.Service
// implements it.
type Clinic interface {
	RequestReschedule(ctx context.Context, actor models.Actor, id uint, source string) (*models.Appointment, bool, error)
	MoveToOffered(ctx context.Context, actor models.Actor, id uint, start time.Time, how string) (*models.Appointment, error)
}

// Finder finds and checks free times; *availability.Service implements it.
type Finder interface {
	FreeFor(ctx context.Context, appointmentID uint, after time.Time, limit int) ([]time.Time, error)
	CheckFor(ctx context.Context, appointmentID uint, start time.Time) (availability.Verdict, error)
}

// Options configure a Service.
type Options struct {
	// AutoOffer sends the finder's first times at once when a patient asks
	// by SMS, instead of the acknowledgement.
	AutoOffer bool
	// OfferTTL is how long an offer can be picked; 0 means 24 hours.
	OfferTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service handles requests for another time, offers and picks. It is safe
// for concurrent use.
type Service struct {
	store  *models.Store
	clinic Clinic
	outbox *outbox.Outbox
	finder Finder
	opts   Options
}

// New returns a Service on store.
func New(store *models.Store, c Clinic, ob *outbox.Outbox, f Finder, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OfferTTL <= 0 {
		o.OfferTTL = 24 * time.Hour
	}
	return &Service{store: store, clinic: c, outbox: ob, finder: f, opts: o}
}

func (s *Service) clock() time.Time { return models.DBTime(s.opts.Now()) }

// Request records that the patient of appointment id wants another time:
// the appointment becomes reschedule_requested (its pending reminders are
// cancelled), and the patient gets the acknowledgement, or, with
// AutoOffer and a request by SMS or on the patient page, an offer of the
// finder's first times (the acknowledgement when none is free). A request
// for an appointment already waiting for another time changes and sends
// nothing. A cancelled or past appointment returns
// *models.ErrBadTransition.
func (s *Service) Request(ctx context.Context, actor models.Actor, id uint, source string) (*models.Appointment, error) {
	var out *models.Appointment
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		a, changed, err := s.clinic.RequestReschedule(ctx, actor, id, source)
		if err != nil {
			return err
		}
		out = a
		if !changed || a.Patient.OptedOut() {
			return nil
		}
		if s.opts.AutoOffer && (source == SourceSMS || source == SourceLink) {
			times, err := s.suggest(ctx, a, nil)
			if err != nil {
				return err
			}
			if len(times) > 0 {
				_, err = s.offer(ctx, models.SystemActor(), a, times, models.KindRescheduleOffer, "sent at once (reschedule.auto_offer)")
				return err
			}
		}
		_, err = s.outbox.QueueAbout(ctx, models.KindRescheduleAck, a, "")
		return err
	})
	if err != nil {
		return nil, wrapUnlessInput("reschedule: request", err)
	}
	return out, nil
}

// Suggest returns the finder's first free times (up to
// models.MaxOfferTimes) for appointment id, which staff may edit before
// sending. None when no working hours are set.
func (s *Service) Suggest(ctx context.Context, id uint) ([]time.Time, error) {
	a, err := s.store.Appointment(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reschedule: suggest: %w", err)
	}
	return s.suggest(ctx, a, nil)
}

// suggest is Suggest for a loaded appointment, leaving out its current
// start and the times in skip (those of an offer just answered).
func (s *Service) suggest(ctx context.Context, a *models.Appointment, skip []time.Time) ([]time.Time, error) {
	skip = append([]time.Time{a.StartsAt}, skip...)
	found, err := s.finder.FreeFor(ctx, a.ID, s.clock(), models.MaxOfferTimes+len(skip))
	if errors.Is(err, availability.ErrNoHours) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reschedule: find free times: %w", err)
	}
	var out []time.Time
	for _, t := range found {
		if !containsTime(skip, t) && len(out) < models.MaxOfferTimes {
			out = append(out, t)
		}
	}
	return out, nil
}

// Offer sends the patient of appointment id up to models.MaxOfferTimes new
// times in one numbered SMS, as actor. Each time must be in the future,
// different from the others and from the current start, and free
// (availability); the times are sent in order of start. An appointment
// still scheduled or confirmed becomes reschedule_requested first (staff
// propose the move); one that cannot move is *models.ErrBadTransition. A
// newer offer replaces any open one. Bad times are models.FieldErrors on
// "starts_at".
func (s *Service) Offer(ctx context.Context, actor models.Actor, id uint, starts []time.Time) (*models.RescheduleOffer, error) {
	var out *models.RescheduleOffer
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		a, err := s.store.Appointment(ctx, id)
		if err != nil {
			return err
		}
		times, err := s.checkTimes(ctx, a, starts)
		if err != nil {
			return err
		}
		if a.Patient.OptedOut() {
			return models.FieldErrors{"patient": "has opted out of SMS; call them instead"}
		}
		if a.Status != models.RescheduleRequested {
			source := SourceStaff
			if actor.UserID == nil {
				source = SourceAPI
			}
			if a, _, err = s.clinic.RequestReschedule(ctx, actor, id, source); err != nil {
				return err
			}
		}
		out, err = s.offer(ctx, actor, a, times, models.KindRescheduleOffer, "sent by "+actor.Label())
		return err
	})
	if err != nil {
		return nil, wrapUnlessInput("reschedule: offer", err)
	}
	return out, nil
}

// checkTimes validates the times staff or the API offer.
func (s *Service) checkTimes(ctx context.Context, a *models.Appointment, starts []time.Time) ([]time.Time, error) {
	if len(starts) == 0 || len(starts) > models.MaxOfferTimes {
		return nil, models.FieldErrors{"starts_at": fmt.Sprintf("give 1 to %d times", models.MaxOfferTimes)}
	}
	now := s.clock()
	zone := a.Location.Zone()
	times := make([]time.Time, 0, len(starts))
	fe := models.FieldErrors{}
	for _, t := range starts {
		t = models.DBTime(t)
		label := t.In(zone).Format("Mon 2 Jan 15:04")
		switch {
		case t.IsZero():
			fe.Add("starts_at", "a time is missing")
		case !t.After(now):
			fe.Add("starts_at", label+" is in the past")
		case t.Equal(a.StartsAt):
			fe.Add("starts_at", label+" is the current time")
		case containsTime(times, t):
			fe.Add("starts_at", label+" is given twice")
		default:
			v, err := s.finder.CheckFor(ctx, a.ID, t)
			if err != nil {
				return nil, err
			}
			switch {
			case v.OutsideHours:
				fe.Add("starts_at", label+" is outside working hours")
			case !v.Free:
				fe.Add("starts_at", label+" is taken")
			}
		}
		times = append(times, t)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	return times, nil
}

// offer stores an offer of times for a and sends it (kind: the offer, or
// the apology with fresh times), with its timeline line and domain event.
func (s *Service) offer(ctx context.Context, actor models.Actor, a *models.Appointment, times []time.Time, kind, why string) (*models.RescheduleOffer, error) {
	now := s.clock()
	o := &models.RescheduleOffer{
		AppointmentID: a.ID, PatientID: a.PatientID, Status: models.OfferOpen,
		CreatedByID: actor.UserID, ExpiresAt: now.Add(s.opts.OfferTTL), CreatedAt: now, UpdatedAt: now,
	}
	o.SetTimes(times)
	if err := s.store.CreateOffer(ctx, o); err != nil {
		return nil, err
	}
	m, err := s.outbox.QueueOffer(ctx, kind, a, times)
	if err != nil {
		return nil, err
	}
	if err := s.store.SetOfferMessage(ctx, o.ID, m.ID); err != nil {
		return nil, err
	}
	o.MessageID = &m.ID
	detail := fmt.Sprintf("Offered %s, %s; open until %s", listTimes(times, a.Location.Zone()), why,
		outbox.When(o.ExpiresAt, a.Location.Zone()))
	err = s.store.AddTimeline(ctx, models.TimelineEntry{
		AppointmentID: a.ID, At: now, Kind: actor.TimelineKind(), UserID: actor.UserID, Detail: detail,
	})
	if err != nil {
		return nil, err
	}
	err = s.store.Record(ctx, models.Event{
		At: now, Type: models.EventOfferSent, AppointmentID: a.ID, PatientID: a.PatientID, MessageID: m.ID,
		Status: string(a.Status), Source: actor.TimelineKind(), Detail: models.Clip(detail, 300),
	})
	return o, err
}

// Open returns appointment id's open, unexpired offer, or
// models.ErrNotFound.
func (s *Service) Open(ctx context.Context, id uint) (*models.RescheduleOffer, error) {
	o, err := s.store.OpenOffer(ctx, id, s.clock())
	if err != nil {
		return nil, fmt.Errorf("reschedule: %w", err)
	}
	return o, nil
}

// Latest returns the newest offer (in any state, expired or not) made to
// any of the patients in patientIDs, or models.ErrNotFound: the one a
// reply from their number may answer.
func (s *Service) Latest(ctx context.Context, patientIDs []uint) (*models.RescheduleOffer, error) {
	o, err := s.store.LatestOffer(ctx, patientIDs)
	if err != nil {
		return nil, fmt.Errorf("reschedule: %w", err)
	}
	return o, nil
}

// Outcome is what a pick did.
type Outcome struct {
	// Moved is true when the appointment moved to the time picked.
	Moved bool
	// Appointment is the appointment after the pick (Patient, Location and
	// Provider loaded).
	Appointment *models.Appointment
	// Taken is the time picked when it was no longer free; Fresh is then
	// the new offer sent, nil when no other time is free (a person must
	// help).
	Taken time.Time
	Fresh *models.RescheduleOffer
}

// Pick moves appointment id to time n (1-based) of its open offer, as
// actor, if that time is still free: in one transaction the offer is
// closed, the appointment moved and confirmed (reminders replanned,
// timeline) and the "rescheduled" confirmation queued. Two patients
// picking the same time at once take turns (availability.Check locks the
// provider's or location's row): one moves, the other finds it taken and
// gets the apology with fresh times, or, when nothing else is free, an
// Outcome with Fresh nil. No open offer is ErrNoOpenOffer; n out of range
// is models.FieldErrors on "pick"; an appointment no longer waiting for
// another time is *models.ErrBadTransition.
func (s *Service) Pick(ctx context.Context, actor models.Actor, id uint, n int) (Outcome, error) {
	var out Outcome
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		now := s.clock()
		o, err := s.store.OpenOffer(ctx, id, now)
		if errors.Is(err, models.ErrNotFound) {
			return ErrNoOpenOffer
		}
		if err != nil {
			return err
		}
		times := o.Times()
		if n < 1 || n > len(times) {
			return models.FieldErrors{"pick": fmt.Sprintf("must be 1 to %d", len(times))}
		}
		a, err := s.store.LockAppointment(ctx, id)
		if err != nil {
			return err
		}
		if a.Status != models.RescheduleRequested {
			return &models.ErrBadTransition{From: string(a.Status), To: string(models.Confirmed)}
		}
		start := times[n-1]
		free := start.After(now)
		if free {
			// Locks the provider's (or location's) row first: whoever
			// checks next waits for this transaction and sees its move.
			v, err := s.finder.CheckFor(ctx, id, start)
			if err != nil {
				return err
			}
			free = v.Free
		}
		if free {
			if err := s.store.CloseOffer(ctx, o, models.OfferPicked, n, now); err != nil {
				return err
			}
			how := fmt.Sprintf("picked time %d of the offer", n)
			if out.Appointment, err = s.clinic.MoveToOffered(ctx, actor, id, start, how); err != nil {
				return err
			}
			out.Moved = true
			if out.Appointment.Patient.OptedOut() {
				return nil
			}
			_, err = s.outbox.QueueAbout(ctx, models.KindRescheduled, out.Appointment, "")
			return err
		}
		if err := s.store.CloseOffer(ctx, o, models.OfferTaken, n, now); err != nil {
			return err
		}
		out.Appointment, out.Taken = a, start
		zone := a.Location.Zone()
		err = s.store.AddTimeline(ctx, models.TimelineEntry{
			AppointmentID: id, At: now, Kind: models.TimelineSystem,
			Detail: fmt.Sprintf("The patient picked %s (time %d of the offer), taken meanwhile", outbox.When(start, zone), n),
		})
		if err != nil {
			return err
		}
		fresh, err := s.suggest(ctx, a, times)
		if err != nil || len(fresh) == 0 || a.Patient.OptedOut() {
			return err
		}
		out.Fresh, err = s.offer(ctx, models.SystemActor(), a, fresh, models.KindOfferTaken, "after the time picked was taken")
		return err
	})
	if err != nil {
		return Outcome{}, wrapUnlessInput("reschedule: pick", err)
	}
	return out, nil
}

func containsTime(ts []time.Time, t time.Time) bool {
	for _, u := range ts {
		if u.Equal(t) {
			return true
		}
	}
	return false
}

// listTimes is "Tue 3 Mar 10:00 CET, Wed 4 Mar 14:30 CET" for staff.
func listTimes(ts []time.Time, zone *time.Location) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = outbox.When(t, zone)
	}
	return strings.Join(parts, ", ")
}

// wrapUnlessInput wraps err with op unless it is one the edges show as it
// is: field errors, a refused state change, no open offer.
func wrapUnlessInput(op string, err error) error {
	var fe models.FieldErrors
	var bt *models.ErrBadTransition
	if errors.As(err, &fe) || errors.As(err, &bt) || errors.Is(err, ErrNoOpenOffer) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
