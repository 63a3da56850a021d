package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// While messages are held for a later insert, a lookup on the messages
// table that finds nothing says so as ErrMessagesHeld, not as "not found":
// the message looked for may be among those held.
func TestHeldMessagesNotFoundIsNoAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		withHeldMessage(t, s, func(ctx context.Context, m *models.Message) {
			_, err := s.MessageByUUID(ctx, m.UUID)
			if !errors.Is(err, models.ErrMessagesHeld) {
				t.Errorf("lookup of a held message: %v, want ErrMessagesHeld", err)
			}
		})
	})
}

// The opt-out set statements do not read or end planned messages past
// those held: they say so, as the one-patient statements do.
func TestOptOutSetStatementsSeeHeldMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		withHeldMessage(t, s, func(ctx context.Context, _ *models.Message) {
			if _, err := s.PlannedForPatients(ctx, []uint{1}, ""); !errors.Is(err, models.ErrMessagesHeld) {
				t.Errorf("PlannedForPatients with messages held: %v, want ErrMessagesHeld", err)
			}
			if _, err := s.EndPlannedSet(ctx, []uint{1}, models.MsgCancelled, "opted out", time.Now()); !errors.Is(err, models.ErrMessagesHeld) {
				t.Errorf("EndPlannedSet with messages held: %v, want ErrMessagesHeld", err)
			}
		})
	})
}

// withHeldMessage runs fn in a transaction that holds one planned message
// for a later insert, then rolls the transaction back: nothing of it is
// kept.
func withHeldMessage(t *testing.T, s *models.Store, fn func(ctx context.Context, m *models.Message)) {
	t.Helper()
	err := s.Tx(context.Background(), func(ctx context.Context) error {
		s.HoldMessages(ctx, true)
		m := &models.Message{
			UUID: "00000000-0000-4000-8000-000000000001", Kind: models.KindReminder, To: "+15550000001",
			Status: models.MsgPlanned, SendAt: time.Now().UTC(),
		}
		if err := s.CreateMessagesThen(ctx, []*models.Message{m}, nil); err != nil {
			return err
		}
		fn(ctx, m)
		return errRollBack
	})
	if !errors.Is(err, errRollBack) {
		t.Fatalf("holding a message: %v", err)
	}
}

var errRollBack = errors.New("roll back")
