package webhook

import (
	"slices"
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
			for _, ev := range applyOrder(page) {
				got = append(got, ev.ID)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("applyOrder(%v) = %v, want %v", c.in, got, c.want)
			}
		})
	}
}
