package server

import (
	"context"
	"fmt"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// demoPatients are the demo clinic's patients. The demo always runs in
// simulator mode (cmdServe forces it), so these numbers are never texted.
var demoPatients = []clinic.PatientInput{
	{FirstName: "Ada", LastName: "Lovelace", Phone: "+12025550143", Language: "en"},
	{FirstName: "Grace", LastName: "Hopper", Phone: "+12025550178", Language: "en"},
	{FirstName: "Marie", LastName: "Curie", Phone: "+33612345678", Language: "fr"},
	{FirstName: "Rosalind", LastName: "Franklin", Phone: "+447400123456", Language: "en"},
	{FirstName: "Lise", LastName: "Meitner", Phone: "+4915123456789", Language: "de"},
	{FirstName: "Carmen", LastName: "Amaya", Phone: "+34612345678", Language: "es"},
	{FirstName: "Aletta", LastName: "Jacobs", Phone: "+31612345678", Language: "nl"},
	{FirstName: "Rita", LastName: "Levi", Phone: "+393123456789", Language: "it"},
}

// SeedDemo fills an empty database with a demo clinic: a provider, eight
// patients and appointments over the next week, booked through the same
// service staff use, so reminders are planned as for real bookings. It does
// nothing when patients already exist.
func (a *App) SeedDemo(ctx context.Context) error {
	var n int64
	if err := a.Store.DB(ctx).Model(&models.Patient{}).Count(&n).Error; err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if n > 0 {
		return nil
	}
	actor := clinic.SystemActor()
	loc, err := a.Clinic.DefaultLocation(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	prov, err := a.Clinic.CreateProvider(ctx, actor, clinic.ProviderInput{Name: "Dr. Elizabeth Blackwell", LocationID: &loc.ID, Active: true})
	if err != nil {
		return fmt.Errorf("demo: provider: %w", err)
	}
	zone := loc.Zone()
	now := a.now().In(zone)
	// Slots from later today through next week, in the location's local time.
	slots := []struct {
		days    int
		hour    int
		minutes int
	}{
		{0, 0, 0}, {0, 3, 0}, {1, 9, 0}, {1, 10, 30}, {1, 14, 0}, {2, 9, 30}, {2, 16, 0}, {3, 11, 0}, {4, 15, 30}, {6, 10, 0},
	}
	for i, sl := range slots {
		var start time.Time
		if sl.days == 0 {
			// Today: a couple of hours from now, rounded to the quarter hour.
			start = now.Add(time.Duration(sl.hour+2) * time.Hour).Truncate(15 * time.Minute)
		} else {
			d := now.AddDate(0, 0, sl.days)
			start = time.Date(d.Year(), d.Month(), d.Day(), sl.hour, sl.minutes, 0, 0, zone)
		}
		p := demoPatients[i%len(demoPatients)]
		patient, err := a.ensureDemoPatient(ctx, actor, p, loc.Country)
		if err != nil {
			return err
		}
		_, err = a.Clinic.CreateAppointment(ctx, actor, clinic.AppointmentInput{
			PatientID: patient.ID, LocationID: loc.ID, ProviderID: &prov.ID,
			StartsAt: start.UTC(), DurationMinutes: 30, Notes: "Demo appointment",
		})
		if err != nil {
			return fmt.Errorf("demo: appointment %d: %w", i+1, err)
		}
	}
	a.Log.Info("demo clinic seeded", "patients", len(demoPatients), "appointments", len(slots))
	return nil
}

func (a *App) ensureDemoPatient(ctx context.Context, actor clinic.Actor, in clinic.PatientInput, region string) (*models.Patient, error) {
	var p models.Patient
	err := a.Store.DB(ctx).Where("phone = ?", in.Phone).Take(&p).Error
	if err == nil {
		return &p, nil
	}
	created, err := a.Clinic.CreatePatient(ctx, actor, in, region)
	if err != nil {
		return nil, fmt.Errorf("demo: patient %s: %w", in.FirstName, err)
	}
	return created, nil
}
