package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func intp(n int) *int { return &n }

// Delivery reports in any order leave a message in its latest
// state; a final state never goes back.
func TestDeliveryReportsOutOfOrder(t *testing.T) {
	cases := []struct {
		name     string
		reports  []string
		want     models.MessageStatus
		wantCode *int
	}{
		{"in order", []string{"ACCEPTED", "SENT", "DELIVERED"}, models.MsgDelivered, nil},
		{"repeated", []string{"SENT", "SENT", "DELIVERED", "DELIVERED"}, models.MsgDelivered, nil},
		{"late SENT and ACCEPTED", []string{"DELIVERED", "SENT", "ACCEPTED"}, models.MsgDelivered, nil},
		{"late SENT in separate batches", []string{"DELIVERED", "SENT"}, models.MsgDelivered, nil},
		{"FAILED after DELIVERED", []string{"DELIVERED", "FAILED"}, models.MsgDelivered, nil},
		{"failed keeps its code", []string{"SENT", "FAILED", "SENT"}, models.MsgFailed, intp(4021)},
		{"no coverage", []string{"NO COVERAGE"}, models.MsgFailed, nil},
		{"scheduled counts as accepted", []string{"SCHEDULED"}, models.MsgAccepted, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t))
			p := e.patient("Anna", "+4915123456789")
			a := e.appointment(p, 72*time.Hour)
			m := e.sentReminder(a, p.Phone)
			// As the dispatcher leaves it between its claim and SMS.CX's answer.
			if err := e.store.DB(e.ctx).Model(m).Update("status", models.MsgSending).Error; err != nil {
				t.Fatal(err)
			}
			m.Status = models.MsgSending
			for _, st := range tc.reports {
				var code *int
				if st == "FAILED" {
					code = tc.wantCode
				}
				e.mustPost(envelope("dlr_update", dlrItem(m, st, code)))
				e.process()
			}
			got := e.message(m.ID)
			if got.Status != tc.want {
				t.Fatalf("status %s, want %s", got.Status, tc.want)
			}
			switch tc.want {
			case models.MsgDelivered:
				if got.DeliveredAt == nil {
					t.Fatal("delivered without DeliveredAt")
				}
			case models.MsgFailed:
				if got.Reason == "" || !strings.HasPrefix(got.Reason, "Not delivered") {
					t.Fatalf("failed with reason %q", got.Reason)
				}
				if (tc.wantCode == nil) != (got.ErrorCode == nil) || (tc.wantCode != nil && *got.ErrorCode != *tc.wantCode) {
					t.Fatalf("error code %v, want %v", got.ErrorCode, tc.wantCode)
				}
				if tc.wantCode != nil && !strings.Contains(got.Reason, "4021") {
					t.Fatalf("reason %q does not name the code", got.Reason)
				}
			}
			if n := e.count(&models.TimelineEntry{}, "kind = ? AND appointment_id = ?", models.TimelineDelivery, a.ID); n == 0 {
				t.Fatal("no delivery entry on the timeline")
			}
		})
	}
}

// A report is matched by msgId, else by trackData (recording the msgId);
// one for a message we never sent is recorded and flagged.
func TestDeliveryReportMatching(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	p := e.patient("Anna", "+4915123456789")
	a := e.appointment(p, 72*time.Hour)

	// The dispatcher crashed before it recorded the msgId.
	m := e.sentReminder(a, p.Phone)
	msgID := m.ProviderID
	if err := e.store.DB(e.ctx).Model(m).Update("provider_message_id", "").Error; err != nil {
		t.Fatal(err)
	}
	item := dlrItem(m, "DELIVERED", nil)
	item["msgId"] = msgID
	e.mustPost(envelope("dlr_update", item))

	stranger := map[string]any{"msgId": uuid.NewString(), "status": "DELIVERED", "campaignId": uuid.NewString(), "trackData": uuid.NewString()}
	e.mustPost(envelope("dlr_update", stranger))

	// The ids disagree: the msgId is ours but the trackData is not.
	other := e.sentReminder(a, p.Phone)
	forged := dlrItem(other, "FAILED", nil)
	forged["trackData"] = uuid.NewString()
	e.mustPost(envelope("dlr_update", forged))
	e.process()

	got := e.message(m.ID)
	if got.Status != models.MsgDelivered || got.ProviderID != msgID {
		t.Fatalf("matched by trackData: status %s, msgId %q", got.Status, got.ProviderID)
	}
	if st := e.message(other.ID).Status; st != models.MsgAccepted {
		t.Fatalf("a report with a foreign trackData changed the message to %s", st)
	}
	var flagged []models.WebhookEvent
	if err := e.store.DB(e.ctx).Where("flagged = ?", true).Order("id").Find(&flagged).Error; err != nil {
		t.Fatal(err)
	}
	if len(flagged) != 2 || !strings.HasPrefix(flagged[0].Result, "unmatched") || !strings.HasPrefix(flagged[1].Result, "mismatch") {
		t.Fatalf("flagged events: %+v", flagged)
	}
}

