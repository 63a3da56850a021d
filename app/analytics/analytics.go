// Package analytics computes what the reminders achieved over a range of
// clinic-local days: the confirmation, cancellation, reschedule, no-show
// and refill rates, each with the counts it divides, broken down by the
// reminder rule and its offset, the local hour the reminder was sent, the
// patient's language, the provider, the location and the appointment
// type, and the table of which reminder works best. One engine serves the
// page, the API and the CSV downloads.
//
// The definitions are in docs/analytics.md and the code follows them
// exactly. Direct counts in the database (grouped statements bounded by
// the start index of appointments, each half of the range on its own
// connection); Report adds up the same counts kept per day in a summary
// that the domain events keep up to date (summary.go), and says as of when.
package analytics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// Range sizes, in days.
const (
	// DefaultDays is the range when none is given: the last 30 days
	// before today.
	DefaultDays = 30
	// MaxDays bounds a range.
	MaxDays = 366
)

// MinRanked is how many appointments a reminder must have been attributed
// before its confirmation rate is ranked in the table of which reminder
// works best: below it, one patient more or less swings the rate by
// several points.
const MinRanked = 20

// offsetLookback is how long before the range's first day reminders are
// expected to have been sent: the zone offsets the local hours are read
// with cover it.
const offsetLookback = 60 * 24 * time.Hour

// Breakdown names, as the CSV download and the API name them.
const (
	ByRule     = "rule"
	ByHour     = "hour"
	ByLanguage = "language"
	ByProvider = "provider"
	ByLocation = "location"
	ByType     = "type"
	// ByReminder is the table of which reminder works best.
	ByReminder = "reminders"
)

// BreakdownNames lists every breakdown a CSV may be asked for, in page order.
var BreakdownNames = []string{ByReminder, ByRule, ByHour, ByLanguage, ByProvider, ByLocation, ByType}

// ValidBreakdown reports whether name is one of BreakdownNames.
func ValidBreakdown(name string) bool { return slices.Contains(BreakdownNames, name) }

// Range is a range of whole local days: appointments starting in
// [From, To), To being the midnight after the last day.
type Range struct {
	From, To time.Time
	Zone     *time.Location
}

// FirstDay and LastDay are the range's days as YYYY-MM-DD (LastDay
// inclusive).
func (r Range) FirstDay() string { return r.From.In(r.Zone).Format(time.DateOnly) }

// LastDay is the last day of the range, as YYYY-MM-DD.
func (r Range) LastDay() string { return r.To.In(r.Zone).AddDate(0, 0, -1).Format(time.DateOnly) }

// Days is the number of days in the range.
func (r Range) Days() int {
	f, l := r.From.In(r.Zone), r.To.In(r.Zone)
	a := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a) / (24 * time.Hour))
}

// ParseRange reads a range of days written YYYY-MM-DD (to inclusive) in
// zone. An empty from is the day DefaultDays days before today; an empty to
// is yesterday when from is empty too, else DefaultDays days on from from.
// Refusals name their field.
func ParseRange(from, to string, zone *time.Location, now time.Time) (Range, models.FieldErrors) {
	if zone == nil {
		zone = time.UTC
	}
	fe := models.FieldErrors{}
	n := now.In(zone)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, zone)
	first, last := today.AddDate(0, 0, -DefaultDays), today.AddDate(0, 0, -1)
	okFrom, okTo := true, true
	if from != "" {
		first, okFrom = parseDay(fe, "from", from, zone)
		if okFrom && to == "" {
			last = first.AddDate(0, 0, DefaultDays-1)
		}
	}
	if to != "" {
		last, okTo = parseDay(fe, "to", to, zone)
	}
	if okFrom && okTo {
		switch {
		case last.Before(first):
			fe["to"] = "must be on or after from"
		case !last.Before(first.AddDate(0, 0, MaxDays)):
			fe["to"] = fmt.Sprintf("the range must be at most %d days", MaxDays)
		}
	}
	if len(fe) > 0 {
		return Range{}, fe
	}
	return Range{From: first, To: last.AddDate(0, 0, 1), Zone: zone}, nil
}

