// Package conversation answers the patients' text messages: it stores
// each inbound SMS, matches the sender to their patients and the
// appointments awaiting an answer, and acts on what the text says: YES
// confirms and NO cancels (with an acknowledgement), STOP opts out, START
// opts back in, HELP gets the help text, a request for another time puts
// the appointment into reschedule_requested (app/reschedule) and lands in
// the inbox, a pick from an offer of new times moves the appointment, a
// bare answer with several appointments awaiting one gets a numbered
// question, and anything else goes to the staff inbox with the
// appointments it may be about.
package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"apptconfirm/app/outbox"
	"apptconfirm/app/phone"
	"apptconfirm/app/reply"
	"apptconfirm/app/reschedule"
	"apptconfirm/app/smscx"
	"apptconfirm/app/waitlist"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
)

// questionWindow is how long a numbered question stays open: a bare "2"
// later than this is not read as an answer to it.
const questionWindow = 7 * 24 * time.Hour

// maxCandidates is the longest numbered question the app asks; a number
// with more appointments awaiting an answer goes to the inbox.
const maxCandidates = 9

// awaitingKinds are the messages that ask the patient for an answer.
var awaitingKinds = []string{models.KindReminder, models.KindBookingConfirm, models.KindRescheduleNotice}

// Clinic is what a reply may change; *clinic.Service implements it. Each
// method joins the transaction ctx carries.
type Clinic interface {
	Confirm(ctx context.Context, actor models.Actor, id uint, source string) (*models.Appointment, error)
	Cancel(ctx context.Context, actor models.Actor, id uint, reason string) (*models.Appointment, error)
	OptOut(ctx context.Context, actor models.Actor, patientID uint, source string) error
	OptIn(ctx context.Context, actor models.Actor, patientID uint, source string) error
}

// Rescheduler handles requests for another time and picks from offers of
// new times; *reschedule.Service implements it. Each method joins the
// transaction ctx carries.
type Rescheduler interface {
	Request(ctx context.Context, actor models.Actor, id uint, source string) (*models.Appointment, error)
	Latest(ctx context.Context, patientIDs []uint) (*models.RescheduleOffer, error)
	Pick(ctx context.Context, actor models.Actor, id uint, n int) (reschedule.Outcome, error)
}

// Waitlist answers offers of freed times; *waitlist.Service implements
// it. Each method joins the transaction ctx carries.
type Waitlist interface {
	LiveOffer(ctx context.Context, patientIDs []uint) (*models.WaitlistOffer, error)
	Take(ctx context.Context, o *models.WaitlistOffer) (waitlist.Outcome, error)
}

// Service answers inbound SMS. It is safe for concurrent use.
type Service struct {
	store      *models.Store
	clinic     Clinic
	outbox     *outbox.Outbox
	reschedule Rescheduler
	waitlist   Waitlist
	now        func() time.Time
	// numbers reads the senders' numbers.
	numbers *phone.Memo
}

// New returns a Service on store; changes go through clinic, rs and wl
// (nil: no waitlist), answers through ob. now is the clock (nil means
// time.Now).
func New(store *models.Store, clinic Clinic, ob *outbox.Outbox, rs Rescheduler, wl Waitlist, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, clinic: clinic, outbox: ob, reschedule: rs, waitlist: wl, now: now, numbers: &phone.Memo{}}
}

// WantsAnotherTime is why a request for another time is in the inbox: the
// app acknowledged it, and staff offer new times from there.
const WantsAnotherTime = "wants another time"

// replyCtx is what handling one inbound SMS works on.
type replyCtx struct {
	in       *models.InboundMessage
	from     string
	patients []models.Patient
	now      time.Time
	result   string
	// awaiting, when known, holds the appointments awaiting an answer
	// from the number, read ahead for a run of replies (ApplyBatch).
	awaiting      []models.Appointment
	knowsAwaiting bool
	// decisions, when set, keeps the decision saved about the message
	// for one statement at the end of its set (ApplyBatch) instead of one
	// now.
	decisions *decisions
	// offers, when set, knows which patients of the set had an offer of
	// new times when the set began (ApplyBatch).
	offers *offersAhead
	// last, when set, reads the appointment of the latest message to the
	// set's senders ahead (ApplyBatch).
	last *lastAhead
}

