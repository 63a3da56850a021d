package clinic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"apptconfirm/app/phone"
	"apptconfirm/models"
)

// Languages lists the languages a patient may get messages in, default first.
func Languages() []string { return []string{"en", "fr", "es", "de", "nl", "pt", "it"} }

// PatientInput is a patient as staff or the API enter them. Field names in
// models.FieldErrors: first_name, last_name, phone, language.
type PatientInput struct {
	// FirstName is required; LastName may be empty (some people have one name).
	FirstName, LastName string
	// Phone is read in the given region unless it starts with +.
	Phone string
	// Language is one of Languages(); empty means the clinic's language
	// (Options.Language).
	Language string
	// ExternalID is the patient's id in the clinic's other system, at most
	// models.MaxExternalID characters, unique among patients; empty for
	// none.
	ExternalID string
}

// validate checks in, normalising the phone in region; an empty language
// is lang.
func (in PatientInput) validate(region, lang string) (models.Patient, models.FieldErrors) {
	fe := models.FieldErrors{}
	p := models.Patient{
		FirstName: strings.TrimSpace(in.FirstName),
		LastName:  strings.TrimSpace(in.LastName),
		Language:  strings.ToLower(strings.TrimSpace(in.Language)),
		// ExternalID is checked by checkExternalID, with the store.
		ExternalID: strings.TrimSpace(in.ExternalID),
	}
	if m := checkName(p.FirstName, 100); m != "" {
		fe.Add("first_name", m)
	}
	if m := checkText(p.LastName, 100, false); m != "" {
		fe.Add("last_name", m)
	}
	if e164, err := phone.Normalize(in.Phone, region); err != nil {
		fe.Add("phone", phoneMessage(err))
	} else {
		p.Phone = e164
	}
	if p.Language == "" {
		p.Language = lang
	}
	if !validLanguage(p.Language) {
		fe.Add("language", "must be one of "+strings.Join(Languages(), ", "))
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
	return s.defaultRegion(ctx)
}

// SourceSuppressed is the opt-out source of a patient whose number is on
// the suppression list (it opted out under a patient since erased).
const SourceSuppressed = "suppression_list"

// CreatePatient adds a patient. region is the phone region for a national
// number (usually the booking location's country); empty means the default
// location's country. Several patients may share a phone number (families).
func (s *Service) CreatePatient(ctx context.Context, actor models.Actor, in PatientInput, region string) (*models.Patient, error) {
	region, err := s.phoneRegion(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("clinic: create patient: %w", err)
	}
	p, fe := in.validate(region, s.language)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	now := s.clock()
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		if err := s.checkPatientExternalID(ctx, p.ExternalID, 0); err != nil {
			return err
		}
		p.CreatedAt, p.UpdatedAt = now, now
		suppressed, err := s.store.SuppressedNumbers(ctx, []string{p.Phone})
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("%s (%s)", p.Name(), p.Language)
		if suppressed[p.Phone] {
			// The number opted out under an erased patient: the opt-out
			// still holds for whoever has it now.
			at := models.DBTime(now)
			p.OptedOutAt, p.OptOutSource = &at, SourceSuppressed
			detail += "; opted out: the number is on the suppression list"
		}
		if err := s.store.CreatePatient(ctx, &p); err != nil {
			return err
		}
		if err := s.store.Audit(ctx, now, actor, "patient.create", EntityPatient, p.ID, detail); err != nil {
			return err
		}
		return s.store.Record(ctx, models.Event{At: now, Type: models.EventPatientCreated, PatientID: p.ID})
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: create patient", err)
	}
	return &p, nil
}

// UpdatePatient changes a patient's name, phone, language and external id
// (every field of in replaces the stored one). A changed
// phone or language replans the patient's future active appointments.
func (s *Service) UpdatePatient(ctx context.Context, actor models.Actor, id uint, in PatientInput, region string) (*models.Patient, error) {
	region, err := s.phoneRegion(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("clinic: update patient: %w", err)
	}
	next, fe := in.validate(region, s.language)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	now := s.clock()
	var out *models.Patient
	err = s.store.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.store.LockPatient(ctx, id)
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
		if cur.ExternalID != next.ExternalID {
			if err := s.checkPatientExternalID(ctx, next.ExternalID, id); err != nil {
				return err
			}
			changes = append(changes, "external id")
		}
		if len(changes) == 0 {
			out = cur
			return nil
		}
		upd := *cur
		upd.FirstName, upd.LastName, upd.Phone, upd.Language, upd.UpdatedAt = next.FirstName, next.LastName, next.Phone, next.Language, now
		upd.ExternalID = next.ExternalID
		if err := s.store.SavePatient(ctx, &upd); err != nil {
			return err
		}
		detail := "changed " + strings.Join(changes, ", ")
		if err := s.store.Audit(ctx, now, actor, "patient.update", EntityPatient, id, detail); err != nil {
			return err
		}
		if err := s.store.Record(ctx, models.Event{At: now, Type: models.EventPatientUpdated, PatientID: id, Detail: detail}); err != nil {
			return err
		}
		// Messages already planned carry the old number or language.
		if cur.Phone != next.Phone || cur.Language != next.Language {
			if err := s.replanPatient(ctx, id, now); err != nil {
				return err
			}
		}
		if cur.Phone != next.Phone {
			suppressed, err := s.store.SuppressedNumbers(ctx, []string{next.Phone})
			if err != nil {
				return err
			}
			if suppressed[next.Phone] {
				if err := s.OptOut(ctx, actor, id, SourceSuppressed); err != nil {
					return err
				}
			}
		}
		out, err = s.store.Patient(ctx, id)
		return err
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: update patient", err)
	}
	return out, nil
}