// A REJECTED report means SMS.CX has the number on its opt-out list.
func TestRejectedReportOptsOut(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	p := e.patient("Anna", "+4915123456789")
	a := e.appointment(p, 72*time.Hour)
	m := e.sentReminder(a, p.Phone)
	e.mustPost(envelope("dlr_update", dlrItem(m, "REJECTED", nil)))
	e.process()
	var got models.Patient
	if err := e.store.DB(e.ctx).First(&got, p.ID).Error; err != nil {
		t.Fatal(err)
	}
	if !got.OptedOut() || got.OptOutSource != "rejected" {
		t.Fatalf("patient after REJECTED: opted out %v, source %q", got.OptedOut(), got.OptOutSource)
	}
	if st := e.message(m.ID).Status; st != models.MsgRejected {
		t.Fatalf("message %s", st)
	}
}

// What each reply does to one patient with one
// appointment awaiting an answer.
func TestReplies(t *testing.T) {
	type want struct {
		status    models.AppointmentStatus
		optedOut  bool
		queued    []string // kinds of the messages queued, in order
		inbox     bool
		intent    string
		appointed bool // the inbound message names the appointment
	}
	cases := []struct {
		name    string
		replies []string
		want    want
	}{
		{"yes", []string{"Yes!"}, want{models.Confirmed, false, []string{models.KindAckConfirm}, false, "confirm", true}},
		{"oui merci", []string{"Oui merci"}, want{models.Confirmed, false, []string{models.KindAckConfirm}, false, "confirm", true}},
		{"thumbs up", []string{"👍"}, want{models.Confirmed, false, []string{models.KindAckConfirm}, false, "confirm", true}},
		{"bare 1", []string{"1"}, want{models.Confirmed, false, []string{models.KindAckConfirm}, false, "confirm", true}},
		{"no", []string{"nee"}, want{models.Cancelled, false, []string{models.KindAckCancel}, false, "cancel", true}},
		{"bare 2", []string{"2"}, want{models.Cancelled, false, []string{models.KindAckCancel}, false, "cancel", true}},
		{"yes then no", []string{"yes", "no"}, want{models.Cancelled, false, []string{models.KindAckConfirm, models.KindAckCancel}, false, "cancel", true}},
		{"yes twice", []string{"yes", "YES"}, want{models.Confirmed, false, []string{models.KindAckConfirm}, false, "confirm", true}},
		{"stop", []string{"stop"}, want{models.Scheduled, true, []string{models.KindOptOutAck}, false, "opt_out", false}},
		{"STOP padded", []string{" STOP "}, want{models.Scheduled, true, []string{models.KindOptOutAck}, false, "opt_out", false}},
		{"Stop.", []string{"Stop."}, want{models.Scheduled, true, []string{models.KindOptOutAck}, false, "opt_out", false}},
		{"UNSUBSCRIBE", []string{"UNSUBSCRIBE"}, want{models.Scheduled, true, []string{models.KindOptOutAck}, false, "opt_out", false}},
		{"quit", []string{"quit"}, want{models.Scheduled, true, []string{models.KindOptOutAck}, false, "opt_out", false}},
		{"STOP please", []string{"STOP please"}, want{models.Scheduled, true, []string{models.KindOptOutAck}, false, "opt_out", false}},
		{"stop twice", []string{"stop", "STOP"}, want{models.Scheduled, true, []string{models.KindOptOutAck}, false, "opt_out", false}},
		{"nothing after stop", []string{"stop", "help", "yes"}, want{models.Confirmed, true, []string{models.KindOptOutAck}, false, "confirm", true}},
		{"start after stop", []string{"stop", "START"}, want{models.Scheduled, false, []string{models.KindOptOutAck, models.KindOptInAck}, false, "opt_in", false}},
		{"unstop", []string{"stop", "unstop"}, want{models.Scheduled, false, []string{models.KindOptOutAck, models.KindOptInAck}, false, "opt_in", false}},
		{"start when subscribed", []string{"start"}, want{models.Scheduled, false, nil, false, "opt_in", false}},
		{"help", []string{"HELP"}, want{models.Scheduled, false, []string{models.KindHelp}, false, "help", false}},
		{"info", []string{"info"}, want{models.Scheduled, false, []string{models.KindHelp}, false, "help", false}},
		{"question", []string{"what time?"}, want{models.Scheduled, false, nil, true, "", true}},
		{"cannot make it", []string{"I can't make it"}, want{models.RescheduleRequested, false, []string{models.KindRescheduleAck}, true, "reschedule", true}},
		{"reschedule", []string{"Can I reschedule?"}, want{models.RescheduleRequested, false, []string{models.KindRescheduleAck}, true, "reschedule", true}},
		{"reschedule twice", []string{"RESCHEDULE", "another day please"}, want{models.RescheduleRequested, false, []string{models.KindRescheduleAck}, true, "reschedule", true}},
		{"no change", []string{"no change"}, want{models.Scheduled, false, nil, true, "", true}},
		{"yes and a question", []string{"yes but what time?"}, want{models.Scheduled, false, nil, true, "", true}},
		{"number out of range", []string{"3"}, want{models.Scheduled, false, nil, true, "", true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, storetest.SQLite(t))
			p := e.patient("Anna", "+4915123456789")
			a := e.appointment(p, 72*time.Hour)
			e.sentReminder(a, p.Phone)
			// A second appointment with no reminder sent yet is not
			// awaiting an answer: YES must not touch it (C1).
			later := e.appointment(p, 14*24*time.Hour)
			for _, r := range tc.replies {
				e.reply(p.Phone, r)
			}
			if st := e.appt(a.ID).Status; st != tc.want.status {
				t.Fatalf("appointment %s, want %s", st, tc.want.status)
			}
			if st := e.appt(later.ID).Status; st != models.Scheduled {
				t.Fatalf("the appointment not awaiting an answer became %s", st)
			}
			var pt models.Patient
			if err := e.store.DB(e.ctx).First(&pt, p.ID).Error; err != nil {
				t.Fatal(err)
			}
			if pt.OptedOut() != tc.want.optedOut {
				t.Fatalf("opted out %v, want %v", pt.OptedOut(), tc.want.optedOut)
			}
			if tc.want.optedOut && pt.OptOutSource != "sms_stop" {
				t.Fatalf("opt-out source %q", pt.OptOutSource)
			}
			var kinds []string
			if err := e.store.DB(e.ctx).Model(&models.Message{}).Where(`"to" = ?`, p.Phone).
				Where("kind <> ?", models.KindReminder).Order("id").Pluck("kind", &kinds).Error; err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(kinds, tc.want.queued) {
				t.Fatalf("queued %v, want %v", kinds, tc.want.queued)
			}
			in := e.lastInbound()
			if in.NeedsAttention != tc.want.inbox {
				t.Fatalf("needs attention %v, want %v", in.NeedsAttention, tc.want.inbox)
			}
			if tc.want.intent != "" && in.Intent != tc.want.intent {
				t.Fatalf("intent %q, want %q", in.Intent, tc.want.intent)
			}
			if tc.want.appointed != (in.AppointmentID != nil && *in.AppointmentID == a.ID) {
				t.Fatalf("inbound appointment %v, want %d: %v", in.AppointmentID, a.ID, tc.want.appointed)
			}
			if in.PatientID == nil || *in.PatientID != p.ID {
				t.Fatalf("inbound patient %v", in.PatientID)
			}
		})
	}
}

