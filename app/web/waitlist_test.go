package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/waitlist"
	"apptconfirm/models"
)

// withWaitlist serves the waitlist pages.
func withWaitlist() appOption {
	return withDeps(func(a *testApp, d *Deps) {
		d.Waitlist = waitlist.New(a.store, a.clinic, a.ob, waitlist.Options{Now: func() time.Time { return a.now }})
	})
}

// Staff add a patient to the waitlist from the waitlist page and from the
// patient's page, see the list, are told which field is wrong, and remove
// an entry; the dashboard shows the slots refilled.
func TestWaitlistPages(t *testing.T) {
	a := newTestApp(t, withWaitlist())
	a.addLocation("Main", "Europe/Paris", "FR")
	b := a.loggedIn("front@example.com", models.RoleStaff)
	ctx := context.Background()
	p, err := a.clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Ben", LastName: "Roy", Phone: "+33612345671"}, "")
	if err != nil {
		t.Fatal(err)
	}
	q, err := a.clinic.CreatePatient(ctx, models.SystemActor(), clinic.PatientInput{FirstName: "Cleo", LastName: "Diaz", Phone: "+33612345672"}, "")
	if err != nil {
		t.Fatal(err)
	}

	status, body := b.get("/waitlist")
	expectPage(t, "empty", status, body, http.StatusOK, "Nobody is waiting")
	status, body = b.get("/waitlist/new")
	expectPage(t, "form", status, body, http.StatusOK, `name="patient_id"`, "Ben Roy", `name="days"`, `name="from"`)

	resp, body := b.post("/waitlist", url.Values{"patient_id": {fmt.Sprint(p.ID)}, "days": {"mon", "tue"}, "from": {"25:00"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad from: %d", resp.StatusCode)
	}
	expectPage(t, "bad from", resp.StatusCode, body, http.StatusUnprocessableEntity, "is not a time of day", `value="mon" checked`)

	resp, _ = b.post("/waitlist", url.Values{"patient_id": {fmt.Sprint(p.ID)}, "days": {"mon", "tue"}, "from": {"09:00"}, "until": {"12:00"}, "notes": {"prefers mornings"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/waitlist" {
		t.Fatalf("add: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	status, body = b.get("/waitlist")
	expectPage(t, "list", status, body, http.StatusOK, "Ben Roy", "Mon, Tue from 09:00 until 12:00", "prefers mornings", "any provider, any location")

	// From Cleo's page.
	status, body = b.get(fmt.Sprintf("/patients/%d", q.ID))
	expectPage(t, "patient page", status, body, http.StatusOK, "Not on the waitlist", fmt.Sprintf(`href="/waitlist/new?patient_id=%d"`, q.ID))
	status, body = b.get(fmt.Sprintf("/waitlist/new?patient_id=%d", q.ID))
	expectPage(t, "form for Cleo", status, body, http.StatusOK, "Cleo Diaz", `name="back" value="patient"`)
	resp, _ = b.post("/waitlist", url.Values{"patient_id": {fmt.Sprint(q.ID)}, "back": {"patient"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/patients/%d", q.ID) {
		t.Fatalf("add Cleo: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	status, body = b.get(fmt.Sprintf("/patients/%d", q.ID))
	expectPage(t, "Cleo waiting", status, body, http.StatusOK, "any day, any time", "Remove from the waitlist")

	es, _, err := a.store.WaitlistEntries(ctx, models.WaitlistFilter{PatientID: q.ID})
	if err != nil || len(es) != 1 {
		t.Fatalf("entries %v %v", es, err)
	}
	resp, _ = b.post(fmt.Sprintf("/waitlist/%d/remove", es[0].ID), url.Values{"back": {"patient"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	status, body = b.get("/waitlist?status=removed")
	expectPage(t, "removed tab", status, body, http.StatusOK, fmt.Sprintf(`<a href="/patients/%d">Cleo Diaz</a>`, q.ID), `aria-current="page" class="active">Removed`)
	status, body = b.get("/waitlist")
	expectPage(t, "after removal", status, body, http.StatusOK, "Ben Roy")
	if strings.Contains(body, fmt.Sprintf(`<a href="/patients/%d">Cleo Diaz</a>`, q.ID)) {
		t.Fatal("Cleo still listed")
	}
	status, body = b.get("/")
	expectPage(t, "dashboard", status, body, http.StatusOK, `id="stat-refilled"`, "slots refilled from the waitlist")
}