// PatientByExternalID returns the patient with that external id, or
// models.ErrNotFound.
func (s *Service) PatientByExternalID(ctx context.Context, externalID string) (*models.Patient, error) {
	p, err := s.store.PatientByExternalID(ctx, strings.TrimSpace(externalID), false)
	if err != nil {
		return nil, fmt.Errorf("clinic: patient by external id: %w", err)
	}
	return p, nil
}

// GetPatient returns one patient, or models.ErrNotFound.
func (s *Service) GetPatient(ctx context.Context, id uint) (*models.Patient, error) {
	p, err := s.store.Patient(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("clinic: get patient: %w", err)
	}
	return p, nil
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

// ListPatients returns one page of patients matching q and the total count.
func (s *Service) ListPatients(ctx context.Context, q PatientQuery) ([]models.Patient, int64, error) {
	fe := models.FieldErrors{}
	if !models.ValidPatientOrder(q.Sort) {
		fe.Add("sort", "must be one of name, created, phone")
	}
	offset, limit := paging(fe, q.Page, q.PerPage)
	if m := checkText(q.Search, 100, false); m != "" {
		fe.Add("search", m)
	}
	if err := fe.Err(); err != nil {
		return nil, 0, err
	}
	match, err := s.patientMatch(ctx, q.Search)
	if err != nil {
		return nil, 0, fmt.Errorf("clinic: list patients: %w", err)
	}
	ps, total, err := s.store.Patients(ctx, models.PatientFilter{Match: match, Order: q.Sort, Offset: offset, Limit: limit})
	if err != nil {
		return nil, 0, fmt.Errorf("clinic: list patients: %w", err)
	}
	return ps, total, nil
}

// patientMatch turns a search into a patient match: the full name contains
// the text, or the phone contains the text's digits (three or more), or
// the phone is the text read as a number in the default location's region
// (read only when there is something to search for).
func (s *Service) patientMatch(ctx context.Context, search string) (models.PatientMatch, error) {
	search = strings.TrimSpace(search)
	if search == "" {
		return models.PatientMatch{}, nil
	}
	m := models.PatientMatch{Name: search}
	if digits := onlyDigits(search); len(digits) >= 3 {
		m.Digits = digits
	}
	region, err := s.defaultRegion(ctx)
	if err != nil {
		return m, err
	}
	if e164, err := phone.Normalize(search, region); err == nil {
		m.Phone = e164
	}
	return m, nil
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

// OptOut marks a patient opted out (source says how: "sms_stop",
// "smscx_link", "smscx_admin", "rejected", "staff"): it sets OptedOutAt and
// OptOutSource, cancels every planned message to the patient (a message
// already "sending" is in flight and left alone; the dispatcher checks
// opt-outs when it claims), and writes an audit row and a timeline entry on
// each of the patient's active appointments that has not started. Opt-out
// acknowledgements are not cancelled, so the caller may plan the
// acknowledgement before or after. A patient already opted out keeps the
// first time and source, and nothing is written again except cancelling any
// planned message that slipped in. Called inside a transaction (a
// webhook's), it joins it.
func (s *Service) OptOut(ctx context.Context, actor models.Actor, patientID uint, source string) error {
	source = strings.TrimSpace(source)
	if m := checkName(source, 32); m != "" {
		return models.FieldErrors{"source": m}
	}
	at := s.clock()
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		p, err := s.store.LockPatient(ctx, patientID)
		if err != nil {
			return err
		}
		var cancelled int64
		if s.planner != nil {
			if cancelled, err = s.planner.CancelForPatient(ctx, patientID, optOutReason, at); err != nil {
				return err
			}
		}
		if p.OptedOut() {
			return nil
		}
		if err := s.store.SetOptOut(ctx, patientID, true, at, source); err != nil {
			return err
		}
		detail := fmt.Sprintf("opted out (%s); %d planned message(s) cancelled", source, cancelled)
		if err := s.store.Audit(ctx, at, actor, "patient.opt_out", EntityPatient, patientID, detail); err != nil {
			return err
		}
		err = s.store.Record(ctx, models.Event{At: at, Type: models.EventPatientOptedOut, PatientID: patientID, Status: "opted_out", Source: source})
		if err != nil {
			return err
		}
		return s.timelineForPatient(ctx, patientID, at, actor,
			fmt.Sprintf("Patient opted out of messages (%s) by %s; pending reminders cancelled", source, actor.Label()))
	})
	if err != nil {
		return wrapUnlessInput("clinic: opt out", err)
	}
	return nil
}