// Acknowledgements are rendered from the editable templates for the
// appointment, and the dispatcher is kicked.
func TestAcknowledgementText(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	p := e.patient("Anna", "+4915123456789")
	a := e.appointment(p, 72*time.Hour)
	e.sentReminder(a, p.Phone)
	e.reply(p.Phone, "yes")
	acks := e.queued(models.KindAckConfirm, p.Phone)
	if len(acks) != 1 {
		t.Fatalf("%d acknowledgements", len(acks))
	}
	ack := acks[0]
	if !strings.Contains(ack.Body, "Anna") || !strings.Contains(ack.Body, "confirmed") || strings.Contains(ack.Body, "{") {
		t.Fatalf("acknowledgement %q", ack.Body)
	}
	if ack.Status != models.MsgPlanned || ack.AppointmentID == nil || *ack.AppointmentID != a.ID || ack.PatientID == nil || ack.UUID == "" {
		t.Fatalf("acknowledgement row %+v", ack)
	}
	if e.kick.n.Load() != 1 {
		t.Fatalf("dispatcher kicked %d times", e.kick.n.Load())
	}
	if kinds := e.pub.kinds(); !slices.Contains(kinds, "appointment:confirmed") || !slices.Contains(kinds, "message:planned") {
		t.Fatalf("live events %v", kinds)
	}
}

