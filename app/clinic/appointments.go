package clinic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"apptconfirm/models"
)

// Appointment limits.
const (
	MaxDurationMinutes = 720
	MaxNotes           = 2000
	// LocalTimeLayout is how StartsLocal is written, as an
	// <input type="datetime-local"> sends it.
	LocalTimeLayout = "2006-01-02T15:04"
	// PastStartMessage is the FieldErrors message on "starts_at" for a start
	// in the past; the UI shows a "book it anyway" box (AllowPast) with it.
	PastStartMessage = "is in the past; confirm to book it anyway"
)

// AppointmentInput is an appointment as staff or the API enter it. Field
// names in FieldErrors: patient_id, location_id, provider_id, starts_at,
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
}

// hasStart reports whether the input names a start.
func (in AppointmentInput) hasStart() bool {
	return strings.TrimSpace(in.StartsLocal) != "" || !in.StartsAt.IsZero()
}

// resolveStart turns the input's start into an instant in zone. It returns a
// FieldErrors message for "starts_at", or "".
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

// refs are the rows an appointment points to.
type refs struct {
	patient  *models.Patient
	location *models.Location
	provider *models.Provider
}

// loadLocation loads a location by id, or the default one for id 0; a
// missing one is recorded in fe.
func loadLocation(ctx context.Context, tx *models.Store, id uint, fe FieldErrors) (*models.Location, error) {
	if id == 0 {
		l, err := defaultLocation(ctx, tx)
		if errors.Is(err, models.ErrNotFound) {
			fe.add("location_id", "required: there is no default location yet")
			return nil, nil
		}
		return l, err
	}
	var l models.Location
	if err := tx.DB(ctx).First(&l, id).Error; err != nil {
		return nil, fieldIfNotFound(models.Classify(err), fe, "location_id")
	}
	return &l, nil
}

// loadProvider loads a provider that must be active; a missing or inactive
// one is recorded in fe.
func loadProvider(ctx context.Context, tx *models.Store, id uint, fe FieldErrors) (*models.Provider, error) {
	var p models.Provider
	if err := tx.DB(ctx).First(&p, id).Error; err != nil {
		return nil, fieldIfNotFound(models.Classify(err), fe, "provider_id")
	}
	if !p.Active {
		fe.add("provider_id", "is not active")
		return nil, nil
	}
	return &p, nil
}

