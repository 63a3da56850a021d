package dispatch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/dispatch"
	"apptconfirm/app/outbox"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// paris is the tests' location's zone.
var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return l
}()

// The report's reproduction: SMS.CX answers 500 to the first try (it may
// or may not have taken the message), and quiet hours start a minute later,
// before the retry. The retry is not dropped: it waits until quiet hours
// end, then resends with the same idempotencyId, and the patient gets one
// reminder.
func TestRetryInQuietHoursWaitsForTheirEnd(t *testing.T) {
	e := newEnv(t)
	e.clk.Set(time.Date(2026, 3, 2, 20, 59, 30, 0, paris).UTC()) // the store keeps UTC
	p := e.patient(t, "Ada", "+33612345678")
	a := e.appointment(t, p, time.Date(2026, 3, 3, 10, 0, 0, 0, paris))
	m := e.reminder(t, a, p)
	d := e.dispatcher(t, func(o *dispatch.Options) { o.BackoffBase, o.BackoffMax = time.Minute, time.Minute })

	e.fake.ServerErrorNext(1)
	if n := runOnce(t, d); n != 0 {
		t.Fatalf("first try: %d accepted", n)
	}
	got := e.reload(t, m.ID)
	retryAt := time.Date(2026, 3, 2, 21, 0, 30, 0, paris)
	if got.Status != models.MsgSending || !got.InDoubt || got.LeaseUntil == nil || !got.LeaseUntil.Equal(retryAt) {
		t.Fatalf("after the 500: %s, in doubt %v, retry at %v (want %v)", got.Status, got.InDoubt, got.LeaseUntil.In(paris), retryAt)
	}

	// The retry falls in quiet hours: it waits for their end.
	e.clk.Set(retryAt)
	if n := runOnce(t, d); n != 0 {
		t.Fatalf("in quiet hours: %d accepted", n)
	}
	got = e.reload(t, m.ID)
	morning := time.Date(2026, 3, 3, 8, 0, 0, 0, paris)
	if got.Status != models.MsgSending || !got.InDoubt || !got.LeaseUntil.Equal(morning) || got.Attempts != 1 {
		t.Fatalf("in quiet hours: %s, in doubt %v, until %v (want %v), attempts %d", got.Status, got.InDoubt, got.LeaseUntil.In(paris), morning, got.Attempts)
	}
	if e.sendRequests() != 1 {
		t.Fatalf("%d send requests; none may go out in quiet hours", e.sendRequests())
	}
	tl := e.timeline(t, a.ID)
	if last := tl[len(tl)-1].Detail; !strings.Contains(last, "quiet hours; trying again at Tue 3 Mar 08:00 CET") {
		t.Fatalf("timeline %q", last)
	}
	// Still waiting a minute before the end.
	e.clk.Set(morning.Add(-time.Minute))
	runOnce(t, d)
	if e.sendRequests() != 1 {
		t.Fatal("sent before quiet hours ended")
	}

	e.clk.Set(morning)
	if n := runOnce(t, d); n != 1 {
		t.Fatalf("after quiet hours: %d accepted, want 1", n)
	}
	got = e.reload(t, m.ID)
	if got.Status != models.MsgAccepted || got.InDoubt || got.ProviderID == "" || got.Attempts != 2 {
		t.Fatalf("after quiet hours: %+v", got)
	}
	if n := e.fake.SendCount(m.UUID); n != 1 || len(e.fake.Messages()) != 1 {
		t.Fatalf("%d real sends with the message's idempotencyId, %d messages; want one SMS", n, len(e.fake.Messages()))
	}
}