// With several appointments awaiting an answer from one
// number, a bare YES or NO asks a numbered question, and the answer to it
// resolves.
func TestNumberedQuestion(t *testing.T) {
	cases := []struct {
		name    string
		replies []string
		want    [2]models.AppointmentStatus
		acks    int
		asked   int
		inbox   bool
	}{
		{"yes then 2", []string{"yes", "2"}, [2]models.AppointmentStatus{models.Scheduled, models.Confirmed}, 1, 1, false},
		{"yes then 1", []string{"YES", "1"}, [2]models.AppointmentStatus{models.Confirmed, models.Scheduled}, 1, 1, false},
		{"no then 1", []string{"no", "1"}, [2]models.AppointmentStatus{models.Cancelled, models.Scheduled}, 1, 1, false},
		{"yes 2 at once", []string{"YES 2"}, [2]models.AppointmentStatus{models.Scheduled, models.Confirmed}, 1, 0, false},
		{"1 yes at once", []string{"1 yes"}, [2]models.AppointmentStatus{models.Confirmed, models.Scheduled}, 1, 0, false},
		{"no then yes 2", []string{"no", "yes 2"}, [2]models.AppointmentStatus{models.Scheduled, models.Confirmed}, 1, 1, false},
		{"yes twice asks twice", []string{"yes", "yes"}, [2]models.AppointmentStatus{models.Scheduled, models.Scheduled}, 0, 2, false},
		{"yes then 3", []string{"yes", "3"}, [2]models.AppointmentStatus{models.Scheduled, models.Scheduled}, 0, 1, true},
		{"bare 2 unasked", []string{"2"}, [2]models.AppointmentStatus{models.Scheduled, models.Scheduled}, 0, 0, true},
		{"question answered then 2", []string{"yes", "1", "2"}, [2]models.AppointmentStatus{models.Confirmed, models.Scheduled}, 1, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t))
			// A family sharing one phone.
			mum := e.patient("Anna", "+4915123456789")
			kid := e.patient("Ben", "+4915123456789")
			first := e.appointment(mum, 26*time.Hour)
			second := e.appointment(kid, 50*time.Hour)
			e.sentReminder(first, mum.Phone)
			e.sentReminder(second, mum.Phone)
			for _, r := range tc.replies {
				e.reply(mum.Phone, r)
			}
			got := [2]models.AppointmentStatus{e.appt(first.ID).Status, e.appt(second.ID).Status}
			if got != tc.want {
				t.Fatalf("appointments %v, want %v", got, tc.want)
			}
			questions := e.queued(models.KindQuestion, mum.Phone)
			if len(questions) != tc.asked {
				t.Fatalf("%d questions, want %d", len(questions), tc.asked)
			}
			if len(questions) > 0 {
				q := questions[0].Body
				if !strings.Contains(q, "Reply 1 for Tue 12:00 PM (Anna), 2 for Wed 12:00 PM (Ben),") {
					t.Fatalf("question %q", q)
				}
			}
			acks := len(e.queued(models.KindAckConfirm, mum.Phone)) + len(e.queued(models.KindAckCancel, mum.Phone))
			if acks != tc.acks {
				t.Fatalf("%d acknowledgements, want %d", acks, tc.acks)
			}
			if in := e.lastInbound(); in.NeedsAttention != tc.inbox {
				t.Fatalf("last reply needs attention %v, want %v", in.NeedsAttention, tc.inbox)
			}
		})
	}
}

