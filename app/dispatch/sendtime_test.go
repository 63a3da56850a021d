package dispatch_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/app/dispatch"
	"apptconfirm/app/outbox"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// dayRule adds a reminder rule whose text says the day relative to the
// send time, and returns it.
func (e *env) dayRule(t *testing.T) *models.ReminderRule {
	t.Helper()
	ctx := context.Background()
	r := &models.ReminderRule{Name: "day", BeforeSeconds: 24 * 3600, Enabled: true}
	if err := e.store.DB(ctx).Create(r).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddRuleTemplate(ctx, r.ID, "en", "Hi {first_name}, see you {day} at {time}.", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

// peekSender is the SMS.CX client, noting for each send the text the
// database holds for the message at the moment of the HTTP call.
type peekSender struct {
	e      *env
	t      *testing.T
	mu     sync.Mutex
	stored []string
	sent   []string
}

func (p *peekSender) Send(ctx context.Context, req smscx.SendRequest) (*smscx.SendResponse, error) {
	var m models.Message
	if err := p.e.store.DB(context.Background()).Where("uuid = ?", req.IdempotencyID).Take(&m).Error; err != nil {
		p.t.Error(err)
	}
	p.mu.Lock()
	p.stored, p.sent = append(p.stored, m.Body), append(p.sent, req.Text)
	p.mu.Unlock()
	return p.e.client.Send(ctx, req)
}

// A reminder refused at 20:59 (a 429: nothing reached SMS.CX) waits out
// quiet hours and goes at 08:00 the next morning, the appointment's day:
// its text is written again at that claim and says "today", not the
// "tomorrow" of the first try; and the text is in the database before each
// HTTP call.
func TestRetryIsWrittenAgainAtItsSendTime(t *testing.T) {
	e := newEnv(t)
	e.clk.Set(time.Date(2026, 3, 2, 20, 59, 30, 0, paris).UTC())
	rule := e.dayRule(t)
	p := e.patient(t, "Eve", "+33612345672")
	a := e.appointment(t, p, time.Date(2026, 3, 3, 10, 0, 0, 0, paris))
	m := e.message(t, models.Message{AppointmentID: &a.ID, PatientID: &p.ID, RuleID: &rule.ID, RuleName: rule.Name, Kind: models.KindReminder, To: p.Phone})
	peek := &peekSender{e: e, t: t}
	d := e.dispatcher(t, func(o *dispatch.Options) { o.Sender = peek })

	e.fake.RateLimitNext(1, time.Date(2026, 3, 2, 21, 0, 30, 0, paris))
	runOnce(t, d)
	got := e.reload(t, m.ID)
	if got.Status != models.MsgSending || !strings.Contains(got.Body, "tomorrow") {
		t.Fatalf("after the 429: %s %q", got.Status, got.Body)
	}
	e.clk.Set(*got.LeaseUntil)
	runOnce(t, d) // held until 08:00
	e.clk.Set(time.Date(2026, 3, 3, 8, 0, 0, 0, paris))
	if n := runOnce(t, d); n != 1 {
		t.Fatalf("after quiet hours: %d accepted", n)
	}
	got = e.reload(t, m.ID)
	want := "Hi Eve, see you today at 10:00 AM."
	sends := e.fake.Sends()
	if len(sends) != 1 || sends[0].Text != want || got.Body != want || got.Status != models.MsgAccepted {
		t.Fatalf("sent %+v, stored %q (%s); want %q", sends, got.Body, got.Status, want)
	}
	if len(peek.sent) != 2 {
		t.Fatalf("%d HTTP calls", len(peek.sent))
	}
	for i := range peek.sent {
		if peek.stored[i] != peek.sent[i] {
			t.Errorf("call %d sent %q while the database held %q", i+1, peek.sent[i], peek.stored[i])
		}
	}
}

// SMS.CX takes a reminder at 23:59 but the answer is lost; the resend
// after midnight is written again ("today"), but SMS.CX answers with the
// send it took: the text stored is the one the patient got ("tomorrow").
func TestReplayedSendKeepsTheTextSMSCXTook(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.store.DB(ctx).Model(e.loc).Updates(map[string]any{"quiet_start": "", "quiet_end": ""}).Error; err != nil {
		t.Fatal(err)
	}
	e.clk.Set(time.Date(2026, 3, 2, 23, 59, 30, 0, paris).UTC())
	rule := e.dayRule(t)
	p := e.patient(t, "Fay", "+33612345673")
	a := e.appointment(t, p, time.Date(2026, 3, 3, 10, 0, 0, 0, paris))
	m := e.message(t, models.Message{AppointmentID: &a.ID, PatientID: &p.ID, RuleID: &rule.ID, RuleName: rule.Name, Kind: models.KindReminder, To: p.Phone})
	d := e.dispatcher(t, nil)

	e.fake.DropNext(1)
	runOnce(t, d)
	got := e.reload(t, m.ID)
	took := "Hi Fay, see you tomorrow at 10:00 AM."
	if got.Status != models.MsgSending || !got.InDoubt || got.Body != took {
		t.Fatalf("after the lost answer: %s, in doubt %v, %q", got.Status, got.InDoubt, got.Body)
	}
	e.clk.Set(got.LeaseUntil.Add(time.Second))
	if n := runOnce(t, d); n != 1 {
		t.Fatalf("resend: %d accepted", n)
	}
	got = e.reload(t, m.ID)
	if got.Status != models.MsgAccepted || got.Body != took || len(e.fake.Sends()) != 1 {
		t.Fatalf("after the resend: %s %q, %d sends", got.Status, got.Body, len(e.fake.Sends()))
	}
}

// A delivery report for a message still sending (its answer was lost and
// it waits to be resent) settles it: no longer in doubt, no lease left to
// resend it on.
func TestDeliveryReportSettlesAMessageStillSending(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.patient(t, "Gil", "+33612345674")
	a := e.appointment(t, p, t0.Add(48*time.Hour))
	m := e.reminder(t, a, p)
	d := e.dispatcher(t, nil)
	e.fake.DropNext(1)
	runOnce(t, d)
	got := e.reload(t, m.ID)
	if got.Status != models.MsgSending || !got.InDoubt || got.LeaseUntil == nil {
		t.Fatalf("after the lost answer: %s, in doubt %v", got.Status, got.InDoubt)
	}
	sent := e.fake.Sends()[0]
	res, err := e.ob.ApplyReport(ctx, outbox.Report{MsgID: sent.MsgID, TrackData: m.UUID, Status: models.MsgDelivered, ProviderState: "DELIVERED"})
	if err != nil || !res.Applied {
		t.Fatalf("report: %+v %v", res, err)
	}
	got = e.reload(t, m.ID)
	if got.Status != models.MsgDelivered || got.InDoubt || got.LeaseUntil != nil {
		t.Fatalf("after the report: %s, in doubt %v, lease %v", got.Status, got.InDoubt, got.LeaseUntil)
	}
	e.clk.Set(t0.Add(time.Hour))
	runOnce(t, d)
	if n := e.fake.SendCount(m.UUID); n != 1 || e.sendRequests() != 1 {
		t.Fatalf("resent after the report: %d requests", e.sendRequests())
	}
}

// An acknowledgement of a YES goes out as written when it is sent at
// once; refused at 23:59 (a 429) and retried after midnight, it is written
// again and names the appointment's day from the retry's time.
func TestRetriedAcknowledgementNamesTheDayAgain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.store.DB(ctx).Model(e.loc).Updates(map[string]any{"quiet_start": "", "quiet_end": ""}).Error; err != nil {
		t.Fatal(err)
	}
	e.clk.Set(time.Date(2026, 3, 2, 23, 59, 0, 0, paris).UTC())
	p := e.patient(t, "Jo", "+33612345677")
	a := e.appointment(t, p, time.Date(2026, 3, 3, 10, 0, 0, 0, paris))
	a.Patient, a.Location = p, e.loc
	m, err := e.ob.QueueAbout(ctx, models.KindAckConfirm, a, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Body, "tomorrow") {
		t.Fatalf("queued %q", m.Body)
	}
	d := e.dispatcher(t, nil)
	e.fake.RateLimitNext(1, time.Date(2026, 3, 3, 0, 0, 30, 0, paris))
	runOnce(t, d)
	got := e.reload(t, m.ID)
	if got.Status != models.MsgSending || got.Body != m.Body {
		t.Fatalf("after the 429: %s %q", got.Status, got.Body)
	}
	e.clk.Set(*got.LeaseUntil)
	if n := runOnce(t, d); n != 1 {
		t.Fatalf("retry: %d accepted", n)
	}
	got = e.reload(t, m.ID)
	sends := e.fake.Sends()
	if len(sends) != 1 || !strings.Contains(sends[0].Text, "today") || got.Body != sends[0].Text {
		t.Fatalf("sent %+v, stored %q; want the day named from the retry", sends, got.Body)
	}
}
