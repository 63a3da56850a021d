package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm/logger"

	"apptconfirm/app/api"
	"apptconfirm/app/stats"
	"apptconfirm/models"
)

// seedStats writes appointments, messages and replies straight into the
// database (the stats only read), and returns nothing: the expected numbers
// are worked out by hand in TestStats.
func (e *env) seedStats() {
	e.t.Helper()
	ctx := context.Background()
	db := e.store.DB(ctx)
	p := e.patient("Ana", "Lopez", "+33612345678")
	n := 0
	appt := func(loc *models.Location, start time.Time, st models.AppointmentStatus, confirmed bool) *models.Appointment {
		a := &models.Appointment{PatientID: p.ID, LocationID: loc.ID, StartsAt: start, DurationMinutes: 30, Status: st}
		if confirmed {
			c := start.Add(-24 * time.Hour)
			a.ConfirmedAt = &c
		}
		if err := db.Create(a).Error; err != nil {
			e.t.Fatal(err)
		}
		return a
	}
	msg := func(a *models.Appointment, kind string, st models.MessageStatus, sent bool) {
		n++
		m := &models.Message{
			UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), AppointmentID: &a.ID, PatientID: &p.ID,
			Kind: kind, To: p.Phone, Status: st, SendAt: a.StartsAt.Add(-48 * time.Hour),
		}
		if sent {
			s := m.SendAt
			m.SentAt = &s
		}
		if err := db.Create(m).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	reply := func(a *models.Appointment) {
		n++
		in := &models.InboundMessage{ProviderID: fmt.Sprintf("in-%d", n), From: p.Phone, Text: "YES", AppointmentID: &a.ID, PatientID: &p.ID, ReceivedAt: t0}
		if err := db.Create(in).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	at := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }

	// In the range (2 to 9 March, Paris time), at Paris:
	a1 := appt(e.paris, at(3, 9), models.Scheduled, false)
	msg(a1, models.KindReminder, models.MsgDelivered, true)
	reply(a1)
	a2 := appt(e.paris, at(4, 9), models.Confirmed, true)
	msg(a2, models.KindReminder, models.MsgDelivered, true)
	reply(a2)
	a3 := appt(e.paris, at(5, 9), models.Cancelled, true) // confirmed, then cancelled: not counted
	msg(a3, models.KindReminder, models.MsgCancelled, false)
	reply(a3) // a reply without a sent reminder does not count as reached
	a4 := appt(e.paris, at(2, 8), models.Completed, true)
	msg(a4, models.KindReminder, models.MsgFailed, false)
	msg(a4, models.KindAckConfirm, models.MsgSent, true) // an acknowledgement does not make it reached
	a5 := appt(e.paris, at(9, 10), models.NoShow, false)
	msg(a5, models.KindBookingConfirm, models.MsgSent, true)
	// In the range, at Lyon:
	l1 := appt(e.lyon, at(4, 9), models.Scheduled, false)
	msg(l1, models.KindReminder, models.MsgAccepted, true)
	reply(l1)
	// Outside the range: 10 March 10:00 Paris, and 1 March 23:00 Paris.
	o1 := appt(e.paris, at(10, 9), models.Confirmed, true)
	msg(o1, models.KindReminder, models.MsgDelivered, true)
	reply(o1)
	appt(e.paris, at(1, 22), models.Scheduled, false)
}

