package clinic_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestFieldErrorsError(t *testing.T) {
	t.Parallel()
	fe := models.FieldErrors{"phone": "too short for US", "email": "already in use", "name": "required"}
	want := "invalid input: email: already in use; name: required; phone: too short for US"
	if got := fe.Error(); got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestCreatePatient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p, err := e.svc.CreatePatient(ctx, e.staff, clinic.PatientInput{FirstName: " Marie ", LastName: "Curie", Phone: "06 12 34 56 78", Language: "FR"}, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.ID == 0 || p.FirstName != "Marie" || p.Phone != "+33612345678" || p.Language != "fr" {
			t.Fatalf("patient = %+v", p)
		}
		if n := count(t, s, &models.AuditEntry{}, "entity = ? AND entity_id = ? AND action = ?", "patient", p.ID, "patient.create"); n != 1 {
			t.Fatalf("audit rows = %d, want 1", n)
		}
		// An explicit region wins over the default location's country; the
		// default language is English; a shared phone is fine.
		us, err := e.svc.CreatePatient(ctx, e.staff, clinic.PatientInput{FirstName: "Sam", Phone: "(202) 555-0143"}, "US")
		if err != nil || us.Phone != "+12025550143" || us.Language != "en" {
			t.Fatalf("US patient = %+v, %v", us, err)
		}
		if _, err := e.svc.CreatePatient(ctx, e.staff, clinic.PatientInput{FirstName: "Pierre", LastName: "Curie", Phone: "+33 6 12 34 56 78"}, ""); err != nil {
			t.Fatalf("shared phone refused: %v", err)
		}
		got, err := e.svc.GetPatient(ctx, p.ID)
		if err != nil || got.Name() != "Marie Curie" {
			t.Fatalf("GetPatient = %+v, %v", got, err)
		}
		if _, err := e.svc.GetPatient(ctx, 9999); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("GetPatient(missing) = %v, want ErrNotFound", err)
		}
	})
}

func TestCreatePatientValidation(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	ok := clinic.PatientInput{FirstName: "Ann", LastName: "Lee", Phone: "0612345678"}
	tests := []struct {
		name   string
		edit   func(*clinic.PatientInput)
		region string
		field  string
		msg    string
	}{
		{"first name missing", func(in *clinic.PatientInput) { in.FirstName = "  " }, "", "first_name", "required"},
		{"first name too long", func(in *clinic.PatientInput) { in.FirstName = strings.Repeat("é", 101) }, "", "first_name", "at most 100"},
		{"first name control char", func(in *clinic.PatientInput) { in.FirstName = "Ann\x00" }, "", "first_name", "control"},
		{"last name newline", func(in *clinic.PatientInput) { in.LastName = "Lee\nSmith" }, "", "last_name", "control"},
		{"last name too long", func(in *clinic.PatientInput) { in.LastName = strings.Repeat("x", 101) }, "", "last_name", "at most 100"},
		{"phone empty", func(in *clinic.PatientInput) { in.Phone = "" }, "", "phone", "empty"},
		{"phone not a number", func(in *clinic.PatientInput) { in.Phone = "abc" }, "", "phone", "not a number"},
		{"phone too short", func(in *clinic.PatientInput) { in.Phone = "555" }, "US", "phone", "too short for US"},
		{"phone invalid for region", func(in *clinic.PatientInput) { in.Phone = "+49 1234" }, "", "phone", "not a valid number for DE"},
		{"language unknown", func(in *clinic.PatientInput) { in.Language = "xx" }, "", "language", "one of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := e.svc.CreatePatient(context.Background(), e.staff, in, tc.region)
			wantField(t, err, tc.field, tc.msg)
		})
	}
	if n := count(t, s, &models.Patient{}); n != 0 {
		t.Fatalf("%d patients written by refused input", n)
	}
}

