package server

import (
	"context"
	"fmt"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/app/schedule"
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
	n, err := a.Store.CountPatients(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if n > 0 {
		return nil
	}
	actor := models.SystemActor()
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
	soon, err := a.demoSoonStarts(ctx, loc)
	if err != nil {
		return err
	}
	// Slots from later today through next week, in the location's local
	// time; days -1 are the appointments whose first reminder goes out in
	// the demo's first minutes.
	slots := []struct {
		days    int
		hour    int
		minutes int
	}{
		{-1, 0, 0}, {-1, 1, 0}, {0, 3, 0}, {1, 9, 0}, {1, 10, 30}, {1, 14, 0}, {2, 9, 30}, {2, 16, 0}, {3, 11, 0}, {4, 15, 30}, {6, 10, 0},
	}
	for i, sl := range slots {
		var start time.Time
		switch sl.days {
		case -1:
			start = soon[sl.hour]
		case 0:
			// Later today, rounded to the quarter hour.
			start = now.Add(time.Duration(sl.hour+2) * time.Hour).Truncate(15 * time.Minute)
		default:
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

func (a *App) ensureDemoPatient(ctx context.Context, actor models.Actor, in clinic.PatientInput, region string) (*models.Patient, error) {
	found, err := a.Store.PatientsByPhone(ctx, in.Phone)
	if err != nil {
		return nil, fmt.Errorf("demo: patient %s: %w", in.FirstName, err)
	}
	if len(found) > 0 {
		return &found[0], nil
	}
	created, err := a.Clinic.CreatePatient(ctx, actor, in, region)
	if err != nil {
		return nil, fmt.Errorf("demo: patient %s: %w", in.FirstName, err)
	}
	return created, nil
}

// demoFirstSend is how long after seeding the first demo reminder is due.
const demoFirstSend = 20 * time.Second

// demoSoonStarts returns the starts of two demo appointments whose first
// reminder (the enabled rule with the shortest lead time, 2h by default) is
// due in the demo's first minutes: 20 seconds after seeding, and 90 seconds
// later. So within a minute of "make run" the dispatcher sends the first
// through the simulator, and staff watch it go planned, accepted, sent,
// delivered, and can reply as the patient.
//
// Quiet hours are never broken to make that happen. When those two send
// times fall in the location's quiet hours the appointments move so that
// their reminders go out 5 and 7 minutes after quiet hours end; until then
// the demo shows them planned, and replying as a patient on any appointment
// still shows the whole loop, because the acknowledgement of a reply does
// not wait for quiet hours.
func (a *App) demoSoonStarts(ctx context.Context, loc *models.Location) ([2]time.Time, error) {
	rules, err := a.Store.EnabledRulesByTiming(ctx)
	if err != nil {
		return [2]time.Time{}, fmt.Errorf("demo: %w", err)
	}
	lead := 2 * time.Hour // with no rule enabled the appointments are still soon
	for i, r := range rules {
		if i == 0 || r.Before() < lead {
			lead = r.Before()
		}
	}
	// Not rounded to the minute: with the dispatcher's 15s interval the
	// first reminder is delivered well within a minute of the start. The
	// margin covers the rest of start-up (a send time already past when
	// the appointment is booked would be skipped).
	first := a.now().Add(demoFirstSend).Truncate(time.Second)
	sends := [2]time.Time{first, first.Add(90 * time.Second)}
	zone, quiet := loc.Zone(), outbox.Quiet(loc)
	if schedule.InQuiet(sends[0], zone, quiet) || schedule.InQuiet(sends[1], zone, quiet) {
		after, ok := outbox.AfterQuiet(sends[1], zone, quiet)
		if !ok {
			after = sends[1]
		}
		sends = [2]time.Time{after.Add(5 * time.Minute), after.Add(7 * time.Minute)}
	}
	return [2]time.Time{sends[0].Add(lead), sends[1].Add(lead)}, nil
}
