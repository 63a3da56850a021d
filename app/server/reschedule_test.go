package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/app/availability"
	"apptconfirm/app/config"
	"apptconfirm/app/slots"
	"apptconfirm/models"
)

// rescheduleApp is the app in simulator mode on a SQLite file, in Paris,
// with a clock the test moves, no reminder caps and a default location
// open 09:00-17:00 every day.
type rescheduleApp struct {
	*App
	t     *testing.T
	clock *testClock
	token string
	paris *time.Location
	// sent counts the gateway's sends already read.
	sent int
}

func newRescheduleApp(t *testing.T) *rescheduleApp {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, paris)}
	cfg := config.Default()
	cfg.Reminders.QuietHours = config.QuietHours{}
	cfg.Reminders.CapPerDay, cfg.Reminders.CapPerWeek = 0, 0
	cfg.Clinic.Name, cfg.Clinic.Timezone, cfg.Clinic.Country = "Main St Clinic", "Europe/Paris", "FR"
	cfg.Database.DSN = filepath.Join(t.TempDir(), "app.db")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := Build(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{HashCost: 10, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	ctx := context.Background()
	loc, err := a.Store.DefaultLocation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := slots.ParseHours("mon-sun 09:00-17:00", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Availability.SaveSchedule(ctx, models.SystemActor(), availability.LocationOwner(loc.ID), availability.ScheduleInput{Hours: h}); err != nil {
		t.Fatal(err)
	}
	token, _, err := api.NewTokens(a.Store, clk.Now).Create(ctx, models.SystemActor(), "pms")
	if err != nil {
		t.Fatal(err)
	}
	return &rescheduleApp{App: a, t: t, clock: clk, token: token, paris: paris}
}

// at is a wall-clock time in Paris in March 2026.
func (r *rescheduleApp) at(day, hour, minute int) time.Time {
	return time.Date(2026, 3, day, hour, minute, 0, 0, r.paris)
}

// call sends one API request and decodes a 2xx answer into out.
func (r *rescheduleApp) call(method, path, body string, want int, out any) {
	r.t.Helper()
	status, got := apiCall(r.t, r.Handler(), r.token, method, path, body)
	if status != want {
		r.t.Fatalf("%s %s: %d %s, want %d", method, path, status, got, want)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(got), out); err != nil {
			r.t.Fatal(err)
		}
	}
}

// book books a 30-minute appointment for a new patient through the API.
func (r *rescheduleApp) book(name, phone string, start time.Time) uint {
	r.t.Helper()
	var out struct{ ID uint }
	body := fmt.Sprintf(`{"patient": {"name": %q, "phone": %q}, "starts_at": %q, "duration_minutes": 30}`, name, phone, start.Format(time.RFC3339))
	r.call(http.MethodPost, "/api/v1/appointments", body, http.StatusCreated, &out)
	return out.ID
}

// text sends an SMS from phone through the fake gateway's webhook and
// applies it.
func (r *rescheduleApp) text(phone, text string) {
	r.t.Helper()
	ctx := context.Background()
	if _, err := r.Simulator.EmitReceiveSMS(ctx, phone, "+33100000000", text); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.Webhooks.ProcessPending(ctx); err != nil {
		r.t.Fatal(err)
	}
}

// received sends what is due and returns the texts the gateway sent to
// phone since the last call, as the patient reads them.
func (r *rescheduleApp) received(phone string) []string {
	r.t.Helper()
	ctx := context.Background()
	if _, err := r.Dispatcher.RunOnce(ctx); err != nil {
		r.t.Fatal(err)
	}
	sends := r.Simulator.Sends()
	var out []string
	for _, s := range sends[r.sent:] {
		if s.To == phone {
			out = append(out, s.Text)
			r.t.Logf("to %s: %s", phone, s.Text)
		}
	}
	r.sent = len(sends)
	return out
}

// appointment reads one appointment through the API.
func (r *rescheduleApp) appointment(id uint) (status string, start time.Time) {
	r.t.Helper()
	var out struct {
		Status   string    `json:"status"`
		StartsAt time.Time `json:"starts_at"`
	}
	r.call(http.MethodGet, fmt.Sprintf("/api/v1/appointments/%d", id), "", http.StatusOK, &out)
	return out.Status, out.StartsAt
}

// lastInbound is the latest inbound SMS.
func (r *rescheduleApp) lastInbound() models.InboundMessage {
	r.t.Helper()
	var in models.InboundMessage
	if err := r.Store.DB(context.Background()).Order("id DESC").Take(&in).Error; err != nil {
		r.t.Fatal(err)
	}
	return in
}

func expectTexts(t *testing.T, who string, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s received %d texts %q, want %d", who, len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s text %d:\n got  %q\n want %q", who, i+1, got[i], want[i])
		}
	}
}

