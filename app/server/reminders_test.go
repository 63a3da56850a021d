package server

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/models"
)

// The planner, the dispatcher and the cron job are wired: a booking plans
// its reminders and its confirmation goes out at once (a kick), and a
// message queued later goes out with the next dispatch job run.
func TestRemindersAndDispatchAreWired(t *testing.T) {
	cfg := config.Default()
	cfg.Reminders.BookingConfirmation = true
	cfg.Reminders.QuietHours = config.QuietHours{} // the test may run at night
	cfg.Dispatch.Interval = config.Duration{Duration: time.Second}
	a := serveTestApp(t, cfg)
	ctx := context.Background()
	status := func(id uint) models.MessageStatus {
		var m models.Message
		if err := a.Store.DB(ctx).First(&m, id).Error; err != nil {
			t.Fatal(err)
		}
		return m.Status
	}

	p, err := a.Clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Ada", Phone: "+12025550143"}, "")
	if err != nil {
		t.Fatal(err)
	}
	appt, err := a.Clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{
		PatientID: p.ID, StartsAt: time.Now().Add(72 * time.Hour), DurationMinutes: 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	var ms []models.Message
	a.Store.DB(ctx).Where("appointment_id = ?", appt.ID).Order("id").Find(&ms)
	kinds := map[string]models.Message{}
	for _, m := range ms {
		kinds[m.Kind+"/"+m.RuleName] = m
	}
	confirmation, ok := kinds[models.KindBookingConfirm+"/"]
	if !ok || kinds[models.KindReminder+"/48h"].Status != models.MsgPlanned || kinds[models.KindReminder+"/2h"].Status != models.MsgPlanned {
		t.Fatalf("booking planned %+v", kinds)
	}
	eventually(t, "the booking confirmation to go out", func() bool { return status(confirmation.ID) == models.MsgAccepted })

	queued := models.Message{
		UUID: uuid.NewString(), PatientID: &p.ID, Kind: models.KindManual, To: p.Phone,
		Body: "hello", Status: models.MsgPlanned, SendAt: time.Now(),
	}
	if err := a.Store.DB(ctx).Create(&queued).Error; err != nil {
		t.Fatal(err)
	}
	eventually(t, "the dispatch job to send a queued message", func() bool { return status(queued.ID) == models.MsgAccepted })
	if err := a.Jobs.RunOnce(ctx, JobDispatch); err != nil {
		t.Fatal(err)
	}
}
