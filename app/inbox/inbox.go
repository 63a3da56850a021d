// Package inbox is the staff inbox: inbound SMS that need a human (replies
// the parser did not understand, replies to cancelled or past appointments,
// texts from unknown numbers). Staff confirm or cancel one of the
// appointments the text may be about, answer by SMS, or mark it handled; a
// handled item leaves the inbox with who handled it and when.
//
// Every action runs in one transaction with its audit row and timeline
// entries, and claims the item (handled_at IS NULL), so two staff members
// cannot both act on it.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"apptconfirm/app/outbox"
	"apptconfirm/models"
)

// Limits.
const (
	// MaxAnswer is the longest SMS answer staff may type (four SMS parts).
	MaxAnswer = 612
	// MaxNote is the longest handling note (the column).
	MaxNote = 300
	// EntityInbound is the audit entity of inbox actions.
	EntityInbound = "inbound_message"
)

// ErrHandled is returned (wrapped with models.ErrConflict) when an item was
// already handled.
var ErrHandled = errors.New("already handled")

// Clinic is what handling an item may change; *clinic.Service implements
// it. Each method joins the transaction ctx carries.
type Clinic interface {
	Confirm(ctx context.Context, actor models.Actor, id uint, source string) (*models.Appointment, error)
	Cancel(ctx context.Context, actor models.Actor, id uint, reason string) (*models.Appointment, error)
}

// Offers sends a patient an offer of new times; *reschedule.Service
// implements it. It joins the transaction ctx carries.
type Offers interface {
	Offer(ctx context.Context, actor models.Actor, id uint, starts []time.Time) (*models.RescheduleOffer, error)
}

// Service is the inbox's business layer. It is safe for concurrent use.
type Service struct {
	store  *models.Store
	clinic Clinic
	outbox *outbox.Outbox
	offers Offers
	now    func() time.Time
}

// New returns the inbox service; answers go out through ob, offers of new
// times through offers (nil: none can be sent from the inbox). now nil
// means time.Now.
func New(store *models.Store, c Clinic, ob *outbox.Outbox, offers Offers, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, clinic: c, outbox: ob, offers: offers, now: now}
}

// Item is one inbound message as the inbox shows it.
type Item struct {
	Message models.InboundMessage
	// Patients are the patients with the sender's number (none: unknown
	// number; several: a family sharing a phone).
	Patients []models.Patient
	// Candidates are the appointments the text may be about, soonest
	// first: those it was matched to, and the upcoming active appointments
	// of the number's patients. Each has Patient and Location loaded.
	Candidates []models.Appointment
	// Context is the appointment the message was matched to when it is
	// no longer a candidate (cancelled, past), for display; nil otherwise.
	Context *models.Appointment
	// HandledBy is the user who handled the item, if any.
	HandledBy *models.User
	// OptedOut reports that a patient with this number opted out: no SMS
	// answer is possible.
	OptedOut bool
	// QuickAnswers are the clinic's ready answers written for the
	// sender's patient, in their language (about the appointment the
	// reply is about, when one is clear); none for an unknown number, an
	// opted-out one or a handled item.
	QuickAnswers []outbox.QuickAnswer
}

// Query selects inbox items.
type Query struct {
	// Handled lists handled items (newest handled first) instead of those
	// needing attention (oldest first).
	Handled bool
	// Page (from 1) and PerPage (1 to 200; 0 means 50).
	Page, PerPage int
}

// List returns one page of items and the total count. The page costs the
// same few queries whatever its length: what the items show is read for
// all of them at once.
func (s *Service) List(ctx context.Context, q Query) ([]Item, int64, error) {
	per := q.PerPage
	if per <= 0 || per > 200 {
		per = 50
	}
	page := max(q.Page, 1)
	msgs, total, err := s.store.InboxItems(ctx, q.Handled, (page-1)*per, per)
	if err != nil {
		return nil, 0, fmt.Errorf("inbox: list: %w", err)
	}
	items, err := s.items(ctx, msgs, true)
	if err != nil {
		return nil, 0, fmt.Errorf("inbox: list: %w", err)
	}
	return items, total, nil
}

// Count returns how many items need attention (for the dashboard).
func (s *Service) Count(ctx context.Context) (int64, error) {
	n, err := s.store.CountInbox(ctx)
	if err != nil {
		return 0, fmt.Errorf("inbox: count: %w", err)
	}
	return n, nil
}

