package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/app/availability"
	"apptconfirm/app/config"
	"apptconfirm/app/conversation"
	"apptconfirm/app/slots"
	"apptconfirm/app/waitlist"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// waitlistApp is one or more instances of the app (simulator mode, Paris,
// a default location open 09:00-17:00 every day, Dr Kim) on one database,
// with one clock the test moves.
type waitlistApp struct {
	t       *testing.T
	apps    []*App
	clock   *testClock
	token   string
	paris   *time.Location
	kim     uint
	read    []int // per instance, the gateway's sends already read
	patient map[string]uint
}

// newWaitlistApp builds n instances on driver (SQLite: one file; PostgreSQL:
// one schema).
func newWaitlistApp(t *testing.T, driver string, n int, adjust ...func(*config.Config)) *waitlistApp {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	w := &waitlistApp{t: t, clock: &testClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, paris)}, paris: paris, patient: map[string]uint{}}
	cfg := config.Default()
	cfg.Reminders.QuietHours = config.QuietHours{}
	cfg.Reminders.CapPerDay, cfg.Reminders.CapPerWeek = 0, 0
	cfg.Clinic.Name, cfg.Clinic.Timezone, cfg.Clinic.Country = "Main St Clinic", "Europe/Paris", "FR"
	cfg.Database.Driver = driver
	if driver == models.DriverPostgres {
		cfg.Database.DSN = storetest.PostgresDSN(t)
	} else {
		cfg.Database.DSN = filepath.Join(t.TempDir(), "app.db")
	}
	for _, fn := range adjust {
		fn(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for range n {
		a, err := Build(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{HashCost: 10, Now: w.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Close(context.Background()) })
		w.apps = append(w.apps, a)
		w.read = append(w.read, 0)
	}
	ctx := context.Background()
	a := w.apps[0]
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
	if w.token, _, err = api.NewTokens(a.Store, w.clock.Now).Create(ctx, models.SystemActor(), "pms"); err != nil {
		t.Fatal(err)
	}
	var p struct{ ID uint }
	w.call(http.MethodPost, "/api/v1/providers", `{"name": "Dr Kim"}`, http.StatusCreated, &p)
	w.kim = p.ID
	return w
}

func (w *waitlistApp) at(day, hour, minute int) time.Time {
	return time.Date(2026, 3, day, hour, minute, 0, 0, w.paris)
}

func (w *waitlistApp) call(method, path, body string, want int, out any) string {
	w.t.Helper()
	status, got := apiCall(w.t, w.apps[0].Handler(), w.token, method, path, body)
	if status != want {
		w.t.Fatalf("%s %s: %d %s, want %d", method, path, status, got, want)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(got), out); err != nil {
			w.t.Fatal(err)
		}
	}
	return got
}

// addPatient creates a patient through the API.
func (w *waitlistApp) addPatient(name, phone, lang string) uint {
	w.t.Helper()
	var p struct{ ID uint }
	w.call(http.MethodPost, "/api/v1/patients", fmt.Sprintf(`{"name": %q, "phone": %q, "language": %q}`, name, phone, lang), http.StatusCreated, &p)
	w.patient[phone] = p.ID
	return p.ID
}

// book books a 30-minute appointment with Dr Kim for patient id.
func (w *waitlistApp) book(patientID uint, start time.Time) uint {
	w.t.Helper()
	var out struct{ ID uint }
	body := fmt.Sprintf(`{"patient_id": %d, "provider_id": %d, "starts_at": %q, "duration_minutes": 30}`, patientID, w.kim, start.Format(time.RFC3339))
	w.call(http.MethodPost, "/api/v1/appointments", body, http.StatusCreated, &out)
	return out.ID
}

// wait puts patient id on the waitlist for Dr Kim.
func (w *waitlistApp) wait(patientID uint) uint {
	w.t.Helper()
	var out struct{ ID uint }
	w.call(http.MethodPost, "/api/v1/waitlist", fmt.Sprintf(`{"patient_id": %d, "provider_id": %d}`, patientID, w.kim), http.StatusCreated, &out)
	return out.ID
}

// runJob runs the waitlist job once, as the cron registry would.
func (w *waitlistApp) runJob() {
	w.t.Helper()
	if err := w.apps[0].Jobs.RunOnce(context.Background(), JobWaitlist); err != nil {
		w.t.Fatal(err)
	}
}

// text sends an SMS from phone to instance i's webhook and applies it.
func (w *waitlistApp) text(i int, phone, text string) {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.apps[i].Simulator.EmitReceiveSMS(ctx, phone, "+33100000000", text); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.apps[i].Webhooks.ProcessPending(ctx); err != nil {
		w.t.Fatal(err)
	}
}

