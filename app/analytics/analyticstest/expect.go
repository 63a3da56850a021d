package analyticstest

import (
	"strconv"
	"time"

	"apptconfirm/app/analytics"
	"apptconfirm/models"
)

// Expected is what a range should show, computed with plain loops over
// the generated rows, following docs/analytics.md word for word.
type Expected struct {
	InRange int64
	Total   analytics.Counts
	// Rows are the counts by breakdown name, then row key.
	Rows map[string]map[string]analytics.Counts
	// Sent and Delivered count reminders by rule key (the rule id, or "name:" and the deleted rule's name).
	Sent, Delivered map[string]int64
	// Refill is the refill rate by breakdown name, then row key ("" in "total").
	Refill map[string]map[string]analytics.Rate
}

// RuleKey is how the expected figures key a rule.
func RuleKey(id uint, name string) string {
	if id == 0 {
		return "name:" + name
	}
	return strconv.FormatUint(uint64(id), 10)
}

// Expect computes the figures of [from, to) from w.
func Expect(w *World, from, to time.Time) Expected {
	e := Expected{
		Rows: map[string]map[string]analytics.Counts{}, Sent: map[string]int64{}, Delivered: map[string]int64{},
		Refill: map[string]map[string]analytics.Rate{},
	}
	id := func(n uint) string { return strconv.FormatUint(uint64(n), 10) }
	for _, sl := range w.Slots {
		if sl.StartsAt.Before(from) || !sl.StartsAt.Before(to) || len(sl.Offers) == 0 {
			continue
		}
		var taken int64
		for _, o := range sl.Offers {
			if o == models.WaitlistTaken {
				taken = 1
			}
		}
		for _, k := range [][2]string{{"total", ""}, {analytics.ByProvider, id(sl.ProviderID)}, {analytics.ByLocation, id(sl.LocationID)}, {analytics.ByType, id(sl.TypeID)}} {
			if e.Refill[k[0]] == nil {
				e.Refill[k[0]] = map[string]analytics.Rate{}
			}
			r := e.Refill[k[0]][k[1]]
			r.N += taken
			r.D++
			e.Refill[k[0]][k[1]] = r
		}
	}
	lang := map[uint]string{}
	for _, p := range w.Patients {
		lang[p.ID] = p.Language
	}
	zone := map[uint]*time.Location{}
	for i := range w.Locations {
		zone[w.Locations[i].ID] = w.Locations[i].Zone()
	}
	add := func(bd, key string, c analytics.Counts) {
		if e.Rows[bd] == nil {
			e.Rows[bd] = map[string]analytics.Counts{}
		}
		x := e.Rows[bd][key]
		x.Appointments += c.Appointments
		x.Confirmed += c.Confirmed
		x.Cancelled += c.Cancelled
		x.Rescheduled += c.Rescheduled
		x.NoShow += c.NoShow
		x.Outcome += c.Outcome
		e.Rows[bd][key] = x
	}
	for _, a := range w.Appts {
		if a.StartsAt.Before(from) || !a.StartsAt.Before(to) {
			continue
		}
		e.InRange++
		var last *Msg
		reminded := false
		for i := range a.Msgs {
			m := &a.Msgs[i]
			if m.Kind != models.KindReminder || m.SentAt == nil {
				continue
			}
			reminded = true
			e.Sent[RuleKey(m.RuleID, m.RuleName)]++
			if m.Delivered {
				e.Delivered[RuleKey(m.RuleID, m.RuleName)]++
			}
			if a.ConfirmedAt != nil && m.SentAt.After(*a.ConfirmedAt) {
				continue
			}
			if last == nil || later(m, last) {
				last = m
			}
		}
		if !reminded {
			continue
		}
		c := analytics.Counts{Appointments: 1}
		if a.ConfirmedAt != nil {
			c.Confirmed = 1
		}
		if a.Status == models.Cancelled {
			c.Cancelled = 1
		}
		if a.Rescheduled {
			c.Rescheduled = 1
		}
		if a.Status == models.NoShow {
			c.NoShow, c.Outcome = 1, 1
		}
		if a.Status == models.Completed {
			c.Outcome = 1
		}
		add("total", "", c)
		if last != nil {
			add(analytics.ByRule, RuleKey(last.RuleID, last.RuleName), c)
			add(analytics.ByHour, strconv.Itoa(last.SentAt.In(zone[a.LocationID]).Hour()), c)
		} else {
			add(analytics.ByRule, "none", c)
			add(analytics.ByHour, "none", c)
		}
		add(analytics.ByLanguage, lang[a.PatientID], c)
		add(analytics.ByProvider, strconv.FormatUint(uint64(a.ProviderID), 10), c)
		add(analytics.ByLocation, strconv.FormatUint(uint64(a.LocationID), 10), c)
		add(analytics.ByType, strconv.FormatUint(uint64(a.TypeID), 10), c)
	}
	e.Total = e.Rows["total"][""]
	return e
}

// later reports whether reminder a comes after b in the order of
// docs/analytics.md: sent later; at the same instant, the higher rule (a
// deleted rule lowest), then the one delivered (later), then the higher id.
func later(a, b *Msg) bool {
	if !a.SentAt.Equal(*b.SentAt) {
		return a.SentAt.After(*b.SentAt)
	}
	if a.RuleID != b.RuleID {
		return a.RuleID > b.RuleID
	}
	if a.Delivered != b.Delivered {
		return a.Delivered
	}
	return a.ID > b.ID
}