// Get returns one item, or models.ErrNotFound when it does not exist or
// never needed attention.
func (s *Service) Get(ctx context.Context, id uint) (*Item, error) {
	m, err := s.store.InboxItem(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("inbox: get: %w", err)
	}
	items, err := s.items(ctx, []models.InboundMessage{*m}, true)
	if err != nil {
		return nil, fmt.Errorf("inbox: get: %w", err)
	}
	return &items[0], nil
}

// maxCandidates bounds the appointments an item offers.
const maxCandidates = 20

// items gathers what the inbox shows about msgs (with their quick answers
// when answers is set), reading each kind of thing once for all of them.
func (s *Service) items(ctx context.Context, msgs []models.InboundMessage, answers bool) ([]Item, error) {
	out := make([]Item, len(msgs))
	if len(msgs) == 0 {
		return out, nil
	}
	phones := make([]string, len(msgs))
	for i, m := range msgs {
		phones[i] = m.From
	}
	byPhone, err := s.store.PatientsByPhones(ctx, phones)
	if err != nil {
		return nil, err
	}
	var allPatients, allIDs, userIDs []uint
	for i, m := range msgs {
		it := &out[i]
		it.Message = m
		if m.From != "" {
			it.Patients = byPhone[m.From]
		}
		for _, p := range it.Patients {
			if p.OptedOut() {
				it.OptedOut = true
			}
		}
		allPatients = append(allPatients, patientIDs(it.Patients)...)
		allIDs = append(allIDs, itemAppointmentIDs(m)...)
		if m.HandledByID != nil {
			userIDs = append(userIDs, *m.HandledByID)
		}
	}
	upcoming, err := s.store.UpcomingFor(ctx, allPatients, allIDs, s.now(), 0)
	if err != nil {
		return nil, err
	}
	var contextIDs []uint
	for i := range out {
		it := &out[i]
		mine := map[uint]bool{}
		for _, id := range patientIDs(it.Patients) {
			mine[id] = true
		}
		asked := map[uint]bool{}
		for _, id := range itemAppointmentIDs(it.Message) {
			asked[id] = true
		}
		for _, a := range upcoming {
			if len(it.Candidates) == maxCandidates {
				break
			}
			if mine[a.PatientID] || asked[a.ID] {
				it.Candidates = append(it.Candidates, a)
			}
		}
		if id := it.Message.AppointmentID; id != nil && !hasAppointment(it.Candidates, *id) {
			contextIDs = append(contextIDs, *id)
		}
	}
	contexts, err := s.store.AppointmentsByID(ctx, contextIDs)
	if err != nil {
		return nil, err
	}
	users, err := s.store.UsersByID(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	var qa *outbox.QuickAnswerWriter
	for i := range out {
		it := &out[i]
		if id := it.Message.AppointmentID; id != nil && !hasAppointment(it.Candidates, *id) {
			it.Context = contexts[*id]
		}
		if id := it.Message.HandledByID; id != nil {
			it.HandledBy = users[*id]
		}
		if !answers || !s.offersQuickAnswers(it) {
			continue
		}
		if qa == nil {
			if qa, err = s.outbox.QuickAnswerWriter(ctx); err != nil {
				return nil, err
			}
		}
		p, about := quickAnswerTarget(it)
		it.QuickAnswers = qa.For(p, about)
	}
	return out, nil
}

// itemAppointmentIDs are the appointments an inbound message was matched
// to: its candidates and its appointment.
func itemAppointmentIDs(m models.InboundMessage) []uint {
	ids := m.CandidateIDs()
	if m.AppointmentID != nil {
		ids = append(ids, *m.AppointmentID)
	}
	return ids
}

// offersQuickAnswers reports whether the item gets quick answers (see
// Item.QuickAnswers).
func (s *Service) offersQuickAnswers(it *Item) bool {
	return s.outbox != nil && it.Message.HandledAt == nil && !it.OptedOut && len(it.Patients) > 0 && it.Message.From != ""
}

// quickAnswerTarget is whom the item's quick answers address, and the
// appointment they are about when one is clear.
func quickAnswerTarget(it *Item) (*models.Patient, *models.Appointment) {
	var about *models.Appointment
	switch {
	case len(it.Candidates) == 1:
		about = &it.Candidates[0]
	case it.Context != nil:
		about = it.Context
	}
	p := &it.Patients[0]
	if about != nil && about.Patient != nil {
		p = about.Patient
	}
	return p, about
}

func patientIDs(ps []models.Patient) []uint {
	out := make([]uint, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func hasAppointment(as []models.Appointment, id uint) bool {
	for _, a := range as {
		if a.ID == id {
			return true
		}
	}
	return false
}

// act runs fn on an unhandled item in one transaction, then marks it
// handled by actor with the note fn returns.
func (s *Service) act(ctx context.Context, op string, actor models.Actor, id uint, fn func(ctx context.Context, it *Item, now time.Time) (string, error)) error {
	now := models.DBTime(s.now())
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		m, err := s.store.InboxItem(ctx, id)
		if err != nil {
			return err
		}
		if m.HandledAt != nil {
			return fmt.Errorf("inbox item %d: %w: %w", id, models.ErrConflict, ErrHandled)
		}
		items, err := s.items(ctx, []models.InboundMessage{*m}, false)
		if err != nil {
			return err
		}
		it := &items[0]
		note, err := fn(ctx, it, now)
		if err != nil {
			return err
		}
		ok, err := s.store.MarkHandled(ctx, id, actor.UserID, models.Clip(note, MaxNote), now)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("inbox item %d: %w: %w", id, models.ErrConflict, ErrHandled)
		}
		if err := s.store.Audit(ctx, now, actor, "inbox."+op, EntityInbound, id, note); err != nil {
			return err
		}
		return s.store.Record(ctx, models.Event{
			At: now, Type: models.EventInboxHandled, InboundID: id, PatientID: firstPatient(it),
			Status: "handled", Source: op,
		})
	})
	if err != nil {
		if _, ok := models.AsFieldErrors(err); ok {
			return err
		}
		return fmt.Errorf("inbox: %s: %w", op, models.Classify(err))
	}
	return nil
}