func parseDay(fe models.FieldErrors, field, s string, zone *time.Location) (time.Time, bool) {
	t, err := time.ParseInLocation(time.DateOnly, s, zone)
	if err != nil || t.Year() < 1970 || t.Year() > 2199 {
		fe[field] = "must be a date as YYYY-MM-DD"
		return time.Time{}, false
	}
	return t, true
}

// Rate is a count over the count it is taken of.
type Rate struct {
	N, D int64
}

// Value is N over D; ok is false when D is 0 (there is no rate then, not
// a rate of 0).
func (r Rate) Value() (v float64, ok bool) {
	if r.D <= 0 {
		return 0, false
	}
	return float64(r.N) / float64(r.D), true
}

// Percent writes the rate as "62%" (one decimal below 10%), or "—"
// without a denominator.
func (r Rate) Percent() string {
	v, ok := r.Value()
	if !ok {
		return "—"
	}
	if v > 0 && v < 0.1 {
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(v*100, 'f', 0, 64) + "%"
}

// Counts are the counts behind the rates of a group of appointments that
// were sent at least one reminder.
type Counts struct {
	// Appointments is the group's size: the denominator of the
	// confirmation, cancellation and reschedule rates.
	Appointments int64
	// Confirmed hold a confirmation; Cancelled are cancelled;
	// Rescheduled were moved to another time at least once.
	Confirmed, Cancelled, Rescheduled int64
	// NoShow are marked no-show; Outcome are marked completed or no-show
	// (the denominator of the no-show rate).
	NoShow, Outcome int64
}

// Confirmation is Confirmed over Appointments.
func (c Counts) Confirmation() Rate { return Rate{c.Confirmed, c.Appointments} }

// Cancellation is Cancelled over Appointments.
func (c Counts) Cancellation() Rate { return Rate{c.Cancelled, c.Appointments} }

// Reschedule is Rescheduled over Appointments.
func (c Counts) Reschedule() Rate { return Rate{c.Rescheduled, c.Appointments} }

// NoShowRate is NoShow over Outcome.
func (c Counts) NoShowRate() Rate { return Rate{c.NoShow, c.Outcome} }

// Row is one line of a breakdown.
type Row struct {
	// Key identifies the line in its breakdown: a rule, provider or
	// location id, a language code, an hour ("0" to "23"); "none" for
	// the appointments confirmed before any reminder was sent.
	Key string
	// Label names it for people (never a raw code).
	Label string
	// Hour is the local hour of the hour breakdown's lines (-1 elsewhere
	// and for "none").
	Hour int
	Counts
	// Refill is the refill rate of the freed times of this location,
	// provider or type (zero in the other breakdowns).
	Refill Rate
}

// Breakdown is the reminded appointments split one way; the rows add up
// to the report's Total.
type Breakdown struct {
	Name  string
	Title string
	Rows  []Row
}

// ReminderRow is one line of the table of which reminder works best.
type ReminderRow struct {
	RuleID uint
	Name   string
	// Before is how long before the start the rule sends (0 for a deleted
	// rule); Offset says it in words.
	Before time.Duration
	Offset string
	// Sent counts the rule's reminders of the range's appointments that
	// left for SMS.CX; Delivered those SMS.CX reported delivered.
	Sent, Delivered int64
	// Counts are the appointments attributed to the rule.
	Counts
	// Ranked is false when fewer than MinRanked appointments are
	// attributed to the rule: its rate is shown, but not ranked.
	Ranked bool
}

// Delivery is Delivered over Sent.
func (r ReminderRow) Delivery() Rate { return Rate{r.Delivered, r.Sent} }

// Report is the analytics of one range.
type Report struct {
	Range Range
	// InRange counts every appointment of the range, reminded or not.
	InRange int64
	// Total are the counts of the appointments sent at least one reminder.
	Total Counts
	// Refill is the refill rate: freed appointments of the range offered
	// to the waitlist and taken, over those offered.
	Refill Rate
	// Breakdowns split Total by rule, hour, language, provider, location
	// and type, in that order.
	Breakdowns []Breakdown
	// Reminders is the table of which reminder works best, ranked rules
	// first, by confirmation rate.
	Reminders []ReminderRow
	// ComputedAt is when the report was made.
	ComputedAt time.Time
	// AsOf is the time up to which the figures take every change into
	// account: ComputedAt when they are exact, earlier when some days of
	// the summary were still out of date (see Report).
	AsOf time.Time
	// FromSummary: the figures were added up from the per-day summary
	// rather than counted directly.
	FromSummary bool
}

// Breakdown returns the breakdown called name.
func (r *Report) Breakdown(name string) (*Breakdown, bool) {
	for i := range r.Breakdowns {
		if r.Breakdowns[i].Name == name {
			return &r.Breakdowns[i], true
		}
	}
	return nil, false
}

// Service computes reports from the store.
type Service struct {
	store  *models.Store
	now    func() time.Time
	twelve bool
}

// Options configure a Service.
type Options struct {
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// TwelveHour labels the local hours "9–10 AM" rather than "09:00–09:59".
	TwelveHour bool
}

// New returns a Service reading store.
func New(store *models.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: store, now: opts.Now, twelve: opts.TwelveHour}
}

