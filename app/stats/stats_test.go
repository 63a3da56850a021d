package stats_test

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"apptconfirm/app/seed"
	"apptconfirm/app/stats"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// everything is every row of the tables the dashboard reads.
type everything struct {
	appts []models.Appointment
	msgs  []models.Message
	ins   []models.InboundMessage
	pats  []models.Patient
}

func loadEverything(t *testing.T, st *models.Store) *everything {
	t.Helper()
	ctx := context.Background()
	var e everything
	for _, err := range []error{
		st.DB(ctx).Find(&e.appts).Error, st.DB(ctx).Find(&e.msgs).Error,
		st.DB(ctx).Find(&e.ins).Error, st.DB(ctx).Find(&e.pats).Error,
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &e
}

// expected recomputes the figures of q from every row, in Go.
func expected(e *everything, q stats.Query) *stats.Dashboard {
	appts, msgs, ins, pats := e.appts, e.msgs, e.ins, e.pats
	days := stats.Days(q.From, q.To, q.Zone)
	d := &stats.Dashboard{
		Appointments: map[models.AppointmentStatus]int64{}, Messages: map[models.MessageStatus]int64{},
		Days: make([]stats.Day, len(days)),
	}
	in := map[uint]*models.Appointment{}
	var inRange []*models.Appointment
	optedOut := map[uint]*models.Patient{}
	for _, p := range pats {
		if p.OptedOutAt != nil {
			optedOut[p.ID] = &p
		}
	}
	for i := range appts {
		a := &appts[i]
		if a.StartsAt.Before(q.From) || !a.StartsAt.Before(q.To) || (q.LocationID != 0 && a.LocationID != q.LocationID) {
			continue
		}
		in[a.ID] = a
		inRange = append(inRange, a)
		if optedOut[a.PatientID] != nil {
			d.OptedOut++
		}
		d.Appointments[a.Status]++
		d.AppointmentsTotal++
		i := sort.Search(len(days), func(i int) bool { return days[i].After(a.StartsAt) }) - 1
		day := &d.Days[i]
		day.Total++
		if a.Status == models.Cancelled {
			continue
		}
		day.Active++
		if a.ConfirmedAt != nil {
			d.Confirmed++
			day.Confirmed++
		}
		switch a.Status {
		case models.NoShow:
			day.NoShow++
		case models.Completed:
			day.Completed++
		}
	}
	// The lists follow the appointments in start order.
	sort.Slice(inRange, func(i, j int) bool {
		a, b := inRange[i], inRange[j]
		return a.StartsAt.Before(b.StartsAt) || (a.StartsAt.Equal(b.StartsAt) && a.ID < b.ID)
	})
	order := map[uint]int{}
	for i, a := range inRange {
		order[a.ID] = i
	}
	reached := map[uint]bool{}
	for _, m := range msgs {
		if m.AppointmentID == nil || in[*m.AppointmentID] == nil {
			continue
		}
		d.Messages[m.Status]++
		d.MessagesTotal++
		if m.SentAt != nil && (m.Kind == models.KindReminder || m.Kind == models.KindBookingConfirm) {
			reached[*m.AppointmentID] = true
		}
		if m.Status == models.MsgFailed || m.Status == models.MsgRejected {
			d.FailedMessages = append(d.FailedMessages, stats.FailedMessage{MessageID: m.ID, AppointmentID: *m.AppointmentID})
		}
	}
	d.Reached = int64(len(reached))
	replied := map[uint]bool{}
	for _, r := range ins {
		if r.NeedsAttention {
			d.NeedsAttention++
		}
		if r.AppointmentID != nil && reached[*r.AppointmentID] {
			replied[*r.AppointmentID] = true
		}
	}
	d.Replied = int64(len(replied))
	sort.Slice(d.FailedMessages, func(i, j int) bool {
		a, b := d.FailedMessages[i], d.FailedMessages[j]
		return order[a.AppointmentID] < order[b.AppointmentID] || (a.AppointmentID == b.AppointmentID && a.MessageID < b.MessageID)
	})
	listed := map[uint]bool{}
	for _, a := range inRange {
		if p := optedOut[a.PatientID]; p != nil && !listed[p.ID] {
			listed[p.ID] = true
			d.OptOuts = append(d.OptOuts, stats.OptOut{PatientID: p.ID, OptedOutAt: *p.OptedOutAt})
		}
	}
	return d
}

func TestDashboardMatchesSeededData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *models.Store) {
		ctx := context.Background()
		if _, err := seed.Run(ctx, st, seed.Options{Count: 3000, Now: now, Seed: 11}); err != nil {
			t.Fatal(err)
		}
		all := loadEverything(t, st)
		var locs []models.Location
		if err := st.DB(ctx).Order("id").Find(&locs).Error; err != nil {
			t.Fatal(err)
		}
		ny, _ := time.LoadLocation("America/New_York")
		svc := stats.New(st)
		for _, tc := range []struct {
			name string
			q    stats.Query
		}{
			{"next 8 days, every location", stats.Query{From: now.Truncate(24 * time.Hour), To: now.Truncate(24*time.Hour).AddDate(0, 0, 8)}},
			{"next 8 days, one location", stats.Query{From: now.Truncate(24 * time.Hour), To: now.Truncate(24*time.Hour).AddDate(0, 0, 8), LocationID: locs[1].ID}},
			{"one day", stats.Query{From: now.Truncate(24*time.Hour).AddDate(0, 0, 1), To: now.Truncate(24*time.Hour).AddDate(0, 0, 2)}},
			{"last 30 days", stats.Query{From: now.AddDate(0, 0, -30).Truncate(24 * time.Hour), To: now.Truncate(24 * time.Hour)}},
			{"92 days across a DST change in New York", stats.Query{
				From: time.Date(2026, 2, 1, 0, 0, 0, 0, ny), To: time.Date(2026, 5, 4, 0, 0, 0, 0, ny), Zone: ny, LocationID: locs[2].ID,
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				want := expected(all, tc.q)
				for _, split := range []struct {
					name string
					svc  *stats.Service
				}{
					{"one query at a time", svc.WithParallel(1)},
					{"queries at once", svc.WithParallel(2)},
				} {
					t.Run(split.name, func(t *testing.T) {
						got, err := split.svc.Dashboard(ctx, tc.q)
						if err != nil {
							t.Fatal(err)
						}
						compare(t, got, want)
					})
				}
			})
		}
	})
}

