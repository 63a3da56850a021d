// Package models holds apptconfirm's persistent types, their state machines
// and the Store that reads and writes them through GORM. It imports nothing
// from app/.
package models

import (
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// Role is what a user may do.
type Role string

// Roles.
const (
	RoleAdmin Role = "admin"
	RoleStaff Role = "staff"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleStaff }

// User is a person who logs in: staff or admin.
type User struct {
	ID           uint   `gorm:"primaryKey"`
	Email        string `gorm:"size:254;not null;uniqueIndex"`
	Name         string `gorm:"size:200;not null"`
	PasswordHash string `gorm:"size:200;not null"`
	Role         Role   `gorm:"size:16;not null"`
	Disabled     bool   `gorm:"not null;default:false"`
	// SessionEpoch is bumped to end every session of the user at once
	// (logout everywhere, disabling, password change).
	SessionEpoch int `gorm:"not null;default:0"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// IsAdmin reports whether the user has admin rights.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Session is one server-side web session (alexedwards/scs data).
type Session struct {
	Token  string    `gorm:"primaryKey;size:64"`
	Data   []byte    `gorm:"not null"`
	Expiry time.Time `gorm:"not null;index"`
}

// Location is a place where appointments happen, with its own time zone,
// phone region and quiet hours.
type Location struct {
	ID       uint   `gorm:"primaryKey"`
	Name     string `gorm:"size:200;not null;uniqueIndex"`
	TimeZone string `gorm:"size:64;not null"`
	Country  string `gorm:"size:2;not null"`
	Address  string `gorm:"size:300;not null;default:''"`
	Phone    string `gorm:"size:32;not null;default:''"`
	// QuietStart and QuietEnd are local "HH:MM"; both empty means no quiet hours.
	QuietStart string `gorm:"size:5;not null;default:''"`
	QuietEnd   string `gorm:"size:5;not null;default:''"`
	IsDefault  bool   `gorm:"not null;default:false"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Zone returns the location's time zone, or UTC if it cannot be loaded
// (locations are validated when saved, so that is only a safety net).
// Zones are loaded once per name: loading reads and parses the zone
// database, which an import would otherwise do for every row.
func (l *Location) Zone() *time.Location {
	if z, ok := zones.Load(l.TimeZone); ok {
		return z.(*time.Location)
	}
	z, err := time.LoadLocation(l.TimeZone)
	if err != nil {
		return time.UTC
	}
	zones.Store(l.TimeZone, z)
	return z
}

// zones caches the loaded time zones by name.
var zones sync.Map

// Provider is a clinician whom appointments may be booked with.
type Provider struct {
	ID         uint   `gorm:"primaryKey"`
	Name       string `gorm:"size:200;not null"`
	LocationID *uint  `gorm:"index"`
	Active     bool   `gorm:"not null;default:true"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Patient is a person who receives SMS; never logs in.
type Patient struct {
	ID        uint   `gorm:"primaryKey"`
	FirstName string `gorm:"size:100;not null"`
	LastName  string `gorm:"size:100;not null;default:''"`
	// Phone is E.164, validated with nyaruka/phonenumbers.
	Phone    string `gorm:"size:20;not null;index"`
	Language string `gorm:"size:8;not null;default:'en'"`
	// OptedOutAt is set while the patient is opted out; OptOutSource says how
	// ("sms_stop", "smscx_link", "smscx_admin", "rejected", "staff").
	OptedOutAt   *time.Time
	OptOutSource string `gorm:"size:32;not null;default:''"`
	// ErasedAt is set when the patient was erased: the row stays, emptied
	// of everything that identified them, so that the appointments (and
	// the clinic's figures) keep their patient; the store reads it as
	// gone.
	ErasedAt *time.Time
	// ExternalID is the patient's id in the clinic's other system (a
	// record number), unique among patients; empty when there is none.
	ExternalID string `gorm:"size:100;not null;default:''"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ErasedName is what an erased patient is called.
const ErasedName = "Erased patient"

// Name is the patient's full name.
func (p *Patient) Name() string {
	if p.ErasedAt != nil {
		return ErasedName
	}
	if p.LastName == "" {
		return p.FirstName
	}
	return p.FirstName + " " + p.LastName
}

// OptedOut reports whether the patient must not be sent anything.
func (p *Patient) OptedOut() bool { return p.OptedOutAt != nil }

// Appointment is one booked visit.
type Appointment struct {
	ID              uint              `gorm:"primaryKey"`
	PatientID       uint              `gorm:"not null;index"`
	Patient         *Patient          `gorm:"constraint:OnDelete:RESTRICT"`
	LocationID      uint              `gorm:"not null;index:idx_appointments_location_start,priority:1"`
	Location        *Location         `gorm:"constraint:OnDelete:RESTRICT"`
	ProviderID      *uint             `gorm:"index"`
	Provider        *Provider         `gorm:"constraint:OnDelete:SET NULL"`
	StartsAt        time.Time         `gorm:"not null;index;index:idx_appointments_location_start,priority:2;index:idx_appointments_status_start,priority:2"`
	DurationMinutes int               `gorm:"not null"`
	Notes           string            `gorm:"size:2000;not null;default:''"`
	Status          AppointmentStatus `gorm:"size:24;not null;index:idx_appointments_status_start,priority:1"`
	ConfirmedAt     *time.Time
	CancelledAt     *time.Time
	// ExternalID is the appointment's id in the clinic's other system,
	// unique among appointments; empty when there is none. Imports and
	// the upsert endpoint find appointments by it.
	ExternalID string `gorm:"size:100;not null;default:''"`
	// AppointmentTypeID is the kind of visit (appointment_types.go); nil
	// when the appointment has none.
	AppointmentTypeID *uint            `gorm:"index"`
	AppointmentType   *AppointmentType `gorm:"constraint:OnDelete:SET NULL"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// EndsAt is the end of the appointment.
func (a *Appointment) EndsAt() time.Time {
	return a.StartsAt.Add(time.Duration(a.DurationMinutes) * time.Minute)
}

// ReminderRule says when a reminder goes out; what it says, in each
// language, is in RuleTemplate.
type ReminderRule struct {
	ID                uint   `gorm:"primaryKey"`
	Name              string `gorm:"size:100;not null;uniqueIndex"`
	BeforeSeconds     int64  `gorm:"not null"`
	OnlyIfUnconfirmed bool   `gorm:"not null;default:false"`
	Enabled           bool   `gorm:"not null;default:true"`
	// Timing, scope and signal: see rule_timing.go.
	Timing       string `gorm:"size:16;not null;default:'before'"`
	DaysBefore   int    `gorm:"not null;default:0"`
	LocalTime    string `gorm:"size:5;not null;default:''"`
	AfterRuleID  *uint
	AfterSeconds int64  `gorm:"not null;default:0"`
	Signal       string `gorm:"size:24;not null;default:''"`
	TypeIDs      IDList `gorm:"size:500;not null;default:''"`
	LocationIDs  IDList `gorm:"size:500;not null;default:''"`
	ProviderIDs  IDList `gorm:"size:500;not null;default:''"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Before is how long before the start the reminder goes out.
func (r *ReminderRule) Before() time.Duration { return time.Duration(r.BeforeSeconds) * time.Second }

// MessageTemplate is the clinic's text of one kind of message other than a
// reminder (acknowledgements, help, notices, the numbered question, the
// inbox's quick answers) in one language. A kind has one row per language
// it has a text in; a language without a row falls back to the clinic's
// default language.
type MessageTemplate struct {
	Key string `gorm:"primaryKey;size:40"`
	// Language is a language code: "en", "fr", "es", "de", "nl", "pt", "it".
	Language  string `gorm:"primaryKey;size:8"`
	Body      string `gorm:"size:1600;not null"`
	UpdatedAt time.Time
}

// RuleTemplate is a reminder rule's text in one language; a language
// without a row falls back to the clinic's default language.
type RuleTemplate struct {
	RuleID    uint   `gorm:"primaryKey;autoIncrement:false"`
	Language  string `gorm:"primaryKey;size:8"`
	Body      string `gorm:"size:1600;not null"`
	UpdatedAt time.Time
}

// Message kinds.
const (
	KindReminder       = "reminder"
	KindBookingConfirm = "booking_confirmation"
	KindCancellation   = "cancellation_notice"
	KindAckConfirm     = "ack_confirm"
	KindAckCancel      = "ack_cancel"
	KindOptOutAck      = "optout_ack"
	KindOptInAck       = "optin_ack"
	KindHelp           = "help"
	KindQuestion       = "question"
	KindManual         = "manual"
	KindTest           = "test"
)

// KindRescheduleNotice tells the patient that staff or the API moved the
// appointment.
const KindRescheduleNotice = "reschedule_notice"

// The messages of a patient's request for another time: its
// acknowledgement, the numbered offer of new times, the confirmation of
// the time picked, and the apology with fresh times when the picked one
// was taken meanwhile.
const (
	KindRescheduleAck   = "reschedule_ack"
	KindRescheduleOffer = "reschedule_offer"
	KindRescheduled     = "rescheduled"
	KindOfferTaken      = "offer_taken"
)

// Message is one outbound SMS, from planning to its final delivery report.
type Message struct {
	ID            uint          `gorm:"primaryKey"`
	UUID          string        `gorm:"size:36;not null;uniqueIndex"`
	AppointmentID *uint         // indexed first in idx_messages_appt_status_kind_sent (migration 2)
	PatientID     *uint         `gorm:"index"`
	RuleID        *uint         `gorm:"index"`
	RuleName      string        `gorm:"size:100;not null;default:''"`
	Kind          string        `gorm:"size:32;not null"`
	To            string        `gorm:"size:20;not null;index"` // ("to", id) on PostgreSQL (migrations 24-25)
	Body          string        `gorm:"size:1600;not null;default:''"`
	Status        MessageStatus `gorm:"size:16;not null;index:idx_messages_status_send,priority:1"`
	SendAt        time.Time     `gorm:"not null;index:idx_messages_status_send,priority:2"`
	// Reason says why a message was skipped, cancelled or failed, in words staff can read.
	Reason string `gorm:"size:500;not null;default:''"`
	// PlannedBecause says why the message was planned: the rule and the
	// condition ("Reminder '48 h before' (type Check-up, Paris)").
	PlannedBecause string     `gorm:"size:300;not null;default:''"`
	Attempts       int        `gorm:"not null;default:0"`
	LeaseUntil     *time.Time `gorm:"index"`
	SentAt         *time.Time
	DeliveredAt    *time.Time
	ProviderID     string  `gorm:"column:provider_message_id;size:36;index"`
	CampaignID     string  `gorm:"size:36;not null;default:'';index"`
	Parts          int     `gorm:"not null;default:0"`
	Cost           float64 `gorm:"not null;default:0"`
	ProviderState  string  `gorm:"size:16;not null;default:''"`
	ErrorCode      *int
	CreatedByID    *uint
	// InDoubt marks a message that may have reached SMS.CX without its
	// answer reaching us: it was claimed for a send whose outcome is not
	// recorded yet, or its last try ended in a timeout, a dropped
	// connection or a server error. Taken up again, it is resent with the
	// same idempotencyId before anything else is decided about it.
	InDoubt   bool `gorm:"not null;default:false"`
	CreatedAt time.Time
	UpdatedAt time.Time

	// Language is the language of Body once written ("" for a text typed
	// by staff); FallbackFrom is the patient's language when the clinic had
	// no text in it and Language is the clinic's default instead.
	Language     string `gorm:"size:8;not null;default:''"`
	FallbackFrom string `gorm:"size:8;not null;default:''"`
	// MovedFrom is the time the message was due before quiet hours moved
	// it to SendAt, and MoveReason says where to and why ("moved to 08:00,
	// after quiet hours"); both empty when it was not moved.
	MovedFrom  *time.Time
	MoveReason string `gorm:"size:200;not null;default:''"`
}

// InboundMessage is one SMS a patient (or anyone) sent us.
type InboundMessage struct {
	ID            uint   `gorm:"primaryKey"`
	ProviderID    string `gorm:"column:provider_message_id;size:64;not null;uniqueIndex"`
	From          string `gorm:"size:32;not null;index"`
	To            string `gorm:"size:32;not null;default:''"`
	Text          string `gorm:"size:2000;not null"`
	ReceivedAt    time.Time
	PatientID     *uint  `gorm:"index"`
	AppointmentID *uint  `gorm:"index"`
	Intent        string `gorm:"size:16;not null;default:''"`
	// Candidates lists the appointment ids that were awaiting an answer, comma-separated.
	Candidates     string `gorm:"size:200;not null;default:''"`
	NeedsAttention bool   `gorm:"not null;default:false;index"`
	HandledByID    *uint
	HandledAt      *time.Time
	HandledNote    string `gorm:"size:300;not null;default:''"`
	CreatedAt      time.Time
}

// WebhookEvent is one item of an SMS.CX callback, stored before it is processed.
type WebhookEvent struct {
	ID    uint   `gorm:"primaryKey"`
	Event string `gorm:"size:40;not null"`
	// DedupKey is DedupKey of the item's de-duplication name.
	DedupKey    string     `gorm:"size:200;not null;uniqueIndex"`
	Raw         string     `gorm:"type:text;not null"`
	ReceivedAt  time.Time  `gorm:"not null"`
	ProcessedAt *time.Time `gorm:"index"` // pending by id, processed by processed_at (migrations 22-23)
	Attempts    int        `gorm:"not null;default:0"`
	// Result is what processing did or why it could not ("applied", "unmatched", ...).
	Result  string `gorm:"size:300;not null;default:''"`
	Flagged bool   `gorm:"not null;default:false"`
}

// AuditEntry records who changed what.
type AuditEntry struct {
	ID       uint      `gorm:"primaryKey"`
	At       time.Time `gorm:"not null;index"`
	UserID   *uint     `gorm:"index"`
	Actor    string    `gorm:"size:254;not null"`
	Action   string    `gorm:"size:64;not null"`
	Entity   string    `gorm:"size:32;not null"`
	EntityID uint      `gorm:"not null"`
	Detail   string    `gorm:"size:1000;not null;default:''"`
}

// Timeline kinds.
const (
	TimelineStaff    = "staff"
	TimelineMessage  = "message"
	TimelineDelivery = "delivery"
	TimelineReply    = "reply"
	TimelineOptOut   = "opt_out"
	TimelineClick    = "click"
	TimelineOpen     = "open"
	TimelineSystem   = "system"
)

// TimelineEntry is one line of an appointment's story.
type TimelineEntry struct {
	ID            uint      `gorm:"primaryKey"`
	AppointmentID uint      `gorm:"not null;index:idx_timeline_appt_at,priority:1"`
	At            time.Time `gorm:"not null;index:idx_timeline_appt_at,priority:2"`
	Kind          string    `gorm:"size:16;not null"`
	Detail        string    `gorm:"size:1000;not null"`
	MessageID     *uint
	UserID        *uint
}

// APIToken is a bearer token for the REST API; only its hash is kept.
type APIToken struct {
	ID          uint   `gorm:"primaryKey"`
	Name        string `gorm:"size:100;not null"`
	Prefix      string `gorm:"size:16;not null"`
	Hash        string `gorm:"size:64;not null;uniqueIndex"`
	CreatedByID *uint
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
	// Scope is ScopeRead or ScopeReadWrite (tokens made before scopes
	// existed are read-write).
	Scope string `gorm:"size:16;not null;default:'read_write'"`
	// ExpiresAt, when set, is when the token stops working.
	ExpiresAt *time.Time
}

// API token scopes: a read-only token may only read (GET and HEAD); a
// read-write token may also change things.
const (
	ScopeRead      = "read"
	ScopeReadWrite = "read_write"
)

// ValidScope reports whether s is a known token scope.
func ValidScope(s string) bool { return s == ScopeRead || s == ScopeReadWrite }

// Expired reports whether the token has an expiry and it has passed at now.
func (t *APIToken) Expired(now time.Time) bool {
	return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)
}

// Setting is a value the application keeps for itself (the generated webhook secret).
type Setting struct {
	Key   string `gorm:"primaryKey;size:64"`
	Value string `gorm:"size:500;not null"`
}

// DedupKey is the stored form of a webhook item's de-duplication name (such
// as "dlr_update:<msgId>:<status>"): the first 128 bits of the name's
// SHA-256, in unpadded base64url, 22 characters. Every callback inserts
// into the unique index of these keys at a random place; an index entry of
// a key takes about half the bytes of one of a name, so the index has half
// the pages and a group commit writes fewer of them (BENCHMARKS.md, P1).
// Two names sharing a key would need some 2^64 stored events. A key never
// contains ':', which tells it from a name stored before schema version 3.
// The format is stored: changing it needs a migration like version 3's.
func DedupKey(name string) string {
	sum := sha256.Sum256([]byte(name))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
