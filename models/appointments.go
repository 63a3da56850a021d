package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ActiveStatuses are the states of an appointment that still expects the
// patient.
var ActiveStatuses = []AppointmentStatus{Scheduled, Confirmed}

// HoldingStatuses are the states of an appointment that occupies its time
// (AppointmentStatus.Holds): the active ones and reschedule_requested.
var HoldingStatuses = []AppointmentStatus{Scheduled, Confirmed, RescheduleRequested}

// Appointment returns one appointment with its Patient, Location and
// Provider, or ErrNotFound.
func (s *Store) Appointment(ctx context.Context, id uint) (*Appointment, error) {
	return s.appointment(ctx, id, false)
}

// LockAppointment is Appointment with the appointment's row locked for
// update on PostgreSQL (its patient, location and provider are read
// without a lock).
func (s *Store) LockAppointment(ctx context.Context, id uint) (*Appointment, error) {
	if h, ok := ctx.Value(currentAppointmentKey{}).(currentAppointment); ok && h.a.ID == id {
		if st := s.txOf(ctx); st != nil && st.root() == h.tx {
			c := *h.a
			return &c, nil
		}
	}
	return s.appointment(ctx, id, true)
}

type currentAppointmentKey struct{}

// currentAppointment is what WithCurrentAppointment puts in a context: the
// appointment and the transaction it stands for.
type currentAppointment struct {
	a  *Appointment
	tx *txState
}

// WithCurrentAppointment returns ctx carrying a (with its Patient,
// Location, Provider and type) as it stands, locked, in the transaction
// ctx carries: LockAppointment of a.ID in that transaction returns a copy
// of it instead of reading the row again. It is for a caller that has just
// written the change it made to a and hands ctx to work that changes
// neither a nor what it carries (a replan after a change of status: the
// reply that confirms used to read the appointment it had locked a
// moment before).
//
// The hint holds only in that transaction: a context without one is
// returned as it is.
func WithCurrentAppointment(ctx context.Context, a *Appointment) context.Context {
	st, _ := ctx.Value(txKey{}).(*txState)
	if st == nil {
		return ctx
	}
	return context.WithValue(ctx, currentAppointmentKey{}, currentAppointment{a: a, tx: st.root()})
}

func (s *Store) appointment(ctx context.Context, id uint, lock bool) (*Appointment, error) {
	a, err := s.appointmentWithPatient(ctx, id, lock)
	if err != nil {
		return nil, err
	}
	if a.Location, err = s.cachedLocation(ctx, a.LocationID); err != nil {
		return nil, fmt.Errorf("appointment %d: %w", id, err)
	}
	if a.ProviderID != nil {
		if a.Provider, err = first[Provider](ctx, s, "provider", *a.ProviderID, false); err != nil {
			return nil, fmt.Errorf("appointment %d: %w", id, err)
		}
	}
	if a.AppointmentTypeID != nil {
		if a.AppointmentType, err = first[AppointmentType](ctx, s, "appointment type", *a.AppointmentTypeID, false); err != nil {
			return nil, fmt.Errorf("appointment %d: %w", id, err)
		}
	}
	return a, nil
}

// AppointmentsByID returns the appointments whose ids are in ids, with
// Patient, Location and Provider, keyed by id, in a few queries whatever
// their number.
func (s *Store) AppointmentsByID(ctx context.Context, ids []uint) (map[uint]*Appointment, error) {
	out, err := byIDs(ctx, s, ids, func(a *Appointment) uint { return a.ID }, "Patient", "Location", "Provider", "AppointmentType")
	if err != nil {
		return nil, fmt.Errorf("store: appointments: %w", err)
	}
	return out, nil
}

// AppointmentExists reports whether appointment id exists.
func (s *Store) AppointmentExists(ctx context.Context, id uint) (bool, error) {
	n, err := count[Appointment](ctx, s, "id = ?", id)
	if err != nil {
		return false, fmt.Errorf("store: appointment %d: %w", id, err)
	}
	return n > 0, nil
}

