package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/webhook"
	"apptconfirm/models"
)

// holdingApplier applies with the real service, then holds the processor's
// transaction open until release is closed.
type holdingApplier struct {
	inner   webhook.Applier
	entered chan struct{}
	release chan struct{}
}

func (h *holdingApplier) Apply(ctx context.Context, event string, raw []byte) (webhook.Result, error) {
	res, err := h.inner.Apply(ctx, event, raw)
	close(h.entered)
	<-h.release
	return res, err
}

// leftovers lists the cells of the tables a reply writes to that still
// hold one of the needles.
func (e *env) leftovers(needles ...string) []string {
	e.t.Helper()
	var out []string
	for _, table := range []string{"inbound_messages", "webhook_events", "messages", "timeline_entries", "events", "audit_entries", "patients"} {
		var rows []map[string]any
		if err := e.store.DB(e.ctx).Table(table).Find(&rows).Error; err != nil {
			e.t.Fatal(err)
		}
		for _, r := range rows {
			for col, v := range r {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				for _, n := range needles {
					if strings.Contains(strings.ToLower(s), strings.ToLower(n)) {
						out = append(out, fmt.Sprintf("%s.%s = %q", table, col, s))
					}
				}
			}
		}
	}
	return out
}

// A reply from the patient is being applied (its transaction still open)
// when staff erase the patient. The erasure waits for it and then erases
// what it wrote too: no row keeps the reply's text or the number.
func TestErasureRacingAReplyLeavesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		const number = "+4915123400077"
		p := e.patient("Quorvath", number)
		a := e.appointment(p, 48*time.Hour)
		e.sentReminder(a, number)

		hold := &holdingApplier{inner: appliers(s, e.clinic, e.ob, e.clock.Now)["receive_sms"], entered: make(chan struct{}), release: make(chan struct{})}
		proc, err := webhook.NewProcessor(webhook.ProcessorOptions{
			Store: s, Appliers: map[string]webhook.Applier{"receive_sms": hold}, Now: e.clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		e.mustPost(envelope("receive_sms", smsItem(number, "Quorvath here, running late, sorry")))
		processed := make(chan error, 1)
		go func() {
			_, err := proc.ProcessPending(context.Background())
			processed <- err
		}()
		<-hold.entered

		erased := make(chan error, 1)
		go func() {
			_, err := e.clinic.ErasePatient(context.Background(), e.staff(), p.ID)
			erased <- err
		}()
		select {
		case err := <-erased:
			if s.Driver() == models.DriverPostgres {
				t.Fatalf("the erasure (%v) did not wait for the reply being applied", err)
			}
		case <-time.After(300 * time.Millisecond):
		}
		close(hold.release)
		if err := <-processed; err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-erased:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the erasure never finished")
		}
		if left := e.leftovers(number, strings.TrimPrefix(number, "+"), "running late", "Quorvath"); len(left) > 0 {
			t.Fatalf("left behind after the erasure:\n%s", strings.Join(left, "\n"))
		}
	})
}

// A family shares a phone; a bare YES got the numbered question. The child
// is then erased, and "2" (the child's appointment) arrives: it is not
// confirmed and nothing is sent about it; it goes to a person.
func TestReplyAboutAnErasedPatientsAppointmentIsIgnored(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		const number = "+4915123400078"
		mum := e.patient("Mum", number)
		kid := e.patient("Kid", number)
		am := e.appointment(mum, 48*time.Hour)
		ak := e.appointment(kid, 72*time.Hour)
		e.sentReminder(am, number)
		e.sentReminder(ak, number)
		e.reply(number, "YES")
		if n := len(e.queued(models.KindQuestion, number)); n != 1 {
			t.Fatalf("%d numbered questions", n)
		}
		if _, err := e.clinic.ErasePatient(e.ctx, e.staff(), kid.ID); err != nil {
			t.Fatal(err)
		}
		e.reply(number, "2")
		if got := e.appt(ak.ID); got.Status != models.Scheduled {
			t.Fatalf("the erased patient's appointment is %s", got.Status)
		}
		if acks := e.queued(models.KindAckConfirm, number); len(acks) != 0 {
			t.Fatalf("%d acknowledgements sent about the erased patient's appointment", len(acks))
		}
		if in := e.lastInbound(); !in.NeedsAttention || (in.AppointmentID != nil && *in.AppointmentID == ak.ID) {
			t.Fatalf("the reply: needs attention %v, appointment %v", in.NeedsAttention, in.AppointmentID)
		}
	})
}