func TestUpdatePatient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p := e.patient(t, "Ann", "Lee", "0612345678")
		a := e.appointment(t, p.ID, "2026-03-10T10:00")
		e.planner.Reset()

		up, err := e.svc.UpdatePatient(ctx, e.staff, p.ID, clinic.PatientInput{FirstName: "Anne", LastName: "Lee", Phone: "0612345678"}, "")
		if err != nil || up.FirstName != "Anne" {
			t.Fatalf("update = %+v, %v", up, err)
		}
		if len(e.planner.Calls()) != 0 {
			t.Fatalf("a name change replanned: %v", e.planner.Calls())
		}
		if _, err := e.svc.UpdatePatient(ctx, e.staff, p.ID, clinic.PatientInput{FirstName: "Anne", LastName: "Lee", Phone: "0698765432"}, ""); err != nil {
			t.Fatal(err)
		}
		if calls := e.planner.Calls(); len(calls) != 1 || calls[0] != a.ID {
			t.Fatalf("phone change replanned %v, want [%d]", calls, a.ID)
		}
		if n := count(t, s, &models.AuditEntry{}, "action = ? AND entity_id = ?", "patient.update", p.ID); n != 2 {
			t.Fatalf("audit rows = %d, want 2", n)
		}
		// No change: nothing written.
		if _, err := e.svc.UpdatePatient(ctx, e.staff, p.ID, clinic.PatientInput{FirstName: "Anne", LastName: "Lee", Phone: "+33698765432"}, ""); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, &models.AuditEntry{}, "action = ? AND entity_id = ?", "patient.update", p.ID); n != 2 {
			t.Fatalf("audit rows after no-op = %d, want 2", n)
		}
		if _, err := e.svc.UpdatePatient(ctx, e.staff, 9999, clinic.PatientInput{FirstName: "X", Phone: "0612345678"}, ""); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("update missing = %v, want ErrNotFound", err)
		}
	})
}

