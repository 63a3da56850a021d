package waitlist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/app/render"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// RunDue is the recurring job: it marks the offers whose time ran out
// expired, then, for each freed time whose next batch is due, asks the
// next batch of waitlisted patients, or closes the time when it is too
// close to its start or nobody is left to ask. It is safe on several
// instances at once: each freed time is handled under its row's lock and
// re-read under it. It returns how many offers it sent.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	now := s.clock()
	expired, err := s.store.ExpireStaleWaitlistOffers(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("waitlist: %w", err)
	}
	if err := s.noteExpired(ctx, expired, now); err != nil {
		return 0, err
	}
	due, err := s.store.DueWaitlistSlots(ctx, now, dueLimit)
	if err != nil {
		return 0, fmt.Errorf("waitlist: %w", err)
	}
	sent := 0
	for i := range due {
		n, err := s.advance(ctx, due[i].ID)
		if err != nil {
			return sent, err
		}
		sent += n
	}
	if sent > 0 {
		s.opts.Logger.InfoContext(ctx, "waitlist offers sent", slog.Int("offers", sent))
	}
	return sent, nil
}

// noteExpired puts the offers that ran out on the freed appointment's
// timeline, in one transaction.
func (s *Service) noteExpired(ctx context.Context, offers []models.WaitlistOffer, now time.Time) error {
	if len(offers) == 0 {
		return nil
	}
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		entries := make([]models.TimelineEntry, 0, len(offers))
		events := make([]models.Event, 0, len(offers))
		for _, o := range offers {
			name := s.patientName(ctx, o.PatientID)
			detail := fmt.Sprintf("Waitlist offer to %s expired unanswered (batch %d)", name, o.Batch)
			entries = append(entries, models.TimelineEntry{AppointmentID: o.FreedAppointmentID, At: now, Kind: models.TimelineSystem, Detail: detail})
			events = append(events, models.Event{
				At: now, Type: models.EventWaitlistOffer, AppointmentID: o.FreedAppointmentID, PatientID: o.PatientID,
				Status: string(models.WaitlistExpired), Source: "waitlist", Detail: detail,
			})
		}
		if err := s.store.AddTimeline(ctx, entries...); err != nil {
			return err
		}
		return s.store.Record(ctx, events...)
	})
	if err != nil {
		return fmt.Errorf("waitlist: note expired offers: %w", err)
	}
	return nil
}

func (s *Service) patientName(ctx context.Context, id uint) string {
	p, err := s.store.Patient(ctx, id)
	if err != nil {
		return fmt.Sprintf("patient %d", id)
	}
	return p.Name()
}

// advance handles one due freed time in a transaction of its own.
func (s *Service) advance(ctx context.Context, slotID uint) (int, error) {
	sent := 0
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		now := s.clock()
		sl, err := s.store.WaitlistSlot(ctx, slotID, true)
		if err != nil {
			return err
		}
		if sl.Status != models.SlotOpen || sl.NextBatchAt.After(now) {
			return nil // another instance got there first
		}
		loc, err := s.store.Location(ctx, sl.LocationID)
		if err != nil {
			return err
		}
		zone := loc.Zone()
		if sl.StartsAt.Sub(now) < s.opts.MinNotice {
			return s.closeSlot(ctx, sl, now, fmt.Sprintf("less than %s before it starts: no more offers", fmtDuration(s.opts.MinNotice)))
		}
		if q := outbox.Quiet(loc); schedule.InQuiet(now, zone, q) {
			// Nobody is texted in quiet hours: the batch waits for them to
			// end, if the time is still far enough ahead then.
			end := quietEnd(now, zone, q)
			if sl.StartsAt.Sub(end) < s.opts.MinNotice {
				return s.closeSlot(ctx, sl, now, "freed during quiet hours, too close to its start once they end: no offers")
			}
			if err := s.store.ScheduleWaitlistSlot(ctx, sl.ID, sl.Batch, end, now); err != nil {
				return err
			}
			return s.store.AddTimeline(ctx, models.TimelineEntry{
				AppointmentID: sl.FreedAppointmentID, At: now, Kind: models.TimelineSystem,
				Detail: "Waitlist offers wait for the end of quiet hours, " + outbox.When(end, zone),
			})
		}
		picked, err := s.pick(ctx, sl, zone, now)
		if err != nil {
			return err
		}
		if len(picked) == 0 {
			why := "nobody on the waitlist suits this time"
			if sl.Batch > 0 {
				why = "nobody left on the waitlist to ask"
			}
			return s.closeSlot(ctx, sl, now, why)
		}
		batch := sl.Batch + 1
		expires := now.Add(s.opts.OfferTTL)
		if err := s.store.ScheduleWaitlistSlot(ctx, sl.ID, batch, expires, now); err != nil {
			return err
		}
		var provider *models.Provider
		if sl.ProviderID != nil {
			if provider, err = s.store.Provider(ctx, *sl.ProviderID); err != nil {
				return err
			}
		}
		for i := range picked {
			if err := s.offer(ctx, sl, &picked[i], loc, provider, batch, now, expires); err != nil {
				return err
			}
			sent++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("waitlist: freed time %d: %w", slotID, err)
	}
	return sent, nil
}

