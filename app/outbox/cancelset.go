package outbox

import (
	"context"
	"fmt"
	"time"

	"apptconfirm/models"
)

// CancelForPatients is CancelForPatient for several patients, in a few
// statements whatever their count: the planned messages of patientIDs
// (but their opt-out confirmations) are cancelled with reason. A message
// that belongs to several of them (its patient is one, its appointment's
// another) counts for the first in patientIDs, as cancelling them one
// after another would have it. It records nothing: it returns, for each
// patient, the domain events of the messages it cancelled, by message id,
// for the caller to record in the order it writes the rest.
func (o *Outbox) CancelForPatients(ctx context.Context, patientIDs []uint, reason string, now time.Time) (map[uint][]models.Event, error) {
	now = models.DBTime(now)
	out := make(map[uint][]models.Event, len(patientIDs))
	err := o.store.Tx(ctx, func(ctx context.Context) error {
		ms, err := o.store.PlannedForPatients(ctx, patientIDs, models.KindOptOutAck)
		if err != nil || len(ms) == 0 {
			return err
		}
		ids := make([]uint, len(ms))
		for i := range ms {
			ids[i] = ms[i].ID
		}
		done, err := o.store.EndPlannedSet(ctx, ids, models.MsgCancelled, reason, now)
		if err != nil {
			return err
		}
		rank := make(map[uint]int, len(patientIDs))
		for i, id := range patientIDs {
			if _, ok := rank[id]; !ok {
				rank[id] = i
			}
		}
		for _, r := range ms {
			if !done[r.ID] {
				continue // claimed meanwhile: the dispatcher checks opt-outs
			}
			owner, best := uint(0), len(patientIDs)
			for _, p := range []*uint{r.PatientID, r.OwnerID} {
				if p == nil {
					continue
				}
				if i, ok := rank[*p]; ok && i < best {
					owner, best = *p, i
				}
			}
			m := models.Message{ID: r.ID, Kind: r.Kind, AppointmentID: r.AppointmentID, PatientID: r.PatientID, Status: models.MsgCancelled}
			out[owner] = append(out[owner], MessageEvent(&m, now, ""))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: cancel messages of patients: %w", err)
	}
	return out, nil
}
