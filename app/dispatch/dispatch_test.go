package dispatch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/dispatch"
	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

func TestRunOnceSendsDueMessages(t *testing.T) {
	e := newEnv(t)
	p := e.patient(t, "Ada", "+33612345678")
	a := e.appointment(t, p, t0.Add(48*time.Hour))
	rem := e.reminder(t, a, p)
	ack := e.message(t, models.Message{PatientID: &p.ID, AppointmentID: &a.ID, Kind: models.KindAckConfirm, To: p.Phone, Body: "Thank you Ada, confirmed."})
	later := e.message(t, models.Message{PatientID: &p.ID, To: p.Phone, Body: "later", SendAt: t0.Add(time.Minute)})
	d := e.dispatcher(t, nil)

	if n := runOnce(t, d); n != 2 {
		t.Fatalf("sent %d, want 2", n)
	}
	sends := e.fake.Sends()
	if len(sends) != 2 {
		t.Fatalf("the gateway got %d sends, want 2", len(sends))
	}
	byID := map[string]int{}
	for i, s := range sends {
		byID[s.IdempotencyID] = i
		if s.TrackData != s.IdempotencyID || s.DLRCallbackURL != webhookURL || s.From != "Clinic" || s.To != p.Phone {
			t.Errorf("send %+v", s)
		}
	}
	s := sends[byID[rem.UUID]]
	wantText := "Hi Ada, see you Wednesday at 10:00 AM at Main St."
	if s.Text != wantText {
		t.Errorf("reminder text %q, want %q (rendered in Paris time)", s.Text, wantText)
	}
	if sends[byID[ack.UUID]].Text != ack.Body {
		t.Errorf("acknowledgement not sent as is: %q", sends[byID[ack.UUID]].Text)
	}
	got := e.reload(t, rem.ID)
	if got.Status != models.MsgAccepted || got.ProviderID != s.MsgID || got.CampaignID != s.CampaignID ||
		got.Parts != 1 || got.Cost != s.Cost || got.SentAt == nil || got.Body != wantText || got.Attempts != 1 ||
		got.LeaseUntil != nil || got.ProviderState != "ACCEPTED" {
		t.Errorf("recorded %+v", got)
	}
	if st := e.reload(t, later.ID).Status; st != models.MsgPlanned {
		t.Errorf("a message not yet due is %s", st)
	}
	tl := e.timeline(t, a.ID)
	if len(tl) != 2 {
		t.Errorf("timeline %+v", tl)
	}
	for _, e := range tl {
		if !strings.Contains(e.Detail, "sent to SMS.CX (1 part") || e.Kind != models.TimelineMessage || e.MessageID == nil {
			t.Errorf("timeline entry %+v", e)
		}
	}
	if st := e.events.statuses(rem.ID); strings.Join(st, ",") != "sending,accepted" {
		t.Errorf("live events %v", st)
	}
	if n := runOnce(t, d); n != 0 || len(e.fake.Sends()) != 2 {
		t.Fatalf("a second run sent %d more", n)
	}
	if e.rec.statuses["accepted"] != 2 || e.rec.observed != 2 {
		t.Fatalf("metrics %+v, %d observed", e.rec.statuses, e.rec.observed)
	}
}

