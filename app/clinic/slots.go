package clinic

import (
	"context"
	"fmt"
	"strings"
	"time"

	"apptconfirm/app/availability"
	"apptconfirm/models"
)

// SlotChecker says whether an appointment's time is free and which times
// are; app/availability implements it.
type SlotChecker interface {
	Check(ctx context.Context, sl availability.Slot, start time.Time) (availability.Verdict, error)
	Free(ctx context.Context, sl availability.Slot, after time.Time, limit int) ([]time.Time, error)
}

// SlotField is the models.FieldErrors key of the warning about a time
// that is taken or outside the working hours (AppointmentInput.CheckSlot).
const SlotField = "slot"

// slotSuggestions is how many free times the warning proposes.
const slotSuggestions = 3

// slotWarning returns the warning for booking sl at start, or "" when the
// time is free (or nothing checks slots).
func (s *Service) slotWarning(ctx context.Context, sl availability.Slot, start time.Time, loc *models.Location, provider *models.Provider) (string, error) {
	if s.slots == nil {
		return "", nil
	}
	v, err := s.slots.Check(ctx, sl, start)
	if err != nil || v.Free {
		return "", err
	}
	zone := loc.Zone()
	var parts []string
	if len(v.Conflicts) > 0 {
		who := loc.Name + " (appointments without a provider)"
		if provider != nil {
			who = provider.Name
		}
		spans := make([]string, 0, len(v.Conflicts))
		for _, a := range v.Conflicts {
			spans = append(spans, a.StartsAt.In(zone).Format("Mon 2 Jan 15:04")+"–"+a.EndsAt().In(zone).Format("15:04"))
		}
		parts = append(parts, fmt.Sprintf("%s is already booked then: %s (with the time kept free around appointments).", who, strings.Join(spans, ", ")))
	}
	if v.OutsideHours {
		parts = append(parts, "This time is outside the working hours.")
	}
	if v.HoursSet {
		free, err := s.slots.Free(ctx, sl, start, slotSuggestions)
		if err != nil {
			return "", err
		}
		if len(free) > 0 {
			times := make([]string, len(free))
			for i, t := range free {
				times[i] = t.In(zone).Format("Mon 2 Jan 15:04")
			}
			parts = append(parts, "Next free times: "+strings.Join(times, ", ")+".")
		}
	}
	return strings.Join(parts, " "), nil
}