// CreateAppointment inserts a (its relations are not written).
func (s *Store) CreateAppointment(ctx context.Context, a *Appointment) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Omit("Patient", "Location", "Provider", "AppointmentType").Create(a).Error
	})
	if err != nil {
		return fmt.Errorf("store: create appointment: %w", err)
	}
	return nil
}

// SaveAppointment writes a's place, time, provider, type, notes, state,
// external id and updated_at.
func (s *Store) SaveAppointment(ctx context.Context, a *Appointment) error {
	err := update[Appointment](ctx, s, a.ID, map[string]any{
		"location_id": a.LocationID, "provider_id": a.ProviderID, "starts_at": a.StartsAt,
		"duration_minutes": a.DurationMinutes, "notes": a.Notes, "status": a.Status,
		"confirmed_at": a.ConfirmedAt, "cancelled_at": a.CancelledAt, "updated_at": a.UpdatedAt,
		"external_id": a.ExternalID, "appointment_type_id": a.AppointmentTypeID,
	})
	if err != nil {
		return fmt.Errorf("store: save appointment %d: %w", a.ID, err)
	}
	return nil
}

// SetAppointmentStatus writes a's state (status, confirmed_at,
// cancelled_at, updated_at) if the stored status is still from, and returns
// ErrConflict when it is not (another change got there first).
func (s *Store) SetAppointmentStatus(ctx context.Context, a *Appointment, from AppointmentStatus) error {
	var n int64
	// Past GORM (see execRaw): every reply that confirms or cancels runs it.
	err := s.write(ctx, func(db *gorm.DB) error {
		res, err := s.execRaw(db, "UPDATE appointments SET cancelled_at = ?, confirmed_at = ?, status = ?, updated_at = ? WHERE id = ? AND status = ?",
			a.CancelledAt, a.ConfirmedAt, string(a.Status), a.UpdatedAt, a.ID, string(from))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("store: appointment %d status: %w", a.ID, err)
	}
	if n != 1 {
		return fmt.Errorf("appointment %d changed meanwhile: %w", a.ID, ErrConflict)
	}
	return nil
}

// Appointment list orderings.
const (
	AppointmentsByStart     = "starts_at"
	AppointmentsByStartDesc = "-starts_at"
	AppointmentsByStatus    = "status"
	AppointmentsByPatient   = "patient"
)

// appointmentOrders maps each ordering onto its ORDER BY (an allow-list).
var appointmentOrders = map[string]string{
	"":                      "appointments.starts_at, appointments.id",
	AppointmentsByStart:     "appointments.starts_at, appointments.id",
	AppointmentsByStartDesc: "appointments.starts_at DESC, appointments.id DESC",
	AppointmentsByStatus:    "appointments.status, appointments.starts_at, appointments.id",
	AppointmentsByPatient:   "LOWER(patients.last_name), LOWER(patients.first_name), appointments.starts_at, appointments.id",
}

// ValidAppointmentOrder reports whether order is an appointment list ordering.
func ValidAppointmentOrder(order string) bool { _, ok := appointmentOrders[order]; return ok }

// AppointmentFilter selects appointments; zero values mean "any".
type AppointmentFilter struct {
	// From (inclusive) and To (exclusive) bound the start.
	From, To   time.Time
	LocationID uint
	ProviderID uint
	PatientID  uint
	Status     AppointmentStatus
	// Statuses keeps the appointments in any of these states.
	Statuses []AppointmentStatus
	// Match keeps the appointments of the patients it matches.
	Match PatientMatch
	// AfterID keeps the appointments with a larger id (for walking them).
	AfterID uint
	// Order is one of the Appointments* orderings ("" is by start).
	Order         string
	Offset, Limit int
}

func (f AppointmentFilter) where(s *Store, db *gorm.DB, ctx context.Context) *gorm.DB {
	// The start range first: it is what the indexes lead with.
	if !f.From.IsZero() {
		db = db.Where("appointments.starts_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		db = db.Where("appointments.starts_at < ?", f.To.UTC())
	}
	if f.LocationID != 0 {
		db = db.Where("appointments.location_id = ?", f.LocationID)
	}
	if f.Status != "" {
		db = db.Where("appointments.status = ?", f.Status)
	}
	if len(f.Statuses) > 0 {
		db = db.Where("appointments.status IN ?", f.Statuses)
	}
	if f.ProviderID != 0 {
		db = db.Where("appointments.provider_id = ?", f.ProviderID)
	}
	if f.PatientID != 0 {
		db = db.Where("appointments.patient_id = ?", f.PatientID)
	}
	if f.AfterID != 0 {
		db = db.Where("appointments.id > ?", f.AfterID)
	}
	if !f.Match.IsZero() {
		sub := f.Match.where(s.conn(ctx).Model(&Patient{}).Select("id"))
		db = db.Where("appointments.patient_id IN (?)", sub)
	}
	return db
}

// Appointments returns one page of appointments matching f, with Patient,
// Location and Provider, and the total matching f.
func (s *Store) Appointments(ctx context.Context, f AppointmentFilter) ([]Appointment, int64, error) {
	order, ok := appointmentOrders[f.Order]
	if !ok {
		return nil, 0, fmt.Errorf("store: appointments: unknown order %q", f.Order)
	}
	var total int64
	if err := f.where(s, s.conn(ctx).Model(&Appointment{}), ctx).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("store: appointments: %w", Classify(err))
	}
	items, err := s.findAppointments(ctx, f, order)
	if err != nil {
		return nil, 0, err
	}
	return items, total, nil
}

// FindAppointments returns the appointments matching f (no total), with
// Patient, Location and Provider.
func (s *Store) FindAppointments(ctx context.Context, f AppointmentFilter) ([]Appointment, error) {
	order, ok := appointmentOrders[f.Order]
	if !ok {
		return nil, fmt.Errorf("store: appointments: unknown order %q", f.Order)
	}
	return s.findAppointments(ctx, f, order)
}

func (s *Store) findAppointments(ctx context.Context, f AppointmentFilter, order string) ([]Appointment, error) {
	db := f.where(s, s.conn(ctx).Model(&Appointment{}), ctx)
	if f.Order == AppointmentsByPatient {
		db = db.Joins("JOIN patients ON patients.id = appointments.patient_id")
	}
	if f.Offset > 0 {
		db = db.Offset(f.Offset)
	}
	if f.Limit > 0 {
		db = db.Limit(f.Limit)
	}
	var items []Appointment
	err := db.Select("appointments.*").Order(order).
		Preload("Patient").Preload("Location").Preload("Provider").Preload("AppointmentType").Find(&items).Error
	if err != nil {
		return nil, fmt.Errorf("store: appointments: %w", Classify(err))
	}
	return items, nil
}

// AppointmentIDs returns the ids of the appointments matching f, by id
// unless f.Order names another ordering.
func (s *Store) AppointmentIDs(ctx context.Context, f AppointmentFilter) ([]uint, error) {
	order := "appointments.id"
	if f.Order != "" && f.Order != AppointmentsByPatient {
		var ok bool
		if order, ok = appointmentOrders[f.Order]; !ok {
			return nil, fmt.Errorf("store: appointment ids: unknown order %q", f.Order)
		}
	}
	db := f.where(s, s.conn(ctx).Model(&Appointment{}), ctx).Order(order)
	if f.Limit > 0 {
		db = db.Limit(f.Limit)
	}
	var ids []uint
	if err := db.Pluck("appointments.id", &ids).Error; err != nil {
		return nil, fmt.Errorf("store: appointment ids: %w", Classify(err))
	}
	return ids, nil
}

// UpcomingFor returns up to limit appointments starting after now that
// still hold their time (HoldingStatuses: staff may confirm or cancel one
// waiting for another time too) and belong to one of patientIDs or are one
// of ids, soonest first, with Patient, Location and Provider.
func (s *Store) UpcomingFor(ctx context.Context, patientIDs, ids []uint, now time.Time, limit int) ([]Appointment, error) {
	if len(patientIDs) == 0 && len(ids) == 0 {
		return nil, nil
	}
	db := s.conn(ctx)
	q := db.Where("status IN ? AND starts_at > ?", HoldingStatuses, now.UTC())
	switch {
	case len(patientIDs) > 0 && len(ids) > 0:
		q = q.Where(db.Where("patient_id IN ?", patientIDs).Or("id IN ?", ids))
	case len(patientIDs) > 0:
		q = q.Where("patient_id IN ?", patientIDs)
	default:
		q = q.Where("id IN ?", ids)
	}
	var out []Appointment
	q = q.Preload("Patient").Preload("Location").Preload("Provider").Preload("AppointmentType").Order("starts_at, id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	err := q.Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: upcoming appointments: %w", Classify(err))
	}
	return out, nil
}

