package conversation

import (
	"context"
	"fmt"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// A set's read-ahead of the latest messages answers as the store would
// at each reply: read once for the senders from the first reply that
// needs it on, and read again once the transaction wrote a message.
func TestLastAheadRereadsAfterAWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		loc := &models.Location{Name: "Main"}
		if err := store.DB(ctx).Create(loc).Error; err != nil {
			t.Fatal(err)
		}
		numbers := []string{"+15550001", "+15550002", "+15550003"}
		appts := map[string][]uint{}
		sent := 0
		message := func(ctx context.Context, to string, appt uint) {
			t.Helper()
			sent++
			m := &models.Message{
				UUID:          fmt.Sprintf("00000000-0000-4000-8000-%012d", sent),
				AppointmentID: &appt, Kind: models.KindReminder, To: to, Status: models.MsgDelivered, SendAt: time.Now(),
			}
			if err := store.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		for i, to := range numbers {
			p := &models.Patient{FirstName: "P", LastName: fmt.Sprint(i), Phone: to}
			if err := store.DB(ctx).Create(p).Error; err != nil {
				t.Fatal(err)
			}
			for k := range 2 {
				a := &models.Appointment{PatientID: p.ID, LocationID: loc.ID, StartsAt: time.Now().AddDate(0, 0, i+k+1), DurationMinutes: 30}
				if err := store.DB(ctx).Create(a).Error; err != nil {
					t.Fatal(err)
				}
				appts[to] = append(appts[to], a.ID)
			}
			message(ctx, to, appts[to][0])
		}
		s := &Service{store: store}
		err := store.Tx(ctx, func(ctx context.Context) error {
			la := &lastAhead{numbers: numbers}
			ask := func(to string) uint {
				t.Helper()
				id, err := s.lastMessaged(ctx, &replyCtx{from: to, last: la})
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			if got := ask(numbers[0]); got != appts[numbers[0]][0] {
				t.Errorf("first sender: %d, want %d", got, appts[numbers[0]][0])
			}
			// A later reply of the set wrote a message to the second sender.
			message(ctx, numbers[1], appts[numbers[1]][1])
			if got := ask(numbers[1]); got != appts[numbers[1]][1] {
				t.Errorf("after a message to the second sender: %d, want %d", got, appts[numbers[1]][1])
			}
			if got := ask(numbers[2]); got != appts[numbers[2]][0] {
				t.Errorf("third sender: %d, want %d", got, appts[numbers[2]][0])
			}
			if got := ask("+15559999"); got != 0 {
				t.Errorf("a number outside the set with no message: %d, want 0", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