// pick returns the next batch for sl: the oldest active entries that
// match it and whose days and hours suit its local start, leaving out the
// patient who freed it and patients already holding an appointment that
// overlaps it.
func (s *Service) pick(ctx context.Context, sl *models.WaitlistSlot, zone *time.Location, now time.Time) ([]models.WaitlistEntry, error) {
	all, err := s.store.WaitlistCandidates(ctx, sl, now)
	if err != nil {
		return nil, err
	}
	freed, err := s.store.Appointment(ctx, sl.FreedAppointmentID)
	if err != nil {
		return nil, err
	}
	var out []models.WaitlistEntry
	seen := map[uint]bool{}
	for _, e := range all {
		if len(out) == s.opts.Batch {
			break
		}
		if e.PatientID == freed.PatientID || seen[e.PatientID] || !SuitsAt(&e, sl.StartsAt, zone) {
			continue
		}
		busy, err := s.overlaps(ctx, e.PatientID, sl, 0)
		if err != nil {
			return nil, err
		}
		if busy {
			continue
		}
		seen[e.PatientID] = true
		out = append(out, e)
	}
	return out, nil
}

// overlaps reports whether the patient holds an appointment other than
// except overlapping the freed time.
func (s *Service) overlaps(ctx context.Context, patientID uint, sl *models.WaitlistSlot, except uint) (bool, error) {
	end := sl.StartsAt.Add(time.Duration(sl.DurationMinutes) * time.Minute)
	as, err := s.store.FindAppointments(ctx, models.AppointmentFilter{
		PatientID: patientID, Statuses: models.HoldingStatuses,
		From: sl.StartsAt.Add(-12 * time.Hour), To: end, Limit: 50,
	})
	if err != nil {
		return false, err
	}
	for _, a := range as {
		if a.ID != except && a.StartsAt.Before(end) && a.EndsAt().After(sl.StartsAt) {
			return true, nil
		}
	}
	return false, nil
}

// SuitsAt reports whether start, on the wall clock of zone, falls on a day
// and within the hours entry e asked for.
func SuitsAt(e *models.WaitlistEntry, start time.Time, zone *time.Location) bool {
	local := start.In(zone)
	if e.Days != "" && !strings.Contains(" "+e.Days+" ", " "+weekdays[local.Weekday()]+" ") {
		return false
	}
	hm := fmt.Sprintf("%02d:%02d", local.Hour(), local.Minute())
	if e.FromTime != "" && hm < e.FromTime {
		return false
	}
	if e.UntilTime != "" && hm >= e.UntilTime {
		return false
	}
	return true
}

