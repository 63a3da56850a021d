package models_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// An appointment read in one statement with its patient is the one GORM
// reads, NULL columns and all, locked or not; a missing one is
// ErrNotFound.
func TestAppointmentReadsAsGORMDoes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		loc := &models.Location{Name: "Main", TimeZone: "Europe/Berlin"}
		if err := s.CreateLocation(ctx, loc); err != nil {
			t.Fatal(err)
		}
		out := now.Add(-time.Hour)
		bare := &models.Patient{FirstName: "Ann", Phone: "+491510000001"}
		full := &models.Patient{
			FirstName: "Bea", LastName: "Z", Phone: "+491510000002", Language: "de",
			OptedOutAt: &out, OptOutSource: "sms_stop", ExternalID: "P-2",
		}
		for _, p := range []*models.Patient{bare, full} {
			if err := s.CreatePatient(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		prov := &models.Provider{Name: "Dr A"}
		if err := s.CreateProvider(ctx, prov); err != nil {
			t.Fatal(err)
		}
		typ := &models.AppointmentType{Name: "Check-up", DefaultDurationMinutes: 20}
		if err := s.CreateAppointmentType(ctx, typ); err != nil {
			t.Fatal(err)
		}
		confirmed := now.Add(-2 * time.Hour)
		as := []*models.Appointment{
			{PatientID: bare.ID, LocationID: loc.ID, StartsAt: now.Add(48 * time.Hour), DurationMinutes: 15, Status: models.Scheduled},
			{
				PatientID: full.ID, LocationID: loc.ID, ProviderID: &prov.ID, AppointmentTypeID: &typ.ID,
				StartsAt: now.Add(72 * time.Hour), DurationMinutes: 30, Notes: "bring X-rays",
				Status: models.Confirmed, ConfirmedAt: &confirmed, ExternalID: "A-9",
			},
		}
		for _, a := range as {
			if err := s.CreateAppointment(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		for _, a := range as {
			var want models.Appointment
			err := s.DB(ctx).Preload("Patient").Preload("Location").Preload("Provider").Preload("AppointmentType").First(&want, a.ID).Error
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Appointment(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, &want) {
				t.Errorf("appointment %d:\n got %+v %+v\nwant %+v %+v", a.ID, got, got.Patient, &want, want.Patient)
			}
			err = s.Tx(ctx, func(ctx context.Context) error {
				locked, err := s.LockAppointment(ctx, a.ID)
				if err == nil && !reflect.DeepEqual(locked, &want) {
					t.Errorf("locked appointment %d:\n got %+v\nwant %+v", a.ID, locked, &want)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Appointment(ctx, 9999); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("missing appointment: %v, want ErrNotFound", err)
		}
	})
}

// LockAppointment inside a transaction whose context carries the
// appointment as it stands returns a copy of it, without reading; for
// another id, or outside a transaction, it reads the row.
func TestLockAppointmentTakesTheCurrentOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		loc := &models.Location{Name: "Main", TimeZone: "Europe/Berlin"}
		if err := s.CreateLocation(ctx, loc); err != nil {
			t.Fatal(err)
		}
		p := &models.Patient{FirstName: "Ann", Phone: "+491510000001"}
		if err := s.CreatePatient(ctx, p); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
		var as []*models.Appointment
		for i := range 2 {
			a := &models.Appointment{PatientID: p.ID, LocationID: loc.ID, StartsAt: start.Add(time.Duration(i) * time.Hour), DurationMinutes: 15, Status: models.Scheduled}
			if err := s.CreateAppointment(ctx, a); err != nil {
				t.Fatal(err)
			}
			as = append(as, a)
		}
		// What the caller says stands, told apart from the row by its notes.
		cur := *as[0]
		cur.Notes, cur.Patient = "as written", p
		err := s.Tx(ctx, func(ctx context.Context) error {
			ctx = models.WithCurrentAppointment(ctx, &cur)
			got, err := s.LockAppointment(ctx, as[0].ID)
			if err != nil {
				return err
			}
			if got == &cur || got.Notes != "as written" {
				t.Errorf("locked %+v: want a copy of the current one", got)
			}
			other, err := s.LockAppointment(ctx, as[1].ID)
			if err != nil {
				return err
			}
			if other.ID != as[1].ID || other.Patient == nil || other.Patient.ID != p.ID {
				t.Errorf("other appointment %+v: want it read", other)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.LockAppointment(models.WithCurrentAppointment(ctx, &cur), as[0].ID)
		if err != nil || got.Notes != "" {
			t.Errorf("outside a transaction: %+v, %v; want the row", got, err)
		}
	})
}
