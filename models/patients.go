package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// notErased selects the patients who were not erased: an erased patient is
// gone for every reader but the appointments that keep their row.
const notErased = "erased_at IS NULL"

// Patient returns one patient, or ErrNotFound (also for an erased one).
func (s *Store) Patient(ctx context.Context, id uint) (*Patient, error) {
	return s.patient(ctx, id, false)
}

// LockPatient returns one patient, locked for update on PostgreSQL; an
// erased one is ErrNotFound.
func (s *Store) LockPatient(ctx context.Context, id uint) (*Patient, error) {
	return s.patient(ctx, id, true)
}

func (s *Store) patient(ctx context.Context, id uint, lock bool) (*Patient, error) {
	db := s.conn(ctx).Where(notErased)
	if lock {
		db = db.Scopes(s.forUpdate)
	}
	var p Patient
	if err := db.First(&p, id).Error; err != nil {
		if err = Classify(err); isNotFound(err) {
			return nil, fmt.Errorf("patient %d: %w", id, ErrNotFound)
		}
		return nil, fmt.Errorf("store: patient %d: %w", id, err)
	}
	return &p, nil
}

// PatientsByID returns the patients whose ids are in ids, keyed by id.
func (s *Store) PatientsByID(ctx context.Context, ids []uint) (map[uint]*Patient, error) {
	out, err := byIDs(ctx, s, ids, func(p *Patient) uint { return p.ID })
	if err != nil {
		return nil, fmt.Errorf("store: patients: %w", err)
	}
	return out, nil
}

// LockPatientsByPhone is PatientsByPhone with the rows locked for update
// on PostgreSQL: a reply takes it before it writes anything, so that an
// erasure of one of these patients waits for the reply to commit (and
// sweeps what it wrote), or the reply waits for the erasure (and no longer
// finds the patient). SQLite's transactions take turns anyway.
func (s *Store) LockPatientsByPhone(ctx context.Context, phone string) ([]Patient, error) {
	var ps []Patient
	if phone == "" {
		return nil, nil
	}
	if err := s.conn(ctx).Scopes(s.forUpdate).Where(&Patient{Phone: phone}).Where(notErased).Order("id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("store: patients by phone: %w", Classify(err))
	}
	return ps, nil
}

// PatientsByPhones returns the patients of each of phones (not erased),
// oldest first, in one query.
func (s *Store) PatientsByPhones(ctx context.Context, phones []string) (map[string][]Patient, error) {
	out := map[string][]Patient{}
	var want []string
	for _, p := range phones {
		if p != "" {
			want = append(want, p)
		}
	}
	if len(want) == 0 {
		return out, nil
	}
	var ps []Patient
	if err := s.conn(ctx).Where("phone IN ?", want).Where(notErased).Order("id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("store: patients by phone: %w", Classify(err))
	}
	for _, p := range ps {
		out[p.Phone] = append(out[p.Phone], p)
	}
	return out, nil
}

// PatientsByPhone returns the patients with an E.164 number, oldest first
// (several when a family shares a phone).
func (s *Store) PatientsByPhone(ctx context.Context, phone string) ([]Patient, error) {
	var ps []Patient
	if phone == "" {
		return nil, nil
	}
	if err := s.conn(ctx).Where(&Patient{Phone: phone}).Where(notErased).Order("id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("store: patients by phone: %w", Classify(err))
	}
	return ps, nil
}

// FindPatient returns the first patient with that phone and name (names
// compared case-insensitively), or ErrNotFound.
func (s *Store) FindPatient(ctx context.Context, phone, firstName, lastName string) (*Patient, error) {
	var p Patient
	err := s.conn(ctx).Where("phone = ? AND LOWER(first_name) = LOWER(?) AND LOWER(last_name) = LOWER(?) AND "+notErased, phone, firstName, lastName).
		Order("id").Take(&p).Error
	if err != nil {
		return nil, fmt.Errorf("find patient: %w", Classify(err))
	}
	return &p, nil
}

// OptedOutPhones returns which of phones belong to a patient who opted out
// (a STOP from a phone opts out every patient sharing it).
func (s *Store) OptedOutPhones(ctx context.Context, phones []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(phones) == 0 {
		return out, nil
	}
	var hits []string
	err := s.conn(ctx).Model(&Patient{}).Where("phone IN ? AND opted_out_at IS NOT NULL", phones).Pluck("phone", &hits).Error
	if err != nil {
		return nil, fmt.Errorf("store: opted-out phones: %w", Classify(err))
	}
	for _, p := range hits {
		out[p] = true
	}
	return out, nil
}

// PatientMatch is a patient search: the full name contains Name
// (case-insensitively and literally: % and _ are not wildcards), or the
// phone contains Digits (when set), or the phone is Phone (when set).
type PatientMatch struct {
	Name, Digits, Phone string
}

