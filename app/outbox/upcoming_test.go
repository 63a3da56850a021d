package outbox_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestUpcoming(t *testing.T) {
	e := newEnv(t, defaultOptions())
	p := e.patient(t, "Ada", "+33612345678")
	a := e.book(t, p.ID, "2026-03-03T10:00") // 48h is past; 2h tomorrow 08:00
	e.book(t, p.ID, "2026-03-10T10:00")      // nothing within 24 h
	got, err := e.ob.Upcoming(context.Background(), 24*time.Hour, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d upcoming, want 1: %+v", len(got), got)
	}
	u := got[0]
	if *u.Message.AppointmentID != a.ID || u.Zone != "Europe/Paris" || u.Patient == nil || u.Problem != "" {
		t.Fatalf("upcoming %+v", u)
	}
	if !strings.Contains(u.Preview.Text, "Hi Ada, see you today at 10:00 AM at Main St") || u.Preview.Parts != 1 {
		t.Fatalf("rendered %+v", u.Preview)
	}
}
