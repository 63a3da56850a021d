package clinic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"apptconfirm/app/phone"
	"apptconfirm/models"
)

// Languages lists the languages a patient may get messages in, default first.
func Languages() []string { return []string{"en", "fr", "es", "de", "nl", "pt", "it"} }

// PatientInput is a patient as staff or the API enter them. Field names in
// FieldErrors: first_name, last_name, phone, language.
type PatientInput struct {
	// FirstName is required; LastName may be empty (some people have one name).
	FirstName, LastName string
	// Phone is read in the given region unless it starts with +.
	Phone string
	// Language is one of Languages(); empty means "en".
	Language string
}

// validate checks in, normalising the phone in region.
func (in PatientInput) validate(region string) (models.Patient, FieldErrors) {
	fe := FieldErrors{}
	p := models.Patient{
		FirstName: strings.TrimSpace(in.FirstName),
		LastName:  strings.TrimSpace(in.LastName),
		Language:  strings.ToLower(strings.TrimSpace(in.Language)),
	}
	if m := checkName(p.FirstName, 100); m != "" {
		fe.add("first_name", m)
	}
	if m := checkText(p.LastName, 100, false); m != "" {
		fe.add("last_name", m)
	}
	if e164, err := phone.Normalize(in.Phone, region); err != nil {
		fe.add("phone", phoneMessage(err))
	} else {
		p.Phone = e164
	}
	if p.Language == "" {
		p.Language = "en"
	}
	if !validLanguage(p.Language) {
		fe.add("language", "must be one of "+strings.Join(Languages(), ", "))
	}
	return p, fe
}

func validLanguage(l string) bool {
	for _, v := range Languages() {
		if l == v {
			return true
		}
	}
	return false
}

// phoneRegion is region if given, else the default location's country.
func (s *Service) phoneRegion(ctx context.Context, region string) (string, error) {
	if r := strings.TrimSpace(region); r != "" {
		return r, nil
	}
	return defaultRegion(ctx, s.store)
}

