package dispatch_test

import (
	"context"
	"strings"
	"testing"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// A patient who opted out is erased: the opt-out outlives them as a keyed
// hash. A message to the number is not sent; a patient created again with
// the number starts opted out; once they opt back in, messages go again.
func TestErasedOptOutIsKeptAsAHash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const number = "+33612345681"
	ada, err := e.clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Ada", Phone: number}, "FR")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.clinic.OptOut(ctx, models.SystemActor(), ada.ID, "sms_stop"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.clinic.ErasePatient(ctx, models.SystemActor(), ada.ID); err != nil {
		t.Fatal(err)
	}
	var rows []models.SuppressedNumber
	if err := e.store.DB(ctx).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || strings.Contains(rows[0].Hash, strings.TrimPrefix(number, "+")) || len(rows[0].Hash) != 64 {
		t.Fatalf("suppression list %+v; want one keyed hash, not the number", rows)
	}
	if rows[0].Hash == models.NumberHash(nil, number) {
		t.Fatal("the hash is not keyed")
	}

	// A message to the number (an integrator's, with no patient) is not sent.
	d := e.dispatcher(t, nil)
	m := e.message(t, models.Message{To: number, Body: "Your results are ready."})
	runOnce(t, d)
	if got := e.reload(t, m.ID); got.Status != models.MsgCancelled || got.Reason != outbox.ReasonOptedOut {
		t.Fatalf("message to the suppressed number: %s %q", got.Status, got.Reason)
	}

	// Booked again under another name: opted out from the start.
	bo, err := e.clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Bo", Phone: number}, "FR")
	if err != nil {
		t.Fatal(err)
	}
	if !bo.OptedOut() || bo.OptOutSource != clinic.SourceSuppressed {
		t.Fatalf("new patient with the number: opted out %v (%q)", bo.OptedOut(), bo.OptOutSource)
	}
	// A patient who changes to the number is opted out too.
	cy, err := e.clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Cy", Phone: "+33612345682"}, "FR")
	if err != nil {
		t.Fatal(err)
	}
	cy, err = e.clinic.UpdatePatient(ctx, models.SystemActor(), cy.ID, clinic.PatientInput{FirstName: "Cy", Phone: number}, "FR")
	if err != nil || !cy.OptedOut() {
		t.Fatalf("patient moved to the number: opted out %v, %v", cy != nil && cy.OptedOut(), err)
	}

	// Bo opts back in: the number is off the list and messages go again.
	if err := e.clinic.OptIn(ctx, models.SystemActor(), bo.ID, "sms_start"); err != nil {
		t.Fatal(err)
	}
	if err := e.clinic.OptIn(ctx, models.SystemActor(), cy.ID, "staff"); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, &models.SuppressedNumber{}); n != 0 {
		t.Fatalf("%d numbers still suppressed after opting back in", n)
	}
	m2 := e.message(t, models.Message{To: number, Body: "Your results are ready."})
	if n := runOnce(t, d); n != 1 {
		t.Fatalf("after opting back in: %d sent (%s)", n, e.reload(t, m2.ID).Reason)
	}
}

func (e *env) count(t *testing.T, model any) int64 {
	t.Helper()
	var n int64
	if err := e.store.DB(context.Background()).Model(model).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
