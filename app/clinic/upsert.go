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

// UpsertOutcome says what an upsert did to the appointment.
type UpsertOutcome string

// The outcomes of an upsert.
const (
	UpsertCreated   UpsertOutcome = "created"
	UpsertUpdated   UpsertOutcome = "updated"
	UpsertUnchanged UpsertOutcome = "unchanged"
	UpsertCancelled UpsertOutcome = "cancelled"
)

// UpsertInput is an appointment as another system knows it, found by its
// external id: what the upsert endpoint and the CSV import send. On an
// update, what the input leaves out keeps its stored value. Field names
// in models.FieldErrors: external_id, patient_id, patient.* (first_name,
// last_name, phone, language, external_id), location_id, provider_id,
// starts_at, duration_minutes, notes, status.
type UpsertInput struct {
	// ExternalID finds the appointment; required.
	ExternalID string
	// PatientID names an existing patient. Otherwise Patient says who:
	// found by its ExternalID when it has one, else (for a new
	// appointment) by phone and name, else created. Empty fields of
	// Patient keep the stored ones.
	PatientID uint
	Patient   *PatientInput
	// LocationID 0 means the default location on create, unchanged on
	// update.
	LocationID uint
	// ProviderID is the provider when ProviderSet (nil then clears it);
	// without ProviderSet the provider is none on create, unchanged on
	// update.
	ProviderID  *uint
	ProviderSet bool
	// TypeID is the appointment type when TypeSet (nil then clears it);
	// without TypeSet the type is none on create, unchanged on update.
	TypeID  *uint
	TypeSet bool
	// StartsAt is the start; zero means unchanged (required on create).
	StartsAt time.Time
	// DurationMinutes 0 means unchanged; on create, DefaultDurationMinutes
	// then, and when that is 0 too, it is required.
	DurationMinutes        int
	DefaultDurationMinutes int
	// Notes nil means unchanged ("" on create).
	Notes *string
	// Status is "" (unchanged), scheduled, confirmed or cancelled.
	// Scheduled restores a cancelled appointment but never takes back a
	// patient's confirmation; cancelled cancels an active one and leaves a
	// completed or no-show one as it is.
	Status models.AppointmentStatus
	// Source says where the upsert comes from ("api", "import"): the
	// source of a confirmation it makes.
	Source string
	// Absent says that the caller found no appointment with ExternalID in
	// the transaction ctx carries, and nothing since could have made one
	// (an import reads the appointments of a batch of rows at once): it
	// is not looked up again.
	Absent bool
}

// UpsertAppointment creates or updates the appointment with in.ExternalID,
// in one transaction (a savepoint of the caller's), and says what it did.
// It goes through the same paths as staff: a new appointment is booked
// (messages planned), a changed start or location is a reschedule
// (reminders replanned, the reschedule notice as the clinic sends it), a
// cancellation cancels. Sending the same input again changes nothing and
// records nothing. A cancelled input for an appointment that does not
// exist creates nothing and returns a nil appointment with
// UpsertUnchanged.
func (s *Service) UpsertAppointment(ctx context.Context, actor models.Actor, in UpsertInput) (*models.Appointment, UpsertOutcome, error) {
	in.ExternalID = strings.TrimSpace(in.ExternalID)
	fe := models.FieldErrors{}
	if in.ExternalID == "" {
		fe.Add("external_id", "required")
	} else if m := checkExternalID(in.ExternalID); m != "" {
		fe.Add("external_id", m)
	}
	switch in.Status {
	case "", models.Scheduled, models.Confirmed, models.Cancelled:
	default:
		fe.Add("status", "must be one of scheduled, confirmed, cancelled")
	}
	if err := fe.Err(); err != nil {
		return nil, "", err
	}
	var out *models.Appointment
	var outcome UpsertOutcome
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		// Every error below fails this savepoint as a whole (a refused
		// patient fails the upsert too): the calls it makes need no
		// savepoints of their own.
		ctx = s.store.Inline(ctx)
		cur, err := (*models.Appointment)(nil), models.ErrNotFound
		if !in.Absent {
			cur, err = s.store.AppointmentByExternalID(ctx, in.ExternalID, true)
		}
		switch {
		case errors.Is(err, models.ErrNotFound):
			out, outcome, err = s.upsertCreate(ctx, actor, in)
		case err == nil:
			out, outcome, err = s.upsertUpdate(ctx, actor, cur, in)
		}
		return err
	})
	if err != nil {
		return nil, "", wrapUnlessInput("clinic: upsert appointment", err)
	}
	return out, outcome, nil
}

