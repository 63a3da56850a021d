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

// demoSlot is one demo appointment: a day from today (0 today, -1 for the
// two whose reminders go out in the demo's first minutes), a local time, a
// patient (index into demoPatients) and a provider (index into the
// location's demo providers).
type demoSlot struct {
	days, hour, minutes int
	patient, provider   int
	confirm             bool
}

// SeedDemo fills an empty database with a demo clinic that shows the
// product on every page: a New York location with two providers and a
// Paris one with a third, eight patients and appointments in working hours
// over the coming days, booked through the same service staff use (so
// reminders are planned as for real bookings), some confirmed, one reply
// waiting in the inbox, and one number whose messages the simulator fails.
// It does nothing when patients already exist.
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
	if loc.Phone == "" {
		// Texts such as the HELP answer end "call {clinic_phone}": the
		// demo's locations get numbers from the ranges kept for fiction.
		if loc, err = a.Clinic.UpdateLocation(ctx, actor, loc.ID, clinic.LocationInput{
			Name: loc.Name, TimeZone: loc.TimeZone, Country: loc.Country, Address: loc.Address, Phone: "+1 212 555 0100",
			QuietStart: loc.QuietStart, QuietEnd: loc.QuietEnd, IsDefault: loc.IsDefault,
		}); err != nil {
			return fmt.Errorf("demo: location phone: %w", err)
		}
	}
	paris, err := a.Clinic.CreateLocation(ctx, actor, clinic.LocationInput{Name: "Paris", TimeZone: "Europe/Paris", Country: "FR", Address: "12 rue de Rivoli, 75004 Paris", Phone: "+33 1 99 00 00 00"})
	if err != nil {
		return fmt.Errorf("demo: location: %w", err)
	}
	providers := map[uint][]*models.Provider{}
	for _, p := range []struct {
		name string
		loc  *models.Location
	}{{"Dr. Elizabeth Blackwell", loc}, {"Dr. Virginia Apgar", loc}, {"Dr. Louis Pasteur", paris}} {
		prov, err := a.Clinic.CreateProvider(ctx, actor, clinic.ProviderInput{Name: p.name, LocationID: &p.loc.ID, Active: true})
		if err != nil {
			return fmt.Errorf("demo: provider: %w", err)
		}
		providers[p.loc.ID] = append(providers[p.loc.ID], prov)
	}
	// The simulator fails what is sent to Grace Hopper's number, so a
	// failed reminder shows within the demo's first minutes.
	if a.Simulator != nil {
		a.Simulator.FailDeliveryTo(demoPatients[1].Phone, 30)
	}
	soon, err := a.demoSoonStarts(ctx, loc)
	if err != nil {
		return err
	}
	here := []demoSlot{
		{days: -1, hour: 0, patient: 0},
		{days: -1, hour: 1, patient: 1, provider: 1},
		{days: 0, patient: 3, provider: 1},
		{days: 1, hour: 9, patient: 0, confirm: true},
		{days: 1, hour: 10, minutes: 30, patient: 1, provider: 1},
		{days: 1, hour: 14, patient: 3},
		{days: 2, hour: 9, minutes: 30, patient: 5, provider: 1, confirm: true},
		{days: 2, hour: 16, patient: 6},
		{days: 3, hour: 11, patient: 7, provider: 1},
		{days: 4, hour: 15, minutes: 30, patient: 0},
		{days: 6, hour: 10, patient: 1, provider: 1},
	}
	there := []demoSlot{
		{days: 1, hour: 10, patient: 2, confirm: true}, {days: 2, hour: 14, minutes: 30, patient: 4},
	}
	var waiting *models.Appointment
	for _, set := range []struct {
		loc   *models.Location
		slots []demoSlot
	}{{loc, here}, {paris, there}} {
		zone := set.loc.Zone()
		now := a.now().In(zone)
		for i, sl := range set.slots {
			var start time.Time
			switch sl.days {
			case -1:
				start = soon[sl.hour]
			case 0:
				start = demoToday(now)
			default:
				d := now.AddDate(0, 0, sl.days)
				start = time.Date(d.Year(), d.Month(), d.Day(), sl.hour, sl.minutes, 0, 0, zone)
			}
			patient, err := a.ensureDemoPatient(ctx, actor, demoPatients[sl.patient], set.loc.Country)
			if err != nil {
				return err
			}
			prov := providers[set.loc.ID][sl.provider]
			appt, err := a.Clinic.CreateAppointment(ctx, actor, clinic.AppointmentInput{
				PatientID: patient.ID, LocationID: set.loc.ID, ProviderID: &prov.ID,
				StartsAt: start.UTC(), DurationMinutes: 30, Notes: "Demo appointment",
			})
			if err != nil {
				return fmt.Errorf("demo: appointment %d at %s: %w", i+1, set.loc.Name, err)
			}
			if sl.confirm {
				if _, err := a.Clinic.Confirm(ctx, actor, appt.ID, "staff"); err != nil {
					return fmt.Errorf("demo: confirm: %w", err)
				}
			}
			if set.loc == loc && sl.days == 1 && sl.hour == 14 {
				waiting = appt
			}
		}
	}
	// Two visits of this morning (before 10:30, of yesterday afternoon)
	// that nobody has marked attended or no-show yet, for Today's outcomes.
	local := a.now().In(loc.Zone())
	past := [2]time.Time{
		time.Date(local.Year(), local.Month(), local.Day(), 9, 0, 0, 0, loc.Zone()),
		time.Date(local.Year(), local.Month(), local.Day(), 9, 30, 0, 0, loc.Zone()),
	}
	if local.Hour()*60+local.Minute() < 10*60+30 {
		y := local.AddDate(0, 0, -1)
		past[0] = time.Date(y.Year(), y.Month(), y.Day(), 15, 0, 0, 0, loc.Zone())
		past[1] = time.Date(y.Year(), y.Month(), y.Day(), 16, 0, 0, 0, loc.Zone())
	}
	for i, start := range past {
		patient, err := a.ensureDemoPatient(ctx, actor, demoPatients[5+i], loc.Country)
		if err != nil {
			return err
		}
		appt, err := a.Clinic.CreateAppointment(ctx, actor, clinic.AppointmentInput{
			PatientID: patient.ID, LocationID: loc.ID, ProviderID: &providers[loc.ID][i].ID,
			StartsAt: start.UTC(), DurationMinutes: 30, Notes: "Demo appointment", AllowPast: true,
		})
		if err != nil {
			return fmt.Errorf("demo: past appointment: %w", err)
		}
		if i == 1 {
			if _, err := a.Clinic.Confirm(ctx, actor, appt.ID, "staff"); err != nil {
				return fmt.Errorf("demo: confirm: %w", err)
			}
		}
	}
	if waiting != nil {
		if err := a.demoReply(ctx, waiting, demoPatients[3].Phone, "Could I come half an hour later? My train is late."); err != nil {
			return err
		}
	}
	a.Log.Info("demo clinic seeded", "patients", len(demoPatients), "appointments", len(here)+len(there)+2)
	return nil
}

