package analytics_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"apptconfirm/app/analytics"
	"apptconfirm/app/analytics/analyticstest"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// same fails unless the summarised report equals the direct one in every
// figure (the times they were made aside).
func same(t *testing.T, what string, sum, direct *analytics.Report) {
	t.Helper()
	a, b := *sum, *direct
	if !a.FromSummary || b.FromSummary {
		t.Fatalf("%s: from the summary %v, direct from the summary %v", what, a.FromSummary, b.FromSummary)
	}
	a.ComputedAt, a.AsOf, b.ComputedAt, b.AsOf = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	a.FromSummary = false
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s: the summary's report differs from the direct one:\nsummary %+v\ndirect  %+v", what, a, b)
	}
}

// change runs fn in a transaction recording ev, as the app's write paths
// do.
func change(t *testing.T, st *models.Store, ev models.Event, fn func(ctx context.Context) error) {
	t.Helper()
	err := st.Tx(context.Background(), func(ctx context.Context) error {
		if err := fn(ctx); err != nil {
			return err
		}
		return st.Record(ctx, ev)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSummaryMatchesDirect builds the per-day summary of seeded data and
// checks that the report it gives equals the one counted directly, over
// several ranges, on SQLite and PostgreSQL; then after a confirmation, a
// delivery, a no-show and a move to another day: at once (the report
// counts the few touched days itself) and after the refresh job's run;
// and that with many days out of date it answers from the summary and says
// as of when.
func TestSummaryMatchesDirect(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *models.Store) {
		ctx := context.Background()
		from := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
		w := analyticstest.Generate(t, st, analyticstest.Options{Seed: 11, Patients: 300, Appts: 3000, From: from, Days: 60, Now: testNow})
		now := testNow
		svc := analytics.New(st, analytics.Options{Now: func() time.Time { return now }})
		chicago := w.Locations[0].Zone()
		ranges := [][2]string{{"2026-02-20", "2026-04-20"}, {"2026-03-05", "2026-03-12"}, {"2026-03-27", "2026-03-31"}}
		compare := func(what string) {
			t.Helper()
			for _, rg := range ranges {
				r, fe := analytics.ParseRange(rg[0], rg[1], chicago, testNow)
				if fe != nil {
					t.Fatal(fe)
				}
				sum, err := svc.Report(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				direct, err := svc.Direct(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				same(t, what+" "+rg[0]+".."+rg[1], sum, direct)
				if !sum.AsOf.Equal(sum.ComputedAt) {
					t.Errorf("%s: exact report as of %v, made at %v", what, sum.AsOf, sum.ComputedAt)
				}
			}
		}
		// Two refreshes at once (two instances, or the job and a request):
		// the days are counted once each, whichever does it.
		var n2 int
		var err2 error
		done := make(chan struct{})
		go func() {
			defer close(done)
			n2, err2 = analytics.New(st, analytics.Options{Now: func() time.Time { return testNow }}).Refresh(ctx, chicago)
		}()
		n, err := svc.Refresh(ctx, chicago)
		<-done
		if err != nil || err2 != nil {
			t.Fatal(err, err2)
		}
		n = max(n, n2)
		if n < 60 {
			t.Fatalf("the first refresh counted %d days, want the 60 or so of the data", n)
		}
		if dirty, _ := st.AnalyticsDirtyDays(ctx, "", ""); len(dirty) != 0 {
			t.Fatalf("%d days still out of date after a refresh", len(dirty))
		}
		compare("seeded")

		// Pick a past appointment that is reminded and not confirmed, one
		// with a sent reminder not delivered, and one to move.
		var unconfirmed, moved *analyticstest.Appt
		var undelivered *analyticstest.Msg
		var undeliveredAppt uint
		for i := range w.Appts {
			a := &w.Appts[i]
			if !a.StartsAt.Before(testNow) {
				continue
			}
			for j := range a.Msgs {
				m := &a.Msgs[j]
				if m.Kind == models.KindReminder && m.SentAt != nil && !m.Delivered && undelivered == nil {
					undelivered, undeliveredAppt = m, a.ID
				}
			}
			if a.ConfirmedAt == nil && a.Status == models.Completed && len(a.Msgs) > 1 && unconfirmed == nil {
				unconfirmed = a
			} else if moved == nil && a.Status == models.Scheduled && a.StartsAt.After(from.AddDate(0, 0, 10)) {
				moved = a
			}
		}
		if unconfirmed == nil || undelivered == nil || moved == nil {
			t.Fatalf("the generator made no appointment to change (%v %v %v)", unconfirmed, undelivered, moved)
		}
		conf := testNow.Add(-time.Hour)
		change(t, st, models.Event{At: now, Type: models.EventAppointmentConfirmed, AppointmentID: unconfirmed.ID}, func(ctx context.Context) error {
			return st.DB(ctx).Exec("UPDATE appointments SET confirmed_at = ? WHERE id = ?", conf.UTC(), unconfirmed.ID).Error
		})
		change(t, st, models.Event{At: now, Type: models.EventMessage, AppointmentID: undeliveredAppt, MessageID: undelivered.ID, Status: "delivered"},
			func(ctx context.Context) error {
				return st.DB(ctx).Exec("UPDATE messages SET delivered_at = ? WHERE id = ?", testNow.UTC(), undelivered.ID).Error
			})
		change(t, st, models.Event{At: now, Type: models.EventAppointmentNoShow, AppointmentID: unconfirmed.ID}, func(ctx context.Context) error {
			return st.DB(ctx).Exec("UPDATE appointments SET status = ? WHERE id = ?", models.NoShow, unconfirmed.ID).Error
		})
		change(t, st, models.Event{At: now, Type: models.EventAppointmentRescheduled, AppointmentID: moved.ID}, func(ctx context.Context) error {
			return st.DB(ctx).Exec("UPDATE appointments SET starts_at = ? WHERE id = ?",
				moved.StartsAt.AddDate(0, 0, -9).UTC(), moved.ID).Error
		})
		now = now.Add(time.Minute)
		compare("changed, counted by the report")
		if _, err := svc.Refresh(ctx, chicago); err != nil {
			t.Fatal(err)
		}
		compare("changed, refreshed")

		// Many days touched at once: the report answers from the summary
		// as it stands, and says since when it may miss changes.
		marked := now
		for i := 0; i < 3*analytics.InlineDays; i++ {
			a := w.Appts[i*len(w.Appts)/(3*analytics.InlineDays)]
			change(t, st, models.Event{At: now, Type: models.EventAppointmentCancelled, AppointmentID: a.ID}, func(ctx context.Context) error {
				return st.DB(ctx).Exec("UPDATE appointments SET status = ? WHERE id = ?", models.Cancelled, a.ID).Error
			})
		}
		now = now.Add(time.Minute)
		r, _ := analytics.ParseRange(ranges[0][0], ranges[0][1], chicago, testNow)
		stale, err := svc.Report(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if !stale.FromSummary || !stale.AsOf.Equal(marked) || !stale.ComputedAt.Equal(now) {
			t.Errorf("stale report: as of %v, made %v; want as of %v, made %v", stale.AsOf, stale.ComputedAt, marked, now)
		}
		if _, err := svc.Refresh(ctx, chicago); err != nil {
			t.Fatal(err)
		}
		compare("many changes, refreshed")

		// A patient's language changed: every day of theirs.
		p := w.Patients[0]
		lang := "de"
		if p.Language == lang {
			lang = "fr"
		}
		change(t, st, models.Event{At: now, Type: models.EventPatientUpdated, PatientID: p.ID}, func(ctx context.Context) error {
			return st.DB(ctx).Exec("UPDATE patients SET language = ? WHERE id = ?", lang, p.ID).Error
		})
		if _, err := svc.Refresh(ctx, chicago); err != nil {
			t.Fatal(err)
		}
		compare("a language changed, refreshed")

		// A location's zone changed: its local hours differ on every day,
		// so the report is counted directly until the job starts the
		// summary again.
		if err := st.DB(ctx).Exec("UPDATE locations SET time_zone = ? WHERE id = ?", "Asia/Tokyo", w.Locations[1].ID).Error; err != nil {
			t.Fatal(err)
		}
		if rep, err := svc.Report(ctx, r); err != nil || rep.FromSummary {
			t.Fatalf("after a zone change: from the summary %v (%v)", rep != nil && rep.FromSummary, err)
		}
		if _, err := svc.Refresh(ctx, chicago); err != nil {
			t.Fatal(err)
		}
		compare("a zone changed, refreshed")
	})
}
