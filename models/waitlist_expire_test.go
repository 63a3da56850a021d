package models_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// An offer answered by a YES between the expiry's read and its update is
// not reported expired: the caller would otherwise tell the timeline and
// start the next batch for an offer that was in fact taken.
func TestExpireStaleWaitlistOffersSkipsAnsweredMeanwhile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		var ids []uint
		for i := range 3 {
			o := &models.WaitlistOffer{
				SlotID: 1, FreedAppointmentID: 1, WaitlistEntryID: uint(i + 1), PatientID: uint(i + 1),
				SentAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute), Status: models.WaitlistOffered, Batch: 1,
				CreatedAt: now, UpdatedAt: now,
			}
			if err := s.CreateWaitlistOffer(ctx, o); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o.ID)
		}
		// The YES to the second offer lands after the expiry read it.
		db := s.DB(ctx)
		fired := false
		name := "test:answer_between_read_and_update"
		if err := db.Callback().Update().Before("gorm:update").Register(name, func(tx *gorm.DB) {
			if fired || tx.Statement.Table != "waitlist_offers" {
				return
			}
			fired = true
			if err := tx.Session(&gorm.Session{NewDB: true}).Exec(
				"UPDATE waitlist_offers SET status = ? WHERE id = ?", models.WaitlistTaken, ids[1]).Error; err != nil {
				t.Error(err)
			}
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Callback().Update().Remove(name) })
		got, err := s.ExpireStaleWaitlistOffers(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if !fired {
			t.Fatal("the update hook never ran")
		}
		var gotIDs []uint
		for _, o := range got {
			gotIDs = append(gotIDs, o.ID)
		}
		if len(gotIDs) != 2 || gotIDs[0] != ids[0] || gotIDs[1] != ids[2] {
			t.Fatalf("expired %v, want %v and %v (offer %d was taken)", gotIDs, ids[0], ids[2], ids[1])
		}
		o, err := s.WaitlistOffer(ctx, ids[1])
		if err != nil || o.Status != models.WaitlistTaken {
			t.Fatalf("offer %d: %+v, %v", ids[1], o, err)
		}
	})
}
