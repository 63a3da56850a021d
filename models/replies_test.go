package models_test

import (
	"context"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// The latest reply per appointment (for the calendar's chips and who needs
// chasing), and a patient's texts by match or by number, latest first.
func TestReplySummariesAndPatientReplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		db := s.DB(ctx)
		loc := models.Location{Name: "Main", TimeZone: "UTC", Country: "US"}
		if err := db.Create(&loc).Error; err != nil {
			t.Fatal(err)
		}
		ada := models.Patient{FirstName: "Ada", LastName: "L", Phone: "+12025550111", Language: "en"}
		bob := models.Patient{FirstName: "Bob", LastName: "M", Phone: "+12025550112", Language: "en"}
		for _, p := range []*models.Patient{&ada, &bob} {
			if err := db.Create(p).Error; err != nil {
				t.Fatal(err)
			}
		}
		var appts [2]models.Appointment
		for i := range appts {
			appts[i] = models.Appointment{PatientID: ada.ID, LocationID: loc.ID, StartsAt: now.Add(time.Duration(i+1) * 24 * time.Hour), DurationMinutes: 30, Status: models.Scheduled}
			if err := db.Create(&appts[i]).Error; err != nil {
				t.Fatal(err)
			}
		}
		in := []models.InboundMessage{
			{ProviderID: "r1", From: ada.Phone, Text: "YES", ReceivedAt: now, PatientID: &ada.ID, AppointmentID: &appts[0].ID, Intent: "confirm"},
			{ProviderID: "r2", From: ada.Phone, Text: "later?", ReceivedAt: now.Add(time.Minute), PatientID: &ada.ID, AppointmentID: &appts[0].ID, Intent: "unknown", NeedsAttention: true},
			{ProviderID: "r3", From: ada.Phone, Text: "unmatched, by number", ReceivedAt: now.Add(2 * time.Minute)},
			{ProviderID: "r4", From: bob.Phone, Text: "Bob's", ReceivedAt: now.Add(3 * time.Minute), PatientID: &bob.ID},
		}
		for i := range in {
			if _, err := s.AddInbound(ctx, &in[i]); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := s.ReplySummaries(ctx, []uint{appts[0].ID, appts[1].ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum) != 1 || sum[appts[0].ID].ID != in[1].ID || !sum[appts[0].ID].NeedsAttention || sum[appts[0].ID].Text != "" {
			t.Fatalf("summaries: %+v", sum)
		}
		if sum, err := s.ReplySummaries(ctx, nil); err != nil || len(sum) != 0 {
			t.Fatalf("no ids: %v %v", sum, err)
		}
		got, err := s.PatientReplies(ctx, ada.ID, ada.Phone, 10)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, r := range got {
			texts = append(texts, r.Text)
		}
		if len(texts) != 3 || texts[0] != "unmatched, by number" || texts[2] != "YES" {
			t.Fatalf("Ada's texts: %q", texts)
		}
		if got, _ := s.PatientReplies(ctx, ada.ID, ada.Phone, 1); len(got) != 1 {
			t.Fatalf("limit 1 gave %d", len(got))
		}
	})
}