func firstPatient(it *Item) uint {
	if len(it.Patients) == 0 {
		return 0
	}
	return it.Patients[0].ID
}

// candidate returns the item's candidate with id, or a FieldErrors.
func candidate(it *Item, id uint) (*models.Appointment, error) {
	for i := range it.Candidates {
		if it.Candidates[i].ID == id {
			return &it.Candidates[i], nil
		}
	}
	return nil, models.FieldErrors{"appointment_id": "is not one of this message's appointments"}
}

// Confirm confirms one of the item's candidate appointments on behalf of
// the patient, queues the confirmation SMS when notify is set (and the
// patient has not opted out), and marks the item handled.
func (s *Service) Confirm(ctx context.Context, actor models.Actor, id, appointmentID uint, notify bool) error {
	return s.act(ctx, "confirm", actor, id, func(ctx context.Context, it *Item, now time.Time) (string, error) {
		a, err := candidate(it, appointmentID)
		if err != nil {
			return "", err
		}
		updated, err := s.clinic.Confirm(ctx, actor, a.ID, "inbox")
		if err != nil {
			return "", err
		}
		return s.resolved(ctx, it, updated, models.KindAckConfirm, notify, now, "Confirmed")
	})
}

// Cancel cancels one of the item's candidate appointments, queues the
// cancellation acknowledgement when notify is set, and marks the item
// handled.
func (s *Service) Cancel(ctx context.Context, actor models.Actor, id, appointmentID uint, notify bool) error {
	return s.act(ctx, "cancel", actor, id, func(ctx context.Context, it *Item, now time.Time) (string, error) {
		a, err := candidate(it, appointmentID)
		if err != nil {
			return "", err
		}
		updated, err := s.clinic.Cancel(ctx, actor, a.ID, "patient replied by SMS")
		if err != nil {
			return "", err
		}
		return s.resolved(ctx, it, updated, models.KindAckCancel, notify, now, "Cancelled")
	})
}

// resolved finishes a confirm or cancel: acknowledgement, timeline, note.
func (s *Service) resolved(ctx context.Context, it *Item, a *models.Appointment, kind string, notify bool, now time.Time, verb string) (string, error) {
	note := fmt.Sprintf("%s appointment %d", verb, a.ID)
	err := s.store.AddTimeline(ctx, models.TimelineEntry{
		AppointmentID: a.ID, At: now, Kind: models.TimelineReply,
		Detail: fmt.Sprintf("Reply by SMS %q read by staff: %s", models.Clip(it.Message.Text, 200), strings.ToLower(verb)),
	})
	if err != nil {
		return "", err
	}
	if !notify || it.OptedOut || it.Message.From == "" {
		return note, nil
	}
	if _, err := s.outbox.QueueAbout(ctx, kind, a, it.Message.From); err != nil {
		return "", err
	}
	return note + "; acknowledgement sent", nil
}

