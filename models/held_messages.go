package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ErrMessagesHeld means a statement read or changed the messages table in
// a transaction that holds messages not inserted yet (HoldMessages): it
// would not have seen them. The statement's savepoint must be rolled back
// and its work done again after FlushMessages, without holding.
var ErrMessagesHeld = errors.New("store: messages held for a later insert were not seen")

// heldMessages are messages CreateMessagesThen holds, and what to do once
// they are inserted.
type heldMessages struct {
	ms   []*Message
	then func(ctx context.Context) error
}

// HoldMessages makes CreateMessagesThen, in the transaction ctx carries
// (and the savepoints opened in it from now on), hold the messages it is
// given instead of inserting them, so that FlushMessages inserts those of
// many calls (the reminders of a batch of imported appointments) in a few
// multi-row statements. A savepoint that rolls back drops the messages
// held in it. While messages are held, ReminderTimes counts them, and any
// other statement on the messages table fails with ErrMessagesHeld, so
// that nothing decides without them. Call it with on false to stop
// holding (FlushMessages first). Outside a transaction it does nothing.
func (s *Store) HoldMessages(ctx context.Context, on bool) {
	if st := s.txOf(ctx); st != nil {
		st.holdMessages = on
	}
}

// CreateMessagesThen inserts ms, then calls then with a context of the
// transaction they are inserted in (then records what goes with them:
// timeline entries and events naming their ids). In a transaction that
// holds messages (HoldMessages), both wait for FlushMessages or the
// commit.
func (s *Store) CreateMessagesThen(ctx context.Context, ms []*Message, then func(ctx context.Context) error) error {
	if len(ms) == 0 {
		return nil
	}
	if st := s.txOf(ctx); st != nil && st.holdMessages {
		st.held = append(st.held, heldMessages{ms: ms, then: then})
		return nil
	}
	if err := s.CreateMessages(ctx, ms); err != nil {
		return err
	}
	if then == nil {
		return nil
	}
	return then(ctx)
}

// FlushMessages inserts the messages the transaction (or savepoint) ctx
// carries holds, in multi-row statements, then runs what follows each
// insert, in the order they were held.
func (s *Store) FlushMessages(ctx context.Context) error {
	st := s.txOf(ctx)
	if st == nil || len(st.held) == 0 {
		return nil
	}
	held := st.held
	st.held = nil
	var all []*Message
	for _, h := range held {
		all = append(all, h.ms...)
	}
	err := s.conn(context.WithValue(ctx, heldOKKey{}, true)).CreateInBatches(all, 100).Error
	if err != nil {
		return fmt.Errorf("store: create messages: %w", Classify(err))
	}
	for _, h := range held {
		if h.then == nil {
			continue
		}
		if err := h.then(ctx); err != nil {
			return err
		}
	}
	return nil
}

// heldReminderTimes adds to out the send times of the reminders held in
// st and the transactions it is a savepoint of that ReminderTimes counts.
func heldReminderTimes(st *txState, out []time.Time, patientID, except uint, from, to time.Time) []time.Time {
	for ; st != nil; st = st.parent {
		for _, h := range st.held {
			for _, m := range h.ms {
				if m.PatientID == nil || *m.PatientID != patientID || m.Kind != KindReminder ||
					m.AppointmentID == nil || *m.AppointmentID == except || !countedStatus(m.Status) ||
					m.SendAt.Before(from) || !m.SendAt.Before(to) {
					continue
				}
				if m.SentAt != nil {
					out = append(out, *m.SentAt)
				} else {
					out = append(out, m.SendAt)
				}
			}
		}
	}
	return out
}

func countedStatus(st MessageStatus) bool {
	for _, c := range countedReminderStatuses {
		if c == st {
			return true
		}
	}
	return false
}

// holding reports whether st or a transaction it is a savepoint of holds
// messages.
func (st *txState) holding() bool {
	for ; st != nil; st = st.parent {
		if len(st.held) > 0 {
			return true
		}
	}
	return false
}

// heldOKKey marks a statement that knows of the held messages.
type heldOKKey struct{}

