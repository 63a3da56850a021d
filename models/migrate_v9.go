package models

import (
	"time"

	"gorm.io/gorm"
)

// MaxExternalID is the longest external id of an appointment or a patient.
const MaxExternalID = 100

// migrateV9 gives appointments and patients an external id: their id in
// the clinic's practice-management or EHR system. The column is never
// NULL; the empty string means "none", and the unique indexes leave it
// out, so that any number of rows may have none (a partial index, which
// SQLite and PostgreSQL both have). It also adds the calendar feeds.
func migrateV9(tx *gorm.DB) error {
	if !tx.Migrator().HasTable(&v9CalendarFeed{}) {
		if err := tx.Migrator().CreateTable(&v9CalendarFeed{}); err != nil {
			return err
		}
	}
	if err := addColumns(tx, &v9Appointment{}, "ExternalID"); err != nil {
		return err
	}
	if err := addColumns(tx, &v9Patient{}, "ExternalID"); err != nil {
		return err
	}
	for _, stmt := range []string{
		`CREATE UNIQUE INDEX IF NOT EXISTS idx_appointments_external_id ON appointments (external_id) WHERE external_id <> ''`,
		`CREATE UNIQUE INDEX IF NOT EXISTS idx_patients_external_id ON patients (external_id) WHERE external_id <> ''`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}

// v9Appointment holds the appointments column migration 9 adds.
type v9Appointment struct {
	ExternalID string `gorm:"size:100;not null;default:''"`
}

func (v9Appointment) TableName() string { return "appointments" }

// v9Patient holds the patients column migration 9 adds.
type v9Patient struct {
	ExternalID string `gorm:"size:100;not null;default:''"`
}

func (v9Patient) TableName() string { return "patients" }

// v9CalendarFeed is calendar_feeds as migration 9 creates it.
type v9CalendarFeed struct {
	ID         uint   `gorm:"primaryKey"`
	TokenHash  string `gorm:"size:64;not null;uniqueIndex"`
	ProviderID *uint
	LocationID *uint
	ShowNames  bool `gorm:"not null;default:false"`
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

func (v9CalendarFeed) TableName() string { return "calendar_feeds" }