// Replies that no appointment awaits land in the
// inbox and change nothing else.
func TestRepliesToTheInbox(t *testing.T) {
	cases := []struct {
		name  string
		setup func(e *env) (from string, appt *models.Appointment)
	}{
		{"unknown number", func(e *env) (string, *models.Appointment) {
			p := e.patient("Anna", "+4915123456789")
			a := e.appointment(p, 72*time.Hour)
			e.sentReminder(a, p.Phone)
			return "+4915199999999", a
		}},
		{"no reminder sent", func(e *env) (string, *models.Appointment) {
			p := e.patient("Anna", "+4915123456789")
			return p.Phone, e.appointment(p, 72*time.Hour)
		}},
		{"cancelled appointment", func(e *env) (string, *models.Appointment) {
			p := e.patient("Anna", "+4915123456789")
			a := e.appointment(p, 72*time.Hour)
			e.sentReminder(a, p.Phone)
			if _, err := e.clinic.Cancel(e.ctx, e.staff(), a.ID, "clinic closed"); err != nil {
				e.t.Fatal(err)
			}
			return p.Phone, a
		}},
		{"past appointment", func(e *env) (string, *models.Appointment) {
			p := e.patient("Anna", "+4915123456789")
			a := e.appointment(p, 2*time.Hour)
			e.sentReminder(a, p.Phone)
			e.clock.Set(t0.Add(3 * time.Hour))
			return p.Phone, a
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t))
			from, a := tc.setup(e)
			statusBefore := e.appt(a.ID).Status
			before := e.snapshot()
			e.reply(from, "YES")
			after := e.snapshot()
			if st := e.appt(a.ID).Status; st != statusBefore {
				t.Fatalf("appointment changed from %s to %s", statusBefore, st)
			}
			if after["messages"] != before["messages"] {
				t.Fatal("a message was queued")
			}
			if after["inbox"] != before["inbox"]+1 {
				t.Fatalf("inbox %d -> %d", before["inbox"], after["inbox"])
			}
			if kinds := e.pub.kinds(); !slices.Contains(kinds, "inbox:") {
				t.Fatalf("no live inbox event: %v", kinds)
			}
		})
	}
}

// new_optout opts the number's patients out with SMS.CX's source and
// cancels their pending messages; no SMS goes out.
func TestNewOptout(t *testing.T) {
	for _, tc := range []struct{ kind, source string }{{"link", "smscx_link"}, {"admin", "smscx_admin"}} {
		t.Run(tc.kind, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t))
			p := e.patient("Anna", "+4915123456789")
			a := e.appointment(p, 72*time.Hour)
			planned := &models.Message{
				UUID: uuid.NewString(), AppointmentID: &a.ID, PatientID: &p.ID, Kind: models.KindReminder,
				To: p.Phone, Status: models.MsgPlanned, SendAt: t0.Add(24 * time.Hour),
			}
			if err := e.store.DB(e.ctx).Create(planned).Error; err != nil {
				t.Fatal(err)
			}
			e.mustPost(envelope("new_optout", map[string]any{
				"hitId": 1843, "optoutId": "aB3", "optoutUrl": "https://x", "optoutType": tc.kind,
				"countryIso": "DE", "datetime": "2026-03-02 09:00:00", "phoneNumber": p.Phone, "campaignId": nil, "groupId": nil,
			}))
			e.process()
			var pt models.Patient
			if err := e.store.DB(e.ctx).First(&pt, p.ID).Error; err != nil {
				t.Fatal(err)
			}
			if !pt.OptedOut() || pt.OptOutSource != tc.source {
				t.Fatalf("opted out %v source %q", pt.OptedOut(), pt.OptOutSource)
			}
			if st := e.message(planned.ID).Status; st != models.MsgCancelled {
				t.Fatalf("pending reminder %s", st)
			}
			if n := e.count(&models.Message{}, "status = ?", models.MsgPlanned); n != 0 {
				t.Fatalf("%d messages queued", n)
			}
		})
	}
}

// Clicks and opens land on the timeline of the appointment whose message
// carried the link.
func TestHits(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	p := e.patient("Anna", "+4915123456789")
	first := e.appointment(p, 72*time.Hour)
	second := e.appointment(p, 96*time.Hour)
	m1 := e.sentReminder(first, p.Phone)
	e.sentReminder(second, p.Phone)
	hit := func(event string, id int, campaign string) {
		item := map[string]any{"hitId": id, "shortlinkId": "bVc", "device": "mobile", "city": "Berlin", "phoneNumber": p.Phone}
		if campaign != "" {
			item["campaignId"] = campaign
		}
		e.mustPost(envelope(event, item))
		e.process()
	}
	entries := func(a *models.Appointment, kind string) int64 {
		return e.count(&models.TimelineEntry{}, "appointment_id = ? AND kind = ?", a.ID, kind)
	}
	hit("shortlink_hit", 1, m1.CampaignID) // the campaign names the first reminder
	if entries(first, models.TimelineClick) != 1 || entries(second, models.TimelineClick) != 0 {
		t.Fatal("click by campaign not on the first appointment")
	}
	hit("shortlink_hit_update", 1, m1.CampaignID) // re-report of a recorded hit
	if entries(first, models.TimelineClick) != 1 {
		t.Fatal("a hit update added a second click")
	}
	hit("attachment_hit", 2, "") // no campaign: the latest message to the number
	if entries(second, models.TimelineOpen) != 1 {
		t.Fatal("open without campaign not on the latest reminder's appointment")
	}
	hit("attachment_hit_update", 3, "") // an update whose hit never came stands in for it
	if entries(second, models.TimelineOpen) != 2 {
		t.Fatal("a lone hit update was not recorded")
	}
}

