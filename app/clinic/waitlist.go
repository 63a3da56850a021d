package clinic

import (
	"context"
	"fmt"
	"time"

	"apptconfirm/models"
)

// takeBackSlot stops offering the times appointment cur freed when it
// was cancelled: it is restored, and holds its time again. The timeline
// says so when the time had been offered to someone. When a time it freed
// was already booked from the waitlist, the restore is refused: it would
// book that time twice.
func (s *Service) takeBackSlot(ctx context.Context, cur *models.Appointment, now time.Time) error {
	slots, err := s.store.WaitlistSlotsOf(ctx, cur.ID)
	if err != nil {
		return err
	}
	for _, sl := range slots {
		if sl.Status != models.SlotFilled || !sl.StartsAt.Equal(cur.StartsAt) {
			continue
		}
		msg := "its time was given to another patient from the waitlist"
		if sl.BookedAppointmentID != nil {
			msg = fmt.Sprintf("its time was given to appointment %d from the waitlist", *sl.BookedAppointmentID)
		}
		return models.FieldErrors{"status": msg}
	}
	n, err := s.store.CloseWaitlistSlotsOf(ctx, cur.ID, "the cancelled appointment was restored", now)
	if err != nil || n == 0 {
		return err
	}
	return s.store.AddTimeline(ctx, models.TimelineEntry{
		AppointmentID: cur.ID, At: now, Kind: models.TimelineSystem,
		Detail: "Waitlist: the freed time is no longer offered (the appointment was restored)",
	})
}

// freeSlot records that appointment cur, as it was before being cancelled
// or moved away, no longer holds its time: a models.WaitlistSlot for the
// waitlist to offer, and the domain event models.EventSlotFreed, both in
// the caller's transaction. Every cancellation and every move goes through
// transition, updateAppointment or MoveToOffered, which call it, so a time
// freed by SMS, the patient page, staff, the API or an import is seen
// here. A time already past, or not held, frees nothing; how far ahead a
// time must be to be offered is the waitlist's rule, not this one.
func (s *Service) freeSlot(ctx context.Context, cur *models.Appointment, now time.Time) error {
	if !cur.Status.Holds() || !cur.StartsAt.After(now) {
		return nil
	}
	sl := &models.WaitlistSlot{
		FreedAppointmentID: cur.ID, LocationID: cur.LocationID, ProviderID: cur.ProviderID, AppointmentTypeID: cur.AppointmentTypeID,
		StartsAt: cur.StartsAt, DurationMinutes: cur.DurationMinutes, Status: models.SlotOpen,
		NextBatchAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.store.CreateWaitlistSlot(ctx, sl); err != nil {
		return err
	}
	at := sl.StartsAt
	zone := time.UTC
	if cur.Location != nil {
		zone = cur.Location.Zone()
	}
	return s.store.Record(ctx, models.Event{
		At: now, Type: models.EventSlotFreed, AppointmentID: cur.ID, PatientID: cur.PatientID,
		Status: string(models.SlotOpen), DueAt: &at,
		Detail: fmt.Sprintf("The time %s was freed", fmtWhen(at, zone, now)),
	})
}
