package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// A transaction's domain events are stored with it and handed on only
// once it has committed; a transaction that rolls back, or a savepoint
// that does, publishes nothing of its own.
func TestEventsFollowTheCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		sink := storetest.EventsOf(s)
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ev := func(typ string, id uint) models.Event {
			return models.Event{At: at, Type: typ, AppointmentID: id}
		}
		boom := errors.New("boom")

		err := s.Tx(ctx, func(ctx context.Context) error {
			if err := s.Record(ctx, ev(models.EventAppointmentConfirmed, 1)); err != nil {
				return err
			}
			if n := len(sink.All()); n != 0 {
				t.Errorf("%d events published before the commit", n)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v", err)
		}
		if got := sink.All(); len(got) != 0 {
			t.Fatalf("a rolled-back transaction published %+v", got)
		}

		err = s.Tx(ctx, func(ctx context.Context) error {
			if err := s.Record(ctx, ev(models.EventAppointmentCreated, 2)); err != nil {
				return err
			}
			inner := s.Tx(ctx, func(ctx context.Context) error {
				if err := s.Record(ctx, ev(models.EventAppointmentCancelled, 3)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(inner, boom) {
				t.Errorf("savepoint = %v", inner)
			}
			return s.Tx(ctx, func(ctx context.Context) error {
				return s.Record(ctx, ev(models.EventAppointmentConfirmed, 4))
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		got := sink.All()
		if len(got) != 2 || got[0].AppointmentID != 2 || got[1].AppointmentID != 4 {
			t.Fatalf("committed %+v, want the events of appointments 2 and 4 in order", got)
		}
		if got[0].ID == 0 || got[1].ID <= got[0].ID {
			t.Fatalf("events were not stored with ids: %+v", got)
		}
		stored, err := s.Events(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 2 || stored[0].Type != models.EventAppointmentCreated || !stored[0].At.Equal(at) {
			t.Fatalf("stored %+v", stored)
		}

		// Outside a transaction, Record commits (and publishes) at once.
		if err := s.Record(ctx, ev(models.EventAppointmentNoShow, 5)); err != nil {
			t.Fatal(err)
		}
		if got := sink.All(); len(got) != 3 || got[2].AppointmentID != 5 {
			t.Fatalf("after a Record outside a transaction: %+v", got)
		}
		if n, err := s.PruneEvents(ctx, at.Add(time.Second)); err != nil || n != 3 {
			t.Fatalf("PruneEvents = %d, %v; want 3", n, err)
		}
	})
}

// failingStage refuses every staging, as an outbound-webhook queue that
// cannot write would.
type failingStage struct{ storetest.Events }

func (f *failingStage) Stage(context.Context, *models.Store, []models.Event) error {
	return errors.New("cannot stage")
}

// A sink that cannot stage a transaction's events rolls the whole
// transaction back: a change is never committed without what its events
// must cause.
func TestStageFailureRollsBack(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	sink := storetest.EventsOf(s)
	sink.Forward(&failingStage{})
	err := s.Tx(ctx, func(ctx context.Context) error {
		if err := s.DB(ctx).Create(&models.Setting{Key: "k", Value: "v"}).Error; err != nil {
			return err
		}
		return s.Record(ctx, models.Event{At: time.Now(), Type: models.EventPatientCreated, PatientID: 1})
	})
	if err == nil {
		t.Fatal("Tx committed although staging failed")
	}
	if _, err := s.Setting(ctx, "k"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("the setting survived: %v", err)
	}
	if got := sink.All(); len(got) != 0 {
		t.Fatalf("published %+v", got)
	}
}