// SMS.CX takes the message but the answer is lost; before the retry the
// rule is disabled. The retry resends with the same idempotencyId first:
// SMS.CX answers with the original send, and the message is recorded
// accepted, not cancelled, so its delivery report and the patient's YES
// count.
func TestAcceptedMessageIsNeverRecordedCancelled(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.patient(t, "Bea", "+33612345679")
	a := e.appointment(t, p, t0.Add(48*time.Hour))
	m := e.reminder(t, a, p)
	d := e.dispatcher(t, nil)

	e.fake.DropNext(1)
	if n := runOnce(t, d); n != 0 {
		t.Fatalf("first try: %d accepted", n)
	}
	got := e.reload(t, m.ID)
	if got.Status != models.MsgSending || !got.InDoubt || len(e.fake.Messages()) != 1 {
		t.Fatalf("after the lost answer: %s, in doubt %v, %d sent", got.Status, got.InDoubt, len(e.fake.Messages()))
	}
	sent := e.fake.Messages()[0]

	// The rule is disabled meanwhile: a new message would be cancelled.
	if err := e.store.DB(ctx).Model(e.rule).Update("enabled", false).Error; err != nil {
		t.Fatal(err)
	}
	e.clk.Set(got.LeaseUntil.Add(time.Second))
	if n := runOnce(t, d); n != 1 {
		t.Fatalf("retry: %d accepted, want 1", n)
	}
	got = e.reload(t, m.ID)
	if got.Status != models.MsgAccepted || got.ProviderID != sent.MsgID || got.InDoubt {
		t.Fatalf("after the retry: %s (%q), want accepted with msgId %s", got.Status, got.Reason, sent.MsgID)
	}
	if len(e.fake.Messages()) != 1 || e.fake.SendCount(m.UUID) != 1 {
		t.Fatalf("%d messages sent; the retry must not send a second SMS", len(e.fake.Messages()))
	}
	// Its delivery report applies, and the patient's answer finds it.
	res, err := e.ob.ApplyReport(ctx, outbox.Report{MsgID: sent.MsgID, TrackData: m.UUID, Status: models.MsgDelivered, ProviderState: "DELIVERED"})
	if err != nil || !res.Applied {
		t.Fatalf("delivery report: %+v %v", res, err)
	}
	awaiting, err := e.store.AwaitingAnswer(ctx, p.Phone, e.clk.Now(), []string{models.KindReminder, models.KindBookingConfirm})
	if err != nil || len(awaiting) != 1 || awaiting[0].ID != a.ID {
		t.Fatalf("appointments awaiting the patient's answer: %+v %v", awaiting, err)
	}
}

// A retry that cannot have reached SMS.CX (a 429 refused it) waits out
// quiet hours too, and then is checked like a new message: the patient
// opted out overnight, so it is cancelled, never sent.
func TestRetryNotInDoubtIsCheckedAfterQuietHours(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.clk.Set(time.Date(2026, 3, 2, 20, 59, 30, 0, paris).UTC()) // the store keeps UTC
	p := e.patient(t, "Cy", "+33612345670")
	a := e.appointment(t, p, time.Date(2026, 3, 3, 10, 0, 0, 0, paris))
	m := e.reminder(t, a, p)
	d := e.dispatcher(t, func(o *dispatch.Options) { o.BackoffBase, o.BackoffMax = time.Minute, time.Minute })

	e.fake.RateLimitNext(1, time.Date(2026, 3, 2, 21, 0, 30, 0, paris))
	runOnce(t, d)
	got := e.reload(t, m.ID)
	if got.Status != models.MsgSending || got.InDoubt {
		t.Fatalf("after the 429: %s, in doubt %v; a refusal is not in doubt", got.Status, got.InDoubt)
	}
	e.clk.Set(*got.LeaseUntil)
	runOnce(t, d)
	got = e.reload(t, m.ID)
	morning := time.Date(2026, 3, 3, 8, 0, 0, 0, paris)
	if got.Status != models.MsgSending || !got.LeaseUntil.Equal(morning) {
		t.Fatalf("in quiet hours: %s until %v", got.Status, got.LeaseUntil)
	}
	if err := e.clinic.OptOut(ctx, models.SystemActor(), p.ID, "staff"); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(morning)
	runOnce(t, d)
	got = e.reload(t, m.ID)
	if got.Status != models.MsgCancelled || got.Reason != outbox.ReasonOptedOut {
		t.Fatalf("after quiet hours: %s %q, want cancelled as opted out", got.Status, got.Reason)
	}
	if len(e.fake.Messages()) != 0 {
		t.Fatal("the opted-out patient was sent the reminder")
	}
}

// A message whose claim died mid-send (the lease ran out with no outcome
// recorded) is in doubt: it is resent with the same idempotencyId even
// though a new message in its place would now be cancelled.
func TestExpiredLeaseIsResentFirst(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.patient(t, "Di", "+33612345671")
	a := e.appointment(t, p, t0.Add(48*time.Hour))
	m := e.reminder(t, a, p)
	// A dispatcher claims it, sends it, and dies before recording.
	claimed, _, err := e.ob.Claim(ctx, outbox.Claim{Limit: 10, Lease: time.Minute, MaxAttempts: 3, Now: e.clk.Now()})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	if got := e.reload(t, m.ID); !got.InDoubt {
		t.Fatal("a claimed message is not in doubt")
	}
	if _, err := e.client.Send(ctx, sendRequestOf(claimed[0].Message)); err != nil {
		t.Fatal(err)
	}
	if err := e.store.DB(ctx).Model(e.rule).Update("enabled", false).Error; err != nil {
		t.Fatal(err)
	}
	e.clk.Set(t0.Add(2 * time.Minute))
	if n := runOnce(t, e.dispatcher(t, nil)); n != 1 {
		t.Fatalf("taken over: %d accepted", n)
	}
	if got := e.reload(t, m.ID); got.Status != models.MsgAccepted || len(e.fake.Messages()) != 1 {
		t.Fatalf("taken over: %s, %d sent", got.Status, len(e.fake.Messages()))
	}
}