// upsertCreate books the appointment in describes.
func (s *Service) upsertCreate(ctx context.Context, actor models.Actor, in UpsertInput) (*models.Appointment, UpsertOutcome, error) {
	if in.Status == models.Cancelled {
		return nil, UpsertUnchanged, nil
	}
	fe := models.FieldErrors{}
	if in.StartsAt.IsZero() {
		fe.Add("starts_at", "required")
	}
	if in.DurationMinutes == 0 {
		in.DurationMinutes = in.DefaultDurationMinutes
	}
	if in.DurationMinutes == 0 {
		fe.Add("duration_minutes", "required")
	}
	patientID := in.PatientID
	var patient *models.Patient
	if patientID == 0 {
		if in.Patient == nil {
			fe.Add("patient_id", "required: give patient_id or the patient")
		} else {
			p, _, err := s.upsertPatient(ctx, actor, nil, *in.Patient, in.LocationID, fe)
			if err != nil {
				return nil, "", err
			}
			if p != nil {
				patientID, patient = p.ID, p
			}
		}
	}
	if err := fe.Err(); err != nil {
		return nil, "", err
	}
	ext := in.ExternalID
	ap := AppointmentInput{
		PatientID: patientID, LocationID: in.LocationID, StartsAt: in.StartsAt,
		DurationMinutes: in.DurationMinutes, ExternalID: &ext, patient: patient,
		externalIDFree: true,
	}
	if in.ProviderSet {
		ap.ProviderID = in.ProviderID
	}
	ap.TypeSet, ap.TypeID = in.TypeSet, in.TypeID
	if in.Notes != nil {
		ap.Notes = *in.Notes
	}
	out, err := s.CreateAppointment(ctx, actor, ap)
	if err != nil {
		return nil, "", err
	}
	if in.Status == models.Confirmed {
		if out, err = s.Confirm(ctx, actor, out.ID, s.upsertSource(in)); err != nil {
			return nil, "", err
		}
	}
	return out, UpsertCreated, nil
}

// upsertUpdate brings the appointment cur in line with in.
func (s *Service) upsertUpdate(ctx context.Context, actor models.Actor, cur *models.Appointment, in UpsertInput) (*models.Appointment, UpsertOutcome, error) {
	fe := models.FieldErrors{}
	changed := false
	switch {
	case in.PatientID != 0 && in.PatientID != cur.PatientID:
		fe.Add("patient_id", "cannot be changed; cancel this appointment and book a new one")
	case in.PatientID == 0 && in.Patient != nil:
		_, pchanged, err := s.upsertPatient(ctx, actor, cur, *in.Patient, cur.LocationID, fe)
		if err != nil {
			return nil, "", err
		}
		changed = pchanged
	}
	if err := fe.Err(); err != nil {
		return nil, "", err
	}
	if in.Status == models.Cancelled {
		if !cur.Status.Active() {
			return s.upsertResult(ctx, cur.ID, changed)
		}
		out, err := s.Cancel(ctx, actor, cur.ID, "")
		if err != nil {
			return nil, "", err
		}
		return out, UpsertCancelled, nil
	}
	if cur.Status == models.Cancelled && in.Status != "" {
		restored, err := s.Restore(ctx, actor, cur.ID)
		if err != nil {
			return nil, "", err
		}
		cur, changed = restored, true
	}
	ap := AppointmentInput{
		LocationID: in.LocationID, ProviderID: cur.ProviderID, StartsAt: in.StartsAt,
		DurationMinutes: in.DurationMinutes, Notes: cur.Notes,
	}
	if in.ProviderSet {
		ap.ProviderID = in.ProviderID
	}
	ap.TypeSet, ap.TypeID = in.TypeSet, in.TypeID
	// Notes typed in a browser end their lines with CRLF, which a CSV
	// round trip turns into LF: the same text is not a change.
	if in.Notes != nil && lf(*in.Notes) != lf(cur.Notes) {
		ap.Notes = *in.Notes
	}
	out, edited, err := s.updateAppointment(ctx, actor, cur.ID, ap)
	if err != nil {
		return nil, "", err
	}
	changed = changed || edited
	if in.Status == models.Confirmed && out.Status == models.Scheduled {
		if out, err = s.Confirm(ctx, actor, out.ID, s.upsertSource(in)); err != nil {
			return nil, "", err
		}
		changed = true
	}
	return s.upsertResult(ctx, out.ID, changed)
}

