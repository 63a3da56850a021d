package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// poisoner is an applier whose events holding "poison" fail to apply (a
// bug, not a bad item): both paths must set such an event aside without
// costing its neighbours anything.
type poisoner struct{ webhook.BatchApplier }

var errPoison = errors.New("poisoned event")

func (p poisoner) Apply(ctx context.Context, event string, raw []byte) (webhook.Result, error) {
	if bytes.Contains(raw, []byte("poison")) {
		return webhook.Result{}, errPoison
	}
	return p.BatchApplier.Apply(ctx, event, raw)
}

func (p poisoner) ApplyBatch(ctx context.Context, event string, raws [][]byte) ([]webhook.Result, error) {
	for _, raw := range raws {
		if bytes.Contains(raw, []byte("poison")) {
			return nil, errPoison
		}
	}
	return p.BatchApplier.ApplyBatch(ctx, event, raws)
}

// mixedFixture is what the recorded stream is about: the same rows, with
// the same ids and keys, in every database it is built in.
type mixedFixture struct {
	phones []string
	msgs   []*models.Message
}

func buildMixedFixture(e *env) mixedFixture {
	e.t.Helper()
	f := mixedFixture{phones: []string{"+4915123450001", "+4915123450002", "+4915123450003", "+4915123450004"}}
	for i, ph := range f.phones {
		p := e.patient(fmt.Sprintf("Patient%d", i), ph)
		for k := range 2 {
			a := e.appointment(p, time.Duration(48+24*k+i)*time.Hour)
			n := len(f.msgs)
			now := e.clock.Now().UTC()
			m := &models.Message{
				UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), AppointmentID: &a.ID, PatientID: &p.ID,
				RuleName: "48h", Kind: "reminder", To: ph, Body: "Reminder", Status: models.MsgAccepted, SendAt: now,
				SentAt: &now, ProviderID: fmt.Sprintf("10000000-0000-4000-8000-%012d", n),
			}
			switch n {
			case 4:
				// Known only by our trackData: SMS.CX's answer to the send was lost.
				m.ProviderID, m.SentAt = "", nil
			case 5:
				// A send still in flight, leased to the dispatcher.
				lease := now.Add(time.Minute)
				m.Status, m.LeaseUntil, m.InDoubt = models.MsgSending, &lease, true
			}
			if err := e.store.DB(e.ctx).Create(m).Error; err != nil {
				e.t.Fatal(err)
			}
			f.msgs = append(f.msgs, m)
		}
	}
	return f
}

// mixedStream is a recorded stream of webhook bodies about f: delivery
// reports out of order and repeated, unknown ids, a mismatch, a malformed
// item and a poisoned one, a REJECTED report in the middle of a batch,
// replies, opt-outs and hits.
func mixedStream(f mixedFixture) []string {
	m := f.msgs
	dlr := func(i int, status string) map[string]any {
		return map[string]any{
			"campaignId": "4baf0298-0c21-4df1-a60a-6e3476e95e0b", "msgId": m[i].ProviderID, "statusCode": 0,
			"status": status, "errorCode": nil, "datetime": "2026-03-02 09:00:05", "trackData": m[i].UUID,
		}
	}
	failed := dlr(2, "FAILED")
	failed["errorCode"] = 4021
	byTrack := dlr(4, "SENT")
	byTrack["msgId"] = "20000000-0000-4000-8000-000000000004" // fills in the msgId we lacked
	laterByMsgID := dlr(4, "DELIVERED")
	laterByMsgID["msgId"], laterByMsgID["trackData"] = byTrack["msgId"], nil
	mismatch := dlr(3, "DELIVERED")
	mismatch["trackData"] = "99999999-0000-4000-8000-000000000000"
	unknown := dlr(0, "DELIVERED")
	unknown["msgId"], unknown["trackData"] = "30000000-0000-4000-8000-000000000000", nil
	weird := dlr(7, "WEIRD")
	poison := dlr(1, "ACCEPTED")
	poison["campaignId"] = "poison"
	hit := func(event string, id int, phone string) map[string]any {
		return map[string]any{"hitId": id, "shortlinkId": "bVc", "device": "mobile", "city": "Berlin", "phoneNumber": phone}
	}
	return []string{
		envelope("dlr_update",
			dlr(0, "DELIVERED"), dlr(0, "SENT"), // late SENT after DELIVERED
			dlr(1, "SENT"), dlr(1, "DELIVERED"),
			failed, dlr(2, "DELIVERED"), // a final state never goes back
			unknown, mismatch, byTrack, laterByMsgID, weird,
			dlr(5, "DELIVERED"), // settles a send in flight
			dlr(6, "REJECTED"),  // opts patient 3 out in the middle of the batch
			dlr(7, "SENT"), dlr(3, "ACCEPTED"), dlr(3, "SENT"),
			map[string]any{"msgId": 12, "status": "SENT"}, // malformed: stored flagged, never applied
			dlr(0, "DELIVERED"),                           // a duplicate within the batch
		),
		envelope("receive_sms", smsItem(f.phones[0], "YES"), smsItem("+4915199999999", "YES")),
		envelope("dlr_update", dlr(1, "DELIVERED"), poison, dlr(7, "DELIVERED"), dlr(6, "DELIVERED")),
		envelope("receive_sms", smsItem(f.phones[1], "NO"), smsItem(f.phones[2], "STOP")),
		envelope("shortlink_hit", hit("shortlink_hit", 1, f.phones[0]), hit("shortlink_hit", 2, "+4915199999999"), hit("shortlink_hit", 4, f.phones[1])),
		envelope("shortlink_hit_update", hit("shortlink_hit_update", 1, f.phones[0])),
		envelope("new_optout", optoutItem(7, f.phones[3])),
		envelope("dlr_update", dlr(2, "DELIVERED"), dlr(3, "DELIVERED"), dlr(0, "FAILED")),
		envelope("attachment_hit", hit("attachment_hit", 3, f.phones[1])),
	}
}