// The whole loop over HTTP, with the fake SMS.CX gateway: two patients
// ask by SMS for another time, staff offer times through the API, one
// patient takes a time the other then picks (taken meanwhile: an apology
// with fresh times), both end up moved and confirmed; a pick after the
// offer expired goes to the inbox.
func TestRescheduleBySMSWholeLoop(t *testing.T) {
	r := newRescheduleApp(t)
	const anna, ben = "+33612345678", "+33698765432"
	annaID := r.book("Anna Martin", anna, r.at(5, 10, 0))
	benID := r.book("Ben Roy", ben, r.at(5, 11, 0))
	r.received(anna)
	r.received(ben)
	// The reminders go out (the clock moves to three days before).
	r.clock.Set(r.at(3, 11, 5))
	if got := r.received(anna); len(got) != 1 {
		t.Fatalf("Anna's reminder %q", got)
	}
	r.received(ben)

	// The request.
	r.text(anna, "Can I reschedule?")
	if st, _ := r.appointment(annaID); st != string(models.RescheduleRequested) {
		t.Fatalf("Anna's appointment %s after asking", st)
	}
	expectTexts(t, "Anna", r.received(anna),
		"Thanks Anna, we got your request for another time. Main St Clinic will text you some options soon.")
	in := r.lastInbound()
	if !in.NeedsAttention || in.Intent != "reschedule" || in.AppointmentID == nil || *in.AppointmentID != annaID {
		t.Fatalf("inbox item %+v", in)
	}
	var planned int64
	r.Store.DB(context.Background()).Model(&models.Message{}).
		Where("appointment_id = ? AND kind = ? AND status = ?", annaID, models.KindReminder, models.MsgPlanned).Count(&planned)
	if planned != 0 {
		t.Fatalf("%d reminders still planned for Anna", planned)
	}
	r.text(ben, "I can't make it")
	expectTexts(t, "Ben", r.received(ben),
		"Thanks Ben, we got your request for another time. Main St Clinic will text you some options soon.")

	// The offers: the finder's first three for Anna, staff's own for Ben.
	var offer api.Offer
	r.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/offers", annaID), "", http.StatusCreated, &offer)
	if len(offer.StartsAt) != 3 || !offer.StartsAt[0].Equal(r.at(3, 11, 15)) {
		t.Fatalf("Anna's offer %+v", offer)
	}
	expectTexts(t, "Anna", r.received(anna),
		"Hi Anna, here are other times at Main St Clinic. Reply 1 for Tue 11:15 AM, 2 for Tue 11:30 AM, 3 for Tue 11:45 AM.")
	body := fmt.Sprintf(`{"starts_at": [%q, %q]}`, r.at(3, 11, 30).Format(time.RFC3339), r.at(4, 14, 30).Format(time.RFC3339))
	r.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/offers", benID), body, http.StatusCreated, nil)
	expectTexts(t, "Ben", r.received(ben),
		"Hi Ben, here are other times at Main St Clinic. Reply 1 for Tue 11:30 AM, 2 for Wed 2:30 PM.")

	// Ben takes Tuesday 9:30 first.
	r.text(ben, "the first one please")
	if st, start := r.appointment(benID); st != string(models.Confirmed) || !start.Equal(r.at(3, 11, 30)) {
		t.Fatalf("Ben after his pick: %s at %s", st, start)
	}
	expectTexts(t, "Ben", r.received(ben),
		"Thank you Ben, your appointment at Main St Clinic is now today at 11:30 AM. See you then!")

	// Anna picks the same time: taken meanwhile.
	r.text(anna, "2 please")
	if st, start := r.appointment(annaID); st != string(models.RescheduleRequested) || !start.Equal(r.at(5, 10, 0)) {
		t.Fatalf("Anna after picking a taken time: %s at %s", st, start)
	}
	expectTexts(t, "Anna", r.received(anna),
		"Sorry Anna, that time was just taken. Other times at Main St Clinic: reply 1 for Tue 12:00 PM, 2 for Tue 12:15 PM, 3 for Tue 12:30 PM.")
	r.text(anna, "Tuesday 12:15")
	if st, start := r.appointment(annaID); st != string(models.Confirmed) || !start.Equal(r.at(3, 12, 15)) {
		t.Fatalf("Anna after her second pick: %s at %s", st, start)
	}
	expectTexts(t, "Anna", r.received(anna),
		"Thank you Anna, your appointment at Main St Clinic is now today at 12:15 PM. See you then!")
	var timeline struct {
		Data []struct{ Detail string } `json:"data"`
	}
	r.call(http.MethodGet, fmt.Sprintf("/api/v1/appointments/%d/timeline", annaID), "", http.StatusOK, &timeline)
	var all []string
	for _, e := range timeline.Data {
		all = append(all, e.Detail)
	}
	for _, want := range []string{"Another time asked for by patient (sms)", "Offered Tue 3 Mar 11:15 CET", "taken meanwhile", "by patient (picked time 2 of the offer)"} {
		if !strings.Contains(strings.Join(all, "\n"), want) {
			t.Fatalf("Anna's timeline lacks %q:\n%s", want, strings.Join(all, "\n"))
		}
	}

	// Expiry: Ben asks again, is offered a time, and answers too late.
	r.text(ben, "another day please")
	r.received(ben)
	r.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/offers", benID), "", http.StatusCreated, nil)
	if got := r.received(ben); len(got) != 1 {
		t.Fatalf("Ben's second offer %q", got)
	}
	r.clock.Set(r.Clock().Add(25 * time.Hour))
	r.text(ben, "1")
	if st, start := r.appointment(benID); st != string(models.RescheduleRequested) || !start.Equal(r.at(3, 11, 30)) {
		t.Fatalf("Ben after answering an expired offer: %s at %s", st, start)
	}
	expectTexts(t, "Ben", r.received(ben))
	if in := r.lastInbound(); !in.NeedsAttention || in.Intent != "pick" {
		t.Fatalf("late pick %+v", in)
	}
	var why string
	r.Store.DB(context.Background()).Model(&models.Event{}).Where("type = ? AND inbound_id = ?", models.EventReplyNeedsAttention, r.lastInbound().ID).Pluck("detail", &why)
	if why != "picked a time from an offer that has expired" {
		t.Fatalf("inbox reason %q", why)
	}
}

