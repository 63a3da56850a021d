package clinic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"apptconfirm/app/availability"
	"apptconfirm/models"
)

// Appointment limits.
const (
	MaxDurationMinutes = 720
	MaxNotes           = 2000
	// LocalTimeLayout is how StartsLocal is written, as an
	// <input type="datetime-local"> sends it.
	LocalTimeLayout = "2006-01-02T15:04"
	// PastStartMessage is the models.FieldErrors message on "starts_at" for a start
	// in the past; the UI shows a "book it anyway" box (AllowPast) with it.
	PastStartMessage = "is in the past; confirm to book it anyway"
)

// AppointmentInput is an appointment as staff or the API enter it. Field
// names in models.FieldErrors: patient_id, location_id, provider_id, starts_at,
// duration_minutes, notes, status.
type AppointmentInput struct {
	PatientID uint
	// LocationID 0 means the default location (on update: unchanged).
	LocationID uint
	// ProviderID nil means no provider (on update too: it clears the provider).
	ProviderID *uint
	// StartsLocal is "2006-01-02T15:04" (seconds allowed) in the location's
	// zone, as a web form sends it. StartsAt is an absolute instant, as the
	// API sends it. Give one of them; on update, neither means unchanged.
	StartsLocal string
	StartsAt    time.Time
	// DurationMinutes is 1 to 720 (on update 0 means unchanged).
	DurationMinutes int
	// Notes are for staff only and never go into an SMS; always replaced.
	Notes string
	// AllowPast books (or moves) an appointment to a start in the past,
	// which is refused otherwise.
	AllowPast bool
	// CheckSlot refuses, with a SlotField message, a new time that
	// overlaps another appointment of the same provider (without one, of
	// the location) or falls outside the working hours. The booking form
	// sets it until staff confirm the time anyway; the API does not.
	CheckSlot bool
	// ExternalID is the appointment's id in the clinic's other system (at
	// most models.MaxExternalID characters, unique among appointments;
	// "" for none). Nil means none on create and unchanged on update.
	ExternalID *string
	// TypeSet says TypeID is given: the appointment's type, nil for none.
	// Without it the type is none on create and unchanged on update. On
	// create, a DurationMinutes of 0 with a type means the type's default
	// duration.
	TypeSet bool
	TypeID  *uint
	// CheckOnly validates the input and writes nothing: the result is the
	// FieldErrors, or nil and no appointment when the input is valid. A
	// form that could not read some fields uses it to report every other
	// field's problem at once.
	CheckOnly bool
	// patient is the patient PatientID names as the caller read or wrote
	// it in the same transaction, when it has it: not read again.
	patient *models.Patient
	// externalIDFree says the caller has checked ExternalID and found it
	// no appointment's in the same transaction.
	externalIDFree bool
}

// externalID returns the input's external id, trimmed, or cur when the
// input leaves it out.
func (in AppointmentInput) externalID(cur string) string {
	if in.ExternalID == nil {
		return cur
	}
	return strings.TrimSpace(*in.ExternalID)
}

// checkAppointmentExternalID refuses an external id that is malformed or
// belongs to another appointment than self (0 for a new one); it records
// the reason in fe.
func (s *Service) checkAppointmentExternalID(ctx context.Context, externalID string, self uint, fe models.FieldErrors) error {
	if externalID == "" {
		return nil
	}
	if m := checkExternalID(externalID); m != "" {
		fe.Add("external_id", m)
		return nil
	}
	other, err := s.store.AppointmentByExternalID(ctx, externalID, false)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil
	case err != nil:
		return err
	case other.ID != self:
		fe.Add("external_id", "is already the external id of another appointment")
	}
	return nil
}

// hasStart reports whether the input names a start.
func (in AppointmentInput) hasStart() bool {
	return strings.TrimSpace(in.StartsLocal) != "" || !in.StartsAt.IsZero()
}

// resolveStart turns the input's start into an instant in zone. It returns a
// models.FieldErrors message for "starts_at", or "".
func (in AppointmentInput) resolveStart(zone *time.Location) (time.Time, string) {
	local := strings.TrimSpace(in.StartsLocal)
	switch {
	case local != "" && !in.StartsAt.IsZero():
		return time.Time{}, "give either a local time or an absolute time, not both"
	case local != "":
		return parseLocal(local, zone)
	case !in.StartsAt.IsZero():
		t := in.StartsAt.UTC().Truncate(time.Second)
		if m := checkYear(t); m != "" {
			return time.Time{}, m
		}
		return t, ""
	}
	return time.Time{}, "required"
}

