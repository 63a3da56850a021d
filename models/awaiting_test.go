package models_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// AwaitingAnswers reads for each number what AwaitingAnswer reads for it:
// the active upcoming appointments of its patients that were asked for an
// answer, soonest first, with Patient, Location and Provider.
func TestAwaitingAnswersMatchesAwaitingAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		loc := &models.Location{Name: "Main", TimeZone: "Europe/Berlin"}
		if err := s.CreateLocation(ctx, loc); err != nil {
			t.Fatal(err)
		}
		prov := &models.Provider{Name: "Dr A"}
		if err := s.CreateProvider(ctx, prov); err != nil {
			t.Fatal(err)
		}
		phones := []string{"+491510000001", "+491510000002", "+491510000003"}
		var ps []*models.Patient
		for i, ph := range append(phones, phones[1]) { // two patients share the second number
			p := &models.Patient{FirstName: fmt.Sprintf("P%d", i), Phone: ph}
			if err := s.CreatePatient(ctx, p); err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		n := 0
		book := func(p *models.Patient, in time.Duration, st models.AppointmentStatus, provider bool, ask string, to string) {
			a := &models.Appointment{PatientID: p.ID, LocationID: loc.ID, StartsAt: now.Add(in), DurationMinutes: 15, Status: st}
			if provider {
				a.ProviderID = &prov.ID
			}
			if err := s.CreateAppointment(ctx, a); err != nil {
				t.Fatal(err)
			}
			if ask == "" {
				return
			}
			n++
			sent := now.Add(-time.Hour)
			m := &models.Message{
				UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), AppointmentID: &a.ID, PatientID: &p.ID,
				Kind: ask, To: to, Status: models.MsgDelivered, SendAt: sent, SentAt: &sent,
			}
			if err := s.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		book(ps[0], 72*time.Hour, models.Scheduled, true, models.KindReminder, phones[0])
		book(ps[0], 48*time.Hour, models.Confirmed, false, models.KindBookingConfirm, phones[0])
		book(ps[0], 24*time.Hour, models.Scheduled, false, "", "")                               // never asked
		book(ps[0], 30*time.Hour, models.Cancelled, false, models.KindReminder, phones[0])       // not active
		book(ps[0], -2*time.Hour, models.Scheduled, false, models.KindReminder, phones[0])       // past
		book(ps[0], 50*time.Hour, models.Scheduled, false, models.KindReminder, "+491519999999") // asked another number
		book(ps[1], 60*time.Hour, models.Scheduled, true, models.KindReminder, phones[1])
		book(ps[3], 40*time.Hour, models.Scheduled, false, models.KindRescheduleNotice, phones[1])
		book(ps[2], 40*time.Hour, models.Scheduled, false, models.KindHelp, phones[2]) // asks nothing
		kinds := []string{models.KindReminder, models.KindBookingConfirm, models.KindRescheduleNotice}
		err := s.Tx(ctx, func(ctx context.Context) error {
			patients, err := s.LockPatientsByPhones(ctx, phones)
			if err != nil {
				return err
			}
			got, err := s.AwaitingAnswers(ctx, patients, now, kinds)
			if err != nil {
				return err
			}
			total := 0
			for _, ph := range phones {
				want, err := s.AwaitingAnswer(ctx, ph, now, kinds)
				if err != nil {
					return err
				}
				total += len(want)
				if len(want) == 0 && len(got[ph]) == 0 {
					continue
				}
				if !reflect.DeepEqual(got[ph], want) {
					t.Errorf("%s:\n got %+v\nwant %+v", ph, got[ph], want)
				}
			}
			if total != 4 {
				t.Errorf("%d appointments awaiting an answer, want 4", total)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
