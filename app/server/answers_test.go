package server

import (
	"context"
	"testing"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// A looping sender: one number texts HELP ten times and alternates STOP and
// START ten times. The clinic answers three help texts and three
// acknowledgements (the defaults) and records the rest as skipped, while
// the opt-out state still follows the last text.
func TestLoopingSenderGetsCappedAnswers(t *testing.T) {
	a := buildOn(t, models.DriverSQLite)
	ctx := context.Background()
	const number = "+12025550199"
	p, err := a.Clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Lou", Phone: number}, "US")
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, 0, 20)
	for range 10 {
		texts = append(texts, "HELP")
	}
	for i := range 10 {
		texts = append(texts, []string{"STOP", "START"}[i%2])
	}
	for _, text := range texts {
		if _, err := a.Simulator.EmitReceiveSMS(ctx, number, "+12025550100", text); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Webhooks.ProcessPending(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Dispatcher.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	count := func(kinds []string, skipped bool) int64 {
		var n int64
		q := a.Store.DB(ctx).Model(&models.Message{}).Where(`"to" = ? AND kind IN ?`, number, kinds)
		if skipped {
			q = q.Where("status = ?", models.MsgSkipped)
		} else {
			q = q.Where("status <> ?", models.MsgSkipped)
		}
		q.Count(&n)
		return n
	}
	help := []string{models.KindHelp}
	acks := []string{models.KindOptOutAck, models.KindOptInAck}
	if sent, skipped := count(help, false), count(help, true); sent != 3 || skipped != 7 {
		t.Fatalf("help texts: %d to send, %d skipped; want 3 and 7", sent, skipped)
	}
	if sent, skipped := count(acks, false), count(acks, true); sent != 3 || skipped != 7 {
		t.Fatalf("STOP/START answers: %d to send, %d skipped; want 3 and 7", sent, skipped)
	}
	to := 0
	for _, s := range a.Simulator.Sends() {
		if s.To == number {
			to++
		}
	}
	if to == 0 || to > 6 {
		t.Fatalf("the gateway sent %d SMS to the number, want at most 6", to)
	}
	// The last text was START: the patient is opted in.
	got, err := a.Clinic.GetPatient(ctx, p.ID)
	if err != nil || got.OptedOut() {
		t.Fatalf("patient after the loop: %+v %v", got, err)
	}
}