// offer sends one offer of sl to entry e's patient, with its timeline
// line and domain event.
func (s *Service) offer(ctx context.Context, sl *models.WaitlistSlot, e *models.WaitlistEntry, loc *models.Location,
	provider *models.Provider, batch int, now, expires time.Time,
) error {
	o := &models.WaitlistOffer{
		SlotID: sl.ID, FreedAppointmentID: sl.FreedAppointmentID, WaitlistEntryID: e.ID, PatientID: e.PatientID,
		SentAt: now, ExpiresAt: expires, Status: models.WaitlistOffered, Batch: batch, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.store.CreateWaitlistOffer(ctx, o); err != nil {
		return err
	}
	// No appointment id: the freed appointment is someone else's, and its
	// patient page must not be linked.
	d := render.Data{
		FirstName: e.Patient.FirstName, LastName: e.Patient.LastName, Language: e.Patient.Language,
		StartsAt: sl.StartsAt, Location: loc.Zone(), SendAt: now,
		LocationName: loc.Name, LocationAddress: loc.Address, ClinicPhone: loc.Phone,
		Provider: providerName(provider, loc),
	}
	c, err := s.outbox.Render(ctx, models.KindWaitlistOffer, d)
	if err != nil {
		return err
	}
	pid := e.PatientID
	m, err := s.outbox.Queue(ctx, outbox.Outgoing{
		Kind: models.KindWaitlistOffer, To: e.Patient.Phone, Body: c.Text, PatientID: &pid,
		Language: c.Language, FallbackFrom: c.FallbackFrom,
	})
	if err != nil {
		return err
	}
	if err := s.store.SetWaitlistOfferMessage(ctx, o.ID, m.ID); err != nil {
		return err
	}
	detail := fmt.Sprintf("Freed time offered to %s from the waitlist by SMS (batch %d), open until %s",
		e.Patient.Name(), batch, outbox.When(expires, loc.Zone()))
	if err := s.store.AddTimeline(ctx, models.TimelineEntry{
		AppointmentID: sl.FreedAppointmentID, At: now, Kind: models.TimelineSystem, Detail: detail,
	}); err != nil {
		return err
	}
	return s.store.Record(ctx, models.Event{
		At: now, Type: models.EventWaitlistOffer, AppointmentID: sl.FreedAppointmentID, PatientID: e.PatientID,
		MessageID: m.ID, Status: string(models.WaitlistOffered), Source: "waitlist", Detail: detail,
	})
}

// providerName is what {provider} says in a waitlist text: the provider,
// or the location when the time has none.
func providerName(p *models.Provider, loc *models.Location) string {
	if p != nil && strings.TrimSpace(p.Name) != "" {
		return p.Name
	}
	return loc.Name
}

// closeSlot stops offering sl, with the reason on the freed appointment's
// timeline.
func (s *Service) closeSlot(ctx context.Context, sl *models.WaitlistSlot, now time.Time, why string) error {
	if err := s.store.EndWaitlistSlot(ctx, sl.ID, models.SlotClosed, nil, why, now); err != nil {
		return err
	}
	if sl.Batch == 0 && strings.HasPrefix(why, "nobody") {
		// A freed time nobody waits for is the common case: no timeline
		// noise.
		return nil
	}
	return s.store.AddTimeline(ctx, models.TimelineEntry{
		AppointmentID: sl.FreedAppointmentID, At: now, Kind: models.TimelineSystem,
		Detail: "Waitlist: the freed time is no longer offered (" + why + ")",
	})
}

// quietEnd returns the first minute at or after t, on zone's wall clock,
// outside quiet hours q.
func quietEnd(t time.Time, zone *time.Location, q schedule.QuietHours) time.Time {
	cur := t.Truncate(time.Minute)
	for i := 0; i < 24*60+61 && schedule.InQuiet(cur, zone, q); i++ {
		cur = cur.Add(time.Minute)
	}
	return cur
}

func fmtDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}

// LiveOffer returns the newest offer to any of patientIDs still open at
// now, or models.ErrNotFound: what a bare YES from their number answers.
func (s *Service) LiveOffer(ctx context.Context, patientIDs []uint) (*models.WaitlistOffer, error) {
	o, err := s.store.LiveWaitlistOffer(ctx, patientIDs, s.clock())
	if err != nil {
		return nil, fmt.Errorf("waitlist: %w", err)
	}
	return o, nil
}

// Outcome is what a YES to an offer did.
type Outcome struct {
	// Booked is true when the patient got the time: Appointment is then
	// the appointment booked, or their later one, moved (Moved).
	Booked, Moved bool
	Appointment   *models.Appointment
	// Why says, for a patient who did not get the time, why not.
	Why string
}

