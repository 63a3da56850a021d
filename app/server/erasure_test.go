package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/api"
	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/app/outbound"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// The erased patient: a name and a number nothing else in the database
// holds.
const (
	erasedFirst  = "Quorvath"
	erasedLast   = "Zyxwellby"
	erasedPhone  = "+12025550187"
	controlFirst = "Mirabeth"
	controlPhone = "+12025550161"
)

// buildOn builds the app (not served) on a fresh SQLite file or
// PostgreSQL schema, in simulator mode, with the booking confirmation on
// and no quiet hours.
func buildOn(t *testing.T, driver string) *App {
	t.Helper()
	cfg := config.Default()
	cfg.Reminders.BookingConfirmation = true
	cfg.Reminders.QuietHours = config.QuietHours{}
	cfg.Database.Driver = driver
	if driver == models.DriverPostgres {
		cfg.Database.DSN = storetest.PostgresDSN(t)
	} else {
		cfg.Database.DSN = filepath.Join(t.TempDir(), "app.db")
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := Build(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{HashCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

// apiCall sends one API request to the app's handler.
func apiCall(t *testing.T, h http.Handler, token, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

// The erasure, end to end: a patient booked through the API, sent a
// message that SMS.CX delivered, who replied YES and wrote a message for the
// inbox and clicked a link, is erased with DELETE. Then GET answers 404 and
// no column of any table (listed from the database's catalogue) holds their
// name or number, on SQLite and on PostgreSQL; another patient is intact,
// and the appointments stay.
func TestErasureLeavesNothing(t *testing.T) {
	for _, driver := range []string{models.DriverSQLite, models.DriverPostgres} {
		t.Run(driver, func(t *testing.T) {
			a := buildOn(t, driver)
			ctx := context.Background()
			token, _, err := api.NewTokens(a.Store, nil).Create(ctx, models.SystemActor(), "pms")
			if err != nil {
				t.Fatal(err)
			}
			// An integration that receives every event, numbers included.
			withPhone, hooks := true, "https://erp.example.com/hooks"
			if _, err := a.Outbound.Create(ctx, models.SystemActor(), outbound.EndpointInput{URL: &hooks, Events: outbound.Types, IncludePhone: &withPhone}); err != nil {
				t.Fatal(err)
			}
			h := a.Handler()
			book := func(name, phone, notes string) (patientID uint) {
				t.Helper()
				body := fmt.Sprintf(`{"patient": {"name": %q, "phone": %q}, "starts_at": %q, "duration_minutes": 30, "notes": %q}`,
					name, phone, time.Now().Add(72*time.Hour).Format(time.RFC3339), notes)
				status, out := apiCall(t, h, token, http.MethodPost, "/api/v1/appointments", body)
				if status != http.StatusCreated {
					t.Fatalf("book: %d %s", status, out)
				}
				var appt struct {
					Patient struct{ ID uint } `json:"patient"`
				}
				if err := json.Unmarshal([]byte(out), &appt); err != nil {
					t.Fatal(err)
				}
				return appt.Patient.ID
			}
			id := book(erasedFirst+" "+erasedLast, erasedPhone, "Ask for "+erasedFirst+"; prefers mornings")
			book(erasedFirst+" "+erasedLast, erasedPhone, "second visit") // the same person booked again
			control := book(controlFirst+" Stone", controlPhone, "control")
			if id == control {
				t.Fatal("one patient for two people")
			}

			// What a patient's life in the app leaves behind.
			if _, err := a.Dispatcher.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if err := a.Simulator.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Simulator.EmitReceiveSMS(ctx, erasedPhone, "+12025550100", "YES"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Simulator.EmitReceiveSMS(ctx, erasedPhone, "+12025550100", "Hi, "+erasedFirst+" "+erasedLast+" here: can I bring my dog?"); err != nil {
				t.Fatal(err)
			}
			if err := a.Simulator.EmitShortlinkHit(ctx, erasedPhone, "", "maps", false); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Webhooks.ProcessPending(ctx); err != nil {
				t.Fatal(err)
			}
			var before int64
			a.Store.DB(ctx).Model(&models.Appointment{}).Count(&before)
			var inbox int64
			a.Store.DB(ctx).Model(&models.InboundMessage{}).Where("needs_attention").Count(&inbox)
			if inbox == 0 {
				t.Fatal("the free-text reply did not reach the inbox")
			}
			// The search finds what it looks for.
			for _, s := range []string{erasedFirst, erasedLast, erasedPhone, strings.TrimPrefix(erasedPhone, "+")} {
				hits := storetest.FindText(t, a.Store, s)
				t.Logf("before: %q in %v", s, hits)
				if !strings.Contains(fmt.Sprint(hits), "webhook_deliveries") {
					t.Fatalf("before the erasure %q is not in the outbound webhooks: %v", s, hits)
				}
				if len(hits) < 3 {
					t.Fatalf("before the erasure %q is in only %v: the test would prove nothing", s, hits)
				}
			}

			status, out := apiCall(t, h, token, http.MethodDelete, fmt.Sprintf("/api/v1/patients/%d", id), "")
			if status != http.StatusNoContent || out != "" {
				t.Fatalf("DELETE: %d %q", status, out)
			}
			if status, _ := apiCall(t, h, token, http.MethodGet, fmt.Sprintf("/api/v1/patients/%d", id), ""); status != http.StatusNotFound {
				t.Fatalf("GET after the erasure: %d", status)
			}
			if status, _ := apiCall(t, h, token, http.MethodDelete, fmt.Sprintf("/api/v1/patients/%d", id), ""); status != http.StatusNotFound {
				t.Fatalf("DELETE again: %d", status)
			}
			for _, s := range []string{erasedFirst, erasedLast, erasedPhone, strings.TrimPrefix(erasedPhone, "+"), "2025550187"} {
				if hits := storetest.FindText(t, a.Store, s); len(hits) > 0 {
					t.Errorf("%q is still in %v", s, hits)
				}
			}
			// The other patient is untouched, and the appointments stay.
			if hits := storetest.FindText(t, a.Store, controlFirst); len(hits) == 0 {
				t.Error("the other patient's name went too")
			}
			if p, err := a.Clinic.GetPatient(ctx, control); err != nil || p.Phone != controlPhone {
				t.Fatalf("the other patient: %+v %v", p, err)
			}
			var after int64
			a.Store.DB(ctx).Model(&models.Appointment{}).Count(&after)
			if after != before {
				t.Fatalf("%d appointments after the erasure, %d before", after, before)
			}
			var inboxAfter int64
			a.Store.DB(ctx).Model(&models.InboundMessage{}).Where("needs_attention AND handled_at IS NULL").Count(&inboxAfter)
			if inboxAfter != 0 {
				t.Fatalf("%d inbox items left", inboxAfter)
			}
			// The erasure is audited (who, when, which id) and is a domain event.
			var audit models.AuditEntry
			if err := a.Store.DB(ctx).Where("action = ? AND entity_id = ?", clinic.ActionErase, id).Take(&audit).Error; err != nil {
				t.Fatalf("no audit row of the erasure: %v", err)
			}
			if audit.Actor != "api:pms" || audit.Entity != clinic.EntityPatient || audit.At.IsZero() || !strings.Contains(audit.Detail, fmt.Sprintf("erased patient %d", id)) {
				t.Fatalf("audit row %+v", audit)
			}
			var ev models.Event
			if err := a.Store.DB(ctx).Where("type = ? AND patient_id = ?", models.EventPatientErased, id).Take(&ev).Error; err != nil {
				t.Fatalf("no domain event of the erasure: %v", err)
			}
			// Nothing is ever sent to the erased patient again.
			var pending int64
			a.Store.DB(ctx).Model(&models.Message{}).Where("patient_id = ? AND status IN ?", id, []string{"planned", "sending"}).Count(&pending)
			if pending != 0 {
				t.Fatalf("%d messages still pending", pending)
			}
		})
	}
}