// upsertResult reads the appointment back and names the outcome.
func (s *Service) upsertResult(ctx context.Context, id uint, changed bool) (*models.Appointment, UpsertOutcome, error) {
	out, err := s.store.Appointment(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if changed {
		return out, UpsertUpdated, nil
	}
	return out, UpsertUnchanged, nil
}

func (s *Service) upsertSource(in UpsertInput) string {
	if in.Source == "" {
		return "api"
	}
	return in.Source
}

// upsertPatient finds, creates or updates the patient pin describes, for
// the appointment cur (nil for a new one, whose location is locationID).
// Input problems go into fe under "patient.*". It reports whether it
// changed a stored patient.
func (s *Service) upsertPatient(ctx context.Context, actor models.Actor, cur *models.Appointment, pin PatientInput, locationID uint, fe models.FieldErrors) (*models.Patient, bool, error) {
	pin.ExternalID = strings.TrimSpace(pin.ExternalID)
	if m := checkExternalID(pin.ExternalID); m != "" {
		fe.Add("patient.external_id", m)
		return nil, false, nil
	}
	region, err := s.locationRegion(ctx, locationID)
	if err != nil {
		return nil, false, err
	}
	var found *models.Patient
	if pin.ExternalID != "" {
		found, err = s.store.PatientByExternalID(ctx, pin.ExternalID, true)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return nil, false, err
		}
	}
	if cur != nil {
		switch {
		case found != nil && found.ID != cur.PatientID:
			fe.Add("patient.external_id", "is another patient's; the patient of an appointment cannot be changed")
			return nil, false, nil
		case found == nil && pin.ExternalID != "" && cur.Patient.ExternalID != "":
			fe.Add("patient.external_id", fmt.Sprintf("differs from the appointment's patient (%s); the patient of an appointment cannot be changed", cur.Patient.ExternalID))
			return nil, false, nil
		}
		if cur.Patient.ErasedAt != nil {
			// Nothing of an erased patient is written again.
			return cur.Patient, false, nil
		}
		// The appointment's patient, given the external id when it had none.
		return s.mergePatient(ctx, actor, cur.Patient, pin, region, fe)
	}
	if found != nil {
		return s.mergePatient(ctx, actor, found, pin, region, fe)
	}
	if pin.ExternalID == "" && strings.TrimSpace(pin.Phone) != "" {
		if e164, perr := phone.Normalize(pin.Phone, region); perr == nil {
			p, err := s.store.FindPatient(ctx, e164, strings.TrimSpace(pin.FirstName), strings.TrimSpace(pin.LastName))
			switch {
			case err == nil:
				return s.mergePatient(ctx, actor, p, pin, region, fe)
			case !errors.Is(err, models.ErrNotFound):
				return nil, false, err
			}
		}
	}
	p, err := s.CreatePatient(ctx, actor, pin, region)
	if err != nil {
		if pfe, ok := models.AsFieldErrors(err); ok {
			for k, v := range pfe {
				fe.Add("patient."+k, v)
			}
			return nil, false, nil
		}
		return nil, false, err
	}
	return p, false, nil
}