// dump is every row a processed stream can have changed, in order, without what differs between two databases built alike (random UUIDs of
// planned messages, creation times from the wall clock). Messages are
// named by their rank in id order, or with byContent by their rank among
// the messages' contents, which does not depend on the order in which
// the processing created them (see canonical).
func dump(t *testing.T, e *env, byContent bool) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	var ms []models.Message
	if err := e.store.DB(e.ctx).Order("id").Find(&ms).Error; err != nil {
		t.Fatal(err)
	}
	lines := make([]string, len(ms))
	for i, m := range ms {
		upd := ""
		if !m.UpdatedAt.Before(t0.Add(-time.Minute)) && m.UpdatedAt.Before(t0.Add(time.Minute)) {
			upd = m.UpdatedAt.UTC().String()
		}
		lines[i] = fmt.Sprintf("appt=%v pt=%v kind=%s to=%s status=%s state=%s reason=%q code=%v pid=%s camp=%s sent=%v delivered=%v lease=%v doubt=%v upd=%s body=%q",
			deref(m.AppointmentID), deref(m.PatientID), m.Kind, m.To, m.Status, m.ProviderState, m.Reason, deref(m.ErrorCode),
			m.ProviderID, m.CampaignID, tm(m.SentAt), tm(m.DeliveredAt), tm(m.LeaseUntil), m.InDoubt, upd, m.Body)
	}
	// Rows the processing creates are named by their rank: a transaction
	// rolled back still uses up PostgreSQL sequence numbers.
	rank := map[uint]int{}
	if byContent {
		sorted := slices.Clone(lines)
		slices.Sort(sorted)
		for i, m := range ms {
			rank[m.ID], _ = slices.BinarySearch(sorted, lines[i])
			rank[m.ID]++
		}
	} else {
		for i, m := range ms {
			rank[m.ID] = i + 1
		}
	}
	msgRef := func(id *uint) any {
		if id == nil {
			return nil
		}
		return rank[*id]
	}
	for i, m := range ms {
		out["messages"] = append(out["messages"], fmt.Sprintf("#%d %s", rank[m.ID], lines[i]))
	}
	var as []models.Appointment
	if err := e.store.DB(e.ctx).Order("id").Find(&as).Error; err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		out["appointments"] = append(out["appointments"], fmt.Sprintf("%d status=%s confirmed=%v cancelled=%v",
			a.ID, a.Status, tm(a.ConfirmedAt), tm(a.CancelledAt)))
	}
	var ps []models.Patient
	if err := e.store.DB(e.ctx).Order("id").Find(&ps).Error; err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		out["patients"] = append(out["patients"], fmt.Sprintf("%d optedout=%v source=%s", p.ID, tm(p.OptedOutAt), p.OptOutSource))
	}
	var tl []models.TimelineEntry
	if err := e.store.DB(e.ctx).Order("id").Find(&tl).Error; err != nil {
		t.Fatal(err)
	}
	for _, x := range tl {
		out["timeline"] = append(out["timeline"], fmt.Sprintf("appt=%d at=%s kind=%s msg=%v detail=%q",
			x.AppointmentID, x.At.UTC(), x.Kind, msgRef(x.MessageID), x.Detail))
	}
	var evs []models.Event
	if err := e.store.DB(e.ctx).Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	for _, x := range evs {
		out["events"] = append(out["events"], fmt.Sprintf("%s at=%s appt=%d msg=%d pt=%d status=%s source=%s detail=%q",
			x.Type, x.At.UTC(), x.AppointmentID, msgRef(&x.MessageID), x.PatientID, x.Status, x.Source, x.Detail))
	}
	var ws []models.WebhookEvent
	if err := e.store.DB(e.ctx).Order("id").Find(&ws).Error; err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		out["webhook_events"] = append(out["webhook_events"], fmt.Sprintf("%d %s processed=%v attempts=%d flagged=%v result=%q",
			w.ID, w.Event, w.ProcessedAt != nil, w.Attempts, w.Flagged, w.Result))
	}
	var in []models.InboundMessage
	if err := e.store.DB(e.ctx).Order("id").Find(&in).Error; err != nil {
		t.Fatal(err)
	}
	for i, x := range in {
		out["inbound"] = append(out["inbound"], fmt.Sprintf("#%d from=%s text=%q intent=%s attention=%v appt=%v",
			i+1, x.From, x.Text, x.Intent, x.NeedsAttention, deref(x.AppointmentID)))
	}
	return out
}

