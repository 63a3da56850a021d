package clinic_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestLocationValidation(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	ok := clinic.LocationInput{Name: "Annex", TimeZone: "Europe/London", Country: "GB", QuietStart: "21:00", QuietEnd: "08:00"}
	tests := []struct {
		name  string
		edit  func(*clinic.LocationInput)
		field string
		msg   string
	}{
		{"name missing", func(in *clinic.LocationInput) { in.Name = "" }, "name", "required"},
		{"name taken, other case", func(in *clinic.LocationInput) { in.Name = "main st" }, "name", "already in use"},
		{"zone missing", func(in *clinic.LocationInput) { in.TimeZone = "" }, "time_zone", "required"},
		{"zone unknown", func(in *clinic.LocationInput) { in.TimeZone = "Mars/Base" }, "time_zone", "unknown time zone"},
		{"zone Local", func(in *clinic.LocationInput) { in.TimeZone = "Local" }, "time_zone", "IANA"},
		{"country missing", func(in *clinic.LocationInput) { in.Country = "" }, "country", "required"},
		{"country UK", func(in *clinic.LocationInput) { in.Country = "UK" }, "country", `"GB"`},
		{"country unknown", func(in *clinic.LocationInput) { in.Country = "XX" }, "country", "unknown"},
		{"country alpha-3", func(in *clinic.LocationInput) { in.Country = "GBR" }, "country", "unknown"},
		{"quiet start only", func(in *clinic.LocationInput) { in.QuietEnd = "" }, "quiet_end", "required"},
		{"quiet end only", func(in *clinic.LocationInput) { in.QuietStart = "" }, "quiet_start", "required"},
		{"quiet hour 24", func(in *clinic.LocationInput) { in.QuietStart = "24:00" }, "quiet_start", "HH:MM"},
		{"quiet minute 60", func(in *clinic.LocationInput) { in.QuietEnd = "08:60" }, "quiet_end", "HH:MM"},
		{"quiet words", func(in *clinic.LocationInput) { in.QuietStart = "9pm" }, "quiet_start", "HH:MM"},
		{"quiet equal", func(in *clinic.LocationInput) { in.QuietEnd = "21:00" }, "quiet_end", "differ"},
		{"phone invalid", func(in *clinic.LocationInput) { in.Phone = "020 79" }, "phone", "GB"},
		{"address too long", func(in *clinic.LocationInput) { in.Address = strings.Repeat("a", 301) }, "address", "at most 300"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := e.svc.CreateLocation(context.Background(), e.staff, in)
			wantField(t, err, tc.field, tc.msg)
		})
	}
	if n := count(t, s, &models.Location{}); n != 1 {
		t.Fatalf("%d locations, want 1 (refused input wrote rows)", n)
	}
	loc, err := e.svc.CreateLocation(context.Background(), e.staff, clinic.LocationInput{
		Name: "Annex", TimeZone: "Europe/London", Country: "gb", Phone: "020 7946 0958", QuietStart: "9:30", QuietEnd: "07:00",
	})
	if err != nil {
		t.Fatal(err)
	}
	if loc.Country != "GB" || loc.Phone != "+442079460958" || loc.QuietStart != "09:30" || loc.IsDefault {
		t.Fatalf("location = %+v", loc)
	}
}