// sendRequestOf is the request the dispatcher makes for m.
func sendRequestOf(m *models.Message) smscx.SendRequest {
	return smscx.SendRequest{To: []string{m.To}, From: "Clinic", Text: m.Body, IdempotencyID: m.UUID, TrackData: m.UUID, DLRCallbackURL: webhookURL}
}

// A message taken over at the attempt limit (its last try's lease ran out
// in quiet hours) waits for quiet hours to end like any retry, instead of
// being failed at once; then, as it may have reached SMS.CX, it stays in
// doubt rather than being recorded failed.
func TestRetryAtTheAttemptLimitWaitsOutQuietHours(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	night := time.Date(2026, 3, 2, 21, 30, 0, 0, paris)
	e.clk.Set(night.UTC())
	p := e.patient(t, "Hal", "+33612345675")
	a := e.appointment(t, p, time.Date(2026, 3, 3, 10, 0, 0, 0, paris))
	m := e.reminder(t, a, p)
	expired := night.Add(-time.Minute).UTC()
	err := e.store.DB(ctx).Model(m).Updates(map[string]any{"status": models.MsgSending, "attempts": 3, "lease_until": expired, "in_doubt": true, "body": "Hi Hal"}).Error
	if err != nil {
		t.Fatal(err)
	}
	d := e.dispatcher(t, nil) // 3 attempts
	runOnce(t, d)
	got := e.reload(t, m.ID)
	morning := time.Date(2026, 3, 3, 8, 0, 0, 0, paris)
	if got.Status != models.MsgSending || got.LeaseUntil == nil || !got.LeaseUntil.Equal(morning) || got.Attempts != 3 {
		t.Fatalf("in quiet hours: %s %q, until %v, attempts %d; want held until %v", got.Status, got.Reason, got.LeaseUntil, got.Attempts, morning)
	}
	e.clk.Set(morning)
	runOnce(t, d)
	got = e.reload(t, m.ID)
	if got.Status != models.MsgSending || !got.InDoubt || got.LeaseUntil != nil || !strings.Contains(got.Reason, "outcome is unknown") {
		t.Fatalf("after quiet hours: %s, in doubt %v, lease %v, %q; want left in doubt", got.Status, got.InDoubt, got.LeaseUntil, got.Reason)
	}
	if e.sendRequests() != 0 {
		t.Fatalf("%d sends", e.sendRequests())
	}
}

// A retry in doubt falls in quiet hours that end after the appointment
// starts: it is not resent after the appointment has begun (SMS.CX never
// had it, so that would be a reminder after the visit); it stays in doubt.
// One that cannot have reached SMS.CX is skipped, with the reason.
func TestRetryWhoseAppointmentStartsInQuietHours(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   func(e *env)
		inDoubt bool
	}{
		{"500", func(e *env) { e.fake.ServerErrorNext(1) }, true},
		{"429", func(e *env) { e.fake.RateLimitNext(1, time.Date(2026, 3, 2, 21, 0, 30, 0, paris)) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.clk.Set(time.Date(2026, 3, 2, 20, 59, 30, 0, paris).UTC())
			p := e.patient(t, "Ivy", "+33612345676")
			a := e.appointment(t, p, time.Date(2026, 3, 3, 7, 30, 0, 0, paris))
			m := e.reminder(t, a, p)
			d := e.dispatcher(t, func(o *dispatch.Options) { o.BackoffBase, o.BackoffMax = time.Minute, time.Minute })
			tc.fault(e)
			runOnce(t, d)
			got := e.reload(t, m.ID)
			e.clk.Set(*got.LeaseUntil)
			runOnce(t, d)
			got = e.reload(t, m.ID)
			if tc.inDoubt {
				if got.Status != models.MsgSending || !got.InDoubt || got.LeaseUntil != nil || !strings.Contains(got.Reason, outbox.ReasonStartsInQuiet) {
					t.Fatalf("%s, in doubt %v, lease %v, %q; want left in doubt", got.Status, got.InDoubt, got.LeaseUntil, got.Reason)
				}
			} else if got.Status != models.MsgSkipped || got.Reason != outbox.ReasonStartsInQuiet {
				t.Fatalf("%s %q; want skipped: %s", got.Status, got.Reason, outbox.ReasonStartsInQuiet)
			}
			e.clk.Set(time.Date(2026, 3, 3, 8, 0, 0, 0, paris))
			runOnce(t, d)
			if len(e.fake.Sends()) != 0 {
				t.Fatal("the reminder went out after the appointment started")
			}
		})
	}
}
