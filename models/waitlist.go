package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// WaitlistStatus is where a waitlist entry stands.
type WaitlistStatus string

// Waitlist entry states: waiting for a freed time (active), given one
// (booked), taken off the list by staff, the API or an erasure (removed).
const (
	WaitlistActive  WaitlistStatus = "active"
	WaitlistBooked  WaitlistStatus = "booked"
	WaitlistRemoved WaitlistStatus = "removed"
)

// WaitlistEntry is a patient waiting for an earlier or any free time with a
// provider, at a location, of a type (each optional: nil matches any),
// on the days and between the hours that suit them.
type WaitlistEntry struct {
	ID         uint  `gorm:"primaryKey"`
	PatientID  uint  `gorm:"not null;index"`
	ProviderID *uint `gorm:"index"`
	LocationID *uint
	// AppointmentTypeID is the type of visit wanted; nil matches any.
	AppointmentTypeID *uint
	// Days lists the weekdays that suit, as three-letter English
	// abbreviations separated by spaces ("mon tue fri"); empty means any
	// day. See WaitlistDays.
	Days string `gorm:"size:32;not null;default:''"`
	// FromTime and UntilTime bound the local start times that suit
	// ("09:00" to "12:30", the end excluded); empty means from the start
	// or until the end of the day.
	FromTime  string         `gorm:"size:5;not null;default:''"`
	UntilTime string         `gorm:"size:5;not null;default:''"`
	Notes     string         `gorm:"size:500;not null;default:''"`
	Status    WaitlistStatus `gorm:"size:16;not null;index"`
	// BookedAppointmentID is the appointment a taken offer booked or moved.
	BookedAppointmentID *uint
	CreatedByID         *uint
	CreatedAt           time.Time `gorm:"not null;index"`
	UpdatedAt           time.Time

	Patient  *Patient  `gorm:"foreignKey:PatientID"`
	Provider *Provider `gorm:"foreignKey:ProviderID"`
	Location *Location `gorm:"foreignKey:LocationID"`
}

// WaitlistSlotStatus is where a freed time stands.
type WaitlistSlotStatus string

// Freed time states: being offered (open), booked from the waitlist
// (filled), no longer offered (closed: too close, nobody left, no longer
// free).
const (
	SlotOpen   WaitlistSlotStatus = "open"
	SlotFilled WaitlistSlotStatus = "filled"
	SlotClosed WaitlistSlotStatus = "closed"
)