// parseLocal reads a wall-clock time in zone and refuses one that does not
// exist there (skipped by a daylight-saving change).
func parseLocal(s string, zone *time.Location) (time.Time, string) {
	var naive time.Time
	var err error
	for _, layout := range []string{LocalTimeLayout, "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if naive, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, "must be a date and time as YYYY-MM-DDTHH:MM"
	}
	if m := checkYear(naive); m != "" {
		return time.Time{}, m
	}
	y, mo, d := naive.Date()
	h, mi, sec := naive.Clock()
	t := time.Date(y, mo, d, h, mi, sec, 0, zone)
	ly, lmo, ld := t.Date()
	lh, lmi, _ := t.Clock()
	if ly != y || lmo != mo || ld != d || lh != h || lmi != mi {
		return time.Time{}, fmt.Sprintf("%02d:%02d does not exist on %s in %s (the clocks change that night); choose another time",
			h, mi, naive.Format("2006-01-02"), zone.String())
	}
	return t.UTC(), ""
}

// checkYear refuses instants no clinic books.
func checkYear(t time.Time) string {
	if y := t.Year(); y < 1970 || y > 2199 {
		return "the year must be between 1970 and 2199"
	}
	return ""
}

// checkDuration validates a duration in minutes; it returns a message or "".
func checkDuration(m int) string {
	if m < 1 || m > MaxDurationMinutes {
		return fmt.Sprintf("must be 1 to %d minutes", MaxDurationMinutes)
	}
	return ""
}

// loadLocation loads a location by id, or the default one for id 0; a
// missing one is recorded in fe.
func (s *Service) loadLocation(ctx context.Context, id uint, fe models.FieldErrors) (*models.Location, error) {
	if id == 0 {
		l, err := s.store.DefaultLocation(ctx)
		if errors.Is(err, models.ErrNotFound) {
			fe.Add("location_id", "required: there is no default location yet")
			return nil, nil
		}
		return l, err
	}
	l, err := s.store.Location(ctx, id)
	if err != nil {
		return nil, fieldIfNotFound(err, fe, "location_id")
	}
	return l, nil
}

// loadProvider loads a provider that must be active; a missing or inactive
// one is recorded in fe.
func (s *Service) loadProvider(ctx context.Context, id uint, fe models.FieldErrors) (*models.Provider, error) {
	p, err := s.store.Provider(ctx, id)
	if err != nil {
		return nil, fieldIfNotFound(err, fe, "provider_id")
	}
	if !p.Active {
		fe.Add("provider_id", "is not active")
		return nil, nil
	}
	return p, nil
}

// record writes the audit row, the timeline entry and the domain event of
// a change to appointment a, made by actor at now.
func (s *Service) record(ctx context.Context, a *models.Appointment, actor models.Actor, now time.Time, action, event, source, detail string) error {
	if err := s.store.Audit(ctx, now, actor, action, EntityAppointment, a.ID, detail); err != nil {
		return err
	}
	err := s.store.AddTimeline(ctx, models.TimelineEntry{
		AppointmentID: a.ID, At: now, Kind: actor.TimelineKind(), UserID: actor.UserID, Detail: detail,
	})
	if err != nil {
		return err
	}
	return s.store.Record(ctx, models.Event{
		At: now, Type: event, AppointmentID: a.ID, PatientID: a.PatientID,
		Status: string(a.Status), Source: source, Detail: detail,
	})
}