func TestDefaultLocation(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	ctx := context.Background()
	svc := clinic.New(s, clinic.Options{})
	if _, err := svc.DefaultLocation(ctx); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("DefaultLocation on an empty database = %v, want ErrNotFound", err)
	}
	admin := models.Actor{Name: "admin@example.com"}
	first, err := svc.CreateLocation(ctx, admin, clinic.LocationInput{Name: "Main St", TimeZone: "Europe/Paris", Country: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	if !first.IsDefault {
		t.Fatal("the first location is not the default")
	}
	annex, err := svc.CreateLocation(ctx, admin, clinic.LocationInput{Name: "Annex", TimeZone: "Europe/London", Country: "GB", IsDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	defaults := func() []uint {
		var ids []uint
		if err := s.DB(ctx).Model(&models.Location{}).Where("is_default = ?", true).Pluck("id", &ids).Error; err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if d := defaults(); len(d) != 1 || d[0] != annex.ID {
		t.Fatalf("defaults = %v, want [%d]", d, annex.ID)
	}
	// National numbers are read in the default location's country.
	p, err := svc.CreatePatient(ctx, admin, clinic.PatientInput{FirstName: "Ann", Phone: "07400 123456"}, "")
	if err != nil || p.Phone != "+447400123456" {
		t.Fatalf("patient = %+v, %v", p, err)
	}
	// The default cannot be switched off, only moved.
	_, err = svc.UpdateLocation(ctx, admin, annex.ID, clinic.LocationInput{Name: "Annex", TimeZone: "Europe/London", Country: "GB"})
	wantField(t, err, "is_default", "another location")
	if _, err := svc.UpdateLocation(ctx, admin, first.ID, clinic.LocationInput{Name: "Main St", TimeZone: "Europe/Paris", Country: "FR", IsDefault: true}); err != nil {
		t.Fatal(err)
	}
	if d := defaults(); len(d) != 1 || d[0] != first.ID {
		t.Fatalf("defaults = %v, want [%d]", d, first.ID)
	}
	got, err := svc.DefaultLocation(ctx)
	if err != nil || got.ID != first.ID {
		t.Fatalf("DefaultLocation = %+v, %v", got, err)
	}
	_, err = svc.UpdateLocation(ctx, admin, annex.ID, clinic.LocationInput{Name: "MAIN ST", TimeZone: "Europe/London", Country: "GB"})
	wantField(t, err, "name", "already in use")
	if _, err := svc.UpdateLocation(ctx, admin, 9999, clinic.LocationInput{Name: "X", TimeZone: "UTC", Country: "US"}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("update missing = %v, want ErrNotFound", err)
	}
	ls, err := svc.ListLocations(ctx)
	if err != nil || len(ls) != 2 || ls[0].Name != "Annex" {
		t.Fatalf("ListLocations = %+v, %v", ls, err)
	}
}

func TestLocationZoneChangeReplans(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		annex, err := e.svc.CreateLocation(ctx, e.staff, clinic.LocationInput{Name: "Annex", TimeZone: "Europe/London", Country: "GB"})
		if err != nil {
			t.Fatal(err)
		}
		p := e.patient(t, "Ann", "Lee", "0612345678")
		future := e.appointment(t, p.ID, "2026-03-10T10:00")
		// Neither a past appointment, a cancelled one, nor one elsewhere is replanned.
		if _, err := e.svc.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{PatientID: p.ID, StartsLocal: "2026-03-01T10:00", DurationMinutes: 30, AllowPast: true}); err != nil {
			t.Fatal(err)
		}
		cancelled := e.appointment(t, p.ID, "2026-03-11T10:00")
		if _, err := e.svc.Cancel(ctx, e.staff, cancelled.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{PatientID: p.ID, LocationID: annex.ID, StartsLocal: "2026-03-10T10:00", DurationMinutes: 30}); err != nil {
			t.Fatal(err)
		}
		in := clinic.LocationInput{Name: "Main St", TimeZone: "Europe/Paris", Country: "FR", Address: "2 Main St", Phone: "01 42 68 53 00", QuietStart: "21:00", QuietEnd: "08:00", IsDefault: true}
		e.planner.Reset()
		if _, err := e.svc.UpdateLocation(ctx, e.staff, e.loc.ID, in); err != nil {
			t.Fatal(err)
		}
		if calls := e.planner.Calls(); len(calls) != 0 {
			t.Fatalf("an address change replanned %v", calls)
		}
		in.QuietStart = "20:00"
		if _, err := e.svc.UpdateLocation(ctx, e.staff, e.loc.ID, in); err != nil {
			t.Fatal(err)
		}
		if calls := e.planner.Calls(); len(calls) != 1 || calls[0] != future.ID {
			t.Fatalf("quiet-hours change replanned %v, want [%d]", calls, future.ID)
		}
		e.planner.Reset()
		in.TimeZone = "Europe/Brussels"
		if _, err := e.svc.UpdateLocation(ctx, e.staff, e.loc.ID, in); err != nil {
			t.Fatal(err)
		}
		if calls := e.planner.Calls(); len(calls) != 1 || calls[0] != future.ID {
			t.Fatalf("zone change replanned %v, want [%d]", calls, future.ID)
		}
		if n := count(t, s, &models.AuditEntry{}, "entity = ? AND entity_id = ? AND action = ?", "location", e.loc.ID, "location.update"); n != 3 {
			t.Fatalf("location audit rows = %d, want 3", n)
		}
	})
}

func TestProviders(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	ctx := context.Background()
	off, err := e.svc.CreateProvider(ctx, e.staff, clinic.ProviderInput{Name: "Dr Off", Active: false})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.GetProvider(ctx, off.ID); got.Active {
		t.Fatal("a provider created inactive is active")
	}
	on, err := e.svc.CreateProvider(ctx, e.staff, clinic.ProviderInput{Name: "Dr On", LocationID: &e.loc.ID, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.CreateProvider(ctx, e.staff, clinic.ProviderInput{Name: "Dr X", LocationID: ptr(uint(9999)), Active: true})
	wantField(t, err, "location_id", "not found")
	_, err = e.svc.CreateProvider(ctx, e.staff, clinic.ProviderInput{Name: " ", Active: true})
	wantField(t, err, "name", "required")

	active, err := e.svc.ListProviders(ctx, clinic.ProviderQuery{ActiveOnly: true})
	if err != nil || len(active) != 1 || active[0].ID != on.ID {
		t.Fatalf("active providers = %+v, %v", active, err)
	}
	all, err := e.svc.ListProviders(ctx, clinic.ProviderQuery{LocationID: e.loc.ID})
	if err != nil || len(all) != 2 {
		t.Fatalf("providers at location = %+v, %v", all, err)
	}
	up, err := e.svc.UpdateProvider(ctx, e.staff, off.ID, clinic.ProviderInput{Name: "Dr Off", Active: true})
	if err != nil || !up.Active {
		t.Fatalf("update = %+v, %v", up, err)
	}
	if _, err := e.svc.UpdateProvider(ctx, e.staff, 9999, clinic.ProviderInput{Name: "X"}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("update missing = %v", err)
	}
	if n := count(t, s, &models.AuditEntry{}, "entity = ?", "provider"); n != 3 {
		t.Fatalf("provider audit rows = %d, want 3", n)
	}
}
