package webhook

import (
	"slices"
	"testing"

	"apptconfirm/app/smscx"
	"apptconfirm/models"
)

// TestApplyOrder checks that a stretch of delivery reports, replies and
// hits is regrouped a type at a time, each type in its order of arrival,
// and that opt-outs, hit updates and unknown types keep their place and
// bound the stretches.
func TestApplyOrder(t *testing.T) {
	const (
		dlr   = smscx.EventDLRUpdate
		reply = smscx.EventReceiveSMS
		hit   = smscx.EventShortlinkHit
		att   = smscx.EventAttachmentHit
		out   = smscx.EventNewOptout
		upd   = smscx.EventShortlinkHitUpdate
	)
	cases := []struct {
		name string
		in   []string
		want []uint // ids in the order they are applied
	}{
		{"empty", nil, nil},
		{"one type", []string{dlr, dlr, dlr}, []uint{1, 2, 3}},
		{"mixed stretch", []string{dlr, reply, dlr, hit, reply, dlr, att}, []uint{1, 3, 6, 2, 5, 4, 7}},
		{"reply first", []string{reply, dlr, reply}, []uint{1, 3, 2}},
		{"opt-out bounds", []string{reply, dlr, out, dlr, reply}, []uint{1, 2, 3, 4, 5}},
		{"opt-out inside", []string{dlr, reply, dlr, out, reply, dlr, reply}, []uint{1, 3, 2, 4, 5, 7, 6}},
		{"hit update bounds", []string{hit, dlr, upd, hit, dlr, hit}, []uint{1, 2, 3, 4, 6, 5}},
		{"unknown type bounds", []string{dlr, reply, "send_sms_status", reply, dlr}, []uint{1, 2, 3, 4, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page := make([]models.WebhookEvent, len(c.in))
			for i, e := range c.in {
				page[i] = models.WebhookEvent{ID: uint(i + 1), Event: e}
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