// CreateAppointment books an appointment: it validates the input, inserts it
// as scheduled, writes its audit and timeline rows and its domain event and
// plans its messages, all in one transaction.
func (s *Service) CreateAppointment(ctx context.Context, actor models.Actor, in AppointmentInput) (*models.Appointment, error) {
	fe := models.FieldErrors{}
	if in.PatientID == 0 {
		fe.Add("patient_id", "required")
	}
	typ, err := s.loadType(ctx, in, fe)
	if err != nil {
		return nil, wrapUnlessInput("clinic: create appointment", err)
	}
	if in.DurationMinutes == 0 && typ != nil {
		in.DurationMinutes = typ.DefaultDurationMinutes
	}
	if m := checkDuration(in.DurationMinutes); m != "" {
		fe.Add("duration_minutes", m)
	}
	notes := strings.TrimSpace(in.Notes)
	if m := checkText(notes, MaxNotes, true); m != "" {
		fe.Add("notes", m)
	}
	if !in.hasStart() {
		fe.Add("starts_at", "required")
	}
	now := s.clock()
	var out *models.Appointment
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		var patient *models.Patient
		switch {
		case in.patient != nil && in.patient.ID == in.PatientID:
			patient = in.patient
		case in.PatientID != 0:
			p, err := s.store.Patient(ctx, in.PatientID)
			if err := fieldIfNotFound(err, fe, "patient_id"); err != nil {
				return err
			}
			patient = p
		}
		loc, err := s.loadLocation(ctx, in.LocationID, fe)
		if err != nil {
			return err
		}
		var provider *models.Provider
		if in.ProviderID != nil {
			if provider, err = s.loadProvider(ctx, *in.ProviderID, fe); err != nil {
				return err
			}
		}
		var start time.Time
		if loc != nil && in.hasStart() {
			var m string
			if start, m = in.resolveStart(loc.Zone()); m != "" {
				fe.Add("starts_at", m)
			} else if start.Before(now) && !in.AllowPast {
				fe.Add("starts_at", PastStartMessage)
			}
		}
		externalID := in.externalID("")
		if !in.externalIDFree {
			if err := s.checkAppointmentExternalID(ctx, externalID, 0, fe); err != nil {
				return err
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		if in.CheckOnly {
			return nil
		}
		if in.CheckSlot {
			sl := availability.Slot{LocationID: loc.ID, ProviderID: in.ProviderID, Duration: time.Duration(in.DurationMinutes) * time.Minute}
			if m, err := s.slotWarning(ctx, sl, start, loc, provider); err != nil || m != "" {
				return slotRefusal(m, err)
			}
		}
		a := &models.Appointment{
			ExternalID:        externalID,
			PatientID:         patient.ID,
			LocationID:        loc.ID,
			ProviderID:        in.ProviderID,
			StartsAt:          start,
			AppointmentTypeID: typeIDOf(typ),
			DurationMinutes:   in.DurationMinutes,
			Notes:             notes,
			Status:            models.Scheduled,
			CreatedAt:         now,
			UpdatedAt:         now,
		}
		if err := s.store.CreateAppointment(ctx, a); err != nil {
			return err
		}
		when := fmtWhen(a.StartsAt, loc.Zone(), now)
		with := ""
		if provider != nil {
			with = " with " + provider.Name
		}
		detail := fmt.Sprintf("patient %d, %s (%s) at %s%s, %d min", a.PatientID, when, loc.TimeZone, loc.Name, with, a.DurationMinutes)
		if err := s.store.Audit(ctx, now, actor, "appointment.create", EntityAppointment, a.ID, detail); err != nil {
			return err
		}
		booked := fmt.Sprintf("Booked for %s at %s%s by %s", when, loc.Name, with, actor.Label())
		err = s.store.AddTimeline(ctx, models.TimelineEntry{
			AppointmentID: a.ID, At: now, Kind: actor.TimelineKind(), UserID: actor.UserID, Detail: booked,
		})
		if err != nil {
			return err
		}
		err = s.store.Record(ctx, models.Event{
			At: now, Type: models.EventAppointmentCreated, AppointmentID: a.ID, PatientID: a.PatientID,
			Status: string(a.Status), Detail: booked,
		})
		if err != nil {
			return err
		}
		// The appointment as stored, with its patient, location, provider
		// and type, without reading it back: planning its messages changes
		// none of it.
		stored := *a
		stored.StartsAt = models.DBTime(a.StartsAt)
		stored.Patient, stored.Location, stored.Provider, stored.AppointmentType = patient, loc, provider, typ
		if err := s.booked(ctx, &stored, now); err != nil {
			return err
		}
		out = &stored
		return nil
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: create appointment", err)
	}
	return out, nil
}

// UpdateAppointment edits an appointment's notes, provider, duration,
// location and start. A changed start or location is a reschedule: it is
// allowed only while the appointment is scheduled or confirmed, resets a
// confirmation (the patient confirmed the old time), and the timeline says
// "Rescheduled from … to …"; the patient gets the reschedule notice when
// the clinic sends one. Every field of in replaces the stored one,
// except that LocationID 0, an empty start, DurationMinutes 0 and
// PatientID 0 keep what is stored (the patient cannot change: cancel and
// book again). The messages are replanned in the same transaction. Nothing
// is written when nothing changes.
func (s *Service) UpdateAppointment(ctx context.Context, actor models.Actor, id uint, in AppointmentInput) (*models.Appointment, error) {
	out, _, err := s.updateAppointment(ctx, actor, id, in)
	return out, err
}

// updateAppointment is UpdateAppointment, also reporting whether anything
// changed.
func (s *Service) updateAppointment(ctx context.Context, actor models.Actor, id uint, in AppointmentInput) (*models.Appointment, bool, error) {
	fe := models.FieldErrors{}
	if in.DurationMinutes != 0 {
		if m := checkDuration(in.DurationMinutes); m != "" {
			fe.Add("duration_minutes", m)
		}
	}
	notes := strings.TrimSpace(in.Notes)
	if m := checkText(notes, MaxNotes, true); m != "" {
		fe.Add("notes", m)
	}
	now := s.clock()
	var out *models.Appointment
	changed := false
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.store.LockAppointment(ctx, id)
		if err != nil {
			return err
		}
		if in.PatientID != 0 && in.PatientID != cur.PatientID {
			fe.Add("patient_id", "cannot be changed; cancel this appointment and book a new one")
		}
		loc := cur.Location
		if in.LocationID != 0 && in.LocationID != cur.LocationID {
			if loc, err = s.loadLocation(ctx, in.LocationID, fe); err != nil {
				return err
			}
		}
		// Keeping a provider who has since become inactive is fine; choosing one is not.
		if in.ProviderID != nil && !sameID(in.ProviderID, cur.ProviderID) {
			if _, err = s.loadProvider(ctx, *in.ProviderID, fe); err != nil {
				return err
			}
		}
		duration := cur.DurationMinutes
		if in.DurationMinutes != 0 {
			duration = in.DurationMinutes
		}
		start := cur.StartsAt
		if loc != nil && in.hasStart() {
			var m string
			if start, m = in.resolveStart(loc.Zone()); m != "" {
				fe.Add("starts_at", m)
				start = cur.StartsAt
			} else if !start.Equal(cur.StartsAt) && start.Before(now) && !in.AllowPast {
				fe.Add("starts_at", PastStartMessage)
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		if in.CheckOnly {
			return nil
		}
		moved := !start.Equal(cur.StartsAt) || loc.ID != cur.LocationID
		var changes []string
		if moved {
			changes = append(changes, "start/location")
		}
		if !sameID(in.ProviderID, cur.ProviderID) {
			changes = append(changes, "provider")
		}
		typeID := cur.AppointmentTypeID
		if in.TypeSet && !sameID(in.TypeID, cur.AppointmentTypeID) {
			typ, err := s.loadType(ctx, in, fe)
			if err != nil {
				return err
			}
			if err := fe.Err(); err != nil {
				return err
			}
			typeID = typeIDOf(typ)
			changes = append(changes, "type")
		}
		if duration != cur.DurationMinutes {
			changes = append(changes, "duration")
		}
		if notes != cur.Notes {
			changes = append(changes, "notes")
		}
		externalID := in.externalID(cur.ExternalID)
		if externalID != cur.ExternalID {
			if err := s.checkAppointmentExternalID(ctx, externalID, id, fe); err != nil {
				return err
			}
			if err := fe.Err(); err != nil {
				return err
			}
			changes = append(changes, "external id")
		}
		if len(changes) == 0 {
			out = cur
			return nil
		}
		if moved && !cur.Status.Active() && cur.Status != models.RescheduleRequested {
			return models.FieldErrors{"status": fmt.Sprintf("a %s appointment cannot be rescheduled; restore it or book a new one", statusWord(cur.Status))}
		}
		if in.CheckSlot && (moved || !sameID(in.ProviderID, cur.ProviderID) || duration > cur.DurationMinutes) {
			var provider *models.Provider
			if in.ProviderID != nil {
				if provider, err = s.store.Provider(ctx, *in.ProviderID); err != nil {
					return err
				}
			}
			sl := availability.Slot{LocationID: loc.ID, ProviderID: in.ProviderID, Duration: time.Duration(duration) * time.Minute, ExceptID: id}
			if m, err := s.slotWarning(ctx, sl, start, loc, provider); err != nil || m != "" {
				return slotRefusal(m, err)
			}
		}
		next := *cur
		next.LocationID, next.ProviderID, next.StartsAt = loc.ID, in.ProviderID, start
		next.DurationMinutes, next.Notes, next.UpdatedAt = duration, notes, now
		next.ExternalID, next.AppointmentTypeID = externalID, typeID
		// A move resets a confirmation (the patient confirmed the old time)
		// and answers a request for another time: staff chose the time.
		reset := moved && (cur.Status == models.Confirmed || cur.Status == models.RescheduleRequested)
		if reset {
			if !cur.Status.CanMove(models.Scheduled) {
				return &models.ErrBadTransition{From: string(cur.Status), To: string(models.Scheduled)}
			}
			next.Status, next.ConfirmedAt = models.Scheduled, nil
		}
		if err := s.store.SaveAppointment(ctx, &next); err != nil {
			return err
		}
		if err := s.endOffers(ctx, cur, &next, now); err != nil {
			return err
		}
		if moved {
			if err := s.freeSlot(ctx, cur, now); err != nil {
				return err
			}
		}
		action, event := "appointment.update", models.EventAppointmentUpdated
		var detail string
		if moved {
			action, event = "appointment.reschedule", models.EventAppointmentRescheduled
			detail = fmt.Sprintf("Rescheduled from %s at %s to %s at %s by %s",
				fmtWhen(cur.StartsAt, cur.Location.Zone(), now), cur.Location.Name,
				fmtWhen(start, loc.Zone(), now), loc.Name, actor.Label())
			if reset {
				detail += "; the confirmation was reset"
			}
			if others := changes[1:]; len(others) > 0 {
				detail += "; also changed " + strings.Join(others, ", ")
			}
		} else {
			detail = fmt.Sprintf("Edited by %s: %s", actor.Label(), strings.Join(changes, ", "))
		}
		if err := s.record(ctx, &next, actor, now, action, event, "", detail); err != nil {
			return err
		}
		if moved && s.planner != nil {
			// Staff and the API moved it: the patient is told.
			if err := s.planner.Rescheduled(ctx, id, now, !actor.IsPatient()); err != nil {
				return fmt.Errorf("replan appointment %d: %w", id, err)
			}
		} else if err := s.replan(ctx, id, now); err != nil {
			return err
		}
		changed = true
		out, err = s.store.Appointment(ctx, id)
		return err
	})
	if err != nil {
		return nil, false, wrapUnlessInput("clinic: update appointment", err)
	}
	return out, changed, nil
}

// slotRefusal is the error of a slot check: err, or the warning as a
// SlotField message.
func slotRefusal(warning string, err error) error {
	if err != nil {
		return fmt.Errorf("check the time: %w", err)
	}
	return models.FieldErrors{SlotField: warning}
}

func sameID(a, b *uint) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// statusWord is a state as people say it.
func statusWord(s models.AppointmentStatus) string {
	switch s {
	case models.NoShow:
		return "no-show"
	case models.RescheduleRequested:
		return "reschedule-requested"
	}
	return string(s)
}

// GetAppointment returns one appointment with its Patient, Location and
// Provider, or models.ErrNotFound.
func (s *Service) GetAppointment(ctx context.Context, id uint) (*models.Appointment, error) {
	a, err := s.store.Appointment(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("clinic: get appointment: %w", err)
	}
	return a, nil
}

// move describes one state change.
type move struct {
	to     models.AppointmentStatus
	action string // audit action
	event  string // domain event type
	// source says how the change came, for the domain event ("sms", "inbox").
	source string
	// set changes the fields the move changes besides status.
	set func(a *models.Appointment)
	// check refuses the move for reasons other than the state machine.
	check func(cur *models.Appointment) error
	// text is the timeline line.
	text func(cur *models.Appointment) string
	// after replans; nil means a plain replan.
	after func(ctx context.Context, id uint, now time.Time) error
}

// transition applies m to appointment id, in a transaction of its own or,
// when ctx carries one, in a savepoint of it (so a refused move leaves the
// caller's transaction as it was): state-machine check, update, audit,
// timeline, domain event and replan.
func (s *Service) transition(ctx context.Context, op string, actor models.Actor, id uint, m move) (*models.Appointment, error) {
	now := s.clock()
	var out *models.Appointment
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		// Every error below fails this savepoint as a whole: the calls it
		// makes (the replan, the slot freed) need no savepoints of their
		// own.
		ctx = s.store.Inline(ctx)
		cur, err := s.store.LockAppointment(ctx, id)
		if err != nil {
			return err
		}
		if !cur.Status.CanMove(m.to) {
			return &models.ErrBadTransition{From: string(cur.Status), To: string(m.to)}
		}
		if m.check != nil {
			if err := m.check(cur); err != nil {
				return err
			}
		}
		next := *cur
		next.Status, next.UpdatedAt = m.to, now
		if m.set != nil {
			m.set(&next)
		}
		if err := s.store.SetAppointmentStatus(ctx, &next, cur.Status); err != nil {
			return err
		}
		if err := s.endOffers(ctx, cur, &next, now); err != nil {
			return err
		}
		switch {
		case m.to == models.Cancelled:
			if err := s.freeSlot(ctx, cur, now); err != nil {
				return err
			}
		case cur.Status == models.Cancelled && next.Status.Holds():
			if err := s.takeBackSlot(ctx, cur, now); err != nil {
				return err
			}
		}
		if err := s.record(ctx, &next, actor, now, m.action, m.event, m.source, m.text(cur)); err != nil {
			return err
		}
		// The replan reads the appointment as just written, not again.
		rctx := models.WithCurrentAppointment(ctx, &next)
		switch {
		case s.planner == nil:
		case m.after != nil:
			if err := m.after(rctx, id, now); err != nil {
				return fmt.Errorf("replan appointment %d: %w", id, err)
			}
		default:
			if err := s.replan(rctx, id, now); err != nil {
				return err
			}
		}
		// The appointment as written, with its Patient, Location and
		// Provider: the replan changed none of them, so it is not read
		// again.
		done := next
		out = &done
		return nil
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: "+op, err)
	}
	return out, nil
}