// compare fails unless the figures of got are those of want.
func compare(t *testing.T, got, want *stats.Dashboard) {
	t.Helper()
	if got.AppointmentsTotal == 0 {
		t.Fatal("no appointments in range: the test proves nothing")
	}
	for _, s := range models.AppointmentStatuses {
		if got.Appointments[s] != want.Appointments[s] {
			t.Errorf("appointments %s: %d, want %d", s, got.Appointments[s], want.Appointments[s])
		}
	}
	for _, s := range models.MessageStatuses {
		if got.Messages[s] != want.Messages[s] {
			t.Errorf("messages %s: %d, want %d", s, got.Messages[s], want.Messages[s])
		}
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"total", got.AppointmentsTotal, want.AppointmentsTotal},
		{"messages", got.MessagesTotal, want.MessagesTotal},
		{"confirmed", got.Confirmed, want.Confirmed},
		{"reached", got.Reached, want.Reached},
		{"replied", got.Replied, want.Replied},
		{"needs attention", got.NeedsAttention, want.NeedsAttention},
		{"opted out", got.OptedOut, want.OptedOut},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	if len(got.Days) != len(want.Days) {
		t.Fatalf("%d days, want %d", len(got.Days), len(want.Days))
	}
	for i := range got.Days {
		g, w := got.Days[i], want.Days[i]
		w.Start = g.Start
		if g != w {
			t.Errorf("day %d (%s): %+v, want %+v", i, g.Start, g, w)
		}
	}
	if n := min(len(want.FailedMessages), stats.ListLimit); len(got.FailedMessages) != n {
		t.Fatalf("%d failed messages listed, want %d", len(got.FailedMessages), n)
	}
	for i, f := range got.FailedMessages {
		if f.MessageID != want.FailedMessages[i].MessageID || f.PatientName == "" || f.TimeZone == "" || f.AppointmentID == 0 {
			t.Errorf("failed message %d: %+v, want id %d", i, f, want.FailedMessages[i].MessageID)
		}
	}
	if n := min(len(want.OptOuts), stats.ListLimit); len(got.OptOuts) != n {
		t.Fatalf("%d opt-outs listed, want %d", len(got.OptOuts), n)
	}
	for i, o := range got.OptOuts {
		if o.PatientID != want.OptOuts[i].PatientID || o.Name == "" {
			t.Errorf("opt-out %d: %+v, want patient %d", i, o, want.OptOuts[i].PatientID)
		}
	}
}

