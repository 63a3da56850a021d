package models

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// appointmentWithPatientSQL reads one appointment and its patient in one
// statement, past GORM: replies and the replans they cause read an
// appointment several times per change, and GORM's First with its patient
// took two statements and most of the CPU they cost. The patient is joined
// LEFT so that a missing one is told apart from a missing appointment.
const appointmentWithPatientSQL = `SELECT a.id, a.patient_id, a.location_id, a.provider_id, a.starts_at, a.duration_minutes,
a.notes, a.status, a.confirmed_at, a.cancelled_at, a.external_id, a.appointment_type_id, a.created_at, a.updated_at,
p.id, p.first_name, p.last_name, p.phone, p.language, p.opted_out_at, p.opt_out_source, p.erased_at, p.external_id,
p.created_at, p.updated_at
FROM appointments a LEFT JOIN patients p ON p.id = a.patient_id WHERE a.id = ?`

// appointmentWithPatient returns appointment id with its Patient (and no
// other relation), its row locked for update on PostgreSQL when lock is
// set, or an error wrapping ErrNotFound, worded as first words it.
func (s *Store) appointmentWithPatient(ctx context.Context, id uint, lock bool) (*Appointment, error) {
	q := appointmentWithPatientSQL
	if lock && s.driver == DriverPostgres {
		q += " FOR UPDATE OF a"
	}
	rows, err := s.queryRaw(s.conn(ctx), q, id)
	if err != nil {
		return nil, fmt.Errorf("store: appointment %d: %w", id, Classify(err))
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: appointment %d: %w", id, Classify(err))
		}
		return nil, fmt.Errorf("appointment %d: %w", id, ErrNotFound)
	}
	a, patientID, err := scanAppointmentWithPatient(rows)
	if err != nil {
		return nil, fmt.Errorf("store: appointment %d: %w", id, Classify(err))
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("store: appointment %d: %w", id, Classify(err))
	}
	if !patientID.Valid {
		return nil, fmt.Errorf("appointment %d: patient %d: %w", id, a.PatientID, ErrNotFound)
	}
	return a, nil
}

// scanAppointmentWithPatient reads a row of appointmentWithPatientSQL;
// patientID is NULL when the patient is missing. Columns the schema lets
// be NULL read as GORM reads them: a NULL leaves the zero value.
func scanAppointmentWithPatient(rows *sql.Rows) (*Appointment, sql.Null[uint], error) {
	a := &Appointment{Patient: &Patient{}}
	p := a.Patient
	var (
		patientID                                   sql.Null[uint]
		notes, externalID                           sql.Null[string]
		created, updated, pCreated, pUpdated        sql.Null[time.Time]
		first, last, phone, lang, source, pExternal sql.Null[string]
	)
	err := rows.Scan(&a.ID, &a.PatientID, &a.LocationID, &a.ProviderID, &a.StartsAt, &a.DurationMinutes,
		&notes, &a.Status, &a.ConfirmedAt, &a.CancelledAt, &externalID, &a.AppointmentTypeID, &created, &updated,
		&patientID, &first, &last, &phone, &lang, &p.OptedOutAt, &source, &p.ErasedAt, &pExternal,
		&pCreated, &pUpdated)
	if err != nil {
		return nil, patientID, err
	}
	a.Notes, a.ExternalID, a.CreatedAt, a.UpdatedAt = notes.V, externalID.V, created.V, updated.V
	p.ID, p.FirstName, p.LastName, p.Phone, p.Language = patientID.V, first.V, last.V, phone.V, lang.V
	p.OptOutSource, p.ExternalID, p.CreatedAt, p.UpdatedAt = source.V, pExternal.V, pCreated.V, pUpdated.V
	return a, patientID, nil
}

// patientColumns are the columns of patients in the order scanPatient
// reads them.
const patientColumns = `id, first_name, last_name, phone, language, opted_out_at, opt_out_source, erased_at, external_id,
created_at, updated_at`

// scanPatient reads a row of patientColumns into p; a NULL leaves the
// zero value, as GORM reads it.
func scanPatient(rows *sql.Rows, p *Patient) error {
	var (
		first, last, phone, lang, source, external sql.Null[string]
		created, updated                           sql.Null[time.Time]
	)
	if err := rows.Scan(&p.ID, &first, &last, &phone, &lang, &p.OptedOutAt, &source, &p.ErasedAt, &external,
		&created, &updated); err != nil {
		return err
	}
	p.FirstName, p.LastName, p.Phone, p.Language = first.V, last.V, phone.V, lang.V
	p.OptOutSource, p.ExternalID, p.CreatedAt, p.UpdatedAt = source.V, external.V, created.V, updated.V
	return nil
}

// appointmentColumns are the columns of appointments in the order
// scanAppointment reads them.
const appointmentColumns = `id, patient_id, location_id, provider_id, starts_at, duration_minutes, notes, status,
confirmed_at, cancelled_at, external_id, appointment_type_id, created_at, updated_at`

// queryAppointments runs q, which selects appointmentColumns, past GORM
// and returns its rows, without relations.
func (s *Store) queryAppointments(ctx context.Context, q string, args ...any) ([]Appointment, error) {
	rows, err := s.queryRaw(s.conn(ctx), q, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []Appointment
	for rows.Next() {
		var a Appointment
		var notes, externalID sql.Null[string]
		var created, updated sql.Null[time.Time]
		err := rows.Scan(&a.ID, &a.PatientID, &a.LocationID, &a.ProviderID, &a.StartsAt, &a.DurationMinutes,
			&notes, &a.Status, &a.ConfirmedAt, &a.CancelledAt, &externalID, &a.AppointmentTypeID, &created, &updated)
		if err != nil {
			return nil, err
		}
		a.Notes, a.ExternalID, a.CreatedAt, a.UpdatedAt = notes.V, externalID.V, created.V, updated.V
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}