// CreatePatient adds a patient. region is the phone region for a national
// number (usually the booking location's country); empty means the default
// location's country. Several patients may share a phone number (families).
func (s *Service) CreatePatient(ctx context.Context, actor Actor, in PatientInput, region string) (*models.Patient, error) {
	region, err := s.phoneRegion(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("clinic: create patient: %w", err)
	}
	p, fe := in.validate(region)
	if err := fe.err(); err != nil {
		return nil, err
	}
	now := s.clock()
	err = s.store.Tx(ctx, func(tx *models.Store) error {
		p.CreatedAt, p.UpdatedAt = now, now
		if err := tx.DB(ctx).Create(&p).Error; err != nil {
			return err
		}
		return RecordAudit(ctx, tx, now, actor, "patient.create", EntityPatient, p.ID,
			fmt.Sprintf("%s (%s)", p.Name(), p.Language))
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: create patient", err)
	}
	return &p, nil
}

// UpdatePatient changes a patient's name, phone and language. A changed
// phone or language replans the patient's future active appointments.
func (s *Service) UpdatePatient(ctx context.Context, actor Actor, id uint, in PatientInput, region string) (*models.Patient, error) {
	region, err := s.phoneRegion(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("clinic: update patient: %w", err)
	}
	next, fe := in.validate(region)
	if err := fe.err(); err != nil {
		return nil, err
	}
	now := s.clock()
	var out models.Patient
	err = s.store.Tx(ctx, func(tx *models.Store) error {
		cur, err := lockPatient(ctx, tx, id)
		if err != nil {
			return err
		}
		var changes []string
		if cur.FirstName != next.FirstName || cur.LastName != next.LastName {
			changes = append(changes, "name")
		}
		if cur.Phone != next.Phone {
			changes = append(changes, "phone")
		}
		if cur.Language != next.Language {
			changes = append(changes, "language")
		}
		if len(changes) == 0 {
			out = *cur
			return nil
		}
		upd := map[string]any{
			"first_name": next.FirstName, "last_name": next.LastName,
			"phone": next.Phone, "language": next.Language, "updated_at": now,
		}
		if err := tx.DB(ctx).Model(&models.Patient{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		if err := RecordAudit(ctx, tx, now, actor, "patient.update", EntityPatient, id, "changed "+strings.Join(changes, ", ")); err != nil {
			return err
		}
		// Messages already planned carry the old number or language.
		if cur.Phone != next.Phone || cur.Language != next.Language {
			if err := s.replanPatient(ctx, tx, id, now); err != nil {
				return err
			}
		}
		return tx.DB(ctx).First(&out, id).Error
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: update patient", err)
	}
	return &out, nil
}

// lockPatient loads a patient for update, mapping a missing row to ErrNotFound.
func lockPatient(ctx context.Context, tx *models.Store, id uint) (*models.Patient, error) {
	var p models.Patient
	if err := tx.DB(ctx).Scopes(models.ForUpdate(tx)).First(&p, id).Error; err != nil {
		if err = models.Classify(err); errors.Is(err, models.ErrNotFound) {
			return nil, notFound("patient", id)
		}
		return nil, err
	}
	return &p, nil
}

// GetPatient returns one patient, or models.ErrNotFound.
func (s *Service) GetPatient(ctx context.Context, id uint) (*models.Patient, error) {
	var p models.Patient
	if err := s.store.DB(ctx).First(&p, id).Error; err != nil {
		if err = models.Classify(err); errors.Is(err, models.ErrNotFound) {
			return nil, fmt.Errorf("clinic: %w", notFound("patient", id))
		}
		return nil, fmt.Errorf("clinic: get patient: %w", err)
	}
	return &p, nil
}

// PatientQuery filters, sorts and pages the patient list.
type PatientQuery struct {
	// Search matches the first or last name (case-insensitive, literally:
	// % and _ are not wildcards) or the digits of the phone number.
	Search string
	// Page starts at 1 (0 means 1); PerPage 0 means DefaultPerPage, at most MaxPerPage.
	Page, PerPage int
	// Sort is one of "name" (the default), "created" (newest first), "phone".
	Sort string
}

// patientSorts is the allow-list of patient orderings (QUALITY A5).
var patientSorts = map[string]string{
	"":        "LOWER(last_name), LOWER(first_name), id",
	"name":    "LOWER(last_name), LOWER(first_name), id",
	"created": "created_at DESC, id DESC",
	"phone":   "phone, id",
}

// ListPatients returns one page of patients matching q and the total count.
func (s *Service) ListPatients(ctx context.Context, q PatientQuery) ([]models.Patient, int64, error) {
	fe := FieldErrors{}
	order, ok := patientSorts[q.Sort]
	if !ok {
		fe.add("sort", "must be one of name, created, phone")
	}
	offset, limit := paging(fe, q.Page, q.PerPage)
	if m := checkText(q.Search, 100, false); m != "" {
		fe.add("search", m)
	}
	if err := fe.err(); err != nil {
		return nil, 0, err
	}
	cond, args, err := s.searchCondition(ctx, q.Search)
	if err != nil {
		return nil, 0, fmt.Errorf("clinic: list patients: %w", err)
	}
	base := func() *gorm.DB {
		db := s.store.DB(ctx).Model(&models.Patient{})
		if cond != "" {
			db = db.Where(cond, args...)
		}
		return db
	}
	var total int64
	if err := base().Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("clinic: list patients: %w", models.Classify(err))
	}
	var ps []models.Patient
	if err := base().Order(order).Offset(offset).Limit(limit).Find(&ps).Error; err != nil {
		return nil, 0, fmt.Errorf("clinic: list patients: %w", models.Classify(err))
	}
	return ps, total, nil
}

// searchCondition is patientSearch in the default location's region; it
// reads that region only when there is something to search for.
func (s *Service) searchCondition(ctx context.Context, search string) (string, []any, error) {
	if strings.TrimSpace(search) == "" {
		return "", nil, nil
	}
	region, err := defaultRegion(ctx, s.store)
	if err != nil {
		return "", nil, err
	}
	cond, args := patientSearch(search, region)
	return cond, args, nil
}

// patientSearch builds the WHERE condition for a patient search: the full
// name contains the text (case-insensitive, wildcards escaped), or the
// phone contains the text's digits, or the phone is the text read as a
// number in region. The condition text is constant; the user's text goes
// only into arguments (QUALITY A5).
func patientSearch(search, region string) (string, []any) {
	search = strings.TrimSpace(search)
	if search == "" {
		return "", nil
	}
	cond := `LOWER(first_name || ' ' || last_name) LIKE LOWER(?) ESCAPE '\'`
	args := []any{"%" + likeEscape(search) + "%"}
	if digits := onlyDigits(search); len(digits) >= 3 {
		cond += " OR phone LIKE ?"
		args = append(args, "%"+digits+"%")
	}
	if e164, err := phone.Normalize(search, region); err == nil {
		cond += " OR phone = ?"
		args = append(args, e164)
	}
	return "(" + cond + ")", args
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// optOutReason is the Reason of the messages an opt-out cancels.
const optOutReason = "patient opted out"

// OptOutPatient marks a patient opted out (source says how: "sms_stop",
// "smscx_link", "smscx_admin", "rejected", "staff") in its own transaction;
// see OptOutTx.
func (s *Service) OptOutPatient(ctx context.Context, actor Actor, patientID uint, source string) error {
	now := s.clock()
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		return s.OptOutTx(ctx, tx, actor, patientID, source, now)
	})
	if err != nil {
		return wrapUnlessInput("clinic: opt out", err)
	}
	return nil
}

// OptOutTx marks a patient opted out inside tx (a webhook's transaction):
// it sets OptedOutAt and OptOutSource, cancels every planned message to the
// patient (a message already "sending" is in flight and left alone; the
// dispatcher checks opt-outs when it claims), and writes an audit row and a
// timeline entry on each of the patient's active appointments that has not
// started. Opt-out acknowledgements are not cancelled, so the caller may
// plan the acknowledgement before or after. A patient already opted out
// keeps the first time and source, and nothing is written again except
// cancelling any planned message that slipped in.
func (s *Service) OptOutTx(ctx context.Context, tx *models.Store, actor Actor, patientID uint, source string, at time.Time) error {
	source = strings.TrimSpace(source)
	if m := checkName(source, 32); m != "" {
		return FieldErrors{"source": m}
	}
	at = dbTime(at)
	return tx.Tx(ctx, func(tx *models.Store) error {
		p, err := lockPatient(ctx, tx, patientID)
		if err != nil {
			return err
		}
		cancelled, err := cancelPlannedForPatient(ctx, tx, patientID, at)
		if err != nil {
			return err
		}
		if p.OptedOut() {
			return nil
		}
		err = tx.DB(ctx).Model(&models.Patient{}).Where("id = ?", patientID).
			Updates(map[string]any{"opted_out_at": at, "opt_out_source": source, "updated_at": at}).Error
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("opted out (%s); %d planned message(s) cancelled", source, cancelled)
		if err := RecordAudit(ctx, tx, at, actor, "patient.opt_out", EntityPatient, patientID, detail); err != nil {
			return err
		}
		return timelineForPatient(ctx, tx, patientID, at, actor,
			fmt.Sprintf("Patient opted out of messages (%s) by %s; pending reminders cancelled", source, actor.label()))
	})
}

// cancelPlannedForPatient cancels the patient's planned messages (by
// patient or through their appointments), except opt-out acknowledgements.
func cancelPlannedForPatient(ctx context.Context, tx *models.Store, patientID uint, at time.Time) (int64, error) {
	res := tx.DB(ctx).Model(&models.Message{}).
		Where("status = ? AND kind <> ?", models.MsgPlanned, models.KindOptOutAck).
		Where(tx.DB(ctx).Where("patient_id = ?", patientID).
			Or("appointment_id IN (?)", tx.DB(ctx).Model(&models.Appointment{}).Select("id").Where("patient_id = ?", patientID))).
		Updates(map[string]any{"status": models.MsgCancelled, "reason": optOutReason, "updated_at": at})
	return res.RowsAffected, res.Error
}

// timelineForPatient adds one opt-out/opt-in timeline entry to each of the
// patient's active appointments that has not started.
func timelineForPatient(ctx context.Context, tx *models.Store, patientID uint, at time.Time, actor Actor, detail string) error {
	ids, err := upcomingActive(ctx, tx, patientID, at)
	if err != nil {
		return err
	}
	for _, id := range ids {
		e := models.TimelineEntry{AppointmentID: id, At: at, Kind: models.TimelineOptOut, Detail: detail, UserID: actor.UserID}
		if err := RecordTimeline(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// upcomingActive lists the ids of a patient's active appointments starting after at.
func upcomingActive(ctx context.Context, tx *models.Store, patientID uint, at time.Time) ([]uint, error) {
	var ids []uint
	err := tx.DB(ctx).Model(&models.Appointment{}).
		Where("patient_id = ? AND starts_at > ? AND status IN ?", patientID, at, activeStatuses()).
		Order("starts_at, id").Pluck("id", &ids).Error
	return ids, err
}

// OptInPatient opts a patient back in, in its own transaction; see OptInTx.
func (s *Service) OptInPatient(ctx context.Context, actor Actor, patientID uint, source string) error {
	now := s.clock()
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		return s.OptInTx(ctx, tx, actor, patientID, source, now)
	})
	if err != nil {
		return wrapUnlessInput("clinic: opt in", err)
	}
	return nil
}

// OptInTx clears a patient's opt-out inside tx, writes an audit row and a
// timeline entry on each upcoming active appointment, and replans those
// appointments so their reminders come back. A patient who is not opted
// out is left alone (no rows written).
func (s *Service) OptInTx(ctx context.Context, tx *models.Store, actor Actor, patientID uint, source string, at time.Time) error {
	source = strings.TrimSpace(source)
	if m := checkName(source, 32); m != "" {
		return FieldErrors{"source": m}
	}
	at = dbTime(at)
	return tx.Tx(ctx, func(tx *models.Store) error {
		p, err := lockPatient(ctx, tx, patientID)
		if err != nil {
			return err
		}
		if !p.OptedOut() {
			return nil
		}
		err = tx.DB(ctx).Model(&models.Patient{}).Where("id = ?", patientID).
			Updates(map[string]any{"opted_out_at": gorm.Expr("NULL"), "opt_out_source": "", "updated_at": at}).Error
		if err != nil {
			return err
		}
		if err := RecordAudit(ctx, tx, at, actor, "patient.opt_in", EntityPatient, patientID, fmt.Sprintf("opted back in (%s)", source)); err != nil {
			return err
		}
		if err := timelineForPatient(ctx, tx, patientID, at, actor,
			fmt.Sprintf("Patient opted back in to messages (%s) by %s", source, actor.label())); err != nil {
			return err
		}
		return s.replanPatient(ctx, tx, patientID, at)
	})
}

// replanPatient replans the patient's upcoming active appointments.
func (s *Service) replanPatient(ctx context.Context, tx *models.Store, patientID uint, now time.Time) error {
	if s.getPlanner() == nil {
		return nil
	}
	ids, err := upcomingActive(ctx, tx, patientID, now)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.replan(ctx, tx, id, now); err != nil {
			return err
		}
	}
	return nil
}