// inbox sends what is due from every instance and returns the texts sent
// since the last call, by number, as the patients read them.
func (w *waitlistApp) inbox() map[string][]string {
	w.t.Helper()
	out := map[string][]string{}
	for i, a := range w.apps {
		if _, err := a.Dispatcher.RunOnce(context.Background()); err != nil {
			w.t.Fatal(err)
		}
		sends := a.Simulator.Sends()
		for _, s := range sends[w.read[i]:] {
			out[s.To] = append(out[s.To], s.Text)
			w.t.Logf("to %s: %s", s.To, s.Text)
		}
		w.read[i] = len(sends)
	}
	return out
}

// appointmentsOf lists a patient's appointments through the API.
func (w *waitlistApp) appointmentsOf(patientID uint) []struct {
	ID       uint      `json:"id"`
	Status   string    `json:"status"`
	StartsAt time.Time `json:"starts_at"`
} {
	w.t.Helper()
	var page struct {
		Data []struct {
			ID       uint      `json:"id"`
			Status   string    `json:"status"`
			StartsAt time.Time `json:"starts_at"`
			Patient  struct {
				ID uint `json:"id"`
			} `json:"patient"`
		} `json:"data"`
	}
	w.call(http.MethodGet, "/api/v1/appointments?from=2026-03-01&to=2026-04-01&per_page=100", "", http.StatusOK, &page)
	var out []struct {
		ID       uint      `json:"id"`
		Status   string    `json:"status"`
		StartsAt time.Time `json:"starts_at"`
	}
	for _, a := range page.Data {
		if a.Patient.ID == patientID && a.Status != string(models.Cancelled) {
			out = append(out, struct {
				ID       uint      `json:"id"`
				Status   string    `json:"status"`
				StartsAt time.Time `json:"starts_at"`
			}{a.ID, a.Status, a.StartsAt})
		}
	}
	return out
}

// waitlistStatus reads a patient's entries' statuses through the API.
func (w *waitlistApp) waitlistStatus(patientID uint) string {
	w.t.Helper()
	var page struct {
		Data []api.WaitlistEntry `json:"data"`
	}
	var st []string
	for _, s := range []string{"active", "booked", "removed"} {
		w.call(http.MethodGet, fmt.Sprintf("/api/v1/waitlist?patient_id=%d&status=%s", patientID, s), "", http.StatusOK, &page)
		for range page.Data {
			st = append(st, s)
		}
	}
	return strings.Join(st, ",")
}

func (w *waitlistApp) timeline(id uint) string {
	w.t.Helper()
	return w.call(http.MethodGet, fmt.Sprintf("/api/v1/appointments/%d/timeline", id), "", http.StatusOK, nil)
}

const (
	annaPhone = "+33612345678"
	benPhone  = "+33612345671"
	cleoPhone = "+33612345672"
	danPhone  = "+33612345673"
	evePhone  = "+33612345674"
)

// seedWaitlist books Anna on Thursday 5 March 10:00 with Dr Kim and puts
// Ben (en), Cleo (en), Dan (fr) and Eve (de) on Dr Kim's waitlist, in that
// order. It returns Anna's appointment.
func (w *waitlistApp) seedWaitlist() uint {
	w.t.Helper()
	anna := w.addPatient("Anna Martin", annaPhone, "en")
	appt := w.book(anna, w.at(5, 10, 0))
	for _, p := range []struct{ name, phone, lang string }{
		{"Ben Roy", benPhone, "en"}, {"Cleo Diaz", cleoPhone, "en"}, {"Dan Petit", danPhone, "fr"}, {"Eve Braun", evePhone, "de"},
	} {
		w.wait(w.addPatient(p.name, p.phone, p.lang))
		w.clock.Set(w.clock.Now().Add(time.Minute)) // oldest first is by creation
	}
	w.inbox()
	return appt
}

