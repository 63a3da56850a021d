// Package seed fills a database with synthetic appointments for benchmarks
// and load tests: patients, appointments spread over locations and over two
// years either side of now, states distributed as a real clinic's are, a
// few messages per appointment, replies and opt-outs. Rows go in with
// batched inserts, one transaction per batch, fast enough for a million
// appointments on SQLite in a few minutes.
//
// Seeded rows bypass the booking service on purpose (planning each
// reminder through it would take hours at this size); they are plausible
// data, not the product of real bookings, and must never be sent: every
// message is already final or lies in the past, except planned reminders
// whose patients have fictional numbers (area code + 555).
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"apptconfirm/models"
)

// DefaultBatch is how many appointments one transaction inserts.
const DefaultBatch = 2000

// Options configure Run.
type Options struct {
	// Count is how many appointments to insert.
	Count int
	// Now is the centre of the ± 2 years of dates; zero is time.Now().
	Now time.Time
	// Seed makes the data reproducible; the same seed gives the same rows.
	Seed uint64
	// Batch is how many appointments one transaction inserts; 0 is DefaultBatch.
	Batch int
	// Progress receives a textual progress bar; nil shows none.
	Progress io.Writer
	// Locations is how many locations the appointments are spread over;
	// missing ones are created ("Seed location N"). 0 means 3.
	Locations int
}

// Result says what Run inserted.
type Result struct {
	Appointments, Patients, Messages, Replies int
	Took                                      time.Duration
}

// Per-row limits of the inserts: SQLite binds at most 32766 parameters per
// statement, and a message row has about 25 columns.
const (
	patientChunk = 2000
	apptChunk    = 1500
	messageChunk = 1000
	inboundChunk = 1500
)

// Run inserts o.Count synthetic appointments into store.
func Run(ctx context.Context, store *models.Store, o Options) (Result, error) {
	if o.Count < 0 {
		return Result{}, errors.New("seed: count must not be negative")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Locations <= 0 {
		o.Locations = 3
	}
	start := time.Now()
	g := &generator{
		rng:   rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
		now:   o.Now.UTC().Truncate(time.Second),
		total: o.Count,
	}
	if err := g.prepare(ctx, store, o.Locations); err != nil {
		return Result{}, err
	}
	bar := newProgress(o.Progress, o.Count)
	var res Result
	for done := 0; done < o.Count; {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("seed: %w", err)
		}
		n := min(o.Batch, o.Count-done)
		b := g.batch(n)
		err := store.Tx(ctx, func(ctx context.Context) error { return b.insert(ctx, store) })
		if err != nil {
			return res, fmt.Errorf("seed: batch at %d: %w", done, err)
		}
		g.remember(b)
		done += n
		res.Appointments += n
		res.Patients += len(b.patients)
		res.Messages += len(b.messages)
		res.Replies += len(b.inbound)
		bar.update(done)
	}
	if o.Count > 0 {
		if err := analyze(ctx, store); err != nil {
			return res, err
		}
	}
	bar.finish()
	res.Took = time.Since(start)
	return res, nil
}

