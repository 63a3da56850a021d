package clinic

import (
	"context"
	"fmt"

	"apptconfirm/models"
)

// ActionErase is the audit action of a patient's erasure.
const ActionErase = "patient.erase"

// ErasePatient erases patient id (see models.Store.ErasePatient for what
// goes and what stays), in one transaction with its audit row (who, when,
// which id, and counts: nothing of what was erased) and its domain event.
// An unknown or already erased patient is models.ErrNotFound.
func (s *Service) ErasePatient(ctx context.Context, actor models.Actor, id uint) (*models.Erasure, error) {
	now := s.clock()
	var out *models.Erasure
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		e, err := s.store.ErasePatient(ctx, id, now)
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("erased patient %d: %d appointment(s) kept without personal data; %d message(s) (%d pending, cancelled) and %d reply(ies) blanked",
			id, e.Appointments, e.Messages, e.Cancelled, e.Replies)
		if e.SharedNumber {
			detail += "; the phone number stays with the other patients who share it"
		}
		if err := s.store.Audit(ctx, now, actor, ActionErase, EntityPatient, id, detail); err != nil {
			return err
		}
		if err := s.store.Record(ctx, models.Event{At: now, Type: models.EventPatientErased, PatientID: id, Source: actor.Label()}); err != nil {
			return err
		}
		out = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("clinic: erase patient %d: %w", id, err)
	}
	return out, nil
}