// The loop over HTTP with the fake gateway: a cancellation by the API
// frees Thursday 10:00; the job offers it to the three oldest matching
// entries, each in their language; Cleo's YES books it (one appointment,
// off the list); Ben's later YES gets the apology and he stays on the
// list; Eve (fourth) was never asked; the freed appointment's timeline
// and the dashboard's "slots refilled" show it.
func TestWaitlistOfferFirstYesWinsLaterYesStays(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1)
	appt := w.seedWaitlist()
	w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", appt), `{"reason": "travelling"}`, http.StatusOK, nil)
	w.runJob()
	got := w.inbox()
	expectTexts(t, "Ben", got[benPhone], "Main St Clinic: a 10:00 AM slot on Thursday, March 5 with Dr Kim has opened. Reply YES to take it.")
	expectTexts(t, "Cleo", got[cleoPhone], "Main St Clinic: a 10:00 AM slot on Thursday, March 5 with Dr Kim has opened. Reply YES to take it.")
	expectTexts(t, "Dan", got[danPhone], "Main St Clinic : un créneau le jeudi 5 mars à 10:00 avec Dr Kim vient de se libérer. Répondez OUI pour le prendre.")
	expectTexts(t, "Eve", got[evePhone])

	// Running the job again sends nothing more while the offers are open.
	w.runJob()
	if got := w.inbox(); len(got) != 0 {
		t.Fatalf("second run sent %q", got)
	}

	w.clock.Set(w.clock.Now().Add(5 * time.Minute))
	w.text(0, cleoPhone, "yes")
	got = w.inbox()
	expectTexts(t, "Cleo", got[cleoPhone], "Thank you Cleo, the slot is yours: Main St Clinic on Thursday, March 5 at 10:00 AM with Dr Kim. See you then!")
	cleo := w.appointmentsOf(w.patient[cleoPhone])
	if len(cleo) != 1 || !cleo[0].StartsAt.Equal(w.at(5, 10, 0)) {
		t.Fatalf("Cleo's appointments %+v", cleo)
	}
	if st := w.waitlistStatus(w.patient[cleoPhone]); st != "booked" {
		t.Fatalf("Cleo's entry %s", st)
	}

	w.text(0, benPhone, "YES")
	got = w.inbox()
	expectTexts(t, "Ben", got[benPhone], "Sorry Ben, that slot has been taken. You stay on the Main St Clinic waitlist and we will text you when another opens.")
	if n := len(w.appointmentsOf(w.patient[benPhone])); n != 0 {
		t.Fatalf("Ben has %d appointments", n)
	}
	if st := w.waitlistStatus(w.patient[benPhone]); st != "active" {
		t.Fatalf("Ben's entry %s", st)
	}
	tl := w.timeline(appt)
	for _, want := range []string{
		"Freed time offered to Ben Roy", "Freed time offered to Cleo Diaz", "Freed time offered to Dan Petit",
		"Cleo Diaz took the freed time", "Ben Roy answered YES to the waitlist offer too late",
	} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl)
		}
	}
	n, err := w.apps[0].Waitlist.Refilled(context.Background(), w.at(1, 0, 0), w.at(10, 0, 0), 0)
	if err != nil || n != 1 {
		t.Fatalf("refilled %d, %v", n, err)
	}
}

// Nobody answers: after waitlist.offer_ttl the offers expire and the next
// batch (Eve, in German) is asked; her YES books it; Ben's YES after his
// offer expired books nothing.
func TestWaitlistExpiryThenNextBatch(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1)
	appt := w.seedWaitlist()
	// Anna cancels by SMS: the path a patient takes.
	w.clock.Set(w.at(3, 10, 5)) // her 48 h reminder is out
	w.inbox()
	w.text(0, annaPhone, "NO")
	if got := w.inbox(); len(got[annaPhone]) != 1 {
		t.Fatalf("Anna got %q", got[annaPhone])
	}
	w.runJob()
	if got := w.inbox(); len(got[benPhone]) != 1 || len(got[evePhone]) != 0 {
		t.Fatalf("first batch %q", got)
	}
	w.clock.Set(w.clock.Now().Add(29 * time.Minute))
	w.runJob()
	if got := w.inbox(); len(got) != 0 {
		t.Fatalf("before the ttl: %q", got)
	}
	w.clock.Set(w.clock.Now().Add(2 * time.Minute))
	w.runJob()
	got := w.inbox()
	expectTexts(t, "Eve", got[evePhone], "Main St Clinic: Ein Termin am Donnerstag, 5. März um 10:00 Uhr bei Dr Kim ist frei geworden. Antworten Sie JA, um ihn zu buchen.")
	expectTexts(t, "Ben", got[benPhone])
	w.text(0, benPhone, "YES")
	if n := len(w.appointmentsOf(w.patient[benPhone])); n != 0 {
		t.Fatalf("Ben's expired offer booked %d", n)
	}
	w.inbox()
	w.text(0, evePhone, "Ja")
	got = w.inbox()
	expectTexts(t, "Eve", got[evePhone], "Danke Eve, der Termin gehört Ihnen: Main St Clinic am Donnerstag, 5. März um 10:00 Uhr bei Dr Kim. Bis bald!")
	if n := len(w.appointmentsOf(w.patient[evePhone])); n != 1 {
		t.Fatalf("Eve has %d appointments", n)
	}
	if tl := w.timeline(appt); !strings.Contains(tl, "expired unanswered (batch 1)") || !strings.Contains(tl, "(batch 2)") {
		t.Fatalf("timeline:\n%s", tl)
	}
}

