package models

import "time"

// The schema as migration 1 created it. These copies are frozen: later
// migrations change the schema with copies of their own, so that migration 1
// creates the same tables whatever the live structs look like today.

type v1User struct {
	ID           uint   `gorm:"primaryKey"`
	Email        string `gorm:"size:254;not null;uniqueIndex"`
	Name         string `gorm:"size:200;not null"`
	PasswordHash string `gorm:"size:200;not null"`
	Role         string `gorm:"size:16;not null"`
	Disabled     bool   `gorm:"not null;default:false"`
	SessionEpoch int    `gorm:"not null;default:0"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (v1User) TableName() string { return "users" }

type v1Session struct {
	Token  string    `gorm:"primaryKey;size:64"`
	Data   []byte    `gorm:"not null"`
	Expiry time.Time `gorm:"not null;index"`
}

func (v1Session) TableName() string { return "sessions" }

type v1Location struct {
	ID         uint   `gorm:"primaryKey"`
	Name       string `gorm:"size:200;not null;uniqueIndex"`
	TimeZone   string `gorm:"size:64;not null"`
	Country    string `gorm:"size:2;not null"`
	Address    string `gorm:"size:300;not null;default:''"`
	Phone      string `gorm:"size:32;not null;default:''"`
	QuietStart string `gorm:"size:5;not null;default:''"`
	QuietEnd   string `gorm:"size:5;not null;default:''"`
	IsDefault  bool   `gorm:"not null;default:false"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (v1Location) TableName() string { return "locations" }

type v1Provider struct {
	ID         uint   `gorm:"primaryKey"`
	Name       string `gorm:"size:200;not null"`
	LocationID *uint  `gorm:"index"`
	Active     bool   `gorm:"not null;default:true"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (v1Provider) TableName() string { return "providers" }

type v1Patient struct {
	ID           uint   `gorm:"primaryKey"`
	FirstName    string `gorm:"size:100;not null"`
	LastName     string `gorm:"size:100;not null;default:''"`
	Phone        string `gorm:"size:20;not null;index"`
	Language     string `gorm:"size:8;not null;default:'en'"`
	OptedOutAt   *time.Time
	OptOutSource string `gorm:"size:32;not null;default:''"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (v1Patient) TableName() string { return "patients" }

type v1Appointment struct {
	ID              uint        `gorm:"primaryKey"`
	PatientID       uint        `gorm:"not null;index"`
	Patient         *v1Patient  `gorm:"constraint:OnDelete:RESTRICT"`
	LocationID      uint        `gorm:"not null;index:idx_appointments_location_start,priority:1"`
	Location        *v1Location `gorm:"constraint:OnDelete:RESTRICT"`
	ProviderID      *uint       `gorm:"index"`
	Provider        *v1Provider `gorm:"constraint:OnDelete:SET NULL"`
	StartsAt        time.Time   `gorm:"not null;index;index:idx_appointments_location_start,priority:2;index:idx_appointments_status_start,priority:2"`
	DurationMinutes int         `gorm:"not null"`
	Notes           string      `gorm:"size:2000;not null;default:''"`
	Status          string      `gorm:"size:16;not null;index:idx_appointments_status_start,priority:1"`
	ConfirmedAt     *time.Time
	CancelledAt     *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (v1Appointment) TableName() string { return "appointments" }

type v1MessageTemplate struct {
	Key       string `gorm:"primaryKey;size:40"`
	Body      string `gorm:"size:1600;not null"`
	UpdatedAt time.Time
}

func (v1MessageTemplate) TableName() string { return "message_templates" }

type v1Message struct {
	ID            uint       `gorm:"primaryKey"`
	UUID          string     `gorm:"size:36;not null;uniqueIndex"`
	AppointmentID *uint      `gorm:"index"`
	PatientID     *uint      `gorm:"index"`
	RuleID        *uint      `gorm:"index"`
	RuleName      string     `gorm:"size:100;not null;default:''"`
	Kind          string     `gorm:"size:32;not null"`
	To            string     `gorm:"size:20;not null;index"`
	Body          string     `gorm:"size:1600;not null;default:''"`
	Status        string     `gorm:"size:16;not null;index:idx_messages_status_send,priority:1"`
	SendAt        time.Time  `gorm:"not null;index:idx_messages_status_send,priority:2"`
	Reason        string     `gorm:"size:500;not null;default:''"`
	Attempts      int        `gorm:"not null;default:0"`
	LeaseUntil    *time.Time `gorm:"index"`
	SentAt        *time.Time
	DeliveredAt   *time.Time
	ProviderID    string  `gorm:"column:provider_message_id;size:36;index"`
	CampaignID    string  `gorm:"size:36;not null;default:'';index"`
	Parts         int     `gorm:"not null;default:0"`
	Cost          float64 `gorm:"not null;default:0"`
	ProviderState string  `gorm:"size:16;not null;default:''"`
	ErrorCode     *int
	CreatedByID   *uint
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (v1Message) TableName() string { return "messages" }

type v1InboundMessage struct {
	ID             uint   `gorm:"primaryKey"`
	ProviderID     string `gorm:"column:provider_message_id;size:64;not null;uniqueIndex"`
	From           string `gorm:"size:32;not null;index"`
	To             string `gorm:"size:32;not null;default:''"`
	Text           string `gorm:"size:2000;not null"`
	ReceivedAt     time.Time
	PatientID      *uint  `gorm:"index"`
	AppointmentID  *uint  `gorm:"index"`
	Intent         string `gorm:"size:16;not null;default:''"`
	Candidates     string `gorm:"size:200;not null;default:''"`
	NeedsAttention bool   `gorm:"not null;default:false;index"`
	HandledByID    *uint
	HandledAt      *time.Time
	HandledNote    string `gorm:"size:300;not null;default:''"`
	CreatedAt      time.Time
}

func (v1InboundMessage) TableName() string { return "inbound_messages" }

type v1WebhookEvent struct {
	ID          uint       `gorm:"primaryKey"`
	Event       string     `gorm:"size:40;not null;index"`
	DedupKey    string     `gorm:"size:200;not null;uniqueIndex"`
	Raw         string     `gorm:"type:text;not null"`
	ReceivedAt  time.Time  `gorm:"not null;index"`
	ProcessedAt *time.Time `gorm:"index"`
	Attempts    int        `gorm:"not null;default:0"`
	Result      string     `gorm:"size:300;not null;default:''"`
	Flagged     bool       `gorm:"not null;default:false"`
}

func (v1WebhookEvent) TableName() string { return "webhook_events" }

type v1TimelineEntry struct {
	ID            uint      `gorm:"primaryKey"`
	AppointmentID uint      `gorm:"not null;index:idx_timeline_appt_at,priority:1"`
	At            time.Time `gorm:"not null;index:idx_timeline_appt_at,priority:2"`
	Kind          string    `gorm:"size:16;not null"`
	Detail        string    `gorm:"size:1000;not null"`
	MessageID     *uint
	UserID        *uint
}

func (v1TimelineEntry) TableName() string { return "timeline_entries" }

type v1APIToken struct {
	ID          uint   `gorm:"primaryKey"`
	Name        string `gorm:"size:100;not null"`
	Prefix      string `gorm:"size:16;not null"`
	Hash        string `gorm:"size:64;not null;uniqueIndex"`
	CreatedByID *uint
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}

func (v1APIToken) TableName() string { return "api_tokens" }

type v1Setting struct {
	Key   string `gorm:"primaryKey;size:64"`
	Value string `gorm:"size:500;not null"`
}

func (v1Setting) TableName() string { return "settings" }

type v1ReminderRule struct {
	ID                uint   `gorm:"primaryKey"`
	Name              string `gorm:"size:100;not null;uniqueIndex"`
	BeforeSeconds     int64  `gorm:"not null"`
	Template          string `gorm:"size:1600;not null"`
	OnlyIfUnconfirmed bool   `gorm:"not null;default:false"`
	Enabled           bool   `gorm:"not null;default:true"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (v1ReminderRule) TableName() string { return "reminder_rules" }

type v1AuditEntry struct {
	ID       uint      `gorm:"primaryKey"`
	At       time.Time `gorm:"not null;index"`
	UserID   *uint     `gorm:"index"`
	Actor    string    `gorm:"size:254;not null"`
	Action   string    `gorm:"size:64;not null"`
	Entity   string    `gorm:"size:32;not null"`
	EntityID uint      `gorm:"not null"`
	Detail   string    `gorm:"size:1000;not null;default:''"`
}

func (v1AuditEntry) TableName() string { return "audit_entries" }