func TestDashboardDefinitions(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	loc := models.Location{Name: "Main", TimeZone: "UTC", Country: "US", IsDefault: true}
	p := models.Patient{FirstName: "Ada", LastName: "Lovelace", Phone: "+12025550143"}
	optedAt := now.Add(-time.Hour)
	q := models.Patient{FirstName: "Grace", Phone: "+12025550178", OptedOutAt: &optedAt, OptOutSource: "sms_stop"}
	for _, v := range []any{&loc, &p, &q} {
		if err := st.DB(ctx).Create(v).Error; err != nil {
			t.Fatal(err)
		}
	}
	day := now.Truncate(24 * time.Hour)
	confirmedAt := now.Add(-2 * time.Hour)
	appt := func(pid uint, status models.AppointmentStatus, daysAhead int, confirmed bool) uint {
		a := models.Appointment{PatientID: pid, LocationID: loc.ID, StartsAt: day.AddDate(0, 0, daysAhead).Add(10 * time.Hour), DurationMinutes: 30, Status: status}
		if confirmed {
			a.ConfirmedAt = &confirmedAt
		}
		if err := st.DB(ctx).Create(&a).Error; err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	a1 := appt(p.ID, models.Confirmed, 0, true)
	a2 := appt(p.ID, models.Scheduled, 0, false)
	appt(q.ID, models.Cancelled, 0, true) // cancelled: in no rate
	appt(p.ID, models.NoShow, 1, true)    // confirmed, then did not come
	appt(p.ID, models.Scheduled, 9, true) // outside the range
	sent := now.Add(-3 * time.Hour)
	msg := func(aid uint, kind string, status models.MessageStatus, sentAt *time.Time) {
		m := models.Message{UUID: time.Now().String() + kind + string(status), AppointmentID: &aid, Kind: kind, To: p.Phone, Status: status, SendAt: now, SentAt: sentAt, Reason: "x"}
		if err := st.DB(ctx).Create(&m).Error; err != nil {
			t.Fatal(err)
		}
	}
	msg(a1, models.KindReminder, models.MsgDelivered, &sent)
	msg(a2, models.KindReminder, models.MsgFailed, &sent)
	msg(a2, models.KindAckConfirm, models.MsgDelivered, &sent) // not a reminder: reaches nobody
	reply := models.InboundMessage{ProviderID: "r1", From: p.Phone, Text: "YES", AppointmentID: &a1, ReceivedAt: now}
	waiting := models.InboundMessage{ProviderID: "r2", From: "+15550000000", Text: "?", NeedsAttention: true, ReceivedAt: now}
	for _, v := range []any{&reply, &waiting} {
		if err := st.DB(ctx).Create(v).Error; err != nil {
			t.Fatal(err)
		}
	}
	d, err := stats.New(st).Dashboard(ctx, stats.Query{From: day, To: day.AddDate(0, 0, 8)})
	if err != nil {
		t.Fatal(err)
	}
	rate, ok := d.ConfirmationRate()
	if !ok || d.Active() != 3 || d.Confirmed != 2 || rate != 2.0/3 {
		t.Errorf("confirmation: %d of %d active (%v)", d.Confirmed, d.Active(), rate)
	}
	if rate, ok := d.ReplyRate(); !ok || d.Reached != 2 || d.Replied != 1 || rate != 0.5 {
		t.Errorf("replies: %d of %d reached", d.Replied, d.Reached)
	}
	if d.Failed() != 1 || len(d.FailedMessages) != 1 || d.FailedMessages[0].PatientName != "Ada Lovelace" {
		t.Errorf("failed: %d %+v", d.Failed(), d.FailedMessages)
	}
	if d.NeedsAttention != 1 || d.OptedOut != 1 || d.OptOuts[0].Name != "Grace" || d.OptOuts[0].Source != "sms_stop" {
		t.Errorf("inbox %d, opt-outs %d %+v", d.NeedsAttention, d.OptedOut, d.OptOuts)
	}
	if len(d.Days) != 8 || d.Days[0].Active != 2 || d.Days[0].Total != 3 || d.Days[1].NoShow != 1 {
		t.Fatalf("days: %+v", d.Days)
	}
	if r, ok := d.Days[1].NoShowRate(); !ok || r != 1 {
		t.Errorf("no-show rate of day 1: %v %v", r, ok)
	}
	if _, ok := d.Days[2].ConfirmationRate(); ok {
		t.Error("a day without appointments has a rate")
	}
}

func TestDashboardRefusesBadRanges(t *testing.T) {
	svc := stats.New(storetest.SQLite(t))
	for _, tc := range []struct {
		name     string
		from, to time.Time
	}{
		{"empty", now, now},
		{"reversed", now, now.Add(-time.Hour)},
		{"zero", time.Time{}, now},
		{"too long", now, now.AddDate(0, 0, stats.MaxDays+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := svc.Dashboard(context.Background(), stats.Query{From: tc.from, To: tc.to}); !errors.Is(err, stats.ErrBadRange) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestDays(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	days := stats.Days(time.Date(2026, 3, 7, 15, 0, 0, 0, ny), time.Date(2026, 3, 10, 0, 0, 0, 0, ny), ny)
	if len(days) != 3 {
		t.Fatalf("%v", days)
	}
	if got := days[2].Sub(days[1]); got != 23*time.Hour {
		t.Errorf("8 March 2026 in New York lasts %s, want 23h", got)
	}
	for _, d := range days {
		if h, m, _ := d.Clock(); h != 0 || m != 0 {
			t.Errorf("%s is not a midnight", d)
		}
	}
}
