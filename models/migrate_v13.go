package models

import (
	"time"

	"gorm.io/gorm"
)

// migrateV13 adds appointment types, the type of an appointment, the
// timing, scope and signal of reminder rules, and why a message was
// planned. Every new column has a default that keeps existing rules
// working as before: an offset before the start, for every appointment.
func migrateV13(tx *gorm.DB) error {
	if !tx.Migrator().HasTable(&v13AppointmentType{}) {
		if err := tx.Migrator().CreateTable(&v13AppointmentType{}); err != nil {
			return err
		}
	}
	if err := addColumns(tx, &v13Appointment{}, "AppointmentTypeID"); err != nil {
		return err
	}
	if err := tx.Exec(`CREATE INDEX IF NOT EXISTS idx_appointments_appointment_type_id ON appointments (appointment_type_id)`).Error; err != nil {
		return err
	}
	if err := addColumns(tx, &v13ReminderRule{}, "Timing", "DaysBefore", "LocalTime", "AfterRuleID",
		"AfterSeconds", "Signal", "TypeIDs", "LocationIDs", "ProviderIDs"); err != nil {
		return err
	}
	return addColumns(tx, &v13Message{}, "PlannedBecause")
}

// v13AppointmentType is appointment_types as migration 13 creates it.
type v13AppointmentType struct {
	ID                     uint   `gorm:"primaryKey"`
	Name                   string `gorm:"size:100;not null;uniqueIndex:idx_appointment_types_name"`
	DefaultDurationMinutes int    `gorm:"not null"`
	Colour                 string `gorm:"size:7;not null;default:''"`
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

func (v13AppointmentType) TableName() string { return "appointment_types" }

// v13Appointment holds the appointments column migration 13 adds.
type v13Appointment struct {
	AppointmentTypeID *uint
}

func (v13Appointment) TableName() string { return "appointments" }

// v13ReminderRule holds the reminder_rules columns migration 13 adds.
type v13ReminderRule struct {
	Timing       string `gorm:"size:16;not null;default:'before'"`
	DaysBefore   int    `gorm:"not null;default:0"`
	LocalTime    string `gorm:"size:5;not null;default:''"`
	AfterRuleID  *uint
	AfterSeconds int64  `gorm:"not null;default:0"`
	Signal       string `gorm:"size:24;not null;default:''"`
	TypeIDs      string `gorm:"size:500;not null;default:''"`
	LocationIDs  string `gorm:"size:500;not null;default:''"`
	ProviderIDs  string `gorm:"size:500;not null;default:''"`
}

func (v13ReminderRule) TableName() string { return "reminder_rules" }

// v13Message holds the messages column migration 13 adds.
type v13Message struct {
	PlannedBecause string `gorm:"size:300;not null;default:''"`
}

func (v13Message) TableName() string { return "messages" }