// A waitlisted patient who already holds a later appointment with Dr Kim
// is moved to the freed time, not booked twice; a time freed less than
// waitlist.min_notice ahead is not offered.
func TestWaitlistMovesLaterAppointment(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1)
	anna := w.addPatient("Anna Martin", annaPhone, "en")
	ben := w.addPatient("Ben Roy", benPhone, "en")
	freed := w.book(anna, w.at(5, 10, 0))
	later := w.book(ben, w.at(9, 15, 0))
	soon := w.book(anna, w.at(2, 10, 30))
	w.wait(ben)
	w.inbox()

	w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", soon), `{}`, http.StatusOK, nil)
	w.runJob()
	if got := w.inbox(); len(got[benPhone]) != 0 {
		t.Fatalf("a time 2.5 h ahead was offered: %q", got[benPhone])
	}

	// Staff move Anna's appointment away (PATCH): Thursday 10:00 is freed.
	w.call(http.MethodPatch, fmt.Sprintf("/api/v1/appointments/%d", freed), fmt.Sprintf(`{"starts_at": %q}`, w.at(6, 11, 0).Format(time.RFC3339)), http.StatusOK, nil)
	w.runJob()
	expectTexts(t, "Ben", w.inbox()[benPhone], "Main St Clinic: a 10:00 AM slot on Thursday, March 5 with Dr Kim has opened. Reply YES to take it.")
	w.text(0, benPhone, "Yes")
	expectTexts(t, "Ben", w.inbox()[benPhone], "Thank you Ben, the slot is yours: Main St Clinic on Thursday, March 5 at 10:00 AM with Dr Kim. See you then!")
	as := w.appointmentsOf(ben)
	if len(as) != 1 || as[0].ID != later || !as[0].StartsAt.Equal(w.at(5, 10, 0)) {
		t.Fatalf("Ben's appointments %+v, want appointment %d moved to Thursday 10:00", as, later)
	}
}

// Validation names the fields; removal takes an entry off the list.
func TestWaitlistAPIValidation(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1)
	ben := w.addPatient("Ben Roy", benPhone, "en")
	body := w.call(http.MethodPost, "/api/v1/waitlist", `{"patient_id": 999, "days": ["funday"], "from": "25:00", "until": "08:00", "provider_id": 77}`, http.StatusUnprocessableEntity, nil)
	for _, f := range []string{"patient_id", "days", "from", "provider_id"} {
		if !strings.Contains(body, f) {
			t.Errorf("error lacks %s: %s", f, body)
		}
	}
	body = w.call(http.MethodPost, "/api/v1/waitlist", fmt.Sprintf(`{"patient_id": %d, "from": "12:00", "until": "09:00"}`, ben), http.StatusUnprocessableEntity, nil)
	if !strings.Contains(body, `"field":"until"`) {
		t.Errorf("until after from: %s", body)
	}
	var e api.WaitlistEntry
	w.call(http.MethodPost, "/api/v1/waitlist", fmt.Sprintf(`{"patient_id": %d, "days": ["TUE", "mon"], "from": "9:00", "until": "12:30"}`, ben), http.StatusCreated, &e)
	if strings.Join(e.Days, " ") != "mon tue" || e.From != "09:00" || e.Until != "12:30" || e.Status != "active" {
		t.Fatalf("entry %+v", e)
	}
	body = w.call(http.MethodPost, "/api/v1/waitlist", fmt.Sprintf(`{"patient_id": %d}`, ben), http.StatusUnprocessableEntity, nil)
	if !strings.Contains(body, "already on the waitlist") {
		t.Errorf("duplicate: %s", body)
	}
	w.call(http.MethodDelete, fmt.Sprintf("/api/v1/waitlist/%d", e.ID), "", http.StatusOK, &e)
	if e.Status != "removed" {
		t.Fatalf("removed %+v", e)
	}
	w.call(http.MethodDelete, fmt.Sprintf("/api/v1/waitlist/%d", e.ID), "", http.StatusUnprocessableEntity, nil)
	w.call(http.MethodGet, "/api/v1/waitlist/9999", "", http.StatusNotFound, nil)
}