// Clock is the app's clock, for tests that move it.
func (r *rescheduleApp) Clock() time.Time { return r.clock.Now() }

// The numbered question about several appointments keeps working beside an
// open offer: a number answers whichever was asked last.
func TestOfferAndNumberedQuestionTogether(t *testing.T) {
	r := newRescheduleApp(t)
	const cleo = "+33611223344"
	moving := r.book("Cleo Blanc", cleo, r.at(5, 10, 0))
	second := r.book("Cleo Blanc", cleo, r.at(5, 14, 0))
	third := r.book("Cleo Blanc", cleo, r.at(5, 15, 0))
	r.clock.Set(r.at(3, 15, 5))
	if got := r.received(cleo); len(got) != 3 {
		t.Fatalf("reminders %q", got)
	}
	r.text(cleo, "reschedule 1")
	r.received(cleo)
	body := fmt.Sprintf(`{"starts_at": [%q, %q]}`, r.at(4, 9, 0).Format(time.RFC3339), r.at(4, 9, 30).Format(time.RFC3339))
	r.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/offers", moving), body, http.StatusCreated, nil)
	expectTexts(t, "Cleo", r.received(cleo), "Hi Cleo, here are other times at Main St Clinic. Reply 1 for Wed 9:00 AM, 2 for Wed 9:30 AM.")

	// YES is about the two other appointments: the app asks which, and
	// "2" answers the question, not the offer.
	r.text(cleo, "yes")
	if got := r.received(cleo); len(got) != 1 || !strings.HasPrefix(got[0], "You have several appointments with Main St Clinic. Reply 1 for") {
		t.Fatalf("question %q", got)
	}
	r.text(cleo, "2")
	if st, _ := r.appointment(third); st != string(models.Confirmed) {
		t.Fatalf("the third appointment is %s after answering the question", st)
	}
	if st, _ := r.appointment(second); st != string(models.Scheduled) {
		t.Fatalf("the second appointment is %s", st)
	}
	if st, start := r.appointment(moving); st != string(models.RescheduleRequested) || !start.Equal(r.at(5, 10, 0)) {
		t.Fatalf("the appointment waiting for another time is %s at %s", st, start)
	}
	r.received(cleo)
	// Then "2" picks from the offer.
	r.text(cleo, "2")
	if st, start := r.appointment(moving); st != string(models.Confirmed) || !start.Equal(r.at(4, 9, 30)) {
		t.Fatalf("after the pick: %s at %s", st, start)
	}
	expectTexts(t, "Cleo", r.received(cleo), "Thank you Cleo, your appointment at Main St Clinic is now tomorrow at 9:30 AM. See you then!")
}