// endOffers withdraws the open offers of new times of an appointment that
// stops waiting for another time (moved, confirmed at its old time,
// cancelled): their numbers no longer mean anything.
func (s *Service) endOffers(ctx context.Context, cur, next *models.Appointment, now time.Time) error {
	if cur.Status != models.RescheduleRequested || next.Status == models.RescheduleRequested {
		return nil
	}
	_, err := s.store.WithdrawOffers(ctx, cur.ID, now)
	return err
}

// RequestReschedule records that the patient asked for another time: the
// appointment, scheduled or confirmed, becomes reschedule_requested and
// keeps its slot, and its pending reminders are cancelled by the replan
// (they would ask to confirm a time the patient cannot make). source says
// how the request came ("sms", "link", "staff", "api"). An appointment
// already waiting for another time is returned as it is; one that cannot
// ask (cancelled, past, ...) returns *models.ErrBadTransition. Called
// inside a transaction, it joins it.
func (s *Service) RequestReschedule(ctx context.Context, actor models.Actor, id uint, source string) (a *models.Appointment, changed bool, err error) {
	source, err = checkSource(source)
	if err != nil {
		return nil, false, err
	}
	now := s.clock()
	cur, err := s.store.Appointment(ctx, id)
	if err != nil {
		return nil, false, fmt.Errorf("clinic: request reschedule: %w", err)
	}
	if cur.Status == models.RescheduleRequested {
		return cur, false, nil
	}
	a, err = s.transition(ctx, "request reschedule", actor, id, move{
		to: models.RescheduleRequested, action: "appointment.request_reschedule", event: models.EventRescheduleRequested, source: source,
		check: func(cur *models.Appointment) error {
			if !cur.StartsAt.After(now) {
				return &models.ErrBadTransition{From: string(cur.Status), To: string(models.RescheduleRequested)}
			}
			return nil
		},
		set: func(a *models.Appointment) { a.ConfirmedAt = nil },
		text: func(*models.Appointment) string {
			return fmt.Sprintf("Another time asked for by %s (%s)", actor.Label(), source)
		},
	})
	return a, err == nil, err
}