// raceYes has Ben, Cleo and Dan answer YES to the same offer at once,
// spread over the instances and applied concurrently, and checks exactly
// one booking, two apologies, and the losers still on the list.
func raceYes(t *testing.T, w *waitlistApp) {
	t.Helper()
	appt := w.seedWaitlist()
	w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", appt), `{}`, http.StatusOK, nil)
	w.runJob()
	w.inbox()
	ctx := context.Background()
	phones := []string{benPhone, cleoPhone, danPhone}
	for i, p := range phones {
		a := w.apps[i%len(w.apps)]
		if _, err := a.Simulator.EmitReceiveSMS(ctx, p, "+33100000000", "YES"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	start := make(chan struct{})
	for i := range 6 {
		a := w.apps[i%len(w.apps)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := a.Webhooks.ProcessPending(ctx); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, a := range w.apps {
		if _, err := a.Webhooks.ProcessPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := w.inbox()
	won, lost := 0, 0
	for _, p := range phones {
		as := w.appointmentsOf(w.patient[p])
		switch {
		case len(got[p]) == 1 && strings.HasPrefix(got[p][0], "Thank you") || strings.HasPrefix(strings.Join(got[p], ""), "Merci"):
			won++
			if len(as) != 1 || w.waitlistStatus(w.patient[p]) != "booked" {
				t.Errorf("winner %s: %d appointments, entry %s", p, len(as), w.waitlistStatus(w.patient[p]))
			}
		case len(got[p]) == 1 && (strings.HasPrefix(got[p][0], "Sorry") || strings.HasPrefix(got[p][0], "Désolés")):
			lost++
			if len(as) != 0 || w.waitlistStatus(w.patient[p]) != "active" {
				t.Errorf("loser %s: %d appointments, entry %s", p, len(as), w.waitlistStatus(w.patient[p]))
			}
		default:
			t.Errorf("%s received %q", p, got[p])
		}
	}
	if won != 1 || lost != 2 {
		t.Fatalf("%d won, %d lost", won, lost)
	}
	var booked int64
	if err := w.apps[0].Store.DB(ctx).Model(&models.Appointment{}).
		Where("starts_at = ? AND status <> ?", w.at(5, 10, 0).UTC(), models.Cancelled).Count(&booked).Error; err != nil {
		t.Fatal(err)
	}
	if booked != 1 {
		t.Fatalf("%d appointments hold Thursday 10:00", booked)
	}
}

// Three YES at once on SQLite (goroutines applying them together).
func TestWaitlistRaceSQLite(t *testing.T) {
	raceYes(t, newWaitlistApp(t, models.DriverSQLite, 1))
}

// Three YES at once on two instances sharing one PostgreSQL database.
func TestWaitlistRacePostgresTwoInstances(t *testing.T) {
	raceYes(t, newWaitlistApp(t, models.DriverPostgres, 2))
}

// Quiet hours and opt-outs: a time freed at 22:00 is offered when quiet
// hours end at 08:00, not before, and a waitlisted patient who texted
// STOP is never asked.
func TestWaitlistQuietHoursAndOptOut(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1)
	ctx := context.Background()
	loc, err := w.apps[0].Store.DefaultLocation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.call(http.MethodPatch, fmt.Sprintf("/api/v1/locations/%d", loc.ID), `{"quiet_start": "21:00", "quiet_end": "08:00"}`, http.StatusOK, nil)
	appt := w.seedWaitlist()
	w.text(0, benPhone, "STOP")
	w.inbox()
	w.clock.Set(w.at(2, 22, 0))
	w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", appt), `{}`, http.StatusOK, nil)
	w.runJob()
	if got := w.inbox(); len(got[cleoPhone]) != 0 || len(got[benPhone]) != 0 {
		t.Fatalf("texted in quiet hours: %q", got)
	}
	if tl := w.timeline(appt); !strings.Contains(tl, "wait for the end of quiet hours") {
		t.Fatalf("timeline:\n%s", tl)
	}
	w.clock.Set(w.at(3, 7, 59))
	w.runJob()
	if got := w.inbox(); len(got) != 0 {
		t.Fatalf("texted at 07:59: %q", got)
	}
	w.clock.Set(w.at(3, 8, 0))
	w.runJob()
	got := w.inbox()
	expectTexts(t, "Ben (opted out)", got[benPhone])
	expectTexts(t, "Cleo", got[cleoPhone], "Main St Clinic: a 10:00 AM slot on Thursday, March 5 with Dr Kim has opened. Reply YES to take it.")
	expectTexts(t, "Eve", got[evePhone], "Main St Clinic: Ein Termin am Donnerstag, 5. März um 10:00 Uhr bei Dr Kim ist frei geworden. Antworten Sie JA, um ihn zu buchen.")
	if len(got[danPhone]) != 1 {
		t.Fatalf("Dan got %q", got[danPhone])
	}
}

// A cancelled appointment restored by staff holds its time again: the
// offers stop, and a YES to one gets the apology, not a double booking.
func TestWaitlistRestoredAppointmentTakesItsTimeBack(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1)
	appt := w.seedWaitlist()
	w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", appt), `{}`, http.StatusOK, nil)
	w.runJob()
	w.inbox()
	if _, err := w.apps[0].Clinic.Restore(context.Background(), models.SystemActor(), appt); err != nil {
		t.Fatal(err)
	}
	w.text(0, benPhone, "YES")
	expectTexts(t, "Ben", w.inbox()[benPhone], "Sorry Ben, that slot has been taken. You stay on the Main St Clinic waitlist and we will text you when another opens.")
	if n := len(w.appointmentsOf(w.patient[benPhone])); n != 0 {
		t.Fatalf("Ben booked %d", n)
	}
	if tl := w.timeline(appt); !strings.Contains(tl, "no longer offered (the appointment was restored)") {
		t.Fatalf("timeline:\n%s", tl)
	}
}

// Every waitlist text in every language, through the fake gateway, read as
// the patients read them: seven patients, one per language, are offered
// one freed time after another; each round one of them takes it and the
// others are told it has gone.
func TestWaitlistTextsInEveryLanguage(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1, func(c *config.Config) { c.Waitlist.Batch = 7 })
	langs := []string{"en", "fr", "es", "de", "nl", "pt", "it"}
	names := []string{"Ann", "Bea", "Carla", "Dora", "Eva", "Flor", "Gina"}
	anna := w.addPatient("Anna Martin", annaPhone, "en")
	phones := make([]string, len(langs))
	for i, l := range langs {
		phones[i] = fmt.Sprintf("+3361234560%d", i)
		w.wait(w.addPatient(names[i]+" Test", phones[i], l))
		w.clock.Set(w.clock.Now().Add(time.Minute))
	}
	// The confirmation each patient reads, the day moving on each round.
	booked := map[string]string{
		"en": "Thank you Ann, the slot is yours: Main St Clinic on Tuesday, March 10 at 10:00 AM with Dr Kim. See you then!",
		"fr": "Merci Bea, le créneau est à vous : Main St Clinic le mercredi 11 mars à 10:00 avec Dr Kim. Nous vous attendons.",
		"es": "Gracias Carla, la hora es suya: Main St Clinic el jueves 12 de marzo a las 10:00 con Dr Kim. Le esperamos.",
		"de": "Danke Dora, der Termin gehört Ihnen: Main St Clinic am Freitag, 13. März um 10:00 Uhr bei Dr Kim. Bis bald!",
		"nl": "Bedankt Eva, de plek is voor u: Main St Clinic op zaterdag 14 maart om 10:00 bij Dr Kim. Tot dan!",
		"pt": "Main St Clinic: obrigado Flor, a hora é sua: no domingo, 15 de março às 10:00 com Dr Kim. Até breve!",
		"it": "Grazie Gina, il posto è suo: Main St Clinic lunedì 16 marzo alle 10:00 con Dr Kim. A presto!",
	}
	seen := map[string]bool{}
	for round, l := range langs {
		appt := w.book(anna, w.at(10+round, 10, 0))
		w.inbox()
		w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", appt), `{}`, http.StatusOK, nil)
		w.runJob()
		got := w.inbox()
		for i := round; i < len(langs); i++ {
			if len(got[phones[i]]) != 1 {
				t.Fatalf("round %d: %s got %q", round, langs[i], got[phones[i]])
			}
			seen["offer/"+langs[i]+"/"+got[phones[i]][0]] = true
		}
		w.text(0, phones[round], map[string]string{"en": "Yes", "fr": "Oui", "es": "Sí", "de": "Ja", "nl": "Ja", "pt": "Sim", "it": "Sì"}[l])
		got = w.inbox()
		expectTexts(t, l, got[phones[round]], booked[l])
		seen["booked/"+l+"/"+got[phones[round]][0]] = true
		for i := round + 1; i < len(langs); i++ {
			w.text(0, phones[i], "YES")
		}
		got = w.inbox()
		for i := round + 1; i < len(langs); i++ {
			if len(got[phones[i]]) != 1 {
				t.Fatalf("round %d: %s got %q", round, langs[i], got[phones[i]])
			}
			seen["taken/"+langs[i]+"/"+got[phones[i]][0]] = true
		}
		w.clock.Set(w.clock.Now().Add(time.Hour))
	}
	// Each language read its offer and, but for the first winner, the
	// apology; the keyword asked for is one the reply parser reads.
	keyword := map[string]string{"en": "YES", "fr": "OUI", "es": "SI", "de": "JA", "nl": "JA", "pt": "SIM", "it": "SI"}
	for _, l := range langs {
		offer, taken := false, l == "en"
		for k := range seen {
			offer = offer || (strings.HasPrefix(k, "offer/"+l+"/") && (strings.Contains(k, " "+keyword[l]+" ") || strings.Contains(k, " "+keyword[l]+",")) && strings.Contains(k, "Dr Kim"))
			taken = taken || (strings.HasPrefix(k, "taken/"+l+"/") && strings.Contains(k, "Main St Clinic"))
		}
		if !offer || !taken {
			t.Errorf("%s: offer read %v, apology read %v", l, offer, taken)
		}
	}
}

// A bare YES answers the newest question: Ben holds a live offer sent at
// 09:00, then at 14:00 his reminder for Thursday 14:00 asks him to
// confirm; his YES confirms Thursday and leaves the offer alone.
func TestWaitlistYesAfterNewerReminderConfirms(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1, func(c *config.Config) { c.Waitlist.OfferTTL = config.Duration{Duration: 12 * time.Hour} })
	anna := w.addPatient("Anna Martin", annaPhone, "en")
	ben := w.addPatient("Ben Roy", benPhone, "en")
	freed := w.book(anna, w.at(5, 10, 0))
	thu := w.book(ben, w.at(5, 14, 0))
	w.wait(ben)
	w.inbox()
	w.clock.Set(w.at(3, 9, 0))
	w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", freed), `{}`, http.StatusOK, nil)
	w.runJob()
	expectTexts(t, "Ben", w.inbox()[benPhone], "Main St Clinic: a 10:00 AM slot on Thursday, March 5 with Dr Kim has opened. Reply YES to take it.")
	w.clock.Set(w.at(3, 14, 5))
	if got := w.inbox()[benPhone]; len(got) != 1 || !strings.Contains(got[0], "YES") {
		t.Fatalf("Ben's reminder %q", got)
	}
	w.text(0, benPhone, "YES")
	w.inbox()
	as := w.appointmentsOf(ben)
	if len(as) != 1 || as[0].ID != thu || !as[0].StartsAt.Equal(w.at(5, 14, 0)) || as[0].Status != string(models.Confirmed) {
		t.Fatalf("Ben's appointments %+v, want %d confirmed at Thursday 14:00", as, thu)
	}
	if st := w.waitlistStatus(ben); st != "active" {
		t.Fatalf("Ben's entry %s", st)
	}
}

// A cancelled appointment whose time was already booked from the waitlist
// cannot be restored: the error names status and the booking, and nothing
// changes.
func TestWaitlistRestoreRefusedWhenTimeTaken(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1)
	appt := w.seedWaitlist()
	w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", appt), `{}`, http.StatusOK, nil)
	w.runJob()
	w.inbox()
	w.text(0, cleoPhone, "YES")
	w.inbox()
	cleo := w.appointmentsOf(w.patient[cleoPhone])
	if len(cleo) != 1 {
		t.Fatalf("Cleo's appointments %+v", cleo)
	}
	_, err := w.apps[0].Clinic.Restore(context.Background(), models.SystemActor(), appt)
	fe, ok := models.AsFieldErrors(err)
	want := fmt.Sprintf("its time was given to appointment %d from the waitlist", cleo[0].ID)
	if !ok || fe["status"] != want {
		t.Fatalf("restore: %v, want status %q", err, want)
	}
	if n := len(w.appointmentsOf(w.patient[annaPhone])); n != 0 {
		t.Fatalf("Anna has %d active appointments after a refused restore", n)
	}
}

