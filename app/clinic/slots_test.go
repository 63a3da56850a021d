package clinic_test

import (
	"context"
	"testing"

	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/app/slots"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// With CheckSlot (the booking form), a taken time or one outside the
// working hours is refused with a warning proposing free times; without
// it (the API, or staff confirming), it is booked.
func TestSlotCheckWarnsAboutTakenTimes(t *testing.T) {
	ctx := context.Background()
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	avail := availability.New(store, availability.Options{Now: e.clk.Now})
	svc := clinic.New(store, clinic.Options{Planner: e.planner, Slots: avail, Now: e.clk.Now})
	p := e.patient(t, "Ana", "Lima", "+33612345678")
	dr, err := svc.CreateProvider(ctx, e.staff, clinic.ProviderInput{Name: "Dr Lee", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	book := func(local string, check bool) (*models.Appointment, error) {
		return svc.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{
			PatientID: p.ID, ProviderID: &dr.ID, StartsLocal: local, DurationMinutes: 30, CheckSlot: check,
		})
	}
	first, err := book("2026-03-03T10:00", true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = book("2026-03-03T10:15", true)
	wantField(t, err, clinic.SlotField, "Dr Lee is already booked then: Tue 3 Mar 10:00–10:30")

	h, err := slots.ParseHours("mon-fri 09:00-12:00", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := avail.SaveSchedule(ctx, e.staff, availability.ProviderOwner(dr.ID), availability.ScheduleInput{Hours: h}); err != nil {
		t.Fatal(err)
	}
	_, err = book("2026-03-03T10:15", true)
	wantField(t, err, clinic.SlotField, "Next free times: Tue 3 Mar 10:30, Tue 3 Mar 10:45, Tue 3 Mar 11:00.")
	_, err = book("2026-03-03T13:00", true)
	wantField(t, err, clinic.SlotField, "This time is outside the working hours. Next free times: Wed 4 Mar 09:00")
	if n := count(t, store, &models.Appointment{}); n != 1 {
		t.Fatalf("%d appointments after refusals, want 1", n)
	}
	if _, err := book("2026-03-03T10:15", false); err != nil {
		t.Fatalf("booked anyway: %v", err)
	}

	// Moving an appointment checks its new time, leaving its own out;
	// editing only its notes does not check.
	_, err = svc.UpdateAppointment(ctx, e.staff, first.ID, clinic.AppointmentInput{ProviderID: &dr.ID, StartsLocal: "2026-03-03T10:05", CheckSlot: true})
	wantField(t, err, clinic.SlotField, "Tue 3 Mar 10:15–10:45")
	if _, err := svc.UpdateAppointment(ctx, e.staff, first.ID, clinic.AppointmentInput{ProviderID: &dr.ID, StartsLocal: "2026-03-04T09:00", CheckSlot: true}); err != nil {
		t.Fatalf("move to a free time: %v", err)
	}
	if _, err := svc.UpdateAppointment(ctx, e.staff, first.ID, clinic.AppointmentInput{ProviderID: &dr.ID, Notes: "x", CheckSlot: true}); err != nil {
		t.Fatalf("notes only: %v", err)
	}
}