// While requests are being stored, processing gives way to them; more
// events than one page, with a request held in flight the whole time, are
// still all applied, and processing stops giving way once the oldest event
// waited MaxLag.
func TestProcessingGivesWayToReceiving(t *testing.T) {
	// Through the processor: more events than one page, with a request
	// held in flight the whole time, are all applied.
	e := newEnv(t, storetest.SQLite(t))
	items := make([]any, 600)
	for i := range items {
		items[i] = smsItem("+4915100000009", fmt.Sprintf("hello %d", i))
	}
	e.mustPost(envelope("receive_sms", items...))
	e.traffic.Begin()
	defer e.traffic.End()
	if n := e.process(); n != len(items) {
		t.Fatalf("processed %d of %d while the receiver was busy", n, len(items))
	}

	// Processing stops giving way once the oldest event waited webhook.MaxLag.
	received := e.clock.Now()
	if left := e.proc.LagLeft(received); left != webhook.MaxLag {
		t.Fatalf("an event received now leaves %s to give way, want %s", left, webhook.MaxLag)
	}
	e.clock.Set(received.Add(webhook.MaxLag))
	if left := e.proc.LagLeft(received); left > 0 {
		t.Fatalf("an event received %s ago leaves %s to give way", webhook.MaxLag, left)
	}
}

// A page is reordered (by type, by number), so its first event need not be
// its oldest: processing gives way only while the oldest event left has
// waited less than MaxLag, wherever that event stands.
func TestGivingWayWatchesTheOldestEventLeft(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.mustPost(envelope("receive_sms", smsItem("+4915100000009", "first")))
	e.clock.Set(e.clock.Now().Add(webhook.MaxLag))
	e.mustPost(envelope("receive_sms", smsItem("+4915100000008", "second")))
	page, err := e.store.PendingWebhookEvents(e.ctx, 0, 10)
	if err != nil || len(page) != 2 {
		t.Fatalf("pending: %d events, %v", len(page), err)
	}
	e.traffic.Begin()
	defer e.traffic.End()
	applied, pauses, err := e.proc.ProcessPageAfter(e.ctx, []models.WebhookEvent{page[1], page[0]}, time.Millisecond)
	if err != nil || applied != 2 {
		t.Fatalf("applied %d of 2: %v", applied, err)
	}
	if pauses != 0 {
		t.Fatalf("gave way %d times while an event %s old waited behind a fresh one", pauses, webhook.MaxLag)
	}

	// A fresh page alone, with the receiver as busy, gives way.
	e.mustPost(envelope("receive_sms", smsItem("+4915100000007", "third")))
	page, err = e.store.PendingWebhookEvents(e.ctx, 0, 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("pending: %d events, %v", len(page), err)
	}
	if _, pauses, err := e.proc.ProcessPageAfter(e.ctx, page, time.Millisecond); err != nil || pauses != 1 {
		t.Fatalf("a fresh page gave way %d times, want 1: %v", pauses, err)
	}
}