// AppointmentByExternalID returns the appointment with that external id,
// with Patient, Location and Provider, its row locked for update on
// PostgreSQL when lock is set, or ErrNotFound.
func (s *Store) AppointmentByExternalID(ctx context.Context, externalID string, lock bool) (*Appointment, error) {
	if externalID == "" {
		return nil, fmt.Errorf("appointment with external id %q: %w", externalID, ErrNotFound)
	}
	db := s.conn(ctx)
	if lock {
		db = db.Scopes(s.forUpdate)
	}
	var ids []uint
	// "<> ''" lets the partial unique index on external_id serve the
	// lookup (without it SQLite scans the table).
	if err := db.Model(&Appointment{}).Where("external_id = ? AND external_id <> ''", externalID).Limit(1).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("store: appointment by external id: %w", Classify(err))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("appointment with external id %q: %w", externalID, ErrNotFound)
	}
	return s.appointment(ctx, ids[0], lock)
}

// AppointmentsByExternalID returns the appointments whose external ids
// are in externalIDs, with Patient, Location and Provider, keyed by
// external id, in a few queries whatever their number (an import reads
// a batch of rows' appointments at once). Rows are not locked.
func (s *Store) AppointmentsByExternalID(ctx context.Context, externalIDs []string) (map[string]*Appointment, error) {
	out := make(map[string]*Appointment, len(externalIDs))
	if len(externalIDs) == 0 {
		return out, nil
	}
	var ids []uint
	if err := s.conn(ctx).Model(&Appointment{}).Where("external_id IN ? AND external_id <> ''", externalIDs).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("store: appointments by external id: %w", Classify(err))
	}
	byID, err := s.AppointmentsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, a := range byID {
		if a.ExternalID != "" {
			out[a.ExternalID] = a
		}
	}
	return out, nil
}

// ExternalAppointment is the external id of one appointment, for a sync.
type ExternalAppointment struct {
	ID         uint
	ExternalID string
}

// ActiveExternalAppointments returns the scheduled and confirmed
// appointments starting in [from, to) at the locations in locationIDs
// that have an external id: those an import in sync mode may cancel.
func (s *Store) ActiveExternalAppointments(ctx context.Context, from, to time.Time, locationIDs []uint) ([]ExternalAppointment, error) {
	if len(locationIDs) == 0 {
		return nil, nil
	}
	var out []ExternalAppointment
	err := s.conn(ctx).Model(&Appointment{}).Select("id", "external_id").
		Where("starts_at >= ? AND starts_at < ? AND location_id IN ? AND status IN ? AND external_id <> ''",
			from.UTC(), to.UTC(), locationIDs, ActiveStatuses).
		Order("id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: external appointments: %w", Classify(err))
	}
	return out, nil
}
