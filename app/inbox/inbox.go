// Package inbox is the staff inbox: inbound SMS that need a human (replies
// the parser did not understand, replies to cancelled or past appointments,
// texts from unknown numbers, PRODUCT.md 2.5). Staff confirm or cancel one
// of the appointments the text may be about, answer by SMS, or mark it
// handled; a handled item leaves the inbox with who handled it and when.
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

	"apptconfirm/app/clinic"
	"apptconfirm/app/live"
	"apptconfirm/app/webhook"
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

// Service is the inbox's business layer. It is safe for concurrent use.
type Service struct {
	store  *models.Store
	clinic *clinic.Service
	kick   webhook.Kicker
	pub    live.Publisher
	now    func() time.Time
}

// New returns the inbox service. kick (the dispatcher) and pub (live
// events) may be nil; now nil means time.Now.
func New(store *models.Store, c *clinic.Service, kick webhook.Kicker, pub live.Publisher, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, clinic: c, kick: kick, pub: pub, now: now}
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
}

// Query selects inbox items.
type Query struct {
	// Handled lists handled items (newest handled first) instead of those
	// needing attention (oldest first).
	Handled bool
	// Page (from 1) and PerPage (1 to 200; 0 means 50).
	Page, PerPage int
}

// List returns one page of items and the total count.
func (s *Service) List(ctx context.Context, q Query) ([]Item, int64, error) {
	per := q.PerPage
	if per <= 0 || per > 200 {
		per = 50
	}
	page := max(q.Page, 1)
	db := s.store.DB(ctx).Model(&models.InboundMessage{}).Where("needs_attention = ?", true)
	order := "received_at, id"
	if q.Handled {
		db = db.Where("handled_at IS NOT NULL")
		order = "handled_at DESC, id DESC"
	} else {
		db = db.Where("handled_at IS NULL")
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("inbox: list: %w", models.Classify(err))
	}
	var msgs []models.InboundMessage
	if err := db.Order(order).Offset((page - 1) * per).Limit(per).Find(&msgs).Error; err != nil {
		return nil, 0, fmt.Errorf("inbox: list: %w", models.Classify(err))
	}
	items := make([]Item, 0, len(msgs))
	for _, m := range msgs {
		it, err := s.item(ctx, s.store, m)
		if err != nil {
			return nil, 0, fmt.Errorf("inbox: list: %w", err)
		}
		items = append(items, *it)
	}
	return items, total, nil
}

// Count returns how many items need attention (for the dashboard).
func (s *Service) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.DB(ctx).Model(&models.InboundMessage{}).
		Where("needs_attention = ? AND handled_at IS NULL", true).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("inbox: count: %w", models.Classify(err))
	}
	return n, nil
}

// Get returns one item, or models.ErrNotFound when it does not exist or
// never needed attention.
func (s *Service) Get(ctx context.Context, id uint) (*Item, error) {
	m, err := loadMessage(ctx, s.store, id)
	if err != nil {
		return nil, fmt.Errorf("inbox: get: %w", err)
	}
	it, err := s.item(ctx, s.store, *m)
	if err != nil {
		return nil, fmt.Errorf("inbox: get: %w", err)
	}
	return it, nil
}

