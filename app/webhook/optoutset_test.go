package webhook_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/smscx"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
)

// optOutStream is a recorded stream about f with runs of opt-outs: a
// number repeated within a run, a number no patient has, one with no
// number, an admin opt-out, a number two patients share, an opt-out
// followed by START and a second opt-out, a REJECTED report for a
// patient already opted out, and a poisoned opt-out in a run of its own.
func optOutStream(e *env, f mixedFixture) []string {
	sibling := e.patient("Sibling", f.phones[1])
	e.appointment(sibling, 72*time.Hour)
	optout := func(id int, phone, kind string) map[string]any {
		return map[string]any{
			"hitId": id, "optoutId": fmt.Sprintf("o%d", id), "optoutUrl": "https://x", "optoutType": kind,
			"countryIso": "DE", "datetime": "2026-03-02 09:00:00", "phoneNumber": phone, "campaignId": nil, "groupId": nil,
		}
	}
	poisoned := optout(9, f.phones[2], "link")
	poisoned["campaignId"] = "poison"
	rejected := map[string]any{
		"campaignId": "4baf0298-0c21-4df1-a60a-6e3476e95e0b", "msgId": f.msgs[6].ProviderID, "statusCode": 0,
		"status": "REJECTED", "errorCode": nil, "datetime": "2026-03-02 09:00:05", "trackData": f.msgs[6].UUID,
	}
	return []string{
		envelope("new_optout",
			optout(1, f.phones[0], "link"), optout(2, f.phones[0], "link"), // a repeat: already opted out
			optout(3, "+4915199999999", "link"), // nobody's
			optout(4, "", "link"),               // no number
			optout(5, f.phones[1], "admin"),     // two patients share it
			optout(6, f.phones[3], "link"),
		),
		envelope("receive_sms", smsItem(f.phones[0], "START")),
		envelope("new_optout", optout(7, f.phones[0], "link"), optout(8, f.phones[1], "link")),
		envelope("dlr_update", rejected),
		envelope("new_optout", poisoned),
		envelope("new_optout", optout(10, f.phones[2], "link"), optout(11, f.phones[3], "admin")),
	}
}

// Runs of opt-outs applied as sets leave exactly the rows applying them
// one by one leaves: patients, cancelled messages, timeline, domain events,
// stored results and audit rows.
func TestSetBasedOptOutsMatchPerEvent(t *testing.T) {
	eachStore(t, func(t *testing.T, _ *models.Store) {
		perEvent, set := bothPaths(t, func(e *env) []string { return optOutStream(e, buildMixedFixture(e)) }, func(e *env, d map[string][]string) {
			var as []models.AuditEntry
			if err := e.store.DB(e.ctx).Where("action LIKE ?", "patient.opt%").Order("id").Find(&as).Error; err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				d["audit"] = append(d["audit"], fmt.Sprintf("patient %d: %s %s %q", a.EntityID, a.Action, a.Actor, a.Detail))
			}
		})
		// bothPaths compared the opt-outs and opt-ins in order; the stream
		// must have had a patient who opted out, in and out again.
		outInOut := regexp.MustCompile(`(?m)^  patient\.opted_out .*\n  patient\.opted_in .*\n  patient\.opted_out `)
		if o := optOutOrder(set); !outInOut.MatchString(o) {
			t.Errorf("no patient opted out, in and out again; the order compared:\n%s", o)
		}
		// Each patient's opt-outs and opt-ins were audited in the order
		// sent; different patients' may come in another order.
		byPatient := func(rows []string) string {
			rows = slices.Clone(rows)
			slices.SortStableFunc(rows, func(a, b string) int {
				x, _, _ := strings.Cut(a, ":")
				y, _, _ := strings.Cut(b, ":")
				return strings.Compare(x, y)
			})
			return strings.Join(rows, "\n")
		}
		results := strings.Join(set["webhook_events"], "\n")
		for _, want := range []string{"opted out 1 patient(s) (smscx_link)", "opted out 2 patient(s) (smscx_admin)", "already opted out", "unmatched: no patient has this number", "unmatched: the opt-out names no phone number", "error: "} {
			if !strings.Contains(results, want) {
				t.Errorf("no stored result says %q:\n%s", want, results)
			}
		}
		if !strings.Contains(strings.Join(set["messages"], "\n"), "status=cancelled") {
			t.Errorf("no planned message was cancelled:\n%s", strings.Join(set["messages"], "\n"))
		}
		if len(set["audit"]) == 0 {
			t.Error("no opt-out was audited")
		}
		if a, b := byPatient(perEvent["audit"]), byPatient(set["audit"]); a != b {
			t.Errorf("audit:\nper-event\n%s\nset-based\n%s", a, b)
		}
	})
}

// Events of a type no applier handles are marked ignored, a run at a time
// among the sets, with one attempt each.
func TestUnhandledEventsAreIgnoredAsASet(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		f := buildMixedFixture(e)
		e.mustPost(envelope("receive_sms", smsItem(f.phones[0], "YES"), smsItem(f.phones[1], "NO"), smsItem(f.phones[2], "hello")))
		e.mustPost(envelope("dlr_update", dlrItem(f.msgs[0], "DELIVERED", nil)))
		as := appliers(s, e.clinic, e.ob, e.clock.Now)
		delete(as, smscx.EventReceiveSMS)
		proc, err := webhook.NewProcessor(webhook.ProcessorOptions{Store: s, Appliers: as, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := proc.ProcessPending(e.ctx); err != nil || n != 4 {
			t.Fatalf("processed %d, %v; want 4", n, err)
		}
		if n := e.count(&models.WebhookEvent{}, "event = ? AND processed_at IS NOT NULL AND attempts = 1 AND result = ?",
			smscx.EventReceiveSMS, "ignored: event type not handled"); n != 3 {
			t.Errorf("%d replies ignored, want 3", n)
		}
		if got := e.message(f.msgs[0].ID).Status; got != models.MsgDelivered {
			t.Errorf("report left the message %s", got)
		}
	})
}