// timelineForPatient adds one opt-out/opt-in timeline entry to each of the
// patient's active appointments that has not started.
func (s *Service) timelineForPatient(ctx context.Context, patientID uint, at time.Time, actor models.Actor, detail string) error {
	ids, err := s.upcomingActive(ctx, models.AppointmentFilter{PatientID: patientID, Order: models.AppointmentsByStart}, at)
	if err != nil {
		return err
	}
	entries := make([]models.TimelineEntry, len(ids))
	for i, id := range ids {
		entries[i] = models.TimelineEntry{AppointmentID: id, At: at, Kind: models.TimelineOptOut, Detail: detail, UserID: actor.UserID}
	}
	return s.store.AddTimeline(ctx, entries...)
}

// upcomingActive lists the ids of the active appointments matching f that
// start after at.
func (s *Service) upcomingActive(ctx context.Context, f models.AppointmentFilter, at time.Time) ([]uint, error) {
	f.From, f.Statuses = at.Add(time.Microsecond), models.ActiveStatuses
	return s.store.AppointmentIDs(ctx, f)
}

// OptIn clears a patient's opt-out, writes an audit row and a timeline
// entry on each upcoming active appointment, and replans those appointments
// so their reminders come back. A patient who is not opted out is left
// alone (no rows written). Called inside a transaction, it joins it.
func (s *Service) OptIn(ctx context.Context, actor models.Actor, patientID uint, source string) error {
	source = strings.TrimSpace(source)
	if m := checkName(source, 32); m != "" {
		return models.FieldErrors{"source": m}
	}
	at := s.clock()
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		p, err := s.store.LockPatient(ctx, patientID)
		if err != nil {
			return err
		}
		if !p.OptedOut() {
			return nil
		}
		if err := s.store.SetOptOut(ctx, patientID, false, at, ""); err != nil {
			return err
		}
		// The number's owner opted back in: an opt-out kept from an
		// erased patient no longer holds either.
		if err := s.store.UnsuppressNumber(ctx, p.Phone); err != nil {
			return err
		}
		if err := s.store.Audit(ctx, at, actor, "patient.opt_in", EntityPatient, patientID, fmt.Sprintf("opted back in (%s)", source)); err != nil {
			return err
		}
		err = s.store.Record(ctx, models.Event{At: at, Type: models.EventPatientOptedIn, PatientID: patientID, Status: "opted_in", Source: source})
		if err != nil {
			return err
		}
		if err := s.timelineForPatient(ctx, patientID, at, actor,
			fmt.Sprintf("Patient opted back in to messages (%s) by %s", source, actor.Label())); err != nil {
			return err
		}
		return s.replanPatient(ctx, patientID, at)
	})
	if err != nil {
		return wrapUnlessInput("clinic: opt in", err)
	}
	return nil
}

// replanPatient replans the patient's upcoming active appointments.
func (s *Service) replanPatient(ctx context.Context, patientID uint, now time.Time) error {
	if s.planner == nil {
		return nil
	}
	ids, err := s.upcomingActive(ctx, models.AppointmentFilter{PatientID: patientID, Order: models.AppointmentsByStart}, now)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.replan(ctx, id, now); err != nil {
			return err
		}
	}
	return nil
}

// FindPatient returns the oldest patient with that E.164 phone and name
// (compared case-insensitively), or models.ErrNotFound: an integrator who
// sends the same person again books them, not a twin.
func (s *Service) FindPatient(ctx context.Context, phone, firstName, lastName string) (*models.Patient, error) {
	p, err := s.store.FindPatient(ctx, phone, firstName, lastName)
	if err != nil {
		return nil, fmt.Errorf("clinic: %w", err)
	}
	return p, nil
}

// SharingPhone returns the other patients with p's number (a family
// sharing a phone, or a patient entered twice), oldest first, so staff
// see them where they look at p.
func (s *Service) SharingPhone(ctx context.Context, p *models.Patient) ([]models.Patient, error) {
	all, err := s.store.PatientsByPhone(ctx, p.Phone)
	if err != nil {
		return nil, fmt.Errorf("clinic: patients sharing a phone: %w", err)
	}
	out := make([]models.Patient, 0, len(all))
	for _, o := range all {
		if o.ID != p.ID {
			out = append(out, o)
		}
	}
	return out, nil
}

// checkExternalID validates an external id (already trimmed): one line of
// at most models.MaxExternalID characters, or empty.
func checkExternalID(id string) string {
	return checkText(id, models.MaxExternalID, false)
}

// checkPatientExternalID refuses an external id that is malformed or
// belongs to another patient than self (0 for a new patient).
func (s *Service) checkPatientExternalID(ctx context.Context, externalID string, self uint) error {
	if externalID == "" {
		return nil
	}
	if m := checkExternalID(externalID); m != "" {
		return models.FieldErrors{"external_id": m}
	}
	other, err := s.store.PatientByExternalID(ctx, externalID, false)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil
	case err != nil:
		return err
	case other.ID != self:
		return models.FieldErrors{"external_id": "is already the external id of another patient"}
	}
	return nil
}