func TestClaimTimeChecks(t *testing.T) {
	ctx := context.Background()
	type setup struct {
		e *env
		p *models.Patient
		a *models.Appointment
	}
	optOut := func(t *testing.T, s setup) {
		at := t0.Add(-time.Minute)
		if err := s.e.store.DB(ctx).Model(s.p).Updates(map[string]any{"opted_out_at": at, "opt_out_source": "sms_stop"}).Error; err != nil {
			t.Fatal(err)
		}
	}
	setStatus := func(st models.AppointmentStatus) func(*testing.T, setup) {
		return func(t *testing.T, s setup) {
			if err := s.e.store.DB(ctx).Model(s.a).Update("status", st).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, s setup) *models.Message
		status  models.MessageStatus
		reason  string
		// body is the text sent, when checked.
		body string
	}{
		{
			name: "S6: a patient who opted out after planning gets nothing",
			prepare: func(t *testing.T, s setup) *models.Message {
				m := s.e.reminder(t, s.a, s.p)
				optOut(t, s)
				return m
			},
			status: models.MsgCancelled, reason: "opted out",
		},
		{
			name: "S6: a message in flight when the patient opted out is not resent",
			prepare: func(t *testing.T, s setup) *models.Message {
				m := s.e.reminder(t, s.a, s.p)
				expired := t0.Add(-time.Second)
				s.e.store.DB(ctx).Model(m).Updates(map[string]any{"status": models.MsgSending, "attempts": 1, "lease_until": expired})
				optOut(t, s)
				return m
			},
			status: models.MsgCancelled, reason: "opted out",
		},
		{
			name: "S6: a number opted out by another patient sharing it",
			prepare: func(t *testing.T, s setup) *models.Message {
				other := s.e.patient(t, "Bob", s.p.Phone)
				s.e.store.DB(ctx).Model(other).Update("opted_out_at", t0)
				return s.e.message(t, models.Message{PatientID: &s.p.ID, To: s.p.Phone, Kind: models.KindManual, Body: "hello"})
			},
			status: models.MsgCancelled, reason: "opted out",
		},
		{
			name: "S6: an acknowledgement to an opted-out patient",
			prepare: func(t *testing.T, s setup) *models.Message {
				optOut(t, s)
				return s.e.message(t, models.Message{PatientID: &s.p.ID, To: s.p.Phone, Kind: models.KindAckConfirm, Body: "Thanks"})
			},
			status: models.MsgCancelled, reason: "opted out",
		},
		{
			name: "the opt-out acknowledgement reaches the opted-out patient",
			prepare: func(t *testing.T, s setup) *models.Message {
				optOut(t, s)
				return s.e.message(t, models.Message{PatientID: &s.p.ID, To: s.p.Phone, Kind: models.KindOptOutAck, Body: "You are unsubscribed."})
			},
			status: models.MsgAccepted,
		},
		{
			name: "but only once per opt-out",
			prepare: func(t *testing.T, s setup) *models.Message {
				optOut(t, s)
				first := s.e.message(t, models.Message{PatientID: &s.p.ID, To: s.p.Phone, Kind: models.KindOptOutAck, Body: "You are unsubscribed."})
				s.e.store.DB(ctx).Model(first).Update("status", models.MsgDelivered)
				return s.e.message(t, models.Message{PatientID: &s.p.ID, To: s.p.Phone, Kind: models.KindOptOutAck, Body: "You are unsubscribed."})
			},
			status: models.MsgCancelled, reason: "already sent",
		},
		{
			name: "an opt-out acknowledgement after opting back in",
			prepare: func(t *testing.T, s setup) *models.Message {
				return s.e.message(t, models.Message{PatientID: &s.p.ID, To: s.p.Phone, Kind: models.KindOptOutAck, Body: "You are unsubscribed."})
			},
			status: models.MsgCancelled, reason: "opted back in",
		},
		{
			name: "a cancelled appointment",
			prepare: func(t *testing.T, s setup) *models.Message {
				m := s.e.reminder(t, s.a, s.p)
				setStatus(models.Cancelled)(t, s)
				return m
			},
			status: models.MsgCancelled, reason: "the appointment is cancelled",
		},
		{
			name: "an appointment that has started",
			prepare: func(t *testing.T, s setup) *models.Message {
				m := s.e.reminder(t, s.a, s.p)
				s.e.store.DB(ctx).Model(s.a).Update("starts_at", t0.Add(-time.Minute))
				return m
			},
			status: models.MsgSkipped, reason: "already started",
		},
		{
			name: "a confirmed appointment and an only-if-unconfirmed rule",
			prepare: func(t *testing.T, s setup) *models.Message {
				m := s.e.reminder(t, s.a, s.p)
				setStatus(models.Confirmed)(t, s)
				s.e.store.DB(ctx).Model(s.e.rule).Update("only_if_unconfirmed", true)
				return m
			},
			status: models.MsgSkipped, reason: "already confirmed",
		},
		{
			name: "a confirmed appointment and a plain rule",
			prepare: func(t *testing.T, s setup) *models.Message {
				m := s.e.reminder(t, s.a, s.p)
				setStatus(models.Confirmed)(t, s)
				return m
			},
			status: models.MsgAccepted,
		},
		{
			name: "a disabled rule",
			prepare: func(t *testing.T, s setup) *models.Message {
				m := s.e.reminder(t, s.a, s.p)
				s.e.store.DB(ctx).Model(s.e.rule).Update("enabled", false)
				return m
			},
			status: models.MsgCancelled, reason: "rule was disabled",
		},
		{
			name: "late at night in the location's zone",
			prepare: func(t *testing.T, s setup) *models.Message {
				m := s.e.reminder(t, s.a, s.p)
				s.e.clk.Set(time.Date(2026, 3, 2, 21, 30, 0, 0, time.UTC)) // 22:30 in Paris
				return m
			},
			status: models.MsgSkipped, reason: "quiet hours",
		},
		{
			name: "a cancellation notice after the appointment was restored",
			prepare: func(t *testing.T, s setup) *models.Message {
				return s.e.message(t, models.Message{AppointmentID: &s.a.ID, PatientID: &s.p.ID, To: s.p.Phone, Kind: models.KindCancellation, Body: "Cancelled."})
			},
			status: models.MsgCancelled, reason: "no longer cancelled",
		},
		{
			name: "a stored text that does not render goes out as the shipped one",
			prepare: func(t *testing.T, s setup) *models.Message {
				s.e.store.DB(ctx).Model(&models.RuleTemplate{}).Where("rule_id = ?", s.e.rule.ID).Update("body", "Hi {frist_name}")
				return s.e.reminder(t, s.a, s.p)
			},
			status: models.MsgAccepted, body: "Hi Ada, a reminder of your appointment at Main St on Wednesday, March 4 at 10:00 AM. Reply YES to confirm or NO to cancel.",
		},
		{
			name: "a kind with no text at all fails with the reason",
			prepare: func(t *testing.T, s setup) *models.Message {
				return s.e.message(t, models.Message{AppointmentID: &s.a.ID, PatientID: &s.p.ID, To: s.p.Phone, Kind: "loyalty_offer"})
			},
			status: models.MsgFailed, reason: `no text of kind "loyalty_offer"`,
		},
		{
			name: "a booking confirmation with an empty body uses its template",
			prepare: func(t *testing.T, s setup) *models.Message {
				return s.e.message(t, models.Message{AppointmentID: &s.a.ID, PatientID: &s.p.ID, To: s.p.Phone, Kind: models.KindBookingConfirm})
			},
			status: models.MsgAccepted,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.patient(t, "Ada", "+33612345678")
			a := e.appointment(t, p, t0.Add(48*time.Hour))
			m := tc.prepare(t, setup{e, p, a})
			runOnce(t, e.dispatcher(t, nil))
			got := e.reload(t, m.ID)
			if got.Status != tc.status || !strings.Contains(got.Reason, tc.reason) {
				t.Fatalf("%s %q, want %s with a reason containing %q", got.Status, got.Reason, tc.status, tc.reason)
			}
			if tc.body != "" && (got.Body != tc.body || got.Language != "en") {
				t.Fatalf("sent %q in %q, want %q in en", got.Body, got.Language, tc.body)
			}
			wantSends := 0
			if tc.status == models.MsgAccepted {
				wantSends = 1
			}
			if n := e.fake.SendCount(m.UUID); n != wantSends {
				t.Fatalf("the gateway sent it %d times, want %d", n, wantSends)
			}
			if tc.status != models.MsgAccepted && got.Attempts != 0 && tc.reason != "opted out" {
				t.Errorf("attempts %d for a message never tried", got.Attempts)
			}
			if m.AppointmentID != nil && tc.status != models.MsgAccepted {
				tl := e.timeline(t, *m.AppointmentID)
				if len(tl) == 0 || !strings.Contains(tl[len(tl)-1].Detail, string(tc.status)) {
					t.Errorf("timeline %+v", tl)
				}
			}
		})
	}
}

