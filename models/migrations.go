package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// migration is one numbered schema change. Each runs in its own transaction.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB) error
}

// migrations is the ordered list of schema changes. Append only: never edit
// or reorder a migration that has shipped.
var migrations = []migration{
	{1, "initial schema", func(tx *gorm.DB) error {
		if err := tx.Migrator().CreateTable(
			&v1User{}, &v1Session{}, &v1Location{}, &v1Provider{}, &v1Patient{},
			&v1Appointment{}, &v1ReminderRule{}, &v1MessageTemplate{}, &v1Message{},
			&v1InboundMessage{}, &v1WebhookEvent{}, &v1AuditEntry{}, &v1TimelineEntry{},
			&v1APIToken{}, &v1Setting{},
		); err != nil {
			return err
		}
		// One pending message per appointment and rule: replanning can never
		// leave two live copies of the same reminder.
		return tx.Exec(`CREATE UNIQUE INDEX idx_messages_one_pending_per_rule
			ON messages (appointment_id, rule_id) WHERE status IN ('planned', 'sending') AND rule_id IS NOT NULL`).Error
	}},
	{2, "covering index for the dashboard's message counts", func(tx *gorm.DB) error {
		// The dashboard counts messages per state for the appointments of a
		// range; with these columns in the index it never reads the table.
		// It starts with appointment_id, so the single-column index is
		// redundant: dropping it also keeps SQLite's planner from
		// preferring it.
		if err := tx.Exec(`CREATE INDEX idx_messages_appt_status_kind_sent
			ON messages (appointment_id, status, kind, sent_at)`).Error; err != nil {
			return err
		}
		return tx.Exec(`DROP INDEX idx_messages_appointment_id`).Error
	}},
	{3, "webhook de-duplication keys stored as 22-character hashes", func(tx *gorm.DB) error {
		// Each stored name becomes its DedupKey, so that an event retried
		// after the upgrade still finds its copy. Every name contains ':'
		// and no key does, so the rewrite cannot collide with itself, and
		// a key is never hashed twice.
		if tx.Name() == DriverPostgres {
			// An instance still running the old version waits until the
			// rewrite commits rather than slipping a name past it. One
			// statement does the rewrite: DedupKey in SQL (sha256 needs
			// PostgreSQL 11).
			if err := tx.Exec("LOCK TABLE webhook_events IN SHARE ROW EXCLUSIVE MODE").Error; err != nil {
				return err
			}
			return tx.Exec(`UPDATE webhook_events
				SET dedup_key = translate(rtrim(encode(substring(sha256(convert_to(dedup_key, 'UTF8')) FROM 1 FOR 16), 'base64'), '='), '+/', '-_')
				WHERE strpos(dedup_key, ':') > 0`).Error
		}
		var last uint
		for {
			var page []struct {
				ID       uint
				DedupKey string
			}
			err := tx.Table("webhook_events").Select("id", "dedup_key").
				Where("id > ?", last).Order("id").Limit(1000).Scan(&page).Error
			if err != nil || len(page) == 0 {
				return err
			}
			for _, r := range page {
				if !strings.Contains(r.DedupKey, ":") {
					continue
				}
				err := tx.Exec("UPDATE webhook_events SET dedup_key = ? WHERE id = ?", DedupKey(r.DedupKey), r.ID).Error
				if err != nil {
					return err
				}
			}
			last = page[len(page)-1].ID
		}
	}},
	{4, "domain events", func(tx *gorm.DB) error {
		return tx.Migrator().CreateTable(&v4Event{})
	}},
	{5, "API token scopes and expiry; messages in doubt", func(tx *gorm.DB) error {
		// Tokens made before keep the power they had: read-write.
		if err := addColumns(tx, &v5APIToken{}, "Scope", "ExpiresAt"); err != nil {
			return err
		}
		if err := addColumns(tx, &v5Message{}, "InDoubt"); err != nil {
			return err
		}
		// A message sending when the upgrade runs may be mid-send.
		return tx.Exec("UPDATE messages SET in_doubt = ? WHERE status = 'sending'", true).Error
	}},
	{6, "patient erasure", func(tx *gorm.DB) error {
		return addColumns(tx, &v6Patient{}, "ErasedAt")
	}},
	{7, "texts per language; messages record their language and quiet-hours moves", migrateV7},
	{8, "suppression list of opted-out numbers, as keyed hashes", func(tx *gorm.DB) error {
		if tx.Migrator().HasTable(&v8SuppressedNumber{}) {
			return nil
		}
		return tx.Migrator().CreateTable(&v8SuppressedNumber{})
	}},
	{9, "external ids of appointments and patients; calendar feeds", migrateV9},
	{10, "outbound webhooks: endpoints and deliveries", migrateV10},
	{11, "working hours of providers and locations", func(tx *gorm.DB) error {
		if tx.Migrator().HasTable(&v11WorkingHours{}) {
			return nil // a database put back to an older version by hand
		}
		return tx.Migrator().CreateTable(&v11WorkingHours{})
	}},
	{12, "requests for another time and offers of new times", func(tx *gorm.DB) error {
		// "reschedule_requested" is longer than the 16 characters the
		// status column had; SQLite does not enforce a length.
		if tx.Name() == DriverPostgres {
			if err := tx.Exec("ALTER TABLE appointments ALTER COLUMN status TYPE varchar(24)").Error; err != nil {
				return err
			}
		}
		if tx.Migrator().HasTable(&v12RescheduleOffer{}) {
			return nil // a database put back to an older version by hand
		}
		return tx.Migrator().CreateTable(&v12RescheduleOffer{})
	}},
	{13, "appointment types; scoped, fixed-time and nudge reminder rules", migrateV13},
	{14, "waitlist: entries, freed times and offers of them", migrateV14},
	{16, "analytics: indexes for the attributed reminder and moves", migrateV16},
	{17, "import jobs' progress, kept across restarts", migrateV17},
	{20, "analytics: per-day summary, its members, dirty days and watermark", migrateV20},
	{21, "webhook events without the event and received_at indexes", migrateV21},
	{22, "webhook events: pending ones indexed by id; processed_at for processed ones built", migrateV22},
	{23, "webhook events: the processed-only processed_at index swapped in (PostgreSQL)", migrateV23},
	{24, "messages by number, then id: built (PostgreSQL)", migrateV24},
	{25, "messages by number, then id: swapped in (PostgreSQL)", migrateV25},
}

