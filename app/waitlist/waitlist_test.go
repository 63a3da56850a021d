package waitlist

import (
	"strings"
	"testing"
	"time"

	"apptconfirm/models"
)

func TestEntryInputValidate(t *testing.T) {
	tests := []struct {
		name   string
		in     EntryInput
		fields []string
		days   string
	}{
		{"any time", EntryInput{PatientID: 1}, nil, ""},
		{"days sorted, deduplicated, any case", EntryInput{PatientID: 1, Days: []string{"FRI", "mon", " mon "}}, nil, "mon fri"},
		{"every day is any day", EntryInput{PatientID: 1, Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}, nil, ""},
		{"no patient", EntryInput{}, []string{"patient_id"}, ""},
		{"bad day", EntryInput{PatientID: 1, Days: []string{"funday"}}, []string{"days"}, ""},
		{"bad times", EntryInput{PatientID: 1, From: "25:00", Until: "noon"}, []string{"from", "until"}, ""},
		{"until before from", EntryInput{PatientID: 1, From: "12:00", Until: "09:00"}, []string{"until"}, ""},
		{"long notes", EntryInput{PatientID: 1, Notes: strings.Repeat("é", MaxNotes+1)}, []string{"notes"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, fe := tc.in.validate()
			if len(fe) != len(tc.fields) {
				t.Fatalf("errors %v, want fields %v", fe, tc.fields)
			}
			for _, f := range tc.fields {
				if fe[f] == "" {
					t.Errorf("no error on %s: %v", f, fe)
				}
			}
			if len(fe) == 0 && e.Days != tc.days {
				t.Errorf("days %q, want %q", e.Days, tc.days)
			}
		})
	}
}

// SuitsAt reads the wall clock of the location, also on the night clocks
// go forward.
func TestSuitsAt(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	e := &models.WaitlistEntry{Days: "sun mon", FromTime: "09:00", UntilTime: "12:00"}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 3, 29, 9, 0, 0, 0, paris), true},     // Sunday, the day clocks go forward
		{time.Date(2026, 3, 29, 8, 59, 0, 0, paris), false},   // before from
		{time.Date(2026, 3, 29, 12, 0, 0, 0, paris), false},   // until is excluded
		{time.Date(2026, 3, 31, 10, 0, 0, 0, paris), false},   // Tuesday
		{time.Date(2026, 3, 30, 11, 59, 0, 0, paris), true},   // Monday
		{time.Date(2026, 3, 30, 8, 30, 0, 0, time.UTC), true}, // 10:30 in Paris
	} {
		if got := SuitsAt(e, tc.at, paris); got != tc.want {
			t.Errorf("SuitsAt(%s) = %v, want %v", tc.at.In(paris), got, tc.want)
		}
	}
	if !SuitsAt(&models.WaitlistEntry{}, time.Date(2026, 3, 31, 3, 0, 0, 0, paris), paris) {
		t.Error("an entry with no days or hours suits any time")
	}
}

// FuzzEntryInput: whatever staff or an integrator send, validation never
// panics, and what it accepts is normalised (it validates again to the
// same entry).
func FuzzEntryInput(f *testing.F) {
	f.Add("mon tue", "09:00", "12:30", "notes")
	f.Add("FUNDAY", "25:00", "", "")
	f.Add("", "9:5", "24:00", "\x00")
	f.Fuzz(func(t *testing.T, days, from, until, notes string) {
		in := EntryInput{PatientID: 1, Days: strings.Fields(days), From: from, Until: until, Notes: notes}
		e, fe := in.validate()
		if len(fe) > 0 {
			return
		}
		again, fe := EntryInput{PatientID: 1, Days: strings.Fields(e.Days), From: e.FromTime, Until: e.UntilTime, Notes: e.Notes}.validate()
		if len(fe) > 0 || again.Days != e.Days || again.FromTime != e.FromTime || again.UntilTime != e.UntilTime || again.Notes != e.Notes {
			t.Fatalf("not normalised: %+v then %+v (%v)", e, again, fe)
		}
	})
}
