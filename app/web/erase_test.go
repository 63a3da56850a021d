package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// An admin erases a patient from the patient's page: the action asks for
// the name to be typed, refuses anything else, then erases and audits.
// Staff see no button and are refused the action.
func TestAdminErasesAPatient(t *testing.T) {
	a := newTestApp(t)
	a.addLocation("Main", "UTC", "US")
	p := a.addPatient("Olwen", "Brightwater", "+12025550143")
	admin := a.loggedIn("boss@example.com", models.RoleAdmin)
	staff := a.loggedIn("front@example.com", models.RoleStaff)
	show := fmt.Sprintf("/patients/%d", p.ID)
	erase := fmt.Sprintf("/admin/patients/%d/erase", p.ID)

	if _, body := staff.get(show); strings.Contains(body, erase) {
		t.Fatal("staff see the erase button")
	}
	if status, _ := staff.get(erase); status != http.StatusForbidden {
		t.Fatalf("staff GET erase: %d", status)
	}
	if resp, _ := staff.post(erase, url.Values{"confirm_name": {"Olwen Brightwater"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("staff POST erase: %d", resp.StatusCode)
	}

	_, body := admin.get(show)
	if !strings.Contains(body, erase) {
		t.Fatal("no erase button for the admin")
	}
	status, body := admin.get(erase)
	expectPage(t, "erase page", status, body, http.StatusOK, "Erase Olwen Brightwater", "type the patient's name", "cannot be undone")
	for _, typed := range []string{"", "Olwen", "Olwen Brightwaters"} {
		resp, body := admin.post(erase, url.Values{"confirm_name": {typed}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "to confirm") {
			t.Fatalf("typed %q: %d", typed, resp.StatusCode)
		}
		if _, err := a.clinic.GetPatient(context.Background(), p.ID); err != nil {
			t.Fatalf("typed %q erased the patient: %v", typed, err)
		}
	}
	resp, _ := admin.post(erase, url.Values{"confirm_name": {"  olwen   BRIGHTWATER "}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/patients" {
		t.Fatalf("erase: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = admin.get("/patients")
	if !strings.Contains(body, fmt.Sprintf("Patient #%d was erased", p.ID)) || strings.Contains(body, "Brightwater") {
		t.Fatalf("list after the erasure:\n%s", excerpt(body))
	}
	if status, _ := admin.get(show); status != http.StatusNotFound {
		t.Fatalf("the patient's page after the erasure: %d", status)
	}
	es, _, err := a.clinic.Audit(context.Background(), clinic.AuditQuery{Entity: clinic.EntityPatient, EntityID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 || es[0].Action != clinic.ActionErase || es[0].Actor != "boss@example.com" || strings.Contains(es[0].Detail, "Olwen") {
		t.Fatalf("audit %+v", es)
	}
	for _, e := range es[1:] {
		if strings.Contains(e.Detail, "Olwen") || strings.Contains(e.Detail, "Brightwater") {
			t.Fatalf("an audit row still names the patient: %+v", e)
		}
	}
}
