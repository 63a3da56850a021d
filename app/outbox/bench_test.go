package outbox_test

import (
	"context"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// BenchmarkCompose measures writing one reminder as the dispatcher does
// when it claims it: picking the text in the patient's language (here a
// fallback, the longer path) and rendering it with {day} seen from the
// send time, in the location's zone.
func BenchmarkCompose(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, defaultOptions())
	if err := e.store.PutSetting(ctx, models.SettingLanguages, "en,fr"); err != nil {
		b.Fatal(err)
	}
	p, err := e.clinic.CreatePatient(ctx, e.staff, clinic.PatientInput{FirstName: "Jonas", Phone: "+4915123456789", Language: "de"}, "")
	if err != nil {
		b.Fatal(err)
	}
	a := e.book(b, p.ID, "2026-03-05T08:30")
	rule := e.rule(b, "2h")
	appt, err := e.store.Appointment(ctx, a.ID)
	if err != nil {
		b.Fatal(err)
	}
	ts, err := e.ob.Texts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	m := &models.Message{Kind: models.KindReminder, RuleID: &rule.ID, AppointmentID: &a.ID}
	zones := outbox.Zones{}
	sendAt := time.Date(2026, 3, 4, 19, 59, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		c, err := ts.Compose(m, appt, rule, zones, sendAt)
		if err != nil || c.FallbackFrom != "de" {
			b.Fatalf("%+v, %v", c, err)
		}
	}
}
