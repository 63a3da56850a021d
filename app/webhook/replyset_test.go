package webhook_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"apptconfirm/models"
)

// repliesFixture is what the recorded stream of replies is about: the same
// rows, with the same ids, in every database it is built in.
type repliesFixture struct {
	// phones: 0 one appointment; 1 two appointments awaiting an answer;
	// 2 and 4 one each; 3 opted out; 5 two patients sharing the number;
	// 6 an appointment waiting for another time, with an offer of two.
	phones []string
	msgs   []*models.Message
}

func buildRepliesFixture(e *env) repliesFixture {
	e.t.Helper()
	f := repliesFixture{phones: []string{"+4915123460000", "+4915123460001", "+4915123460002", "+4915123460003", "+4915123460004", "+4915123460005"}}
	remind := func(p *models.Patient, in time.Duration) {
		a := e.appointment(p, in)
		now := e.clock.Now().UTC()
		n := len(f.msgs)
		m := &models.Message{
			UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), AppointmentID: &a.ID, PatientID: &p.ID,
			RuleName: "48h", Kind: models.KindReminder, To: p.Phone, Body: "Reminder", Status: models.MsgAccepted,
			SendAt: now, SentAt: &now, ProviderID: fmt.Sprintf("10000000-0000-4000-8000-%012d", n),
		}
		if err := e.store.DB(e.ctx).Create(m).Error; err != nil {
			e.t.Fatal(err)
		}
		f.msgs = append(f.msgs, m)
	}
	for i, ph := range f.phones {
		p := e.patient(fmt.Sprintf("Patient%d", i), ph)
		remind(p, time.Duration(48+i)*time.Hour)
		switch i {
		case 1:
			remind(p, time.Duration(72+i)*time.Hour)
		case 3:
			if err := e.clinic.OptOut(e.ctx, e.staff(), p.ID, "staff"); err != nil {
				e.t.Fatal(err)
			}
		case 5:
			remind(e.patient("Sibling", ph), 96*time.Hour)
		}
	}
	picker := e.patient("Picker", "+4915123460006")
	f.phones = append(f.phones, picker.Phone)
	a := e.appointment(picker, 120*time.Hour)
	if _, _, err := e.clinic.RequestReschedule(e.ctx, e.staff(), a.ID, "staff"); err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.Now().UTC().Truncate(time.Hour)
	o := &models.RescheduleOffer{
		AppointmentID: a.ID, PatientID: picker.ID, Status: models.OfferOpen,
		ExpiresAt: now.Add(48 * time.Hour), CreatedAt: now, UpdatedAt: now,
	}
	// Times no other patient of the fixture holds: a pick must not
	// depend on another number's reply (several workers apply those in
	// any order).
	o.SetTimes([]time.Time{now.Add(60 * time.Hour), now.Add(62 * time.Hour)})
	if err := e.store.CreateOffer(e.ctx, o); err != nil {
		e.t.Fatal(err)
	}
	// A reply stored already (say, by an earlier instance, under a key
	// long since pruned): applying it again finds it and changes nothing.
	in := &models.InboundMessage{
		ProviderID: "40000000-0000-4000-8000-000000000001", From: f.phones[2], Text: "YES",
		ReceivedAt: t0, CreatedAt: t0,
	}
	if err := e.store.DB(e.ctx).Create(in).Error; err != nil {
		e.t.Fatal(err)
	}
	return f
}

