package webhook

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// TestApplyOrder checks that a stretch of delivery reports, hits and
// replies is regrouped a type at a time (reports first), each type in its
// order of arrival, and that opt-outs, REJECTED or unreadable reports, hit
// updates and unknown types keep their place and bound the stretches.
func TestApplyOrder(t *testing.T) {
	const (
		dlr   = smscx.EventDLRUpdate
		reply = smscx.EventReceiveSMS
		hit   = smscx.EventShortlinkHit
		att   = smscx.EventAttachmentHit
		out   = smscx.EventNewOptout
		upd   = smscx.EventShortlinkHitUpdate
	)
	const (
		rej      = "rejected"
		badRep   = "undecodable report"
		lowerRej = "lower-case rejected"
	)
	cases := []struct {
		name string
		in   []string
		want []uint // ids in the order they are applied
	}{
		{"empty", nil, nil},
		{"one type", []string{dlr, dlr, dlr}, []uint{1, 2, 3}},
		{"mixed stretch", []string{dlr, reply, dlr, hit, reply, dlr, att}, []uint{1, 3, 6, 4, 7, 2, 5}},
		{"reports before replies", []string{reply, dlr, reply}, []uint{2, 1, 3}},
		{"opt-out bounds", []string{reply, dlr, out, dlr, reply}, []uint{2, 1, 3, 4, 5}},
		{"opt-out inside", []string{dlr, reply, dlr, out, reply, dlr, reply}, []uint{1, 3, 2, 4, 6, 5, 7}},
		{"hit update bounds", []string{hit, dlr, upd, hit, dlr, hit}, []uint{2, 1, 3, 5, 4, 6}},
		{"unknown type bounds", []string{dlr, reply, "send_sms_status", reply, dlr}, []uint{1, 2, 3, 5, 4}},
		{"rejected report bounds", []string{reply, dlr, rej, reply, dlr}, []uint{2, 1, 3, 5, 4}},
		{"rejected in lower case bounds", []string{reply, lowerRej, reply}, []uint{1, 2, 3}},
		{"undecodable report bounds", []string{reply, badRep, reply}, []uint{1, 2, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page := make([]models.WebhookEvent, len(c.in))
			for i, e := range c.in {
				ev := models.WebhookEvent{ID: uint(i + 1), Event: e, Raw: `{"msgId":"m","status":"DELIVERED"}`}
				switch e {
				case rej:
					ev.Event, ev.Raw = dlr, `{"msgId":"m","status":"REJECTED"}`
				case lowerRej:
					ev.Event, ev.Raw = dlr, `{"msgId":"m","status":" rejected "}`
				case badRep:
					ev.Event, ev.Raw = dlr, `{"msgId":`
				}
				page[i] = ev
			}
			var got []uint
			for _, ev := range inOrder(page) {
				got = append(got, ev.ID)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("applyOrder(%v) = %v, want %v", c.in, got, c.want)
			}
		})
	}
}