// analyze refreshes the query planner's statistics, as a DBA would after a
// bulk load.
func analyze(ctx context.Context, store *models.Store) error {
	if err := store.Analyze(ctx); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// seedLocation is a location with its zone loaded.
type seedLocation struct {
	id   uint
	zone *time.Location
}

type generator struct {
	rng       *rand.Rand
	now       time.Time
	locations []seedLocation
	rules     []models.ReminderRule
	// seq numbers patients across batches, so names and phones stay distinct.
	seq int
	// known are the patients of earlier batches.
	known []patientRef
	// total and made count the appointments to make and made so far: starts
	// follow the order of making (see slot).
	total, made int
	// ids counts the UUIDs made (see uuid).
	ids uint64
}

// extraZones are the zones given to created locations.
var extraZones = []string{"America/Chicago", "America/Los_Angeles", "Europe/London", "America/New_York", "Europe/Paris"}

// prepare loads (and completes) the locations and loads the reminder rules.
func (g *generator) prepare(ctx context.Context, store *models.Store, want int) error {
	locs, err := store.LocationsByID(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	for i := len(locs); i < want; i++ {
		l := models.Location{
			Name:     fmt.Sprintf("Seed location %d", i+1),
			TimeZone: extraZones[i%len(extraZones)],
			Country:  "US", QuietStart: "21:00", QuietEnd: "08:00",
			IsDefault: i == 0,
		}
		if i == 0 {
			l.TimeZone = "UTC"
		}
		if err := store.CreateLocation(ctx, &l); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		locs = append(locs, l)
	}
	for _, l := range locs[:want] {
		g.locations = append(g.locations, seedLocation{id: l.ID, zone: l.Zone()})
	}
	if g.rules, err = store.EnabledRulesByTiming(ctx); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if len(g.rules) == 0 {
		g.rules = []models.ReminderRule{
			{Name: "48h", BeforeSeconds: int64(48 * time.Hour / time.Second)},
			{Name: "2h", BeforeSeconds: int64(2 * time.Hour / time.Second), OnlyIfUnconfirmed: true},
		}
	}
	return nil
}

// batch is the rows of one transaction. Appointments, messages and replies
// refer to their patient and appointment by index until the parents are
// inserted and have ids.
type batch struct {
	patients []models.Patient
	appts    []models.Appointment
	apptOf   []int // patient index of each appointment in patients, or -1: PatientID is set
	messages []models.Message
	msgAppt  []int // appointment index of each message
	inbound  []models.InboundMessage
	inAppt   []int // appointment index of each reply (-1: none)
}

var firstNames = []string{
	"Ada", "Grace", "Marie", "Rosalind", "Lise", "Carmen", "Aletta", "Rita", "Alan", "Edsger",
	"Barbara", "Donald", "Frances", "John", "Katherine", "Linus", "Margaret", "Niklaus", "Radia", "Tim",
}

var lastNames = []string{
	"Lovelace", "Hopper", "Curie", "Franklin", "Meitner", "Amaya", "Jacobs", "Levi", "Turing",
	"Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Johnson", "Torvalds", "Hamilton", "Wirth", "Perlman", "Lee",
}

var languages = []string{"en", "en", "en", "en", "es", "fr", "de", "nl", "pt", "it"}

// span is how far from now appointments are spread, each way.
const span = 2 * 365 * 24 * time.Hour

// batch generates n appointments with about n/3 new patients.
func (g *generator) batch(n int) *batch {
	b := &batch{}
	np := max(1, n/3)
	for range np {
		g.seq++
		p := models.Patient{
			FirstName: firstNames[g.rng.IntN(len(firstNames))],
			LastName:  lastNames[g.rng.IntN(len(lastNames))],
			// Fictional North American numbers: 555 exchange, 0100-0199 are
			// reserved for fiction but too few; any 555 line works here.
			Phone:     fmt.Sprintf("+1%03d555%04d", 201+g.seq/10000%700, g.seq%10000),
			Language:  languages[g.rng.IntN(len(languages))],
			CreatedAt: g.now.Add(-span - 30*24*time.Hour),
			UpdatedAt: g.now.Add(-span - 30*24*time.Hour),
		}
		if g.rng.IntN(100) == 0 {
			at := g.now.Add(-time.Duration(g.rng.Int64N(int64(span))))
			p.OptedOutAt = &at
			p.OptOutSource = []string{"sms_stop", "smscx_link", "staff"}[g.rng.IntN(3)]
		}
		b.patients = append(b.patients, p)
	}
	for range n {
		// Half the visits are by a patient seen before (any earlier batch),
		// so a patient's visits spread over the years as in a real clinic.
		if len(g.known) > 0 && g.rng.IntN(2) == 0 {
			k := g.known[g.rng.IntN(len(g.known))]
			g.appointment(b, patientRef{index: -1, id: k.id, phone: k.phone, optedOut: k.optedOut})
			continue
		}
		i := g.rng.IntN(np)
		g.appointment(b, patientRef{index: i, phone: b.patients[i].Phone, optedOut: b.patients[i].OptedOutAt != nil})
	}
	return b
}

// patientRef is the patient of a new appointment: one of the batch's new
// patients (index), or one inserted before (id).
type patientRef struct {
	index    int
	id       uint
	phone    string
	optedOut bool
}

// remember keeps the batch's patients, now inserted, for later batches.
func (g *generator) remember(b *batch) {
	for _, p := range b.patients {
		g.known = append(g.known, patientRef{index: -1, id: p.ID, phone: p.Phone, optedOut: p.OptedOutAt != nil})
	}
}

// appointment adds one appointment of patient pi with its messages and replies.
func (g *generator) appointment(b *batch, who patientRef) {
	loc := g.locations[g.rng.IntN(len(g.locations))]
	start := g.slot(loc.zone)
	past := start.Before(g.now)
	created := start.Add(-time.Duration(1+g.rng.IntN(60)) * 24 * time.Hour)
	if created.After(g.now) {
		created = g.now.Add(-time.Duration(g.rng.IntN(72)) * time.Hour)
	}
	a := models.Appointment{
		LocationID: loc.id, StartsAt: start, DurationMinutes: []int{15, 30, 30, 30, 45, 60}[g.rng.IntN(6)],
		Status: models.Scheduled, CreatedAt: created, UpdatedAt: created,
	}
	// The patient confirms (by SMS) about 70% of the time.
	confirms := g.rng.IntN(100) < 70
	roll := g.rng.IntN(100)
	switch {
	case roll < 9:
		a.Status = models.Cancelled
		t := minTime(start.Add(-time.Duration(1+g.rng.IntN(72))*time.Hour), g.now)
		a.CancelledAt = &t
		confirms = false
	case past && roll < 16:
		a.Status = models.NoShow
		confirms = confirms && g.rng.IntN(100) < 25
	case past && roll < 97:
		a.Status = models.Completed
	case past:
		// Staff never marked it: it stays as the patient left it.
		if confirms {
			a.Status = models.Confirmed
		}
	case confirms:
		a.Status = models.Confirmed
	}
	optedOut := who.optedOut
	first := start.Add(-time.Duration(g.rules[0].BeforeSeconds) * time.Second)
	// A confirmation answers the booking confirmation (sent at booking) or,
	// more often, the first reminder; it exists only once that went out.
	if confirms && !optedOut {
		at := first.Add(time.Duration(5+g.rng.IntN(240)) * time.Minute)
		if g.rng.IntN(100) < 40 {
			at = created.Add(time.Duration(5+g.rng.IntN(24*60)) * time.Minute)
		}
		if at.Before(g.now) && at.Before(start) {
			a.ConfirmedAt = &at
		}
	}
	if a.ConfirmedAt == nil && a.Status == models.Confirmed {
		a.Status = models.Scheduled
	}
	a.UpdatedAt = maxTime(created, minTime(g.now, start))
	ai := len(b.appts)
	b.appts = append(b.appts, a)
	b.apptOf = append(b.apptOf, who.index)
	b.appts[ai].PatientID = who.id
	to := who.phone

	booking := g.message(models.KindBookingConfirm, "", to, created)
	if optedOut {
		booking.Status, booking.Reason = models.MsgCancelled, "the patient opted out"
	} else {
		g.sent(&booking, created)
	}
	b.messages = append(b.messages, booking)
	b.msgAppt = append(b.msgAppt, ai)

	for _, r := range g.rules {
		sendAt := start.Add(-time.Duration(r.BeforeSeconds) * time.Second)
		ruleID := r.ID
		m := g.message(models.KindReminder, r.Name, to, sendAt)
		if ruleID != 0 {
			m.RuleID = &ruleID
		}
		switch {
		case optedOut:
			m.Status, m.Reason = models.MsgCancelled, "the patient opted out"
		case a.CancelledAt != nil && !sendAt.Before(*a.CancelledAt):
			m.Status, m.Reason = models.MsgCancelled, "the appointment was cancelled"
		case r.OnlyIfUnconfirmed && a.ConfirmedAt != nil && a.ConfirmedAt.Before(sendAt):
			m.Status, m.Reason = models.MsgSkipped, "already confirmed"
		case sendAt.After(g.now):
			m.Status = models.MsgPlanned
		default:
			g.sent(&m, sendAt)
		}
		b.messages = append(b.messages, m)
		b.msgAppt = append(b.msgAppt, ai)
	}
	if a.ConfirmedAt != nil {
		reply := []string{"YES", "Yes", "yes!", "OK", "Y", "oui", "Sí", "👍"}[g.rng.IntN(8)]
		g.reply(b, ai, to, reply, "confirm", *a.ConfirmedAt, false)
		ack := g.message(models.KindAckConfirm, "", to, *a.ConfirmedAt)
		g.sent(&ack, *a.ConfirmedAt)
		b.messages = append(b.messages, ack)
		b.msgAppt = append(b.msgAppt, ai)
	} else if a.Status == models.Cancelled && g.rng.IntN(2) == 0 && a.CancelledAt.After(first) {
		g.reply(b, ai, to, "NO", "cancel", *a.CancelledAt, false)
	} else if first.Before(g.now) && !optedOut && g.rng.IntN(100) < 3 {
		// A reply the parser could not read; only recent ones still wait for staff.
		at := first.Add(time.Duration(10+g.rng.IntN(600)) * time.Minute)
		at = minTime(at, g.now)
		g.reply(b, ai, to, "Can I come 30 minutes later?", "", at, g.now.Sub(at) < 72*time.Hour)
	}
}

// message is a new outbound message to to, due at sendAt.
func (g *generator) message(kind, rule, to string, sendAt time.Time) models.Message {
	return models.Message{
		UUID: g.uuid(), RuleName: rule, Kind: kind, To: to,
		SendAt: sendAt, CreatedAt: sendAt.Add(-time.Hour), UpdatedAt: sendAt,
	}
}

// sent marks m handed to SMS.CX at at, with the delivery report most get.
func (g *generator) sent(m *models.Message, at time.Time) {
	sentAt := at.Add(time.Duration(g.rng.IntN(20)) * time.Second)
	if sentAt.After(g.now) {
		sentAt = g.now
	}
	m.SentAt = &sentAt
	m.Attempts = 1
	m.Parts = 1
	m.Cost = 0.045
	m.ProviderID = g.uuid()
	switch r := g.rng.IntN(100); {
	case r < 2:
		m.Status, m.ProviderState = models.MsgFailed, "FAILED"
		code := 110
		m.ErrorCode = &code
		m.Reason = "the handset was unreachable"
	case r < 3:
		m.Status, m.ProviderState = models.MsgRejected, "REJECTED"
		m.Reason = "the number is not in service"
	case r < 5:
		m.Status, m.ProviderState = models.MsgSent, "SENT"
	default:
		m.Status, m.ProviderState = models.MsgDelivered, "DELIVERED"
		d := sentAt.Add(time.Duration(2+g.rng.IntN(30)) * time.Second)
		m.DeliveredAt = &d
	}
	m.UpdatedAt = sentAt
}

// reply adds an inbound SMS about appointment ai.
func (g *generator) reply(b *batch, ai int, from, text, intent string, at time.Time, waiting bool) {
	b.inbound = append(b.inbound, models.InboundMessage{
		ProviderID: g.uuid(),
		From:       from, To: "Clinic", Text: text, ReceivedAt: at, Intent: intent,
		NeedsAttention: waiting, CreatedAt: at,
	})
	b.inAppt = append(b.inAppt, ai)
}

// slot picks a start: a weekday between 08:00 and 17:45 local, on a
// quarter hour, within span of now.
//
// Starts advance with the order in which appointments are made, give or
// take a day: rows are inserted in about the order of their dates, as a
// clinic's bookings are (booked days or weeks ahead), which is the physical
// layout a real table has and that range queries read.
func (g *generator) slot(zone *time.Location) time.Time {
	step := float64(2*span) / float64(max(g.total, 1))
	pos := (float64(g.made) + g.rng.Float64()) * step
	g.made++
	jitter := time.Duration(g.rng.Int64N(int64(48*time.Hour))) - 24*time.Hour
	t := g.now.Add(-span + time.Duration(pos) + jitter).In(zone)
	switch t.Weekday() {
	case time.Saturday:
		t = t.AddDate(0, 0, -1)
	case time.Sunday:
		t = t.AddDate(0, 0, 1)
	}
	h := 8 + g.rng.IntN(10)
	m := 15 * g.rng.IntN(4)
	return time.Date(t.Year(), t.Month(), t.Day(), h, m, 0, 0, zone).UTC()
}

// insert writes the batch: parents first, so children get their ids.
func (b *batch) insert(ctx context.Context, store *models.Store) error {
	if err := store.PrepareBulkLoad(ctx); err != nil {
		return err
	}
	if err := models.InsertMany(ctx, store, b.patients, patientChunk); err != nil {
		return fmt.Errorf("patients: %w", err)
	}
	for i := range b.appts {
		if pi := b.apptOf[i]; pi >= 0 {
			b.appts[i].PatientID = b.patients[pi].ID
		}
	}
	if err := models.InsertMany(ctx, store, b.appts, apptChunk); err != nil {
		return fmt.Errorf("appointments: %w", err)
	}
	for i := range b.messages {
		a := &b.appts[b.msgAppt[i]]
		aid, pid := a.ID, a.PatientID
		b.messages[i].AppointmentID, b.messages[i].PatientID = &aid, &pid
	}
	if err := models.InsertMany(ctx, store, b.messages, messageChunk); err != nil {
		return fmt.Errorf("messages: %w", err)
	}
	for i := range b.inbound {
		a := &b.appts[b.inAppt[i]]
		aid, pid := a.ID, a.PatientID
		b.inbound[i].AppointmentID, b.inbound[i].PatientID = &aid, &pid
		b.inbound[i].Candidates = fmt.Sprint(aid)
	}
	if len(b.inbound) > 0 {
		if err := models.InsertMany(ctx, store, b.inbound, inboundChunk); err != nil {
			return fmt.Errorf("replies: %w", err)
		}
	}
	return nil
}

// uuid returns a new version 7 UUID: a 48-bit prefix that only grows
// (the run's clock in milliseconds, then one more per id) and random bits
// from the seeded generator. Growing ids land at the end of their unique
// indexes instead of all over them, which keeps a bulk load fast; the same
// seed and clock give the same ids.
func (g *generator) uuid() string {
	g.ids++
	var u uuid.UUID
	prefix := uint64(g.now.UnixMilli()) + g.ids
	for i := range 6 {
		u[i] = byte(prefix >> (40 - 8*i))
	}
	lo, hi := g.rng.Uint64(), g.rng.Uint64()
	u[6], u[7] = byte(lo), byte(lo>>8)
	for i := range 8 {
		u[8+i] = byte(hi >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u.String()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// progress draws "[#####.....]  50%  500000/1000000  12s" on one line.
type progress struct {
	w     io.Writer
	total int
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, total: total, start: time.Now()}
}

const barWidth = 40

func (p *progress) update(done int) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if done < p.total && now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	frac := 1.0
	if p.total > 0 {
		frac = float64(done) / float64(p.total)
	}
	filled := int(frac * barWidth)
	elapsed := now.Sub(p.start)
	rate := float64(done) / max(elapsed.Seconds(), 0.001)
	eta := ""
	if done < p.total && rate > 0 {
		eta = fmt.Sprintf("  eta %s", (time.Duration(float64(p.total-done)/rate) * time.Second).Round(time.Second))
	}
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %d/%d appointments  %s  %.0f/s%s   ",
		strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), frac*100,
		done, p.total, elapsed.Round(time.Second), rate, eta)
}

func (p *progress) finish() {
	if p.w == nil {
		return
	}
	p.update(p.total)
	fmt.Fprintln(p.w)
}
