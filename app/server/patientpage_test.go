package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"apptconfirm/models"
)

// pageCall sends one request to the patient page (no session, no token
// header) and returns the status, the Location header and the body.
func pageCall(t *testing.T, h http.Handler, method, path string, form url.Values, header ...string) (int, string, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Header().Get("Location"), string(b)
}

// pageState is what a GET must never change: the appointment's row, its
// messages and the audit log.
func pageState(t *testing.T, s *models.Store, id uint) string {
	t.Helper()
	ctx := context.Background()
	a, err := s.Appointment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var msgs, audits int64
	s.DB(ctx).Model(&models.Message{}).Where("appointment_id = ?", id).Count(&msgs)
	s.DB(ctx).Model(&models.AuditEntry{}).Count(&audits)
	return fmt.Sprintf("%s %s %s %d messages, %d audit entries", a.Status, a.StartsAt.UTC().Format(time.RFC3339), a.UpdatedAt.UTC().Format(time.RFC3339Nano), msgs, audits)
}

var linkRE = regexp.MustCompile(`https?://\S+(/a/[A-Za-z0-9_-]{22})`)

// The patient page, end to end over HTTP with the fake gateway: a
// reminder carries {link}; opening the page, its cancel step and its
// calendar file change nothing but one "opened" signal; Confirm, Ask for
// another time, picking an offered time and Cancel act once as the
// patient, and doing them again changes nothing more; a forged, unknown or
// expired link answers 410.
func TestPatientPageWholeLoop(t *testing.T) {
	r := newRescheduleApp(t)
	ctx := context.Background()
	h := r.Handler()
	var rule models.ReminderRule
	if err := r.Store.DB(ctx).Order("before_seconds DESC").Take(&rule).Error; err != nil {
		t.Fatal(err)
	}
	r.call(http.MethodPut, "/api/v1/templates", fmt.Sprintf(`{"templates": [{"key": "rule:%d", "texts": {"en": "Hi {first_name}, see you {day} at {time}. Confirm or change: {link}"}}]}`, rule.ID), http.StatusOK, nil)

	const anna = "+33612345678"
	id := r.book("Anna Martin", anna, r.at(9, 10, 0))
	r.received(anna)
	r.clock.Set(r.at(9, 10, 0).Add(-rule.Before()).Add(5 * time.Minute))
	texts := r.received(anna)
	if len(texts) != 1 {
		t.Fatalf("reminders %q", texts)
	}
	m := linkRE.FindStringSubmatch(texts[0])
	if m == nil || !strings.HasPrefix(texts[0], "Hi Anna, see you ") {
		t.Fatalf("the reminder carries no link: %q", texts[0])
	}
	page := m[1]

	// Reading changes nothing.
	before := pageState(t, r.Store, id)
	for _, p := range []string{page, page, page + "/cancel", page + "/calendar.ics"} {
		status, _, body := pageCall(t, h, http.MethodGet, p, nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", p, status)
		}
		if strings.HasSuffix(p, ".ics") && !strings.Contains(body, "BEGIN:VEVENT") {
			t.Fatalf("calendar file: %s", body)
		}
	}
	status, _, body := pageCall(t, h, http.MethodGet, page, nil)
	for _, want := range []string{"Your appointment", "Monday March 9, 2026, 10:00 AM", "Main St Clinic", ">Confirm</button>", "Ask for another time", "/calendar.ics", "Cancel appointment"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if after := pageState(t, r.Store, id); after != before || status != http.StatusOK {
		t.Fatalf("GET changed the appointment:\n%s\n%s", before, after)
	}
	var opened int64
	r.Store.DB(ctx).Model(&models.TimelineEntry{}).Where("appointment_id = ? AND kind = ?", id, models.TimelineOpen).Count(&opened)
	if opened != 1 {
		t.Errorf("%d opening signals for five reads in a row, want 1", opened)
	}

	post := func(action string, form url.Values) string {
		t.Helper()
		status, loc, body := pageCall(t, h, http.MethodPost, page+"/"+action, form)
		if status != http.StatusSeeOther {
			t.Fatalf("POST %s: %d %s", action, status, body)
		}
		_, done, _ := strings.Cut(loc, "?done=")
		return done
	}
	// A form posted from another site is refused.
	if status, _, _ := pageCall(t, h, http.MethodPost, page+"/confirm", url.Values{}, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); status != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", status)
	}

	if got := post("confirm", url.Values{}); got != "confirmed" {
		t.Fatalf("confirm: %s", got)
	}
	st, _ := r.appointment(id)
	confirmed := pageState(t, r.Store, id)
	if got := post("confirm", url.Values{}); got != "confirmed" || st != string(models.Confirmed) || pageState(t, r.Store, id) != confirmed {
		t.Fatalf("confirming twice: %s, %s", got, st)
	}
	var audit models.AuditEntry
	r.Store.DB(ctx).Where("action = ?", "appointment.confirm").Order("id DESC").Take(&audit)
	if audit.Actor != "patient" || audit.EntityID != id {
		t.Errorf("the confirmation is audited as %q on %d", audit.Actor, audit.EntityID)
	}

	if got := post("another-time", url.Values{}); got != "requested" {
		t.Fatalf("another time: %s", got)
	}
	if st, _ := r.appointment(id); st != string(models.RescheduleRequested) {
		t.Fatalf("after asking: %s", st)
	}
	expectTexts(t, "Anna", r.received(anna),
		"Thanks Anna, we got your request for another time. Main St Clinic will text you some options soon.")
	post("another-time", url.Values{})
	if got := r.received(anna); len(got) != 0 {
		t.Fatalf("asking twice sent %q", got)
	}

	// Staff offer two times; the page lists them and the patient picks
	// the second.
	r.call(http.MethodPost, fmt.Sprintf("/api/v1/appointments/%d/offers", id),
		fmt.Sprintf(`{"starts_at": [%q, %q]}`, r.at(10, 9, 0).Format(time.RFC3339), r.at(10, 14, 30).Format(time.RFC3339)), http.StatusCreated, nil)
	r.received(anna)
	_, _, body = pageCall(t, h, http.MethodGet, page, nil)
	if !strings.Contains(body, "Choose: Tuesday March 10, 2026, 2:30 PM") || strings.Contains(body, ">Ask for another time<") {
		t.Fatalf("the offers are not on the page:\n%s", body)
	}
	if got := post("pick", url.Values{"n": {"2"}}); got != "moved" {
		t.Fatalf("pick: %s", got)
	}
	if _, start := r.appointment(id); !start.Equal(r.at(10, 14, 30)) {
		t.Fatalf("moved to %s", start)
	}
	if got := post("pick", url.Values{"n": {"2"}}); got != "refused" {
		t.Errorf("picking again: %s", got)
	}
	if got := post("pick", url.Values{"n": {"x"}}); got != "refused" {
		t.Errorf("a bad pick: %s", got)
	}

	if got := post("cancel", url.Values{}); got != "cancelled" {
		t.Fatalf("cancel: %s", got)
	}
	cancelled := pageState(t, r.Store, id)
	if got := post("cancel", url.Values{}); got != "cancelled" || pageState(t, r.Store, id) != cancelled {
		t.Fatalf("cancelling twice: %s", got)
	}
	if got := post("confirm", url.Values{}); got != "refused" || pageState(t, r.Store, id) != cancelled {
		t.Errorf("confirming a cancelled appointment: %s", got)
	}
	_, _, body = pageCall(t, h, http.MethodGet, page, nil)
	if !strings.Contains(body, "This appointment is cancelled.") || strings.Contains(body, ">Confirm</button>") {
		t.Errorf("the cancelled page:\n%s", body)
	}

	// Links that name nothing, or an appointment long over, are gone.
	forged := page[:len(page)-2] + "AA"
	if forged == page {
		forged = page[:len(page)-2] + "BA"
	}
	for _, p := range []string{forged, "/a/short", "/a/AAAAAAAAAAAAAAAAAAAAAA", "/a/" + strings.Repeat("_", 22) + "/calendar.ics"} {
		if status, _, body := pageCall(t, h, http.MethodGet, p, nil, "Accept-Language", "de-DE,de;q=0.9"); status != http.StatusGone || !strings.Contains(body, "Dieser Link ist nicht mehr gültig") {
			t.Errorf("GET %s: %d", p, status)
		}
	}
	r.clock.Set(r.at(11, 15, 1))
	if status, _, _ := pageCall(t, h, http.MethodGet, page, nil); status != http.StatusGone {
		t.Errorf("a day after the appointment: %d", status)
	}
}