// A removed entry's offers cannot book: the removal expires them, so Ben's
// YES books nothing, and an offer read just before the removal (a YES
// racing it) is answered too late.
func TestWaitlistRemovedEntryCannotTakeOffer(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1)
	appt := w.seedWaitlist()
	w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", appt), `{}`, http.StatusOK, nil)
	w.runJob()
	w.inbox()
	ctx := context.Background()
	ben, cleo := w.patient[benPhone], w.patient[cleoPhone]
	stale, err := w.apps[0].Waitlist.LiveOffer(ctx, []uint{cleo})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []uint{ben, cleo} {
		offers, err := w.apps[0].Store.WaitlistOffers(ctx, models.WaitlistOfferFilter{PatientID: p})
		if err != nil || len(offers) != 1 {
			t.Fatalf("offers of %d: %v, %v", p, offers, err)
		}
		w.call(http.MethodDelete, fmt.Sprintf("/api/v1/waitlist/%d", offers[0].WaitlistEntryID), "", http.StatusOK, nil)
	}
	w.text(0, benPhone, "YES")
	w.inbox()
	out, err := w.apps[0].Waitlist.Take(ctx, stale)
	if err != nil || out.Booked || !strings.Contains(out.Why, "no longer on the waitlist") {
		t.Fatalf("stale take: %+v, %v", out, err)
	}
	for _, p := range []uint{ben, cleo} {
		if n := len(w.appointmentsOf(p)); n != 0 {
			t.Fatalf("patient %d booked %d after removal", p, n)
		}
		offers, _ := w.apps[0].Store.WaitlistOffers(ctx, models.WaitlistOfferFilter{PatientID: p})
		if offers[0].Status == models.WaitlistOffered || offers[0].Status == models.WaitlistTaken {
			t.Fatalf("offer of removed entry is %s", offers[0].Status)
		}
	}
}