// TestRegroupByKey checks that in a worker's share an event that keeps
// its place (an opt-out, a hit update) holds back only the later events of
// its own key, so that the events of other keys join the runs before it,
// and that a REJECTED report, or one whose status cannot be read, holds
// back every later event.
func TestRegroupByKey(t *testing.T) {
	type in struct {
		event, key string
	}
	const (
		dlr    = smscx.EventDLRUpdate
		reply  = smscx.EventReceiveSMS
		hit    = smscx.EventShortlinkHit
		out    = smscx.EventNewOptout
		upd    = smscx.EventShortlinkHitUpdate
		rej    = "rejected"
		badRep = "undecodable report"
	)
	cases := []struct {
		name string
		in   []in
		want []uint
	}{
		{"empty", nil, nil},
		{"one key keeps applyOrder's order", []in{{dlr, "a"}, {reply, "a"}, {out, "a"}, {dlr, "a"}}, []uint{1, 2, 3, 4}},
		{
			"other keys pass an opt-out",
			[]in{{reply, "a"}, {dlr, "a"}, {out, "b"}, {dlr, "c"}, {reply, "b"}, {out, "a"}, {reply, "a"}, {hit, "c"}, {dlr, "b"}},
			[]uint{2, 4, 8, 1, 3, 6, 9, 5, 7},
		},
		{"a rejected report holds back every key", []in{{dlr, "c"}, {rej, "a"}, {dlr, "b"}, {reply, "a"}, {reply, "b"}, {out, "c"}}, []uint{1, 2, 3, 4, 5, 6}},
		{"other keys pass an opt-out, not a rejected report", []in{{out, "a"}, {dlr, "b"}, {rej, "c"}, {dlr, "a"}, {reply, "b"}}, []uint{2, 1, 3, 4, 5}},
		{"other keys pass an opt-out, not an undecodable report", []in{{out, "a"}, {dlr, "b"}, {badRep, "c"}, {dlr, "a"}, {reply, "b"}}, []uint{2, 1, 3, 4, 5}},
		{"a hit update holds back its own key", []in{{upd, "a"}, {hit, "a"}, {hit, "b"}}, []uint{3, 1, 2}},
		{"two barriers of one key stay in order", []in{{out, "a"}, {out, "b"}, {out, "a"}, {dlr, "a"}, {dlr, "b"}}, []uint{1, 2, 5, 3, 4}},
		{"no key is a key of its own", []in{{out, ""}, {dlr, "a"}, {dlr, ""}}, []uint{2, 1, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			share, keys := make([]models.WebhookEvent, len(c.in)), make([]string, len(c.in))
			for i, e := range c.in {
				share[i] = models.WebhookEvent{ID: uint(i + 1), Event: e.event, Raw: `{"msgId":"m","status":"DELIVERED"}`}
				switch e.event {
				case rej:
					share[i].Event, share[i].Raw = dlr, `{"msgId":"m","status":"REJECTED"}`
				case badRep:
					share[i].Event, share[i].Raw = dlr, `{"msgId":"m","status":`
				}
				keys[i] = e.key
			}
			var got []uint
			for _, ev := range regroupByKey(share, keys) {
				got = append(got, ev.ID)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("regroupByKey = %v, want %v", got, c.want)
			}
		})
	}
}