// lastAhead is, for a set of replies, the appointment of the latest
// message naming one to each sender (what a reply going to the inbox
// notes for context), read for the senders from the first reply that
// needs it on, and read again from a later one once the transaction has
// written to messages since (an answer sent, reminders replanned).
type lastAhead struct {
	numbers []string
	ids     map[string]uint
	writes  int // the transaction's MessageWrites when ids was read
}

// offersAhead is which patients of a set of replies had an offer of new
// times when the set began: a reply from a number none of whose patients
// had one needs no look for the latest, until a reply of the set may have
// made one (asked for another time, or picked one).
type offersAhead struct {
	had   map[uint]bool
	stale bool
}

// none reports whether none of ids can have an offer.
func (o *offersAhead) none(ids []uint) bool {
	if o == nil || o.stale {
		return false
	}
	for _, id := range ids {
		if o.had[id] {
			return false
		}
	}
	return true
}

// mayOffer notes that an offer may be made from here on.
func (o *offersAhead) mayOffer() {
	if o != nil {
		o.stale = true
	}
}

// decisions are the latest decisions saved about the inbound messages of
// a set of replies, in the order they were first saved, written together
// when the set is done: nothing in a set reads another number's inbound
// messages, and each number appears once in a set.
type decisions struct {
	rows []models.InboundMessage
	at   map[uint]int
}

// keep notes the decision in as it stands now.
func (d *decisions) keep(in *models.InboundMessage) {
	if i, ok := d.at[in.ID]; ok {
		d.rows[i] = *in
		return
	}
	d.at[in.ID] = len(d.rows)
	d.rows = append(d.rows, *in)
}

// Apply implements webhook.Applier for receive_sms: it stores the inbound
// SMS and acts on it, inside the transaction ctx carries.
func (s *Service) Apply(ctx context.Context, _ string, raw []byte) (webhook.Result, error) {
	in, bad := s.decode(raw, models.DBTime(s.now()), s.numbers.Loose)
	if bad != nil {
		return *bad, nil
	}
	// The number's patients are locked before anything is written, so a
	// patient's erasure and this reply never interleave (see
	// models.Store.ErasePatient).
	patients, err := s.store.LockPatientsByPhone(ctx, in.From)
	if err != nil {
		return webhook.Result{}, err
	}
	added, err := s.store.AddInbound(ctx, in)
	if err != nil {
		return webhook.Result{}, err
	}
	if !added {
		return duplicate, nil
	}
	return s.act(ctx, &replyCtx{in: in, from: in.From, now: in.CreatedAt, patients: patients})
}

// duplicate is the result of a reply whose inbound message is stored
// already.
var duplicate = webhook.Result{Text: "duplicate: inbound message already stored"}

// decode reads one receive_sms item into the inbound message to store,
// received at now (when SMS.CX's time is unreadable) and with its sender's
// number read by loose; bad is the result of an item that cannot be.
func (s *Service) decode(raw []byte, now time.Time, loose func(raw, region string) string) (*models.InboundMessage, *webhook.Result) {
	var sms smscx.ReceiveSMS
	if err := json.Unmarshal(raw, &sms); err != nil {
		return nil, &webhook.Result{Text: "undecodable: " + err.Error(), Flagged: true}
	}
	received := now
	if t, err := smscx.ParseTime(sms.ReceivedAt); err == nil {
		received = t
	}
	return &models.InboundMessage{
		ProviderID: models.InboundRef(sms.MsgID), From: loose(sms.From, sms.CountryISO),
		To:   models.ClipBytes(models.CleanText(strings.TrimSpace(sms.To), 2000), 32),
		Text: models.CleanText(sms.Text, 2000), ReceivedAt: received, CreatedAt: now,
	}, nil
}

