package webhook

import (
	"fmt"
	"slices"
	"testing"

	"apptconfirm/app/phone"
	"apptconfirm/app/smscx"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// TestPartition checks that every event about one number lands in one
// share, in the page's order, whichever way the event names the number:
// a reply's sender (with or without "+", as "00…", in national form with
// its country), an opt-out's or a
// click's number, a delivery report's message found by SMS.CX's id, by
// ours, or by SMS.CX's id that an earlier report of the page filled in;
// and that a page about many numbers is spread over the shares.
func TestPartition(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		p, err := NewProcessor(ProcessorOptions{Store: s})
		if err != nil {
			t.Fatal(err)
		}
		const numbers = 40
		var page []models.WebhookEvent
		owner := map[uint]int{} // event id → the number it is about
		add := func(n int, event, raw string) {
			id := uint(len(page) + 1)
			page = append(page, models.WebhookEvent{ID: id, Event: event, Raw: raw})
			owner[id] = n
		}
		for n := range numbers {
			phone := fmt.Sprintf("+4915123%06d", n)
			uuid := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
			provider := fmt.Sprintf("10000000-0000-4000-8000-%012d", n)
			m := models.Message{UUID: uuid, Kind: models.KindReminder, To: phone, Status: models.MsgAccepted, ProviderID: provider}
			if n%3 == 0 {
				m.ProviderID = "" // known by our id only
			}
			if err := s.DB(ctx).Create(&m).Error; err != nil {
				t.Fatal(err)
			}
			switch n % 3 {
			case 0:
				filled := fmt.Sprintf("20000000-0000-4000-8000-%012d", n)
				add(n, smscx.EventDLRUpdate, fmt.Sprintf(`{"msgId":%q,"trackData":%q,"status":"SENT"}`, filled, uuid))
				add(n, smscx.EventDLRUpdate, fmt.Sprintf(`{"msgId":%q,"trackData":null,"status":"DELIVERED"}`, filled))
			default:
				add(n, smscx.EventDLRUpdate, fmt.Sprintf(`{"msgId":%q,"status":"DELIVERED"}`, provider))
			}
			add(n, smscx.EventReceiveSMS, fmt.Sprintf(`{"msgId":"r%d","from":%q,"text":"YES"}`, n, phone))
			add(n, smscx.EventReceiveSMS, fmt.Sprintf(`{"msgId":"s%d","from":"00%s","text":"NO"}`, n, phone[1:]))
			add(n, smscx.EventReceiveSMS, fmt.Sprintf(`{"msgId":"t%d","from":"0%s","countryIso":"DE","text":"2"}`, n, phone[3:]))
			add(n, smscx.EventNewOptout, fmt.Sprintf(`{"phoneNumber":%q}`, phone[1:]))
			add(n, smscx.EventShortlinkHit, fmt.Sprintf(`{"hitId":%d,"phoneNumber":%q}`, n, phone))
		}
		add(-1, smscx.EventDLRUpdate, `{"msgId":"30000000-0000-4000-8000-000000000000","status":"DELIVERED"}`)
		// An id no message can have (PostgreSQL refuses a NUL in text):
		// the look-up leaves it out rather than failing the page.
		add(-1, smscx.EventDLRUpdate, `{"msgId":"a\u0000b","status":"DELIVERED"}`)
		add(-1, smscx.EventReceiveSMS, `{"msgId":`)
		shares, _, err := p.partition(ctx, page, 4)
		if err != nil {
			t.Fatal(err)
		}
		shareOf := map[int]int{}
		used, total := 0, 0
		for i, share := range shares {
			if len(share) > 0 {
				used++
			}
			total += len(share)
			if !slices.IsSortedFunc(share, func(a, b models.WebhookEvent) int { return int(a.ID) - int(b.ID) }) {
				t.Errorf("share %d is out of the page's order", i)
			}
			for _, ev := range share {
				n := owner[ev.ID]
				if n < 0 {
					continue
				}
				if was, ok := shareOf[n]; ok && was != i {
					t.Errorf("events about number %d are in shares %d and %d (event %d: %s)", n, was, i, ev.ID, ev.Raw)
				}
				shareOf[n] = i
			}
		}
		if total != len(page) {
			t.Errorf("%d events in the shares, want %d", total, len(page))
		}
		if used < 3 {
			t.Errorf("%d numbers spread over %d of 4 shares", numbers, used)
		}
	})
}

// FuzzEventKey: reading a stored item's partition key never panics, and a
// number key holds digits only.
func FuzzEventKey(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(smscx.EventReceiveSMS, s)
	}
	f.Add(smscx.EventDLRUpdate, `{"msgId":"x","trackData":"y"}`)
	f.Add(smscx.EventShortlinkHit, `{"hitId":7,"phoneNumber":"+49 (151) 23-45"}`)
	f.Add(smscx.EventNewOptout, `{"phoneNumber":"0049151"}`)
	f.Fuzz(func(t *testing.T, event, raw string) {
		k := eventKey(&models.WebhookEvent{Event: event, Raw: raw}, phone.Loose)
		for _, c := range []byte(k.number) {
			if c < '0' || c > '9' {
				t.Fatalf("key %q of %q holds a non-digit", k.number, raw)
			}
		}
	})
}