// MoveToOffered moves an appointment waiting for another time to start,
// a time offered to the patient and found free by the caller in the same
// transaction, and marks it confirmed: the patient chose the time. The
// reminders are replanned for the new time; no reschedule notice is
// queued (the caller confirms the time picked in its own words). The
// timeline says what moved and why (how). An appointment no longer waiting
// for another time returns *models.ErrBadTransition.
func (s *Service) MoveToOffered(ctx context.Context, actor models.Actor, id uint, start time.Time, how string) (*models.Appointment, error) {
	now := s.clock()
	var out *models.Appointment
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.store.LockAppointment(ctx, id)
		if err != nil {
			return err
		}
		if cur.Status != models.RescheduleRequested {
			return &models.ErrBadTransition{From: string(cur.Status), To: string(models.Confirmed)}
		}
		next := *cur
		next.StartsAt, next.Status, next.UpdatedAt = models.DBTime(start), models.Confirmed, now
		next.ConfirmedAt = &now
		if err := s.store.SaveAppointment(ctx, &next); err != nil {
			return err
		}
		if err := s.freeSlot(ctx, cur, now); err != nil {
			return err
		}
		zone := cur.Location.Zone()
		detail := fmt.Sprintf("Rescheduled from %s to %s by %s (%s)",
			fmtWhen(cur.StartsAt, zone, now), fmtWhen(next.StartsAt, zone, now), actor.Label(), how)
		if err := s.record(ctx, &next, actor, now, "appointment.reschedule", models.EventAppointmentRescheduled, "sms", detail); err != nil {
			return err
		}
		if s.planner != nil {
			if err := s.planner.Rescheduled(ctx, id, now, false); err != nil {
				return fmt.Errorf("replan appointment %d: %w", id, err)
			}
		}
		out, err = s.store.Appointment(ctx, id)
		return err
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: move to offered time", err)
	}
	return out, nil
}