// Processing stopped part way (the server shutting down) leaves every event
// either applied with its message, or pending with its message untouched
// and no failed attempt recorded; the next run applies the rest. On SQLite
// the statements run without cancellation (statementContext), so this is
// the rollback of the transaction at work.
func TestCancelledProcessingLeavesNoHalfWork(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	p := e.patient("Ada", "+4915100000009")
	a := e.appointment(p, 48*time.Hour)
	const n = 1500
	msgs := map[string]*models.Message{}
	for start := 0; start < n; start += 100 {
		items := make([]any, 0, 100)
		for range 100 {
			m := e.sentReminder(a, p.Phone)
			msgs[m.ProviderID] = m
			items = append(items, dlrItem(m, "DELIVERED", nil))
		}
		e.mustPost(envelope("dlr_update", items...))
	}

	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan int)
	go func() {
		applied, _ := e.proc.ProcessPending(ctx)
		done <- applied
	}()
	time.Sleep(30 * time.Millisecond)
	cancel()
	applied := <-done

	var events []models.WebhookEvent
	if err := e.store.DB(e.ctx).Find(&events).Error; err != nil {
		t.Fatal(err)
	}
	processed := 0
	for _, ev := range events {
		if pending := ev.ProcessedAt == nil; (pending && (ev.Attempts != 0 || ev.Result != "")) || strings.HasPrefix(ev.Result, "error") {
			t.Fatalf("event %d (processed %v): attempts %d, result %q after a cancelled run", ev.ID, !pending, ev.Attempts, ev.Result)
		}
		var d struct {
			MsgID string `json:"msgId"`
		}
		if err := json.Unmarshal([]byte(ev.Raw), &d); err != nil {
			t.Fatal(err)
		}
		var m models.Message
		if err := e.store.DB(e.ctx).First(&m, msgs[d.MsgID].ID).Error; err != nil {
			t.Fatal(err)
		}
		if delivered := m.Status == models.MsgDelivered; delivered != (ev.ProcessedAt != nil) {
			t.Fatalf("event %d processed=%v but its message is %s", ev.ID, ev.ProcessedAt != nil, m.Status)
		}
		if ev.ProcessedAt != nil {
			processed++
		}
	}
	t.Logf("the cancelled run applied %d of %d", processed, n)
	if processed != applied {
		t.Fatalf("%d events processed, the run reported %d", processed, applied)
	}
	if rest := e.process(); processed+rest != n {
		t.Fatalf("the next run applied %d, after %d: want %d in all", rest, processed, n)
	}
}

// A START sent after SMS.CX rejected a reminder to the same number opts
// the patient back in, as it would one event at a time, even with replies
// from other numbers before them in the same page (the processor applies a
// page's reports before its replies, but a REJECTED report keeps its
// place).
func TestStartAfterRejectedKeepsArrivalOrder(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		other := e.patient("Ben", "+4915123450001")
		e.sentReminder(e.appointment(other, 72*time.Hour), other.Phone)
		p := e.patient("Anna", "+4915123456789")
		m := e.sentReminder(e.appointment(p, 72*time.Hour), p.Phone)
		e.mustPost(envelope("receive_sms", smsItem(other.Phone, "YES")))
		e.mustPost(envelope("dlr_update", dlrItem(m, "REJECTED", nil)))
		e.mustPost(envelope("receive_sms", smsItem(p.Phone, "START")))
		e.process()
		var got models.Patient
		if err := e.store.DB(e.ctx).First(&got, p.ID).Error; err != nil {
			t.Fatal(err)
		}
		if got.OptedOut() {
			t.Fatalf("patient opted out (source %q) after REJECTED then START", got.OptOutSource)
		}
		if st := e.message(m.ID).Status; st != models.MsgRejected {
			t.Fatalf("reminder %s, want rejected", st)
		}
	})
}

// blockingApplier applies nothing until release is closed, and says on
// entered when it started.
type blockingApplier struct {
	entered chan struct{}
	release chan struct{}
}

func (b blockingApplier) Apply(ctx context.Context, _ string, _ []byte) (webhook.Result, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	select {
	case <-b.release:
	case <-ctx.Done():
		return webhook.Result{}, ctx.Err()
	}
	return webhook.Result{Text: "applied"}, nil
}

// The cron sweep does nothing while a pass is under way in the process (it
// would apply the same events, only to roll back), and sweeps once the
// pass is over; a pass waiting for its turn gives up when its context ends.
func TestSweepSkipsWhileAPassRuns(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		ba := blockingApplier{entered: make(chan struct{}, 1), release: make(chan struct{})}
		proc, err := webhook.NewProcessor(webhook.ProcessorOptions{
			Store: s, Now: e.clock.Now, Appliers: map[string]webhook.Applier{"receive_sms": ba},
		})
		if err != nil {
			t.Fatal(err)
		}
		e.mustPost(envelope("receive_sms", smsItem("+4915100000009", "hello")))
		passed := make(chan int, 1)
		go func() {
			n, err := proc.ProcessPending(e.ctx)
			if err != nil {
				t.Error(err)
			}
			passed <- n
		}()
		<-ba.entered
		swept := make(chan error, 1)
		go func() {
			n, err := proc.Sweep(e.ctx)
			if err == nil && n != 0 {
				err = fmt.Errorf("applied %d events", n)
			}
			swept <- err
		}()
		select {
		case err := <-swept:
			if err != nil {
				t.Errorf("sweep during a pass: %v; want nothing done", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the sweep waited for the pass instead of skipping it")
		}
		// Another pass waits for its turn, but not past its context (a
		// server shutting down stops its loop at once).
		ctx, cancel := context.WithCancel(e.ctx)
		waited := make(chan error, 1)
		go func() {
			_, err := proc.ProcessPending(ctx)
			waited <- err
		}()
		cancel()
		select {
		case err := <-waited:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("a pass cancelled while waiting for its turn = %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a cancelled pass kept waiting for the one under way")
		}
		close(ba.release)
		if n := <-passed; n != 1 {
			t.Errorf("the pass applied %d events, want 1", n)
		}
		e.mustPost(envelope("receive_sms", smsItem("+4915100000009", "again")))
		if n, err := proc.Sweep(e.ctx); n != 1 || err != nil {
			t.Errorf("sweep after the pass = %d, %v; want 1, nil", n, err)
		}
	})
}

