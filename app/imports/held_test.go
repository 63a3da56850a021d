package imports_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/clinic"
	"apptconfirm/app/imports"
	"apptconfirm/app/outbox"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// heldRows are rows whose reminders depend on each other: the caps count
// a patient's reminders planned by earlier rows of the batch, a later row
// changes the number of a patient an earlier row booked (its reminders
// follow), one row confirms what it books, one books nothing.
var heldRows = []string{
	"A-1,P-1,Ann,Lee,+33611111111,2026-03-05 10:00,",
	"A-2,P-1,Ann,Lee,+33611111111,2026-03-05 15:00,",
	"A-3,P-1,Ann,Lee,+33611111111,2026-03-06 10:00,",
	"A-4,P-2,Bob,Roy,+33622222222,2026-03-07 10:00,",
	"A-5,P-2,Bob,Roy,+33633333333,2026-03-08 10:00,",
	"A-6,P-3,Cyd,Fox,+33644444444,2026-03-04 11:00,confirmed",
	"A-7,P-1,Ann,Lee,+33611111111,2026-03-09 10:00,cancelled",
	"A-8,P-1,Ann,Lee,+33611111111,2026-03-05 18:00,",
}

const heldHeader = "external_id,patient_external_id,first_name,last_name,phone,starts_at,status\n"

// heldEnv is a store with the outbox planning under tight caps.
func heldEnv(t *testing.T, open func(testing.TB) *models.Store) (*models.Store, *imports.Service) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
	store := open(t)
	ob := outbox.New(store, outbox.Options{Now: now, ClinicName: "Cabinet Dupont", Caps: schedule.Caps{PerDay: 1, PerWeek: 3}, BookingConfirmation: true})
	cl := clinic.New(store, clinic.Options{Now: now, Planner: ob})
	if err := cl.EnsureDefaults(ctx, clinic.Defaults{ClinicName: "Paris", Timezone: "Europe/Paris", Country: "FR"}); err != nil {
		t.Fatal(err)
	}
	return store, imports.New(store, cl)
}

// heldState lists the messages, timeline entries and message events of a
// store, by appointment external id, without ids.
func heldState(t *testing.T, store *models.Store) []string {
	ctx := context.Background()
	var out []string
	var ms []struct {
		ExternalID, Kind, RuleName, Status, Reason, To string
		SendAt                                         time.Time
	}
	if err := store.DB(ctx).Raw(`SELECT a.external_id, m.kind, m.rule_name, m.status, m.reason, m."to", m.send_at
		FROM messages m JOIN appointments a ON a.id = m.appointment_id
		ORDER BY a.external_id, m.kind, m.send_at, m.status`).Scan(&ms).Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		out = append(out, fmt.Sprintf("message %s %s %s %s %q %s %s", m.ExternalID, m.Kind, m.RuleName, m.Status, m.Reason, m.To, m.SendAt.UTC().Format(time.RFC3339)))
	}
	var tl []struct {
		ExternalID, Kind, Detail string
		SameAppointment          *bool
	}
	if err := store.DB(ctx).Raw(`SELECT a.external_id, t.kind, t.detail,
			CASE WHEN t.message_id IS NULL THEN NULL ELSE m.appointment_id = t.appointment_id END AS same_appointment
		FROM timeline_entries t JOIN appointments a ON a.id = t.appointment_id
		LEFT JOIN messages m ON m.id = t.message_id
		ORDER BY a.external_id, t.kind, t.detail`).Scan(&tl).Error; err != nil {
		t.Fatal(err)
	}
	for _, e := range tl {
		same := "-"
		if e.SameAppointment != nil {
			same = fmt.Sprint(*e.SameAppointment)
		}
		out = append(out, fmt.Sprintf("timeline %s %s %q message of the appointment: %s", e.ExternalID, e.Kind, e.Detail, same))
	}
	n := map[string]int{}
	for _, e := range storetest.EventsOf(store).All() {
		if e.Type == models.EventMessage {
			if e.MessageID == 0 {
				t.Errorf("message event without a message: %+v", e)
			}
			n[e.Status+" "+e.Source]++
		}
	}
	out = append(out, fmt.Sprintf("message events %v", n))
	return out
}

// Holding a batch's reminders for one multi-row insert changes nothing of
// what is planned: the file imported at once leaves the same messages,
// timeline and events as its rows imported one file each, on SQLite and
// PostgreSQL.
func TestHeldRemindersPlanAsRowByRow(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { heldRowByRow(t, storetest.SQLite) })
	t.Run("postgres", func(t *testing.T) { heldRowByRow(t, storetest.Postgres) })
}

func heldRowByRow(t *testing.T, open func(testing.TB) *models.Store) {
	ctx := context.Background()
	whole, svc := heldEnv(t, open)
	res, err := svc.Import(ctx, models.SystemActor(), strings.NewReader(heldHeader+strings.Join(heldRows, "\n")+"\n"), imports.Options{})
	if err != nil || res.Refused != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	one, svc1 := heldEnv(t, open)
	for _, r := range heldRows {
		if res, err := svc1.Import(ctx, models.SystemActor(), strings.NewReader(heldHeader+r+"\n"), imports.Options{}); err != nil || res.Refused != 0 {
			t.Fatalf("%s: %+v %v", r, res, err)
		}
	}
	got, want := heldState(t, whole), heldState(t, one)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the file at once:\n%s\nrow by row:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	skipped, moved := false, false
	for _, l := range got {
		skipped = skipped || strings.Contains(l, "skipped")
		moved = moved || strings.Contains(l, "+33633333333")
	}
	if !skipped || !moved {
		t.Errorf("the caps skipped nothing (%v) or no reminder follows the new number (%v):\n%s", skipped, moved, strings.Join(got, "\n"))
	}
}
