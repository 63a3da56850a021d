package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// A family shares one phone: erasing one of them blanks what is theirs and
// leaves the number where it is the other's; texts to the shared number
// that name the erased one are blanked too. An erased patient is gone for
// every patient query.
func TestErasePatientOnASharedNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		db := s.DB(ctx)
		loc := models.Location{Name: "Main", TimeZone: "UTC", Country: "US"}
		if err := db.Create(&loc).Error; err != nil {
			t.Fatal(err)
		}
		const phone = "+12025550111"
		kid := models.Patient{FirstName: "Tamsin", LastName: "Vale", Phone: phone, Language: "en"}
		mum := models.Patient{FirstName: "Hester", LastName: "Vale", Phone: phone, Language: "en"}
		for _, p := range []*models.Patient{&kid, &mum} {
			if err := db.Create(p).Error; err != nil {
				t.Fatal(err)
			}
		}
		appt := models.Appointment{PatientID: kid.ID, LocationID: loc.ID, StartsAt: now.Add(48 * time.Hour), DurationMinutes: 30, Notes: "Tamsin's asthma", Status: models.Scheduled}
		if err := db.Create(&appt).Error; err != nil {
			t.Fatal(err)
		}
		msgs := []models.Message{
			{UUID: "u1", AppointmentID: &appt.ID, PatientID: &kid.ID, Kind: models.KindReminder, To: phone, Body: "Hi Tamsin", Status: models.MsgPlanned, SendAt: now},
			{UUID: "u2", PatientID: &mum.ID, Kind: models.KindQuestion, To: phone, Body: "1 for Tue (Tamsin), 2 for Wed (Hester)", Status: models.MsgDelivered, SendAt: now},
			{UUID: "u3", PatientID: &mum.ID, Kind: models.KindHelp, To: phone, Body: "Call us", Status: models.MsgDelivered, SendAt: now},
		}
		if err := db.Create(&msgs).Error; err != nil {
			t.Fatal(err)
		}
		in := models.InboundMessage{ProviderID: "in-1", From: phone, Text: "YES", PatientID: &mum.ID, ReceivedAt: now}
		if err := db.Create(&in).Error; err != nil {
			t.Fatal(err)
		}

		e, err := s.ErasePatient(ctx, kid.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if !e.SharedNumber || e.Appointments != 1 || e.Messages != 1 || e.Cancelled != 1 || e.Replies != 0 {
			t.Fatalf("erasure %+v", e)
		}
		var got []models.Message
		db.Order("uuid").Find(&got)
		if got[0].To != "" || got[0].Body != "" || got[0].Status != models.MsgCancelled || got[0].Reason != models.ErasedReason {
			t.Errorf("the erased one's reminder: %+v", got[0])
		}
		if got[1].To != phone || got[1].Body != "" {
			t.Errorf("the family question naming her: to %q body %q", got[1].To, got[1].Body)
		}
		if got[2].To != phone || got[2].Body != "Call us" {
			t.Errorf("the mother's help text: %+v", got[2])
		}
		var reply models.InboundMessage
		db.First(&reply, in.ID)
		if reply.From != phone || reply.Text != "YES" {
			t.Errorf("the mother's reply: %+v", reply)
		}
		var a models.Appointment
		db.First(&a, appt.ID)
		if a.Notes != "" {
			t.Errorf("notes %q", a.Notes)
		}

		if _, err := s.Patient(ctx, kid.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Patient after the erasure: %v", err)
		}
		if ps, _ := s.PatientsByPhone(ctx, phone); len(ps) != 1 || ps[0].ID != mum.ID {
			t.Errorf("PatientsByPhone: %+v", ps)
		}
		if ps, n, _ := s.Patients(ctx, models.PatientFilter{Limit: 10}); n != 1 || ps[0].ID != mum.ID {
			t.Errorf("Patients: %d %+v", n, ps)
		}
		var row models.Patient
		db.First(&row, kid.ID)
		if row.ErasedAt == nil || row.FirstName != "" || row.LastName != "" || row.Phone != "" || row.Name() != models.ErasedName {
			t.Errorf("the erased row: %+v", row)
		}
		if _, err := s.ErasePatient(ctx, kid.ID, now); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("erasing again: %v", err)
		}
	})
}
