package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// An import job is inserted, then replaced; old ones are deleted.
func TestImportJobsSaveAndExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		j := &models.ImportJob{ID: "abc", OwnerID: 3, Name: "day.csv", State: "applying", Total: 400, UpdatedAt: at}
		if err := s.SaveImportJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		j.Done, j.State, j.Summary = 200, "applied", `{"created":200}`
		if err := s.SaveImportJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		got, err := s.ImportJob(ctx, "abc")
		if err != nil {
			t.Fatal(err)
		}
		if got.Done != 200 || got.State != "applied" || got.Summary != `{"created":200}` || got.OwnerID != 3 || !got.UpdatedAt.Equal(at) {
			t.Errorf("stored %+v", got)
		}
		if err := s.DeleteImportJobsBefore(ctx, at.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ImportJob(ctx, "abc"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("after expiry: %v", err)
		}
	})
}