func loadMessage(ctx context.Context, db *models.Store, id uint) (*models.InboundMessage, error) {
	var m models.InboundMessage
	err := models.Classify(db.DB(ctx).Where("id = ? AND needs_attention = ?", id, true).Take(&m).Error)
	if errors.Is(err, models.ErrNotFound) {
		return nil, fmt.Errorf("inbox item %d: %w", id, models.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// item gathers what the inbox shows about m.
func (s *Service) item(ctx context.Context, db *models.Store, m models.InboundMessage) (*Item, error) {
	it := &Item{Message: m}
	if m.From != "" {
		if err := db.DB(ctx).Where(&models.Patient{Phone: m.From}).Order("id").Find(&it.Patients).Error; err != nil {
			return nil, models.Classify(err)
		}
	}
	for _, p := range it.Patients {
		if p.OptedOut() {
			it.OptedOut = true
		}
	}
	ids := webhook.SplitCandidates(m.Candidates)
	if m.AppointmentID != nil {
		ids = append(ids, *m.AppointmentID)
	}
	q := db.DB(ctx).Where("status IN ? AND starts_at > ?", []models.AppointmentStatus{models.Scheduled, models.Confirmed}, s.now().UTC())
	switch {
	case len(it.Patients) > 0 && len(ids) > 0:
		q = q.Where(db.DB(ctx).Where("patient_id IN ?", patientIDs(it.Patients)).Or("id IN ?", ids))
	case len(it.Patients) > 0:
		q = q.Where("patient_id IN ?", patientIDs(it.Patients))
	case len(ids) > 0:
		q = q.Where("id IN ?", ids)
	default:
		q = nil
	}
	if q != nil {
		err := q.Preload("Patient").Preload("Location").Preload("Provider").Order("starts_at, id").Limit(20).Find(&it.Candidates).Error
		if err != nil {
			return nil, models.Classify(err)
		}
	}
	if m.AppointmentID != nil && !hasAppointment(it.Candidates, *m.AppointmentID) {
		var a models.Appointment
		err := models.Classify(db.DB(ctx).Preload("Patient").Preload("Location").Take(&a, *m.AppointmentID).Error)
		switch {
		case err == nil:
			it.Context = &a
		case !errors.Is(err, models.ErrNotFound):
			return nil, err
		}
	}
	if m.HandledByID != nil {
		var u models.User
		err := models.Classify(db.DB(ctx).Take(&u, *m.HandledByID).Error)
		switch {
		case err == nil:
			it.HandledBy = &u
		case !errors.Is(err, models.ErrNotFound):
			return nil, err
		}
	}
	return it, nil
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

// effects are what an action does after its commit.
type effects struct {
	events []live.Event
	kick   bool
}

func (s *Service) after(e *effects) {
	if s.pub != nil {
		for _, ev := range e.events {
			s.pub.Publish(ev)
		}
	}
	if e.kick && s.kick != nil {
		s.kick.Kick()
	}
}

// act runs fn on an unhandled item in one transaction, then marks it
// handled by actor with note.
func (s *Service) act(ctx context.Context, op string, actor clinic.Actor, id uint, fn func(tx *models.Store, it *Item, now time.Time, e *effects) (string, error)) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	var e effects
	err := s.store.Tx(ctx, func(tx *models.Store) error {
		m, err := loadMessage(ctx, tx, id)
		if err != nil {
			return err
		}
		if m.HandledAt != nil {
			return fmt.Errorf("inbox item %d: %w: %w", id, models.ErrConflict, ErrHandled)
		}
		it, err := s.item(ctx, tx, *m)
		if err != nil {
			return err
		}
		note, err := fn(tx, it, now, &e)
		if err != nil {
			return err
		}
		res := tx.DB(ctx).Model(&models.InboundMessage{}).Where("id = ? AND handled_at IS NULL", id).
			Updates(map[string]any{"handled_at": now, "handled_by_id": actor.UserID, "handled_note": clip(note, MaxNote)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("inbox item %d: %w: %w", id, models.ErrConflict, ErrHandled)
		}
		if err := clinic.RecordAudit(ctx, tx, now, actor, "inbox."+op, EntityInbound, id, note); err != nil {
			return err
		}
		e.events = append(e.events, live.Event{Kind: "inbox", PatientID: firstPatient(it), Status: "handled", Detail: op, At: now})
		return nil
	})
	if err != nil {
		if _, ok := clinic.AsFieldErrors(err); ok {
			return err
		}
		return fmt.Errorf("inbox: %s: %w", op, models.Classify(err))
	}
	s.after(&e)
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
	return nil, clinic.FieldErrors{"appointment_id": "is not one of this message's appointments"}
}

// Confirm confirms one of the item's candidate appointments on behalf of
// the patient, queues the confirmation SMS when notify is set (and the
// patient has not opted out), and marks the item handled.
func (s *Service) Confirm(ctx context.Context, actor clinic.Actor, id, appointmentID uint, notify bool) error {
	return s.act(ctx, "confirm", actor, id, func(tx *models.Store, it *Item, now time.Time, e *effects) (string, error) {
		a, err := candidate(it, appointmentID)
		if err != nil {
			return "", err
		}
		updated, err := s.clinic.ConfirmTx(ctx, tx, actor, a.ID, "inbox", now)
		if err != nil {
			return "", err
		}
		return s.resolved(ctx, tx, it, updated, models.KindAckConfirm, notify, now, e, "Confirmed")
	})
}

// Cancel cancels one of the item's candidate appointments, queues the
// cancellation acknowledgement when notify is set, and marks the item
// handled.
func (s *Service) Cancel(ctx context.Context, actor clinic.Actor, id, appointmentID uint, notify bool) error {
	return s.act(ctx, "cancel", actor, id, func(tx *models.Store, it *Item, now time.Time, e *effects) (string, error) {
		a, err := candidate(it, appointmentID)
		if err != nil {
			return "", err
		}
		updated, err := s.clinic.CancelTx(ctx, tx, actor, a.ID, "patient replied by SMS", now)
		if err != nil {
			return "", err
		}
		return s.resolved(ctx, tx, it, updated, models.KindAckCancel, notify, now, e, "Cancelled")
	})
}

// resolved finishes a confirm or cancel: acknowledgement, timeline, note.
func (s *Service) resolved(ctx context.Context, tx *models.Store, it *Item, a *models.Appointment, kind string, notify bool, now time.Time, e *effects, verb string) (string, error) {
	e.events = append(e.events, live.Event{Kind: "appointment", AppointmentID: a.ID, PatientID: a.PatientID, Status: string(a.Status), Detail: "inbox", At: now})
	note := fmt.Sprintf("%s appointment %d", verb, a.ID)
	err := clinic.RecordTimeline(ctx, tx, models.TimelineEntry{
		AppointmentID: a.ID, At: now, Kind: models.TimelineReply,
		Detail: fmt.Sprintf("Reply by SMS %q read by staff: %s", clip(it.Message.Text, 200), strings.ToLower(verb)),
	})
	if err != nil {
		return "", err
	}
	if !notify || it.OptedOut || it.Message.From == "" {
		return note, nil
	}
	body, err := webhook.RenderForAppointment(ctx, tx, kind, a)
	if err != nil {
		return "", err
	}
	m, err := webhook.Queue(ctx, tx, webhook.Outgoing{Kind: kind, To: it.Message.From, Body: body, AppointmentID: &a.ID, PatientID: &a.PatientID}, now)
	if err != nil {
		return "", err
	}
	e.kick = true
	e.events = append(e.events, live.Event{Kind: "message", MessageID: m.ID, AppointmentID: a.ID, PatientID: a.PatientID, Status: string(m.Status), Detail: kind, At: now})
	return note + "; acknowledgement sent", nil
}

// Answer sends text to the sender by SMS as a staff message (it joins the
// timeline of the appointment the reply is about, if one is clear) and
// marks the item handled. A number whose patient opted out cannot be
// answered by SMS.
func (s *Service) Answer(ctx context.Context, actor clinic.Actor, id uint, text string) error {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if msg := checkAnswer(text); msg != "" {
		return clinic.FieldErrors{"text": msg}
	}
	return s.act(ctx, "answer", actor, id, func(tx *models.Store, it *Item, now time.Time, e *effects) (string, error) {
		switch {
		case it.OptedOut:
			return "", clinic.FieldErrors{"text": "this number opted out of messages; call the patient instead"}
		case it.Message.From == "":
			return "", clinic.FieldErrors{"text": "the message has no sender number to answer"}
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
		m, err := webhook.Queue(ctx, tx, webhook.Outgoing{
			Kind: models.KindManual, To: it.Message.From, Body: text,
			AppointmentID: apptID, PatientID: patientID, CreatedByID: actor.UserID,
		}, now)
		if err != nil {
			return "", err
		}
		if apptID != nil {
			mid := m.ID
			err := clinic.RecordTimeline(ctx, tx, models.TimelineEntry{
				AppointmentID: *apptID, At: now, Kind: models.TimelineStaff, UserID: actor.UserID, MessageID: &mid,
				Detail: fmt.Sprintf("Answered by SMS by %s: %s", actorName(actor), clip(text, 300)),
			})
			if err != nil {
				return "", err
			}
		}
		e.kick = true
		e.events = append(e.events, live.Event{Kind: "message", MessageID: m.ID, AppointmentID: deref(apptID), PatientID: deref(patientID), Status: string(m.Status), Detail: models.KindManual, At: now})
		return "Answered by SMS: " + text, nil
	})
}

// MarkHandled takes the item out of the inbox with an optional note.
func (s *Service) MarkHandled(ctx context.Context, actor clinic.Actor, id uint, note string) error {
	note = strings.TrimSpace(note)
	if msg := checkLine(note, MaxNote); msg != "" {
		return clinic.FieldErrors{"note": msg}
	}
	return s.act(ctx, "handle", actor, id, func(*models.Store, *Item, time.Time, *effects) (string, error) {
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

func actorName(a clinic.Actor) string {
	if strings.TrimSpace(a.Name) == "" {
		return "staff"
	}
	return a.Name
}

func deref(p *uint) uint {
	if p == nil {
		return 0
	}
	return *p
}

// clip cuts s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