// checkSource validates a confirmation source.
func checkSource(source string) (string, error) {
	source = strings.TrimSpace(source)
	if m := checkName(source, 32); m != "" {
		return "", models.FieldErrors{"source": m}
	}
	return source, nil
}

// checkReason validates a cancellation reason (optional).
func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if m := checkText(reason, 300, false); m != "" {
		return "", models.FieldErrors{"reason": m}
	}
	return reason, nil
}

// Confirm marks an appointment confirmed, by staff or by the patient; source
// says how ("staff", "sms", "api", "link", "inbox"). Confirming one that is
// not scheduled returns *models.ErrBadTransition. Called inside a
// transaction (a webhook's), it joins it. The result has Patient, Location
// and Provider loaded.
func (s *Service) Confirm(ctx context.Context, actor models.Actor, id uint, source string) (*models.Appointment, error) {
	source, err := checkSource(source)
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, "confirm appointment", actor, id, move{
		to: models.Confirmed, action: "appointment.confirm", event: models.EventAppointmentConfirmed, source: source,
		set: func(a *models.Appointment) { at := a.UpdatedAt; a.ConfirmedAt = &at },
		text: func(*models.Appointment) string {
			return fmt.Sprintf("Confirmed by %s (%s)", actor.Label(), source)
		},
	})
}

