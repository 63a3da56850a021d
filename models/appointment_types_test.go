package models_test

import (
	"context"
	"errors"
	"testing"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// Appointment types are listed by name, found by name without regard to
// case, and a second type of the same name is refused with
// ErrTypeNameTaken, on create and on save, on both databases.
func TestAppointmentTypes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		check := &models.AppointmentType{Name: "Check-up", DefaultDurationMinutes: 30, Colour: "#2563eb"}
		clean := &models.AppointmentType{Name: "Cleaning", DefaultDurationMinutes: 45, Colour: "#16a34a"}
		for _, ty := range []*models.AppointmentType{clean, check} {
			if err := s.CreateAppointmentType(ctx, ty); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateAppointmentType(ctx, &models.AppointmentType{Name: "check-UP", DefaultDurationMinutes: 10}); !errors.Is(err, models.ErrTypeNameTaken) {
			t.Fatalf("duplicate name: err = %v, want ErrTypeNameTaken", err)
		}
		clean.Name = "CHECK-up"
		if err := s.SaveAppointmentType(ctx, clean); !errors.Is(err, models.ErrTypeNameTaken) {
			t.Fatalf("rename onto another: err = %v, want ErrTypeNameTaken", err)
		}
		clean.Name, clean.DefaultDurationMinutes = "Scale and polish", 50
		if err := s.SaveAppointmentType(ctx, clean); err != nil {
			t.Fatal(err)
		}
		ts, err := s.AppointmentTypes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 2 || ts[0].Name != "Check-up" || ts[1].Name != "Scale and polish" || ts[1].DefaultDurationMinutes != 50 {
			t.Fatalf("types = %+v", ts)
		}
		got, err := s.AppointmentTypeByName(ctx, "CHECK-UP")
		if err != nil || got.ID != check.ID || got.Colour != "#2563eb" {
			t.Fatalf("by name = %+v, %v", got, err)
		}
		if _, err := s.AppointmentType(ctx, 999); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		if err := s.SaveAppointmentType(ctx, &models.AppointmentType{ID: 999, Name: "Ghost"}); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("save missing: %v", err)
		}
	})
}

// IDList reads what it writes, sorted and without repeats, and refuses
// what is not a list of ids.
func TestIDList(t *testing.T) {
	l, err := models.ParseIDList(" 7, 3,7 ,12")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.String(); got != "3,7,12" {
		t.Fatalf("String = %q", got)
	}
	if !l.Has(12) || l.Has(4) {
		t.Fatal("Has is wrong")
	}
	for _, bad := range []string{"1,,2", "x", "0", "-3", "99999999999"} {
		if _, err := models.ParseIDList(bad); err == nil {
			t.Errorf("ParseIDList(%q) accepted", bad)
		}
	}
}

// A rule limited to types, locations and providers covers only the
// appointments that match every list it has; an unscoped rule covers all.
func TestRuleCovers(t *testing.T) {
	typ, prov := uint(2), uint(5)
	a := &models.Appointment{LocationID: 1, AppointmentTypeID: &typ, ProviderID: &prov}
	none := &models.Appointment{LocationID: 1}
	for _, c := range []struct {
		r        models.ReminderRule
		a, plain bool
	}{
		{models.ReminderRule{}, true, true},
		{models.ReminderRule{TypeIDs: models.IDList{2}}, true, false},
		{models.ReminderRule{TypeIDs: models.IDList{3}}, false, false},
		{models.ReminderRule{LocationIDs: models.IDList{1, 4}}, true, true},
		{models.ReminderRule{LocationIDs: models.IDList{4}}, false, false},
		{models.ReminderRule{ProviderIDs: models.IDList{5}, LocationIDs: models.IDList{1}}, true, false},
	} {
		if got := c.r.Covers(a); got != c.a {
			t.Errorf("%+v covers typed = %v", c.r, got)
		}
		if got := c.r.Covers(none); got != c.plain {
			t.Errorf("%+v covers plain = %v", c.r, got)
		}
	}
}