// act decides what the stored inbound message of rc says and does it.
func (s *Service) act(ctx context.Context, rc *replyCtx) (webhook.Result, error) {
	in := rc.in
	var err error
	if len(rc.patients) == 0 {
		// A stranger's text is for a human; nothing else changes.
		err = s.toInbox(ctx, rc, nil, "unknown number")
	} else {
		pid := rc.patients[0].ID
		in.PatientID = &pid
		r := reply.Parse(in.Text)
		switch r.Intent {
		case reply.OptOut:
			err = s.replyStop(ctx, rc)
		case reply.OptIn:
			err = s.replyStart(ctx, rc)
		case reply.Help:
			err = s.replyHelp(ctx, rc)
		default:
			var done bool
			if done, err = s.replyWaitlist(ctx, rc, r); err == nil && !done {
				done, err = s.replyPick(ctx, rc)
			}
			if err == nil && !done {
				err = s.replyAnswer(ctx, rc, r)
			}
		}
	}
	if err != nil {
		return webhook.Result{}, err
	}
	return webhook.Result{Text: rc.result}, nil
}

// sending returns ctx for queueing the answer to a reply: the queueing
// joins the transaction or savepoint ctx carries instead of opening a
// savepoint of its own (two statements), since every error it returns
// fails the reply as a whole.
func (s *Service) sending(ctx context.Context) context.Context {
	return s.store.Inline(ctx)
}

// awaitingAnswer returns the appointments awaiting an answer from the
// number of rc, soonest first: those read ahead, else from the store.
func (s *Service) awaitingAnswer(ctx context.Context, rc *replyCtx) ([]models.Appointment, error) {
	if rc.knowsAwaiting {
		return rc.awaiting, nil
	}
	return s.store.AwaitingAnswer(ctx, rc.from, rc.now, awaitingKinds)
}

// save writes the decisions taken about the inbound message and its domain
// event: a reply the app acted on, or one that needs a person (why).
func (s *Service) save(ctx context.Context, rc *replyCtx, why string) error {
	if rc.decisions != nil {
		rc.decisions.keep(rc.in)
	} else if err := s.store.SaveInboundDecision(ctx, rc.in); err != nil {
		return err
	}
	e := models.Event{
		At: rc.now, Type: models.EventReplyReceived, InboundID: rc.in.ID,
		PatientID: deref(rc.in.PatientID), AppointmentID: deref(rc.in.AppointmentID),
		Status: rc.in.Intent, Source: "sms",
	}
	if rc.in.NeedsAttention {
		e.Type, e.Detail = models.EventReplyNeedsAttention, why
	}
	return s.store.Record(ctx, e)
}

// toInbox leaves the message for staff, with the appointments it may be
// about; nothing else changes.
func (s *Service) toInbox(ctx context.Context, rc *replyCtx, candidates []models.Appointment, why string) error {
	rc.in.NeedsAttention = true
	rc.in.SetCandidates(candidates)
	if len(candidates) == 1 {
		id := candidates[0].ID
		rc.in.AppointmentID = &id
	} else if rc.in.AppointmentID == nil && len(rc.patients) > 0 {
		// For context only: the appointment of the last message we sent this number.
		if id, err := s.lastMessaged(ctx, rc); err != nil {
			return err
		} else if id != 0 {
			rc.in.AppointmentID = &id
		}
	}
	if err := s.save(ctx, rc, why); err != nil {
		return err
	}
	for _, a := range candidates {
		if err := s.replyTimeline(ctx, a.ID, rc, "needs attention"); err != nil {
			return err
		}
	}
	rc.result = "inbox: " + why
	return nil
}