// Take answers offer o with YES, as its patient: in one transaction the
// freed time's row is locked and read again; when it is still open, the
// patient's later appointment with the same provider at the same location
// is moved to it, or a new appointment is booked (both checked free by
// app/clinic's availability check), the offer becomes taken, the time
// filled and the entry booked, and the patient gets the confirmation.
// When the time went to someone else, closed or is no longer free, the
// offer becomes too_late, the patient gets the apology and stays on the
// list. Two YES at once, on one instance or several, take turns on the
// row lock, so exactly one books.
func (s *Service) Take(ctx context.Context, o *models.WaitlistOffer) (Outcome, error) {
	var out Outcome
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		now := s.clock()
		sl, err := s.store.WaitlistSlot(ctx, o.SlotID, true)
		if err != nil {
			return err
		}
		cur := *o
		if !cur.LiveAt(now) {
			return fmt.Errorf("offer %d answered or expired: %w", o.ID, models.ErrConflict)
		}
		e, err := s.store.WaitlistEntry(ctx, o.WaitlistEntryID)
		if err != nil {
			return err
		}
		if e.Status != models.WaitlistActive {
			// Removed (or booked) since the offer went out: nothing to take.
			out.Why = "no longer on the waitlist (" + string(e.Status) + ")"
			return s.offerVoid(ctx, &cur, sl, now, out.Why)
		}
		p, err := s.store.Patient(ctx, o.PatientID)
		if err != nil {
			return err
		}
		loc, err := s.store.Location(ctx, sl.LocationID)
		if err != nil {
			return err
		}
		if sl.Status != models.SlotOpen || !sl.StartsAt.After(now) {
			out.Why = "taken by someone else"
			if sl.Status == models.SlotClosed {
				out.Why = "no longer offered (" + sl.Reason + ")"
			}
			return s.tooLate(ctx, &cur, sl, p, loc, now, out.Why)
		}
		later, err := s.laterToMove(ctx, sl, p)
		if err != nil {
			return err
		}
		var except uint
		if later != nil {
			except = later.ID
		}
		busy, err := s.overlaps(ctx, p.ID, sl, except)
		if err != nil {
			return err
		}
		if busy {
			// Booked elsewhere at that time since the offer went out.
			out.Why = "the patient is busy at that time"
			return s.tooLate(ctx, &cur, sl, p, loc, now, out.Why)
		}
		a, moved, err := s.book(ctx, sl, p, later)
		var fe models.FieldErrors
		if errors.As(err, &fe) {
			// The time was booked another way meanwhile (or its hours
			// changed): nobody can have it from the waitlist.
			out.Why = "no longer free: " + fe.Error()
			if err := s.store.EndWaitlistSlot(ctx, sl.ID, models.SlotClosed, nil, "no longer free", now); err != nil {
				return err
			}
			return s.tooLate(ctx, &cur, sl, p, loc, now, out.Why)
		}
		if err != nil {
			return err
		}
		if err := s.store.AnswerWaitlistOffer(ctx, &cur, models.WaitlistTaken, &a.ID, now); err != nil {
			return err
		}
		if err := s.store.EndWaitlistSlot(ctx, sl.ID, models.SlotFilled, &a.ID, "", now); err != nil {
			return err
		}
		if err := s.store.SetWaitlistEntryStatus(ctx, o.WaitlistEntryID, models.WaitlistBooked, &a.ID, now); err != nil {
			return err
		}
		how := "booked as appointment"
		if moved {
			how = "moved their later appointment"
		}
		detail := fmt.Sprintf("%s took the freed time from the waitlist by SMS: %s %d", p.Name(), how, a.ID)
		if err := s.store.AddTimeline(ctx,
			models.TimelineEntry{AppointmentID: sl.FreedAppointmentID, At: now, Kind: models.TimelineSystem, Detail: detail},
			models.TimelineEntry{
				AppointmentID: a.ID, At: now, Kind: models.TimelineSystem,
				Detail: fmt.Sprintf("Booked from the waitlist: the time freed by appointment %d", sl.FreedAppointmentID),
			},
		); err != nil {
			return err
		}
		if err := s.store.Record(ctx, models.Event{
			At: now, Type: models.EventWaitlistOffer, AppointmentID: sl.FreedAppointmentID, PatientID: p.ID,
			Status: string(models.WaitlistTaken), Source: "waitlist", Detail: detail,
		}); err != nil {
			return err
		}
		out = Outcome{Booked: true, Moved: moved, Appointment: a}
		*o = cur
		if p.OptedOut() {
			return nil
		}
		d := outbox.TemplateData(a)
		d.Provider = providerName(a.Provider, a.Location)
		c, err := s.outbox.Render(ctx, models.KindWaitlistBooked, d)
		if err != nil {
			return err
		}
		_, err = s.outbox.Queue(ctx, outbox.Outgoing{
			Kind: models.KindWaitlistBooked, To: p.Phone, Body: c.Text, AppointmentID: &a.ID, PatientID: &p.ID,
			Language: c.Language, FallbackFrom: c.FallbackFrom,
		})
		return err
	})
	if err != nil {
		return Outcome{}, wrapUnlessInput("waitlist: take", err)
	}
	return out, nil
}