// Answer sends text to the sender by SMS as a staff message (it joins the
// timeline of the appointment the reply is about, if one is clear) and
// marks the item handled. A number whose patient opted out cannot be
// answered by SMS.
func (s *Service) Answer(ctx context.Context, actor models.Actor, id uint, text string) error {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if msg := checkAnswer(text); msg != "" {
		return models.FieldErrors{"text": msg}
	}
	return s.act(ctx, "answer", actor, id, func(ctx context.Context, it *Item, now time.Time) (string, error) {
		switch {
		case it.OptedOut:
			return "", models.FieldErrors{"text": "this number opted out of messages; call the patient instead"}
		case it.Message.From == "":
			return "", models.FieldErrors{"text": "the message has no sender number to answer"}
		}
		var apptID, patientID *uint
		if len(it.Candidates) == 1 {
			apptID = &it.Candidates[0].ID
		} else if it.Message.AppointmentID != nil {
			apptID = it.Message.AppointmentID
		}
		if len(it.Patients) > 0 {
			patientID = &it.Patients[0].ID
		}
		m, err := s.outbox.Queue(ctx, outbox.Outgoing{
			Kind: models.KindManual, To: it.Message.From, Body: text,
			AppointmentID: apptID, PatientID: patientID, CreatedByID: actor.UserID,
		})
		if err != nil {
			return "", err
		}
		if apptID != nil {
			mid := m.ID
			err := s.store.AddTimeline(ctx, models.TimelineEntry{
				AppointmentID: *apptID, At: now, Kind: models.TimelineStaff, UserID: actor.UserID, MessageID: &mid,
				Detail: fmt.Sprintf("Answered by SMS by %s: %s", actorName(actor), models.Clip(text, 300)),
			})
			if err != nil {
				return "", err
			}
		}
		return "Answered by SMS: " + text, nil
	})
}

// Offer sends the patient of one of the item's candidate appointments up
// to three new times in one SMS (see reschedule.Service.Offer) and marks
// the item handled, in one transaction: a refused time leaves both as they
// were.
func (s *Service) Offer(ctx context.Context, actor models.Actor, id, appointmentID uint, starts []time.Time) error {
	if s.offers == nil {
		return models.FieldErrors{"starts_at": "offers of new times cannot be sent from here"}
	}
	return s.act(ctx, "offer", actor, id, func(ctx context.Context, it *Item, _ time.Time) (string, error) {
		a, err := candidate(it, appointmentID)
		if err != nil {
			return "", err
		}
		o, err := s.offers.Offer(ctx, actor, a.ID, starts)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Offered %d new time(s) for appointment %d", len(o.Times()), a.ID), nil
	})
}

// MarkHandled takes the item out of the inbox with an optional note.
func (s *Service) MarkHandled(ctx context.Context, actor models.Actor, id uint, note string) error {
	note = strings.TrimSpace(note)
	if msg := checkLine(note, MaxNote); msg != "" {
		return models.FieldErrors{"note": msg}
	}
	return s.act(ctx, "handle", actor, id, func(context.Context, *Item, time.Time) (string, error) {
		if note == "" {
			return "Marked handled", nil
		}
		return note, nil
	})
}

// checkAnswer validates an SMS answer.
func checkAnswer(text string) string {
	if text == "" {
		return "required"
	}
	if !utf8.ValidString(text) {
		return "is not valid text"
	}
	if n := utf8.RuneCountInString(text); n > MaxAnswer {
		return fmt.Sprintf("must be at most %d characters (got %d)", MaxAnswer, n)
	}
	for _, r := range text {
		if r != '\n' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029') {
			return "must not contain control characters"
		}
	}
	return ""
}

// checkLine validates an optional one-line text.
func checkLine(s string, maxRunes int) string {
	if !utf8.ValidString(s) {
		return "is not valid text"
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return fmt.Sprintf("must be at most %d characters (got %d)", maxRunes, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "must not contain control characters"
		}
	}
	return ""
}

func actorName(a models.Actor) string {
	if strings.TrimSpace(a.Name) == "" {
		return "staff"
	}
	return a.Name
}