// A patient booked elsewhere at the freed time since the offer went out
// gets the apology for a YES, not a second appointment at the same time.
func TestWaitlistTakeChecksPatientOverlap(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1)
	appt := w.seedWaitlist()
	w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", appt), `{}`, http.StatusOK, nil)
	w.runJob()
	w.inbox()
	var lee struct{ ID uint }
	w.call(http.MethodPost, "/api/v1/providers", `{"name": "Dr Lee"}`, http.StatusCreated, &lee)
	ben := w.patient[benPhone]
	body := fmt.Sprintf(`{"patient_id": %d, "provider_id": %d, "starts_at": %q, "duration_minutes": 30}`, ben, lee.ID, w.at(5, 10, 15).Format(time.RFC3339))
	w.call(http.MethodPost, "/api/v1/appointments", body, http.StatusCreated, nil)
	w.inbox()
	w.text(0, benPhone, "YES")
	expectTexts(t, "Ben", w.inbox()[benPhone], "Sorry Ben, that slot has been taken. You stay on the Main St Clinic waitlist and we will text you when another opens.")
	as := w.appointmentsOf(ben)
	if len(as) != 1 || !as[0].StartsAt.Equal(w.at(5, 10, 15)) {
		t.Fatalf("Ben's appointments %+v", as)
	}
	if tl := w.timeline(appt); !strings.Contains(tl, "busy at that time") {
		t.Fatalf("timeline:\n%s", tl)
	}
}