// guardHeldMessages fails every statement on the messages table run in a
// transaction that holds messages, but those that know of them.
func guardHeldMessages(db *gorm.DB) {
	ctx := db.Statement.Context
	// "Not found" is no answer while the message may be among those held.
	if ctx == nil || (db.Error != nil && !errors.Is(db.Error, gorm.ErrRecordNotFound)) {
		return
	}
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok || !st.holding() {
		return
	}
	if known, _ := ctx.Value(heldOKKey{}).(bool); known {
		return
	}
	if db.Statement.Table == "messages" || strings.Contains(db.Statement.SQL.String(), "messages") {
		_ = db.AddError(ErrMessagesHeld)
	}
}

// trackChanges notes, in the transaction's state, a change to the
// messages table that ReminderTimes cannot follow (any but an insert).
func trackChanges(db *gorm.DB) {
	ctx := db.Statement.Context
	if ctx == nil {
		return
	}
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return
	}
	if db.Statement.Table == "messages" || strings.Contains(db.Statement.SQL.String(), "messages") {
		st.root().unknown = true
		st.root().messageWrites++
	}
}

// trackInserts notes, in the transaction's state, the patients it creates
// and those it inserts messages for.
func trackInserts(db *gorm.DB) {
	ctx := db.Statement.Context
	if ctx == nil || db.Error != nil {
		return
	}
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return
	}
	root := st.root()
	mark := func(m map[uint]bool, id *uint) map[uint]bool {
		if m == nil {
			m = map[uint]bool{}
		}
		if id != nil {
			m[*id] = true
		}
		return m
	}
	switch db.Statement.Table {
	case "patients":
		if p, ok := db.Statement.Dest.(*Patient); ok && p.ID != 0 {
			root.newPatients = mark(root.newPatients, &p.ID)
		}
	case "messages":
		root.messageWrites++
		switch d := db.Statement.Dest.(type) {
		case *Message:
			root.messaged = mark(root.messaged, d.PatientID)
		case []*Message:
			for _, m := range d {
				root.messaged = mark(root.messaged, m.PatientID)
			}
		case *[]*Message:
			for _, m := range *d {
				root.messaged = mark(root.messaged, m.PatientID)
			}
		case []Message:
			for i := range d {
				root.messaged = mark(root.messaged, d[i].PatientID)
			}
		case *[]Message:
			for i := range *d {
				root.messaged = mark(root.messaged, (*d)[i].PatientID)
			}
		default:
			root.unknown = true
		}
	default:
		if strings.Contains(db.Statement.SQL.String(), "messages") {
			root.unknown = true
			root.messageWrites++
		}
	}
}

// noRemindersStored reports that the patient was created in the
// transaction st is part of and no reminder of theirs was stored since:
// patients are never deleted, so no message names the id of a patient
// created in the transaction but those it inserted.
func noRemindersStored(st *txState, patientID uint) bool {
	if st == nil {
		return false
	}
	root := st.root()
	return root.newPatients[patientID] && !root.messaged[patientID] && !root.unknown
}

// registerHeldGuard installs guardHeldMessages after every kind of
// statement but inserts.
func registerHeldGuard(db *gorm.DB) error {
	cb := db.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("apptconfirm:held_messages", guardHeldMessages),
		cb.Update().After("gorm:update").Register("apptconfirm:held_messages", guardHeldMessages),
		cb.Delete().After("gorm:delete").Register("apptconfirm:held_messages", guardHeldMessages),
		cb.Row().After("gorm:row").Register("apptconfirm:held_messages", guardHeldMessages),
		cb.Raw().After("gorm:raw").Register("apptconfirm:held_messages", guardHeldMessages),
		cb.Create().After("gorm:create").Register("apptconfirm:track_inserts", trackInserts),
		cb.Update().After("gorm:update").Register("apptconfirm:track_changes", trackChanges),
		cb.Delete().After("gorm:delete").Register("apptconfirm:track_changes", trackChanges),
		cb.Raw().After("gorm:raw").Register("apptconfirm:track_changes", trackChanges),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