func TestRejectedOptsThePatientOut(t *testing.T) {
	e := newEnv(t)
	p := e.patient(t, "Ada", "+33612345678")
	a := e.appointment(t, p, t0.Add(48*time.Hour))
	m := e.reminder(t, a, p)
	later := e.message(t, models.Message{AppointmentID: &a.ID, PatientID: &p.ID, To: p.Phone, Body: "later", SendAt: t0.Add(time.Hour)})
	e.fake.AddOptout(p.Phone)
	if n := runOnce(t, e.dispatcher(t, nil)); n != 0 {
		t.Fatalf("sent %d", n)
	}
	got := e.reload(t, m.ID)
	if got.Status != models.MsgRejected || !strings.Contains(got.Reason, "opted out") || got.ProviderID == "" || got.ProviderState != "REJECTED" {
		t.Fatalf("recorded %+v", got)
	}
	var pp models.Patient
	e.store.DB(context.Background()).First(&pp, p.ID)
	if !pp.OptedOut() || pp.OptOutSource != "rejected" {
		t.Fatalf("patient %+v not opted out by the rejection", pp)
	}
	if st := e.reload(t, later.ID).Status; st != models.MsgCancelled {
		t.Fatalf("the patient's other planned message is %s", st)
	}
}

func TestFinalErrorsAreNotRetried(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, e *env) (*dispatch.Dispatcher, string)
		reason string
	}{
		{
			name:   "400 invalid number",
			setup:  func(t *testing.T, e *env) (*dispatch.Dispatcher, string) { return e.dispatcher(t, nil), "+1234" },
			reason: "SMS.CX refused the number as invalid (1207)",
		},
		{
			name: "403 no coverage",
			setup: func(t *testing.T, e *env) (*dispatch.Dispatcher, string) {
				e.fake.AddNoCoverage("+999")
				return e.dispatcher(t, nil), "+99912345678"
			},
			reason: "no coverage for this number (1119)",
		},
		{
			name: "400 insufficient credit",
			setup: func(t *testing.T, e *env) (*dispatch.Dispatcher, string) {
				e.fake.SetInsufficientCredit(true)
				return e.dispatcher(t, nil), "+33612345678"
			},
			reason: "not enough credit (1113)",
		},
		{
			name: "401 bad API key",
			setup: func(t *testing.T, e *env) (*dispatch.Dispatcher, string) {
				bad := e.newClient(t, "wrong-key", time.Second)
				return e.dispatcher(t, func(o *dispatch.Options) { o.Sender = bad }), "+33612345678"
			},
			reason: "SMS.CX refused our credentials (HTTP 401",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			d, to := tc.setup(t, e)
			m := e.message(t, models.Message{To: to, Body: "hello"})
			runOnce(t, d)
			got := e.reload(t, m.ID)
			if got.Status != models.MsgFailed || got.Reason != tc.reason && !strings.Contains(got.Reason, tc.reason) {
				t.Fatalf("%s %q, want failed: %q", got.Status, got.Reason, tc.reason)
			}
			e.clk.Set(t0.Add(time.Hour))
			runOnce(t, d)
			if n := e.sendRequests(); n != 1 {
				t.Fatalf("%d requests, want exactly 1 (no retry)", n)
			}
		})
	}
}