// lastMessaged returns the appointment of the latest message to the
// sender of rc, 0 if none: read ahead for its set when there is one.
func (s *Service) lastMessaged(ctx context.Context, rc *replyCtx) (uint, error) {
	la := rc.last
	w := s.store.MessageWrites(ctx)
	i := -1
	if la != nil {
		i = slices.Index(la.numbers, rc.from)
	}
	if i < 0 || w < 0 {
		// Not one of the set's senders, or outside a transaction, where
		// nothing tells whether a read still stands.
		return s.store.LastMessagedAppointment(ctx, rc.from)
	}
	if la.ids == nil || w != la.writes {
		ids, err := s.store.LastMessagedAppointments(ctx, la.numbers[i:])
		if err != nil {
			return 0, err
		}
		la.ids, la.writes = ids, w
	}
	return la.ids[rc.from], nil
}

// replyTimeline notes the reply on an appointment's timeline.
func (s *Service) replyTimeline(ctx context.Context, appointmentID uint, rc *replyCtx, what string) error {
	text := rc.in.Text
	if utf8.RuneCountInString(text) > 200 {
		text = string([]rune(text)[:199]) + "…"
	}
	return s.store.AddTimeline(ctx, models.TimelineEntry{
		AppointmentID: appointmentID, At: rc.now, Kind: models.TimelineReply,
		Detail: fmt.Sprintf("Reply by SMS: %q (%s)", text, what),
	})
}

// replyStop opts every patient with this number out and sends one
// acknowledgement, only when someone was not opted out yet: one
// acknowledgement, and nothing after it.
func (s *Service) replyStop(ctx context.Context, rc *replyCtx) error {
	rc.in.Intent = reply.OptOut.String()
	var first *models.Patient
	for i := range rc.patients {
		pt := &rc.patients[i]
		if pt.OptedOut() {
			continue
		}
		if err := s.clinic.OptOut(ctx, models.PatientActor(), pt.ID, "sms_stop"); err != nil {
			return err
		}
		if first == nil {
			first = pt
		}
	}
	if err := s.save(ctx, rc, ""); err != nil {
		return err
	}
	if first == nil {
		rc.result = "already opted out"
		return nil
	}
	if _, err := s.outbox.QueueTo(s.sending(ctx), models.KindOptOutAck, first, rc.from); err != nil {
		return err
	}
	rc.result = "opted out"
	return nil
}

// replyStart opts the number's patients back in and acknowledges it.
func (s *Service) replyStart(ctx context.Context, rc *replyCtx) error {
	rc.in.Intent = reply.OptIn.String()
	var first *models.Patient
	for i := range rc.patients {
		pt := &rc.patients[i]
		if !pt.OptedOut() {
			continue
		}
		if err := s.clinic.OptIn(ctx, models.PatientActor(), pt.ID, "sms_start"); err != nil {
			return err
		}
		if first == nil {
			first = pt
		}
	}
	if err := s.save(ctx, rc, ""); err != nil {
		return err
	}
	if first == nil {
		rc.result = "already opted in"
		return nil
	}
	if _, err := s.outbox.QueueTo(s.sending(ctx), models.KindOptInAck, first, rc.from); err != nil {
		return err
	}
	rc.result = "opted in"
	return nil
}

// replyHelp sends the help text, unless the number opted out: then nothing
// may follow the opt-out acknowledgement, and a human decides.
func (s *Service) replyHelp(ctx context.Context, rc *replyCtx) error {
	rc.in.Intent = reply.Help.String()
	var to *models.Patient
	for i := range rc.patients {
		if !rc.patients[i].OptedOut() {
			to = &rc.patients[i]
			break
		}
	}
	if to == nil {
		return s.toInbox(ctx, rc, nil, "help asked by an opted-out number")
	}
	if err := s.save(ctx, rc, ""); err != nil {
		return err
	}
	if _, err := s.outbox.QueueTo(s.sending(ctx), models.KindHelp, to, rc.from); err != nil {
		return err
	}
	rc.result = "help sent"
	return nil
}

