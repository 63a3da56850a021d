package clinic

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"apptconfirm/models"
)

// The outcomes staff and the API give a past appointment.
const (
	// OutcomeAttended: the patient came (the appointment becomes completed).
	OutcomeAttended = "attended"
	// OutcomeNoShow: the patient did not come (no_show).
	OutcomeNoShow = "no_show"
)

// MaxOutcomes is the most outcomes one call records.
const MaxOutcomes = 500

// outcomesPerLocation bounds the appointments one location's day lists.
const outcomesPerLocation = 1000

// autoMarkDays is how many local days back AutoMarkNoShows looks: a day
// that ended while the app was down is still marked, but turning the
// setting on never reaches into old history (and never sends follow-ups
// about visits long past).
const autoMarkDays = 3

// NoShowPlanner is what a Planner may also do for a no-show: replan it and
// queue the follow-up that invites the patient to book again. app/outbox
// implements it; a Planner without it only replans.
type NoShowPlanner interface {
	NoShow(ctx context.Context, appointmentID uint, now time.Time) error
}

// OutcomeItem is one appointment's outcome, as staff or the API give it.
type OutcomeItem struct {
	ID      uint
	Outcome string
}

// OutcomeDay is one location's local day: its past appointments still
// scheduled or confirmed, soonest first.
type OutcomeDay struct {
	Location models.Location
	// Start is the day's local midnight in the location's zone.
	Start time.Time
	// Over is set when the day has ended in the location's zone.
	Over         bool
	Appointments []models.Appointment
}

// PendingOutcomes returns, for each location (of locationID, or every one
// when it is 0), the appointments of the local day date (its year, month
// and day, read in each location's own zone) that have started and are
// still scheduled or confirmed: those staff have not yet marked attended or
// no-show.
func (s *Service) PendingOutcomes(ctx context.Context, date time.Time, locationID uint) ([]OutcomeDay, error) {
	now := s.clock()
	locs, err := s.store.Locations(ctx)
	if err != nil {
		return nil, fmt.Errorf("clinic: pending outcomes: %w", err)
	}
	var days []OutcomeDay
	for _, l := range locs {
		if locationID != 0 && l.ID != locationID {
			continue
		}
		zone := l.Zone()
		start := time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, zone)
		end := start.AddDate(0, 0, 1)
		d := OutcomeDay{Location: l, Start: start, Over: !now.Before(end)}
		if start.After(now) {
			days = append(days, d)
			continue
		}
		as, err := s.store.FindAppointments(ctx, models.AppointmentFilter{
			From: start, To: end, LocationID: l.ID, Statuses: models.OutcomeStatuses, Limit: outcomesPerLocation,
		})
		if err != nil {
			return nil, fmt.Errorf("clinic: pending outcomes: %w", err)
		}
		for _, a := range as {
			if !a.StartsAt.After(now) {
				d.Appointments = append(d.Appointments, a)
			}
		}
		days = append(days, d)
	}
	return days, nil
}

// CheckOutcomes validates items without writing: each needs an
// appointment id, a known outcome, and appears once. Errors are keyed
// "items[i].id" or "items[i].outcome".
func CheckOutcomes(items []OutcomeItem) models.FieldErrors {
	fe := models.FieldErrors{}
	switch {
	case len(items) == 0:
		fe.Add("items", "give at least one appointment and its outcome")
	case len(items) > MaxOutcomes:
		fe.Add("items", fmt.Sprintf("at most %d appointments at once, got %d", MaxOutcomes, len(items)))
	}
	seen := map[uint]int{}
	for i, it := range items {
		key := fmt.Sprintf("items[%d]", i)
		if it.ID == 0 {
			fe.Add(key+".id", "required: the appointment's id")
		} else if j, dup := seen[it.ID]; dup {
			fe.Add(key+".id", fmt.Sprintf("appointment %d is already items[%d]", it.ID, j))
		} else {
			seen[it.ID] = i
		}
		switch it.Outcome {
		case OutcomeAttended, OutcomeNoShow:
		case "":
			fe.Add(key+".outcome", "required: attended or no_show")
		default:
			fe.Add(key+".outcome", fmt.Sprintf("must be attended or no_show, got %q", clip(it.Outcome, 40)))
		}
	}
	return fe
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// RecordOutcomes records whether the patients of past appointments came:
// attended marks an appointment completed, no_show marks it a no-show
// (which may queue the no-show follow-up). It is all or nothing, in one
// transaction: when any item cannot apply (unknown appointment, one that
// has not started, a cancelled one), nothing is written and the returned
// models.FieldErrors names each refused item ("items[2].id": "appointment
// 41 has not started yet"). An appointment already in the outcome asked
// for is left as it is, so a retried call changes nothing. Each change is
// audited and on the appointment's timeline, with its domain event.
func (s *Service) RecordOutcomes(ctx context.Context, actor models.Actor, items []OutcomeItem) ([]*models.Appointment, error) {
	if fe := CheckOutcomes(items); len(fe) > 0 {
		return nil, fe
	}
	out := make([]*models.Appointment, len(items))
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		fe := models.FieldErrors{}
		for i, it := range items {
			a, err := s.recordOutcome(ctx, actor, it)
			if msg, ok := outcomeRefusal(it, err); ok {
				fe.Add(fmt.Sprintf("items[%d].id", i), msg)
				continue
			}
			if err != nil {
				return err
			}
			out[i] = a
		}
		return fe.Err()
	})
	if err != nil {
		return nil, wrapUnlessInput("clinic: record outcomes", err)
	}
	return out, nil
}

