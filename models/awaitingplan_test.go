package models_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// The appointments awaiting an answer from a set's patients are read
// through the patient index alone, even where thousands of upcoming
// appointments share the set's states: combining the state and time
// indexes in as well read an entry for every one of them per set.
func TestAwaitingAnswersPlanReadsByPatient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		loc := &models.Location{Name: "Main", TimeZone: "Europe/Berlin"}
		if err := s.CreateLocation(ctx, loc); err != nil {
			t.Fatal(err)
		}
		patients := make([]models.Patient, 400)
		for i := range patients {
			patients[i] = models.Patient{FirstName: fmt.Sprintf("P%d", i), Phone: fmt.Sprintf("+4915100%06d", i)}
		}
		db := s.DB(ctx)
		if err := db.CreateInBatches(&patients, 200).Error; err != nil {
			t.Fatal(err)
		}
		var appts []models.Appointment
		for i := range 4000 {
			appts = append(appts, models.Appointment{
				PatientID: patients[i%len(patients)].ID, LocationID: loc.ID,
				StartsAt: now.Add(time.Duration(i+1) * time.Hour), DurationMinutes: 15, Status: models.Scheduled,
			})
		}
		if err := db.CreateInBatches(&appts, 200).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("ANALYZE").Error; err != nil {
			t.Fatal(err)
		}
		for _, ids := range [][]uint{{patients[7].ID}, {patients[1].ID, patients[2].ID, patients[3].ID, patients[4].ID}} {
			q, args := s.AwaitingSQL(ids, now, []string{models.KindReminder})
			var plan string
			if s.Driver() == models.DriverSQLite {
				plan = explainSQLite(t, s, q, args...)
			} else {
				plan = explainPG(t, s, "force_generic_plan", q, args...)
			}
			if !strings.Contains(plan, "idx_appointments_patient_id") ||
				strings.Contains(plan, "idx_appointments_status_start") || strings.Contains(plan, "idx_appointments_starts_at") {
				t.Errorf("%d patients: the plan does not read appointments by patient alone:\n%s", len(ids), plan)
			}
		}
	})
}
