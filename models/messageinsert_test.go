package models_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// CreateMessage, run past GORM, stores the row GORM's Create stores, NULLs
// and all, and gives the message its id; a zero creation time becomes
// the store's now.
func TestCreateMessageWritesAsGORMDoes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		p := &models.Patient{FirstName: "Ann", Phone: "+491510000001"}
		if err := s.CreatePatient(ctx, p); err != nil {
			t.Fatal(err)
		}
		code, lease, from := 7, now.Add(time.Minute), now.Add(-time.Hour)
		full := models.Message{
			PatientID: &p.ID, RuleName: "48h", Kind: models.KindReminder, To: p.Phone, Body: "Hi",
			Status: models.MsgSending, SendAt: now, Reason: "r", PlannedBecause: "b", Attempts: 2, LeaseUntil: &lease,
			ProviderID: "prov-1", CampaignID: "c", Parts: 2, Cost: 0.5, ProviderState: "x", ErrorCode: &code,
			InDoubt: true, CreatedAt: now, UpdatedAt: now, Language: "de", FallbackFrom: "fr", MovedFrom: &from, MoveReason: "quiet",
		}
		bare := models.Message{Kind: models.KindHelp, To: p.Phone, Status: models.MsgPlanned, SendAt: now, CreatedAt: now, UpdatedAt: now}
		for i, m := range []models.Message{full, bare} {
			raw, viaGORM := m, m
			raw.UUID, viaGORM.UUID = "00000000-0000-4000-8000-00000000000"+string(rune('a'+2*i)), "00000000-0000-4000-8000-00000000000"+string(rune('b'+2*i))
			if err := s.CreateMessage(ctx, &raw); err != nil {
				t.Fatal(err)
			}
			if err := s.DB(ctx).Create(&viaGORM).Error; err != nil {
				t.Fatal(err)
			}
			if raw.ID == 0 {
				t.Fatal("no id given")
			}
			var got, want models.Message
			if err := s.DB(ctx).First(&got, raw.ID).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.DB(ctx).First(&want, viaGORM.ID).Error; err != nil {
				t.Fatal(err)
			}
			got.ID, got.UUID, want.ID, want.UUID = 0, "", 0, ""
			if !reflect.DeepEqual(got, want) {
				t.Errorf("message %d:\n got %+v\nwant %+v", i, got, want)
			}
		}
		m := bare
		m.UUID, m.CreatedAt, m.UpdatedAt = "00000000-0000-4000-8000-00000000000f", time.Time{}, time.Time{}
		if err := s.CreateMessage(ctx, &m); err != nil {
			t.Fatal(err)
		}
		if m.CreatedAt.IsZero() || !m.UpdatedAt.Equal(m.CreatedAt) {
			t.Errorf("times %v, %v: want the store's now", m.CreatedAt, m.UpdatedAt)
		}
	})
}

// A second message with the same UUID is a conflict on both databases,
// as it is through GORM.
func TestCreateMessageDuplicateIsAConflict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		m := models.Message{
			UUID: "00000000-0000-4000-8000-0000000000aa", Kind: models.KindHelp, To: "+491510000002",
			Status: models.MsgPlanned, SendAt: now,
		}
		first, again := m, m
		if err := s.CreateMessage(ctx, &first); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateMessage(ctx, &again); !errors.Is(err, models.ErrConflict) {
			t.Fatalf("second insert of one UUID: %v, want ErrConflict", err)
		}
	})
}
