package seed

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestRun(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var bar bytes.Buffer
	res, err := Run(ctx, st, Options{Count: 3000, Batch: 1000, Now: now, Seed: 7, Progress: &bar})
	if err != nil {
		t.Fatal(err)
	}
	count := func(model any, where ...any) int64 {
		t.Helper()
		db := st.DB(ctx).Model(model)
		if len(where) > 0 {
			db = db.Where(where[0], where[1:]...)
		}
		var n int64
		if err := db.Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if res.Appointments != 3000 || count(&models.Appointment{}) != 3000 {
		t.Fatalf("appointments: result %d, table %d", res.Appointments, count(&models.Appointment{}))
	}
	if int64(res.Patients) != count(&models.Patient{}) || res.Patients != 999 {
		t.Fatalf("patients: result %d, table %d", res.Patients, count(&models.Patient{}))
	}
	if int64(res.Messages) != count(&models.Message{}) || res.Messages < 2*3000 {
		t.Fatalf("messages: result %d, table %d", res.Messages, count(&models.Message{}))
	}
	if int64(res.Replies) != count(&models.InboundMessage{}) || res.Replies == 0 {
		t.Fatalf("replies: result %d, table %d", res.Replies, count(&models.InboundMessage{}))
	}
	if n := count(&models.Location{}); n != 3 {
		t.Fatalf("locations: %d, want 3", n)
	}
	if !strings.Contains(bar.String(), "100%") || !strings.Contains(bar.String(), "3000/3000") {
		t.Fatalf("progress bar: %q", bar.String())
	}

	t.Run("dates span two years either side of now", func(t *testing.T) {
		var lo, hi models.Appointment
		if err := st.DB(ctx).Order("starts_at").First(&lo).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.DB(ctx).Order("starts_at DESC").First(&hi).Error; err != nil {
			t.Fatal(err)
		}
		r := struct{ Lo, Hi time.Time }{lo.StartsAt, hi.StartsAt}
		if r.Lo.After(now.AddDate(-1, -9, 0)) || r.Hi.Before(now.AddDate(1, 9, 0)) ||
			r.Lo.Before(now.AddDate(-2, 0, -3)) || r.Hi.After(now.AddDate(2, 0, 3)) {
			t.Fatalf("range %s to %s", r.Lo, r.Hi)
		}
	})

	t.Run("rows go in about the order of their dates", func(t *testing.T) {
		var as []models.Appointment
		if err := st.DB(ctx).Order("id").Find(&as).Error; err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(as); i++ {
			if d := as[i].StartsAt.Sub(as[i-1].StartsAt); d > 5*24*time.Hour || d < -5*24*time.Hour {
				t.Fatalf("appointment %d starts %s after the one before", as[i].ID, d)
			}
		}
	})

	t.Run("states are plausible", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			where  []any
			lo, hi int64
		}{
			{"past scheduled or confirmed are rare", []any{"starts_at < ? AND status IN ?", now, []string{"scheduled", "confirmed"}}, 0, 100},
			{"future completed or no-show never", []any{"starts_at > ? AND status IN ?", now, []string{"completed", "no_show"}}, 0, 0},
			{"no-shows", []any{"status = ?", "no_show"}, 50, 300},
			{"cancelled", []any{"status = ?", "cancelled"}, 150, 450},
			{"confirmed without confirmed_at never", []any{"status = ? AND confirmed_at IS NULL", "confirmed"}, 0, 0},
			{"future confirmed", []any{"starts_at > ? AND status = ?", now, "confirmed"}, 200, 1200},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if n := count(&models.Appointment{}, tc.where...); n < tc.lo || n > tc.hi {
					t.Fatalf("%d, want %d to %d", n, tc.lo, tc.hi)
				}
			})
		}
		for _, tc := range []struct {
			name   string
			where  []any
			lo, hi int64
		}{
			{"planned only in the future", []any{"status = ? AND send_at < ?", "planned", now}, 0, 0},
			{"failed", []any{"status IN ?", []string{"failed", "rejected"}}, 1, 400},
			{"delivered", []any{"status = ?", "delivered"}, 2000, 6000},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if n := count(&models.Message{}, tc.where...); n < tc.lo || n > tc.hi {
					t.Fatalf("%d, want %d to %d", n, tc.lo, tc.hi)
				}
			})
		}
		if n := count(&models.InboundMessage{}, "needs_attention = ? AND received_at < ?", true, now.Add(-72*time.Hour)); n != 0 {
			t.Fatalf("%d old replies still need attention", n)
		}
	})

	t.Run("the same seed gives the same data", func(t *testing.T) {
		other := storetest.SQLite(t)
		if _, err := Run(ctx, other, Options{Count: 200, Now: now, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		again := storetest.SQLite(t)
		if _, err := Run(ctx, again, Options{Count: 200, Now: now, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		var x, y []models.Message
		st1 := other.DB(ctx).Order("id").Find(&x).Error
		st2 := again.DB(ctx).Order("id").Find(&y).Error
		if st1 != nil || st2 != nil {
			t.Fatal(st1, st2)
		}
		if len(x) != len(y) || len(x) == 0 {
			t.Fatalf("%d and %d messages", len(x), len(y))
		}
		for i := range x {
			if x[i].UUID != y[i].UUID || x[i].Status != y[i].Status || !x[i].SendAt.Equal(y[i].SendAt) {
				t.Fatalf("message %d differs: %+v vs %+v", i, x[i], y[i])
			}
		}
	})
}

func TestUUIDsAreVersion7AndGrow(t *testing.T) {
	g := &generator{rng: rand.New(rand.NewPCG(1, 2)), now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	prev := ""
	seen := map[string]bool{}
	for range 1000 {
		s := g.uuid()
		u, err := uuid.Parse(s)
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("%s: version %d, variant %v, %v", s, u.Version(), u.Variant(), err)
		}
		if s <= prev || seen[s] {
			t.Fatalf("%s does not follow %s", s, prev)
		}
		prev, seen[s] = s, true
	}
}

func TestRunRefusesNegativeCount(t *testing.T) {
	if _, err := Run(context.Background(), nil, Options{Count: -1}); err == nil {
		t.Fatal("no error")
	}
}

func BenchmarkSeed(b *testing.B) {
	st := storetest.SQLite(b)
	for b.Loop() {
		if _, err := Run(context.Background(), st, Options{Count: 10000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
