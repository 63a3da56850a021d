package clinic

import (
	"context"
	"fmt"
	"time"

	"apptconfirm/models"
)

// OptOutOf is one patient for OptOutPatients to opt out: the patient as
// read (with its lock) in the transaction, who asked and how (as OptOut's
// actor and source).
type OptOutOf struct {
	Patient *models.Patient
	Actor   models.Actor
	Source  string
}

// setCanceller is a Planner that cancels the planned messages of several
// patients at once, returning their domain events instead of recording
// them (outbox.Outbox implements it).
type setCanceller interface {
	CancelForPatients(ctx context.Context, patientIDs []uint, reason string, now time.Time) (map[uint][]models.Event, error)
}

// OptOutPatients is OptOut for each of outs in turn, with the same rows,
// in the same order, in a few statements whatever their count: one
// cancels the planned messages of all of them, one (per source) marks
// them opted out, one reads their upcoming appointments, and the audit and
// timeline rows are written together. A patient already opted out, or
// named twice, is left alone (the first asking wins); so, unlike OptOut,
// its planned messages are not looked at. Called inside a transaction (a
// webhook's), it joins it.
func (s *Service) OptOutPatients(ctx context.Context, outs []OptOutOf) error {
	seen := make(map[uint]bool, len(outs))
	var todo []OptOutOf
	for _, o := range outs {
		if o.Patient.OptedOut() || seen[o.Patient.ID] {
			continue
		}
		seen[o.Patient.ID] = true
		todo = append(todo, o)
	}
	if len(todo) == 0 {
		return nil
	}
	cs, ok := s.planner.(setCanceller)
	if !ok {
		for _, o := range todo {
			if err := s.OptOut(ctx, o.Actor, o.Patient.ID, o.Source); err != nil {
				return err
			}
		}
		return nil
	}
	at := s.clock()
	ids := make([]uint, len(todo))
	bySource := map[string][]uint{}
	var sources []string
	for i, o := range todo {
		if m := checkName(o.Source, 32); m != "" {
			return models.FieldErrors{"source": m}
		}
		ids[i] = o.Patient.ID
		if bySource[o.Source] == nil {
			sources = append(sources, o.Source)
		}
		bySource[o.Source] = append(bySource[o.Source], o.Patient.ID)
	}
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		return s.store.DeferringLogs(ctx, func(ctx context.Context) error {
			cancelled, err := cs.CancelForPatients(ctx, ids, optOutReason, at)
			if err != nil {
				return err
			}
			for _, src := range sources {
				if err := s.store.SetOptOuts(ctx, bySource[src], at, src); err != nil {
					return err
				}
			}
			upcoming, err := s.store.UpcomingAppointmentIDs(ctx, ids, at.Add(time.Microsecond), models.ActiveStatuses)
			if err != nil {
				return err
			}
			for _, o := range todo {
				if err := s.optedOut(ctx, o, at, cancelled[o.Patient.ID], upcoming[o.Patient.ID]); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return wrapUnlessInput("clinic: opt out patients", err)
	}
	return nil
}

// optedOut writes what OptOut writes after marking o's patient opted out:
// the events of the messages cancelled, the audit row, the domain event and
// a timeline entry on each of appointments.
func (s *Service) optedOut(ctx context.Context, o OptOutOf, at time.Time, cancelled []models.Event, appointments []uint) error {
	if err := s.store.Record(ctx, cancelled...); err != nil {
		return err
	}
	pid := o.Patient.ID
	detail := fmt.Sprintf("opted out (%s); %d planned message(s) cancelled", o.Source, len(cancelled))
	if err := s.store.Audit(ctx, at, o.Actor, "patient.opt_out", EntityPatient, pid, detail); err != nil {
		return err
	}
	err := s.store.Record(ctx, models.Event{At: at, Type: models.EventPatientOptedOut, PatientID: pid, Status: "opted_out", Source: o.Source})
	if err != nil {
		return err
	}
	line := fmt.Sprintf("Patient opted out of messages (%s) by %s; pending reminders cancelled", o.Source, o.Actor.Label())
	entries := make([]models.TimelineEntry, len(appointments))
	for i, id := range appointments {
		entries[i] = models.TimelineEntry{AppointmentID: id, At: at, Kind: models.TimelineOptOut, Detail: line, UserID: o.Actor.UserID}
	}
	return s.store.AddTimeline(ctx, entries...)
}
