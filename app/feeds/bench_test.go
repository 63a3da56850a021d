package feeds_test

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/feeds"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// BenchmarkFeed writes the feed of a provider with 5,000 appointments in
// its window (500 without APPTCONFIRM_BENCH_LARGE).
func BenchmarkFeed(b *testing.B) {
	n := 500
	if os.Getenv("APPTCONFIRM_BENCH_LARGE") != "" {
		n = 5000
	}
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return t0 }
	store := storetest.SQLite(b)
	cl := clinic.New(store, clinic.Options{Now: now})
	if err := cl.EnsureDefaults(ctx, clinic.Defaults{ClinicName: "Paris", Timezone: "Europe/Paris", Country: "FR"}); err != nil {
		b.Fatal(err)
	}
	a := models.SystemActor()
	dr, err := cl.CreateProvider(ctx, a, clinic.ProviderInput{Name: "Dr Durand", Active: true})
	if err != nil {
		b.Fatal(err)
	}
	p, err := cl.CreatePatient(ctx, a, clinic.PatientInput{FirstName: "Ana", LastName: "Lopez", Phone: "+33612345678"}, "FR")
	if err != nil {
		b.Fatal(err)
	}
	err = store.Tx(ctx, func(ctx context.Context) error {
		for i := 0; i < n; i++ {
			at := t0.Add(-29*24*time.Hour + time.Duration(i)*time.Duration(200*24*int(time.Hour)/n))
			if _, err := cl.CreateAppointment(ctx, a, clinic.AppointmentInput{PatientID: p.ID, ProviderID: &dr.ID, StartsAt: at, DurationMinutes: 20, AllowPast: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	svc := feeds.New(store, "https://clinic.example", now)
	_, url, err := svc.Create(ctx, a, feeds.Input{ProviderID: dr.ID})
	if err != nil {
		b.Fatal(err)
	}
	token := url[len("https://clinic.example/feeds/") : len(url)-len(".ics")]
	for b.Loop() {
		if err := svc.Write(ctx, io.Discard, token); err != nil {
			b.Fatal(err)
		}
	}
}