// mergePatient updates p with the non-empty fields of pin, reporting
// whether anything changed.
func (s *Service) mergePatient(ctx context.Context, actor models.Actor, p *models.Patient, pin PatientInput, region string, fe models.FieldErrors) (*models.Patient, bool, error) {
	merged := PatientInput{FirstName: p.FirstName, LastName: p.LastName, Phone: p.Phone, Language: p.Language, ExternalID: p.ExternalID}
	if v := strings.TrimSpace(pin.FirstName); v != "" {
		merged.FirstName = v
	}
	if v := strings.TrimSpace(pin.LastName); v != "" {
		merged.LastName = v
	}
	if v := strings.TrimSpace(pin.Phone); v != "" {
		merged.Phone = v
	}
	if v := strings.TrimSpace(pin.Language); v != "" {
		merged.Language = v
	}
	if pin.ExternalID != "" {
		merged.ExternalID = pin.ExternalID
	}
	if merged == (PatientInput{FirstName: p.FirstName, LastName: p.LastName, Phone: p.Phone, Language: p.Language, ExternalID: p.ExternalID}) {
		// Every field given is the stored one already.
		return p, false, nil
	}
	out, err := s.UpdatePatient(ctx, actor, p.ID, merged, region)
	if err != nil {
		if pfe, ok := models.AsFieldErrors(err); ok {
			for k, v := range pfe {
				fe.Add("patient."+k, v)
			}
			return nil, false, nil
		}
		return nil, false, err
	}
	changed := out.FirstName != p.FirstName || out.LastName != p.LastName || out.Phone != p.Phone ||
		out.Language != p.Language || out.ExternalID != p.ExternalID
	return out, changed, nil
}

// locationRegion is the phone region of location id (0: the default
// location), falling back on the default region.
func (s *Service) locationRegion(ctx context.Context, id uint) (string, error) {
	if id != 0 {
		l, err := s.store.Location(ctx, id)
		if err == nil {
			return l.Country, nil
		}
		if !errors.Is(err, models.ErrNotFound) {
			return "", err
		}
	}
	return s.defaultRegion(ctx)
}

// lf is s with CRLF line ends as LF.
func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// UpsertIsNoop reports whether UpsertAppointment of in would find the
// appointment cur (as read, with its Patient) already as in describes:
// nothing to write, nothing to refuse. It decides in memory, so that an
// import re-reading a file it already imported costs no write and no
// query per row. It is conservative: false means "not proven unchanged",
// and the caller then runs UpsertAppointment, which decides for good.
func UpsertIsNoop(cur *models.Appointment, in UpsertInput) bool {
	if cur == nil || cur.Patient == nil || in.PatientID != 0 {
		return false
	}
	if strings.TrimSpace(in.ExternalID) != cur.ExternalID || cur.ExternalID == "" {
		return false
	}
	if in.Patient != nil && !patientUnchanged(cur.Patient, *in.Patient) {
		return false
	}
	switch in.Status {
	case models.Cancelled:
		// An active appointment would be cancelled; any other stays.
		return !cur.Status.Active()
	case "":
	case models.Scheduled:
		if cur.Status == models.Cancelled {
			return false // restored
		}
	case models.Confirmed:
		if cur.Status == models.Cancelled || cur.Status == models.Scheduled {
			return false // restored or confirmed
		}
	default:
		return false // refused
	}
	if in.LocationID != 0 && in.LocationID != cur.LocationID {
		return false
	}
	if in.ProviderSet && !sameID(in.ProviderID, cur.ProviderID) {
		return false
	}
	if in.TypeSet && !sameID(in.TypeID, cur.AppointmentTypeID) {
		return false
	}
	if !in.StartsAt.IsZero() && !in.StartsAt.Equal(cur.StartsAt) {
		return false
	}
	if in.DurationMinutes != 0 && in.DurationMinutes != cur.DurationMinutes {
		return false
	}
	if in.Notes != nil && lf(*in.Notes) != lf(cur.Notes) {
		return false
	}
	return true
}

// patientUnchanged reports whether upsertPatient would leave p, the
// appointment's patient, as it is: every field pin gives is p's already.
func patientUnchanged(p *models.Patient, pin PatientInput) bool {
	ext := strings.TrimSpace(pin.ExternalID)
	if ext != "" && ext != p.ExternalID {
		return false // another patient's, or given to p now
	}
	if p.ErasedAt != nil {
		return true
	}
	same := func(in, stored string) bool {
		v := strings.TrimSpace(in)
		return v == "" || v == stored
	}
	return same(pin.FirstName, p.FirstName) && same(pin.LastName, p.LastName) &&
		same(pin.Phone, p.Phone) && same(pin.Language, p.Language)
}
