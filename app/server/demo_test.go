package server

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/config"
	"apptconfirm/app/outbox"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// plannedReminders returns the planned reminders, soonest first.
func plannedReminders(t *testing.T, a *App) []models.Message {
	t.Helper()
	var ms []models.Message
	err := a.Store.DB(context.Background()).Where("kind = ? AND status = ?", models.KindReminder, models.MsgPlanned).
		Order("send_at, id").Find(&ms).Error
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestSeedDemoRemindersDueSoonOutsideQuietHours(t *testing.T) {
	day := func(h, m, s int) time.Time { return time.Date(2026, 3, 10, h, m, s, 0, time.UTC) }
	next := func(h, m int) time.Time { return time.Date(2026, 3, 11, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name        string
		now         time.Time
		first, then time.Time
	}{
		{"afternoon", day(14, 0, 30), day(14, 0, 50), day(14, 2, 20)},
		{"on the minute", day(14, 0, 0), day(14, 0, 20), day(14, 1, 50)},
		{"at night they wait for the morning", day(23, 30, 0), next(8, 5), next(8, 7)},
		{"the second one would fall in quiet hours", day(20, 59, 0), next(8, 5), next(8, 7)},
		{"quiet hours end in a few seconds", day(7, 59, 45), day(8, 0, 5), day(8, 1, 35)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default() // UTC, quiet hours 21:00-08:00, rules 48h and 2h
			clock := &testClock{t: tt.now}
			cfg.Database.DSN = t.TempDir() + "/demo.db"
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			a, err := Build(ctx, cfg, discardLog(), Options{Now: clock.Now, HashCost: 10})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = a.Close(ctx) }()
			if err := a.SeedDemo(ctx); err != nil {
				t.Fatal(err)
			}
			ms := plannedReminders(t, a)
			// The demo books the two "soon" appointments first.
			var soon []models.Message
			for _, m := range ms {
				if m.AppointmentID != nil && *m.AppointmentID <= 2 {
					soon = append(soon, m)
				}
			}
			if len(soon) != 2 {
				t.Fatalf("%d planned reminders for the first two appointments, want 2", len(soon))
			}
			if !soon[0].SendAt.Equal(tt.first) || !soon[1].SendAt.Equal(tt.then) {
				t.Fatalf("their reminders at %s and %s, want %s and %s", soon[0].SendAt, soon[1].SendAt, tt.first, tt.then)
			}
			if !ms[0].SendAt.Before(tt.then.Add(time.Second)) {
				t.Fatalf("the first planned reminder is at %s, after the soon ones", ms[0].SendAt)
			}
			if soon[0].PatientID == nil || soon[1].PatientID == nil || *soon[0].PatientID == *soon[1].PatientID {
				t.Fatal("the two soon reminders are not for two patients")
			}
			loc, err := a.Clinic.DefaultLocation(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if schedule.InQuiet(m.SendAt, loc.Zone(), outbox.Quiet(loc)) {
					t.Errorf("reminder %d planned in quiet hours at %s", m.ID, m.SendAt)
				}
			}
			// Seeding twice adds nothing.
			if err := a.SeedDemo(ctx); err != nil {
				t.Fatal(err)
			}
			if again := plannedReminders(t, a); len(again) != len(ms) {
				t.Fatalf("a second seed planned %d reminders, had %d", len(again), len(ms))
			}
		})
	}
}

// TestDemoWholeLoop is what "make run" shows: a demo reminder goes out
// through the simulator, is reported sent and delivered through the
// webhook, and a reply typed as the patient confirms the appointment and
// gets its acknowledgement delivered.
func TestDemoWholeLoop(t *testing.T) {
	start := time.Date(2026, 3, 10, 14, 0, 30, 0, time.UTC)
	clock := &testClock{t: start}
	a := serveTestAppWith(t, config.Default(), Options{Now: clock.Now})
	ctx := context.Background()
	if err := a.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	first := plannedReminders(t, a.App)[0]
	clock.Set(first.SendAt.Add(time.Second))
	if n, err := a.Dispatcher.RunOnce(ctx); err != nil || n < 1 {
		t.Fatalf("dispatch: %d sent, %v", n, err)
	}
	message := func(id uint) models.Message {
		var m models.Message
		if err := a.Store.DB(ctx).First(&m, id).Error; err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := message(first.ID); m.ProviderID == "" || (m.Status != models.MsgAccepted && m.Status != models.MsgSent && m.Status != models.MsgDelivered) {
		t.Fatalf("after the send: %s, provider id %q", m.Status, m.ProviderID)
	}
	if err := a.Simulator.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reminder to be delivered", func() bool { return message(first.ID).Status == models.MsgDelivered })

	var patient models.Patient
	if err := a.Store.DB(ctx).First(&patient, *first.PatientID).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := a.Simulator.EmitReceiveSMS(ctx, patient.Phone, a.Config.SMSCX.Sender, "YES"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the appointment to be confirmed", func() bool {
		var appt models.Appointment
		err := a.Store.DB(ctx).First(&appt, *first.AppointmentID).Error
		return err == nil && appt.Status == models.Confirmed
	})
	var ack models.Message
	eventually(t, "the acknowledgement to be queued", func() bool {
		return a.Store.DB(ctx).Where("appointment_id = ? AND kind = ?", *first.AppointmentID, models.KindAckConfirm).
			Take(&ack).Error == nil
	})
	eventually(t, "the acknowledgement to be delivered", func() bool {
		if _, err := a.Dispatcher.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Simulator.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		return message(ack.ID).Status == models.MsgDelivered
	})
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The demo shows the product: two locations in real zones, every
// appointment but the two live-loop ones in working hours, some confirmed,
// one reply waiting in the inbox, and the simulator failing one number.
func TestSeedDemoShowsTheProduct(t *testing.T) {
	cfg := config.Default()
	cfg.Clinic.Timezone = "America/New_York"
	cfg.SMSCX.Mode = config.ModeSimulate
	cfg.Database.DSN = t.TempDir() + "/demo.db"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)} // 11:00 in New York
	ctx := context.Background()
	a, err := Build(ctx, cfg, discardLog(), Options{Now: clock.Now, HashCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close(ctx) }()
	if err := a.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	var appts []models.Appointment
	if err := a.Store.DB(ctx).Preload("Location").Order("starts_at").Find(&appts).Error; err != nil {
		t.Fatal(err)
	}
	zones := map[string]int{}
	confirmed, outside := 0, 0
	for _, ap := range appts {
		if ap.Location.Phone == "" {
			t.Errorf("location %q has no phone: its texts would end \"call .\"", ap.Location.Name)
		}
		zones[ap.Location.TimeZone]++
		if ap.Status == models.Confirmed {
			confirmed++
		}
		local := ap.StartsAt.In(ap.Location.Zone())
		if h := local.Hour(); h < 9 || h >= 17 {
			outside++
		}
	}
	if zones["America/New_York"] < 8 || zones["Europe/Paris"] < 2 {
		t.Errorf("appointments per zone: %v", zones)
	}
	if confirmed < 3 {
		t.Errorf("%d confirmed, want at least 3", confirmed)
	}
	// Only the two whose reminders go out in the first minutes may fall
	// outside working hours (here at 13:00 they fall inside too).
	if outside > 0 {
		t.Errorf("%d appointments outside 09:00-17:00 local", outside)
	}
	if n, err := a.Store.CountInbox(ctx); err != nil || n != 1 {
		t.Errorf("inbox holds %d (%v), want 1", n, err)
	}
}