func TestAccountErrorStopsTheRun(t *testing.T) {
	e := newEnv(t)
	bad := e.newClient(t, "wrong-key", time.Second)
	d := e.dispatcher(t, func(o *dispatch.Options) { o.Sender = bad; o.Concurrency = 1 })
	var ms []*models.Message
	for range 5 {
		ms = append(ms, e.message(t, models.Message{To: "+33612345678", Body: "hello"}))
	}
	runOnce(t, d)
	if n := e.sendRequests(); n != 1 {
		t.Fatalf("%d requests after a 401, want 1: the run must stop", n)
	}
	failed, planned := 0, 0
	for _, m := range ms {
		switch got := e.reload(t, m.ID); got.Status {
		case models.MsgFailed:
			failed++
		case models.MsgPlanned:
			planned++
			if got.Attempts != 0 || got.LeaseUntil != nil {
				t.Errorf("released message %+v", got)
			}
		default:
			t.Errorf("message %d is %s", m.ID, got.Status)
		}
	}
	if failed != 1 || planned != 4 {
		t.Fatalf("%d failed, %d planned; want 1 and 4", failed, planned)
	}
	if !d.PausedUntil().After(e.clk.Now()) {
		t.Fatal("sending was not paused")
	}
	runOnce(t, d)
	if n := e.sendRequests(); n != 1 {
		t.Fatalf("a run during the pause sent %d requests", n-1)
	}
}

