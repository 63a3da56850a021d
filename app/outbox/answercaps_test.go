package outbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/outbox"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// Answers over their cap are recorded skipped, with the reason, and never
// become due; the cap is per number, per 24 hours, and STOP and START
// answers count together.
func TestAnswerCaps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		clk := &clock{t: t0}
		ob := outbox.New(s, outbox.Options{Now: clk.Now, AnswerCaps: outbox.AnswerCaps{Help: 2, StopStart: 3}})
		queue := func(kind, to string) *models.Message {
			t.Helper()
			m, err := ob.Queue(ctx, outbox.Outgoing{Kind: kind, To: to, Body: "text"})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		const loop, other = "+33600000001", "+33600000002"
		for i, want := range []models.MessageStatus{models.MsgPlanned, models.MsgPlanned, models.MsgSkipped, models.MsgSkipped} {
			if m := queue(models.KindHelp, loop); m.Status != want {
				t.Fatalf("help %d: %s, want %s", i+1, m.Status, want)
			}
		}
		m := queue(models.KindHelp, loop)
		if !strings.Contains(m.Reason, "already got 2 help texts in 24 hours") {
			t.Fatalf("reason %q", m.Reason)
		}
		if m := queue(models.KindHelp, other); m.Status != models.MsgPlanned {
			t.Fatalf("another number: %s", m.Status)
		}
		// STOP, START, STOP, START: three answers, then none.
		for i, kind := range []string{models.KindOptOutAck, models.KindOptInAck, models.KindOptOutAck, models.KindOptInAck} {
			want := models.MsgPlanned
			if i == 3 {
				want = models.MsgSkipped
			}
			if m := queue(kind, loop); m.Status != want {
				t.Fatalf("answer %d (%s): %s, want %s", i+1, kind, m.Status, want)
			}
		}
		// Other kinds are not capped.
		for range 5 {
			if m := queue(models.KindManual, loop); m.Status != models.MsgPlanned {
				t.Fatal("a staff message was capped")
			}
		}
		// A day later the number may be answered again.
		clk.Set(t0.Add(24*time.Hour + time.Second))
		if m := queue(models.KindHelp, loop); m.Status != models.MsgPlanned {
			t.Fatalf("a day later: %s", m.Status)
		}
		due, err := s.PlannedDueBefore(ctx, clk.Now(), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range due {
			if d.Status != models.MsgPlanned {
				t.Fatalf("a skipped answer is due: %+v", d)
			}
		}
	})
}