func TestStats(t *testing.T) {
	e := newEnv(t)
	e.seedStats()
	rate := func(f float64) *float64 { return &f }
	all := api.StatsAnswer{
		From: "2026-03-02T00:00:00+01:00", To: "2026-03-10T00:00:00+01:00",
		Appointments: api.StatsCounts{Total: 6, ByStatus: map[string]int64{"scheduled": 2, "confirmed": 1, "cancelled": 1, "completed": 1, "no_show": 1, "reschedule_requested": 0}},
		Messages: api.StatsCounts{Total: 7, ByStatus: map[string]int64{
			"planned": 0, "sending": 0, "accepted": 1, "sent": 2, "delivered": 2, "failed": 1, "rejected": 0, "cancelled": 1, "skipped": 0,
		}},
		ConfirmationRate: rate(2.0 / 5), ReplyRate: rate(3.0 / 4), Confirmed: 2, Reached: 4, Replied: 3,
	}
	paris := api.StatsAnswer{
		From: "2026-03-02T00:00:00+01:00", To: "2026-03-10T00:00:00+01:00", LocationID: &e.paris.ID,
		Appointments: api.StatsCounts{Total: 5, ByStatus: map[string]int64{"scheduled": 1, "confirmed": 1, "cancelled": 1, "completed": 1, "no_show": 1, "reschedule_requested": 0}},
		Messages: api.StatsCounts{Total: 6, ByStatus: map[string]int64{
			"planned": 0, "sending": 0, "accepted": 0, "sent": 2, "delivered": 2, "failed": 1, "rejected": 0, "cancelled": 1, "skipped": 0,
		}},
		ConfirmationRate: rate(2.0 / 4), ReplyRate: rate(2.0 / 3), Confirmed: 2, Reached: 3, Replied: 2,
	}
	empty := api.StatsAnswer{
		From: "2027-01-01T00:00:00+01:00", To: "2027-01-02T00:00:00+01:00",
		Appointments: api.StatsCounts{Total: 0, ByStatus: map[string]int64{"scheduled": 0, "confirmed": 0, "cancelled": 0, "completed": 0, "no_show": 0, "reschedule_requested": 0}},
		Messages: api.StatsCounts{Total: 0, ByStatus: map[string]int64{
			"planned": 0, "sending": 0, "accepted": 0, "sent": 0, "delivered": 0, "failed": 0, "rejected": 0, "cancelled": 0, "skipped": 0,
		}},
	}
	cases := []struct {
		query string
		want  api.StatsAnswer
	}{
		{"?from=2026-03-02&to=2026-03-09", all},
		{"", all}, // today and the next 7 days
		{"?from=2026-03-01T23:00:00Z&to=2026-03-09T23:00:00Z", all},
		{fmt.Sprintf("?from=2026-03-02&to=2026-03-09&location=%d", e.paris.ID), paris},
		{"?from=2027-01-01&to=2027-01-01", empty},
	}
	for _, c := range cases {
		t.Run("query "+c.query, func(t *testing.T) {
			var got api.StatsAnswer
			e.decode(200, &got, http.MethodGet, "/api/v1/stats"+c.query, "")
			if got.From != c.want.From && c.query != "?from=2026-03-01T23:00:00Z&to=2026-03-09T23:00:00Z" {
				t.Errorf("from %q, want %q", got.From, c.want.From)
			}
			checkStats(t, got, c.want)
		})
	}

	bad := []struct{ query, field string }{
		{"?from=soon", "from"},
		{"?to=2026-02-30", "to"},
		{"?from=2026-03-09&to=2026-03-01", "to"},
		{"?from=2026-01-01&to=2027-06-01", "to"},
		{"?location=abc", "location"},
		{"?location=9999", "location"},
	}
	for _, c := range bad {
		t.Run("refuses "+c.query, func(t *testing.T) {
			r := e.do(http.MethodGet, "/api/v1/stats"+c.query, "")
			if r.status != 422 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if _, field, _ := r.errorOf(t); field != c.field {
				t.Errorf("field %q, want %q", field, c.field)
			}
		})
	}
}