func TestSendNowAndSkip(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p := e.patient(t, "Ada", "+33612345678")
	a := e.appointment(t, p, t0.Add(48*time.Hour))
	sendAt := t0.Add(5 * time.Hour)
	m := e.message(t, models.Message{AppointmentID: &a.ID, PatientID: &p.ID, RuleID: &e.rule.ID, RuleName: "48h", Kind: models.KindReminder, To: p.Phone, SendAt: sendAt})
	other := e.message(t, models.Message{AppointmentID: &a.ID, PatientID: &p.ID, To: p.Phone, Body: "x", SendAt: sendAt})
	d := e.dispatcher(t, nil)
	uid := uint(7)
	alice := models.Actor{UserID: &uid, Name: "alice@example.com"}

	got, err := d.SendNow(ctx, m.ID, alice)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != models.MsgAccepted || !got.SendAt.Equal(sendAt) || e.fake.SendCount(m.UUID) != 1 {
		t.Fatalf("send now: %+v", got)
	}
	if _, err := d.SendNow(ctx, m.ID, alice); !errors.Is(err, outbox.ErrNotPlanned) || !errors.Is(err, models.ErrConflict) {
		t.Fatalf("second send now: %v", err)
	}
	if _, err := d.SendNow(ctx, 9999, alice); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("send now of a missing message: %v", err)
	}

	for _, bad := range []string{strings.Repeat("x", 201), "a\x00b", "\xff"} {
		if _, err := d.Skip(ctx, other.ID, alice, bad); err == nil {
			t.Fatalf("reason %q was accepted", bad)
		}
	}
	got, err = d.Skip(ctx, other.ID, alice, "wrong text")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != models.MsgSkipped || got.Reason != "skipped by alice@example.com: wrong text" {
		t.Fatalf("skip: %+v", got)
	}
	if _, err := d.Skip(ctx, other.ID, alice, ""); !errors.Is(err, outbox.ErrNotPlanned) {
		t.Fatalf("second skip: %v", err)
	}
	var audits int64
	e.store.DB(ctx).Model(&models.AuditEntry{}).Where("action IN ?", []string{"message.send_now", "message.skip"}).Count(&audits)
	if audits != 2 {
		t.Fatalf("%d audit rows", audits)
	}
	staff := 0
	for _, x := range e.timeline(t, a.ID) {
		if x.Kind == models.TimelineStaff && x.UserID != nil && *x.UserID == uid {
			staff++
		}
	}
	if staff != 2 {
		t.Fatalf("%d staff timeline entries, want 2", staff)
	}

	// Send now still honours an opt-out.
	late := e.message(t, models.Message{PatientID: &p.ID, To: p.Phone, Body: "y", SendAt: sendAt})
	e.store.DB(ctx).Model(p).Update("opted_out_at", t0)
	got, err = d.SendNow(ctx, late.ID, alice)
	if err != nil || got.Status != models.MsgCancelled || e.fake.SendCount(late.UUID) != 0 {
		t.Fatalf("send now to an opted-out patient: %+v, %v", got, err)
	}
}

func TestShutdownReleasesWhatItDidNotSend(t *testing.T) {
	e := newEnv(t)
	e.fake.SetLatency(20 * time.Millisecond)
	var ms []*models.Message
	for range 20 {
		ms = append(ms, e.message(t, models.Message{To: "+33612345678", Body: "hello"}))
	}
	d := e.dispatcher(t, func(o *dispatch.Options) { o.Concurrency = 1; o.BatchSize = 20 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = d.RunOnce(ctx)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(e.fake.Sends()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	sent, planned := 0, 0
	for _, m := range ms {
		got := e.reload(t, m.ID)
		switch got.Status {
		case models.MsgAccepted:
			sent++
		case models.MsgPlanned:
			planned++
			if got.Attempts != 0 || got.LeaseUntil != nil {
				t.Errorf("released message %+v", got)
			}
		default:
			t.Errorf("message %d left %s", m.ID, got.Status)
		}
	}
	if sent != len(e.fake.Sends()) || sent == 0 || planned == 0 {
		t.Fatalf("%d accepted, %d planned, %d sends at the gateway", sent, planned, len(e.fake.Sends()))
	}
}

func TestKickRunsSoon(t *testing.T) {
	e := newEnv(t)
	d := e.dispatcher(t, func(o *dispatch.Options) { o.KickDelay = time.Millisecond })
	d.Start()
	defer func() {
		if err := d.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	m := e.message(t, models.Message{To: "+33612345678", Body: "hello"})
	d.Kick()
	d.Kick() // merged, never blocks
	deadline := time.Now().Add(5 * time.Second)
	for e.reload(t, m.ID).Status != models.MsgAccepted {
		if time.Now().After(deadline) {
			t.Fatal("a kick did not send the message")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
