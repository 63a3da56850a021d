package outbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbound"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestEndpointInputIsCheckedFieldByField(t *testing.T) {
	store := storetest.SQLite(t)
	svc := outbound.New(store, outbound.Options{})
	ctx := context.Background()
	actor := models.SystemActor()
	str := func(s string) *string { return &s }
	long := strings.Repeat("é", 301)
	for _, c := range []struct {
		name  string
		in    outbound.EndpointInput
		field string
		says  string
	}{
		{"no url", outbound.EndpointInput{Events: []string{"appointment.created"}}, "url", "required"},
		{"plain http", outbound.EndpointInput{URL: str("http://erp.example.com/hook"), Events: []string{"appointment.created"}}, "url", "https"},
		{"ftp", outbound.EndpointInput{URL: str("ftp://erp.example.com/"), Events: []string{"appointment.created"}}, "url", "https"},
		{"relative", outbound.EndpointInput{URL: str("/hook"), Events: []string{"appointment.created"}}, "url", "absolute"},
		{"loopback", outbound.EndpointInput{URL: str("https://127.0.0.1/hook"), Events: []string{"appointment.created"}}, "url", "loopback"},
		{"ipv6 loopback", outbound.EndpointInput{URL: str("https://[::1]/hook"), Events: []string{"appointment.created"}}, "url", "loopback"},
		{"ten", outbound.EndpointInput{URL: str("https://10.2.3.4/hook"), Events: []string{"appointment.created"}}, "url", "private"},
		{"metadata", outbound.EndpointInput{URL: str("https://169.254.169.254/latest"), Events: []string{"appointment.created"}}, "url", "metadata"},
		{"localhost", outbound.EndpointInput{URL: str("https://localhost:8443/"), Events: []string{"appointment.created"}}, "url", "this machine"},
		{"credentials", outbound.EndpointInput{URL: str("https://u:p@erp.example.com/"), Events: []string{"appointment.created"}}, "url", "password"},
		{"no events", outbound.EndpointInput{URL: str("https://erp.example.com/"), Events: []string{}}, "events", "at least one"},
		{"unknown event", outbound.EndpointInput{URL: str("https://erp.example.com/"), Events: []string{"appointment.exploded"}}, "events", "appointment.exploded"},
		{"long description", outbound.EndpointInput{URL: str("https://erp.example.com/"), Events: []string{"appointment.created"}, Description: &long}, "description", "300"},
	} {
		_, err := svc.Create(ctx, actor, c.in)
		fe, ok := models.AsFieldErrors(err)
		if !ok || !strings.Contains(fe[c.field], c.says) {
			t.Errorf("%s: err = %v, want %s: …%s…", c.name, err, c.field, c.says)
		}
	}
	eps, err := svc.Endpoints(ctx)
	if err != nil || len(eps) != 0 {
		t.Fatalf("endpoints after refusals: %v %v", eps, err)
	}
	ep, err := svc.Create(ctx, actor, outbound.EndpointInput{
		URL: str(" https://erp.example.com/hooks "), Events: []string{"appointment.confirmed", "appointment.confirmed", "patient.opted_out"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ep.URL != "https://erp.example.com/hooks" || ep.Events != "appointment.confirmed,patient.opted_out" || !ep.Enabled || !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("created %+v", ep)
	}
}

func TestPrivateAddressesAllowedWhenConfigured(t *testing.T) {
	for _, u := range []string{"http://10.0.0.5:8080/hook", "http://127.0.0.1/hook", "https://localhost/x"} {
		if err := outbound.CheckURL(u, true); err != nil {
			t.Errorf("%s with allow_private: %v", u, err)
		}
		if err := outbound.CheckURL(u, false); err == nil {
			t.Errorf("%s without allow_private: accepted", u)
		}
	}
}

// A delivery is written with the change it reports: a committed change has
// one per endpoint that wants it, a rolled-back one none.
func TestDeliveriesAreWrittenInTheTransactionOfTheChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store *models.Store) {
		e := newEnv(t, store)
		ctx := context.Background()
		withPhone := e.endpoint(t, "https://erp.example.com/a", true, "appointment.created", "appointment.confirmed")
		noPhone := e.endpoint(t, "https://crm.example.com/b", false, "appointment.confirmed")
		a := e.book(t, "Léa")
		ds := deliveries(t, store)
		if len(ds) != 1 || ds[0].EndpointID != withPhone.ID || ds[0].Type != "appointment.created" || ds[0].Status != models.DeliveryPending {
			t.Fatalf("after booking: %+v", ds)
		}
		if _, err := e.clinic.Confirm(ctx, e.staff, a.ID, "staff"); err != nil {
			t.Fatal(err)
		}
		ds = deliveries(t, store)
		if len(ds) != 3 {
			t.Fatalf("after confirming: %d deliveries", len(ds))
		}
		// One event, two endpoints: the same webhook-id, the number only
		// where asked for.
		a1, a2 := ds[1], ds[2]
		if a1.MsgID != a2.MsgID || a1.MsgID == ds[0].MsgID || !strings.HasPrefix(a1.MsgID, "msg_") {
			t.Errorf("webhook ids %q %q %q", ds[0].MsgID, a1.MsgID, a2.MsgID)
		}
		for _, d := range ds[1:] {
			hasPhone := strings.Contains(d.Payload, a.Patient.Phone)
			if hasPhone != (d.EndpointID == withPhone.ID) {
				t.Errorf("endpoint %d: phone in payload = %v: %s", d.EndpointID, hasPhone, d.Payload)
			}
			if !strings.Contains(d.Payload, `"type":"appointment.confirmed"`) || !strings.Contains(d.Payload, `"first_name":"Léa"`) ||
				!strings.Contains(d.Payload, `"status":"confirmed"`) {
				t.Errorf("payload %s", d.Payload)
			}
		}
		_ = noPhone
		// A change that rolls back leaves no delivery behind.
		boom := errors.New("boom")
		err := store.Tx(ctx, func(ctx context.Context) error {
			if _, err := e.clinic.Cancel(ctx, e.staff, a.ID, "patient called"); err != nil {
				return err
			}
			if _, err := e.clinic.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{PatientID: a.PatientID, StartsAt: a.StartsAt.Add(24 * 60 * 60 * 1e9), DurationMinutes: 15}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("tx: %v", err)
		}
		if n := len(deliveries(t, store)); n != 3 {
			t.Fatalf("a rolled-back change left deliveries: %d", n)
		}
		// A disabled endpoint gets nothing new.
		off := false
		if _, err := e.svc.Update(ctx, e.staff, withPhone.ID, outbound.EndpointInput{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		e.book(t, "Hugo")
		if n := len(deliveries(t, store)); n != 3 {
			t.Fatalf("a disabled endpoint got a delivery: %d", n)
		}
	})
}

func TestEveryEventTypeOfTheIssueIsMapped(t *testing.T) {
	cases := map[string]models.Event{
		"appointment.created":     {Type: models.EventAppointmentCreated},
		"appointment.updated":     {Type: models.EventAppointmentUpdated},
		"appointment.rescheduled": {Type: models.EventAppointmentRescheduled},
		"appointment.confirmed":   {Type: models.EventAppointmentConfirmed},
		"appointment.cancelled":   {Type: models.EventAppointmentCancelled},
		"appointment.completed":   {Type: models.EventAppointmentCompleted},
		"appointment.no_show":     {Type: models.EventAppointmentNoShow},
		"message.sent":            {Type: models.EventMessage, Status: string(models.MsgAccepted)},
		"message.delivered":       {Type: models.EventMessage, Status: string(models.MsgDelivered)},
		"message.failed":          {Type: models.EventMessage, Status: string(models.MsgFailed)},
		"reply.received":          {Type: models.EventReplyReceived},
		"reply.needs_attention":   {Type: models.EventReplyNeedsAttention},
		"patient.opted_out":       {Type: models.EventPatientOptedOut},
		"patient.opted_in":        {Type: models.EventPatientOptedIn},
	}
	for want, e := range cases {
		if got := outbound.TypeOf(e); got != want {
			t.Errorf("%+v: %q, want %q", e, got, want)
		}
	}
	for _, e := range []models.Event{
		{Type: models.EventMessage, Status: string(models.MsgPlanned)},
		{Type: models.EventMessage, Status: string(models.MsgSending)},
		{Type: models.EventPatientUpdated},
		{Type: models.EventAppointmentSignal},
		{Type: models.EventInboxHandled},
	} {
		if got := outbound.TypeOf(e); got != "" {
			t.Errorf("%+v is delivered as %q", e, got)
		}
	}
}

func TestErasureRewritesQueuedPayloads(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	e.endpoint(t, "https://erp.example.com/a", true, "appointment.created")
	a := e.book(t, "Zéphyrine")
	if _, err := e.clinic.ErasePatient(context.Background(), e.staff, a.PatientID); err != nil {
		t.Fatal(err)
	}
	ds := deliveries(t, store)
	if len(ds) != 1 {
		t.Fatalf("deliveries %d", len(ds))
	}
	if strings.Contains(ds[0].Payload, "Zéphyrine") || strings.Contains(ds[0].Payload, a.Patient.Phone) ||
		!strings.Contains(ds[0].Payload, `"erased":true`) || !strings.Contains(ds[0].Payload, `"type":"appointment.created"`) {
		t.Fatalf("payload after erasure: %s", ds[0].Payload)
	}
}

// A payload names the patient and the appointment by the ids the clinic's
// other system gave them, so an integrator can match them without a lookup.
func TestPayloadCarriesExternalIDs(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	ctx := context.Background()
	e.endpoint(t, "https://erp.example.com/a", false, "appointment.created")
	p, err := e.clinic.CreatePatient(ctx, e.staff, clinic.PatientInput{FirstName: "Léa", LastName: "Martin", Phone: "+33612999001", ExternalID: "PMS-P-77"}, "")
	if err != nil {
		t.Fatal(err)
	}
	ext := "PMS-A-1234"
	if _, err := e.clinic.CreateAppointment(ctx, e.staff, clinic.AppointmentInput{
		PatientID: p.ID, StartsAt: e.clk.Now().Add(72 * time.Hour).Truncate(time.Minute), DurationMinutes: 30, ExternalID: &ext,
	}); err != nil {
		t.Fatal(err)
	}
	ds := deliveries(t, store)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	var body struct {
		Data struct {
			Appointment struct {
				ExternalID string `json:"external_id"`
			} `json:"appointment"`
			Patient struct {
				ExternalID string `json:"external_id"`
			} `json:"patient"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(ds[0].Payload), &body); err != nil {
		t.Fatal(err)
	}
	if body.Data.Appointment.ExternalID != ext || body.Data.Patient.ExternalID != "PMS-P-77" {
		t.Errorf("external ids in %s", ds[0].Payload)
	}
}
