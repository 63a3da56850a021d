package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/live"
	"apptconfirm/models"
)

// Staff changes reach the browsers watching, as webhook changes do: another
// desk's dashboard sees a cancellation without a reload.
func TestStaffChangesAreAnnounced(t *testing.T) {
	a := newTestApp(t)
	a.addLocation("Main St", "UTC", "US")
	p := a.addPatient("Ada", "Lovelace", "+12025550143")
	appt, err := a.clinic.CreateAppointment(context.Background(), models.SystemActor(),
		clinic.AppointmentInput{PatientID: p.ID, StartsAt: a.now.Add(48 * time.Hour), DurationMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := a.live.Subscribe(ctx)
	b := a.loggedIn("desk@example.com", models.RoleStaff)

	for _, step := range []struct {
		path string
		want models.AppointmentStatus
	}{
		{fmt.Sprintf("/appointments/%d/confirm", appt.ID), models.Confirmed},
		{fmt.Sprintf("/appointments/%d/cancel", appt.ID), models.Cancelled},
		{fmt.Sprintf("/appointments/%d/restore", appt.ID), models.Scheduled},
	} {
		resp, body := b.post(step.path, url.Values{"reason": {"phoned"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d %s", step.path, resp.StatusCode, excerpt(body))
		}
		select {
		case e := <-events:
			want := live.Event{Kind: "appointment", AppointmentID: appt.ID, PatientID: p.ID, Status: string(step.want)}
			e.At = time.Time{}
			if e != want {
				t.Fatalf("after POST %s: event %+v, want %+v", step.path, e, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("POST %s published nothing", step.path)
		}
	}
	// A refused change announces nothing.
	resp, _ := b.post(fmt.Sprintf("/appointments/%d/no-show", appt.ID), nil)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("no-show before the start: %d, want 422", resp.StatusCode)
	}
	select {
	case e := <-events:
		t.Fatalf("a refused change published %+v", e)
	default:
	}
}