// replyAnswer handles YES, NO, numbers and everything else: it finds the
// appointments awaiting an answer from the number and lets reply.Resolve
// decide.
func (s *Service) replyAnswer(ctx context.Context, rc *replyCtx, r reply.Reply) error {
	var (
		candidates []models.Appointment
		pending    = reply.Unknown
		err        error
	)
	if r.Choice != 0 {
		// Only a number refers to the numbered question; a plain YES or NO
		// is judged against the appointments awaiting an answer now.
		candidates, pending, err = s.pendingQuestion(ctx, rc)
		if err != nil {
			return err
		}
	}
	if pending == reply.Unknown {
		all, err := s.awaitingAnswer(ctx, rc)
		if err != nil {
			return err
		}
		candidates = all
		if r.Intent == reply.Confirm {
			// Only a scheduled appointment can be confirmed; a confirmed one
			// still awaits a possible NO.
			candidates = filterStatus(all, models.Scheduled)
			if len(candidates) == 0 && len(all) > 0 {
				rc.in.Intent = r.Intent.String()
				rc.in.SetCandidates(all)
				if len(all) == 1 {
					rc.in.AppointmentID = &all[0].ID
				}
				if err := s.save(ctx, rc, ""); err != nil {
					return err
				}
				for _, a := range all {
					if err := s.replyTimeline(ctx, a.ID, rc, "already confirmed"); err != nil {
						return err
					}
				}
				rc.result = "already confirmed"
				return nil
			}
		}
	}
	if len(candidates) > maxCandidates {
		return s.toInbox(ctx, rc, candidates[:maxCandidates], "too many appointments awaiting an answer")
	}
	if r.Intent == reply.Reschedule && len(candidates) == 0 {
		// Asked again while already waiting for another time: staff see
		// it beside the request, nothing is sent twice.
		waiting, err := s.waitingForAnotherTime(ctx, rc)
		if err != nil {
			return err
		}
		if len(waiting) > 0 {
			rc.in.Intent = reply.Reschedule.String()
			return s.toInbox(ctx, rc, waiting, WantsAnotherTime)
		}
	}
	intent, index, ask := reply.Resolve(r, len(candidates), pending)
	switch {
	case intent == reply.Reschedule && index > 0:
		return s.requestAnotherTime(ctx, rc, candidates[index-1])
	case intent == reply.Reschedule:
		// Which appointment is not clear (several, or none awaiting an
		// answer): a person sorts it out with the patient.
		return s.toInbox(ctx, rc, candidates, WantsAnotherTime)
	case ask:
		return s.askWhich(ctx, rc, intent, candidates)
	case (intent == reply.Confirm || intent == reply.Cancel) && index > 0:
		return s.applyIntent(ctx, rc, intent, candidates[index-1])
	case len(candidates) == 0:
		return s.toInbox(ctx, rc, nil, "no appointment awaiting an answer")
	default:
		return s.toInbox(ctx, rc, candidates, "reply not understood")
	}
}

// applyIntent confirms or cancels the appointment the reply is about and
// queues the acknowledgement.
func (s *Service) applyIntent(ctx context.Context, rc *replyCtx, intent reply.Intent, a models.Appointment) error {
	// The appointment may have moved on since the question was asked.
	if !a.Status.Active() || !a.StartsAt.After(rc.now) {
		if a.PatientID != 0 {
			rc.in.AppointmentID = &a.ID
		}
		return s.toInbox(ctx, rc, nil, "the appointment no longer awaits an answer")
	}
	if intent == reply.Confirm && a.Status == models.Confirmed {
		rc.in.Intent, rc.in.AppointmentID = intent.String(), &a.ID
		if err := s.save(ctx, rc, ""); err != nil {
			return err
		}
		rc.result = "already confirmed"
		return s.replyTimeline(ctx, a.ID, rc, "already confirmed")
	}
	var (
		updated *models.Appointment
		err     error
		kind    string
	)
	if intent == reply.Confirm {
		updated, err = s.clinic.Confirm(ctx, models.PatientActor(), a.ID, "sms")
		kind = models.KindAckConfirm
	} else {
		updated, err = s.clinic.Cancel(ctx, models.PatientActor(), a.ID, "patient replied by SMS")
		kind = models.KindAckCancel
	}
	var bt *models.ErrBadTransition
	if errors.As(err, &bt) {
		return s.toInbox(ctx, rc, []models.Appointment{a}, "the appointment cannot be "+pastTense(intent))
	}
	if err != nil {
		return err
	}
	rc.in.Intent, rc.in.AppointmentID = intent.String(), &a.ID
	if err := s.save(ctx, rc, ""); err != nil {
		return err
	}
	if err := s.replyTimeline(ctx, a.ID, rc, pastTense(intent)); err != nil {
		return err
	}
	rc.result = pastTense(intent) + " appointment " + strconv.FormatUint(uint64(a.ID), 10)
	if updated.Patient != nil && updated.Patient.OptedOut() {
		// Nothing follows an opt-out acknowledgement.
		return nil
	}
	_, err = s.outbox.QueueAbout(s.sending(ctx), kind, updated, rc.from)
	return err
}