// expiringWaitlist expires the offer just before the real Take runs, as
// the waitlist job would in the instant between reading it and answering
// it.
type expiringWaitlist struct {
	*waitlist.Service
	store *models.Store
	now   func() time.Time
}

func (e expiringWaitlist) Take(ctx context.Context, o *models.WaitlistOffer) (waitlist.Outcome, error) {
	if _, err := e.store.ExpireWaitlistOffersOfEntry(ctx, o.WaitlistEntryID, e.now()); err != nil {
		return waitlist.Outcome{}, err
	}
	return e.Service.Take(ctx, o)
}

// A YES whose offer expired under it is not dropped as "already
// answered": it goes the usual way and confirms Ben's own appointment.
func TestWaitlistYesOnOfferExpiredMeanwhileConfirms(t *testing.T) {
	w := newWaitlistApp(t, models.DriverSQLite, 1)
	anna := w.addPatient("Anna Martin", annaPhone, "en")
	ben := w.addPatient("Ben Roy", benPhone, "en")
	freed := w.book(anna, w.at(5, 10, 0))
	thu := w.book(ben, w.at(5, 14, 0))
	w.wait(ben)
	w.clock.Set(w.at(3, 14, 5))
	w.inbox() // Ben's reminder
	w.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/cancel", freed), `{}`, http.StatusOK, nil)
	w.runJob()
	if got := w.inbox()[benPhone]; len(got) != 1 {
		t.Fatalf("Ben's offer %q", got)
	}
	a := w.apps[0]
	conv := conversation.New(a.Store, a.Clinic, a.Outbox, a.Reschedule, expiringWaitlist{a.Waitlist, a.Store, w.clock.Now}, w.clock.Now)
	raw := fmt.Sprintf(`{"msgId": "in-1", "from": %q, "to": "+33100000000", "text": "YES"}`, benPhone)
	var res webhook.Result
	err := a.Store.Tx(context.Background(), func(ctx context.Context) error {
		var err error
		res, err = conv.Apply(ctx, "", []byte(raw))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	as := w.appointmentsOf(ben)
	if len(as) != 1 || as[0].ID != thu || as[0].Status != string(models.Confirmed) {
		t.Fatalf("result %q; Ben's appointments %+v, want %d confirmed", res.Text, as, thu)
	}
}