// recordOutcome applies one outcome (an appointment already in it is
// returned unchanged).
func (s *Service) recordOutcome(ctx context.Context, actor models.Actor, it OutcomeItem) (*models.Appointment, error) {
	want := models.Completed
	if it.Outcome == OutcomeNoShow {
		want = models.NoShow
	}
	cur, err := s.store.Appointment(ctx, it.ID)
	if err != nil {
		return nil, err
	}
	if cur.Status == want {
		return cur, nil
	}
	if want == models.NoShow {
		return s.MarkNoShow(ctx, actor, it.ID)
	}
	return s.MarkCompleted(ctx, actor, it.ID)
}

// outcomeRefusal says, naming the appointment, why an outcome could not
// apply; ok is false for errors that are not the caller's.
func outcomeRefusal(it OutcomeItem, err error) (string, bool) {
	if err == nil {
		return "", false
	}
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Sprintf("appointment %d does not exist", it.ID), true
	}
	var bt *models.ErrBadTransition
	if errors.As(err, &bt) {
		return fmt.Sprintf("appointment %d is %s and cannot be marked %s", it.ID, statusWord(models.AppointmentStatus(bt.From)), outcomeWord(it.Outcome)), true
	}
	if fe, ok := models.AsFieldErrors(err); ok {
		if _, started := fe["status"]; started {
			return fmt.Sprintf("appointment %d has not started yet: only a past appointment gets an outcome", it.ID), true
		}
		var parts []string
		for _, m := range fe {
			parts = append(parts, m)
		}
		sort.Strings(parts)
		return fmt.Sprintf("appointment %d: %s", it.ID, strings.Join(parts, "; ")), true
	}
	return "", false
}

// outcomeWord is an outcome as people read it.
func outcomeWord(o string) string {
	if o == OutcomeNoShow {
		return "a no-show"
	}
	return "attended"
}

// AutoMarkNoShows marks as no-shows the appointments still only scheduled
// (never confirmed) whose local day, in their location's zone, has ended,
// within the last few days; confirmed ones are left for staff to mark. It
// is safe to run on several instances at once: each appointment is locked
// and re-checked, and one another instance marked first is skipped. It
// returns how many it marked.
func (s *Service) AutoMarkNoShows(ctx context.Context) (int, error) {
	now := s.clock()
	locs, err := s.store.Locations(ctx)
	if err != nil {
		return 0, fmt.Errorf("clinic: auto-mark no-shows: %w", err)
	}
	marked := 0
	for _, l := range locs {
		local := now.In(l.Zone())
		today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, l.Zone())
		ids, err := s.store.AppointmentIDs(ctx, models.AppointmentFilter{
			From: today.AddDate(0, 0, -autoMarkDays), To: today, LocationID: l.ID,
			Status: models.Scheduled, Limit: outcomesPerLocation,
		})
		if err != nil {
			return marked, fmt.Errorf("clinic: auto-mark no-shows: %w", err)
		}
		for _, id := range ids {
			_, err := s.markNoShow(ctx, models.SystemActor(), id, true)
			var bt *models.ErrBadTransition
			switch {
			case err == nil:
				marked++
			case errors.As(err, &bt), errors.Is(err, models.ErrNotFound):
				// Marked, confirmed or cancelled meanwhile.
			default:
				return marked, err
			}
		}
	}
	return marked, nil
}
