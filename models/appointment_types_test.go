package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

// FuzzParseIDList: a stored or typed list of ids never panics, and what
// it accepts writes back to a list that reads the same.
func FuzzParseIDList(f *testing.F) {
	for _, s := range []string{"", "1", "3,7,12", " 7, 3,7 ,12", "1,,2", "x", "0", "4294967295", "4294967296"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := models.ParseIDList(s)
		if err != nil {
			return
		}
		back, err := models.ParseIDList(l.String())
		if err != nil || back.String() != l.String() {
			t.Fatalf("ParseIDList(%q) = %v, written %q, read back %v %v", s, l, l.String(), back, err)
		}
		for _, id := range l {
			if id == 0 || !back.Has(id) {
				t.Fatalf("ParseIDList(%q): id %d", s, id)
			}
		}
	})
}

// A database at version 12 with rules and messages moves to 13 with every
// rule an offset before the start for every appointment, as it was, and
// every message without a stated reason; on both databases.
func TestMigration13KeepsRules(t *testing.T) {
	atVersion(t, 12, func(t *testing.T, ctx context.Context, s *models.Store) {
		now := time.Now().UTC()
		if err := s.DB(ctx).Exec(`INSERT INTO reminder_rules (name, before_seconds, only_if_unconfirmed, enabled, created_at, updated_at)
			VALUES ('48h', 172800, ?, ?, ?, ?)`, false, true, now, now).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		rules, err := s.Rules(ctx)
		if err != nil || len(rules) != 1 {
			t.Fatalf("rules %+v %v", rules, err)
		}
		r := rules[0]
		if r.TimingOrBefore() != models.RuleBefore || r.Timing != models.RuleBefore || r.Before() != 48*time.Hour || r.Scoped() || r.IsNudge() ||
			!r.Covers(&models.Appointment{LocationID: 7}) {
			t.Fatalf("rule after migration 13: %+v", r)
		}
		// The new columns are written and read back.
		typ := &models.AppointmentType{Name: "Check-up", DefaultDurationMinutes: 30, Colour: "#2563eb"}
		if err := s.CreateAppointmentType(ctx, typ); err != nil {
			t.Fatal(err)
		}
		r.Timing, r.DaysBefore, r.LocalTime, r.TypeIDs, r.LocationIDs = models.RuleDayBefore, 1, "10:00", models.IDList{typ.ID}, models.IDList{3, 1}
		if err := s.SaveRule(ctx, &r); err != nil {
			t.Fatal(err)
		}
		back, err := s.Rule(ctx, r.ID)
		if err != nil || back.Timing != models.RuleDayBefore || back.LocalTime != "10:00" || back.TypeIDs.String() != "1" || back.LocationIDs.String() != "1,3" {
			t.Fatalf("saved %+v %v", back, err)
		}
	})
}

// NudgeFacts reads the latest reminder of the followed rule that went out,
// and the clicks and replies on the appointment since it went out (a click
// on that reminder's own link counts whenever it is recorded), on both
// databases.
func TestNudgeFacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		db := s.DB(ctx)
		loc := models.Location{Name: "Main", TimeZone: "UTC", Country: "US"}
		if err := db.Create(&loc).Error; err != nil {
			t.Fatal(err)
		}
		p := models.Patient{FirstName: "Ada", Phone: "+12025550111", Language: "en"}
		if err := db.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		appt := models.Appointment{PatientID: p.ID, LocationID: loc.ID, StartsAt: now.Add(48 * time.Hour), DurationMinutes: 30, Status: models.Scheduled}
		if err := db.Create(&appt).Error; err != nil {
			t.Fatal(err)
		}
		rule := models.ReminderRule{Name: "24h", BeforeSeconds: 86400, Enabled: true}
		if err := db.Create(&rule).Error; err != nil {
			t.Fatal(err)
		}
		f, err := s.NudgeFacts(ctx, appt.ID, rule.ID)
		if err != nil || f.Reminder != nil {
			t.Fatalf("before any reminder: %+v %v", f, err)
		}
		// An earlier message clicked before the reminder does not count.
		earlier := models.Message{UUID: "b", AppointmentID: &appt.ID, Kind: models.KindBookingConfirm, To: p.Phone, Status: models.MsgDelivered, SendAt: now.Add(-time.Hour)}
		sentAt := now.Add(time.Minute)
		reminder := models.Message{UUID: "r", AppointmentID: &appt.ID, RuleID: &rule.ID, Kind: models.KindReminder, To: p.Phone, Status: models.MsgDelivered, SendAt: now, SentAt: &sentAt}
		cancelled := models.Message{UUID: "c", AppointmentID: &appt.ID, RuleID: &rule.ID, Kind: models.KindReminder, To: p.Phone, Status: models.MsgCancelled, SendAt: now.Add(time.Hour)}
		for _, m := range []*models.Message{&earlier, &reminder, &cancelled} {
			if err := db.Create(m).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddTimeline(ctx, models.TimelineEntry{AppointmentID: appt.ID, At: now.Add(-30 * time.Minute), Kind: models.TimelineClick, Detail: "Link opened", MessageID: &earlier.ID}); err != nil {
			t.Fatal(err)
		}
		f, err = s.NudgeFacts(ctx, appt.ID, rule.ID)
		if err != nil || f.Reminder == nil || f.Reminder.ID != reminder.ID || !f.Since.Equal(sentAt) || f.Clicked || f.Replied {
			t.Fatalf("after the reminder: %+v %v", f, err)
		}
		err = s.AddTimeline(ctx,
			models.TimelineEntry{AppointmentID: appt.ID, At: now.Add(2 * time.Minute), Kind: models.TimelineOpen, Detail: "Opened the appointment page"},
			models.TimelineEntry{AppointmentID: appt.ID, At: now.Add(3 * time.Minute), Kind: models.TimelineReply, Detail: "Reply: see you"})
		if err != nil {
			t.Fatal(err)
		}
		f, err = s.NudgeFacts(ctx, appt.ID, rule.ID)
		if err != nil || !f.Clicked || !f.Replied {
			t.Fatalf("after a visit and a reply: %+v %v", f, err)
		}
	})
}
