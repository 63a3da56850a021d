// Package analyticstest generates a clinic's history for the analytics'
// tests and benchmarks: patients, appointments, reminders sent or not,
// confirmations, outcomes, moves and freed times offered to the waitlist,
// from a seeded generator, keeping every generated fact so that a test
// can compute the expected figures by plain loops.
package analyticstest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"apptconfirm/models"
)

// World is what a generated clinic holds: the rows the generator wrote,
// kept so that tests can compute the expected figures with plain loops.
type World struct {
	Locations []models.Location
	Providers []models.Provider
	Rules     []models.ReminderRule
	// DeletedRule is the name reminders of a rule that no longer exists
	// carry (rule_id NULL).
	DeletedRule string
	Types       []models.AppointmentType
	Patients    []Patient
	Appts       []Appt
	Slots       []Slot
}

// Slot is a freed time and the statuses of the offers of it.
type Slot struct {
	FreedID                        uint
	LocationID, ProviderID, TypeID uint
	StartsAt                       time.Time
	Offers                         []models.WaitlistOfferStatus
}

// Patient is a generated patient.
type Patient struct {
	ID       uint
	Language string
}

// Appt is a generated appointment, with its messages.
type Appt struct {
	ID          uint
	PatientID   uint
	LocationID  uint
	ProviderID  uint // 0: none
	TypeID      uint // 0: none
	StartsAt    time.Time
	Status      models.AppointmentStatus
	ConfirmedAt *time.Time
	Rescheduled bool
	Msgs        []Msg
}

// Msg is a generated message.
type Msg struct {
	ID        uint
	RuleID    uint // 0: the deleted rule
	RuleName  string
	Kind      string
	SentAt    *time.Time
	Delivered bool
}

// Options shape a generated clinic.
type Options struct {
	Seed     uint64
	Patients int
	Appts    int
	// From and Days: appointments start on the days from From on, 08:00
	// to 17:45 local time.
	From time.Time
	Days int
	// Now: appointments before it have their reminders sent and outcomes.
	Now time.Time
	// Discard keeps no records in the World (a benchmark's million
	// appointments would fill the memory): only the rows are written.
	Discard bool
}