// requestAnotherTime records the patient's request for another time for
// appointment a (acknowledged by SMS, or answered with offers at once) and
// leaves the message in the inbox, labelled, so staff offer new times.
func (s *Service) requestAnotherTime(ctx context.Context, rc *replyCtx, a models.Appointment) error {
	rc.offers.mayOffer()
	_, err := s.reschedule.Request(ctx, models.PatientActor(), a.ID, reschedule.SourceSMS)
	var bt *models.ErrBadTransition
	if errors.As(err, &bt) {
		return s.toInbox(ctx, rc, []models.Appointment{a}, "the appointment cannot be rescheduled")
	}
	if err != nil {
		return err
	}
	rc.in.Intent = reply.Reschedule.String()
	if err := s.toInbox(ctx, rc, []models.Appointment{a}, WantsAnotherTime); err != nil {
		return err
	}
	rc.result = "reschedule requested for appointment " + strconv.FormatUint(uint64(a.ID), 10)
	return nil
}

// replyPick reads the text as a pick from the newest offer of new times
// made to the number's patients, and acts on it: it reports false when the
// text is not such a pick, or a numbered question asked after the offer
// is what a number answers. An open offer's pick moves the appointment (or
// brings the apology with fresh times); a pick from an offer that expired
// or was replaced goes to the inbox.
func (s *Service) replyPick(ctx context.Context, rc *replyCtx) (bool, error) {
	ids := make([]uint, len(rc.patients))
	for i := range rc.patients {
		ids[i] = rc.patients[i].ID
	}
	if rc.offers.none(ids) {
		return false, nil
	}
	o, err := s.reschedule.Latest(ctx, ids)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if o.Status != models.OfferOpen {
		return false, nil
	}
	last, err := s.store.LastAnswerable(ctx, rc.from, rc.in.ID, rc.now.Add(-questionWindow))
	switch {
	case errors.Is(err, models.ErrNotFound):
	case err != nil:
		return false, err
	case last.Candidates != "" && !last.NeedsAttention && !last.CreatedAt.Before(o.CreatedAt):
		// The numbered question about several appointments came later.
		return false, nil
	}
	a, err := s.store.Appointment(ctx, o.AppointmentID)
	if err != nil {
		return false, err
	}
	times := o.Times()
	zone := a.Location.Zone()
	for i := range times {
		times[i] = times[i].In(zone)
	}
	n := reply.ParsePick(rc.in.Text, times, a.Patient.Language)
	if n == 0 {
		return false, nil
	}
	rc.in.AppointmentID, rc.in.Intent = &a.ID, "pick"
	if a.Status != models.RescheduleRequested || !o.OpenAt(rc.now) {
		return true, s.toInbox(ctx, rc, []models.Appointment{*a}, "picked a time from an offer that has expired")
	}
	rc.offers.mayOffer()
	out, err := s.reschedule.Pick(ctx, models.PatientActor(), a.ID, n)
	var bt *models.ErrBadTransition
	switch {
	case errors.Is(err, reschedule.ErrNoOpenOffer) || errors.As(err, &bt):
		return true, s.toInbox(ctx, rc, []models.Appointment{*a}, "picked a time from an offer that has expired")
	case err != nil:
		return true, err
	case !out.Moved && out.Fresh == nil:
		return true, s.toInbox(ctx, rc, []models.Appointment{*a}, "the time picked was taken and no other time is free")
	}
	if err := s.save(ctx, rc, ""); err != nil {
		return true, err
	}
	what := fmt.Sprintf("picked time %d, moved", n)
	rc.result = fmt.Sprintf("appointment %d moved to time %d", a.ID, n)
	if !out.Moved {
		what = fmt.Sprintf("picked time %d, taken meanwhile; fresh times offered", n)
		rc.result = fmt.Sprintf("time %d taken; fresh offer sent", n)
	}
	return true, s.replyTimeline(ctx, a.ID, rc, what)
}