// CreateAppointment books an appointment: it validates the input, inserts it
// as scheduled, writes its audit and timeline rows and plans its messages,
// all in one transaction.
func (s *Service) CreateAppointment(ctx context.Context, actor Actor, in AppointmentInput) (*models.Appointment, error) {
	fe := FieldErrors{}
	if in.PatientID == 0 {
		fe.add("patient_id", "required")
	}
	if m := checkDuration(in.DurationMinutes); m != "" {
		fe.add("duration_minutes", m)
	}
	notes := strings.TrimSpace(in.Notes)
	if m := checkText(notes, MaxNotes, true); m != "" {
		fe.add("notes", m)
	}
	if !in.hasStart() {
		fe.add("starts_at", "required")
	}
	now := s.clock()
	var out *models.Appointment
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		var r refs
		var err error
		if in.PatientID != 0 {
			var p models.Patient
			if err := tx.DB(ctx).First(&p, in.PatientID).Error; err != nil {
				if err := fieldIfNotFound(models.Classify(err), fe, "patient_id"); err != nil {
					return err
				}
			} else {
				r.patient = &p
			}
		}
		if r.location, err = loadLocation(ctx, tx, in.LocationID, fe); err != nil {
			return err
		}
		if in.ProviderID != nil {
			if r.provider, err = loadProvider(ctx, tx, *in.ProviderID, fe); err != nil {
				return err
			}
		}
		var start time.Time
		if r.location != nil && in.hasStart() {
			var m string
			if start, m = in.resolveStart(r.location.Zone()); m != "" {
				fe.add("starts_at", m)
			} else if start.Before(now) && !in.AllowPast {
				fe.add("starts_at", PastStartMessage)
			}
		}
		if err := fe.err(); err != nil {
			return err
		}
		a := models.Appointment{
			PatientID:       r.patient.ID,
			LocationID:      r.location.ID,
			ProviderID:      in.ProviderID,
			StartsAt:        start,
			DurationMinutes: in.DurationMinutes,
			Notes:           notes,
			Status:          models.Scheduled,
			CreatedAt:       now,
			UpdatedAt:       now,
		}
		if err := tx.DB(ctx).Create(&a).Error; err != nil {
			return err
		}
		when := fmtWhen(a.StartsAt, r.location.Zone(), now)
		with := ""
		if r.provider != nil {
			with = " with " + r.provider.Name
		}
		detail := fmt.Sprintf("patient %d, %s (%s) at %s%s, %d min", a.PatientID, when, r.location.TimeZone, r.location.Name, with, a.DurationMinutes)
		if err := RecordAudit(ctx, tx, now, actor, "appointment.create", EntityAppointment, a.ID, detail); err != nil {
			return err
		}
		err = RecordTimeline(ctx, tx, models.TimelineEntry{
			AppointmentID: a.ID, At: now, Kind: actor.timelineKind(), UserID: actor.UserID,
			Detail: fmt.Sprintf("Booked for %s at %s%s by %s", when, r.location.Name, with, actor.label()),
		})
		if err != nil {
			return err
		}
		if err := s.replan(ctx, tx, a.ID, now); err != nil {
			return err
		}
		out, err = loadAppointment(ctx, tx, a.ID, false)
		return err
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
// "Rescheduled from … to …". Every field of in replaces the stored one,
// except that LocationID 0, an empty start, DurationMinutes 0 and
// PatientID 0 keep what is stored (the patient cannot change: cancel and
// book again). The messages are replanned in the same transaction. Nothing
// is written when nothing changes.
func (s *Service) UpdateAppointment(ctx context.Context, actor Actor, id uint, in AppointmentInput) (*models.Appointment, error) {
	fe := FieldErrors{}
	if in.DurationMinutes != 0 {
		if m := checkDuration(in.DurationMinutes); m != "" {
			fe.add("duration_minutes", m)
		}
	}
	notes := strings.TrimSpace(in.Notes)
	if m := checkText(notes, MaxNotes, true); m != "" {
		fe.add("notes", m)
	}
	now := s.clock()
	var out *models.Appointment
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		cur, err := loadAppointment(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if in.PatientID != 0 && in.PatientID != cur.PatientID {
			fe.add("patient_id", "cannot be changed; cancel this appointment and book a new one")
		}
		loc := cur.Location
		if in.LocationID != 0 && in.LocationID != cur.LocationID {
			if loc, err = loadLocation(ctx, tx, in.LocationID, fe); err != nil {
				return err
			}
		}
		// Keeping a provider who has since become inactive is fine; choosing one is not.
		if in.ProviderID != nil && !sameID(in.ProviderID, cur.ProviderID) {
			if _, err = loadProvider(ctx, tx, *in.ProviderID, fe); err != nil {
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
				fe.add("starts_at", m)
				start = cur.StartsAt
			} else if !start.Equal(cur.StartsAt) && start.Before(now) && !in.AllowPast {
				fe.add("starts_at", PastStartMessage)
			}
		}
		if err := fe.err(); err != nil {
			return err
		}
		moved := !start.Equal(cur.StartsAt) || loc.ID != cur.LocationID
		var changes []string
		if moved {
			changes = append(changes, "start/location")
		}
		if !sameID(in.ProviderID, cur.ProviderID) {
			changes = append(changes, "provider")
		}
		if duration != cur.DurationMinutes {
			changes = append(changes, "duration")
		}
		if notes != cur.Notes {
			changes = append(changes, "notes")
		}
		if len(changes) == 0 {
			out = cur
			return nil
		}
		if moved && !cur.Status.Active() {
			return FieldErrors{"status": fmt.Sprintf("a %s appointment cannot be rescheduled; restore it or book a new one", statusWord(cur.Status))}
		}
		upd := map[string]any{
			"location_id": loc.ID, "provider_id": in.ProviderID, "starts_at": start,
			"duration_minutes": duration, "notes": notes, "updated_at": now,
		}
		reset := moved && cur.Status == models.Confirmed
		if reset {
			if !cur.Status.CanMove(models.Scheduled) {
				return &models.ErrBadTransition{From: string(cur.Status), To: string(models.Scheduled)}
			}
			upd["status"] = models.Scheduled
			upd["confirmed_at"] = gorm.Expr("NULL")
		}
		if err := tx.DB(ctx).Model(&models.Appointment{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		action := "appointment.update"
		var detail string
		if moved {
			action = "appointment.reschedule"
			detail = fmt.Sprintf("Rescheduled from %s at %s to %s at %s by %s",
				fmtWhen(cur.StartsAt, cur.Location.Zone(), now), cur.Location.Name,
				fmtWhen(start, loc.Zone(), now), loc.Name, actor.label())
			if reset {
				detail += "; the confirmation was reset"
			}
			if others := changes[1:]; len(others) > 0 {
				detail += "; also changed " + strings.Join(others, ", ")
			}
		} else {
			detail = fmt.Sprintf("Edited by %s: %s", actor.label(), strings.Join(changes, ", "))
		}
		if err := RecordAudit(ctx, tx, now, actor, action, EntityAppointment, id, detail); err != nil {
			return err
		}
		err = RecordTimeline(ctx, tx, models.TimelineEntry{
			AppointmentID: id, At: now, Kind: actor.timelineKind(), UserID: actor.UserID, Detail: detail,
		})
		if err != nil {
			return err
		}
		if err := s.replan(ctx, tx, id, now); err != nil {
			return err
		}
		out, err = loadAppointment(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: update appointment", err)
	}
	return out, nil
}

func sameID(a, b *uint) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// statusWord is a state as people say it.
func statusWord(s models.AppointmentStatus) string {
	if s == models.NoShow {
		return "no-show"
	}
	return string(s)
}

// loadAppointment loads an appointment with its patient, location and
// provider, locking it for update when lock is set.
func loadAppointment(ctx context.Context, tx *models.Store, id uint, lock bool) (*models.Appointment, error) {
	db := tx.DB(ctx)
	if lock {
		db = db.Scopes(models.ForUpdate(tx))
	}
	var a models.Appointment
	if err := db.First(&a, id).Error; err != nil {
		if err = models.Classify(err); errors.Is(err, models.ErrNotFound) {
			return nil, notFound("appointment", id)
		}
		return nil, err
	}
	// The related rows are read separately so FOR UPDATE locks the appointment only.
	var p models.Patient
	if err := tx.DB(ctx).First(&p, a.PatientID).Error; err != nil {
		return nil, fmt.Errorf("appointment %d: patient: %w", id, models.Classify(err))
	}
	a.Patient = &p
	var l models.Location
	if err := tx.DB(ctx).First(&l, a.LocationID).Error; err != nil {
		return nil, fmt.Errorf("appointment %d: location: %w", id, models.Classify(err))
	}
	a.Location = &l
	if a.ProviderID != nil {
		var pr models.Provider
		if err := tx.DB(ctx).First(&pr, *a.ProviderID).Error; err != nil {
			return nil, fmt.Errorf("appointment %d: provider: %w", id, models.Classify(err))
		}
		a.Provider = &pr
	}
	return &a, nil
}

// GetAppointment returns one appointment with its Patient, Location and
// Provider, or models.ErrNotFound.
func (s *Service) GetAppointment(ctx context.Context, id uint) (*models.Appointment, error) {
	a, err := loadAppointment(ctx, s.store, id, false)
	if err != nil {
		return nil, fmt.Errorf("clinic: get appointment: %w", models.Classify(err))
	}
	return a, nil
}

// move describes one state change.
type move struct {
	to     models.AppointmentStatus
	action string // audit action
	// set adds the columns the move changes besides status.
	set func(cur *models.Appointment, upd map[string]any)
	// check refuses the move for reasons other than the state machine.
	check func(cur *models.Appointment) error
	// text is the timeline line.
	text func(cur *models.Appointment) string
}

// transition applies m to appointment id inside tx (in a savepoint, so a
// failure leaves the caller's transaction as it was): state-machine check,
// update, audit, timeline and replan.
func (s *Service) transition(ctx context.Context, tx *models.Store, actor Actor, id uint, m move, now time.Time) (*models.Appointment, error) {
	now = dbTime(now)
	var out *models.Appointment
	err := tx.Tx(ctx, func(tx *models.Store) error {
		cur, err := loadAppointment(ctx, tx, id, true)
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
		upd := map[string]any{"status": m.to, "updated_at": now}
		if m.set != nil {
			m.set(cur, upd)
		}
		res := tx.DB(ctx).Model(&models.Appointment{}).Where("id = ? AND status = ?", id, cur.Status).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("appointment %d changed meanwhile: %w", id, models.ErrConflict)
		}
		detail := m.text(cur)
		if err := RecordAudit(ctx, tx, now, actor, m.action, EntityAppointment, id, detail); err != nil {
			return err
		}
		err = RecordTimeline(ctx, tx, models.TimelineEntry{
			AppointmentID: id, At: now, Kind: actor.timelineKind(), UserID: actor.UserID, Detail: detail,
		})
		if err != nil {
			return err
		}
		if err := s.replan(ctx, tx, id, now); err != nil {
			return err
		}
		out, err = loadAppointment(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// run applies a move in a transaction of its own.
func (s *Service) run(ctx context.Context, op string, actor Actor, id uint, m move) (*models.Appointment, error) {
	now := s.clock()
	var out *models.Appointment
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		var err error
		out, err = s.transition(ctx, tx, actor, id, m, now)
		return err
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: "+op, err)
	}
	return out, nil
}

// confirmMove confirms; source says how ("staff", "sms", "api", "link").
func confirmMove(actor Actor, source string, now time.Time) move {
	return move{
		to: models.Confirmed, action: "appointment.confirm",
		set: func(_ *models.Appointment, upd map[string]any) { upd["confirmed_at"] = now },
		text: func(*models.Appointment) string {
			return fmt.Sprintf("Confirmed by %s (%s)", actor.label(), source)
		},
	}
}

// cancelMove cancels with a reason.
func cancelMove(actor Actor, reason string, now time.Time) move {
	return move{
		to: models.Cancelled, action: "appointment.cancel",
		set: func(_ *models.Appointment, upd map[string]any) { upd["cancelled_at"] = now },
		text: func(*models.Appointment) string {
			t := "Cancelled by " + actor.label()
			if reason != "" {
				t += ": " + reason
			}
			return t
		},
	}
}

// checkSource validates a confirmation source.
func checkSource(source string) (string, error) {
	source = strings.TrimSpace(source)
	if m := checkName(source, 32); m != "" {
		return "", FieldErrors{"source": m}
	}
	return source, nil
}

// checkReason validates a cancellation reason (optional).
func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if m := checkText(reason, 300, false); m != "" {
		return "", FieldErrors{"reason": m}
	}
	return reason, nil
}

// Confirm marks an appointment confirmed, by staff or by the patient; source
// says how ("staff", "sms", "api", "link"). Confirming one that is not
// scheduled returns *models.ErrBadTransition.
func (s *Service) Confirm(ctx context.Context, actor Actor, id uint, source string) (*models.Appointment, error) {
	source, err := checkSource(source)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, "confirm appointment", actor, id, confirmMove(actor, source, s.clock()))
}

// ConfirmTx is Confirm inside the caller's transaction (webhook processing),
// at the caller's now. The result has Patient, Location and Provider loaded.
func (s *Service) ConfirmTx(ctx context.Context, tx *models.Store, actor Actor, id uint, source string, now time.Time) (*models.Appointment, error) {
	source, err := checkSource(source)
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, tx, actor, id, confirmMove(actor, source, dbTime(now)), now)
}

// Cancel cancels an appointment with an optional reason (at most 300
// characters); its pending messages are cancelled by the replan.
func (s *Service) Cancel(ctx context.Context, actor Actor, id uint, reason string) (*models.Appointment, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, "cancel appointment", actor, id, cancelMove(actor, reason, s.clock()))
}

// CancelTx is Cancel inside the caller's transaction (webhook processing).
func (s *Service) CancelTx(ctx context.Context, tx *models.Store, actor Actor, id uint, reason string, now time.Time) (*models.Appointment, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, tx, actor, id, cancelMove(actor, reason, dbTime(now)), now)
}

// afterStart refuses a move before the appointment has started.
func afterStart(now time.Time, what string) func(*models.Appointment) error {
	return func(cur *models.Appointment) error {
		if now.Before(cur.StartsAt) {
			return FieldErrors{"status": "can be set to " + what + " only after the appointment has started"}
		}
		return nil
	}
}

// MarkCompleted records that the patient came; only after the start.
func (s *Service) MarkCompleted(ctx context.Context, actor Actor, id uint) (*models.Appointment, error) {
	now := s.clock()
	return s.run(ctx, "mark appointment completed", actor, id, move{
		to: models.Completed, action: "appointment.complete", check: afterStart(now, "completed"),
		text: func(*models.Appointment) string { return "Marked completed by " + actor.label() },
	})
}

// MarkNoShow records that the patient did not come; only after the start.
func (s *Service) MarkNoShow(ctx context.Context, actor Actor, id uint) (*models.Appointment, error) {
	now := s.clock()
	return s.run(ctx, "mark appointment no-show", actor, id, move{
		to: models.NoShow, action: "appointment.no_show", check: afterStart(now, "no-show"),
		text: func(*models.Appointment) string { return "Marked no-show by " + actor.label() },
	})
}

// Restore brings a cancelled appointment back to scheduled (unconfirmed);
// its messages are planned again. Restoring one that is not cancelled
// returns *models.ErrBadTransition.
func (s *Service) Restore(ctx context.Context, actor Actor, id uint) (*models.Appointment, error) {
	return s.run(ctx, "restore appointment", actor, id, move{
		to: models.Scheduled, action: "appointment.restore",
		check: func(cur *models.Appointment) error {
			if cur.Status != models.Cancelled {
				return &models.ErrBadTransition{From: string(cur.Status), To: string(models.Scheduled)}
			}
			return nil
		},
		set: func(_ *models.Appointment, upd map[string]any) {
			upd["cancelled_at"] = gorm.Expr("NULL")
			upd["confirmed_at"] = gorm.Expr("NULL")
		},
		text: func(*models.Appointment) string { return "Restored by " + actor.label() },
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

// appointmentSorts is the allow-list of appointment orderings (QUALITY A5).
var appointmentSorts = map[string]string{
	"":           "appointments.starts_at, appointments.id",
	"starts_at":  "appointments.starts_at, appointments.id",
	"-starts_at": "appointments.starts_at DESC, appointments.id DESC",
	"status":     "appointments.status, appointments.starts_at, appointments.id",
	"patient":    "LOWER(patients.last_name), LOWER(patients.first_name), appointments.starts_at, appointments.id",
}

// ListAppointments returns one page of appointments (with Patient, Location
// and Provider loaded) and the total matching q.
func (s *Service) ListAppointments(ctx context.Context, q AppointmentQuery) ([]models.Appointment, int64, error) {
	fe := FieldErrors{}
	order, ok := appointmentSorts[q.Sort]
	if !ok {
		fe.add("sort", "must be one of starts_at, -starts_at, status, patient")
	}
	if q.Status != "" && !models.AppointmentStatus(q.Status).Valid() {
		fe.add("status", "must be one of scheduled, confirmed, cancelled, completed, no_show")
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		fe.add("to", "must be after from")
	}
	if m := checkText(q.Search, 100, false); m != "" {
		fe.add("search", m)
	}
	offset, limit := paging(fe, q.Page, q.PerPage)
	if err := fe.err(); err != nil {
		return nil, 0, err
	}
	cond, args, err := s.searchCondition(ctx, q.Search)
	if err != nil {
		return nil, 0, fmt.Errorf("clinic: list appointments: %w", err)
	}
	base := func() *gorm.DB {
		db := s.store.DB(ctx).Model(&models.Appointment{})
		// The start range first: it is what the indexes lead with.
		if !q.From.IsZero() {
			db = db.Where("appointments.starts_at >= ?", q.From.UTC())
		}
		if !q.To.IsZero() {
			db = db.Where("appointments.starts_at < ?", q.To.UTC())
		}
		if q.LocationID != 0 {
			db = db.Where("appointments.location_id = ?", q.LocationID)
		}
		if q.Status != "" {
			db = db.Where("appointments.status = ?", q.Status)
		}
		if q.ProviderID != 0 {
			db = db.Where("appointments.provider_id = ?", q.ProviderID)
		}
		if q.PatientID != 0 {
			db = db.Where("appointments.patient_id = ?", q.PatientID)
		}
		if cond != "" {
			sub := s.store.DB(ctx).Model(&models.Patient{}).Select("id").Where(cond, args...)
			db = db.Where("appointments.patient_id IN (?)", sub)
		}
		return db
	}
	var total int64
	if err := base().Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("clinic: list appointments: %w", models.Classify(err))
	}
	db := base()
	if q.Sort == "patient" {
		db = db.Joins("JOIN patients ON patients.id = appointments.patient_id")
	}
	var items []models.Appointment
	err = db.Select("appointments.*").Order(order).Offset(offset).Limit(limit).
		Preload("Patient").Preload("Location").Preload("Provider").Find(&items).Error
	if err != nil {
		return nil, 0, fmt.Errorf("clinic: list appointments: %w", models.Classify(err))
	}
	return items, total, nil
}

// Timeline returns an appointment's timeline, oldest first, or
// models.ErrNotFound when the appointment does not exist.
func (s *Service) Timeline(ctx context.Context, appointmentID uint) ([]models.TimelineEntry, error) {
	var n int64
	if err := s.store.DB(ctx).Model(&models.Appointment{}).Where("id = ?", appointmentID).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("clinic: timeline: %w", models.Classify(err))
	}
	if n == 0 {
		return nil, fmt.Errorf("clinic: timeline: %w", notFound("appointment", appointmentID))
	}
	var es []models.TimelineEntry
	err := s.store.DB(ctx).Where("appointment_id = ?", appointmentID).Order("at, id").Find(&es).Error
	if err != nil {
		return nil, fmt.Errorf("clinic: timeline: %w", models.Classify(err))
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
