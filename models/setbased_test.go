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

// MessagesForReports reads its rows past GORM: every column must come back
// as GORM reads it, and the held-messages guard must hold.
func TestMessagesForReportsReadsEveryColumn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC)
		later := at.Add(time.Hour)
		n, appt, pat, rule, user := 7, uint(11), uint(12), uint(13), uint(14)
		full := &models.Message{
			UUID: "00000000-0000-4000-8000-000000000001", AppointmentID: &appt, PatientID: &pat, RuleID: &rule,
			RuleName: "48h", Kind: models.KindReminder, To: "+15550000001", Body: "Hello", Status: models.MsgFailed,
			SendAt: at, Reason: "Not delivered", PlannedBecause: "because", Attempts: 2, LeaseUntil: &later,
			SentAt: &at, DeliveredAt: &later, ProviderID: "10000000-0000-4000-8000-000000000001",
			CampaignID: "c1", Parts: 2, Cost: 0.25, ProviderState: "FAILED", ErrorCode: &n, CreatedByID: &user,
			InDoubt: true, Language: "de", FallbackFrom: "fr", MovedFrom: &at, MoveReason: "quiet hours",
		}
		bare := &models.Message{
			UUID: "00000000-0000-4000-8000-000000000002", Kind: models.KindReminder, To: "+15550000002",
			Status: models.MsgPlanned, SendAt: at,
		}
		for _, m := range []*models.Message{full, bare} {
			if err := s.DB(ctx).Create(m).Error; err != nil {
				t.Fatal(err)
			}
		}
		// The columns the schema lets be NULL read as GORM reads them.
		if err := s.DB(ctx).Exec("UPDATE messages SET provider_message_id = NULL, created_at = NULL, updated_at = NULL WHERE id = ?", bare.ID).Error; err != nil {
			t.Fatal(err)
		}
		var want []models.Message
		if err := s.DB(ctx).Order("id").Find(&want).Error; err != nil {
			t.Fatal(err)
		}
		got, err := s.MessagesForReports(ctx, []string{full.ProviderID}, []string{bare.UUID})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("MessagesForReports:\n got %+v\nwant %+v", got, want)
		}
		_ = s.Tx(ctx, func(ctx context.Context) error {
			s.HoldMessages(ctx, true)
			held := &models.Message{
				UUID: "00000000-0000-4000-8000-000000000003", Kind: models.KindReminder, To: "+15550000003",
				Status: models.MsgPlanned, SendAt: at,
			}
			if err := s.CreateMessagesThen(ctx, []*models.Message{held}, nil); err != nil {
				return err
			}
			if _, err := s.MessagesForReports(ctx, nil, []string{held.UUID}); !errors.Is(err, models.ErrMessagesHeld) {
				t.Errorf("read with messages held: %v, want ErrMessagesHeld", err)
			}
			return errors.New("roll back")
		})
	})
}

// UpdateDeliveries writes only the columns some row changed, and leaves
// the others as they are; a row no longer in its From status is a
// conflict.
func TestUpdateDeliveriesWritesChangedColumns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var ms []*models.Message
		for i, uuid := range []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"} {
			m := &models.Message{
				UUID: uuid, Kind: models.KindReminder, To: "+1555000000" + string(rune('1'+i)), Status: models.MsgAccepted,
				SendAt: at, SentAt: &at, ProviderID: "p" + uuid[len(uuid)-1:], CampaignID: "c",
			}
			if err := s.DB(ctx).Create(m).Error; err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		read, err := s.MessagesForReports(ctx, []string{"p1", "p2"}, nil)
		if err != nil || len(read) != 2 {
			t.Fatalf("read %d messages: %v", len(read), err)
		}
		a, b := read[0], read[1]
		later := at.Add(time.Minute)
		a.Status, a.DeliveredAt, a.ProviderState, a.UpdatedAt = models.MsgDelivered, &later, "DELIVERED", later
		code := 30
		b.Status, b.Reason, b.ErrorCode, b.UpdatedAt = models.MsgFailed, "no", &code, later
		// A column changed behind the set's back stays as it is, since no
		// row of the set changes it.
		if err := s.DB(ctx).Model(&models.Message{}).Where("id = ?", ms[0].ID).Update("campaign_id", "other").Error; err != nil {
			t.Fatal(err)
		}
		err = s.UpdateDeliveries(ctx, []models.DeliveryRow{
			{From: models.MsgAccepted, Message: &a, Was: &read[0]},
			{From: models.MsgAccepted, Message: &b, Was: &read[1]},
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []models.Message
		if err := s.DB(ctx).Order("id").Find(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got[0].Status != models.MsgDelivered || got[0].DeliveredAt == nil || !got[0].DeliveredAt.Equal(later) ||
			got[0].ProviderState != "DELIVERED" || got[0].CampaignID != "other" || !got[0].UpdatedAt.Equal(later) {
			t.Errorf("first message: %+v", got[0])
		}
		if got[1].Status != models.MsgFailed || got[1].Reason != "no" || got[1].ErrorCode == nil || *got[1].ErrorCode != 30 {
			t.Errorf("second message: %+v", got[1])
		}
		err = s.UpdateDeliveries(ctx, []models.DeliveryRow{{From: models.MsgAccepted, Message: &a, Was: &read[0]}})
		if !errors.Is(err, models.ErrConflict) {
			t.Errorf("row no longer in its From status: %v, want ErrConflict", err)
		}
	})
}