// Generate writes a clinic into st, fast: multi-row INSERTs inside one
// transaction per table chunk. The same options give the same rows.
func Generate(t testing.TB, st *models.Store, o Options) *World {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	w := &World{DeletedRule: "Old 24h reminder"}
	for _, l := range []models.Location{
		{Name: "Main Street", TimeZone: "America/Chicago", Country: "US"},
		{Name: "Harbour", TimeZone: "Europe/Paris", Country: "FR"},
		{Name: "Bay", TimeZone: "Asia/Kolkata", Country: "IN"},
	} {
		l := l
		if err := st.CreateLocation(ctx, &l); err != nil {
			t.Fatal(err)
		}
		w.Locations = append(w.Locations, l)
	}
	for _, name := range []string{"Dr Kim", "Dr Osei", "Dr Novak"} {
		p := models.Provider{Name: name, Active: true}
		if err := st.CreateProvider(ctx, &p); err != nil {
			t.Fatal(err)
		}
		w.Providers = append(w.Providers, p)
	}
	for _, r := range []models.ReminderRule{
		{Name: "Two days ahead", BeforeSeconds: 48 * 3600, Enabled: true},
		{Name: "Same day", BeforeSeconds: 2 * 3600, Enabled: true},
		{Name: "A week ahead", BeforeSeconds: 7 * 24 * 3600, Enabled: true},
	} {
		r := r
		if err := st.CreateRule(ctx, &r); err != nil {
			t.Fatal(err)
		}
		w.Rules = append(w.Rules, r)
	}
	for _, name := range []string{"Check-up", "Cleaning"} {
		ty := models.AppointmentType{Name: name, DefaultDurationMinutes: 30}
		if err := st.CreateAppointmentType(ctx, &ty); err != nil {
			t.Fatal(err)
		}
		w.Types = append(w.Types, ty)
	}
	langs := []string{"en", "en", "en", "fr", "de", "es", "nl", "pt", "it", "xx"}
	now := o.Now.UTC()
	pid, err := st.MaxID(ctx, "patients")
	if err != nil {
		t.Fatal(err)
	}
	pRows := make([][]any, 0, o.Patients)
	for i := range o.Patients {
		pid++
		lang := langs[rng.IntN(len(langs))]
		w.Patients = append(w.Patients, Patient{ID: pid, Language: lang})
		pRows = append(pRows, []any{pid, fmt.Sprintf("P%d", i), "Test", fmt.Sprintf("+1555%07d", i%10_000_000), lang, now, now})
	}
	insertRows(t, st, "patients", "id, first_name, last_name, phone, language, created_at, updated_at", pRows)

	aid, err := st.MaxID(ctx, "appointments")
	if err != nil {
		t.Fatal(err)
	}
	mid, err := st.MaxID(ctx, "messages")
	if err != nil {
		t.Fatal(err)
	}
	slotID, err := st.MaxID(ctx, "waitlist_slots")
	if err != nil {
		t.Fatal(err)
	}
	zones := make([]*time.Location, len(w.Locations))
	for i := range w.Locations {
		zones[i] = w.Locations[i].Zone()
	}
	var aRows, mRows, eRows, sRows, oRows [][]any
	flush := func(force bool) {
		if force || len(aRows) >= 20_000 {
			insertRows(t, st, "waitlist_slots", "id, freed_appointment_id, location_id, provider_id, appointment_type_id, starts_at, duration_minutes, status, next_batch_at, created_at, updated_at", sRows)
			insertRows(t, st, "waitlist_offers", "slot_id, freed_appointment_id, waitlist_entry_id, patient_id, sent_at, expires_at, status, batch, created_at, updated_at", oRows)
			sRows, oRows = sRows[:0], oRows[:0]
			insertRows(t, st, "appointments", "appointment_type_id, id, patient_id, location_id, provider_id, starts_at, duration_minutes, status, confirmed_at, cancelled_at, created_at, updated_at", aRows)
			insertRows(t, st, "messages", "id, uuid, appointment_id, patient_id, rule_id, rule_name, kind, \"to\", status, send_at, sent_at, delivered_at, created_at, updated_at", mRows)
			insertRows(t, st, "events", "at, type, appointment_id", eRows)
			aRows, mRows, eRows = aRows[:0], mRows[:0], eRows[:0]
		}
	}
	for i := range o.Appts {
		aid++
		li := rng.IntN(len(w.Locations))
		z := zones[li]
		day := o.From.In(z).AddDate(0, 0, i*o.Days/o.Appts)
		start := time.Date(day.Year(), day.Month(), day.Day(), 8, 15*rng.IntN(40), 0, 0, z).UTC()
		p := w.Patients[rng.IntN(len(w.Patients))]
		a := Appt{ID: aid, PatientID: p.ID, LocationID: w.Locations[li].ID, StartsAt: start, Status: models.Scheduled}
		if k := rng.IntN(4); k > 0 {
			a.ProviderID = w.Providers[k-1].ID
		}
		if k := rng.IntN(3); k > 0 {
			a.TypeID = w.Types[k-1].ID
		}
		// The reminders: each rule's, sent when due and before now; the
		// deleted rule's on some.
		type plan struct {
			id     uint
			name   string
			before time.Duration
		}
		plans := []plan{{w.Rules[0].ID, w.Rules[0].Name, w.Rules[0].Before()}, {w.Rules[1].ID, w.Rules[1].Name, w.Rules[1].Before()}}
		if rng.IntN(10) == 0 {
			plans = append(plans, plan{w.Rules[2].ID, w.Rules[2].Name, w.Rules[2].Before()})
		}
		if rng.IntN(8) == 0 {
			plans = append(plans, plan{0, w.DeletedRule, 24 * time.Hour})
		}
		optedOut := rng.IntN(12) == 0
		for _, pl := range plans {
			due := start.Add(-pl.before).Add(time.Duration(rng.IntN(600)) * time.Second)
			m := Msg{RuleID: pl.id, RuleName: pl.name, Kind: models.KindReminder}
			if due.Before(now) && !optedOut && rng.IntN(20) != 0 {
				sent := due
				m.SentAt = &sent
				m.Delivered = rng.IntN(10) < 8
			}
			a.Msgs = append(a.Msgs, m)
		}
		// A booking confirmation, which is not a reminder.
		bc := start.Add(-10 * 24 * time.Hour)
		a.Msgs = append(a.Msgs, Msg{Kind: models.KindBookingConfirm, SentAt: &bc, Delivered: true})
		// The confirmation: after one of the sent reminders, or before any.
		var sent []time.Time
		for _, m := range a.Msgs {
			if m.Kind == models.KindReminder && m.SentAt != nil {
				sent = append(sent, *m.SentAt)
			}
		}
		if rng.IntN(10) < 6 {
			var at time.Time
			switch {
			case len(sent) > 0 && rng.IntN(6) != 0:
				at = sent[rng.IntN(len(sent))].Add(time.Duration(1+rng.IntN(3600)) * time.Second)
			default:
				at = start.Add(-9 * 24 * time.Hour)
			}
			if at.Before(now) {
				a.ConfirmedAt = &at
				a.Status = models.Confirmed
			}
		}
		switch r := rng.IntN(100); {
		case r < 10:
			a.Status = models.Cancelled
		case start.Before(now) && r < 20:
			a.Status = models.NoShow
		case start.Before(now) && r < 85:
			a.Status = models.Completed
		case r < 88:
			a.Status, a.ConfirmedAt = models.RescheduleRequested, nil
		}
		a.Rescheduled = rng.IntN(12) == 0
		var cancelled any
		if a.Status == models.Cancelled {
			cancelled = start.Add(-24 * time.Hour)
		}
		var prov any
		if a.ProviderID != 0 {
			prov = a.ProviderID
		}
		var conf any
		if a.ConfirmedAt != nil {
			conf = *a.ConfirmedAt
		}
		var typ any
		if a.TypeID != 0 {
			typ = a.TypeID
		}
		if a.Status == models.Cancelled || a.Rescheduled {
			// The freed time, offered to the waitlist (or not: no one suited).
			slotID++
			sl := Slot{FreedID: aid, LocationID: a.LocationID, ProviderID: a.ProviderID, TypeID: a.TypeID, StartsAt: start}
			taken := rng.IntN(2) == 0
			for k := range rng.IntN(4) {
				status := []models.WaitlistOfferStatus{models.WaitlistOffered, models.WaitlistExpired, models.WaitlistTooLate}[rng.IntN(3)]
				if taken && k == 0 {
					status = models.WaitlistTaken
				}
				sl.Offers = append(sl.Offers, status)
				sent := start.Add(-30 * time.Hour)
				oRows = append(oRows, []any{slotID, aid, 1, p.ID, sent, sent.Add(30 * time.Minute), string(status), 1, now, now})
			}
			sRows = append(sRows, []any{slotID, aid, a.LocationID, prov, typ, start, 30, string(models.SlotOpen), start, now, now})
			if !o.Discard {
				w.Slots = append(w.Slots, sl)
			}
		}
		aRows = append(aRows, []any{typ, aid, p.ID, a.LocationID, prov, start, 30, string(a.Status), conf, cancelled, now, now})
		for j := range a.Msgs {
			mid++
			m := &a.Msgs[j]
			m.ID = mid
			status, sentAt, delivered := models.MsgPlanned, any(nil), any(nil)
			if m.SentAt != nil {
				status, sentAt = models.MsgSent, *m.SentAt
				if m.Delivered {
					status, delivered = models.MsgDelivered, m.SentAt.Add(5*time.Second)
				}
			}
			var rule any
			if m.RuleID != 0 {
				rule = m.RuleID
			}
			due := start
			if m.SentAt != nil {
				due = *m.SentAt
			}
			mRows = append(mRows, []any{mid, fmt.Sprintf("%032x", mid), aid, p.ID, rule, m.RuleName, m.Kind, "+15550000000", string(status), due, sentAt, delivered, now, now})
		}
		eRows = append(eRows, []any{start.Add(-20 * 24 * time.Hour), models.EventAppointmentCreated, aid})
		if a.Rescheduled {
			eRows = append(eRows, []any{start.Add(-5 * 24 * time.Hour), models.EventAppointmentRescheduled, aid})
		}
		if !o.Discard {
			w.Appts = append(w.Appts, a)
		}
		flush(false)
	}
	flush(true)
	return w
}

// insertRows writes rows into table, failing the test on an error.
func insertRows(t testing.TB, st *models.Store, table, cols string, rows [][]any) {
	t.Helper()
	names := strings.Split(cols, ",")
	for i := range names {
		names[i] = strings.Trim(strings.TrimSpace(names[i]), `"`)
	}
	if err := st.InsertRows(context.Background(), table, names, rows); err != nil {
		t.Fatal(err)
	}
}