// ErrBadRange is returned for a range that is empty, reversed or longer
// than MaxDays days.
var ErrBadRange = errors.New("analytics: the range must be 1 to 366 days, from before to")

// Direct computes the analytics of r from the appointments, messages and
// events themselves: the outcomes and the reminders sent of each half of
// the range at once on two connections, then the freed times. It is the
// reference the summary (Report) is checked against.
func (s *Service) Direct(ctx context.Context, r Range) (*Report, error) {
	r, err := checkRange(r)
	if err != nil {
		return nil, err
	}
	n, locs, err := s.names(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{Range: r, ComputedAt: s.now()}
	rep.AsOf = rep.ComputedAt
	q := models.AnalyticsRange{From: r.From, To: r.To, Offsets: offsetSpans(locs, r.From.Add(-offsetLookback), r.To)}
	// The range in two halves, counted at once on two connections (SQLite
	// in WAL mode reads in parallel); the groups of both are added up.
	mid := r.From.Add(r.To.Sub(r.From) / 2)
	halves := [2]models.AnalyticsRange{q, q}
	halves[0].To, halves[1].From = mid, mid
	var groups [2][]models.OutcomeGroup
	var sends [2][]models.ReminderSends
	var errs [2]error
	count := func(i int) {
		if groups[i], errs[i] = s.store.CountOutcomes(ctx, halves[i]); errs[i] == nil {
			sends[i], errs[i] = s.store.CountReminderSends(ctx, halves[i])
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { count(0) })
	count(1)
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	ls := lines(append(groups[0], groups[1]...), append(sends[0], sends[1]...))
	return rep, s.finish(ctx, rep, q, ls, n)
}

func checkRange(r Range) (Range, error) {
	if r.Zone == nil {
		r.Zone = time.UTC
	}
	if r.From.IsZero() || !r.To.After(r.From) || r.Days() > MaxDays {
		return r, ErrBadRange
	}
	return r, nil
}

// names reads what the ids of the lines are called, and the locations.
func (s *Service) names(ctx context.Context) (names, []models.Location, error) {
	n := names{types: map[uint]string{}, locations: map[uint]string{}, providers: map[uint]string{}, rules: map[uint]*models.ReminderRule{}}
	locs, err := s.store.Locations(ctx)
	if err != nil {
		return n, nil, fmt.Errorf("analytics: %w", err)
	}
	provs, err := s.store.Providers(ctx, models.ProviderFilter{})
	if err != nil {
		return n, nil, fmt.Errorf("analytics: %w", err)
	}
	rules, err := s.store.Rules(ctx)
	if err != nil {
		return n, nil, fmt.Errorf("analytics: %w", err)
	}
	types, err := s.store.AppointmentTypes(ctx)
	if err != nil {
		return n, nil, fmt.Errorf("analytics: %w", err)
	}
	for _, l := range locs {
		n.locations[l.ID] = l.Name
	}
	for _, p := range provs {
		n.providers[p.ID] = p.Name
	}
	for i := range rules {
		n.rules[rules[i].ID] = &rules[i]
	}
	for _, t := range types {
		n.types[t.ID] = t.Name
	}
	n.twelve = s.twelve
	return n, locs, nil
}

// finish counts the freed times of the range, names the deleted rules
// when a line needs it, and folds the lines into rep.
func (s *Service) finish(ctx context.Context, rep *Report, q models.AnalyticsRange, ls []models.AnalyticsDay, n names) error {
	refills, total, err := s.store.CountRefills(ctx, q)
	if err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	rep.Refill = Rate{total.Taken, total.Offered}
	deleted := ""
	for _, l := range ls {
		if l.Dim != dimSends && l.Dim != dimRule || l.Line == noneKey {
			continue
		}
		if v, _ := strconv.ParseUint(l.Line, 10, 64); n.rules[uint(v)] == nil {
			if deleted, err = s.store.DeletedRuleName(ctx, q); err != nil {
				return fmt.Errorf("analytics: %w", err)
			}
			break
		}
	}
	fold(rep, ls, refills, deleted, n)
	return nil
}

// names resolves the ids of the groups.
type names struct {
	locations, providers, types map[uint]string
	rules                       map[uint]*models.ReminderRule
	twelve                      bool
}

func (n names) provider(id uint) (key, label string) {
	if id == 0 {
		return "0", "No provider"
	}
	return strconv.FormatUint(uint64(id), 10), cmp.Or(n.providers[id], "Deleted provider")
}

func (n names) location(id uint) (key, label string) {
	return strconv.FormatUint(uint64(id), 10), cmp.Or(n.locations[id], "Deleted location")
}

func (n names) typ(id uint) (key, label string) {
	if id == 0 {
		return "0", "No type"
	}
	return strconv.FormatUint(uint64(id), 10), cmp.Or(n.types[id], "Deleted type")
}

// noneKey is the key of the appointments confirmed before any reminder.
const noneKey = "none"

// noneLabel names them.
const noneLabel = "Confirmed before any reminder"

// Dimensions of the summary's lines (models.AnalyticsDay.Dim).
const (
	dimIn    = "in"    // every appointment of the range (N only)
	dimTotal = "total" // the reminded appointments
	dimRule  = "rule"  // by attributed rule id ("0" a deleted rule, "none")
	dimHour  = "hour"  // by local hour of the attributed reminder ("none")
	dimLang  = "lang"
	dimProv  = "prov"
	dimLoc   = "loc"
	dimType  = "type"
	dimSends = "sends" // reminders sent and delivered, by rule id
)

// lines turns the groups of the outcomes and the sends per rule into the
// lines of each breakdown, the form the summary keeps per day.
func lines(groups []models.OutcomeGroup, sends []models.ReminderSends) []models.AnalyticsDay {
	idx := map[[2]string]*models.AnalyticsDay{}
	var order [][2]string
	get := func(dim, line string) *models.AnalyticsDay {
		k := [2]string{dim, line}
		l, ok := idx[k]
		if !ok {
			l = &models.AnalyticsDay{Dim: dim, Line: line}
			idx[k] = l
			order = append(order, k)
		}
		return l
	}
	add := func(l *models.AnalyticsDay, g models.OutcomeGroup) {
		l.N += g.N
		l.Confirmed += g.Confirmed
		l.Cancelled += g.Cancelled
		l.Rescheduled += g.Rescheduled
		l.NoShow += g.NoShow
		l.Outcome += g.Outcome
	}
	id := func(v uint) string { return strconv.FormatUint(uint64(v), 10) }
	for _, g := range groups {
		get(dimIn, "").N += g.N
		if !g.Reminded {
			continue
		}
		add(get(dimTotal, ""), g)
		if g.Attributed {
			add(get(dimRule, id(g.RuleID)), g)
			add(get(dimHour, strconv.Itoa(g.Hour)), g)
		} else {
			add(get(dimRule, noneKey), g)
			add(get(dimHour, noneKey), g)
		}
		add(get(dimLang, g.Language), g)
		add(get(dimProv, id(g.ProviderID)), g)
		add(get(dimLoc, id(g.LocationID)), g)
		add(get(dimType, id(g.TypeID)), g)
	}
	for _, sd := range sends {
		l := get(dimSends, id(sd.RuleID))
		l.Sent += sd.Sent
		l.Delivered += sd.Delivered
	}
	out := make([]models.AnalyticsDay, 0, len(order))
	for _, k := range order {
		out = append(out, *idx[k])
	}
	return out
}

// counts are a line's counts.
func counts(l models.AnalyticsDay) Counts {
	return Counts{Appointments: l.N, Confirmed: l.Confirmed, Cancelled: l.Cancelled, Rescheduled: l.Rescheduled, NoShow: l.NoShow, Outcome: l.Outcome}
}

func (c *Counts) plus(o Counts) {
	c.Appointments += o.Appointments
	c.Confirmed += o.Confirmed
	c.Cancelled += o.Cancelled
	c.Rescheduled += o.Rescheduled
	c.NoShow += o.NoShow
	c.Outcome += o.Outcome
}

// fold adds the breakdown lines up into rep's breakdowns and table. A rule
// id the clinic no longer has counts with the deleted rules.
func fold(rep *Report, ls []models.AnalyticsDay, refills []models.RefillGroup, deleted string, n names) {
	type acc struct {
		rows  map[string]*Row
		title string
		name  string
	}
	bds := []*acc{
		{name: ByRule, title: "Reminder rule"},
		{name: ByHour, title: "Local hour the reminder was sent"},
		{name: ByLanguage, title: "Patient's language"},
		{name: ByProvider, title: "Provider"},
		{name: ByLocation, title: "Location"},
		{name: ByType, title: "Appointment type"},
	}
	for _, b := range bds {
		b.rows = map[string]*Row{}
	}
	ruleKey := func(id uint, name string) string {
		if id == 0 {
			return "name:" + name
		}
		return strconv.FormatUint(uint64(id), 10)
	}
	ruleLabel := func(id uint, name string) (string, time.Duration) {
		if r, ok := n.rules[id]; ok {
			return r.Name, n.ruleBefore(r)
		}
		if name == "" {
			return "Deleted rule", 0
		}
		return name + " (deleted rule)", 0
	}
	get := func(b *acc, key, label string, hour int) *Row {
		r, ok := b.rows[key]
		if !ok {
			r = &Row{Key: key, Label: label, Hour: hour}
			b.rows[key] = r
		}
		return r
	}
	reminders := map[string]*ReminderRow{}
	reminder := func(id uint, name string) *ReminderRow {
		k := ruleKey(id, name)
		rr, ok := reminders[k]
		if !ok {
			label, before := ruleLabel(id, name)
			rr = &ReminderRow{RuleID: id, Name: label, Before: before, Offset: n.offset(id)}
			reminders[k] = rr
		}
		return rr
	}
	// rule reads a rule id line: a rule that no longer exists is 0, named
	// by what one of the deleted rules' reminders carries.
	rule := func(line string) (uint, string) {
		v, _ := strconv.ParseUint(line, 10, 64)
		if _, ok := n.rules[uint(v)]; !ok || v == 0 {
			return 0, deleted
		}
		return uint(v), ""
	}
	id := func(line string) uint {
		v, _ := strconv.ParseUint(line, 10, 64)
		return uint(v)
	}
	for _, l := range ls {
		c := counts(l)
		switch l.Dim {
		case dimIn:
			rep.InRange += l.N
		case dimTotal:
			rep.Total.plus(c)
		case dimRule:
			if l.Line == noneKey {
				get(bds[0], noneKey, noneLabel, -1).plus(c)
				continue
			}
			rid, name := rule(l.Line)
			label, _ := ruleLabel(rid, name)
			if off := n.offset(rid); off != "" {
				label += " (" + off + ")"
			}
			get(bds[0], ruleKey(rid, name), label, -1).plus(c)
			reminder(rid, name).plus(c)
		case dimHour:
			if l.Line == noneKey {
				get(bds[1], noneKey, noneLabel, -1).plus(c)
				continue
			}
			h, _ := strconv.Atoi(l.Line)
			get(bds[1], l.Line, HourLabel(h, n.twelve), h).plus(c)
		case dimLang:
			get(bds[2], l.Line, languageLabel(l.Line), -1).plus(c)
		case dimProv:
			pk, pl := n.provider(id(l.Line))
			get(bds[3], pk, pl, -1).plus(c)
		case dimLoc:
			lk, ll := n.location(id(l.Line))
			get(bds[4], lk, ll, -1).plus(c)
		case dimType:
			tk, tl := n.typ(id(l.Line))
			get(bds[5], tk, tl, -1).plus(c)
		case dimSends:
			rr := reminder(rule(l.Line))
			rr.Sent += l.Sent
			rr.Delivered += l.Delivered
		}
	}
	for _, f := range refills {
		pk, pl := n.provider(f.ProviderID)
		lk, ll := n.location(f.LocationID)
		tk, tl := n.typ(f.TypeID)
		for _, x := range []struct {
			b      *acc
			k, lab string
		}{{bds[3], pk, pl}, {bds[4], lk, ll}, {bds[5], tk, tl}} {
			r := get(x.b, x.k, x.lab, -1)
			r.Refill.N += f.Taken
			r.Refill.D += f.Offered
		}
	}
	for _, b := range bds {
		bd := Breakdown{Name: b.name, Title: b.title}
		for _, r := range b.rows {
			bd.Rows = append(bd.Rows, *r)
		}
		sortRows(b.name, bd.Rows, n)
		rep.Breakdowns = append(rep.Breakdowns, bd)
	}
	for _, rr := range reminders {
		rr.Ranked = rr.Appointments >= MinRanked
		rep.Reminders = append(rep.Reminders, *rr)
	}
	slices.SortFunc(rep.Reminders, compareReminders)
}

// compareReminders puts ranked rules first, by confirmation rate (higher
// first, then more appointments), then the others by appointments.
func compareReminders(a, b ReminderRow) int {
	if a.Ranked != b.Ranked {
		if a.Ranked {
			return -1
		}
		return 1
	}
	if a.Ranked {
		// Compare Confirmed/Appointments exactly, by cross-multiplying.
		if c := cmp.Compare(b.Confirmed*a.Appointments, a.Confirmed*b.Appointments); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(b.Appointments, a.Appointments); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Sent, a.Sent); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// sortRows orders a breakdown: rules by offset (longest first), hours by
// the clock, the others by size then name; the "none" line last.
func sortRows(name string, rows []Row, n names) {
	slices.SortFunc(rows, func(a, b Row) int {
		if (a.Key == noneKey) != (b.Key == noneKey) {
			if a.Key == noneKey {
				return 1
			}
			return -1
		}
		switch name {
		case ByHour:
			return cmp.Compare(a.Hour, b.Hour)
		case ByRule:
			ba, bb := ruleBefore(a.Key, n), ruleBefore(b.Key, n)
			if c := cmp.Compare(bb, ba); c != 0 {
				return c
			}
			return cmp.Compare(a.Label, b.Label)
		}
		if c := cmp.Compare(b.Appointments, a.Appointments); c != 0 {
			return c
		}
		return cmp.Compare(a.Label, b.Label)
	})
}

func ruleBefore(key string, n names) time.Duration {
	id, err := strconv.ParseUint(key, 10, 64)
	if err != nil {
		return 0
	}
	if r, ok := n.rules[uint(id)]; ok {
		return n.ruleBefore(r)
	}
	return 0
}

// ruleBefore is about how long before the start a rule sends, to order
// rules by: a fixed-time rule's days, a nudge's reminder less its delay.
func (n names) ruleBefore(r *models.ReminderRule) time.Duration {
	switch r.TimingOrBefore() {
	case models.RuleDayBefore:
		return time.Duration(r.DaysBefore) * 24 * time.Hour
	case models.RuleNudge:
		var d time.Duration
		if r.AfterRuleID != nil {
			if a, ok := n.rules[*r.AfterRuleID]; ok && !a.IsNudge() {
				d = n.ruleBefore(a)
			}
		}
		return d - time.Duration(r.AfterSeconds)*time.Second
	}
	return r.Before()
}

// offset says when rule id sends, in words: "48 hours before", "the day
// before at 10:00", "2 hours after “Two days ahead”"; "" for a rule that
// no longer exists.
func (n names) offset(id uint) string {
	r, ok := n.rules[id]
	if !ok {
		return ""
	}
	switch r.TimingOrBefore() {
	case models.RuleDayBefore:
		if r.DaysBefore == 1 {
			return "the day before at " + r.LocalTime
		}
		return plural(int64(r.DaysBefore), "day") + " before at " + r.LocalTime
	case models.RuleNudge:
		after := "another reminder"
		if r.AfterRuleID != nil {
			if a, ok := n.rules[*r.AfterRuleID]; ok {
				after = "“" + a.Name + "”"
			}
		}
		return offsetWords(time.Duration(r.AfterSeconds)*time.Second, "after") + " " + after
	}
	return offsetWords(r.Before(), "before")
}

// languageLabel names a language; a code the clinic does not know is not
// shown as it is.
func languageLabel(code string) string {
	if texts.IsLanguage(code) {
		return texts.LanguageName(code)
	}
	return "Other language"
}

// HourLabel names a local hour: "09:00–09:59", or "9–10 AM" with a 12-hour
// clock.
func HourLabel(h int, twelve bool) string {
	if h < 0 {
		return noneLabel
	}
	if !twelve {
		return fmt.Sprintf("%02d:00–%02d:59", h, h)
	}
	f := func(h int) (int, string) {
		s := "AM"
		if h%24 >= 12 {
			s = "PM"
		}
		h12 := h % 12
		if h12 == 0 {
			h12 = 12
		}
		return h12, s
	}
	a, as := f(h)
	b, bs := f(h + 1)
	if as == bs {
		return fmt.Sprintf("%d–%d %s", a, b, bs)
	}
	return fmt.Sprintf("%d %s–%d %s", a, as, b, bs)
}

// offsetWords says a delay in words, followed by word: "48 hours
// before", "7 days before", "90 minutes after".
func offsetWords(d time.Duration, word string) string {
	switch {
	case d <= 0:
		return "at once " + word
	case d%(24*time.Hour) == 0 && d >= 72*time.Hour:
		return plural(int64(d/(24*time.Hour)), "day") + " " + word
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour") + " " + word
	case d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute") + " " + word
	}
	return d.String() + " " + word
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// offsetSpans lists, for each location, the spans of its zone's offset
// between from and to, found hour by hour and then to the minute.
func offsetSpans(locs []models.Location, from, to time.Time) []models.OffsetSpan {
	var out []models.OffsetSpan
	for i := range locs {
		z := locs[i].Zone()
		_, cur := from.In(z).Zone()
		for t := from.Truncate(time.Hour).Add(time.Hour); !t.After(to.Add(time.Hour)); t = t.Add(time.Hour) {
			_, off := t.In(z).Zone()
			if off == cur {
				continue
			}
			// The change happened in (t-1h, t]: find its minute.
			at := t
			for m := t.Add(-time.Hour + time.Minute); m.Before(t); m = m.Add(time.Minute) {
				if _, o := m.In(z).Zone(); o != cur {
					at = m
					break
				}
			}
			out = append(out, models.OffsetSpan{LocationID: locs[i].ID, Until: at, Seconds: cur})
			cur = off
		}
		out = append(out, models.OffsetSpan{LocationID: locs[i].ID, Seconds: cur})
	}
	return out
}