// demoToday is a time later today within working hours (on the next
// quarter hour at least an hour ahead, from 09:00 to 16:30), or tomorrow
// at 09:00 once today's hours are over.
func demoToday(now time.Time) time.Time {
	at := now.Add(time.Hour).Truncate(15 * time.Minute)
	open := time.Date(now.Year(), now.Month(), now.Day(), 9, 0, 0, 0, now.Location())
	if at.Before(open) {
		return open
	}
	if last := time.Date(now.Year(), now.Month(), now.Day(), 16, 30, 0, 0, now.Location()); at.After(last) {
		return open.AddDate(0, 0, 1)
	}
	return at
}

// demoReply leaves a reply the app could not act on in the inbox, about
// appt, as the conversation service leaves one.
func (a *App) demoReply(ctx context.Context, appt *models.Appointment, from, text string) error {
	now := a.now()
	in := &models.InboundMessage{
		ProviderID: fmt.Sprintf("demo-%d", now.UnixNano()), From: from, To: "", Text: text, ReceivedAt: now.Add(-10 * time.Minute),
		PatientID: &appt.PatientID, AppointmentID: &appt.ID, Intent: "unknown",
		Candidates: fmt.Sprint(appt.ID), NeedsAttention: true, CreatedAt: now,
	}
	if _, err := a.Store.AddInbound(ctx, in); err != nil {
		return fmt.Errorf("demo: reply: %w", err)
	}
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