// canonical is d with every table's rows sorted and their leading "#n "
// (an insertion rank) dropped: the rows two paths must both leave,
// whatever order they wrote them in. What order changes (an opt-out and
// a START from one number) shows in the rows it leaves: the patient's
// state, the messages cancelled or planned.
func canonical(d map[string][]string) map[string][]string {
	out := make(map[string][]string, len(d))
	for table, rows := range d {
		c := make([]string, len(rows))
		for i, r := range rows {
			if rest, ok := strings.CutPrefix(r, "#"); ok {
				if _, after, found := strings.Cut(rest, " "); found {
					r = after
				}
			}
			c[i] = r
		}
		slices.Sort(c)
		out[table] = c
	}
	return out
}

// optOutOrder is, for each appointment, its timeline's opt-out and opt-in
// lines, and for each patient its opted-out and opted-in events, in the
// order d (dumped in id order) has them: the order that must stay whatever
// order the paths apply different numbers' events in.
func optOutOrder(d map[string][]string) string {
	field := func(row, name string) string {
		if _, v, ok := strings.Cut(" "+row, " "+name); ok {
			v, _, _ = strings.Cut(v, " ")
			return v
		}
		return ""
	}
	groups := map[string][]string{}
	add := func(k, row string) { groups[k] = append(groups[k], row) }
	for _, r := range d["timeline"] {
		if strings.Contains(r, " kind=opt_out ") {
			add("timeline appt="+field(r, "appt="), r)
		}
	}
	for _, r := range d["events"] {
		if strings.HasPrefix(r, "patient.opted_") {
			add("events pt="+field(r, "pt="), r)
		}
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		b.WriteString(k + ":\n  " + strings.Join(groups[k], "\n  ") + "\n")
	}
	return b.String()
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func tm(p *time.Time) string {
	if p == nil {
		return "-"
	}
	return p.UTC().Format(time.RFC3339Nano)
}

// A recorded mixed stream applied by the per-event path and by the
// set-based path, into two fresh databases, leaves exactly the same
// messages, appointments, patients, timeline, domain events, inbound
// messages and stored results.
func TestSetBasedApplyMatchesPerEvent(t *testing.T) {
	eachStore(t, func(t *testing.T, _ *models.Store) {
		_, set := bothPaths(t, func(e *env) []string { return mixedStream(buildMixedFixture(e)) }, nil)
		// The stream did what it says.
		for _, want := range []string{"applied: delivered", "stale: message", "unmatched: no message", "mismatch: msgId", "unknown status WEIRD", "malformed:", "error: "} {
			if !strings.Contains(strings.Join(set["webhook_events"], "\n"), want) {
				t.Errorf("no stored result says %q:\n%s", want, strings.Join(set["webhook_events"], "\n"))
			}
		}
	})
}

// bothPaths prepares fresh databases of the kind t runs on with record,
// which builds a fixture and returns a stream about it (the first
// recording is posted to all), stores the whole stream in each before
// anything is applied, so that every path sees it in its batches, applies
// it by the per-event path in one and the set-based path in another, with
// a poisoned event among it, and fails t unless every table holds the
// same rows (canonical: the sets apply different numbers' events, and
// events of types SMS.CX sends in no order, in another order than the
// per-event path). On PostgreSQL a third database has it applied
// set-based by several workers side by side, and must hold the same.
// extra, when not nil, adds tables to each dump. It returns the dumps of
// the first two, rows in id order.
func bothPaths(t *testing.T, record func(e *env) []string, extra func(e *env, d map[string][]string)) (perEvent, set map[string][]string) {
	t.Helper()
	type path struct {
		name     string
		perEvent bool
		workers  int
	}
	paths := []path{{"per-event", true, 1}, {"set-based", false, 1}}
	pg := strings.HasSuffix(t.Name(), "postgres")
	if pg {
		paths = append(paths, path{"4 workers", false, 4})
	}
	var dumps, byContent []map[string][]string
	var stream []string // recorded once: smsItem numbers its msgIds
	for _, pt := range paths {
		var store *models.Store
		if pg {
			store = storetest.Postgres(t)
		} else {
			store = storetest.SQLite(t)
		}
		e := newEnv(t, store)
		recorded := record(e)
		as := appliers(store, e.clinic, e.ob, e.clock.Now)
		for k, a := range as {
			if ba, ok := a.(webhook.BatchApplier); ok {
				as[k] = poisoner{ba}
			}
		}
		proc, err := webhook.NewProcessor(webhook.ProcessorOptions{
			Store: store, Appliers: as, Now: e.clock.Now, PerEvent: pt.perEvent, Workers: pt.workers,
		})
		if err != nil {
			t.Fatal(err)
		}
		if stream == nil {
			stream = recorded
		}
		for _, body := range stream {
			e.mustPost(body)
		}
		for range 2 { // the second pass retries the poisoned event
			if _, err := proc.ProcessPending(e.ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, bc := range []bool{false, true} {
			d := dump(t, e, bc)
			if extra != nil {
				extra(e, d)
			}
			if bc {
				byContent = append(byContent, canonical(d))
			} else {
				dumps = append(dumps, d)
			}
		}
	}
	for i := 1; i < len(paths); i++ {
		compareDumps(t, paths[0].name, byContent[0], paths[i].name, byContent[i])
		if a, b := optOutOrder(dumps[0]), optOutOrder(dumps[i]); a != b {
			t.Errorf("opt-outs and opt-ins in another order:\n%s:\n%s%s:\n%s", paths[0].name, a, paths[i].name, b)
		}
	}
	return dumps[0], dumps[1]
}

// compareDumps fails t for every row in which dumps a and b differ.
func compareDumps(t *testing.T, aName string, a map[string][]string, bName string, b map[string][]string) {
	t.Helper()
	tables := []string{"messages", "appointments", "patients", "timeline", "events", "webhook_events", "inbound"}
	for table := range a { // tables extra added
		if !slices.Contains(tables, table) {
			tables = append(tables, table)
		}
	}
	for _, table := range tables {
		x, y := a[table], b[table]
		if len(x) == 0 && len(y) == 0 {
			t.Errorf("%s: nothing to compare", table)
		}
		for i := range max(len(x), len(y)) {
			var u, v string
			if i < len(x) {
				u = x[i]
			}
			if i < len(y) {
				v = y[i]
			}
			if u != v {
				t.Errorf("%s row %d:\n%-9s %s\n%-9s %s", table, i, aName, u, bName, v)
			}
		}
	}
}