func checkStats(t *testing.T, got, want api.StatsAnswer) {
	t.Helper()
	eqRate := func(a, b *float64) bool {
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		d := *a - *b
		return d < 1e-9 && d > -1e-9
	}
	if (got.LocationID == nil) != (want.LocationID == nil) || (got.LocationID != nil && *got.LocationID != *want.LocationID) {
		t.Errorf("location_id %v, want %v", got.LocationID, want.LocationID)
	}
	if got.Appointments.Total != want.Appointments.Total || fmt.Sprint(got.Appointments.ByStatus) != fmt.Sprint(want.Appointments.ByStatus) {
		t.Errorf("appointments %+v, want %+v", got.Appointments, want.Appointments)
	}
	if got.Messages.Total != want.Messages.Total || fmt.Sprint(got.Messages.ByStatus) != fmt.Sprint(want.Messages.ByStatus) {
		t.Errorf("messages %+v, want %+v", got.Messages, want.Messages)
	}
	if got.Confirmed != want.Confirmed || got.Reached != want.Reached || got.Replied != want.Replied {
		t.Errorf("confirmed/reached/replied %d/%d/%d, want %d/%d/%d", got.Confirmed, got.Reached, got.Replied, want.Confirmed, want.Reached, want.Replied)
	}
	if !eqRate(got.ConfirmationRate, want.ConfirmationRate) || !eqRate(got.ReplyRate, want.ReplyRate) {
		t.Errorf("rates %v %v, want %v %v", ptr(got.ConfirmationRate), ptr(got.ReplyRate), ptr(want.ConfirmationRate), ptr(want.ReplyRate))
	}
}

func ptr(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// TestStatsQueryPlan checks on SQLite that every stats query is bounded by
// an index on the appointments' start (no scan of the whole table).
func TestStatsQueryPlan(t *testing.T) {
	e := newEnv(t)
	e.seedStats()
	ctx := context.Background()
	var plans []string
	db := e.store.DB(ctx)
	q := stats.Query{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)}
	for _, loc := range []uint{0, e.paris.ID} {
		q.LocationID = loc
		sqls := statsSQL(t, e, q)
		for _, s := range sqls {
			var rows []struct {
				ID, Parent, Notused int
				Detail              string
			}
			if err := db.Raw("EXPLAIN QUERY PLAN " + s).Scan(&rows).Error; err != nil {
				t.Fatalf("explain %s: %v", s, err)
			}
			for _, r := range rows {
				plans = append(plans, r.Detail)
				t.Logf("%s", r.Detail)
				if strings.HasPrefix(r.Detail, "SCAN ") {
					t.Errorf("%q: a scan of a whole table in\n%s", r.Detail, s)
				}
			}
		}
	}
	if len(plans) == 0 {
		t.Fatal("no query plans")
	}
}

// statsSQL computes the summary GET /stats answers with and returns the
// SQL it sent.
func statsSQL(t *testing.T, e *env, q stats.Query) []string {
	t.Helper()
	// A second store on the same file, logging to sqlCapture: callbacks
	// registered on an open store would race with its background work.
	capture := &sqlCapture{}
	s, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: e.dbPath, Logger: capture})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	capture.on.Store(true)
	_, err = stats.New(s).WithParallel(1).Summary(context.Background(), q)
	capture.on.Store(false)
	if err != nil {
		t.Fatal(err)
	}
	out := capture.statements()
	if len(out) != 2 {
		t.Fatalf("captured %d queries, want 2: %q", len(out), out)
	}
	return out
}

// sqlCapture is a GORM logger that keeps the SQL of the queries run while
// it is on (the store's own WAL checkpoints left out).
type sqlCapture struct {
	on  atomic.Bool
	mu  sync.Mutex
	sql []string
}

func (c *sqlCapture) LogMode(logger.LogLevel) logger.Interface { return c }
func (c *sqlCapture) Info(context.Context, string, ...any)     {}
func (c *sqlCapture) Warn(context.Context, string, ...any)     {}
func (c *sqlCapture) Error(context.Context, string, ...any)    {}
func (c *sqlCapture) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	if !c.on.Load() {
		return
	}
	sql, _ := fc()
	if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(sql)), "PRAGMA") {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sql = append(c.sql, sql)
}

func (c *sqlCapture) statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sql...)
}