// rewindApplier fails the event "first" twice (in its batch, then alone),
// and those starting "stuck" always, moving clock on by a sweep interval
// each time, as a long pile of failing events would; it moves clock on by
// a sweep interval too when it applies "later", as a long backlog would.
type rewindApplier struct {
	mu      sync.Mutex
	failed  int
	stuck   int // tries of the "stuck" events
	applied []string
	clock   *clock
	sweep   time.Duration
}

func (r *rewindApplier) Apply(_ context.Context, _ string, raw []byte) (webhook.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var item struct{ Text string }
	if err := json.Unmarshal(raw, &item); err != nil {
		return webhook.Result{}, err
	}
	if item.Text == "first" && r.failed < 2 {
		r.failed++
		return webhook.Result{}, errors.New("not yet")
	}
	if strings.HasPrefix(item.Text, "stuck") {
		r.stuck++
		r.clock.Set(r.clock.Now().Add(r.sweep))
		return webhook.Result{}, errors.New("never")
	}
	if item.Text == "later" {
		r.clock.Set(r.clock.Now().Add(r.sweep))
	}
	r.applied = append(r.applied, item.Text)
	return webhook.Result{Text: "applied"}, nil
}

// A pass that keeps finding new events comes back, once a sweep interval
// has gone by, to an event it left behind, instead of leaving it until the
// backlog ends.
func TestLongPassComesBackForWhatItLeft(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		ra, n := rewindPass(t, s, 5, "first", "next", "later", "last", "very last")
		want := []string{"next", "later", "first", "last", "very last"}
		if n != len(want) || !slices.Equal(ra.applied, want) {
			t.Errorf("the pass applied %d events, in order %q; want %q", n, ra.applied, want)
		}
	})
}

// Going back for what it left does not hold a pass there: when retrying
// the events left behind takes longer than a sweep interval, the pass still
// moves on to newer events between one going back and the next.
func TestLongPassMovesOnPastWhatKeepsFailing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		ra, n := rewindPass(t, s, 1000, "stuck 1", "stuck 2", "new 1", "new 2", "new 3")
		want := []string{"new 1", "new 2", "new 3"}
		if n != len(want) || !slices.Equal(ra.applied, want) {
			t.Errorf("the pass applied %d events, %q; want %q", n, ra.applied, want)
		}
		// Each visit to a stuck event tries it twice (in its batch, then
		// alone), and every try moves the clock a sweep interval on: the
		// pass goes back each time it has moved past where it went back
		// from, eleven visits in all (without that rule it stays on the
		// stuck events until MaxAttempts sets them aside: 4,000 tries).
		if ra.stuck > 30 {
			t.Errorf("the stuck events were tried %d times in one pass", ra.stuck)
		}
	})
}

// rewindPass posts replies with texts, then runs one pass of a Processor
// that reads a page of one event at a time, applies them through a
// rewindApplier, sweeps every minute and sets an event aside after
// maxAttempts; it returns the applier and how many events the pass applied.
func rewindPass(t *testing.T, s *models.Store, maxAttempts int, texts ...string) (*rewindApplier, int) {
	t.Helper()
	e := newEnv(t, s)
	ra := &rewindApplier{clock: e.clock, sweep: time.Minute}
	proc, err := webhook.NewProcessor(webhook.ProcessorOptions{
		Store: s, Now: e.clock.Now, SweepInterval: ra.sweep, PerEvent: true, MaxAttempts: maxAttempts,
		Appliers: map[string]webhook.Applier{"receive_sms": ra},
	})
	if err != nil {
		t.Fatal(err)
	}
	proc.SetPageSize(1)
	for _, text := range texts {
		e.mustPost(envelope("receive_sms", smsItem("+4915100000009", text)))
	}
	n, err := proc.ProcessPending(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ra, n
}
