package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"apptconfirm/app/api"
	"apptconfirm/app/clinic"
	"apptconfirm/app/feeds"
	"apptconfirm/models"
)

func TestCalendarFeed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dr, err := e.clinic.CreateProvider(ctx, models.SystemActor(), clinic.ProviderInput{Name: "Dr Durand", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	p := e.patient("Ana", "Lopez", "+33612345678")
	var ids []uint
	for i, st := range []string{"scheduled", "confirmed", "cancelled"} {
		var a api.Appointment
		e.decode(http.StatusCreated, &a, http.MethodPost, "/api/v1/appointments", fmt.Sprintf(
			`{"patient_id": %d, "provider_id": %d, "starts_at": "2026-03-1%dT09:30:00+01:00", "duration_minutes": 20, "notes": "%s"}`,
			p.ID, dr.ID, i+3, strings.Repeat("long note ", 20)))
		if st != "scheduled" {
			e.decode(http.StatusOK, nil, http.MethodPatch, fmt.Sprintf("/api/v1/appointments/%d", a.ID), `{"status": "`+st+`"}`)
		}
		ids = append(ids, a.ID)
	}
	// Another provider's appointment is not in the feed; nor is one past
	// the window.
	e.appointment(p.ID, e.paris.ID, time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC))
	far, err := e.clinic.CreateAppointment(ctx, models.SystemActor(), clinic.AppointmentInput{PatientID: p.ID, ProviderID: &dr.ID, StartsAt: t0.AddDate(0, 7, 0), DurationMinutes: 20})
	if err != nil {
		t.Fatal(err)
	}

	var feed api.CalendarFeed
	e.decode(http.StatusCreated, &feed, http.MethodPost, "/api/v1/calendar-feeds", fmt.Sprintf(`{"provider_id": %d}`, dr.ID))
	if !strings.HasPrefix(feed.URL, feedBase+"/feeds/") || !strings.HasSuffix(feed.URL, ".ics") {
		t.Fatalf("url %q", feed.URL)
	}
	get := func(url string) (int, string, string) {
		t.Helper()
		res, err := http.Get(strings.Replace(url, feedBase, e.srv.URL, 1))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = res.Body.Close() }()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	status, ctype, body := get(feed.URL)
	if status != http.StatusOK || ctype != "text/calendar; charset=utf-8" {
		t.Fatalf("GET feed: %d %s", status, ctype)
	}
	for _, line := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
		if len(line) > 75 || strings.Contains(line, "\n") {
			t.Errorf("line of %d octets or with a bare LF: %q", len(line), line)
		}
	}
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
	events := cal.Events()
	if len(events) != 3 {
		t.Fatalf("%d events, want 3:\n%s", len(events), body)
	}
	want := []string{"TENTATIVE", "CONFIRMED", "CANCELLED"}
	for i, ev := range events {
		uid := ev.GetProperty(ics.ComponentPropertyUniqueId).Value
		if uid != fmt.Sprintf("appointment-%d@clinic.example", ids[i]) {
			t.Errorf("UID %q", uid)
		}
		if st := ev.GetProperty(ics.ComponentPropertyStatus).Value; st != want[i] {
			t.Errorf("event %d STATUS %q, want %q", i, st, want[i])
		}
		start, err := ev.GetStartAt()
		if err != nil || !start.Equal(time.Date(2026, 3, 13+i, 8, 30, 0, 0, time.UTC)) {
			t.Errorf("start %v (%v)", start, err)
		}
		if v := ev.GetProperty(ics.ComponentPropertyDtStart).Value; !strings.HasSuffix(v, "Z") {
			t.Errorf("DTSTART %q not in UTC", v)
		}
		summary := ev.GetProperty(ics.ComponentPropertySummary).Value
		if !strings.HasPrefix(summary, "A. L.") || strings.Contains(body, "Lopez") || strings.Contains(body, "long note") {
			t.Errorf("private details in the feed: summary %q", summary)
		}
	}
	if strings.Contains(body, fmt.Sprintf("appointment-%d@", far.ID)) {
		t.Error("an appointment past 180 days is in the feed")
	}
	// The same appointment keeps its UID in a second fetch.
	if _, _, again := get(feed.URL); !strings.Contains(again, fmt.Sprintf("UID:appointment-%d@clinic.example", ids[0])) {
		t.Error("UID changed between fetches")
	}

	// Names only when asked for.
	var named api.CalendarFeed
	e.decode(http.StatusCreated, &named, http.MethodPost, "/api/v1/calendar-feeds", fmt.Sprintf(`{"location_id": %d, "show_names": true}`, e.paris.ID))
	if _, _, b := get(named.URL); !strings.Contains(b, "Ana Lopez") {
		t.Errorf("named feed:\n%s", b)
	}

	for _, bad := range []string{`{}`, fmt.Sprintf(`{"provider_id": %d, "location_id": %d}`, dr.ID, e.paris.ID), `{"provider_id": 999}`} {
		if r := e.do(http.MethodPost, "/api/v1/calendar-feeds", bad); r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", bad, r.status)
		}
	}
	if status, _, _ := get(feedBase + "/feeds/not-a-token.ics"); status != http.StatusNotFound {
		t.Errorf("unknown token: %d", status)
	}
	// A revoked feed answers 404.
	if err := feeds.New(e.store, feedBase, e.clock.Now).Revoke(ctx, models.SystemActor(), feed.ID); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := get(feed.URL); status != http.StatusNotFound {
		t.Errorf("revoked feed: %d", status)
	}
}