// TestRegroupByKeyKeepsEachKeysBarriers checks on random shares that the
// result is a permutation of the share in which the events of each key
// come in the order applyOrder gives them alone, and that over all the
// shares it makes fewer runs of one type than applyOrder did.
func TestRegroupByKeyKeepsEachKeysBarriers(t *testing.T) {
	types := []string{
		smscx.EventDLRUpdate, smscx.EventDLRUpdate, smscx.EventDLRUpdate, smscx.EventReceiveSMS, smscx.EventReceiveSMS,
		smscx.EventShortlinkHit, smscx.EventAttachmentHit, smscx.EventShortlinkHitUpdate, smscx.EventNewOptout,
	}
	rng := rand.New(rand.NewPCG(20, 6))
	runs := func(evs []models.WebhookEvent) int {
		n := 0
		for i := range evs {
			if i == 0 || evs[i].Event != evs[i-1].Event {
				n++
			}
		}
		return n
	}
	before, after := 0, 0
	for round := range 200 {
		n := rng.IntN(120)
		share, keys := make([]models.WebhookEvent, n), make([]string, n)
		keyOf := map[uint]string{}
		for i := range share {
			share[i] = models.WebhookEvent{ID: uint(i + 1), Event: types[rng.IntN(len(types))], Raw: `{"status":"DELIVERED"}`}
			if share[i].Event == smscx.EventDLRUpdate && rng.IntN(8) == 0 {
				share[i].Raw = `{"status":"REJECTED"}`
			}
			keys[i] = fmt.Sprint(rng.IntN(8))
			keyOf[share[i].ID] = keys[i]
		}
		ordered := inOrder(share)
		orderedKeys := make([]string, n)
		for i, ev := range ordered {
			orderedKeys[i] = keyOf[ev.ID]
		}
		got := regroupByKey(ordered, orderedKeys)
		pos := map[uint]int{}
		for i, ev := range got {
			pos[ev.ID] = i
		}
		if len(got) != n || len(pos) != n {
			t.Fatalf("round %d: %d events in, %d out (%d distinct)", round, n, len(got), len(pos))
		}
		rejected := func(ev models.WebhookEvent) bool { return strings.Contains(ev.Raw, "REJECTED") }
		for i, ev := range ordered {
			if !rejected(ev) {
				continue
			}
			for j, other := range ordered {
				if (j < i) != (pos[other.ID] < pos[ev.ID]) && j != i {
					t.Fatalf("round %d: event %d is on the other side of REJECTED report %d", round, other.ID, ev.ID)
				}
			}
		}
		for key := range 8 {
			// A key's events in applyOrder's order between REJECTED
			// reports, which hold back every key.
			var want, seg, regrouped []models.WebhookEvent
			for i, ev := range ordered {
				switch {
				case rejected(ev):
					want = append(want, inOrder(seg)...)
					seg = nil
					if orderedKeys[i] == fmt.Sprint(key) {
						want = append(want, ev)
					}
				case orderedKeys[i] == fmt.Sprint(key):
					seg = append(seg, ev)
				}
			}
			want = append(want, inOrder(seg)...)
			for _, ev := range got {
				if keyOf[ev.ID] == fmt.Sprint(key) {
					regrouped = append(regrouped, ev)
				}
			}
			if !slices.EqualFunc(regrouped, want, func(a, b models.WebhookEvent) bool { return a.ID == b.ID }) {
				t.Fatalf("round %d: key %d: events %v, want %v", round, key, ids(regrouped), ids(want))
			}
		}
		before += runs(ordered)
		after += runs(got)
	}
	if after >= before {
		t.Errorf("%d runs after regrouping, %d before", after, before)
	}
}

func ids(evs []models.WebhookEvent) []uint {
	out := make([]uint, len(evs))
	for i := range evs {
		out[i] = evs[i].ID
	}
	return out
}

// TestOneStretchNeedsNoRegrouping checks on random pages that when
// applyOrder reports a single stretch, regroupByKey leaves its order as it
// is whatever the keys, so one worker may skip keying such a page; and
// that a page with an event that keeps its place is not reported as one.
func TestOneStretchNeedsNoRegrouping(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 7))
	barrier := []string{smscx.EventNewOptout, smscx.EventShortlinkHitUpdate, "some_new_type"}
	single := 0
	for round := range 300 {
		n := 1 + rng.IntN(60)
		page, keys := make([]models.WebhookEvent, n), make([]string, n)
		for i := range page {
			page[i] = models.WebhookEvent{ID: uint(i + 1), Event: unordered[rng.IntN(len(unordered))], Raw: `{"status":"DELIVERED"}`}
			keys[i] = fmt.Sprint(rng.IntN(5))
		}
		kept := round%3 == 0
		if kept {
			i := rng.IntN(n)
			if rng.IntN(2) == 0 {
				page[i].Event = barrier[rng.IntN(len(barrier))]
			} else {
				page[i].Event, page[i].Raw = smscx.EventDLRUpdate, `{"status":"REJECTED"}`
			}
		}
		ordered, oneStretch := applyOrder(page)
		if oneStretch == kept {
			t.Fatalf("round %d: one stretch = %v with an event that keeps its place = %v", round, oneStretch, kept)
		}
		if !oneStretch {
			continue
		}
		single++
		if got := regroupByKey(ordered, keys); !slices.Equal(ids(got), ids(ordered)) {
			t.Fatalf("round %d: regroupByKey changed a single stretch: %v, was %v", round, ids(got), ids(ordered))
		}
	}
	if single == 0 {
		t.Fatal("no page made a single stretch")
	}
}

// inOrder is applyOrder's order alone.
func inOrder(page []models.WebhookEvent) []models.WebhookEvent {
	out, _ := applyOrder(page)
	return out
}