// Cancel cancels an appointment with an optional reason (at most 300
// characters); its pending messages are cancelled by the replan. A
// cancellation by anyone but the patient sends the cancellation notice when
// the clinic sends one. Called inside a transaction, it joins it.
func (s *Service) Cancel(ctx context.Context, actor models.Actor, id uint, reason string) (*models.Appointment, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	source := ""
	if actor.IsPatient() {
		source = "sms"
	}
	return s.transition(ctx, "cancel appointment", actor, id, move{
		to: models.Cancelled, action: "appointment.cancel", event: models.EventAppointmentCancelled, source: source,
		set: func(a *models.Appointment) { at := a.UpdatedAt; a.CancelledAt = &at },
		text: func(*models.Appointment) string {
			t := "Cancelled by " + actor.Label()
			if reason != "" {
				t += ": " + reason
			}
			return t
		},
		after: func(ctx context.Context, id uint, now time.Time) error {
			return s.planner.Cancelled(ctx, id, now, !actor.IsPatient())
		},
	})
}

// afterStart refuses a move before the appointment has started.
func afterStart(now time.Time, what string) func(*models.Appointment) error {
	return func(cur *models.Appointment) error {
		if now.Before(cur.StartsAt) {
			return models.FieldErrors{"status": "can be set to " + what + " only after the appointment has started"}
		}
		return nil
	}
}

// MarkCompleted records that the patient came; only after the start.
func (s *Service) MarkCompleted(ctx context.Context, actor models.Actor, id uint) (*models.Appointment, error) {
	return s.transition(ctx, "mark appointment completed", actor, id, move{
		to: models.Completed, action: "appointment.complete", event: models.EventAppointmentCompleted,
		check: afterStart(s.clock(), "completed"),
		text:  func(*models.Appointment) string { return "Marked completed by " + actor.Label() },
	})
}

// MarkNoShow records that the patient did not come; only after the start.
// When the planner can (NoShowPlanner), the no-show follow-up is queued.
func (s *Service) MarkNoShow(ctx context.Context, actor models.Actor, id uint) (*models.Appointment, error) {
	return s.markNoShow(ctx, actor, id, false)
}

// markNoShow marks appointment id a no-show; onlyScheduled refuses one
// that is not scheduled (confirmed meanwhile, say) with
// *models.ErrBadTransition.
func (s *Service) markNoShow(ctx context.Context, actor models.Actor, id uint, onlyScheduled bool) (*models.Appointment, error) {
	started := afterStart(s.clock(), "no-show")
	m := move{
		to: models.NoShow, action: "appointment.no_show", event: models.EventAppointmentNoShow,
		check: func(cur *models.Appointment) error {
			if onlyScheduled && cur.Status != models.Scheduled {
				return &models.ErrBadTransition{From: string(cur.Status), To: string(models.NoShow)}
			}
			return started(cur)
		},
		text: func(*models.Appointment) string { return "Marked no-show by " + actor.Label() },
	}
	if ns, ok := s.planner.(NoShowPlanner); ok {
		m.after = ns.NoShow
	}
	return s.transition(ctx, "mark appointment no-show", actor, id, m)
}

// Restore brings a cancelled appointment back to scheduled (unconfirmed);
// its messages are planned again. Restoring one that is not cancelled
// returns *models.ErrBadTransition.
func (s *Service) Restore(ctx context.Context, actor models.Actor, id uint) (*models.Appointment, error) {
	return s.transition(ctx, "restore appointment", actor, id, move{
		to: models.Scheduled, action: "appointment.restore", event: models.EventAppointmentRestored,
		check: func(cur *models.Appointment) error {
			if cur.Status != models.Cancelled {
				return &models.ErrBadTransition{From: string(cur.Status), To: string(models.Scheduled)}
			}
			return nil
		},
		set:  func(a *models.Appointment) { a.CancelledAt, a.ConfirmedAt = nil, nil },
		text: func(*models.Appointment) string { return "Restored by " + actor.Label() },
	})
}

