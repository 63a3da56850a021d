package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/app/live"
	"apptconfirm/models"
)

// A change made through the REST API reaches a browser's open event
// stream, as a change made on a page does: both are domain events of the
// committed transaction.
func TestAPIChangeReachesOpenStream(t *testing.T) {
	a := serveTestApp(t, config.Default())
	ctx := context.Background()
	if _, err := a.Clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{
		Email: "desk@example.com", Name: "Desk", Role: "staff", Password: "password123",
	}); err != nil {
		t.Fatal(err)
	}
	p, err := a.Clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Ada", Phone: "+12025550143"}, "US")
	if err != nil {
		t.Fatal(err)
	}
	appt, err := a.Clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{
		PatientID: p.ID, StartsAt: time.Now().Add(72 * time.Hour), DurationMinutes: 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := api.NewTokens(a.Store, nil).Create(ctx, models.SystemActor(), "crm")
	if err != nil {
		t.Fatal(err)
	}

	b := a.login(t, "desk@example.com", "password123")
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, a.URL+"/events", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: %d", resp.StatusCode)
	}
	events := make(chan live.Event, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var e live.Event
				if json.Unmarshal([]byte(data), &e) == nil {
					events <- e
				}
			}
		}
	}()
	waitSubscribed(t, a)

	cancelReq, _ := http.NewRequest(http.MethodPost, a.URL+"/api/v1/appointments/"+itoa(appt.ID)+"/cancel",
		strings.NewReader(`{"reason":"the patient phoned"}`))
	cancelReq.Header.Set("Authorization", "Bearer "+tok)
	cancelReq.Header.Set("Content-Type", "application/json")
	cr, err := http.DefaultClient.Do(cancelReq)
	if err != nil {
		t.Fatal(err)
	}
	cr.Body.Close()
	if cr.StatusCode != http.StatusOK {
		t.Fatalf("API cancel: %d", cr.StatusCode)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == "appointment" && e.AppointmentID == appt.ID && e.Status == string(models.Cancelled) {
				return
			}
		case <-deadline:
			t.Fatal("the stream never showed the cancellation made through the API")
		}
	}
}

// waitSubscribed waits until the app's hub has a subscriber (the stream is
// open on the server's side).
func waitSubscribed(t *testing.T, a *servedApp) {
	t.Helper()
	hub, ok := a.Live.(*live.Hub)
	if !ok {
		t.Fatalf("the live broadcaster is a %T, not the in-process hub", a.Live)
	}
	eventually(t, "the stream to subscribe", func() bool { return hub.Subscribers() > 0 })
}