// WaitlistSlot is a time an appointment freed by being cancelled or moved
// away, offered to the waitlist a batch at a time.
type WaitlistSlot struct {
	ID                 uint  `gorm:"primaryKey"`
	FreedAppointmentID uint  `gorm:"not null;index"`
	LocationID         uint  `gorm:"not null"`
	ProviderID         *uint `gorm:"index"`
	AppointmentTypeID  *uint
	StartsAt           time.Time          `gorm:"not null;index"`
	DurationMinutes    int                `gorm:"not null"`
	Status             WaitlistSlotStatus `gorm:"size:16;not null;index:idx_waitlist_slots_due,priority:1"`
	// Batch is how many batches of offers went out; NextBatchAt is when the
	// next one is due (the previous one's offers expire).
	Batch       int       `gorm:"not null;default:0"`
	NextBatchAt time.Time `gorm:"not null;index:idx_waitlist_slots_due,priority:2"`
	// BookedAppointmentID is the appointment that filled the time.
	BookedAppointmentID *uint
	// Reason says why a closed slot closed, for staff.
	Reason    string `gorm:"size:200;not null;default:''"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// WaitlistOfferStatus is where an offer of a freed time stands.
type WaitlistOfferStatus string

// Waitlist offer states: sent and unanswered (offered), answered YES first
// (taken), answered YES after someone else (too_late), unanswered past its
// time (expired).
const (
	WaitlistOffered WaitlistOfferStatus = "offered"
	WaitlistTaken   WaitlistOfferStatus = "taken"
	WaitlistTooLate WaitlistOfferStatus = "too_late"
	WaitlistExpired WaitlistOfferStatus = "expired"
)

// WaitlistOffer is one SMS offering a freed time to one waitlisted
// patient. At most one offer of a slot is ever taken (a unique index).
type WaitlistOffer struct {
	ID                 uint `gorm:"primaryKey"`
	SlotID             uint `gorm:"not null;index"`
	FreedAppointmentID uint `gorm:"not null;index"`
	WaitlistEntryID    uint `gorm:"not null;index"`
	PatientID          uint `gorm:"not null;index"`
	MessageID          *uint
	SentAt             time.Time           `gorm:"not null;index"`
	ExpiresAt          time.Time           `gorm:"not null"`
	Status             WaitlistOfferStatus `gorm:"size:16;not null"`
	// BookedAppointmentID is the appointment a taken offer booked (or the
	// patient's later one it moved).
	BookedAppointmentID *uint
	// Batch is the number (1-based) of the batch the offer went out in.
	Batch     int `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// LiveAt reports whether the offer can still be answered at now.
func (o *WaitlistOffer) LiveAt(now time.Time) bool {
	return o.Status == WaitlistOffered && now.Before(o.ExpiresAt)
}

// v14WaitlistEntry is the waitlist_entries table as migration 14 creates it.
type v14WaitlistEntry struct {
	ID                  uint      `gorm:"primaryKey"`
	PatientID           uint      `gorm:"not null;index:idx_waitlist_entries_patient_id"`
	ProviderID          *uint     `gorm:"index:idx_waitlist_entries_provider_id"`
	LocationID          *uint     //
	AppointmentTypeID   *uint     //
	Days                string    `gorm:"size:32;not null;default:''"`
	FromTime            string    `gorm:"size:5;not null;default:''"`
	UntilTime           string    `gorm:"size:5;not null;default:''"`
	Notes               string    `gorm:"size:500;not null;default:''"`
	Status              string    `gorm:"size:16;not null;index:idx_waitlist_entries_status"`
	BookedAppointmentID *uint     //
	CreatedByID         *uint     //
	CreatedAt           time.Time `gorm:"not null;index:idx_waitlist_entries_created_at"`
	UpdatedAt           time.Time
}

func (v14WaitlistEntry) TableName() string { return "waitlist_entries" }

// v14WaitlistSlot is the waitlist_slots table as migration 14 creates it.
type v14WaitlistSlot struct {
	ID                  uint      `gorm:"primaryKey"`
	FreedAppointmentID  uint      `gorm:"not null;index:idx_waitlist_slots_freed_appointment_id"`
	LocationID          uint      `gorm:"not null"`
	ProviderID          *uint     `gorm:"index:idx_waitlist_slots_provider_id"`
	AppointmentTypeID   *uint     //
	StartsAt            time.Time `gorm:"not null;index:idx_waitlist_slots_starts_at"`
	DurationMinutes     int       `gorm:"not null"`
	Status              string    `gorm:"size:16;not null;index:idx_waitlist_slots_due,priority:1;index:idx_waitlist_slots_status"`
	Batch               int       `gorm:"not null;default:0"`
	NextBatchAt         time.Time `gorm:"not null;index:idx_waitlist_slots_due,priority:2"`
	BookedAppointmentID *uint     //
	Reason              string    `gorm:"size:200;not null;default:''"`
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

func (v14WaitlistSlot) TableName() string { return "waitlist_slots" }

// v14WaitlistOffer is the waitlist_offers table as migration 14 creates it.
type v14WaitlistOffer struct {
	ID                  uint      `gorm:"primaryKey"`
	SlotID              uint      `gorm:"not null;index:idx_waitlist_offers_slot_id"`
	FreedAppointmentID  uint      `gorm:"not null;index:idx_waitlist_offers_freed_appointment_id"`
	WaitlistEntryID     uint      `gorm:"not null;index:idx_waitlist_offers_waitlist_entry_id"`
	PatientID           uint      `gorm:"not null;index:idx_waitlist_offers_patient_id"`
	MessageID           *uint     //
	SentAt              time.Time `gorm:"not null;index:idx_waitlist_offers_sent_at"`
	ExpiresAt           time.Time `gorm:"not null"`
	Status              string    `gorm:"size:16;not null"`
	BookedAppointmentID *uint     //
	Batch               int       `gorm:"not null"`
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

func (v14WaitlistOffer) TableName() string { return "waitlist_offers" }

// migrateV14 creates the waitlist: its entries, the freed times and the
// offers of them. One offer per slot can ever be taken: the partial unique
// index makes a second taker fail, whatever instance it runs on.
func migrateV14(tx *gorm.DB) error {
	for _, t := range []any{&v14WaitlistEntry{}, &v14WaitlistSlot{}, &v14WaitlistOffer{}} {
		if tx.Migrator().HasTable(t) {
			continue // a database put back to an older version by hand
		}
		if err := tx.Migrator().CreateTable(t); err != nil {
			return err
		}
	}
	return tx.Exec(`CREATE UNIQUE INDEX IF NOT EXISTS idx_waitlist_offers_one_taken
		ON waitlist_offers (slot_id) WHERE status = 'taken'`).Error
}

// CreateWaitlistEntry inserts e.
func (s *Store) CreateWaitlistEntry(ctx context.Context, e *WaitlistEntry) error {
	e.CreatedAt, e.UpdatedAt = DBTime(e.CreatedAt), DBTime(e.UpdatedAt)
	err := s.write(ctx, func(db *gorm.DB) error { return db.Omit("Patient", "Provider", "Location").Create(e).Error })
	if err != nil {
		return fmt.Errorf("store: create waitlist entry: %w", err)
	}
	return nil
}

// WaitlistEntry returns entry id with its Patient, Provider and Location,
// or ErrNotFound.
func (s *Store) WaitlistEntry(ctx context.Context, id uint) (*WaitlistEntry, error) {
	var e WaitlistEntry
	err := s.conn(ctx).Preload("Patient").Preload("Provider").Preload("Location").First(&e, id).Error
	if err != nil {
		return nil, fmt.Errorf("waitlist entry %d: %w", id, Classify(err))
	}
	return &e, nil
}

// WaitlistFilter selects waitlist entries.
type WaitlistFilter struct {
	// PatientID, when set, keeps one patient's entries.
	PatientID uint
	// Statuses, when set, keeps entries in these states.
	Statuses []WaitlistStatus
	// Offset and Limit page the result (Limit 0 means 100).
	Offset, Limit int
}

// WaitlistEntries returns the entries f selects, oldest first (the order
// in which freed times are offered), with Patient, Provider and Location,
// and how many there are in all.
func (s *Store) WaitlistEntries(ctx context.Context, f WaitlistFilter) ([]WaitlistEntry, int64, error) {
	db := s.conn(ctx).Model(&WaitlistEntry{})
	if f.PatientID != 0 {
		db = db.Where("patient_id = ?", f.PatientID)
	}
	if len(f.Statuses) > 0 {
		db = db.Where("status IN ?", f.Statuses)
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("store: waitlist: %w", Classify(err))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []WaitlistEntry
	err := db.Preload("Patient").Preload("Provider").Preload("Location").
		Order("created_at, id").Offset(f.Offset).Limit(f.Limit).Find(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("store: waitlist: %w", Classify(err))
	}
	return out, total, nil
}

// SetWaitlistEntryStatus moves entry id from active to status (with the
// appointment booked, if any), and returns ErrConflict when it is no
// longer active.
func (s *Store) SetWaitlistEntryStatus(ctx context.Context, id uint, status WaitlistStatus, bookedID *uint, now time.Time) error {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&WaitlistEntry{}).Where("id = ? AND status = ?", id, WaitlistActive).
			Updates(map[string]any{"status": status, "booked_appointment_id": bookedID, "updated_at": DBTime(now)})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("store: waitlist entry %d: %w", id, err)
	}
	if n != 1 {
		return fmt.Errorf("waitlist entry %d is no longer on the list: %w", id, ErrConflict)
	}
	return nil
}

// WaitlistCandidates returns the active entries that may suit slot sl, by
// provider, location and type (an entry's nil matches any), whose patient
// can be texted (not opted out, not erased) and who were not offered sl
// yet, nor hold another offer still open at now, oldest first. Days and
// hours are for the caller to check.
func (s *Store) WaitlistCandidates(ctx context.Context, sl *WaitlistSlot, now time.Time) ([]WaitlistEntry, error) {
	db := s.conn(ctx).Model(&WaitlistEntry{}).
		Joins("JOIN patients ON patients.id = waitlist_entries.patient_id").
		Where("waitlist_entries.status = ?", WaitlistActive).
		Where("patients.opted_out_at IS NULL AND patients.erased_at IS NULL").
		Where("waitlist_entries.location_id IS NULL OR waitlist_entries.location_id = ?", sl.LocationID).
		Where("NOT EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.slot_id = ? AND o.waitlist_entry_id = waitlist_entries.id)", sl.ID).
		Where("NOT EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.patient_id = waitlist_entries.patient_id AND o.status = ? AND o.expires_at > ?)",
			WaitlistOffered, now.UTC())
	if sl.ProviderID != nil {
		db = db.Where("waitlist_entries.provider_id IS NULL OR waitlist_entries.provider_id = ?", *sl.ProviderID)
	} else {
		db = db.Where("waitlist_entries.provider_id IS NULL")
	}
	if sl.AppointmentTypeID != nil {
		db = db.Where("waitlist_entries.appointment_type_id IS NULL OR waitlist_entries.appointment_type_id = ?", *sl.AppointmentTypeID)
	} else {
		db = db.Where("waitlist_entries.appointment_type_id IS NULL")
	}
	var out []WaitlistEntry
	err := db.Preload("Patient").Preload("Provider").Preload("Location").
		Order("waitlist_entries.created_at, waitlist_entries.id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: waitlist candidates: %w", Classify(err))
	}
	return out, nil
}

// CreateWaitlistSlot inserts sl.
func (s *Store) CreateWaitlistSlot(ctx context.Context, sl *WaitlistSlot) error {
	sl.StartsAt, sl.NextBatchAt = DBTime(sl.StartsAt), DBTime(sl.NextBatchAt)
	sl.CreatedAt, sl.UpdatedAt = DBTime(sl.CreatedAt), DBTime(sl.UpdatedAt)
	// Past GORM (see execRaw): every cancellation by reply frees a time.
	err := s.write(ctx, func(db *gorm.DB) error {
		var err error
		sl.ID, err = s.insertID(db, `INSERT INTO waitlist_slots (freed_appointment_id, location_id, provider_id,
appointment_type_id, starts_at, duration_minutes, status, batch, next_batch_at, booked_appointment_id, reason, created_at,
updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
			sl.FreedAppointmentID, sl.LocationID, sl.ProviderID, sl.AppointmentTypeID, sl.StartsAt, sl.DurationMinutes,
			string(sl.Status), sl.Batch, sl.NextBatchAt, sl.BookedAppointmentID, sl.Reason, sl.CreatedAt, sl.UpdatedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create waitlist slot: %w", err)
	}
	return nil
}

// WaitlistSlot returns slot id, or ErrNotFound; lock locks its row on
// PostgreSQL.
func (s *Store) WaitlistSlot(ctx context.Context, id uint, lock bool) (*WaitlistSlot, error) {
	return first[WaitlistSlot](ctx, s, "waitlist slot", id, lock)
}

// DueWaitlistSlots returns up to limit open slots whose next batch is due
// at now, oldest due first.
func (s *Store) DueWaitlistSlots(ctx context.Context, now time.Time, limit int) ([]WaitlistSlot, error) {
	var out []WaitlistSlot
	err := s.conn(ctx).Where("status = ? AND next_batch_at <= ?", SlotOpen, now.UTC()).
		Order("next_batch_at, id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: due waitlist slots: %w", Classify(err))
	}
	return out, nil
}

// ScheduleWaitlistSlot records that open slot id sent batch number batch
// and asks again at next.
func (s *Store) ScheduleWaitlistSlot(ctx context.Context, id uint, batch int, next, now time.Time) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Model(&WaitlistSlot{}).Where("id = ? AND status = ?", id, SlotOpen).
			Updates(map[string]any{"batch": batch, "next_batch_at": DBTime(next), "updated_at": DBTime(now)}).Error
	})
	if err != nil {
		return fmt.Errorf("store: waitlist slot %d: %w", id, err)
	}
	return nil
}

// EndWaitlistSlot moves slot id from open to status (filled, with the
// appointment booked, or closed, with the reason), and returns ErrConflict
// when it is no longer open: someone else filled or closed it first.
func (s *Store) EndWaitlistSlot(ctx context.Context, id uint, status WaitlistSlotStatus, bookedID *uint, reason string, now time.Time) error {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&WaitlistSlot{}).Where("id = ? AND status = ?", id, SlotOpen).
			Updates(map[string]any{"status": status, "booked_appointment_id": bookedID, "reason": Clip(reason, 200), "updated_at": DBTime(now)})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("store: waitlist slot %d: %w", id, err)
	}
	if n != 1 {
		return fmt.Errorf("waitlist slot %d is no longer open: %w", id, ErrConflict)
	}
	return nil
}

// CloseWaitlistSlotsOf closes the open slots freed by appointment id, with
// the reason, and reports how many of them had been offered to someone.
func (s *Store) CloseWaitlistSlotsOf(ctx context.Context, appointmentID uint, reason string, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		if err := db.Model(&WaitlistSlot{}).Where("freed_appointment_id = ? AND status = ? AND batch > 0", appointmentID, SlotOpen).
			Count(&n).Error; err != nil {
			return err
		}
		return db.Model(&WaitlistSlot{}).Where("freed_appointment_id = ? AND status = ?", appointmentID, SlotOpen).
			Updates(map[string]any{"status": SlotClosed, "reason": Clip(reason, 200), "updated_at": DBTime(now)}).Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: close waitlist slots of appointment %d: %w", appointmentID, err)
	}
	return n, nil
}

// CreateWaitlistOffer inserts o.
func (s *Store) CreateWaitlistOffer(ctx context.Context, o *WaitlistOffer) error {
	o.SentAt, o.ExpiresAt = DBTime(o.SentAt), DBTime(o.ExpiresAt)
	o.CreatedAt, o.UpdatedAt = DBTime(o.CreatedAt), DBTime(o.UpdatedAt)
	if err := create(ctx, s, o); err != nil {
		return fmt.Errorf("store: create waitlist offer: %w", err)
	}
	return nil
}

// SetWaitlistOfferMessage records the SMS that carried offer id.
func (s *Store) SetWaitlistOfferMessage(ctx context.Context, id, messageID uint) error {
	if err := update[WaitlistOffer](ctx, s, id, map[string]any{"message_id": messageID}); err != nil {
		return fmt.Errorf("store: waitlist offer %d: %w", id, err)
	}
	return nil
}

// LiveWaitlistOffer returns the newest offer to any of patientIDs that is
// still offered and unexpired at now, or ErrNotFound.
func (s *Store) LiveWaitlistOffer(ctx context.Context, patientIDs []uint, now time.Time) (*WaitlistOffer, error) {
	if len(patientIDs) == 0 {
		return nil, fmt.Errorf("live waitlist offer: %w", ErrNotFound)
	}
	var o WaitlistOffer
	err := s.conn(ctx).Where("patient_id IN ? AND status = ? AND expires_at > ?", patientIDs, WaitlistOffered, now.UTC()).
		Order("id DESC").Take(&o).Error
	if err != nil {
		return nil, fmt.Errorf("live waitlist offer: %w", Classify(err))
	}
	return &o, nil
}

// AnswerWaitlistOffer moves offer o from offered to status (taken, with
// the appointment booked, or too_late), and returns ErrConflict when it was
// answered already or, for taken, when another offer of the slot was
// taken first (the unique index).
func (s *Store) AnswerWaitlistOffer(ctx context.Context, o *WaitlistOffer, status WaitlistOfferStatus, bookedID *uint, now time.Time) error {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&WaitlistOffer{}).Where("id = ? AND status = ?", o.ID, WaitlistOffered).
			Updates(map[string]any{"status": status, "booked_appointment_id": bookedID, "updated_at": DBTime(now)})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("store: waitlist offer %d: %w", o.ID, err)
	}
	if n != 1 {
		return fmt.Errorf("waitlist offer %d answered meanwhile: %w", o.ID, ErrConflict)
	}
	o.Status, o.BookedAppointmentID, o.UpdatedAt = status, bookedID, DBTime(now)
	return nil
}

// ExpireStaleWaitlistOffers marks every offer still unanswered past its
// time expired, and returns those it marked. Each row is moved with its own
// guarded update, so an offer answered by a concurrent YES between the read
// and the update (possible on PostgreSQL) is left out, not reported expired.
func (s *Store) ExpireStaleWaitlistOffers(ctx context.Context, now time.Time) ([]WaitlistOffer, error) {
	var out []WaitlistOffer
	err := s.write(ctx, func(db *gorm.DB) error {
		var stale []WaitlistOffer
		if err := db.Where("status = ? AND expires_at <= ?", WaitlistOffered, now.UTC()).Order("id").Limit(500).Find(&stale).Error; err != nil {
			return err
		}
		out = out[:0]
		for _, o := range stale {
			res := db.Model(&WaitlistOffer{}).Where("id = ? AND status = ?", o.ID, WaitlistOffered).
				Updates(map[string]any{"status": WaitlistExpired, "updated_at": DBTime(now)})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				o.Status = WaitlistExpired
				out = append(out, o)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: expire waitlist offers: %w", err)
	}
	return out, nil
}

// WaitlistOfferFilter selects offers: of one freed appointment, or to one
// patient (zero fields select nothing on them).
type WaitlistOfferFilter struct {
	FreedAppointmentID uint
	PatientID          uint
	EntryID            uint
	Limit              int
}

// WaitlistOffers returns the offers f selects, newest first.
func (s *Store) WaitlistOffers(ctx context.Context, f WaitlistOfferFilter) ([]WaitlistOffer, error) {
	db := s.conn(ctx)
	if f.FreedAppointmentID != 0 {
		db = db.Where("freed_appointment_id = ?", f.FreedAppointmentID)
	}
	if f.PatientID != 0 {
		db = db.Where("patient_id = ?", f.PatientID)
	}
	if f.EntryID != 0 {
		db = db.Where("waitlist_entry_id = ?", f.EntryID)
	}
	if f.Limit <= 0 {
		f.Limit = 200
	}
	var out []WaitlistOffer
	if err := db.Order("id DESC").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: waitlist offers: %w", Classify(err))
	}
	return out, nil
}

// RefilledSlots counts the freed times filled from the waitlist whose start
// is in [from, to), at locationID when it is not 0.
func (s *Store) RefilledSlots(ctx context.Context, from, to time.Time, locationID uint) (int64, error) {
	q := "status = ? AND starts_at >= ? AND starts_at < ?"
	args := []any{SlotFilled, from.UTC(), to.UTC()}
	if locationID != 0 {
		q += " AND location_id = ?"
		args = append(args, locationID)
	}
	n, err := count[WaitlistSlot](ctx, s, q, args...)
	if err != nil {
		return 0, fmt.Errorf("store: refilled slots: %w", err)
	}
	return n, nil
}

// Waitlist domain events: a time freed by a cancellation or a move
// (AppointmentID is the appointment that freed it, DueAt the time), and an
// offer of a freed time sent, answered or expired (Status is the offer's).
const (
	EventSlotFreed     = "waitlist.slot_freed"
	EventWaitlistOffer = "waitlist.offer"
)

// Waitlist message kinds (texts.KindWaitlist*): the offer of a freed time,
// its confirmation to the first YES, and the apology to a later one.
const (
	KindWaitlistOffer  = "waitlist_offer"
	KindWaitlistBooked = "waitlist_booked"
	KindWaitlistTaken  = "waitlist_taken"
)

// AskedAfter reports whether a message of one of kinds about one of the
// appointments ids left us for number after t: a question newer than t.
func (s *Store) AskedAfter(ctx context.Context, number string, ids []uint, kinds []string, t time.Time) (bool, error) {
	if number == "" || len(ids) == 0 {
		return false, nil
	}
	db := s.conn(ctx)
	var msgs []Message
	err := db.Where(toNumber(number)).
		Where("appointment_id IN ? AND kind IN ?", ids, kinds).
		Where(db.Where("sent_at IS NOT NULL").Or("status IN ?", sentStatuses)).
		Find(&msgs).Error
	if err != nil {
		return false, fmt.Errorf("store: questions asked after: %w", Classify(err))
	}
	for _, m := range msgs {
		at := m.SendAt
		if m.SentAt != nil {
			at = *m.SentAt
		}
		if at.After(t) {
			return true, nil
		}
	}
	return false, nil
}

// WaitlistSlotsOf returns the slots freed by appointment id, oldest first,
// locking their rows on PostgreSQL.
func (s *Store) WaitlistSlotsOf(ctx context.Context, appointmentID uint) ([]WaitlistSlot, error) {
	var out []WaitlistSlot
	err := s.conn(ctx).Scopes(s.forUpdate).Where("freed_appointment_id = ?", appointmentID).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: waitlist slots of appointment %d: %w", appointmentID, Classify(err))
	}
	return out, nil
}

// ExpireWaitlistOffersOfEntry marks the unanswered offers made to entry id
// expired, so that no YES can book them, and reports how many there were.
func (s *Store) ExpireWaitlistOffersOfEntry(ctx context.Context, id uint, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&WaitlistOffer{}).Where("waitlist_entry_id = ? AND status = ?", id, WaitlistOffered).
			Updates(map[string]any{"status": WaitlistExpired, "updated_at": DBTime(now)})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: expire offers of waitlist entry %d: %w", id, err)
	}
	return n, nil
}

// WaitlistOffer returns offer id, or ErrNotFound.
func (s *Store) WaitlistOffer(ctx context.Context, id uint) (*WaitlistOffer, error) {
	return first[WaitlistOffer](ctx, s, "waitlist offer", id, false)
}
