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

// LastMessagedAppointments answers for several numbers what
// LastMessagedAppointment answers for each: the appointment of the
// latest message to it that has one, numbers with none left out.
func TestLastMessagedAppointmentsMatchOneByOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		// Five numbers: the statement is padded to six by repeating the last.
		numbers := []string{"+15550001", "+15550002", "+15550003", "+15550004", "+15550005"}
		loc := &models.Location{Name: "Main"}
		if err := s.DB(ctx).Create(loc).Error; err != nil {
			t.Fatal(err)
		}
		for i, to := range numbers[:3] {
			p := &models.Patient{FirstName: "P", LastName: fmt.Sprint(i), Phone: to}
			if err := s.DB(ctx).Create(p).Error; err != nil {
				t.Fatal(err)
			}
			for k := range 3 {
				a := &models.Appointment{PatientID: p.ID, LocationID: loc.ID, StartsAt: time.Now().AddDate(0, 0, i+k+1), DurationMinutes: 30}
				if err := s.DB(ctx).Create(a).Error; err != nil {
					t.Fatal(err)
				}
				m := &models.Message{
					UUID: fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", i, k), AppointmentID: &a.ID,
					PatientID: &p.ID, Kind: models.KindReminder, To: to, Status: models.MsgDelivered, SendAt: time.Now(),
				}
				if i == 2 && k == 2 {
					m.AppointmentID = nil // the latest to this number names no appointment
				}
				if err := s.CreateMessage(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
		}
		got, err := s.LastMessagedAppointments(ctx, numbers)
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range numbers {
			want, err := s.LastMessagedAppointment(ctx, to)
			if err != nil {
				t.Fatal(err)
			}
			id, ok := got[to]
			if want == 0 && ok || want != id {
				t.Errorf("%s: %d (%v), one by one %d", to, id, ok, want)
			}
		}
		if len(got) != 3 || got[numbers[0]] == got[numbers[1]] {
			t.Errorf("got %v, want three different appointments", got)
		}
	})
}

// The statements that write to messages in a transaction move
// MessageWrites, past GORM and through it, in a savepoint too; reads do
// not.
func TestMessageWritesCountsWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if n := s.MessageWrites(ctx); n != -1 {
			t.Errorf("outside a transaction: %d, want -1", n)
		}
		err := s.Tx(ctx, func(ctx context.Context) error {
			start := s.MessageWrites(ctx)
			m := &models.Message{
				UUID: "00000000-0000-4000-8000-000000000001", Kind: models.KindReminder, To: "+15550001",
				Status: models.MsgPlanned, SendAt: time.Now(),
			}
			if err := s.CreateMessage(ctx, m); err != nil {
				return err
			}
			inserted := s.MessageWrites(ctx)
			if _, err := s.LastMessagedAppointments(ctx, []string{"+15550001"}); err != nil {
				return err
			}
			read := s.MessageWrites(ctx)
			if err := s.EndPlanned(ctx, m.ID, models.MsgCancelled, "test", time.Now()); err != nil {
				return err
			}
			ended := s.MessageWrites(ctx)
			two := []*models.Message{
				{UUID: "00000000-0000-4000-8000-000000000002", Kind: models.KindReminder, To: "+15550002", Status: models.MsgPlanned, SendAt: time.Now()},
				{UUID: "00000000-0000-4000-8000-000000000003", Kind: models.KindReminder, To: "+15550003", Status: models.MsgPlanned, SendAt: time.Now()},
			}
			if err := s.CreateMessages(ctx, two); err != nil {
				return err
			}
			many := s.MessageWrites(ctx)
			moved := &models.Message{ID: two[0].ID, SendAt: time.Now(), To: "+15550009", RuleName: "24h"}
			if err := s.Tx(ctx, func(ctx context.Context) error { return s.ReschedulePlanned(ctx, moved, time.Now()) }); err != nil {
				return err
			}
			if got := []int{inserted - start, read - inserted, ended - read, many - ended, s.MessageWrites(ctx) - many}; fmt.Sprint(got) != "[1 0 1 1 1]" {
				t.Errorf("writes moved by %v after an insert, a read, a cancel, a two-row insert and a move in a savepoint; want [1 0 1 1 1]", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// LastMessagedAppointments looks each number up as LastMessagedAppointment
// does: through the index of numbers, latest id first, without a sort.
func TestLastMessagedAppointmentsPlan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		q := models.LastMessagedManySQL(2)
		if s.Driver() == models.DriverSQLite {
			plan := explainSQLite(t, s, q, "+15550001", "+15550002")
			if !strings.Contains(plan, "idx_messages_to") || strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("plan:\n%s", plan)
			}
			return
		}
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			plan := explainPG(t, s, mode, q, "+15550001", "+15550002")
			if !strings.Contains(plan, "idx_messages_to") || strings.Contains(plan, "Sort") {
				t.Errorf("%s plan:\n%s", mode, plan)
			}
		}
	})
}