// IsZero reports whether the match selects everyone.
func (m PatientMatch) IsZero() bool { return m.Name == "" && m.Digits == "" && m.Phone == "" }

// where adds the match's condition to db; the condition text is constant
// and the searched text goes only into arguments.
func (m PatientMatch) where(db *gorm.DB) *gorm.DB {
	if m.IsZero() {
		return db
	}
	cond := `LOWER(first_name || ' ' || last_name) LIKE LOWER(?) ESCAPE '\'`
	args := []any{"%" + likeEscape(m.Name) + "%"}
	if m.Digits != "" {
		cond += " OR phone LIKE ?"
		args = append(args, "%"+m.Digits+"%")
	}
	if m.Phone != "" {
		cond += " OR phone = ?"
		args = append(args, m.Phone)
	}
	return db.Where("("+cond+")", args...)
}

// likeEscape escapes LIKE's wildcards so that text matches literally (used
// with ESCAPE '\').
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Patient list orderings.
const (
	PatientsByName    = "name"
	PatientsByCreated = "created"
	PatientsByPhoneNo = "phone"
)

// patientOrders maps each ordering onto its ORDER BY (an allow-list: no
// text from a request reaches Order).
var patientOrders = map[string]string{
	"":                "LOWER(last_name), LOWER(first_name), id",
	PatientsByName:    "LOWER(last_name), LOWER(first_name), id",
	PatientsByCreated: "created_at DESC, id DESC",
	PatientsByPhoneNo: "phone, id",
}

// ValidPatientOrder reports whether order is a patient list ordering.
func ValidPatientOrder(order string) bool { _, ok := patientOrders[order]; return ok }

// PatientFilter selects and pages patients.
type PatientFilter struct {
	Match PatientMatch
	// Order is one of the Patients* orderings ("" is by name).
	Order         string
	Offset, Limit int
}

// Patients returns one page of patients matching f and the total count.
func (s *Store) Patients(ctx context.Context, f PatientFilter) ([]Patient, int64, error) {
	order, ok := patientOrders[f.Order]
	if !ok {
		return nil, 0, fmt.Errorf("store: patients: unknown order %q", f.Order)
	}
	base := func() *gorm.DB { return f.Match.where(s.conn(ctx).Model(&Patient{}).Where(notErased)) }
	var total int64
	if err := base().Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("store: patients: %w", Classify(err))
	}
	var ps []Patient
	if err := base().Order(order).Offset(f.Offset).Limit(f.Limit).Find(&ps).Error; err != nil {
		return nil, 0, fmt.Errorf("store: patients: %w", Classify(err))
	}
	return ps, total, nil
}

// CreatePatient inserts p.
func (s *Store) CreatePatient(ctx context.Context, p *Patient) error {
	if err := create(ctx, s, p); err != nil {
		return fmt.Errorf("store: create patient: %w", err)
	}
	return nil
}

// SavePatient writes p's names, phone, language, external id and
// updated_at.
func (s *Store) SavePatient(ctx context.Context, p *Patient) error {
	err := update[Patient](ctx, s, p.ID, map[string]any{
		"first_name": p.FirstName, "last_name": p.LastName,
		"phone": p.Phone, "language": p.Language, "updated_at": p.UpdatedAt,
		"external_id": p.ExternalID,
	})
	if err != nil {
		return fmt.Errorf("store: save patient %d: %w", p.ID, err)
	}
	return nil
}

// SetOptOut records at at that patient id opted out (source says how), or,
// when out is false, that they opted back in.
func (s *Store) SetOptOut(ctx context.Context, id uint, out bool, at time.Time, source string) error {
	at = DBTime(at)
	cols := map[string]any{"opted_out_at": gorm.Expr("NULL"), "opt_out_source": "", "updated_at": at}
	if out {
		cols = map[string]any{"opted_out_at": at, "opt_out_source": source, "updated_at": at}
	}
	if err := update[Patient](ctx, s, id, cols); err != nil {
		return fmt.Errorf("store: opt-out of patient %d: %w", id, err)
	}
	return nil
}

// PatientByExternalID returns the patient with that external id, locked
// for update on PostgreSQL when lock is set, or ErrNotFound (also for an
// erased one, whose external id is blank anyway).
func (s *Store) PatientByExternalID(ctx context.Context, externalID string, lock bool) (*Patient, error) {
	db := s.conn(ctx).Where(notErased)
	if lock {
		db = db.Scopes(s.forUpdate)
	}
	var p Patient
	if externalID == "" {
		return nil, fmt.Errorf("patient with external id %q: %w", externalID, ErrNotFound)
	}
	if err := db.Where("external_id = ? AND external_id <> ''", externalID).Take(&p).Error; err != nil {
		if err = Classify(err); isNotFound(err) {
			return nil, fmt.Errorf("patient with external id %q: %w", externalID, ErrNotFound)
		}
		return nil, fmt.Errorf("store: patient by external id: %w", err)
	}
	return &p, nil
}