// AppointmentQuery filters, sorts and pages the appointment list. Zero
// values mean "any".
type AppointmentQuery struct {
	// From (inclusive) and To (exclusive) bound the start.
	From, To   time.Time
	LocationID uint
	// Status is one of models.AppointmentStatuses, or "".
	Status     string
	ProviderID uint
	PatientID  uint
	// Search matches the patient's name or phone, as in PatientQuery.
	Search string
	// Sort is "starts_at" (the default), "-starts_at", "status" or "patient".
	Sort string
	// Page starts at 1; PerPage 0 means DefaultPerPage, at most MaxPerPage.
	Page, PerPage int
}

// ListAppointments returns one page of appointments (with Patient, Location
// and Provider loaded) and the total matching q.
func (s *Service) ListAppointments(ctx context.Context, q AppointmentQuery) ([]models.Appointment, int64, error) {
	fe := models.FieldErrors{}
	if !models.ValidAppointmentOrder(q.Sort) {
		fe.Add("sort", "must be one of starts_at, -starts_at, status, patient")
	}
	if q.Status != "" && !models.AppointmentStatus(q.Status).Valid() {
		fe.Add("status", "must be one of scheduled, confirmed, cancelled, completed, no_show")
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		fe.Add("to", "must be after from")
	}
	if m := checkText(q.Search, 100, false); m != "" {
		fe.Add("search", m)
	}
	offset, limit := paging(fe, q.Page, q.PerPage)
	if err := fe.Err(); err != nil {
		return nil, 0, err
	}
	match, err := s.patientMatch(ctx, q.Search)
	if err != nil {
		return nil, 0, fmt.Errorf("clinic: list appointments: %w", err)
	}
	items, total, err := s.store.Appointments(ctx, models.AppointmentFilter{
		From: q.From, To: q.To, LocationID: q.LocationID, Status: models.AppointmentStatus(q.Status),
		ProviderID: q.ProviderID, PatientID: q.PatientID, Match: match,
		Order: q.Sort, Offset: offset, Limit: limit,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("clinic: list appointments: %w", err)
	}
	return items, total, nil
}

// Timeline returns an appointment's timeline, oldest first, or
// models.ErrNotFound when the appointment does not exist.
func (s *Service) Timeline(ctx context.Context, appointmentID uint) ([]models.TimelineEntry, error) {
	es, err := s.store.Timeline(ctx, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("clinic: timeline: %w", err)
	}
	return es, nil
}

// fmtWhen formats an instant for people in zone: "Tue 3 Mar 10:00", with
// the year when it is not the current one.
func fmtWhen(t time.Time, zone *time.Location, now time.Time) string {
	lt := t.In(zone)
	if lt.Year() != now.In(zone).Year() {
		return lt.Format("Mon 2 Jan 2006 15:04")
	}
	return lt.Format("Mon 2 Jan 15:04")
}

// Messages returns an appointment's outbound messages in the order they
// go out.
func (s *Service) Messages(ctx context.Context, appointmentID uint) ([]models.Message, error) {
	ms, err := s.store.MessagesBySendTime(ctx, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("clinic: messages: %w", err)
	}
	return ms, nil
}

// MessageSummaries returns the messages of the appointments in ids, without
// their text, keyed by appointment, each list in send order.
func (s *Service) MessageSummaries(ctx context.Context, ids []uint) (map[uint][]models.Message, error) {
	out, err := s.store.MessageSummaries(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("clinic: messages: %w", err)
	}
	return out, nil
}

// ReplySummaries returns the latest reply matched to each appointment in
// ids (without its text), for the reply chips of the day view.
func (s *Service) ReplySummaries(ctx context.Context, ids []uint) (map[uint]models.InboundMessage, error) {
	out, err := s.store.ReplySummaries(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("clinic: replies: %w", err)
	}
	return out, nil
}

// loadType returns the type in.TypeID names (nil when the input gives
// none), or adds a field error when it does not exist.
func (s *Service) loadType(ctx context.Context, in AppointmentInput, fe models.FieldErrors) (*models.AppointmentType, error) {
	if !in.TypeSet || in.TypeID == nil {
		return nil, nil
	}
	t, err := s.store.AppointmentType(ctx, *in.TypeID)
	if errors.Is(err, models.ErrNotFound) {
		fe.Add("appointment_type_id", "no such appointment type")
		return nil, nil
	}
	return t, err
}

// typeIDOf is t's id, nil for no type.
func typeIDOf(t *models.AppointmentType) *uint {
	if t == nil {
		return nil
	}
	id := t.ID
	return &id
}
