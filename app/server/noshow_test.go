package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/models"
)

// noShowApp is a served app in Paris with a second location in New York,
// no_show.auto_mark and no_show.follow_up on, a staff user and an API
// token, on a clock the test moves.
type noShowApp struct {
	*servedApp
	t     *testing.T
	clock *testClock
	token string
	paris *time.Location
	ny    *time.Location
	nyLoc uint
	sent  int
}

func newNoShowApp(t *testing.T) *noShowApp {
	t.Helper()
	paris, _ := time.LoadLocation("Europe/Paris")
	ny, _ := time.LoadLocation("America/New_York")
	clk := &testClock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, paris)}
	cfg := config.Default()
	cfg.Clinic.Name, cfg.Clinic.Timezone, cfg.Clinic.Country = "Main St Clinic", "Europe/Paris", "FR"
	cfg.Clinic.Phone = "+33 1 42 68 53 00"
	cfg.NoShow.AutoMark, cfg.NoShow.FollowUp = true, true
	a := serveTestAppWith(t, cfg, Options{Now: clk.Now})
	ctx := context.Background()
	if _, err := a.Clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{
		Email: "desk@example.com", Name: "Desk", Role: "staff", Password: "password123",
	}); err != nil {
		t.Fatal(err)
	}
	loc, err := a.Clinic.CreateLocation(ctx, models.SystemActor(), clinic.LocationInput{Name: "Fifth Avenue", TimeZone: "America/New_York", Country: "US"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := api.NewTokens(a.Store, clk.Now).Create(ctx, models.SystemActor(), "pms")
	if err != nil {
		t.Fatal(err)
	}
	return &noShowApp{servedApp: a, t: t, clock: clk, token: token, paris: paris, ny: ny, nyLoc: loc.ID}
}

// book books a 30-minute appointment for a new patient through the API
// (location 0: the default one).
func (n *noShowApp) book(name, phone, lang string, start time.Time, location uint) uint {
	n.t.Helper()
	where := ""
	if location != 0 {
		where = fmt.Sprintf(`, "location_id": %d`, location)
	}
	body := fmt.Sprintf(`{"patient": {"name": %q, "phone": %q, "language": %q}, "starts_at": %q, "duration_minutes": 30%s}`,
		name, phone, lang, start.Format(time.RFC3339), where)
	status, got := apiCall(n.t, n.Handler(), n.token, http.MethodPost, "/api/v1/appointments", body)
	if status != http.StatusCreated {
		n.t.Fatalf("book %s: %d %s", name, status, got)
	}
	var out struct{ ID uint }
	if err := json.Unmarshal([]byte(got), &out); err != nil {
		n.t.Fatal(err)
	}
	return out.ID
}

func (n *noShowApp) status(id uint) models.AppointmentStatus {
	n.t.Helper()
	a, err := n.Store.Appointment(context.Background(), id)
	if err != nil {
		n.t.Fatal(err)
	}
	return a.Status
}

// received sends what is due and returns the texts the gateway sent to
// phone since the last call, as the patient reads them.
func (n *noShowApp) received(phone string) []string {
	n.t.Helper()
	if _, err := n.Dispatcher.RunOnce(context.Background()); err != nil {
		n.t.Fatal(err)
	}
	sends := n.Simulator.Sends()
	var out []string
	for _, s := range sends[n.sent:] {
		if s.To == phone {
			out = append(out, s.Text)
			n.t.Logf("to %s: %s", phone, s.Text)
		}
	}
	return out
}

// drain forgets every send so far.
func (n *noShowApp) drain() {
	n.t.Helper()
	if _, err := n.Dispatcher.RunOnce(context.Background()); err != nil {
		n.t.Fatal(err)
	}
	n.sent = len(n.Simulator.Sends())
}

var outcomeRowRE = regexp.MustCompile(`data-appointment-row="(\d+)"`)

// rowsOf returns the appointment ids listed in one location's section.
func rowsOf(body, location string) []string {
	_, after, ok := strings.Cut(body, `<section class="card" aria-label="`+location+`">`)
	if !ok {
		return nil
	}
	section, _, _ := strings.Cut(after, "</section>")
	var ids []string
	for _, m := range outcomeRowRE.FindAllStringSubmatch(section, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func ids(v ...uint) []string {
	out := make([]string, len(v))
	for i, id := range v {
		out[i] = fmt.Sprint(id)
	}
	return out
}

// The no-show loop over HTTP with the fake gateway: Today's outcomes lists,
// per location and in its own zone, the started appointments still
// scheduled or confirmed; staff mark them in bulk (all or nothing); the
// API records outcomes and names each refused item; auto-mark marks the
// unconfirmed ones once their local day is over and leaves confirmed ones;
// a no-show gets one follow-up SMS in their language, after quiet hours,
// whose link opens their page, and never a second one.
func TestNoShowLoop(t *testing.T) {
	n := newNoShowApp(t)
	ctx := context.Background()
	paris := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, n.paris) }
	const annaPhone, benPhone, evePhone, carlPhone, finnPhone = "+33612345678", "+33612345679", "+33612345680", "+12025550143", "+12025550144"
	anna := n.book("Anna Martin", annaPhone, "fr", paris(2, 10, 0), 0)
	ben := n.book("Ben Petit", benPhone, "fr", paris(2, 11, 0), 0)
	eve := n.book("Eve Smith", evePhone, "en", paris(2, 9, 30), 0)
	dora := n.book("Dora Blanc", "+33612345681", "fr", paris(3, 10, 0), 0)
	carl := n.book("Carl Jones", carlPhone, "en", time.Date(2026, 3, 2, 9, 0, 0, 0, n.ny), n.nyLoc)
	finn := n.book("Finn Lee", finnPhone, "en", time.Date(2026, 3, 2, 20, 0, 0, 0, n.ny), n.nyLoc)
	if _, err := n.Clinic.Confirm(ctx, models.SystemActor(), ben, "staff"); err != nil {
		t.Fatal(err)
	}
	n.drain()

	// 00:30 in Paris, 18:30 the day before in New York: Paris's Monday is
	// over, New York's is not, and Finn's 20:00 there has not begun.
	n.clock.Set(paris(3, 0, 30))
	b := n.login(t, "desk@example.com", "password123")
	status, body := b.get("/outcomes?date=2026-03-02")
	if status != http.StatusOK {
		t.Fatalf("GET /outcomes: %d", status)
	}
	if got, want := rowsOf(body, "Main St Clinic"), ids(eve, anna, ben); !slices.Equal(got, want) {
		t.Errorf("Paris lists %v, want %v (Eve, Anna, Ben by time)", got, want)
	}
	if got, want := rowsOf(body, "Fifth Avenue"), ids(carl); !slices.Equal(got, want) {
		t.Errorf("New York lists %v, want %v (Finn has not started)", got, want)
	}
	if !strings.Contains(body, "Europe/Paris · day over") || !strings.Contains(body, "America/New_York · day under way") {
		t.Errorf("the page does not say which days are over")
	}
	// Today in Paris (Tuesday) nothing has started yet.
	if _, today := b.get("/outcomes"); !strings.Contains(today, `id="outcomes-empty"`) {
		t.Errorf("today's page lists something")
	}
	if status, _ := b.get("/outcomes?date=yesterday"); status != http.StatusBadRequest {
		t.Errorf("a bad date: %d", status)
	}

	// Bulk, all or nothing: Dora's visit has not happened, so Carl is not
	// marked either, and the refusal names Dora's appointment.
	resp, body := b.post("/outcomes", url.Values{"date": {"2026-03-02"}, "id": ids(carl, dora), "outcome": {"attended"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, fmt.Sprintf("Appointment %d has not started yet", dora)) {
		t.Fatalf("mixed bulk: %d, refusal not named", resp.StatusCode)
	}
	if n.status(carl) != models.Scheduled || n.status(dora) != models.Scheduled {
		t.Fatalf("a refused bulk change wrote something")
	}
	// Without the CSRF token: refused.
	if r, err := b.c.PostForm(b.base+"/outcomes", url.Values{"id": ids(carl), "outcome": {"attended"}}); err != nil || r.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without a CSRF token: %v %v", r.StatusCode, err)
	}
	resp, _ = b.post("/outcomes", url.Values{"date": {"2026-03-02"}, "id": ids(carl), "outcome": {"attended"}})
	if resp.StatusCode != http.StatusSeeOther || n.status(carl) != models.Completed {
		t.Fatalf("mark attended: %d, %s", resp.StatusCode, n.status(carl))
	}
	resp, _ = b.post("/outcomes", url.Values{"date": {"2026-03-02"}, "id": ids(eve), "outcome": {"no_show"}})
	if resp.StatusCode != http.StatusSeeOther || n.status(eve) != models.NoShow {
		t.Fatalf("mark no-show: %d, %s", resp.StatusCode, n.status(eve))
	}
	var audit models.AuditEntry
	n.Store.DB(ctx).Where("action = ? AND entity_id = ?", "appointment.no_show", eve).Take(&audit)
	if audit.Actor != "desk@example.com" && !strings.Contains(audit.Actor, "Desk") {
		t.Errorf("the no-show is audited as %q", audit.Actor)
	}
	var lines, events int64
	n.Store.DB(ctx).Model(&models.TimelineEntry{}).Where("appointment_id = ? AND detail LIKE ?", eve, "Marked no-show by %").Count(&lines)
	n.Store.DB(ctx).Model(&models.Event{}).Where("appointment_id = ? AND type = ?", eve, models.EventAppointmentNoShow).Count(&events)
	if lines != 1 || events != 1 {
		t.Errorf("no-show timeline lines %d, events %d, want 1 and 1", lines, events)
	}
	if _, after := b.get("/outcomes?date=2026-03-02"); !slices.Equal(rowsOf(after, "Main St Clinic"), ids(anna, ben)) || rowsOf(after, "Fifth Avenue") != nil {
		t.Errorf("marked appointments still listed")
	}

	// The API: every bad item named, nothing applied.
	bad := fmt.Sprintf(`[{"id": %d, "outcome": "attended"}, {"id": %d, "outcome": "no_show"}, {"id": 999999, "outcome": "no_show"}]`, ben, dora)
	st, got := apiCall(t, n.Handler(), n.token, http.MethodPost, "/api/v1/appointments/outcomes", bad)
	var e api.ErrorBody
	_ = json.Unmarshal([]byte(got), &e)
	if st != http.StatusUnprocessableEntity || !strings.Contains(e.Error.Fields["items[1].id"], fmt.Sprintf("appointment %d has not started yet", dora)) ||
		e.Error.Fields["items[2].id"] != "appointment 999999 does not exist" {
		t.Fatalf("API with bad items: %d %s", st, got)
	}
	if n.status(ben) != models.Confirmed {
		t.Fatalf("a refused API call wrote something")
	}
	st, got = apiCall(t, n.Handler(), n.token, http.MethodPost, "/api/v1/appointments/outcomes", fmt.Sprintf(`[{"id": %d, "outcome": "maybe"}, {"outcome": "attended"}]`, ben))
	if st != http.StatusUnprocessableEntity || !strings.Contains(got, `"items[0].outcome"`) || !strings.Contains(got, `"items[1].id"`) {
		t.Fatalf("API with malformed items: %d %s", st, got)
	}
	good := fmt.Sprintf(`[{"id": %d, "outcome": "attended"}]`, ben)
	for range 2 { // a retry changes nothing and answers the same
		st, got = apiCall(t, n.Handler(), n.token, http.MethodPost, "/api/v1/appointments/outcomes", good)
		if st != http.StatusOK || !strings.Contains(got, `"status":"completed"`) || n.status(ben) != models.Completed {
			t.Fatalf("API outcome: %d %s", st, got)
		}
	}

	// Auto-mark: Anna (Paris, never confirmed, day over) becomes a
	// no-show; Finn's New York day is not over yet.
	if !slices.Contains(n.Jobs.Names(), JobNoShowAutoMark) {
		t.Fatalf("jobs %v lack %s", n.Jobs.Names(), JobNoShowAutoMark)
	}
	marked, err := n.Clinic.AutoMarkNoShows(ctx)
	if err != nil || marked != 1 || n.status(anna) != models.NoShow || n.status(finn) != models.Scheduled {
		t.Fatalf("auto-mark: %d %v; Anna %s, Finn %s", marked, err, n.status(anna), n.status(finn))
	}
	if again, err := n.Clinic.AutoMarkNoShows(ctx); err != nil || again != 0 {
		t.Fatalf("auto-mark again: %d %v", again, err)
	}

	// Quiet hours (21:00-08:00 in Paris) hold the follow-ups.
	if got := n.received(evePhone); len(got) != 0 {
		t.Fatalf("a follow-up went out in quiet hours: %q", got)
	}
	n.clock.Set(paris(3, 8, 5))
	eveTexts, annaTexts := n.received(evePhone), n.received(annaPhone)
	n.drain()
	if len(eveTexts) != 1 || len(annaTexts) != 1 {
		t.Fatalf("follow-ups: Eve %q, Anna %q", eveTexts, annaTexts)
	}
	m := linkRE.FindStringSubmatch(eveTexts[0])
	if m == nil || !strings.HasPrefix(eveTexts[0], "Hi Eve, we missed you at Main St Clinic on Monday, March 2. To book another time: http") {
		t.Fatalf("Eve reads %q", eveTexts[0])
	}
	if !strings.HasPrefix(annaTexts[0], "Bonjour Anna, nous ne vous avons pas vu chez Main St Clinic le lundi 2 mars. Pour reprendre rendez-vous : http") ||
		linkRE.FindStringSubmatch(annaTexts[0]) == nil {
		t.Fatalf("Anna reads %q", annaTexts[0])
	}
	// The link opens the patient's page, which says they were missed and
	// how to book again, still days later.
	for _, at := range []time.Time{paris(3, 8, 6), paris(8, 9, 0)} {
		n.clock.Set(at)
		st, _, page := pageCall(t, n.Handler(), http.MethodGet, m[1], nil)
		if st != http.StatusOK || !strings.Contains(page, "We missed you at this appointment. To book another time, please call us.") || !strings.Contains(page, `href="tel:&#43;33142685300"`) {
			t.Fatalf("the follow-up's link at %s: %d\n%s", at, st, page)
		}
	}
	n.clock.Set(paris(3, 8, 6))

	// Undo and mark again: no second follow-up.
	if _, err := n.Clinic.RecordOutcomes(ctx, models.SystemActor(), []clinic.OutcomeItem{{ID: eve, Outcome: clinic.OutcomeAttended}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Clinic.RecordOutcomes(ctx, models.SystemActor(), []clinic.OutcomeItem{{ID: eve, Outcome: clinic.OutcomeNoShow}}); err != nil {
		t.Fatal(err)
	}
	if got := n.received(evePhone); len(got) != 0 {
		t.Fatalf("a second follow-up: %q", got)
	}
	var followUps int64
	n.Store.DB(ctx).Model(&models.Message{}).Where("appointment_id = ? AND kind = ?", eve, models.KindNoShowFollowUp).Count(&followUps)
	if followUps != 1 {
		t.Fatalf("%d follow-ups for one appointment", followUps)
	}

	// New York's day ends: Finn is marked, Dora (confirmed or not, future)
	// is not.
	n.clock.Set(time.Date(2026, 3, 3, 0, 5, 0, 0, n.ny))
	if marked, err := n.Clinic.AutoMarkNoShows(ctx); err != nil || marked != 1 || n.status(finn) != models.NoShow || n.status(dora) != models.Scheduled {
		t.Fatalf("auto-mark in New York: %d %v; Finn %s", marked, err, n.status(finn))
	}
}

// Auto-mark leaves confirmed appointments to staff, and a patient who
// opted out gets no follow-up.
func TestAutoMarkLeavesConfirmed(t *testing.T) {
	n := newNoShowApp(t)
	ctx := context.Background()
	id := n.book("Ben Petit", "+33612345679", "fr", time.Date(2026, 3, 2, 11, 0, 0, 0, n.paris), 0)
	if _, err := n.Clinic.Confirm(ctx, models.SystemActor(), id, "staff"); err != nil {
		t.Fatal(err)
	}
	const zoePhone = "+33612345690"
	zoe := n.book("Zoe Roux", zoePhone, "fr", time.Date(2026, 3, 2, 12, 0, 0, 0, n.paris), 0)
	if _, err := n.Simulator.EmitReceiveSMS(ctx, zoePhone, "+33100000000", "STOP"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Webhooks.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	n.drain()
	n.clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, n.paris))
	if marked, err := n.Clinic.AutoMarkNoShows(ctx); err != nil || marked != 1 || n.status(id) != models.Confirmed || n.status(zoe) != models.NoShow {
		t.Fatalf("auto-mark: %d %v; confirmed visit %s, Zoe %s", marked, err, n.status(id), n.status(zoe))
	}
	if got := n.received(zoePhone); len(got) != 0 {
		t.Fatalf("an opted-out patient got %q", got)
	}
	var followUps int64
	n.Store.DB(ctx).Model(&models.Message{}).Where("kind = ?", models.KindNoShowFollowUp).Count(&followUps)
	if followUps != 0 {
		t.Fatalf("%d follow-ups queued for an opted-out patient", followUps)
	}
}

// Two instances' auto-mark jobs at the same moment mark each unconfirmed
// visit once and queue one follow-up each.
func TestAutoMarkTwiceAtOnce(t *testing.T) {
	n := newNoShowApp(t)
	ctx := context.Background()
	var ids []uint
	for i := range 4 {
		ids = append(ids, n.book(fmt.Sprintf("Patient %c", 'A'+i), fmt.Sprintf("+3361234570%d", i), "fr", time.Date(2026, 3, 2, 9+i, 0, 0, 0, n.paris), 0))
	}
	n.clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, n.paris))
	results := make(chan int, 2)
	for range 2 {
		go func() {
			marked, err := n.Clinic.AutoMarkNoShows(ctx)
			if err != nil {
				t.Error(err)
			}
			results <- marked
		}()
	}
	if total := <-results + <-results; total != len(ids) {
		t.Fatalf("%d marks for %d visits", total, len(ids))
	}
	var followUps int64
	n.Store.DB(ctx).Model(&models.Message{}).Where("kind = ?", models.KindNoShowFollowUp).Count(&followUps)
	if followUps != int64(len(ids)) {
		t.Fatalf("%d follow-ups for %d no-shows", followUps, len(ids))
	}
	for _, id := range ids {
		if n.status(id) != models.NoShow {
			t.Fatalf("appointment %d is %s", id, n.status(id))
		}
	}
}

// A follow-up held by quiet hours is cancelled at once when the visit is
// marked attended after all, and never goes out.
func TestFollowUpCancelledWhenAttended(t *testing.T) {
	n := newNoShowApp(t)
	ctx := context.Background()
	const gusPhone = "+33612345699"
	id := n.book("Gus Moreau", gusPhone, "fr", time.Date(2026, 3, 2, 10, 0, 0, 0, n.paris), 0)
	n.drain()
	n.clock.Set(time.Date(2026, 3, 3, 0, 30, 0, 0, n.paris))
	mark := func(outcome string) {
		t.Helper()
		if _, err := n.Clinic.RecordOutcomes(ctx, models.SystemActor(), []clinic.OutcomeItem{{ID: id, Outcome: outcome}}); err != nil {
			t.Fatal(err)
		}
	}
	followUp := func() models.Message {
		t.Helper()
		var m models.Message
		if err := n.Store.DB(ctx).Where("appointment_id = ? AND kind = ?", id, models.KindNoShowFollowUp).Order("id DESC").Take(&m).Error; err != nil {
			t.Fatal(err)
		}
		return m
	}
	mark(clinic.OutcomeNoShow)
	if m := followUp(); m.Status != models.MsgPlanned || m.SendAt.Before(time.Date(2026, 3, 3, 8, 0, 0, 0, n.paris)) {
		t.Fatalf("follow-up %s at %s, want planned after quiet hours", m.Status, m.SendAt)
	}
	mark(clinic.OutcomeAttended)
	if m := followUp(); m.Status != models.MsgCancelled {
		t.Fatalf("follow-up %s after the visit was marked attended", m.Status)
	}
	n.clock.Set(time.Date(2026, 3, 3, 8, 30, 0, 0, n.paris))
	if got := n.received(gusPhone); len(got) != 0 {
		t.Fatalf("Gus got %q", got)
	}
	// Marked no-show again: the cancelled one never went out, so one
	// follow-up does, and only one.
	mark(clinic.OutcomeNoShow)
	mark(clinic.OutcomeAttended)
	mark(clinic.OutcomeNoShow)
	if got := n.received(gusPhone); len(got) != 1 || !strings.HasPrefix(got[0], "Bonjour Gus, nous ne vous avons pas vu") {
		t.Fatalf("Gus got %q, want one follow-up", got)
	}
	n.drain()
	mark(clinic.OutcomeAttended)
	mark(clinic.OutcomeNoShow)
	if got := n.received(gusPhone); len(got) != 0 {
		t.Fatalf("Gus got a second follow-up: %q", got)
	}
	var planned int64
	n.Store.DB(ctx).Model(&models.Message{}).Where("appointment_id = ? AND kind = ? AND status <> ?", id, models.KindNoShowFollowUp, models.MsgCancelled).Count(&planned)
	if planned != 1 {
		t.Fatalf("%d live follow-ups", planned)
	}
}