// replyWaitlist reads a bare YES from a number whose patient holds a live
// offer of a freed time as the answer to that offer, and reports false for
// anything else. A YES answers the newest question: when a question about
// an appointment awaiting an answer left after the offer, or another
// patient on the number has an appointment awaiting an answer, the YES is
// left to the normal confirmation. A numbered answer ("YES 2") is never
// read as the offer's.
func (s *Service) replyWaitlist(ctx context.Context, rc *replyCtx, r reply.Reply) (bool, error) {
	if s.waitlist == nil || r.Intent != reply.Confirm || r.Choice != 0 {
		return false, nil
	}
	ids := make([]uint, 0, len(rc.patients))
	for i := range rc.patients {
		if !rc.patients[i].OptedOut() {
			ids = append(ids, rc.patients[i].ID)
		}
	}
	o, err := s.waitlist.LiveOffer(ctx, ids)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if newer, err := s.askedSinceOffer(ctx, rc, o); err != nil || newer {
		return false, err
	}
	out, err := s.waitlist.Take(ctx, o)
	if errors.Is(err, models.ErrConflict) {
		// Only an offer answered meanwhile (the same patient's other YES
		// a moment ago) swallows this YES; one that expired or was
		// withdrawn leaves it to the normal reply handling.
		cur, rerr := s.store.WaitlistOffer(ctx, o.ID)
		if rerr != nil {
			return false, rerr
		}
		if cur.Status != models.WaitlistTaken && cur.Status != models.WaitlistTooLate {
			return false, nil
		}
		rc.in.Intent = reply.Confirm.String()
		rc.result = "waitlist offer already answered"
		return true, s.save(ctx, rc, "")
	}
	if err != nil {
		return false, err
	}
	rc.in.Intent = reply.Confirm.String()
	pid := o.PatientID
	rc.in.PatientID = &pid
	if out.Booked {
		rc.in.AppointmentID = &out.Appointment.ID
	}
	if err := s.save(ctx, rc, ""); err != nil {
		return true, err
	}
	if !out.Booked {
		rc.result = "waitlist offer " + strconv.FormatUint(uint64(o.ID), 10) + " too late: " + out.Why
		return true, nil
	}
	rc.result = "waitlist offer " + strconv.FormatUint(uint64(o.ID), 10) + " taken: appointment " + strconv.FormatUint(uint64(out.Appointment.ID), 10)
	return true, s.replyTimeline(ctx, out.Appointment.ID, rc, "took the freed time from the waitlist")
}

// askedSinceOffer reports whether a bare YES on this number may be meant
// for something other than the offer o: an appointment awaiting an answer
// belongs to another patient on the number, or a question about one left
// after the offer did. Then the YES goes to the normal confirmation.
func (s *Service) askedSinceOffer(ctx context.Context, rc *replyCtx, o *models.WaitlistOffer) (bool, error) {
	all, err := s.awaitingAnswer(ctx, rc)
	if err != nil {
		return false, err
	}
	ids := make([]uint, 0, len(all))
	for _, a := range filterStatus(all, models.Scheduled) {
		if a.PatientID != o.PatientID {
			return true, nil
		}
		ids = append(ids, a.ID)
	}
	return s.store.AskedAfter(ctx, rc.from, ids, awaitingKinds, o.SentAt)
}