// book gives patient p the freed time: their soonest later appointment
// with the same provider at the same location moves to it, else a new
// appointment is booked. Either is refused (models.FieldErrors) when the
// time is no longer free.
func (s *Service) book(ctx context.Context, sl *models.WaitlistSlot, p *models.Patient, later *models.Appointment) (*models.Appointment, bool, error) {
	if later != nil {
		moved, err := s.clinic.UpdateAppointment(ctx, models.PatientActor(), later.ID, clinic.AppointmentInput{
			LocationID: sl.LocationID, ProviderID: later.ProviderID, StartsAt: sl.StartsAt,
			Notes: later.Notes, CheckSlot: true,
		})
		return moved, true, err
	}
	a, err := s.clinic.CreateAppointment(ctx, models.PatientActor(), clinic.AppointmentInput{
		PatientID: p.ID, LocationID: sl.LocationID, ProviderID: sl.ProviderID, StartsAt: sl.StartsAt,
		DurationMinutes: sl.DurationMinutes, Notes: "Booked from the waitlist", CheckSlot: true,
		TypeSet: sl.AppointmentTypeID != nil, TypeID: sl.AppointmentTypeID,
	})
	return a, false, err
}

// laterToMove returns the appointment taking freed time sl would move:
// patient p's soonest later one with the same provider at the same
// location, or nil.
func (s *Service) laterToMove(ctx context.Context, sl *models.WaitlistSlot, p *models.Patient) (*models.Appointment, error) {
	later, err := s.store.FindAppointments(ctx, models.AppointmentFilter{
		PatientID: p.ID, LocationID: sl.LocationID, Statuses: models.HoldingStatuses,
		From: sl.StartsAt.Add(time.Second), Order: models.AppointmentsByStart, Limit: 50,
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(later, func(i, j int) bool { return later[i].StartsAt.Before(later[j].StartsAt) })
	for i := range later {
		if sameID(later[i].ProviderID, sl.ProviderID) {
			return &later[i], nil
		}
	}
	return nil, nil
}

// offerVoid answers offer o too_late without a text to the patient: its
// entry is no longer on the waitlist, so the apology ("you stay on the
// list") would not be true. An offer already expired stays expired.
func (s *Service) offerVoid(ctx context.Context, o *models.WaitlistOffer, sl *models.WaitlistSlot, now time.Time, why string) error {
	if err := s.store.AnswerWaitlistOffer(ctx, o, models.WaitlistTooLate, nil, now); err != nil && !errors.Is(err, models.ErrConflict) {
		return err
	}
	return s.store.AddTimeline(ctx, models.TimelineEntry{
		AppointmentID: sl.FreedAppointmentID, At: now, Kind: models.TimelineSystem,
		Detail: fmt.Sprintf("A YES to the waitlist offer %d booked nothing: %s", o.ID, why),
	})
}

// tooLate answers offer o for a time the patient cannot have: too_late,
// the apology, and the timeline line. The patient stays on the list.
func (s *Service) tooLate(ctx context.Context, o *models.WaitlistOffer, sl *models.WaitlistSlot, p *models.Patient,
	loc *models.Location, now time.Time, why string,
) error {
	if err := s.store.AnswerWaitlistOffer(ctx, o, models.WaitlistTooLate, nil, now); err != nil {
		return err
	}
	detail := fmt.Sprintf("%s answered YES to the waitlist offer too late (%s); still on the waitlist", p.Name(), why)
	if err := s.store.AddTimeline(ctx, models.TimelineEntry{
		AppointmentID: sl.FreedAppointmentID, At: now, Kind: models.TimelineSystem, Detail: detail,
	}); err != nil {
		return err
	}
	if err := s.store.Record(ctx, models.Event{
		At: now, Type: models.EventWaitlistOffer, AppointmentID: sl.FreedAppointmentID, PatientID: p.ID,
		Status: string(models.WaitlistTooLate), Source: "waitlist", Detail: models.Clip(detail, 300),
	}); err != nil {
		return err
	}
	if p.OptedOut() {
		return nil
	}
	d, err := s.outbox.PatientData(ctx, p)
	if err != nil {
		return err
	}
	d.LocationName, d.Location, d.ClinicPhone = loc.Name, loc.Zone(), loc.Phone
	c, err := s.outbox.Render(ctx, models.KindWaitlistTaken, d)
	if err != nil {
		return err
	}
	_, err = s.outbox.Queue(ctx, outbox.Outgoing{
		Kind: models.KindWaitlistTaken, To: p.Phone, Body: c.Text, PatientID: &p.ID,
		Language: c.Language, FallbackFrom: c.FallbackFrom,
	})
	return err
}
