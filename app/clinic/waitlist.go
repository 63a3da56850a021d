package clinic

import (
	"context"
	"fmt"
	"time"

	"apptconfirm/models"
)

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