// v8SuppressedNumber is SuppressedNumber as migration 8 created it.
type v8SuppressedNumber struct {
	Hash      string    `gorm:"primaryKey;size:64"`
	Source    string    `gorm:"size:32;not null;default:''"`
	CreatedAt time.Time `gorm:"not null"`
}

func (v8SuppressedNumber) TableName() string { return "suppressed_numbers" }

// addColumns adds the named fields of model's frozen struct as columns,
// skipping a column already there (a database put back to an older
// version by hand, with the column left behind).
func addColumns(tx *gorm.DB, model any, fields ...string) error {
	for _, f := range fields {
		if tx.Migrator().HasColumn(model, f) {
			continue
		}
		if err := tx.Migrator().AddColumn(model, f); err != nil {
			return err
		}
	}
	return nil
}

// v12RescheduleOffer is the reschedule_offers table as migration 12
// creates it.
type v12RescheduleOffer struct {
	ID            uint   `gorm:"primaryKey"`
	AppointmentID uint   `gorm:"not null;index:idx_reschedule_offers_appointment_id"`
	PatientID     uint   `gorm:"not null;index:idx_reschedule_offers_patient_id"`
	Starts        string `gorm:"size:200;not null"`
	Status        string `gorm:"size:16;not null"`
	Picked        int    `gorm:"not null;default:0"`
	MessageID     *uint
	CreatedByID   *uint
	ExpiresAt     time.Time `gorm:"not null"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (v12RescheduleOffer) TableName() string { return "reschedule_offers" }

// v5APIToken holds the api_tokens columns migration 5 adds.
type v5APIToken struct {
	Scope     string `gorm:"size:16;not null;default:'read_write'"`
	ExpiresAt *time.Time
}

func (v5APIToken) TableName() string { return "api_tokens" }

// v5Message holds the messages column migration 5 adds.
type v5Message struct {
	InDoubt bool `gorm:"not null;default:false"`
}

func (v5Message) TableName() string { return "messages" }

// v6Patient holds the patients column migration 6 adds.
type v6Patient struct {
	ErasedAt *time.Time
}

func (v6Patient) TableName() string { return "patients" }

// v11WorkingHours is the working_hours table as migration 11 creates it.
type v11WorkingHours struct {
	ID                  uint   `gorm:"primaryKey"`
	OwnerKind           string `gorm:"size:16;not null;uniqueIndex:idx_working_hours_owner,priority:1"`
	OwnerID             uint   `gorm:"not null;uniqueIndex:idx_working_hours_owner,priority:2"`
	Weekly              string `gorm:"type:text;not null"`
	Exceptions          string `gorm:"type:text;not null"`
	BufferBeforeMinutes int    `gorm:"not null;default:0"`
	BufferAfterMinutes  int    `gorm:"not null;default:0"`
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

func (v11WorkingHours) TableName() string { return "working_hours" }

// v4Event is the events table as migration 4 creates it.
type v4Event struct {
	ID            uint      `gorm:"primaryKey"`
	At            time.Time `gorm:"not null;index"`
	Type          string    `gorm:"size:40;not null"`
	AppointmentID uint      `gorm:"not null;default:0;index"`
	PatientID     uint      `gorm:"not null;default:0"`
	MessageID     uint      `gorm:"not null;default:0"`
	InboundID     uint      `gorm:"not null;default:0"`
	Status        string    `gorm:"size:24;not null;default:''"`
	Source        string    `gorm:"size:32;not null;default:''"`
	Detail        string    `gorm:"size:300;not null;default:''"`
	DueAt         *time.Time
}

func (v4Event) TableName() string { return "events" }

// schemaMigration records an applied migration.
type schemaMigration struct {
	Version   int `gorm:"primaryKey;autoIncrement:false"`
	Name      string
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// LatestVersion is the schema version this build expects.
func LatestVersion() int { return migrations[len(migrations)-1].version }

// SchemaVersion returns the highest applied migration, 0 for an empty database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	db := s.db.WithContext(ctx)
	if !db.Migrator().HasTable(&schemaMigration{}) {
		return 0, nil
	}
	var v int
	if err := db.Model(&schemaMigration{}).Select("COALESCE(MAX(version), 0)").Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("store: schema version: %w", Classify(err))
	}
	return v, nil
}

// CheckSchema returns ErrSchemaOutdated when migrations are pending, and an
// error when the database is newer than this build.
func (s *Store) CheckSchema(ctx context.Context) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if latest := LatestVersion(); v > latest {
		return fmt.Errorf("store: database schema version %d is newer than this build (%d); upgrade apptconfirm", v, latest)
	}
	missing, err := s.missingMigrations(ctx, LatestVersion())
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w (at version %d, missing %v; this build needs %d)", ErrSchemaOutdated, v, missing, LatestVersion())
	}
	return nil
}

// appliedVersions returns the set of applied migrations.
func (s *Store) appliedVersions(ctx context.Context) (map[int]bool, error) {
	db := s.db.WithContext(ctx)
	done := map[int]bool{}
	if !db.Migrator().HasTable(&schemaMigration{}) {
		return done, nil
	}
	var vs []int
	if err := db.Model(&schemaMigration{}).Pluck("version", &vs).Error; err != nil {
		return nil, fmt.Errorf("store: applied migrations: %w", Classify(err))
	}
	for _, v := range vs {
		done[v] = true
	}
	return done, nil
}

// missingMigrations lists the versions up to upTo that this build has and
// the database lacks, in order. Changes developed side by side land in any
// order, so a database can hold version 9 and lack 8: 8 is still missing.
func (s *Store) missingMigrations(ctx context.Context, upTo int) ([]int, error) {
	done, err := s.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, m := range migrations {
		if m.version <= upTo && !done[m.version] {
			out = append(out, m.version)
		}
	}
	return out, nil
}

// Migrate applies every migration the database lacks (every one not
// recorded as applied, also below the highest applied one), each in its own
// transaction, in version order, and returns how many it applied. On PostgreSQL an advisory lock keeps two
// instances starting together from migrating at once.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	return s.migrateTo(ctx, LatestVersion())
}

// migrateTo is Migrate, stopping after version upTo.
func (s *Store) migrateTo(ctx context.Context, upTo int) (int, error) {
	db := s.db.WithContext(ctx)
	if s.driver == DriverPostgres {
		// A dedicated connection holds the session-level lock for the whole run.
		conn, err := db.DB()
		if err != nil {
			return 0, err
		}
		c, err := conn.Conn(ctx)
		if err != nil {
			return 0, fmt.Errorf("store: migrate: %w", Classify(err))
		}
		defer func() { _ = c.Close() }()
		if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock(7262001)"); err != nil {
			return 0, fmt.Errorf("store: migrate: lock: %w", err)
		}
		defer c.ExecContext(context.Background(), "SELECT pg_advisory_unlock(7262001)") //nolint:errcheck // released with the connection anyway
	}
	if err := db.Migrator().AutoMigrate(&schemaMigration{}); err != nil {
		return 0, fmt.Errorf("store: migrate: %w", Classify(err))
	}
	done, err := s.appliedVersions(ctx)
	if err != nil {
		return 0, err
	}
	applied := 0
	for _, m := range migrations {
		if done[m.version] || m.version > upTo {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := m.up(tx); err != nil {
				return err
			}
			return tx.Create(&schemaMigration{Version: m.version, Name: m.name, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			s.forgetSchema()
			return applied, fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, Classify(err))
		}
		applied++
	}
	if applied > 0 {
		s.forgetSchema()
	}
	return applied, nil
}

// forgetSchema closes the idle connections (the pool's and the SQLite
// writer's) after a schema change.
// A connection that read the schema before the change would otherwise
// describe a "SELECT *" by the old columns: SQLite prepares it against its
// cached schema and re-prepares it only when it runs, after the driver has
// read the column names; PostgreSQL refuses a cached plan whose result
// changed. New connections read the schema afresh.
func (s *Store) forgetSchema() {
	if s.wdb != s.db {
		if w, err := s.wdb.DB(); err == nil {
			w.SetMaxIdleConns(0)
			w.SetMaxIdleConns(1)
		}
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return
	}
	sqlDB.SetMaxIdleConns(0)
	sqlDB.SetMaxIdleConns(s.maxIdle)
}