func pastTense(i reply.Intent) string {
	if i == reply.Confirm {
		return "confirmed"
	}
	return "cancelled"
}

// askWhich sends the numbered question and remembers what it asked, so
// that a later "2" or "YES 2" resolves.
func (s *Service) askWhich(ctx context.Context, rc *replyCtx, intent reply.Intent, candidates []models.Appointment) error {
	rc.in.Intent = intent.String()
	rc.in.SetCandidates(candidates)
	if err := s.save(ctx, rc, ""); err != nil {
		return err
	}
	for _, a := range candidates {
		if err := s.replyTimeline(ctx, a.ID, rc, "asked which appointment"); err != nil {
			return err
		}
	}
	rc.result = fmt.Sprintf("asked which of %d appointments", len(candidates))
	first := candidates[0]
	if first.Patient != nil && first.Patient.OptedOut() {
		return nil
	}
	_, err := s.outbox.QueueQuestion(s.sending(ctx), rc.from, candidates)
	return err
}

// pendingQuestion returns the candidates and intent of the numbered
// question this number was last asked, if it is still open: the number's
// latest appointment-related inbound message asked it (no later reply
// resolved anything or went to the inbox), within questionWindow.
func (s *Service) pendingQuestion(ctx context.Context, rc *replyCtx) ([]models.Appointment, reply.Intent, error) {
	last, err := s.store.LastAnswerable(ctx, rc.from, rc.in.ID, rc.now.Add(-questionWindow))
	if errors.Is(err, models.ErrNotFound) {
		return nil, reply.Unknown, nil
	}
	if err != nil {
		return nil, reply.Unknown, err
	}
	intent, perr := reply.ParseIntent(last.Intent)
	if perr != nil || (intent != reply.Confirm && intent != reply.Cancel) ||
		last.NeedsAttention || last.AppointmentID != nil || last.Candidates == "" {
		return nil, reply.Unknown, nil
	}
	ids := last.CandidateIDs()
	byID, err := s.store.AppointmentsByID(ctx, ids)
	if err != nil {
		return nil, reply.Unknown, err
	}
	// Keep the numbering of the question; a deleted appointment keeps its
	// slot as an inactive one, so that the other numbers still match.
	out := make([]models.Appointment, len(ids))
	for i, id := range ids {
		// An erased patient's appointment is gone as far as replies go:
		// no change to it and no acknowledgement to its number.
		if a, ok := byID[id]; ok && (a.Patient == nil || a.Patient.ErasedAt == nil) {
			out[i] = *a
		} else {
			out[i] = models.Appointment{ID: id, Status: models.Cancelled}
		}
	}
	return out, intent, nil
}

// waitingForAnotherTime returns the upcoming appointments of the number's
// patients that wait for another time, soonest first.
func (s *Service) waitingForAnotherTime(ctx context.Context, rc *replyCtx) ([]models.Appointment, error) {
	var out []models.Appointment
	for _, p := range rc.patients {
		as, err := s.store.FindAppointments(ctx, models.AppointmentFilter{
			PatientID: p.ID, Status: models.RescheduleRequested, From: rc.now, Limit: maxCandidates,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	if len(out) > maxCandidates {
		out = out[:maxCandidates]
	}
	return out, nil
}

func filterStatus(as []models.Appointment, st models.AppointmentStatus) []models.Appointment {
	var out []models.Appointment
	for _, a := range as {
		if a.Status == st {
			out = append(out, a)
		}
	}
	return out
}

func deref(p *uint) uint {
	if p == nil {
		return 0
	}
	return *p
}