func TestListPatients(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		e.patient(t, "Ann", "Lee", "0612345601")
		e.clk.Set(t0.Add(time.Minute))
		e.patient(t, "bob", "Martin", "0612345602")
		e.clk.Set(t0.Add(2 * time.Minute))
		e.patient(t, "Zoé", "100%_Real", "0612345603")
		e.clk.Set(t0.Add(3 * time.Minute))
		e.patient(t, "Carl", "Lee", "+12025550143")

		names := func(ps []models.Patient) string {
			var out []string
			for _, p := range ps {
				out = append(out, p.FirstName)
			}
			return strings.Join(out, ",")
		}
		tests := []struct {
			name  string
			q     clinic.PatientQuery
			want  string
			total int64
		}{
			{"all by last then first name", clinic.PatientQuery{}, "Zoé,Ann,Carl,bob", 4},
			{"newest first", clinic.PatientQuery{Sort: "created"}, "Carl,Zoé,bob,Ann", 4},
			{"by phone", clinic.PatientQuery{Sort: "phone"}, "Carl,Ann,bob,Zoé", 4},
			{"case-insensitive last name", clinic.PatientQuery{Search: "LEE"}, "Ann,Carl", 2},
			{"first name", clinic.PatientQuery{Search: "BoB"}, "bob", 1},
			{"full name", clinic.PatientQuery{Search: "ann lee"}, "Ann", 1},
			{"percent is literal", clinic.PatientQuery{Search: "100%"}, "Zoé", 1},
			{"lone percent matches only a percent", clinic.PatientQuery{Search: "%"}, "Zoé", 1},
			{"underscore is literal", clinic.PatientQuery{Search: "%_r"}, "Zoé", 1},
			{"underscore alone", clinic.PatientQuery{Search: "_"}, "Zoé", 1},
			{"backslash is literal", clinic.PatientQuery{Search: `\`}, "", 0},
			{"phone digits", clinic.PatientQuery{Search: "555-0143"}, "Carl", 1},
			{"national number", clinic.PatientQuery{Search: "06 12 34 56 02"}, "bob", 1},
			{"page 2", clinic.PatientQuery{PerPage: 3, Page: 2}, "bob", 4},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ps, total, err := e.svc.ListPatients(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := names(ps); got != tc.want || total != tc.total {
					t.Fatalf("got %q (total %d), want %q (total %d)", got, total, tc.want, tc.total)
				}
			})
		}
		refused := []struct {
			q     clinic.PatientQuery
			field string
		}{
			{clinic.PatientQuery{Sort: "first_name; DROP TABLE patients"}, "sort"},
			{clinic.PatientQuery{PerPage: 201}, "per_page"},
			{clinic.PatientQuery{Page: -1}, "page"},
		}
		for _, r := range refused {
			_, _, err := e.svc.ListPatients(ctx, r.q)
			wantField(t, err, r.field, "")
		}
	})
}

// seedMessages inserts messages in various states for a patient.
func seedMessages(t *testing.T, s *models.Store, p *models.Patient, appts ...uint) map[string]uint {
	t.Helper()
	ids := map[string]uint{}
	add := func(name string, status models.MessageStatus, kind string, appt *uint) {
		m := models.Message{
			UUID: fmt.Sprintf("seed-%d-%s", p.ID, name), AppointmentID: appt, PatientID: &p.ID,
			Kind: kind, To: p.Phone, Status: status, SendAt: t0.Add(time.Hour),
		}
		if name == "apptonly" {
			m.PatientID = nil
		}
		if err := s.DB(context.Background()).Create(&m).Error; err != nil {
			t.Fatal(err)
		}
		ids[name] = m.ID
	}
	add("planned1", models.MsgPlanned, models.KindReminder, &appts[0])
	add("apptonly", models.MsgPlanned, models.KindReminder, &appts[1])
	add("patient", models.MsgPlanned, models.KindManual, nil)
	add("sending", models.MsgSending, models.KindReminder, &appts[0])
	add("sent", models.MsgSent, models.KindReminder, &appts[0])
	add("delivered", models.MsgDelivered, models.KindReminder, &appts[1])
	add("ack", models.MsgPlanned, models.KindOptOutAck, nil)
	return ids
}

func TestOptOutAndIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ctx := context.Background()
		p := e.patient(t, "Ann", "Lee", "0612345678")
		other := e.patient(t, "Bea", "Lee", "0612345678")
		a1 := e.appointment(t, p.ID, "2026-03-10T10:00")
		a2 := e.appointment(t, p.ID, "2026-03-12T10:00")
		past := e.appointment(t, p.ID, "2026-03-04T10:00")
		cancelled := e.appointment(t, p.ID, "2026-03-05T10:00")
		if _, err := e.svc.Cancel(ctx, e.staff, cancelled.ID, ""); err != nil {
			t.Fatal(err)
		}
		otherAppt := e.appointment(t, other.ID, "2026-03-10T11:00")
		ids := seedMessages(t, s, p, a1.ID, a2.ID)
		otherMsg := seedMessages(t, s, other, otherAppt.ID, otherAppt.ID)
		e.clk.Set(time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC)) // "past" has started
		e.planner.Reset()

		if err := e.svc.OptOut(ctx, models.PatientActor(), p.ID, "sms_stop"); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.GetPatient(ctx, p.ID)
		if !got.OptedOut() || got.OptOutSource != "sms_stop" || !got.OptedOutAt.Equal(e.clk.Now()) {
			t.Fatalf("patient after opt-out = %+v", got)
		}
		want := map[string]models.MessageStatus{
			"planned1": models.MsgCancelled, "apptonly": models.MsgCancelled, "patient": models.MsgCancelled,
			"sending": models.MsgSending, "sent": models.MsgSent, "delivered": models.MsgDelivered, "ack": models.MsgPlanned,
		}
		for name, st := range want {
			var m models.Message
			if err := s.DB(ctx).First(&m, ids[name]).Error; err != nil {
				t.Fatal(err)
			}
			if m.Status != st {
				t.Errorf("message %s: status %s, want %s", name, m.Status, st)
			}
			if st == models.MsgCancelled && m.Reason != "patient opted out" {
				t.Errorf("message %s: reason %q", name, m.Reason)
			}
		}
		if n := count(t, s, &models.Message{}, "id IN ? AND status = ?", []uint{otherMsg["planned1"], otherMsg["patient"]}, models.MsgPlanned); n != 2 {
			t.Errorf("another patient sharing the phone lost planned messages: %d left, want 2", n)
		}
		// A timeline entry on each upcoming active appointment only.
		for _, id := range []uint{a1.ID, a2.ID} {
			if n := count(t, s, &models.TimelineEntry{}, "appointment_id = ? AND kind = ?", id, models.TimelineOptOut); n != 1 {
				t.Errorf("appointment %d: %d opt-out timeline rows, want 1", id, n)
			}
		}
		for _, id := range []uint{past.ID, cancelled.ID, otherAppt.ID} {
			if n := count(t, s, &models.TimelineEntry{}, "appointment_id = ? AND kind = ?", id, models.TimelineOptOut); n != 0 {
				t.Errorf("appointment %d: %d opt-out timeline rows, want 0", id, n)
			}
		}
		if n := count(t, s, &models.AuditEntry{}, "action = ? AND entity_id = ?", "patient.opt_out", p.ID); n != 1 {
			t.Fatalf("opt-out audit rows = %d, want 1", n)
		}

		// A second STOP changes nothing and writes nothing.
		if err := e.svc.OptOut(ctx, models.PatientActor(), p.ID, "smscx_link"); err != nil {
			t.Fatal(err)
		}
		again, _ := e.svc.GetPatient(ctx, p.ID)
		if again.OptOutSource != "sms_stop" {
			t.Fatalf("second opt-out changed the source to %q", again.OptOutSource)
		}
		if n := count(t, s, &models.AuditEntry{}, "action = ?", "patient.opt_out"); n != 1 {
			t.Fatalf("opt-out audit rows after repeat = %d, want 1", n)
		}

		// START: cleared, audited, and the upcoming appointments replanned.
		if err := e.svc.OptIn(ctx, models.PatientActor(), p.ID, "sms_start"); err != nil {
			t.Fatal(err)
		}
		in, _ := e.svc.GetPatient(ctx, p.ID)
		if in.OptedOut() || in.OptOutSource != "" {
			t.Fatalf("patient after opt-in = %+v", in)
		}
		if calls := e.planner.Calls(); len(calls) != 2 || calls[0] != a1.ID || calls[1] != a2.ID {
			t.Fatalf("opt-in replanned %v, want [%d %d]", calls, a1.ID, a2.ID)
		}
		if n := count(t, s, &models.AuditEntry{}, "action = ? AND entity_id = ?", "patient.opt_in", p.ID); n != 1 {
			t.Fatalf("opt-in audit rows = %d, want 1", n)
		}
		if n := count(t, s, &models.TimelineEntry{}, "appointment_id = ? AND kind = ?", a1.ID, models.TimelineOptOut); n != 2 {
			t.Fatalf("timeline rows after opt-in = %d, want 2", n)
		}

		if err := e.svc.OptOut(ctx, e.staff, 9999, "staff"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("opt-out of a missing patient = %v, want ErrNotFound", err)
		}
		wantField(t, e.svc.OptOut(ctx, e.staff, p.ID, ""), "source", "required")
	})
}

// OptOut inside a webhook's transaction that then fails leaves nothing.
func TestOptOutRollsBackWithCaller(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	ctx := context.Background()
	p := e.patient(t, "Ann", "Lee", "0612345678")
	a := e.appointment(t, p.ID, "2026-03-10T10:00")
	ids := seedMessages(t, s, p, a.ID, a.ID)
	boom := errors.New("later step failed")
	err := s.Tx(ctx, func(ctx context.Context) error {
		if err := e.svc.OptOut(ctx, models.PatientActor(), p.ID, "sms_stop"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	got, _ := e.svc.GetPatient(ctx, p.ID)
	if got.OptedOut() {
		t.Fatal("opt-out survived the rollback")
	}
	if n := count(t, s, &models.Message{}, "id = ? AND status = ?", ids["planned1"], models.MsgPlanned); n != 1 {
		t.Fatal("message cancellation survived the rollback")
	}
	if n := count(t, s, &models.AuditEntry{}, "action = ?", "patient.opt_out"); n != 0 {
		t.Fatal("audit row survived the rollback")
	}
}