// repliesStream is a recorded stream about f: YES, NO, HELP, STOP, START,
// a numbered question and its answer, a request for another time, picks
// from an offer of new times (the second from an offer closed by the
// first), text
// for the inbox, unknown numbers, a reply stored already, the same number
// several times in a batch and, when poisoned is set, a poisoned reply, in
// runs split by delivery reports. The processor applies replies and
// reports in runs of one type, so a poisoned reply sends every reply of
// the stream through the per-event path: only the stream without one
// runs the set-based path.
func repliesStream(f repliesFixture, poisoned bool) []string {
	p := f.phones
	stranger := "+4915199999999"
	stored := smsItem(p[2], "YES")
	stored["msgId"] = "40000000-0000-4000-8000-000000000001"
	dlr := func(i int) map[string]any {
		return map[string]any{
			"campaignId": nil, "msgId": f.msgs[i].ProviderID, "statusCode": 0, "status": "DELIVERED",
			"errorCode": nil, "datetime": "2026-03-02 09:00:05", "trackData": f.msgs[i].UUID,
		}
	}
	bad := smsItem(p[0], "maybe")
	if poisoned {
		bad = smsItem(p[0], "poison")
	}
	return []string{
		envelope("receive_sms",
			smsItem(p[0], "YES"), smsItem(stranger, "YES"),
			smsItem(p[1], "YES"), smsItem(p[1], "2"), // asked which, then answered
			smsItem(p[2], "NO"), smsItem(p[0], "Yes"), // already confirmed
			smsItem(p[4], "HELP"), smsItem(p[3], "HELP"), // opted out: inbox
			smsItem(p[5], "C"), stored, smsItem(stranger, "no"),
			smsItem(p[5], "no, another day please"), smsItem(p[4], "ok thanks"),
			smsItem(p[4], " STOP "), smsItem(p[4], "HELP"), smsItem(p[4], "START"),
			smsItem("", "YES"), smsItem(p[3], "YES"), smsItem(p[6], "1"),
		),
		envelope("dlr_update", dlr(0), dlr(1)),
		envelope("receive_sms",
			smsItem(p[1], "NO"), bad, smsItem(p[5], "YES"), smsItem(p[4], "can we move it?"),
		),
		envelope("dlr_update", dlr(2)),
		envelope("receive_sms",
			smsItem(p[1], "1"), smsItem(p[5], "2"), smsItem(p[5], "Stop."), smsItem(p[0], "NO"),
			smsItem("004915123460002", "YES"), smsItem(p[3], "UNSTOP"), smsItem(p[3], "YES"), smsItem(p[6], "2"),
		),
	}
}

// A recorded stream of replies applied by the per-event path and by the
// set-based path, into two fresh databases, leaves exactly the same
// appointments, patients, messages queued, inbound messages, timeline,
// domain events and stored results.
func TestSetBasedRepliesMatchPerEvent(t *testing.T) {
	for _, poisoned := range []bool{false, true} {
		t.Run(fmt.Sprintf("poisoned=%v", poisoned), func(t *testing.T) {
			eachStore(t, func(t *testing.T, _ *models.Store) {
				_, set := bothPaths(t, func(e *env) []string { return repliesStream(buildRepliesFixture(e), poisoned) },
					func(e *env, d map[string][]string) { d["inbound"] = dumpInbound(t, e) })
				// The stream did what it says.
				results := strings.Join(set["webhook_events"], "\n")
				want := []string{
					"confirmed appointment", "cancelled appointment", "asked which of 2", "already confirmed",
					"help sent", "inbox: help asked by an opted-out number", "inbox: unknown number", "duplicate: inbound",
					"opted out", "opted in", "inbox: wants another time", "reschedule requested for appointment", "inbox: reply not understood", "moved to time 1",
				}
				if poisoned {
					want = append(want, "error: ")
				}
				for _, w := range want {
					if !strings.Contains(results, w) {
						t.Errorf("no stored result says %q:\n%s", w, results)
					}
				}
			})
		})
	}
}

// dumpInbound is every inbound message, with what was decided about it.
func dumpInbound(t *testing.T, e *env) []string {
	t.Helper()
	var in []models.InboundMessage
	if err := e.store.DB(e.ctx).Order("id").Find(&in).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(in))
	for i, x := range in {
		out[i] = fmt.Sprintf("#%d ref=%s from=%s to=%s text=%q pt=%v appt=%v intent=%s candidates=%s attention=%v received=%s",
			i+1, x.ProviderID, x.From, x.To, x.Text, deref(x.PatientID), deref(x.AppointmentID), x.Intent, x.Candidates,
			x.NeedsAttention, x.ReceivedAt.UTC())
	}
	return out
}
